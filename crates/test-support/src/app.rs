//! The test app: the connector and the sandbox wired exactly as `marketbridge demo` wires them,
//! on ports chosen by the OS, with a database of their own.

use std::path::PathBuf;
use std::time::Duration;

use marketbridge::wiring::{
    Connector, ConnectorOptions, RunningServer, build_connector, sandbox_marketplaces,
    sandbox_mas_config, spawn_server,
};
use sandbox::{Sandbox, SandboxConfig};
use storage::{Engine, SecretKey, Storage};
use sync::WorkerConfig;
use tokio::net::TcpListener;
use url::Url;

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
    servers: Vec<RunningServer>,
}

impl TestApp {
    /// On SQLite.
    pub async fn spawn() -> TestApp {
        Self::spawn_on(Engine::Sqlite).await
    }

    pub async fn spawn_on(engine: Engine) -> TestApp {
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
        sandbox_config.redirect_uris = vec![
            connector_url
                .join("/oauth/mirakl/callback")
                .unwrap()
                .to_string(),
        ];
        let sandbox = Sandbox::new(sandbox_config);

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
                // The sandbox's budgets are off unless a test turns them on.
                budgets: sync::Budgets::off(),
            },
        )
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

    pub async fn stop(self) {
        for s in self.servers {
            s.stop().await;
        }
    }
}
