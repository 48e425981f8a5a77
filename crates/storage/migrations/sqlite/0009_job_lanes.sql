-- One job at a time per (workspace, flow) keeps a flow's runs in order, but an order's steps
-- need that only per order: a lane narrows the rule to (workspace, flow, lane), so the steps
-- of different orders run side by side while one order's steps still run one at a time.
-- NULL is the whole flow's lane (every job queued before this migration).
ALTER TABLE jobs ADD COLUMN lane TEXT;
