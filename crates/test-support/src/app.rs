//! The test app: the connector and the sandbox wired exactly as `marketbridge demo` wires them,
//! on ports chosen by the OS, with a database of their own.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use marketbridge::wiring::{
    Connector, ConnectorOptions, RunningServer, build_connector, sandbox_marketplaces,
    sandbox_mas_config, spawn_server,
};
use sandbox::{Sandbox, SandboxConfig};
use storage::{Engine, SecretKey, Storage};
use sync::{Budgets, WorkerConfig};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use url::Url;

/// How long `run_until_idle` lets the workers run before taking the work for stuck. Not a
/// measure of speed: it only turns a bug that keeps jobs queued forever into a failure.
const IDLE_LIMIT: Duration = Duration::from_secs(180);

pub struct TestApp {
    /// The connector as a browser reaches it: `http://localhost:PORT`.
    pub connector_url: Url,
    /// The sandbox as a browser reaches it: `http://127.0.0.1:PORT` (another host, so cookies
    /// stay apart as they would between two real sites).
    pub sandbox_url: Url,
    pub sandbox: Sandbox,
    connector: Option<Connector>,
    /// The SQLite database file, when the engine is SQLite.
    pub sqlite_file: Option<PathBuf>,
    database_url: String,
    secret_key: SecretKey,
    /// The connector's call budgets; the sandbox's are at the same scale.
    budgets: Budgets,
    /// The connector's client for shops, with its address policy.
    shop_http: shops::ShopHttp,
    servers: Vec<RunningServer>,
}

impl TestApp {
    /// On SQLite, with Mirakl's call budgets off.
    pub async fn spawn() -> TestApp {
        Self::spawn_on(Engine::Sqlite).await
    }

    /// With Mirakl's call budgets off, in the sandbox and in the connector.
    pub async fn spawn_on(engine: Engine) -> TestApp {
        Self::spawn_with_budgets(engine, 0.0).await
    }

    /// With Mirakl's call budgets on at `scale` (1.0 documented, 0.01 turns a minute into
    /// 0.6 s) both in the sandbox, which answers 429 past them, and in the connector, which
    /// waits for its slots. Budget slots are real time: run the jobs with `run_until_idle`,
    /// not `settle`.
    pub async fn spawn_with_budgets(engine: Engine, scale: f64) -> TestApp {
        // The sandbox store is on 127.0.0.1, over plain http, as in `demo`.
        let shop_http = shops::ShopHttp::new(shops::AddressPolicy::AllowPrivate);
        Self::start(engine, scale, shop_http).await
    }

    /// On SQLite, with budgets off, and the given client for shops: a test of the address
    /// policy that production keeps (`ShopHttp::new(AddressPolicy::PublicOnly)`).
    pub async fn spawn_with_shop_http(shop_http: shops::ShopHttp) -> TestApp {
        Self::start(Engine::Sqlite, 0.0, shop_http).await
    }

    async fn start(engine: Engine, scale: f64, shop_http: shops::ShopHttp) -> TestApp {
        let connector_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind connector");
        let sandbox_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind sandbox");
        let connector_url = Url::parse(&format!(
            "http://localhost:{}",
            connector_listener.local_addr().unwrap().port()
        ))
        .unwrap();
        let sandbox_url = Url::parse(&format!(
            "http://127.0.0.1:{}",
            sandbox_listener.local_addr().unwrap().port()
        ))
        .unwrap();

        let mut sandbox_config = SandboxConfig::new(sandbox_url.clone());
        sandbox_config.budget_scale = scale;
        sandbox_config.redirect_uris = vec![
            connector_url
                .join("/oauth/mirakl/callback")
                .unwrap()
                .to_string(),
        ];
        let sandbox = Sandbox::new(sandbox_config);
        marketbridge::wiring::register_sandbox_bigcommerce_app(&sandbox, &connector_url);

        let database_url = storage::testing::fresh_database_url(engine).await;
        let sqlite_file = database_url.strip_prefix("sqlite://").map(PathBuf::from);
        let secret_key = SecretKey::generate();
        let storage = Storage::connect(&database_url, secret_key.clone())
            .await
            .expect("open the test database");
        storage.migrate().await.expect("migrate the test database");
        let mut app = TestApp {
            connector_url,
            sandbox_url,
            sandbox,
            connector: None,
            sqlite_file,
            database_url,
            secret_key,
            budgets: Budgets::scaled(scale),
            shop_http,
            servers: Vec::new(),
        };
        let connector = app.build_connector(storage);
        app.servers = vec![
            spawn_server(sandbox_listener, app.sandbox.router())
                .await
                .unwrap(),
            spawn_server(connector_listener, connector.app.clone())
                .await
                .unwrap(),
        ];
        app.connector = Some(connector);
        app
    }

    fn redirect_uri(&self) -> Url {
        self.connector_url.join("/oauth/mirakl/callback").unwrap()
    }

    fn build_connector(&self, storage: Storage) -> Connector {
        build_connector(
            storage,
            ConnectorOptions {
                public_url: self.connector_url.clone(),
                mas: sandbox_mas_config(&self.sandbox_url, self.redirect_uri()),
                marketplaces: sandbox_marketplaces(&self.sandbox_url),
                worker: WorkerConfig {
                    poll_interval: Duration::from_millis(200),
                    lease: Duration::from_secs(30),
                    ..WorkerConfig::default()
                },
                token_refresh_margin: marketbridge::wiring::TOKEN_REFRESH_MARGIN,
                shop_health_interval: marketbridge::wiring::SHOP_HEALTH_INTERVAL,
                connect_url: marketbridge::wiring::sandbox_connect_url(&self.sandbox_url),
                bigcommerce: marketbridge::wiring::sandbox_bigcommerce(&self.sandbox_url),
                // At the sandbox's scale (off unless the test app was spawned with budgets).
                budgets: self.budgets,
                shop_http: self.shop_http.clone(),
                // A shop order whose creation got no answer is looked for at the next step:
                // the tests lose answers on purpose and never wait.
                // Each poll also reads the open shop orders back, as a poll ten minutes after
                // the last check does.
                orders: sync::OrderConfig {
                    in_doubt_after: Duration::ZERO,
                    shop_check_interval: Duration::ZERO,
                    ..sync::OrderConfig::default()
                },
            },
        )
    }

