//! `marketbridge demo`: the connector on SQLite under a data directory, wired to a sandbox (its
//! own, started in this process, or one already running given by `--sandbox URL`), with the
//! demo's customers buying on the live channels, and with `--connected` the demo seller
//! onboarded and launched. It owns what the demo prints; the wiring is `wiring`'s, the
//! onboarding `onboarding`'s, the customers `demo_orders`'.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use sandbox::{Sandbox, SandboxConfig};
use storage::SecretKey;
use sync::{Budgets, WorkerConfig};
use tokio::task::JoinHandle;
use url::Url;

use crate::cli::open_storage;
use crate::config::{read_key_file, sqlite_url};
use crate::onboarding::{Login, Onboarding, Outcome, SellerWorkspace, ShopKeys};
use crate::wiring::{
    Connector, ConnectorOptions, RunningServer, SHOP_HEALTH_INTERVAL, TOKEN_REFRESH_MARGIN, bind,
    build_connector, sandbox_connect_url, sandbox_marketplaces, sandbox_mas_config, spawn_server,
};

/// The demo's call budgets with a sandbox of its own: Mirakl's documented frequencies, a minute
/// lasting three seconds.
const DEMO_BUDGET_SCALE: f64 = 0.05;

/// How often the demo's customers buy, unless `--orders-every` says otherwise.
pub const DEMO_ORDERS_EVERY: Duration = Duration::from_secs(30);

/// How long the demo's customers take to pay once an order is accepted: the address shows
/// on Mirakl (and the shop order is made) a few seconds after the acceptance.
const DEMO_DEBIT_DELAY: Duration = Duration::from_secs(5);

/// Mirakl's three days to accept an order, in demo minutes of three seconds (3.6 hours).
const DEMO_ACCEPTANCE_DELAY: Duration = Duration::from_secs(3 * 24 * 60 * 3);

/// The connector account `--connected` onboards, printed in the banner (sandbox data only).
pub const SELLER_EMAIL: &str = "demo@example.com";
pub const SELLER_PASSWORD: &str = "demo-seller-pass";

/// Which sandbox the demo uses.
#[derive(Clone, Debug)]
pub enum DemoSandbox {
    /// One of its own in this process, listening here: it starts afresh at every start.
    Own(SocketAddr),
    /// One already running (`marketbridge sandbox`), reached at this URL: it keeps its state
    /// while the demo stops and starts again.
    Running(Url),
}

#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub data_dir: PathBuf,
    pub connector_listen: SocketAddr,
    pub sandbox: DemoSandbox,
    /// How often the customers buy; zero: never.
    pub orders_every: Duration,
    /// Start with the demo seller onboarded and launched.
    pub connected: bool,
}

/// The demo, serving until [`Demo::stop`].
pub struct Demo {
    pub connector_url: Url,
    pub sandbox_url: Url,
    pub connector: Connector,
    /// With `--connected`: what became of the demo seller, and what their workspace holds.
    pub seller: Option<(Outcome, SellerWorkspace)>,
    /// With `--connected`: a read-and-write API token of the demo seller, made at this start.
    pub api_token: Option<String>,
    options: DemoOptions,
    /// Call budgets as the connector applies them (those of the sandbox it uses).
    budgets: Budgets,
    /// The data directory held a workspace before this start.
    earlier_data: bool,
    web: RunningServer,
    worker: JoinHandle<()>,
    customers: Option<JoinHandle<()>>,
    /// The demo's own sandbox, if it has one.
    sandbox: Option<RunningServer>,
}

impl Demo {
    pub async fn start(options: DemoOptions) -> anyhow::Result<Self> {
        // Boxed: the start's state (servers, clients, the seller's onboarding) is too big for
        // the stack of a test's thread.
        Box::pin(Self::start_unboxed(options)).await
    }

