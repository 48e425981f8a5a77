//! Metrics in Prometheus' text format, served on `GET /metrics` from a listen address of their
//! own (`--metrics-listen`), never on the sellers' one. The flows record what happens as it
//! happens through the `metrics` facade (job runs, calls to Mirakl and shops, budget waits,
//! webhook lag; each family's name lives beside the code that records it); what storage holds
//! (jobs per state, orders waiting for the shop, token expiry, catalog errors) is read by
//! [`Sampler`]s just before each scrape is rendered.
//!
//! The recorder is the process's: it is installed once, at the first [`Metrics::install`], and
//! shared by every connector in the process (the tests start several).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::watch;

/// Gauge, sampled: jobs by `flow` and `state` (`queued`, `running`, `dead`).
pub const JOBS: &str = "marketbridge_jobs";
/// Gauge, sampled: how long the oldest Mirakl order that should be in the shop has waited for
/// it, in seconds (0 when none waits).
pub const OLDEST_ORDER_NOT_IN_SHOP: &str = "marketbridge_oldest_order_not_in_shop_age_seconds";
/// Gauge, sampled: when each channel's access token expires, as a Unix time, by `channel`.
pub const TOKEN_EXPIRY: &str = "marketbridge_token_expiry_timestamp_seconds";
/// Gauge, sampled: catalog items Mirakl refused or the connector could not send.
pub const CATALOG_ITEMS_IN_ERROR: &str = "marketbridge_catalog_items_in_error";

/// The buckets of every `_seconds` histogram: from a fast call (5 ms) to a P41 budget wait
/// (15 min).
const SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0,
];

/// How often histograms are folded in when nobody scrapes, so they do not grow unbounded.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// What a [`Sampler`] returns.
pub type Sampling<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Reads something the connector holds (in storage, usually) and sets the gauges it owns with
/// `metrics::gauge!(…).set(…)`, just before a scrape is rendered. A sampler that fails leaves
/// its gauges as they were and logs why: a scrape always answers. An async closure
/// (`move || async move { … }`) is a sampler.
pub trait Sampler: Send + Sync {
    fn sample(&self) -> Sampling<'_>;
}

impl<F, Fut> Sampler for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn sample(&self) -> Sampling<'_> {
        Box::pin(self())
    }
}

/// The process's recorder, and the samplers one `/metrics` runs before rendering. Cheap to
/// clone.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    samplers: Vec<Arc<dyn Sampler>>,
}

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

impl Metrics {
    /// The process's Prometheus recorder, installed and its families described at the first
    /// call. Fails only when another recorder was installed first.
    pub fn install() -> anyhow::Result<Self> {
        let handle = RECORDER
            .get_or_init(|| {
                let handle = PrometheusBuilder::new()
                    .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                    .and_then(PrometheusBuilder::install_recorder)
                    .map_err(|e| e.to_string())?;
                describe();
                Ok(handle)
            })
            .clone()
            .map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))?;
        Ok(Self {
            handle,
            samplers: Vec::new(),
        })
    }

    pub fn with_samplers(mut self, samplers: impl IntoIterator<Item = Arc<dyn Sampler>>) -> Self {
        self.samplers.extend(samplers);
        self
    }

    /// Every sampler, then the text format.
    pub async fn render(&self) -> String {
        for sampler in &self.samplers {
            sampler.sample().await;
        }
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// `GET /metrics`, and nothing else.
    pub fn router(self) -> Router {
        Router::new()
            .route("/metrics", get(scrape))
            .with_state(self)
    }

    /// Folds histograms in every few seconds until `stop` turns true.
    pub fn keep_up(&self, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let handle = self.handle.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => handle.run_upkeep(),
                    _ = stop.wait_for(|stop| *stop) => break,
                }
            }
        })
    }
}

async fn scrape(State(metrics): State<Metrics>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        metrics.render().await,
    )
}