    /// The database the connector uses, for a process of its own (`marketbridge worker`).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// The key the connector's secrets are encrypted with, for a process of its own.
    pub fn secret_key(&self) -> &SecretKey {
        &self.secret_key
    }

    /// The connector as a second process would run it: its own connection pool to the same
    /// database, its own worker and token keeper.
    pub async fn second_node(&self) -> Connector {
        let storage = Storage::connect(&self.database_url, self.secret_key.clone())
            .await
            .expect("open the database again");
        self.build_connector(storage)
    }

    /// A MAS client configured exactly as the connector's.
    pub fn connector_mas_client(&self) -> mirakl::mas::MasClient {
        mirakl::mas::MasClient::new(
            sandbox_mas_config(&self.sandbox_url, self.redirect_uri()),
            mirakl::http_client(),
        )
    }

    /// The connector this test app serves.
    pub fn connector(&self) -> &Connector {
        self.connector.as_ref().expect("built in spawn")
    }

    pub fn storage(&self) -> &Storage {
        &self.connector().storage
    }

    /// A full URL on the connector.
    pub fn url(&self, path: &str) -> String {
        self.connector_url.join(path).unwrap().to_string()
    }

    /// An HTTP client that behaves like one browser: it keeps cookies and does not follow
    /// redirects (tests follow them on purpose, to look at each hop).
    pub fn http_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Runs every background job that is due now, until none is left.
    pub async fn drain_jobs(&self) -> usize {
        self.connector().worker.tick().await.expect("worker pass")
    }

    /// Runs the background work to the end: every job, including those that wait for a
    /// backoff or a budget slot (made due at once), until the queue is empty. Bounded, so a
    /// job that never settles fails the test instead of hanging it.
    pub async fn settle(&self) -> usize {
        let mut ran = 0;
        for _ in 0..200 {
            ran += self.drain_jobs().await;
            if self.storage().queued_jobs().await == 0 {
                return ran;
            }
            self.storage().make_queued_jobs_due().await;
        }
        panic!("the job queue did not settle after 200 passes");
    }

    /// Runs this connector's worker as `serve` runs it, in real time, until no job is queued
    /// or running, then stops it. Unlike `settle`, a job waiting for a budget slot or a
    /// backoff waits for it.
    pub async fn run_until_idle(&self) {
        self.run_until_idle_with(&[]).await;
    }

    /// `run_until_idle`, with the workers of other nodes on the same database (`second_node`)
    /// running at the same time.
    ///
    /// Idle means no job queued (due or not) and none running, in the shared database. Every
    /// job queues what follows from it before it ends, so the count cannot reach zero while
    /// work remains; a webhook still on its way is not work yet (call
    /// `sandbox.settle_webhooks()` first). The periodic work housekeeping schedules (token
    /// refreshes, shop health checks, daily reads and reconciliations) is not due in a test's
    /// lifetime, so it does not keep the queue busy. The wait is woken by each node's job
    /// events, never by sleeping.
    ///
    /// # Panics
    /// When the jobs are not done after `IDLE_LIMIT` (listing the jobs left), or a worker
    /// panicked.
    pub async fn run_until_idle_with(&self, others: &[&Connector]) {
        let nodes: Vec<&Connector> = std::iter::once(self.connector())
            .chain(others.iter().copied())
            .collect();
        // Each storage announces only its own process's job changes: listen to all of them.
        let changed = Arc::new(Notify::new());
        let mut listeners = JoinSet::new();
        for node in &nodes {
            let mut events = node.storage.job_events();
            let changed = changed.clone();
            listeners.spawn(async move {
                while events.changed().await.is_ok() {
                    changed.notify_one();
                }
            });
        }
        let (stop, stopped) = watch::channel(false);
        let workers: Vec<_> = nodes
            .iter()
            .map(|node| tokio::spawn(node.worker.clone().run(stopped.clone())))
            .collect();

        let idle = async {
            // A change between the count and the wait leaves a permit, so none is missed.
            while !self.storage().unfinished_jobs().await.is_empty() {
                changed.notified().await;
            }
        };
        let stuck = match tokio::time::timeout(IDLE_LIMIT, idle).await {
            Ok(()) => None,
            Err(_) => Some(self.storage().unfinished_jobs().await),
        };
        stop.send_replace(true);
        for worker in workers {
            worker.await.expect("a worker panicked");
        }
        listeners.abort_all();
        if let Some(jobs) = stuck {
            let jobs: Vec<String> = jobs
                .iter()
                .map(|job| {
                    format!(
                        "{} {} (attempts {}, run at {}, last error {:?})",
                        job.flow, job.status, job.attempts, job.run_at_ms, job.last_error
                    )
                })
                .collect();
            panic!(
                "the jobs were not done after {} s; left:\n{}",
                IDLE_LIMIT.as_secs(),
                jobs.join("\n")
            );
        }
    }

    pub async fn stop(self) {
        for s in self.servers {
            s.stop().await;
        }
    }
}