    async fn start_unboxed(options: DemoOptions) -> anyhow::Result<Self> {
        let connector_listener = bind(options.connector_listen).await?;
        // Two host names, so the browser keeps the two sites' cookies apart as it would for the
        // real connector and the real Mirakl.
        let connector_url = Url::parse(&format!(
            "http://localhost:{}",
            connector_listener.local_addr()?.port()
        ))?;
        let redirect_uri = connector_url.join("/oauth/mirakl/callback")?;

        let (sandbox_url, budgets, sandbox) = match &options.sandbox {
            DemoSandbox::Own(listen) => {
                let listener = bind(*listen).await?;
                let url = Url::parse(&format!(
                    "http://127.0.0.1:{}",
                    listener.local_addr()?.port()
                ))?;
                let mut config = SandboxConfig::new(url.clone());
                config.redirect_uris = vec![redirect_uri.to_string()];
                // The demo keeps Mirakl's call budgets, shortened so that a minute lasts three
                // seconds: products arrive in seconds, and the budget logic still runs.
                config.budget_scale = DEMO_BUDGET_SCALE;
                let sandbox = Sandbox::new(config);
                crate::wiring::register_sandbox_bigcommerce_app(&sandbox, &connector_url);
                sandbox.set_debit_delay(DEMO_DEBIT_DELAY);
                sandbox.set_acceptance_delay(DEMO_ACCEPTANCE_DELAY);
                let server = spawn_server(listener, sandbox.router()).await?;
                (url, Budgets::scaled(DEMO_BUDGET_SCALE), Some(server))
            }
            DemoSandbox::Running(url) => {
                let scale = running_sandbox_scale(url).await?;
                crate::wiring::register_running_sandbox_bigcommerce_app(url, &connector_url)
                    .await?;
                (url.clone(), Budgets::scaled(scale), None)
            }
        };

        let data_dir = &options.data_dir;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let key = demo_secret_key(data_dir)?;
        let storage = open_storage(&sqlite_url(data_dir), key).await?;
        let earlier_data = !storage.list_workspace_ids().await?.is_empty();
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
                bigcommerce: crate::wiring::sandbox_bigcommerce(&sandbox_url),
                budgets,
                // The sandbox's demo store is on 127.0.0.1, over plain http.
                shop_http: shops::ShopHttp::new(shops::AddressPolicy::AllowPrivate),
                // Orders polled every three seconds: a three-minute poll at the demo's scale.
                orders: sync::OrderConfig {
                    poll_interval: Duration::from_secs(3),
                    ..sync::OrderConfig::default()
                },
            },
        );
        let web = spawn_server(connector_listener, connector.app.clone()).await?;
        let worker = tokio::spawn(connector.worker.clone().run(web.shutdown_signal()));
        let mut demo = Self {
            connector_url,
            sandbox_url,
            connector,
            seller: None,
            api_token: None,
            customers: None,
            options,
            budgets,
            earlier_data,
            web,
            worker,
            sandbox,
        };
        if demo.options.connected {
            match demo.connect_seller().await {
                Ok(seller) => {
                    match demo.api_token_for(seller.0.workspace()).await {
                        Ok(token) => demo.api_token = Some(token),
                        Err(error) => {
                            demo.stop().await;
                            return Err(error.context("creating the demo seller's API token"));
                        }
                    }
                    demo.seller = Some(seller);
                }
                Err(error) => {
                    demo.stop().await;
                    return Err(error.context("onboarding the demo seller"));
                }
            }
        }
        if !demo.options.orders_every.is_zero() {
            demo.customers = Some(crate::demo_orders::spawn(
                demo.sandbox_url.clone(),
                demo.options.orders_every,
                demo.web.shutdown_signal(),
            ));
        }
        Ok(demo)
    }

    /// The demo seller onboarded over HTTP, or their account as an earlier start left it
    /// (what `--connected` does once the connector serves).
    pub async fn connect_seller(&self) -> anyhow::Result<(Outcome, SellerWorkspace)> {
        let shop_url = self.shop_url();
        let outcome = Onboarding::on_the_sandbox(
            &self.connector_url,
            Login {
                email: SELLER_EMAIL,
                password: SELLER_PASSWORD,
            },
            ShopKeys::WooCommerce {
                url: &shop_url,
                consumer_key: sandbox::WOO_DEMO_CONSUMER_KEY,
                consumer_secret: sandbox::WOO_DEMO_CONSUMER_SECRET,
            },
        )
        .run_once(&self.connector.storage)
        .await?;
        let workspace = SellerWorkspace::read(&self.connector.storage, outcome.workspace()).await?;
        Ok((outcome, workspace))
    }

    /// A new read-and-write API token for the workspace, as the Account page makes one; a
    /// token is shown only when made, so each start makes its own.
    async fn api_token_for(&self, ws: domain::WorkspaceId) -> anyhow::Result<String> {
        let secret = web::ApiTokenSecret::mint();
        self.connector
            .storage
            .create_api_token(
                ws,
                storage::NewApiToken {
                    token_hash: &secret.hash(),
                    display_prefix: secret.display_prefix(),
                    name: "demo --connected",
                    scope: storage::ApiScope::ReadWrite,
                },
                storage::now_ms(),
            )
            .await?;
        Ok(secret.expose().to_owned())
    }

    /// The sandbox's demo WooCommerce store.
    fn shop_url(&self) -> String {
        format!(
            "{}/woo/{}",
            self.sandbox_url.as_str().trim_end_matches('/'),
            sandbox::WOO_DEMO_STORE
        )
    }

    /// What the demo prints once it serves: where everything is, and the demo credentials.
    pub fn banner(&self) -> String {
        let connector_url = &self.connector_url;
        let sandbox_url = &self.sandbox_url;
        let shop_url = self.shop_url();
        let every = self.options.orders_every;
        let orders_line = if every.is_zero() {
            "none on their own (--orders-every 0); place them with the sandbox's control API"
                .to_owned()
        } else {
            format!(
                "a demo customer buys every {} s or so on each channel with live products \
                 (--orders-every; 0 turns it off)",
                every.as_secs()
            )
        };
        let connector_line = match &self.seller {
            Some(_) => format!("{connector_url}   (sign in with the demo seller below)"),
            None => format!(
                "{connector_url}   (create an account; onboarding starts with Authorize Mirakl Connect)"
            ),
        };
        let sandbox_line = match &self.options.sandbox {
            DemoSandbox::Own(_) => format!(
                "{sandbox_url}sandbox   (this demo's own emulated Mirakl and store; mailbox at {sandbox_url}sandbox/mailbox)"
            ),
            DemoSandbox::Running(_) => format!(
                "{sandbox_url}sandbox   (the sandbox already running; Mirakl and the store keep their state while the demo restarts)"
            ),
        };
        let budgets = if self.budgets.scale > 0.0 {
            format!(
                "Mirakl's call frequencies at scale {} (as the sandbox applies them)",
                self.budgets.scale
            )
        } else {
            "off, as in the sandbox".to_owned()
        };
        let mut banner = format!(
            "\nMarketbridge demo is running.\n\
             \n  Connector:  {connector_line}\
             \n  Sandbox:    {sandbox_line}\
             \n  Orders:     {orders_line}\
             \n  Budgets:    {budgets}\n"
        );
        if let Some((outcome, workspace)) = &self.seller {
            banner.push_str(&format!(
                "\nDemo seller (--connected): {SELLER_EMAIL} / {SELLER_PASSWORD}\
                 \n  {}\
                 \n  {}\n",
                match outcome {
                    Outcome::Onboarded(_) => "Onboarded now:",
                    Outcome::AlreadyThere(_) => "From an earlier start, as it was left:",
                },
                holdings_in_words(workspace),
            ));
        }
        if let Some(token) = &self.api_token {
            banner.push_str(&format!(
                "\nAPI token of the demo seller (read and write): {token}\
                 \n  curl -H \"Authorization: Bearer {token}\" {connector_url}api/v1/products\
                 \n  Docs: {connector_url}api/v1/docs\n"
            ));
        }
        if self.earlier_data && self.sandbox.is_some() {
            banner.push_str(
                "\nNote: this demo's own sandbox starts afresh at every start, and the data \
                 directory holds an earlier start's work. Mirakl and the store no longer know \
                 its tokens, offers, orders and webhooks: at each channel's first call Mirakl \
                 refuses its token, the renewal is refused too, and the channel shows \
                 Reauthorization needed until it is authorized again (Authorize … again, in its \
                 Settings). Delete the data directory to start over, or, to keep Mirakl and the store across restarts, run `marketbridge \
                 sandbox` and start the demo with --sandbox http://127.0.0.1:8090.\n",
            );
        }
        banner.push_str(&format!(
            "\nDemo credentials (sandbox only):\
             \n  Mirakl login (MAS):       {} / {}\
             \n  Marketplaces:             Demo Marketplace (store ID 2001), Second Marketplace (store ID 3001)\
             \n  Mirakl Connect company:   Demo Company\
             \n  OAuth client:             marketbridge-demo / sandbox-client-secret\
             \n  Shop API key (store 2001): sandbox-shop-api-key\
             \n  WooCommerce store URL:    {shop_url}\
             \n  WooCommerce admin:        {} / {}\
             \n  WooCommerce REST key:     {} / {}\
             \n  BigCommerce My Apps:      {sandbox_url}bc/manage/{} (Install connects the store)\
             \n  BigCommerce API account:  {sandbox_url}bc/stores/{}/v3/ with token {}\
             \n  BigCommerce app:          {} / {}\
             \n\nData: {} (delete it to start over). Press Ctrl-C to stop.\n",
            sandbox::DEMO_SELLER_EMAIL,
            sandbox::DEMO_SELLER_PASSWORD,
            sandbox::WOO_DEMO_ADMIN_EMAIL,
            sandbox::WOO_DEMO_ADMIN_PASSWORD,
            sandbox::WOO_DEMO_CONSUMER_KEY,
            sandbox::WOO_DEMO_CONSUMER_SECRET,
            sandbox::BC_DEMO_STORE_HASH,
            sandbox::BC_DEMO_STORE_HASH,
            sandbox::BC_DEMO_API_TOKEN,
            sandbox::BC_DEMO_CLIENT_ID,
            sandbox::BC_DEMO_CLIENT_SECRET,
            self.options.data_dir.display()
        ));
        banner
    }

    /// Stops the connector, its worker and the customers, then the demo's own sandbox.
    pub async fn stop(self) {
        self.web.stop().await;
        let _ = self.worker.await;
        if let Some(customers) = self.customers {
            let _ = customers.await;
        }
        if let Some(sandbox) = self.sandbox {
            sandbox.stop().await;
        }
    }
}

