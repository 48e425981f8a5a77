-- Products created on a marketplace that knows them by the seller's SKU (P41 product import):
-- each channel's column mapping, and where each SKU's product creation stands. Keep table and
-- column names identical to migrations/sqlite.

-- A channel's column mapping (domain's ProductMapping), as JSON.
CREATE TABLE channel_mappings (
    channel_id    UUID   NOT NULL PRIMARY KEY,
    workspace_id  UUID   NOT NULL,
    mapping       TEXT   NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);

-- The product each channel last received of each SKU and where it stands: channel_items'
-- shape and life, for P41 instead of offers. state: waiting | sent | live | error.
CREATE TABLE channel_products (
    workspace_id  UUID   NOT NULL,
    channel_id    UUID   NOT NULL,
    sku           TEXT   COLLATE "C" NOT NULL CHECK (sku <> ''),
    sent_hash     BYTEA,
    state         TEXT   NOT NULL,
    error         TEXT,
    import_id     TEXT,
    sent_at_ms    BIGINT,
    live_at_ms    BIGINT,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (channel_id, sku),
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);
