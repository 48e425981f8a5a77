//! F4, the catalog export: read the shop into catalog items, turn them into what each channel
//! receives (the workspace's rules), and send only what changed since the channel last
//! acknowledged it — within Mirakl's call budgets, following every import to its end and
//! attaching each error line to its SKU. A periodic reconciliation reads the live offers back
//! and repairs drift.
//!
//! Each step is a job; each can stop anywhere and run again without harm: what was sent is
//! recorded with its content hash, so a second run sends nothing twice, and nothing is marked
//! sent before Mirakl accepted it.

use std::collections::HashMap;

use anyhow::Context as _;
use domain::catalog::{
    CatalogItem, ChannelOverrides, ConnectProduct, Offer, ProductIdType, ProductMapping,
    ProductSettings, RemovalPolicy, columns, connect_product_for, connect_product_hash,
    is_selected, offer_for, offer_hash, product_line_for, product_line_hash,
};
use domain::{ChannelId, ChannelKind, ChannelStatus, InstanceUrl, WorkspaceId};
use mirakl::connect::{ConnectClient, ConnectError};
use mirakl::marketplace::{Credential, ImportId, ImportMode, MarketplaceClient, MarketplaceError};
use mirakl::offers_file::{OfferLine, OffersFile, UpdateDelete, offer_json};
use mirakl::products_file::ProductsFile;
use storage::{
    BudgetDecision, CatalogRow, Channel, ItemState, NewJob, ShopId, Storage, SyncRunStatus, now_ms,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::budgets::{Budgets, Operation};
use crate::shops::ShopKeeper;
use crate::tokens::{TokenError, TokenKeeper};

/// Read the shop into catalog items. Payload: `{"full": bool}`.
pub const CATALOG_READ_FLOW: &str = "catalog_read";
/// Send one channel what changed. Payload: `{"channel_id": …}`.
pub const CHANNEL_EXPORT_FLOW: &str = "channel_export";
/// Follow one channel's open imports to their end. Payload: `{"channel_id": …}`.
pub const IMPORT_FOLLOW_FLOW: &str = "import_follow";
/// Compare one channel's live offers with what it should have. Payload: `{"channel_id": …}`.
pub const RECONCILE_FLOW: &str = "reconcile";

/// Up to this many changed offers go as one OF24 call; more go as an OF01 file.
pub const OF24_MAX_OFFERS: usize = 100;
/// Connect's limit per POST/DELETE /products.
pub const CONNECT_BATCH: usize = 1000;
/// Catalog rows read per page while exporting: bounds memory whatever the catalog's size.
const PAGE: i64 = 1000;
/// The `modified_after` cursor is moved back this much, so a product saved during a read is
/// read again next time rather than missed.
const CURSOR_SAFETY_MS: i64 = 60_000;
/// The channel cursor that says which catalog version exports have looked at.
const EXPORT_CURSOR: &str = "export";
/// How far back OF04 is asked to list from the oldest open import.
const CLOCK_SKEW_MS: i64 = 60_000;
/// `channel_imports.kind` of a P41 product import (followed with P42, not OF04).
pub const PRODUCT_IMPORT_KIND: &str = "P41";
/// P41 import ids are their own sequence on Mirakl, apart from offer imports', while
/// `channel_imports` and the ledgers key imports by id alone: a product import is recorded as
/// `P41-{id}`, and the prefix is taken off again to call P42/P44.
const PRODUCT_IMPORT_PREFIX: &str = "P41-";

/// What a step asks of the worker when it returns.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Done,
    /// Run the same job again at this time (a budget slot, Retry-After, an import still running).
    RunAgainAt(i64),
}

#[derive(Clone)]
pub struct CatalogSync {
    storage: Storage,
    shops: ShopKeeper,
    tokens: TokenKeeper,
    marketplace: MarketplaceClient,
    connect: ConnectClient,
    budgets: Budgets,
}

/// A shop's categories and tags, sorted by name.
#[derive(Debug, Default)]
pub struct ShopTerms {
    pub categories: Vec<shops::woocommerce::Term>,
    pub tags: Vec<shops::woocommerce::Term>,
}

/// The counts a run reports, as the dashboard shows them.
#[derive(Debug, Default, serde::Serialize)]
pub struct RunCounts {
    pub read: u64,
    pub unchanged: u64,
    pub sent: u64,
    pub removed: u64,
    pub problems: u64,
    pub errors: u64,
    pub live: u64,
    pub repaired: u64,
    /// Products sent in a P41 file (channels that create their products).
    #[serde(rename = "products sent")]
    pub products_sent: u64,
    /// Offers held back until their product is live on the marketplace.
    #[serde(rename = "waiting for their product")]
    pub waiting: u64,
}

impl CatalogSync {
    pub fn new(
        storage: Storage,
        shops: ShopKeeper,
        tokens: TokenKeeper,
        marketplace: MarketplaceClient,
        connect: ConnectClient,
        budgets: Budgets,
    ) -> Self {
        Self {
            storage,
            shops,
            tokens,
            marketplace,
            connect,
            budgets,
        }
    }

    /// Queues a job unless one is already waiting: two dedupe slots, so at most one runs and
    /// one waits, and a change that arrives while a run is under way is never lost.
    pub async fn enqueue(
        &self,
        ws: WorkspaceId,
        flow: &str,
        payload: serde_json::Value,
        key: &str,
    ) -> anyhow::Result<()> {
        for slot in ["a", "b"] {
            let job = NewJob {
                workspace_id: Some(ws),
                flow: flow.to_owned(),
                payload: payload.clone(),
                dedupe_key: Some(format!("{flow}:{key}:{slot}")),
                run_at_ms: now_ms(),
                max_attempts: 10,
            };
            if self.storage.enqueue_job(&job).await?.is_some() {
                return Ok(());
            }
        }
        Ok(())
    }

    pub async fn enqueue_read(&self, ws: WorkspaceId, full: bool) -> anyhow::Result<()> {
        let key = if full { "full" } else { "delta" };
        self.enqueue(
            ws,
            CATALOG_READ_FLOW,
            serde_json::json!({ "full": full }),
            &format!("{ws}:{key}"),
        )
        .await
    }

    pub async fn enqueue_channel(
        &self,
        ws: WorkspaceId,
        flow: &str,
        channel: ChannelId,
    ) -> anyhow::Result<()> {
        self.enqueue(
            ws,
            flow,
            serde_json::json!({ "channel_id": channel }),
            &channel.to_string(),
        )
        .await
    }

    /// A full export to every live channel of the workspace: every item is looked at again
    /// (settings changed, a full read of the shop).
    pub async fn enqueue_exports(&self, ws: WorkspaceId) -> anyhow::Result<()> {
        for c in self.storage.list_channels(ws).await? {
            if c.status == ChannelStatus::Live {
                self.enqueue_channel(ws, CHANNEL_EXPORT_FLOW, c.id).await?;
            }
        }
        Ok(())
    }

