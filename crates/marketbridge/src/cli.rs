//! The command line: `serve`, `worker`, `migrate`, `sandbox`, `demo`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use sandbox::{Sandbox, SandboxConfig};
use storage::{SecretKey, Storage};
use sync::{Budgets, WorkerConfig};
use url::Url;

use crate::config::ServerArgs;
use crate::demo::{DEMO_ORDERS_EVERY, Demo, DemoOptions, DemoSandbox};
use crate::wiring::{
    Connector, ConnectorOptions, RunningServer, SHOP_HEALTH_INTERVAL, TOKEN_REFRESH_MARGIN, bind,
    build_connector, spawn_metrics_server, spawn_server, stop_requested,
};

#[derive(Parser, Debug)]
#[command(
    name = "marketbridge",
    version,
    about = "Connects a WooCommerce shop to Mirakl Connect and Mirakl marketplaces."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The web UI, the webhook receiver and (unless --no-workers) the background workers.
    Serve {
        #[command(flatten)]
        server: ServerArgs,
        /// Run no background workers in this process (run `marketbridge worker` elsewhere).
        #[arg(long)]
        no_workers: bool,
    },
    /// Background workers only, for extra nodes on PostgreSQL.
    Worker {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Apply the database migrations and exit (serve also applies them at start).
    Migrate {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// The emulated Mirakl (MAS, marketplaces) for trying and testing without an outside account.
    Sandbox {
        #[arg(
            long,
            env = "MARKETBRIDGE_SANDBOX_LISTEN",
            default_value = "127.0.0.1:8090"
        )]
        listen: SocketAddr,
        /// How browsers reach the sandbox (default: http://LISTEN).
        #[arg(long)]
        public_url: Option<Url>,
        /// A redirect URI to register for the demo OAuth client (repeatable), besides the
        /// demo connector's own (http://localhost:8080/oauth/mirakl/callback, on any port).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Start with no demo data.
        #[arg(long)]
        empty: bool,
        /// How long MAS access tokens live, in seconds.
        #[arg(long, default_value_t = 3599)]
        access_token_seconds: u64,
        /// How long MAS refresh tokens live, in seconds.
        #[arg(long, default_value_t = 30 * 24 * 3600)]
        refresh_token_seconds: u64,
        /// Also serve the sandbox over HTTPS on ADDR, with a self-signed certificate for
        /// 127.0.0.1 and localhost written to a temporary directory (its path is printed).
        #[arg(long, value_name = "ADDR")]
        tls_listen: Option<SocketAddr>,
    },
    /// The sandbox and the connector wired together on SQLite, seeded, ready in a browser.
    Demo {
        #[arg(long, env = "MARKETBRIDGE_DATA_DIR", default_value = crate::config::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        connector_listen: SocketAddr,
        #[arg(long, default_value = "127.0.0.1:8090")]
        sandbox_listen: SocketAddr,
        /// Use the sandbox already running at URL (`marketbridge sandbox`, e.g.
        /// http://127.0.0.1:8090) instead of one of the demo's own, so that Mirakl and the
        /// store keep their state while the demo stops and starts again.
        #[arg(long, value_name = "URL", conflicts_with = "sandbox_listen")]
        sandbox: Option<Url>,
        /// Start with the demo seller (demo@example.com) signed up, onboarded and launched on
        /// Mirakl Connect, Demo Marketplace (store 2001) and the demo WooCommerce store; an
        /// account from an earlier start on the same data dir is used as it is.
        #[arg(long)]
        connected: bool,
        /// Serve Prometheus metrics on `GET /metrics` at this address (off when absent).
        #[arg(long, value_name = "ADDR", env = "MARKETBRIDGE_METRICS_LISTEN")]
        metrics_listen: Option<SocketAddr>,
        /// How often, in seconds, a demo customer buys on each marketplace store with live
        /// offers and on Mirakl Connect once it has products (0: never; place orders with the
        /// sandbox's control API instead).
        #[arg(long, value_name = "SECONDS", default_value_t = DEMO_ORDERS_EVERY.as_secs())]
        orders_every: u64,
    },
    /// The benchmarks (DESIGN §9): sandbox and connector in one process; prints a table and,
    /// as its last line, one JSON object with the figures.
    Bench(crate::bench::BenchArgs),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { server, no_workers } => serve(server, !no_workers).await,
        Command::Worker { server } => worker(server).await,
        Command::Migrate { server } => {
            let settings = server.resolve(false)?;
            let storage = open_storage(&settings.database_url, settings.secret_key).await?;
            println!("migrations applied to {:?}", storage.engine());
            Ok(())
        }
        Command::Sandbox {
            listen,
            public_url,
            redirect_uris,
            empty,
            access_token_seconds,
            refresh_token_seconds,
            tls_listen,
        } => {
            let public_url = public_url.unwrap_or(Url::parse(&format!("http://{listen}"))?);
            let mut config = SandboxConfig::new(public_url.clone());
            config.redirect_uris.extend(redirect_uris);
            config.seed_demo = !empty;
            config.access_token_ttl = Duration::from_secs(access_token_seconds);
            config.refresh_token_ttl = Duration::from_secs(refresh_token_seconds);
            let router = Sandbox::new(config).router();
            let tls_server = match tls_listen {
                Some(addr) => Some(spawn_tls_sandbox(addr, router.clone()).await?),
                None => None,
            };
            let server = spawn_server(bind(listen).await?, router).await?;
            println!("Sandbox running at {public_url} (overview: {public_url}sandbox)");
            if !empty {
                println!(
                    "BigCommerce store: {public_url}bc/stores/{}/v3/... (X-Auth-Token: {}); \
                     control panel {public_url}bc/manage/{}; app client id {} / secret {}; \
                     token endpoint {public_url}bc/login/oauth2/token",
                    sandbox::BC_DEMO_STORE_HASH,
                    sandbox::BC_DEMO_API_TOKEN,
                    sandbox::BC_DEMO_STORE_HASH,
                    sandbox::BC_DEMO_CLIENT_ID,
                    sandbox::BC_DEMO_CLIENT_SECRET,
                );
            }
            stop_requested().await;
            server.stop().await;
            if let Some(tls_server) = tls_server {
                tls_server.abort();
            }
            Ok(())
        }
        Command::Demo {
            data_dir,
            connector_listen,
            sandbox_listen,
            sandbox,
            connected,
            orders_every,
            metrics_listen,
        } => {
            demo(
                DemoOptions {
                    data_dir,
                    connector_listen,
                    sandbox: sandbox.map_or(DemoSandbox::Own(sandbox_listen), DemoSandbox::Running),
                    orders_every: Duration::from_secs(orders_every),
                    connected,
                },
                metrics_listen,
            )
            .await
        }
        Command::Bench(args) => crate::bench::run(args).await,
    }
}

