-- Shop products a webhook said changed, waiting to be read (F4): the read takes them a page at
-- a time instead of asking the shop for everything modified lately. Keep table and column
-- names identical to migrations/sqlite.
CREATE TABLE shop_changes (
    workspace_id    UUID   NOT NULL,
    shop_id         UUID   NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    shop_product_id BIGINT NOT NULL,
    changed_at_ms   BIGINT NOT NULL,
    PRIMARY KEY (shop_id, shop_product_id)
);
CREATE INDEX shop_changes_by_time ON shop_changes (shop_id, changed_at_ms);
