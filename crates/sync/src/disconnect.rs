//! F6, Disconnect: apply the seller's catalog choice on every channel, remove the connector's
//! webhooks from the shop, revoke the Mirakl grants, then delete every row of the workspace
//! but the seller's login.
//!
//! It is one job that moves through steps recorded in the database, so a restart resumes where
//! it stopped, and each step can run twice without harm (sending stock 0 twice, deleting a
//! deleted offer or a deleted webhook, revoking a revoked token are all harmless). A step that
//! fails stops the job with what to do; the seller can retry it, or force the local deletion.

use domain::{
    ChannelKind, DisconnectChoice, DisconnectStatus, ItemState, ShopPlatform, WorkspaceId,
};
use mirakl::connect::ConnectError;
use mirakl::marketplace::{Credential, ImportMode, MarketplaceError};
use mirakl::mas::MasClient;
use mirakl::offers_file::{UpdateDelete, write_offers_csv};
use storage::{CatalogRow, Channel, Storage, now_ms};

use crate::budgets::Operation;
use crate::catalog::{CatalogSync, offer_line};
use crate::job::{Job, Queue, Step};
use crate::shop::Shops;
use crate::tokens::TokenKeeper;

/// The steps, in order; each name is what the progress page shows.
pub const STEPS: [(&str, &str); 5] = [
    ("catalog", "Applying your choice to the catalog on Mirakl"),
    ("imports", "Waiting for Mirakl to apply it"),
    ("shop", "Removing Marketbridge's webhooks from your store"),
    ("tokens", "Revoking Marketbridge's access to Mirakl"),
    ("wipe", "Deleting Marketbridge's data"),
];

#[derive(Clone)]
pub struct Disconnector {
    storage: Storage,
    catalog: CatalogSync,
    shops: Shops,
    tokens: TokenKeeper,
    mas: MasClient,
    queue: Queue,
}

impl Disconnector {
    pub fn new(
        storage: Storage,
        catalog: CatalogSync,
        shops: Shops,
        tokens: TokenKeeper,
        mas: MasClient,
        queue: Queue,
    ) -> Self {
        Self {
            storage,
            catalog,
            shops,
            tokens,
            mas,
            queue,
        }
    }

    /// Queues the Disconnect's job (at most one runs and one waits).
    pub async fn enqueue(&self, ws: WorkspaceId) -> anyhow::Result<()> {
        self.queue.enqueue(ws, &Job::disconnect()).await?;
        Ok(())
    }

    /// Runs the disconnect from its recorded step until it is done, waits, or a step fails.
    pub async fn run(&self, ws: WorkspaceId) -> anyhow::Result<Step> {
        loop {
            let Some(d) = self.storage.disconnect(ws).await? else {
                return Ok(Step::Done);
            };
            if d.status != DisconnectStatus::Running {
                return Ok(Step::Done);
            }
            if d.step == storage::DISCONNECT_FIRST_STEP {
                self.storage
                    .set_disconnect_step(ws, STEPS[0].0, now_ms())
                    .await?;
                continue;
            }
            let channels: Vec<Channel> = self
                .storage
                .list_channels(ws)
                .await?
                .into_iter()
                .filter(|c| d.channel_id.is_none_or(|only| only == c.id))
                .collect();
            let outcome = match (d.step.as_str(), d.forced) {
                // Forced: the seller chose to delete locally whatever the remote systems say.
                ("catalog" | "imports" | "shop", true) => Ok(Progress::Next),
                ("catalog", false) => self.apply_choice(ws, &channels, d.choice).await,
                ("imports", false) => self.wait_for_imports(ws, &channels).await,
                ("shop", false) if d.channel_id.is_some() => Ok(Progress::Next),
                ("shop", false) => self.remove_webhooks(ws).await,
                ("tokens", _) => {
                    self.revoke(ws, &channels).await;
                    Ok(Progress::Next)
                }
                ("wipe", _) => {
                    match d.channel_id {
                        Some(channel) => {
                            self.storage
                                .delete_channel_data(ws, channel, now_ms())
                                .await?;
                            self.storage.finish_disconnect(ws, now_ms()).await?;
                        }
                        None => {
                            self.storage
                                .delete_workspace_data(ws, d.choice, now_ms())
                                .await?;
                        }
                    }
                    tracing::info!(%ws, choice = d.choice.as_str(), "disconnected");
                    return Ok(Step::Done);
                }
                (other, _) => Err(format!("unknown disconnect step {other:?}")),
            };
            match outcome {
                Ok(Progress::Next) => {
                    let next = STEPS
                        .iter()
                        .position(|(s, _)| *s == d.step)
                        .and_then(|i| STEPS.get(i + 1))
                        .map(|(s, _)| *s)
                        .unwrap_or("wipe");
                    self.storage.set_disconnect_step(ws, next, now_ms()).await?;
                }
                Ok(Progress::WaitUntil(at)) => return Ok(Step::RunAgainAt(at)),
                Err(message) => {
                    tracing::warn!(%ws, step = %d.step, %message, "disconnect step failed");
                    self.storage.fail_disconnect(ws, &message, now_ms()).await?;
                    return Ok(Step::Done);
                }
            }
        }
    }

