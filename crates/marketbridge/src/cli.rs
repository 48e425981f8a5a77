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

use crate::config::{ServerArgs, read_key_file, sqlite_url};
use crate::wiring::{
    ConnectorOptions, SHOP_HEALTH_INTERVAL, TOKEN_REFRESH_MARGIN, bind, build_connector,
    sandbox_connect_url, sandbox_marketplaces, sandbox_mas_config, spawn_server, stop_requested,
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
        /// A redirect URI to register for the demo OAuth client (repeatable).
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
    },
    /// The sandbox and the connector wired together on SQLite, seeded, ready in a browser.
    Demo {
        #[arg(long, env = "MARKETBRIDGE_DATA_DIR", default_value = crate::config::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        connector_listen: SocketAddr,
        #[arg(long, default_value = "127.0.0.1:8090")]
        sandbox_listen: SocketAddr,
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
        } => {
            let public_url = public_url.unwrap_or(Url::parse(&format!("http://{listen}"))?);
            let mut config = SandboxConfig::new(public_url.clone());
            config.redirect_uris = redirect_uris;
            config.seed_demo = !empty;
            config.access_token_ttl = Duration::from_secs(access_token_seconds);
            config.refresh_token_ttl = Duration::from_secs(refresh_token_seconds);
            let server = spawn_server(bind(listen).await?, Sandbox::new(config).router()).await?;
            println!("Sandbox running at {public_url} (overview: {public_url}sandbox)");
            stop_requested().await;
            server.stop().await;
            Ok(())
        }
        Command::Demo {
            data_dir,
            connector_listen,
            sandbox_listen,
            orders_every,
        } => {
            let orders_every = Duration::from_secs(orders_every);
            demo(&data_dir, connector_listen, sandbox_listen, orders_every).await
        }
        Command::Bench(args) => crate::bench::run(args).await,
    }
}

async fn open_storage(database_url: &str, key: SecretKey) -> anyhow::Result<Storage> {
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
        budgets: Budgets::scaled(settings.budget_scale),
        shop_http: shops::ShopHttp::new(settings.shop_addresses),
        orders: settings.orders.clone(),
    })
}

async fn serve(server: ServerArgs, workers: bool) -> anyhow::Result<()> {
    let mut settings = server.resolve(true)?;
    let storage = open_storage(&settings.database_url, settings.secret_key.clone()).await?;
    let connector = build_connector(storage, connector_options(&mut settings)?);
    let web = spawn_server(bind(settings.listen).await?, connector.app.clone()).await?;
    let worker = workers.then(|| tokio::spawn(connector.worker.clone().run(web.shutdown_signal())));
    tracing::info!(listen = %web.addr, public_url = %settings.public_url, workers, "marketbridge serving");
    stop_requested().await;
    web.stop().await;
    if let Some(w) = worker {
        let _ = w.await;
    }
    Ok(())
}

async fn worker(server: ServerArgs) -> anyhow::Result<()> {
    let mut settings = server.resolve(true)?;
    let storage = open_storage(&settings.database_url, settings.secret_key.clone()).await?;
    let connector = build_connector(storage, connector_options(&mut settings)?);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(connector.worker.clone().run(rx));
    stop_requested().await;
    let _ = tx.send(true);
    let _ = handle.await;
    Ok(())
}

/// The demo's call budgets: Mirakl's documented frequencies, a minute lasting three seconds.
const DEMO_BUDGET_SCALE: f64 = 0.05;

/// How often the demo's customers buy, unless `--orders-every` says otherwise.
const DEMO_ORDERS_EVERY: Duration = Duration::from_secs(30);

/// How long the demo's customers take to pay once an order is accepted: the address shows
/// on Mirakl (and the shop order is made) a few seconds after the acceptance.
const DEMO_DEBIT_DELAY: Duration = Duration::from_secs(5);

/// Mirakl's three days to accept an order, in demo minutes of three seconds (3.6 hours).
const DEMO_ACCEPTANCE_DELAY: Duration = Duration::from_secs(3 * 24 * 60 * 3);

/// The demo's key lives beside its database; it is created on first run.
fn demo_secret_key(data_dir: &Path) -> anyhow::Result<SecretKey> {
    let path = data_dir.join("secret.key");
    if path.exists() {
        return read_key_file(&path);
    }
    let key = SecretKey::generate();
    write_private_file(&path, key.to_base64().as_bytes())?;
    println!(
        "Created a secret key for the demo at {} (it encrypts the demo's tokens at rest).",
        path.display()
    );
    Ok(key)
}

fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)?;
    Ok(())
}

async fn demo(
    data_dir: &Path,
    connector_listen: SocketAddr,
    sandbox_listen: SocketAddr,
    orders_every: Duration,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let key = demo_secret_key(data_dir)?;
    // Two host names, so the browser keeps the two sites' cookies apart as it would for the
    // real connector and the real Mirakl.
    let connector_url = Url::parse(&format!("http://localhost:{}", connector_listen.port()))?;
    let sandbox_url = Url::parse(&format!("http://127.0.0.1:{}", sandbox_listen.port()))?;
    let redirect_uri = connector_url.join("/oauth/mirakl/callback")?;

    let mut sandbox_config = SandboxConfig::new(sandbox_url.clone());
    sandbox_config.redirect_uris = vec![redirect_uri.to_string()];
    // The demo keeps Mirakl's call budgets, shortened so that a minute lasts three seconds:
    // products arrive in seconds, and the budget logic still runs.
    sandbox_config.budget_scale = DEMO_BUDGET_SCALE;
    let sandbox = Sandbox::new(sandbox_config);
    sandbox.set_debit_delay(DEMO_DEBIT_DELAY);
    sandbox.set_acceptance_delay(DEMO_ACCEPTANCE_DELAY);
    let sandbox_server = spawn_server(bind(sandbox_listen).await?, sandbox.router()).await?;

    let storage = open_storage(&sqlite_url(data_dir), key).await?;
    let connector = build_connector(
        storage,
        ConnectorOptions {
            public_url: connector_url.clone(),
            mas: sandbox_mas_config(&sandbox_url, redirect_uri),
            marketplaces: sandbox_marketplaces(&sandbox_url),
            worker: WorkerConfig {
                poll_interval: Duration::from_secs(2),
                ..WorkerConfig::default()
            },
            token_refresh_margin: TOKEN_REFRESH_MARGIN,
            shop_health_interval: SHOP_HEALTH_INTERVAL,
            connect_url: sandbox_connect_url(&sandbox_url),
            budgets: Budgets::scaled(DEMO_BUDGET_SCALE),
            // The sandbox's demo store is on 127.0.0.1, over plain http.
            shop_http: shops::ShopHttp::new(shops::AddressPolicy::AllowPrivate),
            // Orders polled at the demo's budget scale: every three seconds.
            orders: sync::OrderConfig {
                poll_interval: Duration::from_secs(3),
                ..sync::OrderConfig::default()
            },
        },
    );
    let web = spawn_server(bind(connector_listen).await?, connector.app.clone()).await?;
    let worker = tokio::spawn(connector.worker.clone().run(web.shutdown_signal()));
    let customers = (!orders_every.is_zero())
        .then(|| crate::demo_orders::spawn(sandbox.clone(), orders_every, web.shutdown_signal()));
    let orders_line = if orders_every.is_zero() {
        "none on their own (--orders-every 0); place them with the sandbox's control API".to_owned()
    } else {
        format!(
            "a demo customer buys every {} s or so on each channel with live products \
             (--orders-every; 0 turns it off)",
            orders_every.as_secs()
        )
    };

    println!(
        "\nMarketbridge demo is running.\n\
         \n  Connector:  {connector_url}   (create an account; onboarding starts with Authorize Mirakl Connect)\
         \n  Sandbox:    {sandbox_url}sandbox   (emulated Mirakl; mailbox at {sandbox_url}sandbox/mailbox)\
         \n  Orders:     {orders_line}\
         \n\nDemo credentials (sandbox only):\
         \n  Mirakl login (MAS):       seller@example.com / sandbox-seller-pass\
         \n  Marketplaces:             Demo Marketplace (store ID 2001), Second Marketplace (store ID 3001)\
         \n  Mirakl Connect company:   Demo Company\
         \n  OAuth client:             marketbridge-demo / sandbox-client-secret\
         \n  Shop API key (store 2001): sandbox-shop-api-key\
         \n  WooCommerce store URL:    {sandbox_url}woo/demo-shop\
         \n  WooCommerce admin:        shop-admin@example.com / sandbox-shop-pass\
         \n  WooCommerce REST key:     ck_sandbox_demo / cs_sandbox_demo\
         \n\nData: {} (delete it to start over). Press Ctrl-C to stop.\n",
        data_dir.display()
    );
    stop_requested().await;
    web.stop().await;
    let _ = worker.await;
    if let Some(customers) = customers {
        let _ = customers.await;
    }
    sandbox_server.stop().await;
    Ok(())
}
