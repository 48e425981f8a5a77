//! Catalog items (F4): one row per sellable SKU read from the shop, the normalized item kept as
//! JSON text (its type belongs to `domain`; storage only indexes a few of its fields). Items
//! gone from the shop are marked deleted, not removed, so the channels can be told. Reads come
//! in keyset pages by SKU: a catalog may hold 100,000 items and is never loaded whole.

use domain::WorkspaceId;
use domain::catalog::CatalogItem;

use crate::batch::{BATCH_ROWS, Batch, last_of_each, sku_chunks};
use crate::channel_document::{from_json, to_json};
use crate::pool::Pools;
use crate::{Storage, StorageError};

/// One catalog item as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CatalogRow {
    /// Never empty (the tables refuse it).
    pub sku: String,
    pub shop_product_id: i64,
    /// The variation's id for one variation of a variable product.
    pub shop_variation_id: Option<i64>,
    pub title: String,
    /// The normalized item, as JSON.
    pub data: String,
    /// When the shop last modified it.
    pub modified_at_ms: i64,
    /// When a read of the shop last saw it.
    pub seen_at_ms: i64,
    /// When it was found gone from the shop. Ignored by [`Storage::upsert_catalog_items`].
    pub deleted_at_ms: Option<i64>,
}

impl CatalogRow {
    /// The row of an item a read of the shop saw at `seen_at_ms`.
    pub fn of(item: &CatalogItem, seen_at_ms: i64) -> Result<Self, StorageError> {
        Ok(Self {
            sku: item.sku.as_str().to_owned(),
            shop_product_id: item.shop_product_id,
            shop_variation_id: item.shop_variation_id,
            title: item.title.clone(),
            data: to_json("catalog_items.data", item)?,
            modified_at_ms: item.modified_at_ms,
            seen_at_ms,
            deleted_at_ms: None,
        })
    }

    /// The normalized item the row holds; `Corrupt` when this version cannot read it.
    pub fn item(&self) -> Result<CatalogItem, StorageError> {
        from_json("catalog_items.data", &self.data)
    }
}

/// `SELECT <every column of CatalogRow> FROM catalog_items WHERE <condition>`.
macro_rules! select_catalog_where {
    ($condition:literal) => {
        concat!(
            "SELECT sku, shop_product_id, shop_variation_id, title, data, modified_at_ms, ",
            "seen_at_ms, deleted_at_ms FROM catalog_items WHERE ",
            $condition
        )
    };
}

/// Writes new and changed items; an unchanged one (same data, title and shop ids, not deleted)
/// is left alone, so the rows affected are the items changed.
const UPSERT_ITEMS: Batch = Batch {
    head: "INSERT INTO catalog_items (workspace_id, sku, shop_product_id, shop_variation_id, \
           title, data, modified_at_ms, seen_at_ms, changed_version) VALUES ",
    row: "($1, ?, ?, ?, ?, ?, ?, ?, $2)",
    tail: " ON CONFLICT (workspace_id, sku) DO UPDATE SET \
             shop_product_id = excluded.shop_product_id, \
             shop_variation_id = excluded.shop_variation_id, title = excluded.title, \
             data = excluded.data, modified_at_ms = excluded.modified_at_ms, \
             seen_at_ms = excluded.seen_at_ms, deleted_at_ms = NULL, \
             changed_version = excluded.changed_version \
           WHERE catalog_items.data <> excluded.data OR catalog_items.title <> excluded.title \
             OR catalog_items.shop_product_id <> excluded.shop_product_id \
             OR catalog_items.shop_variation_id IS DISTINCT FROM excluded.shop_variation_id \
             OR catalog_items.deleted_at_ms IS NOT NULL",
    fixed: 2,
};

/// Moves `seen_at_ms` forward on the items [`UPSERT_ITEMS`] left alone. An upsert whose insert
/// never happens: [`UPSERT_ITEMS`] has just written or found every one of these SKUs in the same
/// transaction (the constants only satisfy the NOT NULL columns). Its conflict check probes the
/// key on both engines whatever the statistics, where an `IN` list of SKUs read in shop order
/// would span the whole catalog (see `batch`).
const TOUCH_SEEN: Batch = Batch {
    head: "INSERT INTO catalog_items (workspace_id, sku, shop_product_id, title, data, \
           modified_at_ms, seen_at_ms) VALUES ",
    row: "($1, ?, 0, '', '', 0, ?)",
    tail: " ON CONFLICT (workspace_id, sku) DO UPDATE SET seen_at_ms = excluded.seen_at_ms \
           WHERE catalog_items.seen_at_ms < excluded.seen_at_ms",
    fixed: 1,
};

