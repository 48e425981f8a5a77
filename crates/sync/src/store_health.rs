//! The health of each connected store: one read every interval, so a store that stops
//! answering, or keys that were revoked, show on the dashboard with what to do; and the state
//! of the connector's webhooks there. A shop gives up on a webhook that keeps failing
//! (WooCommerce disables it, BigCommerce deactivates it after 48 hours of retries); the check
//! registers such webhooks again and reads the whole catalog, so what changed meanwhile is
//! not lost. Orders need no such read: each order import already reads the open shop orders
//! back.

use std::time::Duration;

use domain::{ShopHealth, ShopId, WorkspaceId};
use storage::{RegisteredWebhook, Storage, now_ms};

use crate::job::{CatalogRead, Job, Queue};
use crate::shop::Shops;

#[derive(Clone)]
pub struct StoreHealth {
    storage: Storage,
    shops: Shops,
    queue: Queue,
    /// How often each store is checked.
    pub interval: Duration,
}

impl StoreHealth {
    pub fn new(storage: Storage, shops: Shops, queue: Queue, interval: Duration) -> Self {
        Self {
            storage,
            shops,
            queue,
            interval,
        }
    }

    /// One read against the store; records what it says about the store's health, and the
    /// current state of our webhooks there.
    pub async fn check(&self, ws: WorkspaceId, shop: ShopId) -> anyhow::Result<ShopHealth> {
        let client = self.shops.client(ws, shop).await?;
        let platform = client.platform();
        let verdict = match client.verify().await {
            Ok(_) => (ShopHealth::Ok, None),
            Err(e) if e.keys_refused() => (ShopHealth::KeysRefused, Some(e.to_string())),
            Err(e) => (ShopHealth::Unreachable, Some(e.to_string())),
        };
        if verdict.0 == ShopHealth::Ok
            && let Ok(remote) = client.webhooks().await
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
            let given_up: Vec<&str> = refreshed
                .iter()
                .filter(|w| matches!(w.status.as_str(), "disabled" | "deleted"))
                .map(|w| w.topic.as_str())
                .collect();
            if !given_up.is_empty() {
                tracing::warn!(%ws, %shop, topics = ?given_up, "the store gave up on our webhooks: registering them again");
                self.shops
                    .renew_webhooks(ws, shop, platform, &client)
                    .await?;
                self.queue
                    .enqueue(ws, &Job::catalog_read(CatalogRead::Full))
                    .await?;
            }
        }
        self.storage
            .record_shop_health(ws, shop, verdict.0, verdict.1.as_deref(), now_ms())
            .await?;
        tracing::info!(%ws, %shop, health = verdict.0.as_str(), "shop health checked");
        Ok(verdict.0)
    }

    /// Queues a check of every store not checked within the interval. Returns how many.
    pub async fn schedule_due(&self) -> anyhow::Result<usize> {
        let checked_before = now_ms() - self.interval.as_millis() as i64;
        let due = self
            .storage
            .shops_due_for_health_check(checked_before, 500)
            .await?;
        let mut queued = 0;
        for (ws, shop) in due {
            if self.queue.enqueue(ws, &Job::shop_health(shop)).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }
}
