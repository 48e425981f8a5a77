-- Why a disconnect happened when the seller did not ask for it from the Account page (a
-- BigCommerce store uninstalling the app), kept on the receipt so the next visit says so.
ALTER TABLE disconnects ADD COLUMN reason TEXT;
ALTER TABLE disconnect_receipts ADD COLUMN reason TEXT;
