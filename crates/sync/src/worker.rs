//! The worker: claims jobs from the lease queue and runs them. `serve` runs one unless told
//! not to; `worker` runs only this, for extra nodes on PostgreSQL.

use std::time::{Duration, Instant};

use domain::{ChannelId, JobId, WorkspaceId};
use storage::{Storage, now_ms};
use tokio::sync::watch;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::Flows;
use crate::job::{CatalogRead, Job, JobError, Step, flow};

/// Counter: job runs started, by `flow`.
pub const JOBS_STARTED: &str = "marketbridge_jobs_started_total";
/// Histogram: how long job runs took, by `flow` and `outcome` (`done`, `again`: back later for
/// a budget slot or an import still running, `failed`: retried later or dead).
pub const JOB_DURATION: &str = "marketbridge_jobs_duration_seconds";

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
    /// together whatever this is (the queue sees to it; for order steps, two of one order), so
    /// a shop read, the exports, the import follow-ups and the steps of different orders of
    /// one workspace overlap instead of queueing behind one another.
    pub concurrency: usize,
    /// How long the jobs under way get to end once the worker is told to stop. Those still
    /// running then are stopped and handed back to the queue, so a stop takes about this long
    /// at most (8 s by default: within the 10 s an orchestrator usually allows).
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(5),
            lease: Duration::from_secs(120),
            catalog_interval: Duration::from_secs(24 * 3600),
            reconcile_interval: Duration::from_secs(24 * 3600),
            concurrency: 4,
            shutdown_grace: Duration::from_secs(8),
        }
    }
}

