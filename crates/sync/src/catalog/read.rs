//! Reading the shop into catalog items: a full read (every product; what the shop no longer
//! has is marked deleted), a read of what was modified since the last one, and the read of the
//! products webhooks named. Memory holds one page at a time.

use domain::{ShopId, SyncRunStatus, WorkspaceId};
use shops::{ShopClient, ShopProduct};
use storage::{CatalogRow, now_ms};
use time::OffsetDateTime;

use super::{CURSOR_SAFETY_MS, CatalogSync, RunCounts};
use crate::job::{CatalogRead, Step, flow};

impl CatalogSync {
    /// Runs a read of the shop; the exports that follow are queued once it is done.
    pub async fn read(&self, ws: WorkspaceId, read: CatalogRead) -> anyhow::Result<Step> {
        match read {
            CatalogRead::Full => self.read_shop(ws, true).await,
            CatalogRead::Modified => self.read_shop(ws, false).await,
            CatalogRead::Changes => self.read_changes(ws).await,
        }
    }

    /// Reads the shop page by page (100 products a page, with their variations) into catalog
    /// items. A delta read asks only for what changed since the last read; a full read also
    /// marks what the shop no longer has as deleted.
    async fn read_shop(&self, ws: WorkspaceId, full: bool) -> anyhow::Result<Step> {
        if self.disconnecting(ws).await? {
            return Ok(Step::Done);
        }
        let Some((shop, client)) = self.shops.connected(ws).await? else {
            return Ok(Step::Done);
        };
        let run = self.start_run(ws, None, flow::CATALOG_READ).await?;
        let started = now_ms();
        let modified_after = if full { None } else { shop.catalog_read_at_ms };
        let result = self.read_pages(ws, &client, modified_after, started).await;
        match result {
            Ok(mut counts) => {
                if full {
                    counts.removed = self
                        .storage
                        .mark_catalog_unseen_deleted(ws, started, now_ms())
                        .await?;
                }
                self.storage
                    .set_catalog_cursor(ws, shop.id, started - CURSOR_SAFETY_MS)
                    .await?;
                self.finish_run(ws, run, SyncRunStatus::Done, &counts, None)
                    .await?;
                if full {
                    self.enqueue_exports(ws).await?;
                } else {
                    self.enqueue_delta_exports(ws).await?;
                }
                Ok(Step::Done)
            }
            Err(e) => {
                self.fail_run(ws, run, &e).await?;
                Err(e)
            }
        }
    }

    async fn read_pages(
        &self,
        ws: WorkspaceId,
        client: &ShopClient,
        modified_after_ms: Option<i64>,
        started: i64,
    ) -> anyhow::Result<RunCounts> {
        let modified_after = modified_after_ms
            .map(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000))
            .transpose()?;
        let mut counts = RunCounts::default();
        let mut page = 1;
        loop {
            let products = client.catalog_page(page, modified_after, started).await?;
            let mut rows = Vec::new();
            for product in &products.products {
                rows.extend(Self::product_rows(ws, product, started, &mut counts)?);
            }
            counts.read += rows.len() as u64;
            self.storage.upsert_catalog_items(ws, &rows).await?;
            if page >= products.total_pages {
                break;
            }
            page += 1;
        }
        Ok(counts)
    }

    /// One shop product's catalog rows: the product itself, or each of its variations.
    fn product_rows(
        ws: WorkspaceId,
        product: &ShopProduct,
        started: i64,
        counts: &mut RunCounts,
    ) -> anyhow::Result<Vec<CatalogRow>> {
        let mut rows = Vec::new();
        for item in &product.items {
            match item {
                Ok(item) => rows.push(CatalogRow::of(item, started)?),
                Err(problem) => {
                    counts.problems += 1;
                    tracing::info!(%ws, product = product.id, %problem, "shop product skipped");
                }
            }
        }
        Ok(rows)
    }

    /// Reads the products webhooks said changed, 100 at a time, instead of everything modified
    /// lately: the shop is asked only for what changed. A product the shop says is gone, and a
    /// variation its product no longer has, leave the catalog. Each batch is exported at once;
    /// marks made meanwhile are read by the next run.
    async fn read_changes(&self, ws: WorkspaceId) -> anyhow::Result<Step> {
        if self.disconnecting(ws).await? {
            return Ok(Step::Done);
        }
        let Some((shop, client)) = self.shops.connected(ws).await? else {
            return Ok(Step::Done);
        };
        let changes = self.storage.shop_changes(ws, shop.id, 100).await?;
        if changes.is_empty() {
            return Ok(Step::Done);
        }
        let run = self.start_run(ws, None, flow::CATALOG_READ).await?;
        match self.read_named(ws, &client, &changes).await {
            Ok(counts) => {
                self.storage
                    .clear_shop_changes(ws, shop.id, &changes)
                    .await?;
                self.finish_run(ws, run, SyncRunStatus::Done, &counts, None)
                    .await?;
                self.enqueue_delta_exports(ws).await?;
                // Come back at once for marks beyond this batch or made during it; one batch a
                // run keeps a run short whatever the stream of events.
                Ok(Step::RunAgainAt(now_ms()))
            }
            Err(e) => {
                self.fail_run(ws, run, &e).await?;
                Err(e)
            }
        }
    }

    async fn read_named(
        &self,
        ws: WorkspaceId,
        client: &ShopClient,
        changes: &[storage::ShopChange],
    ) -> anyhow::Result<RunCounts> {
        let started = now_ms();
        let ids: Vec<i64> = changes.iter().map(|c| c.shop_product_id).collect();
        let products = client.products_by_id(&ids, started).await?;
        let mut counts = RunCounts::default();
        let mut rows = Vec::new();
        let mut gone = Vec::new();
        for change in changes {
            let known = self
                .storage
                .catalog_items_by_product(ws, change.shop_product_id)
                .await?;
            let fresh = match products.iter().find(|p| p.id == change.shop_product_id) {
                Some(product) => Self::product_rows(ws, product, started, &mut counts)?,
                // Left out of the list. Only the shop's own answer for this id says it is
                // gone (404, or in the trash): a replayed or forged `product.deleted` must not
                // remove a product the shop still sells.
                None if known.iter().any(|k| k.deleted_at_ms.is_none()) => {
                    if !client.is_gone(change.shop_product_id).await? {
                        tracing::info!(%ws, product = change.shop_product_id, "a product the list left out still exists; kept");
                        continue;
                    }
                    Vec::new()
                }
                None => Vec::new(),
            };
            gone.extend(
                known
                    .into_iter()
                    .filter(|k| k.deleted_at_ms.is_none())
                    .filter(|k| !fresh.iter().any(|f| f.sku == k.sku))
                    .map(|k| k.sku),
            );
            rows.extend(fresh);
        }
        counts.read = rows.len() as u64;
        self.storage.upsert_catalog_items(ws, &rows).await?;
        if !gone.is_empty() {
            counts.removed = self
                .storage
                .mark_catalog_deleted(ws, &gone, now_ms())
                .await?;
        }
        Ok(counts)
    }

    /// Marks a product a webhook named as changed and queues the read of changes.
    pub async fn product_changed(
        &self,
        ws: WorkspaceId,
        shop: ShopId,
        shop_product_id: i64,
    ) -> anyhow::Result<()> {
        match self
            .storage
            .mark_shop_product_changed(ws, shop, shop_product_id, now_ms())
            .await
        {
            Ok(()) => {}
            // The shop was disconnected since the delivery: nothing to read.
            Err(storage::StorageError::NotFound) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        self.enqueue_read(ws, CatalogRead::Changes).await
    }
}
