//! The worker: claims jobs from the lease queue and runs them. `serve` runs one unless told
//! not to; `worker` runs only this, for extra nodes on PostgreSQL.

use std::time::Duration;

use anyhow::Context as _;
use domain::{ChannelId, WorkspaceId};
use storage::{Job, NewJob, Storage, now_ms};
use tokio::sync::watch;
use uuid::Uuid;

use crate::shops::{SHOP_HEALTH_FLOW, SHOP_WEBHOOK_FLOW, ShopKeeper};
use crate::tokens::{REFRESH_FLOW, TokenError, TokenKeeper};

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// How often an idle worker looks for due work.
    pub poll_interval: Duration,
    /// How long a claimed job is ours before another worker may reclaim it.
    pub lease: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(5),
            lease: Duration::from_secs(120),
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    id: Uuid,
    storage: Storage,
    tokens: TokenKeeper,
    shops: ShopKeeper,
    config: WorkerConfig,
}

impl Worker {
    pub fn new(
        storage: Storage,
        tokens: TokenKeeper,
        shops: ShopKeeper,
        config: WorkerConfig,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            storage,
            tokens,
            shops,
            config,
        }
    }

    /// Puts a health check in the queue for every store not checked within the interval.
    pub async fn schedule_shop_health_checks(&self) -> anyhow::Result<usize> {
        let checked_before = now_ms() - self.shops.health_interval.as_millis() as i64;
        let due = self
            .storage
            .shops_due_for_health_check(checked_before, 500)
            .await?;
        let mut queued = 0;
        for (ws, shop) in due {
            let job = NewJob {
                workspace_id: Some(ws),
                flow: SHOP_HEALTH_FLOW.to_owned(),
                payload: serde_json::json!({ "shop_id": shop.to_string() }),
                dedupe_key: Some(format!("{SHOP_HEALTH_FLOW}:{shop}")),
                run_at_ms: now_ms(),
                max_attempts: 3,
            };
            if self.storage.enqueue_job(&job).await?.is_some() {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Puts a refresh job in the queue for every channel whose token lapses within the margin.
    /// The dedupe key keeps one live job per channel however often this runs.
    pub async fn schedule_due_refreshes(&self) -> anyhow::Result<usize> {
        let before = now_ms() + self.tokens.margin().as_millis() as i64;
        let due = self.storage.channels_due_for_refresh(before, 500).await?;
        let mut queued = 0;
        for (ws, channel) in due {
            let job = NewJob {
                workspace_id: Some(ws),
                flow: REFRESH_FLOW.to_owned(),
                payload: serde_json::json!({ "channel_id": channel }),
                dedupe_key: Some(format!("{REFRESH_FLOW}:{channel}")),
                run_at_ms: now_ms(),
                max_attempts: 8,
            };
            if self.storage.enqueue_job(&job).await?.is_some() {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Claims and runs one job. Returns false when nothing was due.
    pub async fn run_one(&self) -> anyhow::Result<bool> {
        let Some(job) = self
            .storage
            .claim_job(self.id, now_ms(), self.config.lease.as_millis() as i64)
            .await?
        else {
            return Ok(false);
        };
        match self.execute(&job).await {
            Ok(()) => {
                self.storage.complete_job(job.id, self.id, now_ms()).await?;
            }
            Err(e) => {
                tracing::warn!(job = %job.id, flow = %job.flow, error = %format!("{e:#}"), "job failed");
                self.storage
                    .fail_job(job.id, self.id, &format!("{e:#}"), now_ms())
                    .await?;
            }
        }
        Ok(true)
    }

    /// One pass: return expired leases, drop expired sessions and authorizations, schedule due
    /// work, run every job that is due now.
    /// Tests call this to drain the queue instead of sleeping.
    pub async fn tick(&self) -> anyhow::Result<usize> {
        let now = now_ms();
        self.storage.reap_expired_leases(now).await?;
        // Housekeeping: expired sessions and abandoned authorizations are dead weight.
        self.storage.delete_expired_sessions(now).await?;
        self.storage
            .delete_expired_pending_shop_authorizations(now - 24 * 3600 * 1000)
            .await?;
        // Authorizations are kept a day past expiry, so a late callback is told "expired" or
        // "already used" rather than "unknown".
        self.storage
            .delete_expired_pending_authorizations(now - 24 * 3600 * 1000)
            .await?;
        self.schedule_due_refreshes().await?;
        self.schedule_shop_health_checks().await?;
        let mut ran = 0;
        while self.run_one().await? {
            ran += 1;
        }
        Ok(ran)
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "worker started");
        loop {
            if let Err(e) = self.tick().await {
                tracing::error!(error = %format!("{e:#}"), "worker pass failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                _ = shutdown.changed() => break,
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }

    async fn execute(&self, job: &Job) -> anyhow::Result<()> {
        match job.flow.as_str() {
            REFRESH_FLOW => {
                let ws: WorkspaceId = job
                    .workspace_id
                    .context("a refresh job names its workspace")?;
                let channel: ChannelId = serde_json::from_value(job.payload["channel_id"].clone())
                    .context("a refresh job names its channel")?;
                match self.tokens.refresh(ws, channel).await {
                    // A refused grant is recorded on the channel; retrying cannot help.
                    Ok(_)
                    | Err(TokenError::ReauthorizationNeeded)
                    | Err(TokenError::NotAuthorized) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
            SHOP_HEALTH_FLOW => {
                let ws = job
                    .workspace_id
                    .context("a health check names its workspace")?;
                let shop = job.payload["shop_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .context("a health check names its shop")?;
                self.shops.check_health(ws, shop).await.map(|_| ())
            }
            SHOP_WEBHOOK_FLOW => {
                let ws = job
                    .workspace_id
                    .context("a webhook job names its workspace")?;
                let inbox: Uuid = job.payload["inbox_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .context("a webhook job names its delivery")?;
                self.shops.process_webhook(ws, inbox).await
            }
            other => anyhow::bail!("unknown job flow {other:?}"),
        }
    }
}
