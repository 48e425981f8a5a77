//! Puts the pieces together: storage, the Mirakl clients, the web app, the worker, the
//! sandbox. `serve`, `demo` and the tests all start the connector through here, so what the
//! tests exercise is what runs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use domain::{InstanceUrl, MarketplaceDefinition};
use mirakl::connect::ConnectClient;
use mirakl::marketplace::MarketplaceClient;
use mirakl::mas::{MasClient, MasConfig};
use storage::Storage;
use sync::{
    BigCommerceApp, BigCommerceConfig, Budgets, FlowParts, Flows, OrderConfig, Worker, WorkerConfig,
};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

/// Renew access tokens when they have less than this left. MAS tokens live about an hour.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How often a connected store is checked for health (one read).
pub const SHOP_HEALTH_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// The connector, built but not yet serving.
#[derive(Clone)]
pub struct Connector {
    pub storage: Storage,
    pub worker: Worker,
    /// Every flow, as the web app and the worker share them.
    pub flows: Flows,
    pub app: axum::Router,
    /// What `/metrics` reads from this connector at each scrape (see [`crate::metrics`]).
    pub samplers: Vec<Arc<dyn crate::metrics::Sampler>>,
}

pub struct ConnectorOptions {
    pub public_url: Url,
    pub mas: MasConfig,
    pub marketplaces: Vec<MarketplaceDefinition>,
    pub worker: WorkerConfig,
    pub token_refresh_margin: Duration,
    /// How often each connected store is checked.
    pub shop_health_interval: Duration,
    /// The Mirakl Connect seller API, e.g. https://miraklconnect.com/api.
    pub connect_url: Url,
    /// How strictly Mirakl's call budgets are applied (1.0 in production).
    pub budgets: Budgets,
    /// The client for calls to shops, with the addresses sellers may give: public https ones
    /// in production; private ones too in `demo` and the tests, where the sandbox store is on
    /// 127.0.0.1.
    pub shop_http: shops::ShopHttp,
    /// How often orders are polled, and how patient the order flow is with a lost answer.
    pub orders: OrderConfig,
    /// BigCommerce's API host, and the connector's BigCommerce app.
    pub bigcommerce: BigCommerceConfig,
}

pub fn build_connector(storage: Storage, options: ConnectorOptions) -> Connector {
    let http = mirakl::http_client();
    let config = web::WebConfig::new(options.public_url.clone());
    let flows = Flows::new(FlowParts {
        storage: storage.clone(),
        mas: MasClient::new(options.mas, http.clone()),
        marketplace: MarketplaceClient::new(http.clone()),
        connect: ConnectClient::new(options.connect_url, http),
        shop_http: options.shop_http,
        public_url: options.public_url,
        bigcommerce: options.bigcommerce,
        budgets: options.budgets,
        token_refresh_margin: options.token_refresh_margin,
        shop_health_interval: options.shop_health_interval,
        authorization_ttl: config.authorization_ttl,
        orders: options.orders,
    });
    let worker = Worker::new(storage.clone(), flows.clone(), options.worker);
    let state = web::AppState::new(web::AppParts {
        storage: storage.clone(),
        flows: flows.clone(),
        marketplaces: options.marketplaces,
        config,
    });
    // The gauges read from storage (jobs per flow and state, the oldest order not yet in the
    // shop, token expiry per channel, catalog items in error).
    let samplers = vec![crate::metrics::storage_sampler(storage.clone())];
    Connector {
        storage,
        worker,
        flows,
        app: web::router(state),
        samplers,
    }
}

/// `GET /metrics` on `listener`: the process's recorder, with the connector's samplers.
pub async fn spawn_metrics_server(
    listener: TcpListener,
    connector: &Connector,
) -> anyhow::Result<RunningServer> {
    let metrics = crate::metrics::Metrics::install()?.with_samplers(connector.samplers.clone());
    let server = spawn_server(listener, metrics.clone().router()).await?;
    metrics.keep_up(server.shutdown_signal());
    Ok(server)
}

/// A server running in this process until [`RunningServer::stop`] or the handle is dropped
/// with the runtime.
pub struct RunningServer {
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl RunningServer {
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.handle.await;
    }

