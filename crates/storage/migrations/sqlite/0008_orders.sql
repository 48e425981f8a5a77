-- F5, orders. One row per Mirakl order of a channel, with the normalized order as JSON and
-- Mirakl's own state as it names it (open: an unknown state is kept and shown). The shop
-- order's id is a column, so a shop event finds its order.
CREATE TABLE orders (
    id                    BLOB   NOT NULL PRIMARY KEY,
    workspace_id          BLOB   NOT NULL,
    channel_id            BLOB   NOT NULL,
    mirakl_order_id       TEXT   NOT NULL,
    state                 TEXT   NOT NULL,
    data                  TEXT   NOT NULL,
    mirakl_created_at_ms  BIGINT NOT NULL,
    mirakl_updated_at_ms  BIGINT NOT NULL,
    acceptance_deadline_ms BIGINT,
    shop_order_id         BIGINT,
    shop_order_number     TEXT,
    shop_status           TEXT,
    -- Why the order waits for the seller (a failed step, or an acceptance to decide).
    attention             TEXT,
    -- Set once nothing is left to do for it.
    finished_at_ms        BIGINT,
    created_at_ms         BIGINT NOT NULL,
    updated_at_ms         BIGINT NOT NULL,
    UNIQUE (channel_id, mirakl_order_id),
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX orders_open ON orders (workspace_id, channel_id, finished_at_ms);
CREATE INDEX orders_by_shop_order ON orders (workspace_id, shop_order_id);
CREATE INDEX orders_by_date ON orders (workspace_id, mirakl_created_at_ms);

-- Each effect of an order on Mirakl or the shop (accept, shop_order, ship, cancel, refund…),
-- reserved before it is attempted and finished once done: after a crash or a lost answer, a
-- reserved step that is not done is first looked up at its destination, never simply sent
-- again.
CREATE TABLE order_steps (
    workspace_id   BLOB   NOT NULL,
    order_id       BLOB   NOT NULL,
    step           TEXT   NOT NULL,
    reserved_at_ms BIGINT NOT NULL,
    done_at_ms     BIGINT,
    -- What the step sent or got back (the acceptance decided, an action id…), JSON.
    detail         TEXT,
    error          TEXT,
    PRIMARY KEY (order_id, step),
    FOREIGN KEY (workspace_id, order_id) REFERENCES orders (workspace_id, id) ON DELETE CASCADE
);

-- The timeline of an order, as the Orders page shows it.
CREATE TABLE order_events (
    id             BLOB   NOT NULL PRIMARY KEY,
    workspace_id   BLOB   NOT NULL,
    order_id       BLOB   NOT NULL,
    at_ms          BIGINT NOT NULL,
    message        TEXT   NOT NULL,
    FOREIGN KEY (workspace_id, order_id) REFERENCES orders (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX order_events_by_order ON order_events (order_id, at_ms);

-- The seller's order settings (domain::order::OrderSettings), as JSON.
CREATE TABLE order_settings (
    workspace_id   BLOB   NOT NULL PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    data           TEXT   NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);

-- One row per workspace, bumped by every acceptance reserved: an automatic decision made on
-- the stock held at one value is reserved only if no other acceptance came in between, so two
-- workers never accept the same last unit.
CREATE TABLE order_decisions (
    workspace_id   BLOB   NOT NULL PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    seq            BIGINT NOT NULL
);

-- Stock an order holds while it is accepted on Mirakl but not yet in the shop (whose stock
-- does not count it yet): written with the acceptance, dropped once the shop order exists or
-- the order ends. Summed per SKU when the next order is decided.
CREATE TABLE order_holds (
    workspace_id   BLOB   NOT NULL,
    order_id       BLOB   NOT NULL,
    sku            TEXT   NOT NULL,
    quantity       BIGINT NOT NULL,
    PRIMARY KEY (order_id, sku),
    FOREIGN KEY (workspace_id, order_id) REFERENCES orders (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX order_holds_by_workspace ON order_holds (workspace_id, sku);