/// `Mirakl Connect: Live · Demo Marketplace: Live · store http://…/woo/demo-shop connected`.
fn holdings_in_words(workspace: &SellerWorkspace) -> String {
    let mut parts: Vec<String> = workspace
        .channels
        .iter()
        .map(|channel| format!("{}: {}", channel.name, channel.status))
        .collect();
    parts.push(match &workspace.shop {
        Some(shop) => format!("store {} connected", shop.store_url),
        None => "no store connected".to_owned(),
    });
    parts.join(" · ")
}

/// The call-budget scale of the sandbox at `url`, which the connector must apply too or be
/// turned away; an error that says what to do when no demo sandbox answers there.
async fn running_sandbox_scale(url: &Url) -> anyhow::Result<f64> {
    let not_there = || {
        format!(
            "no sandbox answers at {url}: start one with `marketbridge sandbox` (its URL is \
             printed when it starts), or leave --sandbox out to use one of the demo's own"
        )
    };
    let state: serde_json::Value = mirakl::http_client()
        .get(url.join("sandbox/api/state")?)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(not_there)?
        .json()
        .await
        .with_context(not_there)?;
    let has_demo_client = state["clients"].as_array().is_some_and(|clients| {
        clients
            .iter()
            .any(|c| c["client_id"] == "marketbridge-demo")
    });
    anyhow::ensure!(
        has_demo_client,
        "the sandbox at {url} has no demo data (was it started with --empty?): start it without"
    );
    Ok(state["budget_scale"].as_f64().unwrap_or(0.0))
}

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