/// $2 now, $3 and $4 the first and last SKU of the chunk, $5 the catalog version.
const MARK_DELETED: Batch = Batch {
    head: "UPDATE catalog_items SET deleted_at_ms = $2, changed_version = $5 \
           WHERE workspace_id = $1 \
           AND deleted_at_ms IS NULL AND sku BETWEEN $3 AND $4 AND sku IN (",
    row: "?",
    tail: ")",
    fixed: 5,
};

/// Takes the workspace's next catalog version. Its row stays locked until the transaction
/// commits, so a workspace's versions commit in order: whoever reads version `v` committed
/// knows every change stamped `v` or less is visible.
pub(crate) const NEXT_VERSION: &str = "INSERT INTO catalog_versions (workspace_id, version) VALUES ($1, 1) \
     ON CONFLICT (workspace_id) DO UPDATE SET version = catalog_versions.version + 1 \
     RETURNING version";

impl Storage {
    /// Stores items read from the shop, in one transaction, and returns how many were inserted
    /// or changed. An upsert clears `deleted_at_ms` (the item is back); an item whose data,
    /// title and shop ids are unchanged only has its `seen_at_ms` moved forward. If a SKU is
    /// listed twice the last one wins. `NotFound` if the workspace does not exist.
    pub async fn upsert_catalog_items(
        &self,
        ws: WorkspaceId,
        rows: &[CatalogRow],
    ) -> Result<u64, StorageError> {
        let rows = last_of_each(rows, |row| &row.sku);
        if rows.is_empty() {
            return Ok(0);
        }
        Ok(in_transaction!(self, |tx| {
            let version: i64 = sqlx::query_scalar(NEXT_VERSION)
                .bind(ws.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(StorageError::on_write("catalog_versions_pkey"))?;
            let mut changed = 0;
            for chunk in rows.chunks(BATCH_ROWS) {
                let mut upsert = sqlx::query(UPSERT_ITEMS.sql(chunk.len()))
                    .bind(ws.0)
                    .bind(version);
                for row in chunk {
                    upsert = upsert
                        .bind(&row.sku)
                        .bind(row.shop_product_id)
                        .bind(row.shop_variation_id)
                        .bind(&row.title)
                        .bind(&row.data)
                        .bind(row.modified_at_ms)
                        .bind(row.seen_at_ms);
                }
                changed += upsert
                    .execute(&mut *tx)
                    .await
                    .map_err(StorageError::on_write("catalog_items_pkey"))?
                    .rows_affected();
                let mut touch = sqlx::query(TOUCH_SEEN.sql(chunk.len())).bind(ws.0);
                for row in chunk {
                    touch = touch.bind(&row.sku).bind(row.seen_at_ms);
                }
                touch.execute(&mut *tx).await?;
            }
            changed
        }))
    }

    /// Up to `limit` items after `after_sku` (from the first without it), in SKU order (byte
    /// order, on both engines). Deleted items only with `include_deleted`.
    pub async fn catalog_page(
        &self,
        ws: WorkspaceId,
        after_sku: Option<&str>,
        limit: i64,
        include_deleted: bool,
    ) -> Result<Vec<CatalogRow>, StorageError> {
        const SQL: &str = select_catalog_where!(
            "workspace_id = $1 AND sku > $2 AND ($3 OR deleted_at_ms IS NULL) ORDER BY sku LIMIT $4"
        );
        // SKUs are never empty, so '' comes before the first one.
        Ok(on_reader!(self, |p| sqlx::query_as::<_, CatalogRow>(SQL)
            .bind(ws.0)
            .bind(after_sku.unwrap_or(""))
            .bind(include_deleted)
            .bind(limit.max(0))
            .fetch_all(p)
            .await)?)
    }

    /// The workspace's catalog version: every change stamped with it or an earlier one is
    /// committed. 0 before the first write.
    pub async fn catalog_version(&self, ws: WorkspaceId) -> Result<i64, StorageError> {
        const SQL: &str = "SELECT version FROM catalog_versions WHERE workspace_id = $1";
        let version: Option<i64> = on_reader!(self, |p| sqlx::query_scalar(SQL)
            .bind(ws.0)
            .fetch_optional(p)
            .await)?;
        Ok(version.unwrap_or(0))
    }

    /// Up to `limit` items changed after catalog version `since` (deleted ones included),
    /// after `after_sku`, in SKU order: what an export that had seen `since` has not.
    pub async fn catalog_changed_page(
        &self,
        ws: WorkspaceId,
        since: i64,
        after_sku: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CatalogRow>, StorageError> {
        const SQL: &str = select_catalog_where!(
            "workspace_id = $1 AND changed_version > $2 AND sku > $3 ORDER BY sku LIMIT $4"
        );
        Ok(on_reader!(self, |p| sqlx::query_as::<_, CatalogRow>(SQL)
            .bind(ws.0)
            .bind(since)
            .bind(after_sku.unwrap_or(""))
            .bind(limit.max(0))
            .fetch_all(p)
            .await)?)
    }

    /// The items of one shop product (its variations, or the simple product itself), deleted
    /// ones included, in SKU order.
    pub async fn catalog_items_by_product(
        &self,
        ws: WorkspaceId,
        shop_product_id: i64,
    ) -> Result<Vec<CatalogRow>, StorageError> {
        const SQL: &str =
            select_catalog_where!("workspace_id = $1 AND shop_product_id = $2 ORDER BY sku");
        Ok(on_reader!(self, |p| sqlx::query_as::<_, CatalogRow>(SQL)
            .bind(ws.0)
            .bind(shop_product_id)
            .fetch_all(p)
            .await)?)
    }

    /// The item with this SKU, deleted or not.
    pub async fn catalog_item(
        &self,
        ws: WorkspaceId,
        sku: &str,
    ) -> Result<Option<CatalogRow>, StorageError> {
        const SQL: &str = select_catalog_where!("workspace_id = $1 AND sku = $2");
        Ok(on_reader!(self, |p| sqlx::query_as::<_, CatalogRow>(SQL)
            .bind(ws.0)
            .bind(sku)
            .fetch_optional(p)
            .await)?)
    }

    /// Marks these items deleted from the shop (a webhook or a read said so), in one
    /// transaction; returns how many were not deleted before. Unknown SKUs are skipped.
    pub async fn mark_catalog_deleted(
        &self,
        ws: WorkspaceId,
        skus: &[String],
        now_ms: i64,
    ) -> Result<u64, StorageError> {
        let chunks = sku_chunks(skus);
        if chunks.is_empty() {
            return Ok(0);
        }
        Ok(in_transaction!(self, |tx| {
            let version: i64 = sqlx::query_scalar(NEXT_VERSION)
                .bind(ws.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(StorageError::on_write("catalog_versions_pkey"))?;
            let mut marked = 0;
            for chunk in &chunks {
                let mut update = sqlx::query(MARK_DELETED.sql(chunk.len()))
                    .bind(ws.0)
                    .bind(now_ms)
                    .bind(chunk[0])
                    .bind(chunk[chunk.len() - 1])
                    .bind(version);
                for sku in chunk {
                    update = update.bind(*sku);
                }
                marked += update.execute(&mut *tx).await?.rows_affected();
            }
            marked
        }))
    }

    /// After a full read of the shop that started at `seen_before_ms`: every item it did not
    /// see is gone from the shop. Returns how many were marked deleted.
    ///
    /// On PostgreSQL this also refreshes the catalog's planner statistics (`ANALYZE`): a full
    /// read is when the catalog changes most, and until autovacuum's next pass the pages read
    /// right after it could be planned as scans and sorts of the whole catalog.
    pub async fn mark_catalog_unseen_deleted(
        &self,
        ws: WorkspaceId,
        seen_before_ms: i64,
        now_ms: i64,
    ) -> Result<u64, StorageError> {
        const SQL: &str = "UPDATE catalog_items SET deleted_at_ms = $3, changed_version = $4 \
             WHERE workspace_id = $1 AND seen_at_ms < $2 AND deleted_at_ms IS NULL";
        const REFRESH_STATISTICS: &str = "ANALYZE catalog_items";
        let marked = in_transaction!(self, |tx| {
            let version: i64 = sqlx::query_scalar(NEXT_VERSION)
                .bind(ws.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(StorageError::on_write("catalog_versions_pkey"))?;
            sqlx::query(SQL)
                .bind(ws.0)
                .bind(seen_before_ms)
                .bind(now_ms)
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        // SQLite plans key lookups without statistics; only PostgreSQL needs them.
        if let Pools::Postgres(pool) = &self.pools {
            sqlx::query(REFRESH_STATISTICS).execute(pool).await?;
        }
        Ok(marked)
    }

    /// How many items the shop sells (deleted ones not counted).
    pub async fn catalog_count(&self, ws: WorkspaceId) -> Result<i64, StorageError> {
        const SQL: &str =
            "SELECT COUNT(*) FROM catalog_items WHERE workspace_id = $1 AND deleted_at_ms IS NULL";
        Ok(on_reader!(self, |p| sqlx::query_scalar(SQL)
            .bind(ws.0)
            .fetch_one(p)
            .await)?)
    }
}
