//! Shop products a webhook said changed, waiting for a read (F4). Marking one again before it
//! is read only moves its time, so a burst of events for one product is read once; a read
//! clears only the marks it saw, so an event that arrives during the read is read next time.

use domain::{ShopId, WorkspaceId};

use crate::error::found;

use crate::{Storage, StorageError};

/// A product to read: its id in the shop and the time of its latest mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ShopChange {
    pub shop_product_id: i64,
    pub changed_at_ms: i64,
}

impl Storage {
    /// Marks a product of the shop changed at `now_ms`. `NotFound` if the shop is not in the
    /// workspace.
    pub async fn mark_shop_product_changed(
        &self,
        ws: WorkspaceId,
        shop: ShopId,
        shop_product_id: i64,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        // The SELECT scopes the insert to the workspace: a foreign shop inserts nothing.
        const SQL: &str = "INSERT INTO shop_changes \
               (workspace_id, shop_id, shop_product_id, changed_at_ms) \
             SELECT workspace_id, id, $3, $4 FROM shops WHERE workspace_id = $1 AND id = $2 \
             ON CONFLICT (shop_id, shop_product_id) DO UPDATE SET \
               changed_at_ms = CASE WHEN shop_changes.changed_at_ms < excluded.changed_at_ms \
                 THEN excluded.changed_at_ms ELSE shop_changes.changed_at_ms END";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(shop.0)
            .bind(shop_product_id)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("shop_changes_pkey"))?;
        found(rows)
    }

    /// Up to `limit` products waiting to be read, the longest waiting first.
    pub async fn shop_changes(
        &self,
        ws: WorkspaceId,
        shop: ShopId,
        limit: i64,
    ) -> Result<Vec<ShopChange>, StorageError> {
        const SQL: &str = "SELECT shop_product_id, changed_at_ms FROM shop_changes \
             WHERE workspace_id = $1 AND shop_id = $2 \
             ORDER BY changed_at_ms, shop_product_id LIMIT $3";
        Ok(on_reader!(self, |p| sqlx::query_as::<_, ShopChange>(SQL)
            .bind(ws.0)
            .bind(shop.0)
            .bind(limit)
            .fetch_all(p)
            .await)?)
    }

    /// Clears the marks a read saw; a product marked again since keeps its newer mark.
    /// Returns how many were cleared.
    pub async fn clear_shop_changes(
        &self,
        ws: WorkspaceId,
        shop: ShopId,
        seen: &[ShopChange],
    ) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM shop_changes WHERE workspace_id = $1 AND shop_id = $2 \
             AND shop_product_id = $3 AND changed_at_ms <= $4";
        Ok(in_transaction!(self, |tx| {
            let mut cleared = 0;
            for change in seen {
                cleared += sqlx::query(SQL)
                    .bind(ws.0)
                    .bind(shop.0)
                    .bind(change.shop_product_id)
                    .bind(change.changed_at_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            cleared
        }))
    }
}
