-- The catalog read from the shop and what each channel received of it (F4), product settings
-- and their per-channel overrides (F3), call budgets shared by every process, imports followed
-- to the end, sync runs, and the shop's catalog cursor. Keep table and column names identical
-- to migrations/postgres.
-- SKUs compare BINARY here (byte order), as they are COLLATE "C" on PostgreSQL, so keyset pages
-- (`ORDER BY sku`, `sku > $n`) come in the same order on both engines. A SKU is never empty,
-- so `sku > ''` starts at the first one.

-- The `modified_after` cursor of delta reads of the shop's catalog.
ALTER TABLE shops ADD COLUMN catalog_read_at_ms BIGINT;

-- One row per sellable SKU of the shop (a simple product or one variation); `data` is the
-- normalized item as JSON. `deleted_at_ms`: gone from the shop, kept so channels can remove it.
CREATE TABLE catalog_items (
    workspace_id      BLOB   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    sku               TEXT   NOT NULL CHECK (sku <> ''),
    shop_product_id   BIGINT NOT NULL,
    shop_variation_id BIGINT,
    title             TEXT   NOT NULL,
    data              TEXT   NOT NULL,
    modified_at_ms    BIGINT NOT NULL,
    seen_at_ms        BIGINT NOT NULL,
    deleted_at_ms     BIGINT,
    PRIMARY KEY (workspace_id, sku)
);
CREATE INDEX catalog_items_product ON catalog_items (workspace_id, shop_product_id);

-- What each channel last received of each SKU and where it stands.
-- state: waiting | sent | live | error | removed.
CREATE TABLE channel_items (
    workspace_id  BLOB   NOT NULL,
    channel_id    BLOB   NOT NULL,
    sku           TEXT   NOT NULL CHECK (sku <> ''),
    sent_hash     BLOB,
    state         TEXT   NOT NULL,
    error         TEXT,
    import_id     TEXT,
    sent_at_ms    BIGINT,
    live_at_ms    BIGINT,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (channel_id, sku),
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);

-- Product settings of the workspace (F3), as JSON; no row means the defaults.
CREATE TABLE product_settings (
    workspace_id  BLOB   NOT NULL PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    data          TEXT   NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- A channel's overrides of the workspace's product settings, as JSON. A table of its own, not
-- a NULL channel in product_settings: NULLs in unique constraints differ between the engines.
CREATE TABLE channel_overrides (
    channel_id    BLOB   NOT NULL PRIMARY KEY,
    workspace_id  BLOB   NOT NULL,
    data          TEXT   NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);

-- When each process may next call an operation of a channel (DESIGN §6).
CREATE TABLE call_budgets (
    workspace_id       BLOB   NOT NULL,
    channel_id         BLOB   NOT NULL,
    operation          TEXT   NOT NULL,
    next_allowed_at_ms BIGINT NOT NULL,
    PRIMARY KEY (channel_id, operation),
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);

-- Imports sent to a channel (OF01, OF24, P41) and followed until they finish, across restarts.
-- status: `open` until finished, then the channel's final word (e.g. COMPLETE, FAILED).
CREATE TABLE channel_imports (
    workspace_id   BLOB    NOT NULL,
    channel_id     BLOB    NOT NULL,
    import_id      TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    lines          INTEGER NOT NULL,
    created_at_ms  BIGINT  NOT NULL,
    finished_at_ms BIGINT,
    PRIMARY KEY (channel_id, import_id),
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);

-- One pass of a flow, for the dashboard. status: running | done | failed; counts is JSON.
-- channel_id is NULL for flows of the whole workspace (a NULL skips the foreign key).
CREATE TABLE sync_runs (
    id             BLOB   NOT NULL PRIMARY KEY,
    workspace_id   BLOB   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel_id     UUID,
    flow           TEXT   NOT NULL,
    started_at_ms  BIGINT NOT NULL,
    finished_at_ms BIGINT,
    status         TEXT   NOT NULL,
    counts         TEXT   NOT NULL,
    message        TEXT,
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX sync_runs_recent ON sync_runs (workspace_id, started_at_ms);
CREATE INDEX sync_runs_channel ON sync_runs (workspace_id, channel_id);