    /// An export to every live channel of the items changed since its last export.
    pub async fn enqueue_delta_exports(&self, ws: WorkspaceId) -> anyhow::Result<()> {
        for c in self.storage.list_channels(ws).await? {
            if c.status == ChannelStatus::Live {
                self.enqueue(
                    ws,
                    CHANNEL_EXPORT_FLOW,
                    serde_json::json!({ "channel_id": c.id, "delta": true }),
                    &format!("{}:delta", c.id),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// The workspace's rules for one channel: its settings with the channel's overrides. A
    /// channel that creates its products (a mapping is saved) names them by the seller's SKU.
    pub async fn settings_for(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> anyhow::Result<ProductSettings> {
        let base: ProductSettings = match self.storage.product_settings(ws).await? {
            Some(json) => serde_json::from_str(&json).context("stored product settings")?,
            None => ProductSettings::default(),
        };
        let mut settings = match self.storage.channel_overrides(ws, channel).await? {
            Some(json) => base.with_overrides(&serde_json::from_str::<ChannelOverrides>(&json)?),
            None => base,
        };
        if self.mapping_for(ws, channel).await?.is_some() {
            settings.product_id_type = ProductIdType::ShopSku;
        }
        Ok(settings)
    }

    /// The channel's column mapping, when it creates its products on the marketplace.
    pub async fn mapping_for(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> anyhow::Result<Option<ProductMapping>> {
        self.storage
            .channel_mapping(ws, channel)
            .await?
            .map(|json| serde_json::from_str(&json).context("stored column mapping"))
            .transpose()
    }

    // ----- reading the shop -------------------------------------------------------------

    /// Reads the shop page by page (100 products a page, with their variations) into catalog
    /// items. A delta read asks only for what changed since the last read; a full read also
    /// marks what the shop no longer has as deleted. Memory holds one page at a time.
    /// While a Disconnect runs (or waits for a retry), the catalog flows stand still: an export
    /// must not put back what the Disconnect just removed.
    async fn disconnecting(&self, ws: WorkspaceId) -> anyhow::Result<bool> {
        Ok(self
            .storage
            .disconnect(ws)
            .await?
            .is_some_and(|d| d.status != storage::DisconnectStatus::Done))
    }

    /// The shop's categories and tags by name, for the Product Settings page; `None` when no
    /// shop is connected. Read live (two small listings), so a term made in the shop a moment
    /// ago is there.
    pub async fn shop_terms(&self, ws: WorkspaceId) -> anyhow::Result<Option<ShopTerms>> {
        let Some(shop) = self.storage.get_shop(ws).await? else {
            return Ok(None);
        };
        let client = self.shops.client(ws, shop.id).await?;
        let (categories, tags) = tokio::try_join!(client.categories(), client.tags())
            .map_err(|e| anyhow::anyhow!(e.seller_message()))?;
        Ok(Some(ShopTerms { categories, tags }))
    }

    pub async fn read_shop(&self, ws: WorkspaceId, full: bool) -> anyhow::Result<Step> {
        if self.disconnecting(ws).await? {
            return Ok(Step::Done);
        }
        let Some(shop) = self.storage.get_shop(ws).await? else {
            return Ok(Step::Done);
        };
        let run = self
            .storage
            .start_sync_run(ws, None, CATALOG_READ_FLOW, now_ms())
            .await?;
        let started = now_ms();
        let result = self
            .read_pages(
                ws,
                shop.id,
                if full { None } else { shop.catalog_read_at_ms },
                started,
            )
            .await;
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
        shop: ShopId,
        modified_after_ms: Option<i64>,
        started: i64,
    ) -> anyhow::Result<RunCounts> {
        let client = self.shops.client(ws, shop).await?;
        let modified_after = modified_after_ms
            .map(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000))
            .transpose()?;
        let mut counts = RunCounts::default();
        let mut page = 1;
        loop {
            let query = shops::woocommerce::ProductQuery {
                page,
                per_page: 100,
                modified_after,
                include: Vec::new(),
            };
            let products = client.products_page(&query).await?;
            let mut variations = variations_of(&client, &products.items).await?;
            let mut rows = Vec::with_capacity(products.items.len());
            for product in &products.items {
                let variations = variations.remove(&product.id).unwrap_or_default();
                rows.extend(Self::product_rows(
                    ws,
                    product,
                    &variations,
                    started,
                    &mut counts,
                )?);
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
        product: &shops::woocommerce::Product,
        variations: &[shops::woocommerce::Variation],
        started: i64,
        counts: &mut RunCounts,
    ) -> anyhow::Result<Vec<CatalogRow>> {
        let mut rows = Vec::new();
        for item in shops::woocommerce::normalize::catalog_items(product, variations, started) {
            match item {
                Ok(item) => rows.push(catalog_row(&item, started)?),
                Err(problem) => {
                    counts.problems += 1;
                    tracing::info!(%ws, product = product.id, %problem, "shop product skipped");
                }
            }
        }
        Ok(rows)
    }

    /// Reads the products webhooks said changed, 100 at a time (`include`), instead of
    /// everything modified lately: the shop is asked only for what changed. A product the shop
    /// no longer answers for, and a variation its product no longer has, leave the catalog.
    /// Each batch is exported at once; marks made meanwhile are read by the next run.
    pub async fn read_changes(&self, ws: WorkspaceId) -> anyhow::Result<Step> {
        if self.disconnecting(ws).await? {
            return Ok(Step::Done);
        }
        let Some(shop) = self.storage.get_shop(ws).await? else {
            return Ok(Step::Done);
        };
        let client = self.shops.client(ws, shop.id).await?;
        let changes = self.storage.shop_changes(ws, shop.id, 100).await?;
        if changes.is_empty() {
            return Ok(Step::Done);
        }
        {
            let run = self
                .storage
                .start_sync_run(ws, None, CATALOG_READ_FLOW, now_ms())
                .await?;
            let result = self.read_named(ws, &client, &changes).await;
            match result {
                Ok(counts) => {
                    self.storage
                        .clear_shop_changes(ws, shop.id, &changes)
                        .await?;
                    self.finish_run(ws, run, SyncRunStatus::Done, &counts, None)
                        .await?;
                    self.enqueue_delta_exports(ws).await?;
                    // Come back at once for marks beyond this batch or made during it; one
                    // batch a run keeps a run short whatever the stream of events.
                    Ok(Step::RunAgainAt(now_ms()))
                }
                Err(e) => {
                    self.fail_run(ws, run, &e).await?;
                    Err(e)
                }
            }
        }
    }

    async fn read_named(
        &self,
        ws: WorkspaceId,
        client: &shops::woocommerce::WooClient,
        changes: &[storage::ShopChange],
    ) -> anyhow::Result<RunCounts> {
        let started = now_ms();
        let query = shops::woocommerce::ProductQuery {
            page: 1,
            per_page: 100,
            modified_after: None,
            include: changes.iter().map(|c| c.shop_product_id).collect(),
        };
        let products = client.products_page(&query).await?;
        let mut variations = variations_of(client, &products.items).await?;
        let mut counts = RunCounts::default();
        let mut rows = Vec::new();
        let mut gone = Vec::new();
        for change in changes {
            let known = self
                .storage
                .catalog_items_by_product(ws, change.shop_product_id)
                .await?;
            let fresh = match products
                .items
                .iter()
                .find(|p| p.id == change.shop_product_id)
            {
                Some(product) => {
                    let variations = variations.remove(&product.id).unwrap_or_default();
                    Self::product_rows(ws, product, &variations, started, &mut counts)?
                }
                // Left out of the list. Only the shop's own answer for this id says it is
                // gone (404, or in the trash): a replayed or forged `product.deleted` must not
                // remove a product the shop still sells.
                None if known.iter().any(|k| k.deleted_at_ms.is_none()) => {
                    if client.product(change.shop_product_id).await?.is_some() {
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

    /// Marks a product a webhook named as changed and queues the read of changes. A
    /// variation's event names the variation: its product is read.
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
        self.enqueue(
            ws,
            CATALOG_READ_FLOW,
            serde_json::json!({ "changes": true }),
            &format!("{ws}:changes"),
        )
        .await
    }

    // ----- exporting to a channel -------------------------------------------------------

    /// Sends the channel what changed. A delta export looks only at the items changed since
    /// the channel's last export ended (all of them the first time); a full one at every item.
    pub async fn export(
        &self,
        ws: WorkspaceId,
        channel_id: ChannelId,
        delta: bool,
    ) -> anyhow::Result<Step> {
        if self.disconnecting(ws).await? {
            return Ok(Step::Done);
        }
        let Some(channel) = self.storage.get_channel(ws, channel_id).await? else {
            return Ok(Step::Done);
        };
        if channel.status != ChannelStatus::Live {
            return Ok(Step::Done);
        }
        if !self.storage.workspace_settings(ws).await?.sync_products {
            // Sync Product is off: nothing is sent, and the run says so.
            let run = self
                .storage
                .start_sync_run(ws, Some(channel.id), CHANNEL_EXPORT_FLOW, now_ms())
                .await?;
            self.finish_run(
                ws,
                run,
                SyncRunStatus::Done,
                &RunCounts::default(),
                Some("Sync Product is off: nothing was sent."),
            )
            .await?;
            return Ok(Step::Done);
        }
        let settings = self.settings_for(ws, channel.id).await?;
        let token = match self.tokens.access_token(ws, channel.id).await {
            Ok(t) => t,
            // The channel waits for its seller to reconnect; its flows are paused meanwhile.
            Err(TokenError::ReauthorizationNeeded | TokenError::NotAuthorized) => {
                return Ok(Step::Done);
            }
            Err(e) => return Err(e.into()),
        };
        let started = now_ms();
        // Read before the catalog: every change up to it is visible to the walk below.
        let version = self.storage.catalog_version(ws).await?;
        let scope = match delta {
            true => match self
                .storage
                .channel_cursor(ws, channel.id, EXPORT_CURSOR)
                .await?
            {
                Some(since) => Scope::ChangedSince(since),
                None => Scope::All,
            },
            false => Scope::All,
        };
        let run = self
            .storage
            .start_sync_run(ws, Some(channel.id), CHANNEL_EXPORT_FLOW, started)
            .await?;
        let result = match channel.kind {
            ChannelKind::Marketplace => {
                self.export_marketplace(ws, &channel, &settings, token.expose(), scope)
                    .await
            }
            ChannelKind::MiraklConnect => {
                self.export_connect(ws, &channel, &settings, token.expose(), scope)
                    .await
            }
        };
        if let Ok((Step::Done, _)) = &result {
            // Every change up to `version` has been looked at.
            self.storage
                .advance_channel_cursor(ws, channel.id, EXPORT_CURSOR, version)
                .await?;
        }
        match &result {
            Ok((step, counts)) => {
                let message = matches!(step, Step::RunAgainAt(_))
                    .then_some("continues at the next budget slot");
                self.finish_run(ws, run, SyncRunStatus::Done, counts, message)
                    .await?;
            }
            Err(e) => {
                self.fail_run(ws, run, e).await?;
            }
        }
        result.map(|(step, _)| step)
    }

    /// Reads the walk's next page of the catalog and calls `visit` for each item the channel
    /// should have (`Wanted`) and each it has but should no longer have (`Unwanted`),
    /// recording the problems `visit` returns. Returns false once the catalog is walked: the
    /// export sends what a page gave before reading the next, so a run holds one page and one
    /// batch, however large the catalog.
    async fn walk_page<F>(
        &self,
        walk: &mut Walk,
        counts: &mut RunCounts,
        mut visit: F,
    ) -> anyhow::Result<bool>
    where
        F: FnMut(Visit<'_>, &mut RunCounts) -> Option<(String, String)>,
    {
        let (ws, channel) = (walk.ws, walk.channel);
        let page = match walk.scope {
            Scope::All => {
                self.storage
                    .catalog_page(ws, walk.after.as_deref(), PAGE, true)
                    .await?
            }
            Scope::ChangedSince(since) => {
                self.storage
                    .catalog_changed_page(ws, since, walk.after.as_deref(), PAGE)
                    .await?
            }
        };
        let Some(last) = page.last() else {
            return Ok(false);
        };
        walk.after = Some(last.sku.clone());
        let skus: Vec<String> = page.iter().map(|r| r.sku.clone()).collect();
        let states: HashMap<String, storage::ChannelItem> = self
            .storage
            .channel_items_for(ws, channel, &skus)
            .await?
            .into_iter()
            .map(|c| (c.sku.clone(), c))
            .collect();
        let product_states: HashMap<String, storage::ChannelItem> = if walk.products {
            self.storage
                .channel_products_for(ws, channel, &skus)
                .await?
                .into_iter()
                .map(|c| (c.sku.clone(), c))
                .collect()
        } else {
            HashMap::new()
        };
        let mut problems = Vec::new();
        for row in &page {
            let item: CatalogItem = match serde_json::from_str(&row.data) {
                Ok(i) => i,
                Err(e) => {
                    problems.push((
                        row.sku.clone(),
                        format!("Marketbridge could not read this item ({e})."),
                    ));
                    continue;
                }
            };
            let state = states.get(&row.sku);
            if row.deleted_at_ms.is_none() && is_selected(&item, &walk.settings) {
                counts.read += 1;
                let product = product_states.get(&row.sku);
                if let Some(problem) = visit(Visit::Wanted(&item, state, product), counts) {
                    problems.push(problem);
                }
            } else if let Some(state) = state
                && state.state != ItemState::Removed
            {
                visit(Visit::Unwanted(&item), counts);
            }
        }
        if !problems.is_empty() {
            counts.problems += problems.len() as u64;
            self.storage
                .record_item_errors(ws, channel, &problems, now_ms())
                .await?;
        }
        Ok(true)
    }

    async fn export_marketplace(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        settings: &ProductSettings,
        token: &str,
        scope: Scope,
    ) -> anyhow::Result<(Step, RunCounts)> {
        let now = now_ms();
        let mapping = self.mapping_for(ws, channel.id).await?;
        let mut offers = OfferBatch::default();
        let mut products = match &mapping {
            Some(mapping) => Some(ProductFile::new(mapping)?),
            None => None,
        };
        let mut walk = Walk::new(ws, channel.id, scope, mapping.is_some(), settings.clone());
        let mut counts = RunCounts::default();
        while self
            .walk_page(&mut walk, &mut counts, |visit, counts| match visit {
                Visit::Wanted(item, state, product) => {
                    if let (Some(mapping), Some(products)) = (&mapping, &mut products)
                        && !products.visit(item, product, settings, mapping, counts)
                    {
                        return None;
                    }
                    match offer_for(item, settings, now) {
                        Ok(offer) => {
                            let hash = offer_hash(&offer).0.to_vec();
                            if state.and_then(|s| s.sent_hash.as_ref()) == Some(&hash) {
                                counts.unchanged += 1;
                            } else {
                                let sku = offer.sku.as_str().to_owned();
                                offers.update(offer_line(offer, UpdateDelete::Update), sku, hash);
                            }
                            None
                        }
                        Err(problem) => new_problem(item, state, problem.to_string()),
                    }
                }
                Visit::Unwanted(item) => {
                    counts.removed += 1;
                    let line = match (settings.removal, offer_for(item, settings, now)) {
                        (RemovalPolicy::ZeroStock, Ok(offer)) => {
                            offer_line(offer.without_stock(), UpdateDelete::Update)
                        }
                        _ => delete_line(item.sku.as_str()),
                    };
                    offers.remove(line, item.sku.as_str().to_owned());
                    None
                }
            })
            .await?
        {}
        let instance = channel
            .instance_url
            .clone()
            .context("a marketplace channel has an instance URL")?;
        // Products first: their offers follow once the import made them live.
        let mut products_wait = None;
        if let Some(products) = products {
            products_wait = self
                .send_products(ws, channel, &instance, token, products, &mut counts)
                .await?;
        }
        let later = |at: i64| Step::RunAgainAt(products_wait.map_or(at, |p: i64| p.min(at)));
        if offers.is_empty() {
            return Ok((products_wait.map_or(Step::Done, later), counts));
        }
        // Small deltas go as OF24 (every field of each offer is sent: OF24 replaces whole
        // offers); bulk and removals as an OF01 file in NORMAL mode — never REPLACE. The
        // request is ready before its budget slot is taken, so it leaves as soon as it is.
        let (payload, sent, removed) = offers.finish()?;
        let (op, kind) = match &payload {
            OfferPayload::Upsert(_) => (Operation::OfferUpsert, "OF24"),
            OfferPayload::File(..) => (Operation::OfferFile, "OF01"),
        };
        if let Some(at) = self.take_budget(ws, channel.id, op).await? {
            return Ok((later(at), counts));
        }
        let credential = Credential::Bearer(token);
        let lines = payload.lines();
        let result = match payload {
            OfferPayload::Upsert(offers) => {
                self.marketplace
                    .upsert_offers(&instance, credential, channel.store_id, &offers)
                    .await
            }
            OfferPayload::File(csv, _) => {
                self.marketplace
                    .import_offers(
                        &instance,
                        credential,
                        channel.store_id,
                        csv,
                        ImportMode::Normal,
                    )
                    .await
            }
        };
        let import_id = match result {
            Ok(id) => id,
            Err(MarketplaceError::RateLimited { retry_after }) => {
                return Ok((
                    later(self.defer(ws, channel.id, op, retry_after).await?),
                    counts,
                ));
            }
            Err(e) => return Err(e.into()),
        };
        self.storage
            .record_sent(ws, channel.id, &sent, Some(import_id.as_str()), now_ms())
            .await?;
        self.storage
            .mark_removed(ws, channel.id, &removed, now_ms())
            .await?;
        self.storage
            .record_import(
                ws,
                channel.id,
                import_id.as_str(),
                kind,
                lines as i32,
                now_ms(),
            )
            .await?;
        counts.sent = sent.len() as u64;
        tracing::info!(%ws, channel = %channel.id, import = import_id.as_str(), kind, lines, "offers sent");
        self.enqueue_channel(ws, IMPORT_FOLLOW_FLOW, channel.id)
            .await?;
        Ok((products_wait.map_or(Step::Done, later), counts))
    }

    /// Sends the products whose line changed as one P41 file, within its budget, and records
    /// the problems found before sending. Returns when to come back if the budget or Mirakl
    /// said to wait (nothing is recorded sent then).
    async fn send_products(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        instance: &InstanceUrl,
        token: &str,
        mut products: ProductFile,
        counts: &mut RunCounts,
    ) -> anyhow::Result<Option<i64>> {
        if !products.problems.is_empty() {
            counts.problems += products.problems.len() as u64;
            self.storage
                .record_product_errors(ws, channel.id, &products.problems, now_ms())
                .await?;
        }
        if products.sent.is_empty() {
            return Ok(None);
        }
        let sent = std::mem::take(&mut products.sent);
        let csv = products.finish()?;
        let op = Operation::ProductImport;
        if let Some(at) = self.take_budget(ws, channel.id, op).await? {
            return Ok(Some(at));
        }
        let id = match self
            .marketplace
            .import_products(instance, Credential::Bearer(token), channel.store_id, csv)
            .await
        {
            Ok(id) => id,
            Err(MarketplaceError::RateLimited { retry_after }) => {
                return Ok(Some(self.defer(ws, channel.id, op, retry_after).await?));
            }
            Err(e) => return Err(e.into()),
        };
        let import_id = format!("{PRODUCT_IMPORT_PREFIX}{}", id.as_str());
        let n = sent.len();
        self.storage
            .record_products_sent(ws, channel.id, &sent, &import_id, now_ms())
            .await?;
        self.storage
            .record_import(
                ws,
                channel.id,
                &import_id,
                PRODUCT_IMPORT_KIND,
                n as i32,
                now_ms(),
            )
            .await?;
        counts.products_sent = n as u64;
        tracing::info!(%ws, channel = %channel.id, import = %import_id, lines = n, "products sent");
        self.enqueue_channel(ws, IMPORT_FOLLOW_FLOW, channel.id)
            .await?;
        Ok(None)
    }

    async fn export_connect(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        settings: &ProductSettings,
        token: &str,
        scope: Scope,
    ) -> anyhow::Result<(Step, RunCounts)> {
        let now = now_ms();
        let mut upserts: Vec<(String, Vec<u8>, ConnectProduct)> = Vec::new();
        let mut deletes: Vec<String> = Vec::new();
        let mut walk = Walk::new(ws, channel.id, scope, false, settings.clone());
        let mut counts = RunCounts::default();
        loop {
            let more = self
                .walk_page(&mut walk, &mut counts, |visit, counts| match visit {
                    Visit::Wanted(item, state, _) => {
                        match connect_product_for(item, settings, now) {
                            Ok(product) => {
                                let hash = connect_product_hash(&product).0.to_vec();
                                if state.and_then(|s| s.sent_hash.as_ref()) == Some(&hash) {
                                    counts.unchanged += 1;
                                } else {
                                    upserts.push((item.sku.as_str().to_owned(), hash, product));
                                }
                                None
                            }
                            Err(problem) => new_problem(item, state, problem.to_string()),
                        }
                    }
                    Visit::Unwanted(item) => {
                        counts.removed += 1;
                        match (settings.removal, connect_product_for(item, settings, now)) {
                            (RemovalPolicy::ZeroStock, Ok(mut product)) => {
                                product.set_available_quantity(0);
                                let hash = connect_product_hash(&product).0.to_vec();
                                upserts.push((item.sku.as_str().to_owned(), hash, product));
                            }
                            _ => deletes.push(item.sku.as_str().to_owned()),
                        }
                        None
                    }
                })
                .await?;
            // Full batches go out as the walk meets them; the rest once it ends. A batch held
            // back by the budget is simply met again by the next run: nothing of it was
            // recorded sent.
            while upserts.len() >= CONNECT_BATCH || (!more && !upserts.is_empty()) {
                let batch: Vec<_> = upserts.drain(..upserts.len().min(CONNECT_BATCH)).collect();
                if let Some(at) = self
                    .upsert_connect_batch(ws, channel, token, batch, &mut counts)
                    .await?
                {
                    return Ok((Step::RunAgainAt(at), counts));
                }
            }
            while deletes.len() >= CONNECT_BATCH || (!more && !deletes.is_empty()) {
                let batch: Vec<String> =
                    deletes.drain(..deletes.len().min(CONNECT_BATCH)).collect();
                if let Some(at) = self
                    .delete_connect_batch(ws, channel, token, &batch)
                    .await?
                {
                    return Ok((Step::RunAgainAt(at), counts));
                }
            }
            if !more {
                return Ok((Step::Done, counts));
            }
        }
    }

    /// One Connect `POST /products` of up to [`CONNECT_BATCH`] products, within its budget.
    /// Connect applies it at once (202 Accepted): what it accepted is live. Returns when to
    /// come back if the budget or Connect said to wait.
    async fn upsert_connect_batch(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        token: &str,
        batch: Vec<(String, Vec<u8>, ConnectProduct)>,
        counts: &mut RunCounts,
    ) -> anyhow::Result<Option<i64>> {
        let body: Vec<serde_json::Value> = batch
            .iter()
            .map(|(_, _, p)| serde_json::to_value(p))
            .collect::<Result<_, _>>()?;
        let op = Operation::ConnectUpsert;
        if let Some(at) = self.take_budget(ws, channel.id, op).await? {
            return Ok(Some(at));
        }
        match self.connect.upsert_products(token, &body).await {
            Ok(()) => {}
            Err(ConnectError::RateLimited { retry_after }) => {
                return Ok(Some(self.defer(ws, channel.id, op, retry_after).await?));
            }
            Err(ConnectError::Invalid {
                message, errors, ..
            }) => {
                // The whole batch was refused: attach what Connect said to each product it
                // names, or to all of them when it names none.
                let specific = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>();
                let text = if specific.is_empty() {
                    message
                } else {
                    specific.join("; ")
                };
                let errs: Vec<(String, String)> = batch
                    .into_iter()
                    .map(|(sku, _, _)| (sku, text.clone()))
                    .collect();
                counts.errors += errs.len() as u64;
                self.storage
                    .record_item_errors(ws, channel.id, &errs, now_ms())
                    .await?;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        let sent: Vec<(String, Vec<u8>)> = batch.into_iter().map(|(s, h, _)| (s, h)).collect();
        self.storage
            .record_sent(ws, channel.id, &sent, None, now_ms())
            .await?;
        counts.sent += sent.len() as u64;
        Ok(None)
    }

    /// One Connect `DELETE /products` of up to [`CONNECT_BATCH`] SKUs, within its budget.
    async fn delete_connect_batch(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        token: &str,
        batch: &[String],
    ) -> anyhow::Result<Option<i64>> {
        let op = Operation::ConnectDelete;
        if let Some(at) = self.take_budget(ws, channel.id, op).await? {
            return Ok(Some(at));
        }
        match self.connect.delete_products(token, batch).await {
            Ok(()) => {
                self.storage
                    .mark_removed(ws, channel.id, batch, now_ms())
                    .await?;
                Ok(None)
            }
            Err(ConnectError::RateLimited { retry_after }) => {
                Ok(Some(self.defer(ws, channel.id, op, retry_after).await?))
            }
            Err(e) => Err(e.into()),
        }
    }

    // ----- following imports ------------------------------------------------------------

    /// Follows the channel's open imports until they end: its product imports (P42, then
    /// P44) and its offer imports (OF04, then OF03).
    pub async fn follow_imports(
        &self,
        ws: WorkspaceId,
        channel_id: ChannelId,
    ) -> anyhow::Result<Step> {
        let Some(channel) = self.storage.get_channel(ws, channel_id).await? else {
            return Ok(Step::Done);
        };
        let Some(instance) = channel.instance_url.clone() else {
            return Ok(Step::Done);
        };
        let open = self.storage.open_imports(ws, channel.id).await?;
        if open.is_empty() {
            return Ok(Step::Done);
        }
        let token = match self.tokens.access_token(ws, channel.id).await {
            Ok(t) => t,
            Err(TokenError::ReauthorizationNeeded | TokenError::NotAuthorized) => {
                return Ok(Step::Done);
            }
            Err(e) => return Err(e.into()),
        };
        let credential = Credential::Bearer(token.expose());
        let (products, offers): (Vec<_>, Vec<_>) = open
            .into_iter()
            .partition(|i| i.kind == PRODUCT_IMPORT_KIND);
        let products = self
            .follow_product_imports(ws, &channel, &instance, credential, &products)
            .await?;
        let offers = self
            .follow_offer_imports(ws, &channel, &instance, credential, &offers)
            .await?;
        Ok(match (products, offers) {
            (Step::Done, step) | (step, Step::Done) => step,
            (Step::RunAgainAt(a), Step::RunAgainAt(b)) => Step::RunAgainAt(a.min(b)),
        })
    }

    /// Follows P41 imports one P42 call each. A finished one's error report (P44) attaches
    /// each refused product's reason to its SKU; its other products are live, and a full
    /// export of the channel is queued so their offers go out.
    async fn follow_product_imports(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        open: &[storage::ChannelImport],
    ) -> anyhow::Result<Step> {
        if open.is_empty() {
            return Ok(Step::Done);
        }
        let mapping = self.mapping_for(ws, channel.id).await?;
        let sku_column = mapping.as_ref().and_then(|m| m.sku_column());
        let mut unfinished = false;
        for import in open {
            let id = ImportId::from(
                import
                    .import_id
                    .strip_prefix(PRODUCT_IMPORT_PREFIX)
                    .unwrap_or(&import.import_id)
                    .to_owned(),
            );
            if let Some(at) = self
                .take_budget(ws, channel.id, Operation::ProductImportStatus)
                .await?
            {
                return Ok(Step::RunAgainAt(at));
            }
            // ASSUMPTION: without a mapping (deleted meanwhile) the report's SKUs cannot be
            // read; the import's products are then taken as integrated (or as failed with the
            // import), and a refused one's offer comes back refused from its own import.
            let report = async {
                let status = self
                    .marketplace
                    .product_import(instance, credential, channel.store_id, &id)
                    .await?;
                let lines = match sku_column {
                    Some(column) if status.is_finished() && status.has_error_report => {
                        self.marketplace
                            .product_import_errors(
                                instance,
                                credential,
                                channel.store_id,
                                &id,
                                column,
                            )
                            .await?
                    }
                    _ => Vec::new(),
                };
                Ok::<_, MarketplaceError>((status, lines))
            };
            let (status, lines) = match report.await {
                Ok(report) => report,
                Err(MarketplaceError::RateLimited { retry_after }) => {
                    let op = Operation::ProductImportStatus;
                    return Ok(Step::RunAgainAt(
                        self.defer(ws, channel.id, op, retry_after).await?,
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            if !status.is_finished() {
                unfinished = true;
                continue;
            }
            let errors: Vec<(String, String)> = lines
                .into_iter()
                .filter_map(|l| l.sku.map(|sku| (sku, l.message)))
                .collect();
            let outcome = if status.failed() {
                // Nothing of the file was integrated: every product not named in a report
                // carries why, and goes out again with the next export.
                let message = failed_import_message(
                    "product",
                    &import.import_id,
                    status.status.as_str(),
                    status.reason_status.as_deref(),
                );
                self.storage
                    .record_failed_product_import(
                        ws,
                        channel.id,
                        &import.import_id,
                        &errors,
                        &message,
                        now_ms(),
                    )
                    .await?
            } else {
                self.storage
                    .record_product_import_result(
                        ws,
                        channel.id,
                        &import.import_id,
                        &errors,
                        now_ms(),
                    )
                    .await?
            };
            self.storage
                .finish_import(
                    ws,
                    channel.id,
                    &import.import_id,
                    status.status.as_str(),
                    now_ms(),
                )
                .await?;
            tracing::info!(%ws, channel = %channel.id, import = %import.import_id, live = outcome.live, errors = outcome.errors, "product import finished");
            // A delta export would not look at items whose product just became live. After a
            // failed import none did; sending its products again at once could repeat a
            // failure forever, so they wait for the next full export.
            if !status.failed() {
                self.enqueue_channel(ws, CHANNEL_EXPORT_FLOW, channel.id)
                    .await?;
            }
        }
        if unfinished {
            return Ok(Step::RunAgainAt(
                now_ms() + self.budgets.interval_ms(Operation::ProductImportStatus),
            ));
        }
        Ok(Step::Done)
    }

    /// Follows the channel's open offer imports until they end: one OF04 call reads them all
    /// (OF02 would take a call, and a budget slot, per import — a backlog when a change goes
    /// out every minute). For each finished one, its error report (OF03) attaches every error
    /// line to its SKU; the import's other offers are live.
    async fn follow_offer_imports(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        open: &[storage::ChannelImport],
    ) -> anyhow::Result<Step> {
        let Some(oldest) = open.iter().map(|i| i.created_at_ms).min() else {
            return Ok(Step::Done);
        };
        // ASSUMPTION: clocks may differ by up to a minute; an older import listed too is
        // simply ignored.
        let since = OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(oldest - CLOCK_SKEW_MS) * 1_000_000,
        )?;
        let mut statuses: HashMap<String, mirakl::marketplace::OfferImport> = HashMap::new();
        let mut page_token: Option<String> = None;
        loop {
            if let Some(at) = self
                .take_budget(ws, channel.id, Operation::ImportList)
                .await?
            {
                return Ok(Step::RunAgainAt(at));
            }
            let page = match self
                .marketplace
                .offer_imports(
                    instance,
                    credential,
                    channel.store_id,
                    since,
                    page_token.as_deref(),
                )
                .await
            {
                Ok(page) => page,
                Err(MarketplaceError::RateLimited { retry_after }) => {
                    return Ok(Step::RunAgainAt(
                        self.defer(ws, channel.id, Operation::ImportList, retry_after)
                            .await?,
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            statuses.extend(
                page.imports
                    .into_iter()
                    .map(|i| (i.import_id.as_str().to_owned(), i)),
            );
            match page.next_page_token {
                Some(next) if !open.iter().all(|i| statuses.contains_key(&i.import_id)) => {
                    page_token = Some(next)
                }
                _ => break,
            }
        }
        let mut unfinished = false;
        for import in open {
            let status = match statuses.get(&import.import_id) {
                Some(status) if status.is_finished() => status,
                // Still running, or not listed yet: the next look tells.
                _ => {
                    unfinished = true;
                    continue;
                }
            };
            let mut errors = Vec::new();
            if status.has_error_report {
                if let Some(at) = self
                    .take_budget(ws, channel.id, Operation::ImportErrors)
                    .await?
                {
                    return Ok(Step::RunAgainAt(at));
                }
                let id = mirakl::marketplace::ImportId::from(import.import_id.clone());
                let lines = match self
                    .marketplace
                    .offer_import_errors(instance, credential, channel.store_id, &id)
                    .await
                {
                    Ok(l) => l,
                    Err(MarketplaceError::RateLimited { retry_after }) => {
                        return Ok(Step::RunAgainAt(
                            self.defer(ws, channel.id, Operation::ImportErrors, retry_after)
                                .await?,
                        ));
                    }
                    Err(e) => return Err(e.into()),
                };
                errors = lines
                    .into_iter()
                    .filter_map(|l| l.sku.map(|sku| (sku, l.message)))
                    .collect();
            }
            let outcome = if status.status == mirakl::marketplace::ImportStatus::Failed {
                let message = failed_import_message(
                    "offer",
                    &import.import_id,
                    status.status.as_str(),
                    status.reason_status.as_deref(),
                );
                self.storage
                    .record_failed_import(
                        ws,
                        channel.id,
                        &import.import_id,
                        &errors,
                        &message,
                        now_ms(),
                    )
                    .await?
            } else {
                self.storage
                    .record_import_result(
                        ws,
                        channel.id,
                        import.import_id.as_str(),
                        &errors,
                        now_ms(),
                    )
                    .await?
            };
            self.storage
                .finish_import(
                    ws,
                    channel.id,
                    import.import_id.as_str(),
                    status.status.as_str(),
                    now_ms(),
                )
                .await?;
            tracing::info!(%ws, channel = %channel.id, import = %import.import_id, live = outcome.live, errors = outcome.errors, "import finished");
        }
        if unfinished {
            // Look again at the next slot.
            return Ok(Step::RunAgainAt(
                now_ms() + self.budgets.interval_ms(Operation::ImportList),
            ));
        }
        Ok(Step::Done)
    }

    // ----- reconciliation ---------------------------------------------------------------

    /// Reads the channel's live offers and makes the next export re-send every item whose
    /// live price or quantity is not what the rules give (changed behind the connector's back,
    /// or lost). Returns how many were repaired.
    pub async fn reconcile(&self, ws: WorkspaceId, channel_id: ChannelId) -> anyhow::Result<Step> {
        if self.disconnecting(ws).await? {
            return Ok(Step::Done);
        }
        let Some(channel) = self.storage.get_channel(ws, channel_id).await? else {
            return Ok(Step::Done);
        };
        if channel.status != ChannelStatus::Live
            || !self.storage.workspace_settings(ws).await?.sync_products
        {
            return Ok(Step::Done);
        }
        let token = match self.tokens.access_token(ws, channel.id).await {
            Ok(t) => t,
            Err(TokenError::ReauthorizationNeeded | TokenError::NotAuthorized) => {
                return Ok(Step::Done);
            }
            Err(e) => return Err(e.into()),
        };
        let run = self
            .storage
            .start_sync_run(ws, Some(channel.id), RECONCILE_FLOW, now_ms())
            .await?;
        let live = match channel.kind {
            ChannelKind::Marketplace => {
                self.live_marketplace_offers(ws, &channel, token.expose())
                    .await
            }
            ChannelKind::MiraklConnect => {
                self.live_connect_products(ws, &channel, token.expose())
                    .await
            }
        };
        let live = match live {
            Ok(Ok(live)) => live,
            Ok(Err(at)) => {
                self.finish_run(
                    ws,
                    run,
                    SyncRunStatus::Done,
                    &RunCounts::default(),
                    Some("continues at the next budget slot"),
                )
                .await?;
                return Ok(Step::RunAgainAt(at));
            }
            Err(e) => {
                self.fail_run(ws, run, &e).await?;
                return Err(e);
            }
        };
        let settings = self.settings_for(ws, channel.id).await?;
        let now = now_ms();
        let mut drifted = Vec::new();
        let mut counts = RunCounts::default();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .storage
                .catalog_page(ws, after.as_deref(), PAGE, false)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.sku.clone());
            let skus: Vec<String> = page.iter().map(|r| r.sku.clone()).collect();
            let states = self
                .storage
                .channel_items_for(ws, channel.id, &skus)
                .await?;
            for state in states
                .iter()
                .filter(|s| matches!(s.state, ItemState::Live | ItemState::Sent))
            {
                let Some(row) = page.iter().find(|r| r.sku == state.sku) else {
                    continue;
                };
                let Ok(item) = serde_json::from_str::<CatalogItem>(&row.data) else {
                    continue;
                };
                counts.read += 1;
                let expected = match channel.kind {
                    ChannelKind::Marketplace => offer_for(&item, &settings, now)
                        .ok()
                        .map(|o| (o.price.to_decimal_string(), o.quantity)),
                    ChannelKind::MiraklConnect => {
                        connect_product_for(&item, &settings, now).ok().map(|p| {
                            (
                                p.standard_price_string().unwrap_or_default(),
                                p.available_quantity().unwrap_or(0),
                            )
                        })
                    }
                };
                let Some(expected) = expected else { continue };
                if live.get(&state.sku) != Some(&expected) {
                    drifted.push(state.sku.clone());
                }
            }
        }
        counts.repaired = self
            .storage
            .forget_sent_hashes(ws, channel.id, &drifted, now_ms())
            .await?;
        let message = (!drifted.is_empty()).then(|| {
            format!(
                "repaired {} offers that differed on the channel",
                drifted.len()
            )
        });
        self.finish_run(ws, run, SyncRunStatus::Done, &counts, message.as_deref())
            .await?;
        if !drifted.is_empty() {
            tracing::info!(%ws, channel = %channel.id, repaired = drifted.len(), "drift repaired");
            self.enqueue_channel(ws, CHANNEL_EXPORT_FLOW, channel.id)
                .await?;
        }
        Ok(Step::Done)
    }

    /// sku → (price as "19.90", quantity) of every live offer, or the time to come back.
    async fn live_marketplace_offers(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        token: &str,
    ) -> anyhow::Result<Result<HashMap<String, (String, i64)>, i64>> {
        let instance = channel
            .instance_url
            .clone()
            .context("a marketplace channel has an instance URL")?;
        let mut live = HashMap::new();
        let mut offset = 0;
        loop {
            if let Some(at) = self
                .take_budget(ws, channel.id, Operation::OfferList)
                .await?
            {
                return Ok(Err(at));
            }
            let page = match self
                .marketplace
                .offers_page(
                    &instance,
                    Credential::Bearer(token),
                    channel.store_id,
                    offset,
                    100,
                )
                .await
            {
                Ok(p) => p,
                Err(MarketplaceError::RateLimited { retry_after }) => {
                    return Ok(Err(self
                        .defer(ws, channel.id, Operation::OfferList, retry_after)
                        .await?));
                }
                Err(e) => return Err(e.into()),
            };
            let n = page.offers.len() as u32;
            for o in page.offers {
                // The price the connector set, not a discount running now.
                let set_price = o.origin_price.as_deref().or(o.price.as_deref());
                let price = set_price
                    .and_then(|p| domain::catalog::Money::parse(p).ok())
                    .map(|m| m.to_decimal_string());
                live.insert(o.shop_sku, (price.unwrap_or_default(), o.quantity));
            }
            offset += n;
            if n == 0 || i64::from(offset) >= page.total_count {
                break;
            }
        }
        Ok(Ok(live))
    }

    async fn live_connect_products(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        token: &str,
    ) -> anyhow::Result<Result<HashMap<String, (String, i64)>, i64>> {
        let mut live = HashMap::new();
        let mut page_token: Option<String> = None;
        loop {
            if let Some(at) = self
                .take_budget(ws, channel.id, Operation::ConnectList)
                .await?
            {
                return Ok(Err(at));
            }
            let page = match self
                .connect
                .list_products(token, 1000, page_token.as_deref())
                .await
            {
                Ok(p) => p,
                Err(ConnectError::RateLimited { retry_after }) => {
                    return Ok(Err(self
                        .defer(ws, channel.id, Operation::ConnectList, retry_after)
                        .await?));
                }
                Err(e) => return Err(e.into()),
            };
            for p in page.data {
                if let Ok(product) = serde_json::from_value::<ConnectProduct>(p) {
                    live.insert(
                        product.id.clone(),
                        (
                            product.standard_price_string().unwrap_or_default(),
                            product.available_quantity().unwrap_or(0),
                        ),
                    );
                }
            }
            match page.next_page_token {
                Some(t) => page_token = Some(t),
                None => break,
            }
        }
        Ok(Ok(live))
    }

    // ----- budgets and runs -------------------------------------------------------------

    /// The marketplace client, for other flows that call Mirakl (Disconnect).
    pub fn marketplace(&self) -> &MarketplaceClient {
        &self.marketplace
    }

    pub fn connect(&self) -> &ConnectClient {
        &self.connect
    }

    /// Takes the next call slot for `op`, or says when it comes (for other flows).
    pub async fn take_budget_for(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        op: Operation,
    ) -> anyhow::Result<Option<i64>> {
        self.take_budget(ws, channel, op).await
    }

    /// Takes the next call slot for `op`, or says when it comes.
    async fn take_budget(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        op: Operation,
    ) -> anyhow::Result<Option<i64>> {
        let interval = self.budgets.interval_ms(op);
        if interval == 0 {
            return Ok(None);
        }
        match self
            .storage
            .take_call_budget(ws, channel, op.as_str(), interval, now_ms())
            .await?
        {
            BudgetDecision::Granted => Ok(None),
            BudgetDecision::WaitUntil(at) => Ok(Some(at)),
        }
    }

    /// Mirakl answered 429: no call of this kind before Retry-After (one budget interval, or
    /// one second, when it names none).
    async fn defer(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        op: Operation,
        retry_after: Option<std::time::Duration>,
    ) -> anyhow::Result<i64> {
        let wait = retry_after
            .map(|d| d.as_millis() as i64)
            .unwrap_or_else(|| self.budgets.interval_ms(op).max(1000));
        let until = now_ms() + wait;
        self.storage
            .defer_call_budget(ws, channel, op.as_str(), until)
            .await?;
        tracing::info!(%ws, %channel, op = op.as_str(), wait_ms = wait, "rate limited by Mirakl; waiting");
        Ok(until)
    }

    /// Ends a run as failed, with the error as its message.
    async fn fail_run(
        &self,
        ws: WorkspaceId,
        run: uuid::Uuid,
        e: &anyhow::Error,
    ) -> anyhow::Result<()> {
        let message = format!("{e:#}");
        self.finish_run(
            ws,
            run,
            SyncRunStatus::Failed,
            &RunCounts::default(),
            Some(&message),
        )
        .await
    }

    async fn finish_run(
        &self,
        ws: WorkspaceId,
        run: uuid::Uuid,
        status: SyncRunStatus,
        counts: &RunCounts,
        message: Option<&str>,
    ) -> anyhow::Result<()> {
        let counts = serde_json::to_string(counts)?;
        self.storage
            .finish_sync_run(ws, run, status, &counts, message, now_ms())
            .await?;
        Ok(())
    }
}

/// Which catalog items an export looks at.
#[derive(Clone, Copy, Debug)]
enum Scope {
    All,
    /// Those changed after this catalog version (deleted ones included).
    ChangedSince(i64),
}

/// One catalog item as [`CatalogSync::walk_page`] meets it.
enum Visit<'a> {
    /// The channel should have it; its offer's state on the channel so far, if any, and its
    /// product's (when the walk reads products).
    Wanted(
        &'a CatalogItem,
        Option<&'a storage::ChannelItem>,
        Option<&'a storage::ChannelItem>,
    ),
    /// The channel has it but should not any more (deleted, unpublished, deselected).
    Unwanted(&'a CatalogItem),
}

/// How many variable products have their variations read at once.
/// ASSUMPTION: a WooCommerce host serves a few parallel REST requests from one client; reading
/// one product's variations after another made the first read of a large catalog take as many
/// round trips as it has variable products.
const VARIATION_READS_AT_ONCE: usize = 8;

/// The variations of each variable product among `products`, by product id, read up to
/// [`VARIATION_READS_AT_ONCE`] products at a time, each product's pages in order.
async fn variations_of(
    client: &shops::woocommerce::WooClient,
    products: &[shops::woocommerce::Product],
) -> anyhow::Result<HashMap<i64, Vec<shops::woocommerce::Variation>>> {
    let mut variable = products
        .iter()
        .filter(|p| !p.variations.is_empty())
        .map(|p| p.id);
    let mut reads = tokio::task::JoinSet::new();
    let mut all = HashMap::new();
    loop {
        while reads.len() < VARIATION_READS_AT_ONCE
            && let Some(id) = variable.next()
        {
            let client = client.clone();
            reads.spawn(async move { (id, all_variations(&client, id).await) });
        }
        // An error returns at once; dropping the set stops the reads still under way.
        let Some(read) = reads.join_next().await else {
            return Ok(all);
        };
        let (id, variations) = read?;
        all.insert(id, variations?);
    }
}

/// Every variation of one product, page after page.
async fn all_variations(
    client: &shops::woocommerce::WooClient,
    product_id: i64,
) -> Result<Vec<shops::woocommerce::Variation>, shops::woocommerce::WooError> {
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let v = client.variations_page(product_id, page, 100).await?;
        all.extend(v.items);
        if page >= v.total_pages {
            return Ok(all);
        }
        page += 1;
    }
}

/// Where an export's walk through the catalog stands (see [`CatalogSync::walk_page`]).
struct Walk {
    ws: WorkspaceId,
    channel: ChannelId,
    scope: Scope,
    /// Whether each wanted item comes with its product's state too.
    products: bool,
    settings: ProductSettings,
    /// The last SKU read.
    after: Option<String>,
}

impl Walk {
    fn new(
        ws: WorkspaceId,
        channel: ChannelId,
        scope: Scope,
        products: bool,
        settings: ProductSettings,
    ) -> Self {
        Self {
            ws,
            channel,
            scope,
            products,
            settings,
            after: None,
        }
    }
}

/// The offers an export sends: up to [`OF24_MAX_OFFERS`] updates are kept as lines for one
/// OF24 call; beyond that, or with a removal among them, they are written into an OF01 file
/// as they come, so a first export of a large catalog holds a file, not a list of offers.
#[derive(Default)]
struct OfferBatch {
    lines: Vec<OfferLine>,
    file: Option<OffersFile<Vec<u8>>>,
    /// The first error writing the file (none in practice: it is written to memory).
    error: Option<std::io::Error>,
    sent: Vec<(String, Vec<u8>)>,
    removed: Vec<String>,
}

/// What [`OfferBatch::finish`] gives to send.
enum OfferPayload {
    /// OF24: every field of each offer.
    Upsert(Vec<serde_json::Value>),
    /// OF01: the file, and its number of lines.
    File(Vec<u8>, usize),
}

impl OfferPayload {
    fn lines(&self) -> usize {
        match self {
            Self::Upsert(offers) => offers.len(),
            Self::File(_, lines) => *lines,
        }
    }
}

impl OfferBatch {
    /// An offer to create or update, with its SKU and content hash.
    fn update(&mut self, line: OfferLine, sku: String, hash: Vec<u8>) {
        self.sent.push((sku, hash));
        self.add(line);
    }

    /// A line that takes an offer off the channel (or to stock 0).
    fn remove(&mut self, line: OfferLine, sku: String) {
        self.removed.push(sku);
        self.add(line);
    }

    fn add(&mut self, line: OfferLine) {
        let result = match &mut self.file {
            Some(file) => file.write(&line),
            None if self.lines.len() < OF24_MAX_OFFERS && self.removed.is_empty() => {
                self.lines.push(line);
                Ok(())
            }
            None => OffersFile::new(Vec::new()).and_then(|mut file| {
                for held in self.lines.drain(..).chain([line]) {
                    file.write(&held)?;
                }
                self.file = Some(file);
                Ok(())
            }),
        };
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }

    fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.file.is_none()
    }

    /// The request to send, the offers it updates (SKU, hash) and the SKUs it removes.
    #[allow(clippy::type_complexity)]
    fn finish(self) -> anyhow::Result<(OfferPayload, Vec<(String, Vec<u8>)>, Vec<String>)> {
        if let Some(e) = self.error {
            return Err(anyhow::Error::from(e).context("writing the offer file"));
        }
        let payload = match self.file {
            Some(file) => {
                let lines = file.lines();
                OfferPayload::File(file.finish()?, lines)
            }
            None => OfferPayload::Upsert(self.lines.iter().map(offer_json).collect()),
        };
        Ok((payload, self.sent, self.removed))
    }
}

/// The P41 file an export builds: the lines of the products whose line changed since they were
/// last sent, written as they come, with their hashes, and the problems found before sending.
struct ProductFile {
    file: ProductsFile<Vec<u8>>,
    sent: Vec<(String, Vec<u8>)>,
    problems: Vec<(String, String)>,
    /// The first error writing the file (none in practice: it is written to memory).
    error: Option<std::io::Error>,
}

impl ProductFile {
    fn new(mapping: &ProductMapping) -> anyhow::Result<Self> {
        Ok(Self {
            file: ProductsFile::new(Vec::new(), &columns(mapping))?,
            sent: Vec::new(),
            problems: Vec::new(),
            error: None,
        })
    }

    /// Looks at one wanted item's product, given its state on the marketplace so far. Returns
    /// whether the item's offer can go: its product exists there (it was live once — a later
    /// refused update leaves the product in place).
    fn visit(
        &mut self,
        item: &CatalogItem,
        product: Option<&storage::ChannelItem>,
        settings: &ProductSettings,
        mapping: &ProductMapping,
        counts: &mut RunCounts,
    ) -> bool {
        match product_line_for(item, settings, mapping) {
            Ok(line) => {
                let hash = product_line_hash(&line).0.to_vec();
                if product.and_then(|p| p.sent_hash.as_ref()) != Some(&hash) {
                    match self.file.write(&line.values) {
                        Ok(()) => self.sent.push((line.sku.as_str().to_owned(), hash)),
                        Err(e) => {
                            self.error.get_or_insert(e);
                        }
                    }
                }
            }
            Err(problem) => self
                .problems
                .extend(new_problem(item, product, problem.to_string())),
        }
        let exists = product.is_some_and(|p| p.live_at_ms.is_some());
        if !exists {
            counts.waiting += 1;
        }
        exists
    }

    /// The file to send.
    fn finish(self) -> anyhow::Result<Vec<u8>> {
        if let Some(e) = self.error {
            return Err(anyhow::Error::from(e).context("writing the product file"));
        }
        Ok(self.file.finish()?)
    }
}

/// A problem to record against the item, unless it is the one already recorded.
/// What a product or offer of an import that failed as a whole shows next to its SKU.
fn failed_import_message(
    kind: &str,
    import_id: &str,
    status: &str,
    reason: Option<&str>,
) -> String {
    let why = reason.map_or(String::new(), |r| format!(": {r}"));
    format!(
        "The marketplace did not integrate the {kind} import {import_id} ({status}{why}). \
         It is sent again with the next full export (Sync now starts one)."
    )
}

fn new_problem(
    item: &CatalogItem,
    state: Option<&storage::ChannelItem>,
    message: String,
) -> Option<(String, String)> {
    let same = state.and_then(|s| s.error.as_deref()) == Some(message.as_str());
    (!same).then(|| (item.sku.as_str().to_owned(), message))
}

fn catalog_row(item: &CatalogItem, seen_at_ms: i64) -> anyhow::Result<CatalogRow> {
    Ok(CatalogRow {
        sku: item.sku.as_str().to_owned(),
        shop_product_id: item.shop_product_id,
        shop_variation_id: item.shop_variation_id,
        title: item.title.clone(),
        data: serde_json::to_string(item)?,
        modified_at_ms: item.modified_at_ms,
        seen_at_ms,
        deleted_at_ms: None,
    })
}

fn iso(ms: Option<i64>) -> Option<String> {
    let ms = ms?;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// The one mapping from an offer to a line of Mirakl's offer file (and OF24 body). It takes
/// the offer, whose texts it moves rather than copies: an export makes one line per item.
pub fn offer_line(offer: Offer, update_delete: UpdateDelete) -> OfferLine {
    OfferLine {
        price: offer.price.to_decimal_string(),
        discount_price: offer.discount.as_ref().map(|d| d.price.to_decimal_string()),
        discount_start: offer.discount.as_ref().and_then(|d| iso(d.start_ms)),
        discount_end: offer.discount.as_ref().and_then(|d| iso(d.end_ms)),
        sku: offer.sku.into_string(),
        product_id: offer.product_id,
        product_id_type: offer.product_id_type.to_owned(),
        description: offer.description,
        quantity: offer.quantity,
        state: offer.state_code,
        update_delete,
    }
}

pub(crate) fn delete_line(sku: &str) -> OfferLine {
    OfferLine {
        sku: sku.to_owned(),
        product_id: String::new(),
        product_id_type: String::new(),
        description: String::new(),
        price: String::new(),
        quantity: 0,
        state: String::new(),
        discount_price: None,
        discount_start: None,
        discount_end: None,
        update_delete: UpdateDelete::Delete,
    }
}