/// The sandbox's router over HTTPS on `addr`, with a fresh self-signed certificate written to
/// a temporary directory (the sandbox keeps no data dir of its own).
async fn spawn_tls_sandbox(
    addr: SocketAddr,
    router: axum::Router,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let tls = sandbox::tls::SelfSigned::generate().context("making the sandbox's certificate")?;
    let dir = std::env::temp_dir().join(format!("marketbridge-sandbox-tls-{}", std::process::id()));
    let (cert, key) = tls
        .write_to(&dir)
        .with_context(|| format!("writing the certificate into {}", dir.display()))?;
    let listener = bind(addr).await?;
    let local = listener.local_addr()?;
    println!(
        "Sandbox over HTTPS at https://{local}/ (certificate {}, key {}; trust the certificate, \
         e.g. REQUESTS_CA_BUNDLE={})",
        cert.display(),
        key.display(),
        cert.display()
    );
    Ok(tokio::spawn(async move {
        if let Err(error) = sandbox::tls::serve_tls(listener, &tls, router).await {
            tracing::error!(%error, "the sandbox's HTTPS listener stopped");
        }
    }))
}

pub(crate) async fn open_storage(database_url: &str, key: SecretKey) -> anyhow::Result<Storage> {
    if let Some(path) = database_url.strip_prefix("sqlite://")
        && let Some(dir) = Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let storage = Storage::connect(database_url, key)
        .await
        .context("opening the database")?;
    storage
        .migrate()
        .await
        .context("applying the database migrations")?;
    Ok(storage)
}

