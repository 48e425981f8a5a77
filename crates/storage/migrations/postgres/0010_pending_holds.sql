-- An order waiting for its acceptance holds its lines too, marked pending: the channels are
-- offered the shop's stock less every hold, while the acceptance of another order is decided
-- on the holds of accepted orders only (two waiting orders must not refuse each other).
ALTER TABLE order_holds ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE;
