//! The worker: claims jobs from the lease queue and runs them. `serve` runs one unless told
//! not to; `worker` runs only this, for extra nodes on PostgreSQL.

use std::time::Duration;

use anyhow::Context as _;
use domain::{ChannelId, WorkspaceId};
use storage::{Job, NewJob, Storage, now_ms};
use tokio::sync::watch;
use uuid::Uuid;

use crate::catalog::{
    CATALOG_READ_FLOW, CHANNEL_EXPORT_FLOW, CatalogSync, IMPORT_FOLLOW_FLOW, RECONCILE_FLOW, Step,
};
use crate::disconnect::{DISCONNECT_FLOW, Disconnector};
use crate::shops::{SHOP_HEALTH_FLOW, SHOP_WEBHOOK_FLOW, ShopKeeper};
use crate::tokens::{REFRESH_FLOW, TokenError, TokenKeeper};

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// How often an idle worker looks for due work.
    pub poll_interval: Duration,
    /// How long a claimed job is ours before another worker may reclaim it.
    pub lease: Duration,
    /// A full read of the shop this long after the last one (webhooks bring the rest).
    pub catalog_interval: Duration,
    /// A reconciliation of each channel this long after the last one.
    pub reconcile_interval: Duration,
    /// Jobs run at once by [`Worker::run`]. Two jobs of one (workspace, flow) never run
    /// together whatever this is (the queue sees to it), so a shop read, the exports and the
    /// import follow-ups of one workspace overlap instead of queueing behind one another.
    pub concurrency: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(5),
            lease: Duration::from_secs(120),
            catalog_interval: Duration::from_secs(24 * 3600),
            reconcile_interval: Duration::from_secs(24 * 3600),
            concurrency: 4,
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    id: Uuid,
    storage: Storage,
    tokens: TokenKeeper,
    shops: ShopKeeper,
    catalog: CatalogSync,
    disconnect: Disconnector,
    config: WorkerConfig,
    /// When the periodic catalog work was last scheduled (it is checked once a minute).
    maintenance_at_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Worker {
    pub fn new(
        storage: Storage,
        tokens: TokenKeeper,
        shops: ShopKeeper,
        catalog: CatalogSync,
        disconnect: Disconnector,
        config: WorkerConfig,
    ) -> Self {
        Self {
            id: Uuid::new_v4(),
            storage,
            tokens,
            shops,
            catalog,
            disconnect,
            config,
            maintenance_at_ms: Default::default(),
        }
    }

    pub fn catalog(&self) -> &CatalogSync {
        &self.catalog
    }

    pub fn disconnector(&self) -> &Disconnector {
        &self.disconnect
    }

    /// Once a minute at most: a full read of each shop a day after the last one, and a
    /// reconciliation of each live channel a day after its last one (or its launch).
    pub async fn schedule_catalog_maintenance(&self) -> anyhow::Result<()> {
        use std::sync::atomic::Ordering;
        let now = now_ms();
        let last = self.maintenance_at_ms.load(Ordering::Relaxed);
        if now - last < 60_000 {
            return Ok(());
        }
        self.maintenance_at_ms.store(now, Ordering::Relaxed);
        for ws in self.storage.list_workspace_ids().await? {
            let Some(workspace) = self.storage.workspace(ws).await? else {
                continue;
            };
            let runs = self.storage.recent_sync_runs(ws, 200).await?;
            let last_run = |flow: &str, channel: Option<ChannelId>| {
                runs.iter()
                    .filter(|r| r.flow == flow && r.channel_id == channel)
                    .map(|r| r.started_at_ms)
                    .max()
            };
            if let Some(onboarded) = workspace.onboarded_at_ms {
                let since = last_run(CATALOG_READ_FLOW, None)
                    .unwrap_or(onboarded)
                    .max(onboarded);
                if now - since > self.config.catalog_interval.as_millis() as i64 {
                    self.catalog.enqueue_read(ws, true).await?;
                }
            }
            for c in self.storage.list_channels(ws).await? {
                let Some(launched) = c
                    .launched_at_ms
                    .filter(|_| c.status == domain::ChannelStatus::Live)
                else {
                    continue;
                };
                let since = last_run(RECONCILE_FLOW, Some(c.id))
                    .unwrap_or(launched)
                    .max(launched);
                if now - since > self.config.reconcile_interval.as_millis() as i64 {
                    self.catalog
                        .enqueue_channel(ws, RECONCILE_FLOW, c.id)
                        .await?;
                }
            }
        }
        Ok(())
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
        self.finish(&job).await?;
        Ok(true)
    }

    /// Runs a claimed job and records how it ended.
    async fn finish(&self, job: &Job) -> anyhow::Result<()> {
        match self.execute(job).await {
            Ok(Step::Done) => {
                self.storage.complete_job(job.id, self.id, now_ms()).await?;
            }
            Ok(Step::RunAgainAt(at)) => {
                // Not a failure: a budget slot or an import still running.
                self.storage
                    .release_job(job.id, self.id, at, now_ms())
                    .await?;
            }
            Err(e) => {
                tracing::warn!(job = %job.id, flow = %job.flow, error = %format!("{e:#}"), "job failed");
                self.storage
                    .fail_job(job.id, self.id, &format!("{e:#}"), now_ms())
                    .await?;
            }
        }
        Ok(())
    }

    /// Return expired leases, drop expired sessions and authorizations, schedule due work.
    async fn housekeeping(&self) -> anyhow::Result<()> {
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
        self.schedule_catalog_maintenance().await?;
        Ok(())
    }

    /// One pass: housekeeping, then every job that is due now, one after the other.
    /// Tests call this to drain the queue instead of sleeping.
    pub async fn tick(&self) -> anyhow::Result<usize> {
        self.housekeeping().await?;
        let mut ran = 0;
        while self.run_one().await? {
            ran += 1;
        }
        Ok(ran)
    }

    /// Runs until `shutdown` turns true: up to `concurrency` jobs at once, each started as
    /// soon as it is due — at once when this process queues it, at its time when it waits for
    /// a budget slot — and by polling for what other processes queue.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, concurrency = self.config.concurrency, "worker started");
        let mut events = self.storage.job_events();
        let mut running = tokio::task::JoinSet::new();
        let mut housekept_at: Option<tokio::time::Instant> = None;
        loop {
            if housekept_at.is_none_or(|at| at.elapsed() >= self.config.poll_interval) {
                housekept_at = Some(tokio::time::Instant::now());
                if let Err(e) = self.housekeeping().await {
                    tracing::error!(error = %format!("{e:#}"), "worker housekeeping failed");
                }
            }
            // Mark what has been seen before claiming, so a job queued during the claims
            // wakes the wait below.
            events.borrow_and_update();
            while running.len() < self.config.concurrency.max(1) {
                let claimed = self
                    .storage
                    .claim_job(self.id, now_ms(), self.config.lease.as_millis() as i64)
                    .await;
                match claimed {
                    Ok(Some(job)) => {
                        let worker = self.clone();
                        running.spawn(async move {
                            if let Err(e) = worker.finish(&job).await {
                                tracing::error!(job = %job.id, error = %format!("{e:#}"), "recording a job's end failed");
                            }
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "claiming a job failed");
                        break;
                    }
                }
            }
            let wait = self.until_next_due().await;
            tokio::select! {
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = events.changed() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break,
            }
        }
        // Let the jobs under way end and record their outcome; a stop mid-job would leave
        // them to the lease reaper.
        while running.join_next().await.is_some() {}
        tracing::info!(worker = %self.id, "worker stopped");
    }

    /// How long to sleep: until the next queued job's time when that comes before the next
    /// poll. A job already due waits for its flow's turn, which an event announces.
    async fn until_next_due(&self) -> Duration {
        let poll = self.config.poll_interval;
        match self.storage.next_job_due_ms().await {
            Ok(Some(at)) if at > now_ms() => {
                poll.min(Duration::from_millis((at - now_ms()).max(0) as u64))
            }
            _ => poll,
        }
    }

    async fn execute(&self, job: &Job) -> anyhow::Result<Step> {
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
                    | Err(TokenError::NotAuthorized) => Ok(Step::Done),
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
                self.shops.check_health(ws, shop).await.map(|_| Step::Done)
            }
            SHOP_WEBHOOK_FLOW => {
                let ws = job
                    .workspace_id
                    .context("a webhook job names its workspace")?;
                let inbox: Uuid = job.payload["inbox_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .context("a webhook job names its delivery")?;
                if let Some(entry) = self.shops.pending_webhook(ws, inbox).await? {
                    // A variation's event names the variation; its product is what is read.
                    let parent = serde_json::from_str::<serde_json::Value>(&entry.body)
                        .ok()
                        .and_then(|body| body["parent_id"].as_i64())
                        .filter(|id| *id > 0);
                    // A delivery is a hint, never the truth: a signed body can be replayed
                    // under a new delivery id. It only names the product to read; what the
                    // shop answers for it (deleted included) is what reaches Mirakl. Reads of
                    // the products named coalesce with the events that arrive meanwhile.
                    let product_event = entry.topic.starts_with("product.");
                    match (product_event, entry.resource_id, parent) {
                        (true, Some(id), parent) => {
                            self.catalog
                                .product_changed(ws, entry.shop_id, parent.unwrap_or(id))
                                .await?
                        }
                        // An event that names nothing: what changed lately.
                        (true, None, _) => self.catalog.enqueue_read(ws, false).await?,
                        // Orders come from Mirakl (F5); the shop's order events are not used yet.
                        (false, _, _) => {}
                    }
                    self.shops.webhook_processed(ws, inbox).await?;
                }
                Ok(Step::Done)
            }
            CATALOG_READ_FLOW => {
                let ws = job
                    .workspace_id
                    .context("a catalog read names its workspace")?;
                if job.payload["changes"].as_bool() == Some(true) {
                    return self.catalog.read_changes(ws).await;
                }
                let full = job.payload["full"].as_bool().unwrap_or(false);
                self.catalog.read_shop(ws, full).await
            }
            CHANNEL_EXPORT_FLOW | IMPORT_FOLLOW_FLOW | RECONCILE_FLOW => {
                let ws = job
                    .workspace_id
                    .context("a channel job names its workspace")?;
                let channel: ChannelId = serde_json::from_value(job.payload["channel_id"].clone())
                    .context("a channel job names its channel")?;
                match job.flow.as_str() {
                    CHANNEL_EXPORT_FLOW => {
                        let delta = job.payload["delta"].as_bool().unwrap_or(false);
                        self.catalog.export(ws, channel, delta).await
                    }
                    IMPORT_FOLLOW_FLOW => self.catalog.follow_imports(ws, channel).await,
                    _ => self.catalog.reconcile(ws, channel).await,
                }
            }
            DISCONNECT_FLOW => {
                let ws = job
                    .workspace_id
                    .context("a disconnect names its workspace")?;
                self.disconnect.run(ws).await
            }
            other => anyhow::bail!("unknown job flow {other:?}"),
        }
    }
}