fn connector_options(settings: &mut crate::config::Settings) -> anyhow::Result<ConnectorOptions> {
    let mas = settings
        .mas
        .take()
        .context("the Mirakl client settings are required")?;
    Ok(ConnectorOptions {
        public_url: settings.public_url.clone(),
        mas: mirakl::mas::MasConfig {
            base_url: mas.base_url,
            client_id: mas.client_id,
            client_secret: mas.client_secret,
            redirect_uri: mas.redirect_uri,
        },
        marketplaces: std::mem::take(&mut settings.marketplaces),
        worker: WorkerConfig::default(),
        token_refresh_margin: TOKEN_REFRESH_MARGIN,
        shop_health_interval: SHOP_HEALTH_INTERVAL,
        connect_url: settings.connect_url.clone(),
        bigcommerce: settings.bigcommerce.clone(),
        budgets: Budgets::scaled(settings.budget_scale),
        shop_http: shops::ShopHttp::new(settings.shop_addresses),
        orders: settings.orders.clone(),
    })
}

async fn serve(server: ServerArgs, workers: bool) -> anyhow::Result<()> {
    let mut settings = server.resolve(true)?;
    let storage = open_storage(&settings.database_url, settings.secret_key.clone()).await?;
    let connector = build_connector(storage, connector_options(&mut settings)?);
    let metrics = metrics_server(settings.metrics_listen, &connector).await?;
    let web = spawn_server(bind(settings.listen).await?, connector.app.clone()).await?;
    let worker = workers.then(|| tokio::spawn(connector.worker.clone().run(web.shutdown_signal())));
    tracing::info!(listen = %web.addr, public_url = %settings.public_url, workers, "marketbridge serving");
    stop_requested().await;
    web.stop().await;
    if let Some(metrics) = metrics {
        metrics.stop().await;
    }
    if let Some(w) = worker {
        let _ = w.await;
    }
    Ok(())
}

async fn worker(server: ServerArgs) -> anyhow::Result<()> {
    let mut settings = server.resolve(true)?;
    let storage = open_storage(&settings.database_url, settings.secret_key.clone()).await?;
    let connector = build_connector(storage, connector_options(&mut settings)?);
    let metrics = metrics_server(settings.metrics_listen, &connector).await?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(connector.worker.clone().run(rx));
    stop_requested().await;
    let _ = tx.send(true);
    let _ = handle.await;
    if let Some(metrics) = metrics {
        metrics.stop().await;
    }
    Ok(())
}

/// `/metrics` on `listen`, when one is given.
async fn metrics_server(
    listen: Option<SocketAddr>,
    connector: &Connector,
) -> anyhow::Result<Option<RunningServer>> {
    let Some(listen) = listen else {
        return Ok(None);
    };
    let server = spawn_metrics_server(bind(listen).await?, connector).await?;
    tracing::info!(listen = %server.addr, "metrics served on /metrics");
    Ok(Some(server))
}

async fn demo(options: DemoOptions, metrics_listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let demo = Demo::start(options).await?;
    let metrics = match metrics_server(metrics_listen, &demo.connector).await {
        Ok(metrics) => metrics,
        Err(e) => {
            demo.stop().await;
            return Err(e);
        }
    };
    println!("{}", demo.banner());
    if let Some(metrics) = &metrics {
        println!("Metrics: http://{}/metrics\n", metrics.addr);
    }
    stop_requested().await;
    demo.stop().await;
    if let Some(metrics) = metrics {
        metrics.stop().await;
    }
    Ok(())
}