    /// Keep: nothing. Deactivate: every offer and product the channel has gets stock 0.
    /// Delete: every one is deleted. Only what the channel received is touched.
    async fn apply_choice(
        &self,
        ws: WorkspaceId,
        channels: &[Channel],
        choice: DisconnectChoice,
    ) -> Result<Progress, String> {
        if choice == DisconnectChoice::Keep {
            return Ok(Progress::Next);
        }
        for channel in channels.iter().filter(|c| c.status.is_authorized()) {
            let skus = self.skus_on(ws, channel).await.map_err(|e| e.to_string())?;
            if skus.is_empty() {
                continue;
            }
            let token = self
                .tokens
                .access_token(ws, channel.id)
                .await
                .map_err(|e| {
                    format!(
                        "{}: {e}. Reconnect the channel and retry, or delete locally.",
                        channel.name
                    )
                })?;
            let progress = match channel.kind {
                ChannelKind::Marketplace => {
                    self.marketplace_choice(ws, channel, token.expose(), &skus, choice)
                        .await
                }
                ChannelKind::MiraklConnect => {
                    self.connect_choice(ws, channel, token.expose(), &skus, choice)
                        .await
                }
            }?;
            if let Progress::WaitUntil(_) = progress {
                return Ok(progress);
            }
            self.storage
                .mark_removed(ws, channel.id, &skus, now_ms())
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(Progress::Next)
    }

    /// The SKUs the channel holds (received, live, or refused but present).
    async fn skus_on(&self, ws: WorkspaceId, channel: &Channel) -> anyhow::Result<Vec<String>> {
        let mut skus = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .storage
                .channel_items_page(ws, channel.id, after.as_deref(), 1000)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.sku.clone());
            skus.extend(
                page.into_iter()
                    .filter(|i| matches!(i.state, ItemState::Live | ItemState::Sent))
                    .map(|i| i.sku),
            );
        }
        Ok(skus)
    }

    async fn rows(&self, ws: WorkspaceId, skus: &[String]) -> anyhow::Result<Vec<CatalogRow>> {
        let mut rows = Vec::with_capacity(skus.len());
        let mut after: Option<String> = None;
        loop {
            let page = self
                .storage
                .catalog_page(ws, after.as_deref(), 1000, true)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.sku.clone());
            rows.extend(
                page.into_iter()
                    .filter(|r| skus.binary_search(&r.sku).is_ok()),
            );
        }
        Ok(rows)
    }

    async fn marketplace_choice(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        token: &str,
        skus: &[String],
        choice: DisconnectChoice,
    ) -> Result<Progress, String> {
        let instance = channel
            .instance_url
            .clone()
            .ok_or("a marketplace channel without its address")?;
        let mut sorted = skus.to_vec();
        sorted.sort();
        let settings = self
            .catalog
            .settings_for(ws, channel.id)
            .await
            .map_err(|e| e.to_string())?;
        let lines: Vec<_> = match choice {
            DisconnectChoice::Delete => sorted
                .iter()
                .map(|sku| crate::catalog::delete_line(sku))
                .collect(),
            _ => self
                .rows(ws, &sorted)
                .await
                .map_err(|e| e.to_string())?
                .iter()
                .filter_map(|row| row.item().ok())
                .filter_map(|item| domain::catalog::offer_for(&item, &settings, now_ms()).ok())
                .map(|offer| offer_line(offer.without_stock(), UpdateDelete::Update))
                .collect(),
        };
        if let Some(at) = self
            .catalog
            .take_budget_for(ws, channel.id, Operation::OfferFile)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(Progress::WaitUntil(at));
        }
        let mut csv = Vec::new();
        write_offers_csv(lines.iter().cloned(), &mut csv).map_err(|e| e.to_string())?;
        match self
            .catalog
            .marketplace()
            .import_offers(
                &instance,
                Credential::Bearer(token),
                channel.store_id,
                csv,
                ImportMode::Normal,
            )
            .await
        {
            Ok(id) => {
                self.storage
                    .record_import(
                        ws,
                        channel.id,
                        id.as_str(),
                        "OF01",
                        lines.len() as i32,
                        now_ms(),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Progress::Next)
            }
            Err(MarketplaceError::RateLimited { retry_after }) => Ok(Progress::WaitUntil(
                now_ms() + retry_after.map_or(60_000, |d| d.as_millis() as i64),
            )),
            Err(e) if e.is_retryable() => Ok(Progress::WaitUntil(now_ms() + 30_000)),
            Err(e) => Err(format!(
                "{} refused the change: {e}. Retry, or delete locally.",
                channel.name
            )),
        }
    }

    async fn connect_choice(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        token: &str,
        skus: &[String],
        choice: DisconnectChoice,
    ) -> Result<Progress, String> {
        let settings = self
            .catalog
            .settings_for(ws, channel.id)
            .await
            .map_err(|e| e.to_string())?;
        let mut sorted = skus.to_vec();
        sorted.sort();
        for batch in sorted.chunks(crate::catalog::CONNECT_BATCH) {
            if let Some(at) = self
                .catalog
                .take_budget_for(ws, channel.id, Operation::ConnectUpsert)
                .await
                .map_err(|e| e.to_string())?
            {
                return Ok(Progress::WaitUntil(at));
            }
            let result = match choice {
                DisconnectChoice::Delete => {
                    self.catalog.connect().delete_products(token, batch).await
                }
                _ => {
                    let rows = self.rows(ws, batch).await.map_err(|e| e.to_string())?;
                    let products: Vec<serde_json::Value> = rows
                        .iter()
                        .filter_map(|row| row.item().ok())
                        .filter_map(|item| {
                            domain::catalog::connect_product_for(&item, &settings, now_ms()).ok()
                        })
                        .map(|mut p| {
                            p.set_available_quantity(0);
                            p
                        })
                        .filter_map(|p| serde_json::to_value(p).ok())
                        .collect();
                    self.catalog
                        .connect()
                        .upsert_products(token, &products)
                        .await
                }
            };
            match result {
                Ok(()) => {}
                Err(ConnectError::RateLimited { retry_after }) => {
                    return Ok(Progress::WaitUntil(
                        now_ms() + retry_after.map_or(60_000, |d| d.as_millis() as i64),
                    ));
                }
                Err(e) if e.is_retryable() => return Ok(Progress::WaitUntil(now_ms() + 30_000)),
                Err(e) => {
                    return Err(format!(
                        "Mirakl Connect refused the change: {e}. Retry, or delete locally."
                    ));
                }
            }
        }
        Ok(Progress::Next)
    }

    /// Marketplace imports sent by the catalog step are followed to their end.
    async fn wait_for_imports(
        &self,
        ws: WorkspaceId,
        channels: &[Channel],
    ) -> Result<Progress, String> {
        for channel in channels
            .iter()
            .filter(|c| c.kind == ChannelKind::Marketplace)
        {
            if self
                .storage
                .open_imports(ws, channel.id)
                .await
                .map_err(|e| e.to_string())?
                .is_empty()
            {
                continue;
            }
            match self
                .catalog
                .follow_imports(ws, channel.id)
                .await
                .map_err(|e| e.to_string())?
            {
                Step::RunAgainAt(at) => return Ok(Progress::WaitUntil(at)),
                Step::Done => {
                    if !self
                        .storage
                        .open_imports(ws, channel.id)
                        .await
                        .map_err(|e| e.to_string())?
                        .is_empty()
                    {
                        return Ok(Progress::WaitUntil(now_ms()));
                    }
                }
            }
        }
        Ok(Progress::Next)
    }

    /// Deletes every webhook Marketbridge registered on the store. WooCommerce offers no API
    /// to delete an API key, so the key itself is left for the seller to revoke (the success
    /// page says where).
    async fn remove_webhooks(&self, ws: WorkspaceId) -> Result<Progress, String> {
        let Some(shop) = self.storage.get_shop(ws).await.map_err(|e| e.to_string())? else {
            return Ok(Progress::Next);
        };
        let client = self
            .shops
            .client(ws, shop.id)
            .await
            .map_err(|e| e.to_string())?;
        for webhook in self
            .storage
            .shop_webhooks(ws, shop.id)
            .await
            .map_err(|e| e.to_string())?
        {
            match client.remove_webhook(webhook.remote_id).await {
                Ok(()) => {}
                // An uninstalled app's token is refused, and BigCommerce deletes the app's hooks
                // with it: nothing is left to remove.
                Err(e) if e.keys_refused() && shop.platform == ShopPlatform::BigCommerce => {
                    return Ok(Progress::Next);
                }
                Err(e) => {
                    return Err(match shop.platform {
                        ShopPlatform::WooCommerce => format!(
                            "Your WooCommerce store did not let Marketbridge remove its webhooks ({}). Check that the store is online and retry, or delete locally and remove the webhooks named “Marketbridge …” in WooCommerce → Settings → Advanced → Webhooks.",
                            e.seller_message()
                        ),
                        ShopPlatform::BigCommerce => format!(
                            "Your BigCommerce store did not let Marketbridge remove its webhooks ({}). Retry, or delete locally: uninstalling the Marketbridge app in BigCommerce removes them too.",
                            e.seller_message()
                        ),
                    });
                }
            }
        }
        Ok(Progress::Next)
    }

    /// Best effort: a grant that cannot be revoked dies with its tokens, which are deleted next.
    async fn revoke(&self, ws: WorkspaceId, channels: &[Channel]) {
        for channel in channels {
            if let Ok(Some(stored)) = self.storage.load_tokens(ws, channel.id).await {
                let token = stored
                    .tokens
                    .refresh_token
                    .unwrap_or(stored.tokens.access_token);
                if let Err(e) = self.mas.revoke(token.expose()).await {
                    tracing::info!(%ws, channel = %channel.id, error = %e, "token not revoked; it is deleted anyway");
                }
            }
        }
    }
}

enum Progress {
    Next,
    WaitUntil(i64),
}
