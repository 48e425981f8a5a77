-- Shops (F2), their webhooks and inbox, pending WooCommerce app authorizations, workspace
-- settings and onboarding. Keep table and column names identical to migrations/sqlite.

ALTER TABLE workspaces ADD COLUMN onboarded_at_ms BIGINT;
ALTER TABLE channels ADD COLUMN last_success_at_ms BIGINT;

-- The seller's own store. health: ok | unreachable | keys_refused.
CREATE TABLE shops (
    id                   UUID   NOT NULL PRIMARY KEY,
    workspace_id         UUID   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    platform             TEXT   NOT NULL,
    store_url            TEXT   NOT NULL,
    consumer_key         BYTEA  NOT NULL,
    consumer_secret      BYTEA  NOT NULL,
    key_permissions      TEXT,
    connection           TEXT   NOT NULL,
    webhook_secret       BYTEA  NOT NULL,
    health               TEXT   NOT NULL,
    health_checked_at_ms BIGINT NOT NULL,
    last_success_at_ms   BIGINT,
    last_error           TEXT,
    last_webhook_at_ms   BIGINT,
    created_at_ms        BIGINT NOT NULL,
    updated_at_ms        BIGINT NOT NULL,
    -- Target of the (workspace_id, shop_id) foreign keys below.
    CONSTRAINT shops_workspace_id UNIQUE (workspace_id, id)
);
-- One shop per workspace for now; dropping this index is what allows several.
CREATE UNIQUE INDEX shops_workspace ON shops (workspace_id);
CREATE INDEX shops_health_checked_at ON shops (health_checked_at_ms);

-- The webhooks the connector registered in the shop (remote_id is the shop's webhook id).
CREATE TABLE shop_webhooks (
    workspace_id  UUID   NOT NULL,
    shop_id       UUID   NOT NULL,
    topic         TEXT   NOT NULL,
    remote_id     BIGINT NOT NULL,
    status        TEXT   NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (shop_id, remote_id),
    FOREIGN KEY (workspace_id, shop_id) REFERENCES shops (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX shop_webhooks_shop ON shop_webhooks (workspace_id, shop_id);

-- Webhook deliveries received from shops, processed by a job. WooCommerce's delivery id is a
-- hash of the webhook id and the current second, so only delivery id + body hash is unique.
CREATE TABLE webhook_inbox (
    id              UUID   NOT NULL PRIMARY KEY,
    workspace_id    UUID   NOT NULL,
    shop_id         UUID   NOT NULL,
    topic           TEXT   NOT NULL,
    resource_id     BIGINT,
    delivery_id     TEXT   NOT NULL,
    body_sha256     BYTEA  NOT NULL,
    body            TEXT   NOT NULL,
    received_at_ms  BIGINT NOT NULL,
    processed_at_ms BIGINT,
    FOREIGN KEY (workspace_id, shop_id) REFERENCES shops (workspace_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX webhook_inbox_delivery ON webhook_inbox (shop_id, delivery_id, body_sha256);
CREATE INDEX webhook_inbox_shop ON webhook_inbox (workspace_id, shop_id);

-- WooCommerce app authorizations under way: the store POSTs the keys (sealed here), then the
-- browser returns and takes the row once.
CREATE TABLE shop_auth_pending (
    token_hash      BYTEA  NOT NULL PRIMARY KEY,
    session_id      UUID   NOT NULL,
    workspace_id    UUID   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    store_url       TEXT   NOT NULL,
    consumer_key    BYTEA,
    consumer_secret BYTEA,
    key_permissions TEXT,
    keys_at_ms      BIGINT,
    created_at_ms   BIGINT NOT NULL,
    expires_at_ms   BIGINT NOT NULL,
    used_at_ms      BIGINT
);
CREATE INDEX shop_auth_pending_workspace ON shop_auth_pending (workspace_id);
CREATE INDEX shop_auth_pending_expires_at ON shop_auth_pending (expires_at_ms);

-- Settings saved per workspace (F3); no row means the defaults.
CREATE TABLE workspace_settings (
    workspace_id  UUID    NOT NULL PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    sync_products BOOLEAN NOT NULL,
    import_orders BOOLEAN NOT NULL,
    saved_at_ms   BIGINT  NOT NULL
);
