//! F4, the catalog export: read the shop into catalog items, turn them into what each channel
//! receives (the workspace's rules), and send only what changed since the channel last
//! acknowledged it — within Mirakl's call budgets, following every import to its end and
//! attaching each error line to its SKU. A periodic reconciliation reads the live offers back
//! and repairs drift.
//!
//! Each step is a job; each can stop anywhere and run again without harm: what was sent is
//! recorded with its content hash, so a second run sends nothing twice, and nothing is marked
//! sent before Mirakl accepted it.
//!
//! One file per part of the flow: [`read`] (the shop into catalog items), [`export`] (the
//! walk an export makes through the catalog, for either kind of channel),
//! [`export_marketplace`] (offer files, OF24 and P41), [`export_connect`], [`imports`]
//! (following imports to their end) and [`reconcile`]. This file holds what they share: the
//! queueing of their jobs, the rules of a channel, its token, the call budgets and the runs.

mod export;
mod export_connect;
mod export_marketplace;
mod imports;
mod read;
mod reconcile;

use domain::catalog::{
    CatalogItem, ChannelOverrides, ProductIdType, ProductMapping, ProductSettings,
};
use domain::{ChannelId, SyncRunStatus, WorkspaceId};
use mirakl::connect::ConnectClient;
use mirakl::marketplace::MarketplaceClient;
use storage::{Secret, Storage, now_ms};

pub use export_marketplace::{delete_line, offer_line};

use crate::budgets::{Budgets, Operation, Slots};
use crate::job::{CatalogRead, Job, Queue};
use crate::shop::Shops;
use crate::tokens::{TokenError, TokenKeeper};

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

#[derive(Clone)]
pub struct CatalogSync {
    storage: Storage,
    shops: Shops,
    tokens: TokenKeeper,
    marketplace: MarketplaceClient,
    connect: ConnectClient,
    budgets: Budgets,
    slots: Slots,
    queue: Queue,
}