    pub async fn wait(self) {
        let _ = self.handle.await;
    }
}

pub async fn spawn_server(
    listener: TcpListener,
    app: axum::Router,
) -> anyhow::Result<RunningServer> {
    let addr = listener.local_addr()?;
    let (shutdown, mut rx) = watch::channel(false);
    let handle = tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    Ok(RunningServer {
        addr,
        shutdown,
        handle,
    })
}

pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr} (is another program using it?)"))
}

/// The sandbox's two demo marketplaces, as the connector lists them.
pub fn sandbox_marketplaces(sandbox_url: &Url) -> Vec<MarketplaceDefinition> {
    [
        ("demo-marketplace", "Demo Marketplace"),
        ("second-marketplace", "Second Marketplace"),
    ]
    .into_iter()
    .map(|(code, name)| MarketplaceDefinition {
        code: code.to_owned(),
        name: name.to_owned(),
        instance_url: InstanceUrl::parse(&format!(
            "{}/mmp/{code}",
            sandbox_url.as_str().trim_end_matches('/')
        ))
        .expect("sandbox URLs are valid"),
    })
    .collect()
}

/// The sandbox's Mirakl Connect API, as the connector is configured for it.
pub fn sandbox_connect_url(sandbox_url: &Url) -> Url {
    Url::parse(&format!(
        "{}/connect/api",
        sandbox_url.as_str().trim_end_matches('/')
    ))
    .expect("valid URL")
}

/// The sandbox's BigCommerce: its API host, and its demo app as the connector's app.
pub fn sandbox_bigcommerce(sandbox_url: &Url) -> BigCommerceConfig {
    let base = sandbox_url.as_str().trim_end_matches('/');
    BigCommerceConfig {
        api_url: Url::parse(&format!("{base}/bc/")).expect("valid URL"),
        app: Some(BigCommerceApp {
            client_id: sandbox::BC_DEMO_CLIENT_ID.to_owned(),
            client_secret: storage::Secret::new(sandbox::BC_DEMO_CLIENT_SECRET.to_owned()),
            login_url: Url::parse(&format!("{base}/bc/login/")).expect("valid URL"),
        }),
    }
}

/// The connector's BigCommerce callbacks, as its app registers them.
pub fn bigcommerce_callbacks(connector_url: &Url) -> [String; 3] {
    ["auth", "load", "uninstall"].map(|name| {
        connector_url
            .join(&format!("/bigcommerce/{name}"))
            .expect("valid URL")
            .to_string()
    })
}

/// Registers the connector's callbacks on the sandbox's demo BigCommerce app, as an app's
/// developer does in BigCommerce's Developer Portal.
pub fn register_sandbox_bigcommerce_app(sandbox: &sandbox::Sandbox, connector_url: &Url) {
    let [auth, load, uninstall] = bigcommerce_callbacks(connector_url);
    sandbox
        .bc_set_app_callbacks(
            sandbox::BC_DEMO_CLIENT_ID,
            Some(&auth),
            Some(&load),
            Some(&uninstall),
        )
        .expect("the sandbox has its demo BigCommerce app");
}

/// The same, on a sandbox running in another process, through its control API.
pub async fn register_running_sandbox_bigcommerce_app(
    sandbox_url: &Url,
    connector_url: &Url,
) -> anyhow::Result<()> {
    let [auth, load, uninstall] = bigcommerce_callbacks(connector_url);
    mirakl::http_client()
        .post(sandbox_url.join(&format!(
            "sandbox/api/bc/apps/{}/callbacks",
            sandbox::BC_DEMO_CLIENT_ID
        ))?)
        .json(&serde_json::json!({
            "auth_callback": auth,
            "load_callback": load,
            "uninstall_callback": uninstall,
        }))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("registering the connector's callbacks on the sandbox's BigCommerce app")?;
    Ok(())
}

/// The sandbox's demo OAuth client, as the connector is configured for it.
pub fn sandbox_mas_config(sandbox_url: &Url, redirect_uri: Url) -> MasConfig {
    MasConfig {
        base_url: Url::parse(&format!(
            "{}/mas",
            sandbox_url.as_str().trim_end_matches('/')
        ))
        .expect("valid URL"),
        client_id: "marketbridge-demo".to_owned(),
        client_secret: mirakl::mas::ClientSecret::new("sandbox-client-secret".to_owned()),
        redirect_uri,
    }
}