/// Runs `work` for the job claimed by `worker`, renewing the job's lease every third of
/// `lease` until it ends, so that a long job (a poll paging through a thousand orders, an
/// export waiting for its budget slots) is never taken for a crashed one and run a second
/// time beside itself. Should the lease be lost all the same (this process stalled longer than
/// a lease), it says so; the work goes on, every effect being reserved in storage first, and
/// its end is then not recorded (`complete_job` and the like find the lease gone).
pub async fn holding_lease<T>(
    storage: &Storage,
    job: JobId,
    worker: Uuid,
    lease: Duration,
    work: impl Future<Output = T>,
) -> T {
    let every = (lease / 3).max(Duration::from_millis(10));
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut held = true;
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = beat.tick(), if held => {
                let until = now_ms() + lease.as_millis() as i64;
                match storage.heartbeat_job(job, worker, until).await {
                    Ok(true) => {}
                    Ok(false) => {
                        held = false;
                        tracing::warn!(%job, "job lease lost: another worker may run it too");
                    }
                    Err(e) => {
                        tracing::warn!(%job, error = %e, "renewing a job's lease failed");
                    }
                }
            }
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    id: Uuid,
    storage: Storage,
    flows: Flows,
    config: WorkerConfig,
    /// When the periodic catalog work was last scheduled (it is checked once a minute).
    maintenance_at_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Worker {
    pub fn new(storage: Storage, flows: Flows, config: WorkerConfig) -> Self {
        Self {
            id: Uuid::new_v4(),
            storage,
            flows,
            config,
            maintenance_at_ms: Default::default(),
        }
    }

    /// The flows this worker runs.
    pub fn flows(&self) -> &Flows {
        &self.flows
    }

    pub fn catalog(&self) -> &crate::CatalogSync {
        &self.flows.catalog
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
            let last_run = |flow_name: &str, channel: Option<ChannelId>| {
                runs.iter()
                    .filter(|r| r.flow == flow_name && r.channel_id == channel)
                    .map(|r| r.started_at_ms)
                    .max()
            };
            if let Some(onboarded) = workspace.onboarded_at_ms {
                let since = last_run(flow::CATALOG_READ, None)
                    .unwrap_or(onboarded)
                    .max(onboarded);
                if now - since > self.config.catalog_interval.as_millis() as i64 {
                    self.flows
                        .catalog
                        .enqueue_read(ws, CatalogRead::Full)
                        .await?;
                }
            }
            for c in self.storage.list_channels(ws).await? {
                let Some(launched) = c
                    .launched_at_ms
                    .filter(|_| c.status == domain::ChannelStatus::Live)
                else {
                    continue;
                };
                let since = last_run(flow::RECONCILE, Some(c.id))
                    .unwrap_or(launched)
                    .max(launched);
                if now - since > self.config.reconcile_interval.as_millis() as i64 {
                    self.flows.queue.enqueue(ws, &Job::reconcile(c.id)).await?;
                }
            }
        }
        Ok(())
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

    /// [`Self::finish_job`] in the job's span: every line it logs carries the job's id (as
    /// `request_id`, the field HTTP requests' lines use too), its flow and its workspace.
    async fn finish(&self, job: &storage::Job) -> anyhow::Result<()> {
        let span = tracing::info_span!(
            "job",
            request_id = %job.id,
            flow = %job.flow,
            workspace = tracing::field::Empty
        );
        if let Some(ws) = job.workspace_id {
            span.record("workspace", tracing::field::display(ws));
        }
        self.finish_job(job).instrument(span).await
    }

    /// Runs a claimed job and records how it ended. A job that can never run (its payload no
    /// longer reads) goes straight to the dead letter, saying why.
    async fn finish_job(&self, job: &storage::Job) -> anyhow::Result<()> {
        let typed = Job::from_stored(&job.flow, &job.payload).and_then(|typed| {
            job.workspace_id
                .map(|ws| (ws, typed))
                .ok_or(JobError::NoWorkspace {
                    flow: job.flow.clone(),
                })
        });
        let (ws, typed) = match typed {
            Ok(typed) => typed,
            Err(e) => {
                tracing::error!(job = %job.id, flow = %job.flow, error = %e, "job buried");
                self.storage
                    .bury_job(job.id, self.id, &e.to_string(), now_ms())
                    .await?;
                return Ok(());
            }
        };
        let started_ms = now_ms();
        let started = Instant::now();
        metrics::counter!(JOBS_STARTED, "flow" => job.flow.clone()).increment(1);
        let outcome = holding_lease(
            &self.storage,
            job.id,
            self.id,
            self.config.lease,
            self.execute(ws, typed.clone()),
        )
        .await;
        let ended = match &outcome {
            Ok(Step::Done) => "done",
            Ok(Step::RunAgainAt(_)) => "again",
            Err(_) => "failed",
        };
        metrics::histogram!(JOB_DURATION, "flow" => job.flow.clone(), "outcome" => ended)
            .record(started.elapsed().as_secs_f64());
        if let Err(e) = &outcome
            && refused_token(e)
        {
            // The job's end is recorded below whatever this does.
            match self.channel_of(ws, &typed).await {
                Ok(Some(channel)) => {
                    if let Err(e) = self.flows.tokens.rejected(ws, channel, started_ms).await {
                        tracing::warn!(%ws, %channel, error = %e, "renewing a refused token failed");
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(%ws, error = %e, "finding a refused token's channel failed")
                }
            }
        }
        match outcome {
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

    /// The channel whose Mirakl token a job uses, if any.
    async fn channel_of(&self, ws: WorkspaceId, job: &Job) -> anyhow::Result<Option<ChannelId>> {
        Ok(match job {
            Job::ChannelExport(e) => Some(e.channel_id),
            Job::ImportFollow(c) | Job::Reconcile(c) | Job::OrderImport(c) => Some(c.channel_id),
            Job::OrderStep(o) => self
                .storage
                .get_order(ws, o.order_id)
                .await?
                .map(|order| order.channel_id),
            Job::TokenRefresh(_)
            | Job::ShopHealth(_)
            | Job::ShopWebhook(_)
            | Job::CatalogRead(_)
            | Job::Disconnect(_) => None,
        })
    }

    /// The one dispatch: each job to its flow.
    async fn execute(&self, ws: WorkspaceId, job: Job) -> anyhow::Result<Step> {
        let flows = &self.flows;
        match job {
            Job::TokenRefresh(c) => flows.tokens.run_refresh(ws, c.channel_id).await,
            Job::ShopHealth(s) => flows.health.check(ws, s.shop_id).await.map(|_| Step::Done),
            Job::ShopWebhook(d) => flows.events.process(ws, d.inbox_id).await,
            Job::CatalogRead(read) => flows.catalog.read(ws, read).await,
            Job::ChannelExport(e) => flows.catalog.export(ws, e.channel_id, e.delta).await,
            Job::ImportFollow(c) => flows.catalog.follow_imports(ws, c.channel_id).await,
            Job::Reconcile(c) => flows.catalog.reconcile(ws, c.channel_id).await,
            Job::OrderImport(c) => flows.orders.import(ws, c.channel_id).await,
            Job::OrderStep(o) => flows.orders.step(ws, o.order_id, o.shop_changed).await,
            Job::Disconnect(_) => flows.disconnect.run(ws).await,
        }
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
        self.flows.tokens.schedule_due(&self.flows.queue).await?;
        self.flows.health.schedule_due().await?;
        self.flows.orders.schedule_due().await?;
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
    /// a budget slot — and by polling for what other processes queue. Once told to stop it
    /// claims nothing more, gives the jobs under way `shutdown_grace` to end, then stops the
    /// rest and hands them back to the queue (see [`Worker::run_jobs_with`]).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let runner = self.clone();
        self.run_jobs_with(shutdown, move |job| {
            let runner = runner.clone();
            async move {
                if let Err(e) = runner.finish(&job).await {
                    tracing::error!(job = %job.id, error = %format!("{e:#}"), "recording a job's end failed");
                }
            }
        })
        .await;
    }

    /// The loop of [`Worker::run`], with what to do with each claimed job given: `run` runs
    /// its flow and records how it ended; a test gives a job that never ends, to see a stop
    /// hand it back.
    ///
    /// On `shutdown` no job is claimed any more. The jobs under way get `shutdown_grace` to
    /// end; those still running are then aborted (as a crash would stop them: every effect
    /// of a job is reserved in storage first, so running it again is safe) and every lease of
    /// this worker is released, so another node takes the jobs at once, without the attempt
    /// counting against them.
    pub async fn run_jobs_with<F, Fut>(self, mut shutdown: watch::Receiver<bool>, run_job: F)
    where
        F: Fn(storage::Job) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        tracing::info!(worker = %self.id, concurrency = self.config.concurrency, "worker started");
        let mut events = self.storage.job_events();
        let mut running = tokio::task::JoinSet::new();
        let mut housekept_at: Option<tokio::time::Instant> = None;
        loop {
            // Told to stop before starting, or while housekeeping: claim nothing.
            if *shutdown.borrow_and_update() {
                break;
            }
            if housekept_at.is_none_or(|at| at.elapsed() >= self.config.poll_interval) {
                housekept_at = Some(tokio::time::Instant::now());
                if let Err(e) = self.housekeeping().await {
                    tracing::error!(error = %format!("{e:#}"), "worker housekeeping failed");
                }
            }
            // Mark what has been seen before claiming, so a job queued during the claims
            // wakes the wait below.
            events.borrow_and_update();
            while running.len() < self.config.concurrency.max(1) && !*shutdown.borrow() {
                let claimed = self
                    .storage
                    .claim_job(self.id, now_ms(), self.config.lease.as_millis() as i64)
                    .await;
                match claimed {
                    Ok(Some(job)) => {
                        running.spawn(run_job(job));
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
                // A dropped sender can never say stop: take it as one.
                told = shutdown.changed() => if told.is_err() { break },
            }
        }
        self.stop(running).await;
        tracing::info!(worker = %self.id, "worker stopped");
    }

    /// The end of [`Worker::run_jobs_with`]: the jobs under way get `shutdown_grace`, the rest
    /// are aborted, and this worker's leases go back to the queue.
    async fn stop(&self, mut running: tokio::task::JoinSet<()>) {
        let grace = self.config.shutdown_grace;
        if !running.is_empty() {
            tracing::info!(worker = %self.id, jobs = running.len(), ?grace, "stopping: waiting for the jobs under way");
            let all_ended = async { while running.join_next().await.is_some() {} };
            if tokio::time::timeout(grace, all_ended).await.is_err() {
                tracing::warn!(worker = %self.id, jobs = running.len(), ?grace, "stopping: jobs still running after the grace period are stopped and handed back to the queue");
                running.shutdown().await;
            }
        }
        // Also covers a job whose end could not be recorded: it runs again elsewhere rather
        // than waiting for its lease to expire.
        match self.storage.release_worker_leases(self.id, now_ms()).await {
            Ok(0) => {}
            Ok(released) => {
                tracing::info!(worker = %self.id, released, "stopping: unfinished jobs are queued again for another worker");
            }
            Err(e) => {
                tracing::error!(worker = %self.id, error = %e, "stopping: could not hand the unfinished jobs back; they run again once their leases expire");
            }
        }
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
}

/// Whether Mirakl answered 401 to the call that failed: its access token was refused.
fn refused_token(e: &anyhow::Error) -> bool {
    use mirakl::connect::ConnectError;
    use mirakl::marketplace::MarketplaceError;
    e.chain().any(|cause| {
        cause.is::<crate::tokens::TokenRefused>()
            || matches!(
                cause.downcast_ref::<MarketplaceError>(),
                Some(MarketplaceError::Unauthorized)
            )
            || matches!(
                cause.downcast_ref::<ConnectError>(),
                Some(ConnectError::Unauthorized)
            )
    })
}
