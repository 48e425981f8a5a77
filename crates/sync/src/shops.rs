//! The shop side of the background work: health checks of each connected store (so a store
//! that stops answering, or keys that were revoked, show on the dashboard with what to do) and
//! the processing of stored webhook deliveries.

use std::time::Duration;

use domain::WorkspaceId;
use shops::woocommerce::{ConsumerSecret, Credentials, StoreUrl, WooClient, WooError};
use storage::{InboxEntry, RegisteredWebhook, ShopHealth, ShopId, Storage, now_ms};
use uuid::Uuid;

/// The flow of the job that processes one stored webhook delivery.
pub const SHOP_WEBHOOK_FLOW: &str = "shop_webhook";
/// The flow of the job that checks one store's health.
pub const SHOP_HEALTH_FLOW: &str = "shop_health";

#[derive(Clone)]
pub struct ShopKeeper {
    storage: Storage,
    http: shops::ShopHttp,
    /// How often each store is checked.
    pub health_interval: Duration,
}

impl ShopKeeper {
    pub fn new(storage: Storage, http: shops::ShopHttp, health_interval: Duration) -> Self {
        Self {
            storage,
            http,
            health_interval,
        }
    }

    /// A client for the workspace's store, with its keys unsealed.
    pub async fn client(&self, ws: WorkspaceId, shop: ShopId) -> anyhow::Result<WooClient> {
        let record = self
            .storage
            .get_shop(ws)
            .await?
            .filter(|s| s.id == shop)
            .ok_or_else(|| anyhow::anyhow!("the shop is no longer connected"))?;
        let secrets = self.storage.shop_secrets(ws, shop).await?;
        let store = StoreUrl::parse(&record.store_url)
            .map_err(|e| anyhow::anyhow!("stored store URL: {e}"))?;
        let credentials = Credentials {
            consumer_key: secrets.consumer_key.expose().to_owned(),
            consumer_secret: ConsumerSecret::new(secrets.consumer_secret.expose().to_owned()),
        };
        Ok(WooClient::new(store, credentials, self.http.clone()))
    }

    /// One read against the store; records what it says about the store's health, and the
    /// current state of our webhooks there (WooCommerce disables one after repeated failures).
    pub async fn check_health(&self, ws: WorkspaceId, shop: ShopId) -> anyhow::Result<ShopHealth> {
        let client = self.client(ws, shop).await?;
        let verdict = match client.verify().await {
            Ok(_) => (ShopHealth::Ok, None),
            Err(e @ (WooError::Unauthorized(_) | WooError::Forbidden(_))) => {
                (ShopHealth::KeysRefused, Some(e.to_string()))
            }
            Err(e) => (ShopHealth::Unreachable, Some(e.to_string())),
        };
        if verdict.0 == ShopHealth::Ok
            && let Ok(remote) = client.list_webhooks().await
        {
            let ours = self.storage.shop_webhooks(ws, shop).await?;
            let refreshed: Vec<RegisteredWebhook> = ours
                .into_iter()
                .map(|mut w| {
                    w.status = remote
                        .iter()
                        .find(|r| r.id == w.remote_id)
                        .map(|r| r.status.clone())
                        .unwrap_or_else(|| "deleted".to_owned());
                    w
                })
                .collect();
            self.storage
                .set_shop_webhooks(ws, shop, &refreshed, now_ms())
                .await?;
        }
        self.storage
            .record_shop_health(ws, shop, verdict.0, verdict.1.as_deref(), now_ms())
            .await?;
        tracing::info!(%ws, %shop, health = verdict.0.as_str(), "shop health checked");
        Ok(verdict.0)
    }

    /// The stored delivery, unless it was already processed.
    pub async fn pending_webhook(
        &self,
        ws: WorkspaceId,
        inbox_id: Uuid,
    ) -> anyhow::Result<Option<InboxEntry>> {
        Ok(self
            .storage
            .get_incoming_webhook(ws, inbox_id)
            .await?
            .filter(|e| e.processed_at_ms.is_none()))
    }

    pub async fn webhook_processed(&self, ws: WorkspaceId, inbox_id: Uuid) -> anyhow::Result<()> {
        self.storage
            .mark_webhook_processed(ws, inbox_id, now_ms())
            .await?;
        Ok(())
    }
}