/// A `marketbridge worker` process on `database_url`, against the sandbox at `sandbox_url`,
/// configured through its environment as an operator would configure it. The orders benchmark
/// (`--kills`) and the kill test start such workers and SIGKILL them.
pub struct SandboxWorker<'a> {
    pub database_url: &'a str,
    pub secret_key: &'a storage::SecretKey,
    /// The connector's address, as `serve` runs it beside this worker.
    pub public_url: &'a Url,
    pub sandbox_url: &'a Url,
    pub budgets: Budgets,
    pub orders: &'a OrderConfig,
}

impl SandboxWorker<'_> {
    /// The command for the binary at `exe`, with nothing inherited from this process's
    /// environment and its output discarded (errors only, were it kept).
    pub fn command(&self, exe: &std::path::Path) -> std::process::Command {
        self.command_with(exe, &["worker"])
    }

    /// The same settings for another subcommand of the binary (`serve --no-workers`, say).
    pub fn command_with(&self, exe: &std::path::Path, args: &[&str]) -> std::process::Command {
        let marketplaces = sandbox_marketplaces(self.sandbox_url)
            .iter()
            .map(|m| format!("{}={}={}", m.code, m.name, m.instance_url))
            .collect::<Vec<_>>()
            .join(",");
        let mas = sandbox_mas_config(self.sandbox_url, self.public_url.clone());
        // The worker takes whole seconds: a poll interval under one is rounded up.
        let poll_seconds = self.orders.poll_interval.as_secs_f64().ceil().max(1.0) as u64;
        let mut command = std::process::Command::new(exe);
        command
            .args(args)
            .env_clear()
            .env("MARKETBRIDGE_LOG", "error")
            .env("MARKETBRIDGE_DATABASE_URL", self.database_url)
            .env("MARKETBRIDGE_SECRET_KEY", self.secret_key.to_base64())
            .env("MARKETBRIDGE_PUBLIC_URL", self.public_url.as_str())
            .env("MARKETBRIDGE_MAS_URL", mas.base_url.as_str())
            .env("MARKETBRIDGE_MAS_CLIENT_ID", &mas.client_id)
            .env("MARKETBRIDGE_MAS_CLIENT_SECRET", mas.client_secret.expose())
            .env(
                "MARKETBRIDGE_CONNECT_URL",
                sandbox_connect_url(self.sandbox_url).as_str(),
            )
            .env("MARKETBRIDGE_MARKETPLACES", marketplaces)
            .env("MARKETBRIDGE_ALLOW_PRIVATE_SHOP_URLS", "true")
            .env("MARKETBRIDGE_BUDGET_SCALE", self.budgets.scale.to_string())
            .env("MARKETBRIDGE_ORDER_POLL_SECONDS", poll_seconds.to_string())
            .env(
                "MARKETBRIDGE_ORDER_IN_DOUBT_SECONDS",
                self.orders.in_doubt_after.as_secs().to_string(),
            )
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    }
}

/// The longest a stop takes: the workers' grace for the jobs under way (8 s by default) and
/// the release of the rest fit in it, as does the 10 s an orchestrator usually allows.
pub const STOP_LIMIT: Duration = Duration::from_secs(10);

/// Waits for `stopping` (the web server ending its requests, the workers their jobs), but
/// never longer than [`STOP_LIMIT`], nor past a second Ctrl-C or SIGTERM: a stop never hangs.
/// Work cut short this way runs again elsewhere once its leases expire.
pub async fn finish_stopping(stopping: impl Future<Output = ()>) {
    tokio::select! {
        () = stopping => {}
        () = tokio::time::sleep(STOP_LIMIT) => {
            tracing::warn!(limit = ?STOP_LIMIT, "stopping took too long: exiting with work under way");
        }
        () = stop_requested() => {
            tracing::warn!("asked again to stop: exiting at once");
        }
    }
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn stop_requested() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