/// The help text and unit of every family, in one list, so a scrape explains itself.
fn describe() {
    use mirakl::call_metrics as mirakl_calls;
    use shops::call_metrics as shop_calls;
    use sync::{budgets, shop_events, worker};

    describe_counter!(worker::JOBS_STARTED, "Job runs started, by flow.");
    describe_histogram!(
        worker::JOB_DURATION,
        Unit::Seconds,
        "How long job runs took, by flow and outcome (done; again: back later for a budget slot or an import; failed: retried later or dead)."
    );
    describe_gauge!(
        JOBS,
        "Jobs by flow and state (queued, running, dead), read from storage at each scrape."
    );
    describe_counter!(
        mirakl_calls::CALLS,
        "Calls to Mirakl, by api (marketplace, connect, mas), operation (OR11, OF01, connect.products.post, …) and HTTP status (error: no answer)."
    );
    describe_histogram!(
        mirakl_calls::CALL_DURATION,
        Unit::Seconds,
        "How long Mirakl took to answer, by api and operation."
    );
    describe_histogram!(
        budgets::BUDGET_WAIT,
        Unit::Seconds,
        "Waits before a call to Mirakl, by operation and cause (budget: the next call slot; rate_limited: a 429's Retry-After); the count is the number of waits."
    );
    describe_counter!(
        shop_calls::CALLS,
        "Calls to shops' APIs, by platform and HTTP status (error: no answer)."
    );
    describe_histogram!(
        shop_calls::CALL_DURATION,
        Unit::Seconds,
        "How long shops took to answer, by platform."
    );
    describe_counter!(
        shop_events::WEBHOOKS_RECEIVED,
        "Requests to shops' webhook delivery URLs, by platform and receipt (recorded, duplicate, refused, pong)."
    );
    describe_histogram!(
        shop_events::WEBHOOK_LAG,
        Unit::Seconds,
        "Seconds from a webhook delivery's receipt to its event being handled, by subject."
    );
    describe_gauge!(
        OLDEST_ORDER_NOT_IN_SHOP,
        Unit::Seconds,
        "Age of the oldest Mirakl order not yet in the shop, read from storage at each scrape."
    );
    describe_gauge!(
        TOKEN_EXPIRY,
        Unit::Seconds,
        "When each channel's Mirakl access token expires (Unix time), by channel, read from storage at each scrape."
    );
    describe_gauge!(
        CATALOG_ITEMS_IN_ERROR,
        "Catalog items in error, read from storage at each scrape."
    );
}

/// The gauges read from storage at each scrape: jobs per flow and state (every flow, 0 where
/// none), the oldest order not yet in its shop, each channel's token expiry and the catalog
/// items in error. A channel whose token is gone (deleted, disconnected) is set to 0, so no
/// scrape shows an expiry that no longer exists.
pub fn storage_sampler(storage: storage::Storage) -> Arc<dyn Sampler> {
    let channels_seen: Arc<std::sync::Mutex<std::collections::BTreeSet<String>>> = Arc::default();
    Arc::new(move || {
        let (storage, channels_seen) = (storage.clone(), channels_seen.clone());
        async move {
            if let Err(e) = sample_storage(&storage, &channels_seen).await {
                tracing::warn!(error = %e, "reading the metrics kept in storage failed");
            }
        }
    })
}

async fn sample_storage(
    storage: &storage::Storage,
    channels_seen: &std::sync::Mutex<std::collections::BTreeSet<String>>,
) -> Result<(), storage::StorageError> {
    let now = storage::now_ms();
    let queues = storage.queue_counts(now).await?;
    let oldest = storage.oldest_pending_order().await?;
    let expiries = storage.token_expiries().await?;
    let in_error = storage.catalog_items_in_error().await?;

    let known = sync::job::flow::ALL.iter().map(|f| (*f).to_owned());
    let others = queues.iter().map(|q| q.flow.clone());
    for flow in known
        .chain(others)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let queue = queues.iter().find(|q| q.flow == flow);
        for (state, count) in [
            ("queued", queue.map_or(0, |q| q.queued)),
            ("running", queue.map_or(0, |q| q.running)),
            ("dead", queue.map_or(0, |q| q.dead)),
        ] {
            metrics::gauge!(JOBS, "flow" => flow.clone(), "state" => state).set(count as f64);
        }
    }

    let age_ms = oldest.map_or(0, |o| (now - o.imported_at_ms).max(0));
    metrics::gauge!(OLDEST_ORDER_NOT_IN_SHOP).set(age_ms as f64 / 1000.0);

    let mut channels = std::collections::BTreeSet::new();
    for (channel, expires_at_ms) in &expiries {
        let channel = channel.to_string();
        metrics::gauge!(TOKEN_EXPIRY, "channel" => channel.clone())
            .set(*expires_at_ms as f64 / 1000.0);
        channels.insert(channel);
    }
    let mut seen = channels_seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for gone in seen.difference(&channels) {
        metrics::gauge!(TOKEN_EXPIRY, "channel" => gone.clone()).set(0.0);
    }
    *seen = channels;

    metrics::gauge!(CATALOG_ITEMS_IN_ERROR).set(in_error as f64);
    Ok(())
}