/// A shop's categories and tags, sorted by name.
#[derive(Debug, Default)]
pub struct ShopTerms {
    pub categories: Vec<shops::Term>,
    pub tags: Vec<shops::Term>,
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
        shops: Shops,
        tokens: TokenKeeper,
        marketplace: MarketplaceClient,
        connect: ConnectClient,
        budgets: Budgets,
        queue: Queue,
    ) -> Self {
        Self {
            slots: Slots::new(storage.clone(), budgets),
            storage,
            shops,
            tokens,
            marketplace,
            connect,
            budgets,
            queue,
        }
    }

    /// Queues a read of the shop (at most one runs and one waits per kind of read).
    pub async fn enqueue_read(&self, ws: WorkspaceId, read: CatalogRead) -> anyhow::Result<()> {
        self.queue.enqueue(ws, &Job::catalog_read(read)).await?;
        Ok(())
    }

    /// Queues a full export to the channel: every item is looked at again.
    pub async fn enqueue_export(&self, ws: WorkspaceId, channel: ChannelId) -> anyhow::Result<()> {
        self.queue
            .enqueue(ws, &Job::channel_export(channel, false))
            .await?;
        Ok(())
    }

    /// A full export to every live channel of the workspace (settings changed, a full read
    /// of the shop).
    pub async fn enqueue_exports(&self, ws: WorkspaceId) -> anyhow::Result<()> {
        self.queue.enqueue_exports(ws, false).await
    }

    /// An export to every live channel of the items changed since its last export.
    pub async fn enqueue_delta_exports(&self, ws: WorkspaceId) -> anyhow::Result<()> {
        self.queue.enqueue_exports(ws, true).await
    }

    /// Queues the following of the channel's open imports.
    async fn enqueue_import_follow(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> anyhow::Result<()> {
        self.queue.enqueue(ws, &Job::import_follow(channel)).await?;
        Ok(())
    }

    /// F3: saves the workspace's product settings and **Sync Product**, and queues a full
    /// export to every live channel: new rules may change what each should have.
    pub async fn save_settings(
        &self,
        ws: WorkspaceId,
        settings: &ProductSettings,
        sync_products: bool,
    ) -> anyhow::Result<()> {
        self.storage
            .save_product_settings(ws, settings, now_ms())
            .await?;
        let mut workspace = self.storage.workspace_settings(ws).await?;
        workspace.sync_products = sync_products;
        self.storage
            .save_workspace_settings(ws, &workspace, now_ms())
            .await?;
        tracing::info!(%ws, "product settings saved");
        self.enqueue_exports(ws).await
    }

    /// Saves one channel's overrides of the product settings and queues a full export to it.
    pub async fn save_overrides(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        overrides: &ChannelOverrides,
    ) -> anyhow::Result<()> {
        self.storage
            .save_channel_overrides(ws, channel, overrides, now_ms())
            .await?;
        self.enqueue_export(ws, channel).await
    }

    /// The workspace's rules for one channel: its settings with the channel's overrides. A
    /// channel that creates its products (a mapping is saved) names them by the seller's SKU.
    pub async fn settings_for(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> anyhow::Result<ProductSettings> {
        let base = self.storage.product_settings(ws).await?.unwrap_or_default();
        let mut settings = match self.storage.channel_overrides(ws, channel).await? {
            Some(overrides) => base.with_overrides(&overrides),
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
        Ok(self.storage.channel_mapping(ws, channel).await?)
    }

    /// While a Disconnect runs (or waits for a retry), the catalog flows stand still: an export
    /// must not put back what the Disconnect just removed.
    async fn disconnecting(&self, ws: WorkspaceId) -> anyhow::Result<bool> {
        Ok(self
            .storage
            .disconnect(ws)
            .await?
            .is_some_and(|d| d.status != domain::DisconnectStatus::Done))
    }

    /// The shop's categories and tags by name, for the Product Settings page; `None` when no
    /// shop is connected. Read live (two small listings), so a term made in the shop a moment
    /// ago is there.
    pub async fn shop_terms(&self, ws: WorkspaceId) -> anyhow::Result<Option<ShopTerms>> {
        let Some((_, client)) = self.shops.connected(ws).await? else {
            return Ok(None);
        };
        let (categories, tags) = tokio::try_join!(client.categories(), client.tags())
            .map_err(|e| anyhow::anyhow!(e.seller_message()))?;
        Ok(Some(ShopTerms { categories, tags }))
    }

    /// The channel's access token; `None` while the channel waits for its seller to reconnect
    /// (its flows are paused meanwhile).
    async fn channel_token(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> anyhow::Result<Option<Secret>> {
        match self.tokens.access_token(ws, channel).await {
            Ok(t) => Ok(Some(t)),
            Err(TokenError::ReauthorizationNeeded | TokenError::NotAuthorized) => Ok(None),
            Err(e) => Err(e.into()),
        }
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
    pub(super) async fn take_budget(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        op: Operation,
    ) -> anyhow::Result<Option<i64>> {
        self.slots.take(ws, channel, op).await
    }

    /// Mirakl answered 429: see [`crate::budgets::Slots::defer`].
    pub(super) async fn defer(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        op: Operation,
        retry_after: Option<std::time::Duration>,
    ) -> anyhow::Result<i64> {
        self.slots.defer(ws, channel, op, retry_after).await
    }

    /// Starts a sync run of `flow` (a name from [`crate::job::flow`]), for the dashboard.
    async fn start_run(
        &self,
        ws: WorkspaceId,
        channel: Option<ChannelId>,
        flow: &str,
    ) -> anyhow::Result<uuid::Uuid> {
        Ok(self
            .storage
            .start_sync_run(ws, channel, flow, now_ms())
            .await?)
    }

    /// Ends a run as failed, with the error as its message.
    pub(super) async fn fail_run(
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

    pub(super) async fn finish_run(
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

/// A problem to record against the item, unless it is the one already recorded.
fn new_problem(
    item: &CatalogItem,
    state: Option<&storage::ChannelItem>,
    message: String,
) -> Option<(String, String)> {
    let same = state.and_then(|s| s.error.as_deref()) == Some(message.as_str());
    (!same).then(|| (item.sku.as_str().to_owned(), message))
}
