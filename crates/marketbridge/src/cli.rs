//! The command line: `serve`, `worker`, `migrate`, the operator's `status` and `jobs`,
//! `sandbox`, `demo`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use domain::{JobId, WorkspaceId};
use sandbox::{Sandbox, SandboxConfig};
use storage::{SecretKey, Storage};
use sync::Budgets;
use url::Url;

use crate::config::ServerArgs;
use crate::demo::{DEMO_ORDERS_EVERY, Demo, DemoOptions, DemoSandbox};
use crate::operator::{DeadJobTarget, open_for_operator, parse_job_id, parse_workspace_id};
use crate::wiring::{
    Connector, ConnectorOptions, RunningServer, SHOP_HEALTH_INTERVAL, TOKEN_REFRESH_MARGIN, bind,
    build_connector, finish_stopping, spawn_metrics_server, spawn_server, stop_requested,
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
    /// What to look at first on call: the queue per flow, dead jobs, the channels and shops
    /// that need someone, and the oldest order not yet in its shop.
    Status {
        #[command(flatten)]
        server: ServerArgs,
        /// Print one JSON object, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The dead letter (jobs that used all their attempts): list, retry or drop them.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
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

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// The dead jobs, most recently dead first.
    List {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        filter: DeadJobsArgs,
        /// Show at most this many.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        /// Print a JSON array, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Queue dead jobs again, due now and with all their attempts: one by id, or --all.
    Retry {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        target: DeadJobTargetArgs,
    },
    /// Delete dead jobs for good: one by id, or --all.
    Drop {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        target: DeadJobTargetArgs,
    },
}

/// Which dead jobs `jobs list` shows.
#[derive(Args, Debug, Clone, Default)]
pub struct DeadJobsArgs {
    /// Only jobs of this flow (e.g. order_step; `status` lists the flows).
    #[arg(long)]
    pub flow: Option<String>,
    /// Only jobs of this workspace (its id).
    #[arg(long, value_parser = parse_workspace_id)]
    pub workspace: Option<WorkspaceId>,
}

/// Which dead jobs `jobs retry` and `jobs drop` act on: one id, or --all (never by default).
#[derive(Args, Debug, Clone)]
pub struct DeadJobTargetArgs {
    /// The dead job's id, as `jobs list` shows it.
    #[arg(value_parser = parse_job_id, required_unless_present = "all", conflicts_with = "all")]
    pub id: Option<JobId>,
    /// Every dead job, or with --flow / --workspace every one of those.
    #[arg(long)]
    pub all: bool,
    /// With --all: only jobs of this flow.
    #[arg(long, requires = "all")]
    pub flow: Option<String>,
    /// With --all: only jobs of this workspace.
    #[arg(long, requires = "all", value_parser = parse_workspace_id)]
    pub workspace: Option<WorkspaceId>,
}

impl DeadJobsArgs {
    fn filter(self) -> storage::DeadJobsFilter {
        storage::DeadJobsFilter {
            flow: self.flow,
            workspace_id: self.workspace,
        }
    }
}

impl DeadJobTargetArgs {
    fn target(self) -> DeadJobTarget {
        match self.id {
            Some(id) => DeadJobTarget::One(id),
            None => DeadJobTarget::All(storage::DeadJobsFilter {
                flow: self.flow,
                workspace_id: self.workspace,
            }),
        }
    }
}

/// The database an operator's command reads, from the same settings as `migrate`. The secret
/// key may be left out: these commands read and write no secret, so without the server's key
/// they open the database with a throwaway one.
pub async fn operator_storage(mut server: ServerArgs) -> anyhow::Result<Storage> {
    if server.secret_key.is_none() && server.secret_key_file.is_none() {
        server.secret_key = Some(SecretKey::generate().to_base64());
    }
    let settings = server.resolve(false)?;
    open_for_operator(&settings.database_url, settings.secret_key).await
}

async fn jobs(command: JobsCommand) -> anyhow::Result<()> {
    let now = storage::now_ms();
    match command {
        JobsCommand::List {
            server,
            filter,
            limit,
            json,
        } => {
            let storage = operator_storage(server).await?;
            let list =
                crate::operator::list_dead_jobs(&storage, &filter.filter(), limit, now).await?;
            if json {
                println!("{}", list.to_json());
            } else {
                print!("{}", list.to_text());
            }
        }
        JobsCommand::Retry { server, target } => {
            let storage = operator_storage(server).await?;
            print!(
                "{}",
                crate::operator::retry_dead_jobs(&storage, &target.target(), now).await?
            );
        }
        JobsCommand::Drop { server, target } => {
            let storage = operator_storage(server).await?;
            print!(
                "{}",
                crate::operator::drop_dead_jobs(&storage, &target.target()).await?
            );
        }
    }
    Ok(())
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
        Command::Status { server, json } => {
            let storage = operator_storage(server).await?;
            let status = crate::operator::status(&storage, storage::now_ms()).await?;
            if json {
                println!("{}", status.to_json());
            } else {
                print!("{}", status.to_text());
            }
            Ok(())
        }
        Command::Jobs { command } => jobs(command).await,
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
        worker: settings.worker.clone(),
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
    tracing::info!(
        "stopping: no new requests or jobs are taken; the jobs under way get their grace period"
    );
    finish_stopping(async {
        // Stopping the server also tells the worker, which listens to the same signal.
        web.stop().await;
        if let Some(w) = worker {
            let _ = w.await;
        }
        if let Some(metrics) = metrics {
            metrics.stop().await;
        }
    })
    .await;
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
    tracing::info!("stopping: no new jobs are taken; the jobs under way get their grace period");
    let _ = tx.send(true);
    finish_stopping(async {
        let _ = handle.await;
        if let Some(metrics) = metrics {
            metrics.stop().await;
        }
    })
    .await;
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
