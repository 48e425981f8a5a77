//! What the `catalog` and `delta` benchmarks stand on: the sandbox and the connector in this
//! process, wired as `demo` wires them (through `wiring`, both on port 0, SQLite in a
//! temporary directory); a sandbox WooCommerce store of the size asked for; a workspace
//! onboarded over HTTP as a seller does it, with Mirakl Connect and Demo Marketplace (store
//! 2001) live; and the counts that tell whether the channels show the whole catalog.
//! The `orders` benchmark stands on the same, with its own order settings.

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use domain::catalog::{CatalogItem, offer_for};
use domain::{ChannelId, ChannelKind, ItemState, WorkspaceId};
use sandbox::{Sandbox, SandboxConfig, WooStoreCreated};
use storage::{SecretKey, Storage, now_ms};
use sync::{Budgets, OrderConfig, WorkerConfig};
use url::Url;

use crate::config::sqlite_url;
use crate::onboarding::{Login, Onboarding, SellerWorkspace, ShopKeys, workspace_of};
use crate::wiring::{
    Connector, ConnectorOptions, RunningServer, SHOP_HEALTH_INTERVAL, TOKEN_REFRESH_MARGIN, bind,
    build_connector, sandbox_connect_url, sandbox_marketplaces, sandbox_mas_config, spawn_server,
};

/// Shop products in `catalog` and `delta` unless told otherwise.
pub const DEFAULT_PRODUCTS: u64 = 10_000;
/// How often the worker looks for due work (`serve` uses seconds; a benchmark wants detail).
pub const DEFAULT_POLL: Duration = Duration::from_millis(50);

/// The sandbox's demo marketplace, store and Connect company (its catalog knows the demo
/// store's GTINs, not those of a bigger store: see the `catalog` scenario's notes).
pub const MARKETPLACE: &str = "demo-marketplace";
pub const STORE_ID: i64 = 2001;
pub const COMPANY: &str = "demo-company";
pub const STORE_CODE: &str = "bench-shop";
/// The BigCommerce benchmark store's hash and API token.
pub const BC_STORE_HASH: &str = "bench-bc";
const BC_STORE_TOKEN: &str = "bench-bc-token";
const SELLER_EMAIL: &str = "bench@example.com";
const SELLER_PASSWORD: &str = "benchmark seller password";

/// The sandbox counters a benchmark reports under `calls` besides [`CATALOG_COUNTERS`].
const OTHER_COUNTERS: [&str; 8] = [
    "mas.token",
    "woo.rest",
    "mmp.a01",
    "woo.rest.webhooks",
    "budget.exceeded",
    "bc.rest",
    "bc.rest.hooks",
    "bc.rate_limited",
];

/// The calls of the order flow: Mirakl's order operations and the shop's orders.
const ORDER_COUNTERS: [&str; 21] = [
    "mmp.or11",
    "mmp.or21",
    // OR21 sent for an order already decided: an acceptance made twice.
    "mmp.or21.repeated",
    "mmp.or23",
    "mmp.or24",
    "mmp.or28",
    "mmp.or29",
    "mmp.sh21",
    "connect.orders.get",
    "connect.orders.accept",
    "connect.orders.shipments",
    "connect.orders.cancel",
    "connect.orders.refund",
    "connect.orders.actions.get",
    "woo.rest.orders",
    "woo.rest.order_notes",
    "woo.rest.order_refunds",
    "bc.rest.orders",
    "bc.rest.order_products",
    "bc.rest.shipments",
    "mmp.st01",
];

/// The calls that read or write catalog data: when nothing changes, none may happen.
const CATALOG_COUNTERS: [&str; 17] = [
    "woo.rest.products",
    "woo.rest.variations",
    "bc.rest.products",
    "bc.rest.categories",
    "bc.rest.brands",
    "mmp.of01",
    "mmp.of02",
    "mmp.of03",
    "mmp.of04",
    "mmp.of21",
    "mmp.of24",
    "mmp.p41",
    "mmp.p42",
    "mmp.p44",
    "connect.products.post",
    "connect.products.get",
    "connect.products.delete",
];

/// The sandbox and the connector, serving, with the connector's worker idle until a scenario
/// runs it.
/// Which shop the benchmark's store runs on.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShopKind {
    #[default]
    Woocommerce,
    Bigcommerce,
}

/// The benchmark's store, made by [`BenchEnv::create_store`].
pub enum BenchStore {
    WooCommerce(WooStoreCreated),
    BigCommerce { api_path: String },
}

/// A shop order, as the benchmarks read it.
pub struct BenchShopOrder {
    pub mirakl_order_id: Option<String>,
    /// `(SKU, the stock the shop counts for the item now, when it counts it)`.
    pub lines: Vec<(String, Option<i64>)>,
}

pub struct BenchEnv {
    pub sandbox: Sandbox,
    /// Which shop [`BenchEnv::create_store`] makes.
    pub shop: ShopKind,
    pub connector: Connector,
    pub poll_interval: Duration,
    connector_url: Url,
    sandbox_url: Url,
    database_url: String,
    secret_key: SecretKey,
    servers: Vec<RunningServer>,
    _data_dir: DataDir,
}

/// The onboarded workspace and its two live channels.
#[derive(Clone, Copy, Debug)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub connect: ChannelId,
    pub marketplace: ChannelId,
}

impl BenchEnv {
    /// Mirakl's budgets apply in both the sandbox and the connector at `budgets.scale`; orders
    /// are polled as `serve` polls them.
    pub async fn start(budgets: Budgets, poll_interval: Duration) -> anyhow::Result<Self> {
        Self::start_with_orders(budgets, poll_interval, OrderConfig::default()).await
    }

    /// [`BenchEnv::start`], with the order flow configured by `orders`.
    pub async fn start_with_orders(
        budgets: Budgets,
        poll_interval: Duration,
        orders: OrderConfig,
    ) -> anyhow::Result<Self> {
        let data_dir = DataDir::create()?;
        let any_port = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let connector_listener = bind(any_port).await?;
        let sandbox_listener = bind(any_port).await?;
        // Two host names, as in `demo`, so the seller's cookies stay apart.
        let connector_url = Url::parse(&format!(
            "http://localhost:{}",
            connector_listener.local_addr()?.port()
        ))?;
        let sandbox_url = Url::parse(&format!(
            "http://127.0.0.1:{}",
            sandbox_listener.local_addr()?.port()
        ))?;
        let redirect_uri = connector_url.join("/oauth/mirakl/callback")?;

        let mut sandbox_config = SandboxConfig::new(sandbox_url.clone());
        sandbox_config.redirect_uris = vec![redirect_uri.to_string()];
        sandbox_config.budget_scale = budgets.scale;
        let sandbox = Sandbox::new(sandbox_config);

        let database_url = sqlite_url(&data_dir.0);
        let secret_key = SecretKey::generate();
        let storage = Storage::connect(&database_url, secret_key.clone())
            .await
            .context("opening the benchmark's database")?;
        storage
            .migrate()
            .await
            .context("applying the database migrations")?;
        let connector = build_connector(
            storage,
            ConnectorOptions {
                public_url: connector_url.clone(),
                mas: sandbox_mas_config(&sandbox_url, redirect_uri),
                marketplaces: sandbox_marketplaces(&sandbox_url),
                worker: WorkerConfig {
                    poll_interval,
                    ..WorkerConfig::default()
                },
                token_refresh_margin: TOKEN_REFRESH_MARGIN,
                shop_health_interval: SHOP_HEALTH_INTERVAL,
                connect_url: sandbox_connect_url(&sandbox_url),
                bigcommerce: crate::wiring::sandbox_bigcommerce(&sandbox_url),
                budgets,
                // The sandbox store is on 127.0.0.1, over plain http.
                shop_http: shops::ShopHttp::new(shops::AddressPolicy::AllowPrivate),
                orders,
            },
        );
        let servers = vec![
            spawn_server(sandbox_listener, sandbox.router()).await?,
            spawn_server(connector_listener, connector.app.clone()).await?,
        ];
        Ok(Self {
            shop: ShopKind::default(),
            sandbox,
            connector,
            poll_interval,
            connector_url,
            sandbox_url,
            database_url,
            secret_key,
            servers,
            _data_dir: data_dir,
        })
    }

    pub async fn stop(self) {
        for server in self.servers {
            server.stop().await;
        }
    }

    pub fn storage(&self) -> &Storage {
        &self.connector.storage
    }

    /// A `marketbridge worker` process of `binary` (this one unless told) on this benchmark's
    /// database and sandbox, with the connector's budgets and order settings.
    pub fn worker_process(
        &self,
        binary: Option<&std::path::Path>,
        budgets: Budgets,
        orders: &OrderConfig,
    ) -> anyhow::Result<std::process::Command> {
        let exe = match binary {
            Some(path) => path.to_owned(),
            None => std::env::current_exe().context("finding the marketbridge binary")?,
        };
        Ok(crate::wiring::SandboxWorker {
            database_url: &self.database_url,
            secret_key: &self.secret_key,
            public_url: &self.connector_url,
            sandbox_url: &self.sandbox_url,
            budgets,
            orders,
        }
        .command(&exe))
    }

    /// A sandbox store of `products` products, a third of them variable (the demo catalog's
    /// generator: 2–6 variations each), on the benchmark's shop.
    pub fn create_store(&self, products: u64) -> anyhow::Result<BenchStore> {
        let variable = (products / 3) as usize;
        let simple = products as usize - variable;
        Ok(match self.shop {
            ShopKind::Woocommerce => BenchStore::WooCommerce(self.sandbox.woo_create_store_with(
                STORE_CODE,
                "Benchmark Shop",
                simple,
                variable,
            )?),
            ShopKind::Bigcommerce => {
                self.sandbox.bc_create_store_with(
                    BC_STORE_HASH,
                    "Benchmark Shop",
                    BC_STORE_TOKEN,
                    simple,
                    variable,
                );
                BenchStore::BigCommerce {
                    api_path: format!("{}bc/stores/{BC_STORE_HASH}/v3/", self.sandbox_url),
                }
            }
        })
    }

    /// Sets the shop's stock of a product (or one of its variations), as the seller would.
    pub fn set_stock(&self, product: i64, variation: Option<i64>, quantity: i64) {
        match self.shop {
            ShopKind::Woocommerce => {
                self.sandbox
                    .woo_set_stock(STORE_CODE, variation.unwrap_or(product), quantity)
            }
            ShopKind::Bigcommerce => {
                self.sandbox
                    .bc_set_stock(BC_STORE_HASH, product, variation, quantity)
            }
        }
    }

    /// Sets the shop's price of a product (or one of its variations), as the seller would.
    pub fn set_price(&self, product: i64, variation: Option<i64>, price: &str) {
        match self.shop {
            ShopKind::Woocommerce => {
                self.sandbox
                    .woo_set_price(STORE_CODE, variation.unwrap_or(product), price, None)
            }
            ShopKind::Bigcommerce => {
                self.sandbox
                    .bc_set_price(BC_STORE_HASH, product, variation, price)
            }
        }
    }

    /// The shop's order ids, oldest first.
    pub fn shop_order_ids(&self) -> Vec<i64> {
        match self.shop {
            ShopKind::Woocommerce => self.sandbox.woo_order_ids(STORE_CODE),
            ShopKind::Bigcommerce => self.sandbox.bc_order_ids(BC_STORE_HASH),
        }
    }

    /// One shop order: the Mirakl order it carries and its lines.
    pub fn shop_order(&self, id: i64) -> Option<BenchShopOrder> {
        match self.shop {
            ShopKind::Woocommerce => {
                let order = self.sandbox.woo_order(STORE_CODE, id)?;
                let mirakl_order_id = order["meta_data"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|meta| meta["key"] == "mirakl_order_id")
                    .and_then(|meta| meta["value"].as_str())
                    .map(str::to_owned);
                let lines = order["line_items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|line| {
                        let holder = match line["variation_id"].as_i64() {
                            Some(variation) if variation > 0 => variation,
                            _ => line["product_id"].as_i64().unwrap_or(0),
                        };
                        let stock = self
                            .sandbox
                            .woo_product(STORE_CODE, holder)
                            .filter(|product| product["manage_stock"] == true)
                            .and_then(|product| product["stock_quantity"].as_i64());
                        (line["sku"].as_str().unwrap_or_default().to_owned(), stock)
                    })
                    .collect();
                Some(BenchShopOrder {
                    mirakl_order_id,
                    lines,
                })
            }
            ShopKind::Bigcommerce => {
                let order = self.sandbox.bc_order(BC_STORE_HASH, id)?;
                let mirakl_order_id = order["external_order_id"]
                    .as_str()
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned);
                let lines = self
                    .sandbox
                    .bc_order_lines(BC_STORE_HASH, id)
                    .iter()
                    .map(|line| {
                        let product = line["product_id"].as_i64().unwrap_or(0);
                        let variant = line["variant_id"].as_i64().filter(|v| *v > 0);
                        let stock = self.sandbox.bc_item_stock(BC_STORE_HASH, product, variant);
                        (line["sku"].as_str().unwrap_or_default().to_owned(), stock)
                    })
                    .collect();
                Some(BenchShopOrder {
                    mirakl_order_id,
                    lines,
                })
            }
        }
    }

    /// Signs up, adds Demo Marketplace (authorized on MAS, store 2001 verified, launched),
    /// then onboards: Mirakl Connect, the store with its REST keys, the default settings,
    /// Launch. The full read that Launch queues is left for the scenario to run and time.
    pub async fn onboard(&self, store: &BenchStore) -> anyhow::Result<Workspace> {
        let keys = match store {
            BenchStore::WooCommerce(store) => ShopKeys::WooCommerce {
                url: &store.url,
                consumer_key: &store.consumer_key,
                consumer_secret: &store.consumer_secret,
            },
            BenchStore::BigCommerce { api_path } => ShopKeys::BigCommerce {
                api_path,
                access_token: BC_STORE_TOKEN,
            },
        };
        Onboarding::on_the_sandbox(
            &self.connector_url,
            Login {
                email: SELLER_EMAIL,
                password: SELLER_PASSWORD,
            },
            keys,
        )
        .run(Some(&self.connector.worker))
        .await?;
        self.workspace().await
    }

    async fn workspace(&self) -> anyhow::Result<Workspace> {
        onboarded_workspace(self.storage(), SELLER_EMAIL).await
    }

    /// Runs the worker pass after pass, as `serve` would with nothing else to do, until both
    /// channels hold the whole catalog in a final state (live or refused) or `limit` passes.
    pub async fn run_until_settled(&self, ws: &Workspace, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let ran = self.connector.worker.tick().await?;
            if self.settled(ws).await? {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the export did not settle within {} s", limit.as_secs_f64());
            }
            if ran == 0 {
                tokio::time::sleep(self.poll_interval).await;
            }
        }
    }

    async fn settled(&self, ws: &Workspace) -> anyhow::Result<bool> {
        export_settled(self.storage(), ws).await
    }

    /// What the channels show of the catalog, against what the connector read.
    pub async fn tally(&self, ws: &Workspace) -> anyhow::Result<Tally> {
        let storage = self.storage();
        let settings = self
            .connector
            .worker
            .catalog()
            .settings_for(ws.id, ws.marketplace)
            .await?;
        let now = now_ms();
        let mut tally = Tally::default();
        let mut after: Option<String> = None;
        loop {
            let page = storage
                .catalog_page(ws.id, after.as_deref(), 1000, false)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.sku.clone());
            let skus: Vec<String> = page.iter().map(|r| r.sku.clone()).collect();
            let mut offerable = HashSet::new();
            for row in &page {
                let item: CatalogItem = serde_json::from_str(&row.data)?;
                tally.items += 1;
                if offer_for(&item, &settings, now).is_ok() {
                    offerable.insert(row.sku.as_str());
                }
            }
            tally.with_gtin += offerable.len() as u64;
            for item in storage
                .channel_items_for(ws.id, ws.marketplace, &skus)
                .await?
            {
                match item.state {
                    ItemState::Live => tally.marketplace_live += 1,
                    // Refused by the marketplace (an OF03 line), not before sending.
                    ItemState::Error if offerable.contains(item.sku.as_str()) => {
                        tally.error_lines += 1
                    }
                    _ => {}
                }
            }
        }
        let offers = self.sandbox.marketplace_offers(MARKETPLACE, STORE_ID);
        let products = self.sandbox.connect_products(COMPANY);
        tally.marketplace_offers = offers.len() as u64;
        tally.connect_products = products.len() as u64;
        tally.duplicates = repeated(offers.iter().map(|o| o["shop_sku"].to_string()))
            + repeated(products.iter().map(|p| p["id"].to_string()));
        Ok(tally)
    }

    /// The sandbox's counters now.
    pub fn calls(&self) -> CallCounts {
        CallCounts(
            OTHER_COUNTERS
                .iter()
                .chain(&CATALOG_COUNTERS)
                .chain(&ORDER_COUNTERS)
                .map(|name| (*name, self.sandbox.call_count(name)))
                .collect(),
        )
    }
}

/// What the channels show of the catalog.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Catalog items the connector read from the shop.
    pub items: u64,
    /// Items with a valid GTIN (and a price): those a marketplace offer can be made of.
    pub with_gtin: u64,
    /// Offers the marketplace shows, and items the connector records as live there.
    pub marketplace_offers: u64,
    pub marketplace_live: u64,
    /// Offers the marketplace refused (OF03 error lines), each attached to its SKU.
    pub error_lines: u64,
    pub connect_products: u64,
    /// SKUs shown more than once on a channel.
    pub duplicates: u64,
}

impl Tally {
    /// Items that should be on a channel, or reported as refused by it, and are neither.
    pub fn lost(&self) -> u64 {
        self.with_gtin
            .saturating_sub(self.marketplace_offers + self.error_lines)
            + self.items.saturating_sub(self.connect_products)
    }

    pub fn verdict(&self) -> &'static str {
        let complete = self.marketplace_offers + self.error_lines == self.with_gtin
            && self.marketplace_offers == self.marketplace_live
            && self.connect_products == self.items;
        if complete && self.duplicates == 0 {
            "ok"
        } else {
            "MISMATCH"
        }
    }
}

/// The workspace of the seller signed up with `email`, and its live Connect and marketplace
/// channels.
pub(crate) async fn onboarded_workspace(
    storage: &Storage,
    email: &str,
) -> anyhow::Result<Workspace> {
    let id = workspace_of(storage, email)
        .await?
        .context("the sign-up made no workspace")?;
    let workspace = SellerWorkspace::read(storage, id).await?;
    let live = |kind: ChannelKind| {
        workspace
            .live(kind)
            .with_context(|| format!("the onboarding left no live {kind:?} channel"))
    };
    Ok(Workspace {
        id,
        connect: live(ChannelKind::MiraklConnect)?,
        marketplace: live(ChannelKind::Marketplace)?,
    })
}

/// The shop was read, every item has its final state on both channels, and no import is
/// open.
pub(crate) async fn export_settled(storage: &Storage, ws: &Workspace) -> anyhow::Result<bool> {
    let read = storage
        .get_shop(ws.id)
        .await?
        .is_some_and(|shop| shop.catalog_read_at_ms.is_some());
    if !read {
        return Ok(false);
    }
    let items = storage.catalog_count(ws.id).await?;
    for channel in [ws.connect, ws.marketplace] {
        let counts = storage.item_state_counts(ws.id, channel).await?;
        let rows: i64 = counts.iter().map(|(_, n)| n).sum();
        let unsettled = counts
            .iter()
            .any(|(state, n)| matches!(state, ItemState::Waiting | ItemState::Sent) && *n > 0);
        if unsettled || rows < items {
            return Ok(false);
        }
    }
    Ok(storage
        .open_imports(ws.id, ws.marketplace)
        .await?
        .is_empty())
}

pub(crate) fn repeated(keys: impl Iterator<Item = String>) -> u64 {
    let mut seen = HashSet::new();
    keys.filter(|k| !seen.insert(k.clone())).count() as u64
}

/// A snapshot of the sandbox's call counters.
#[derive(Clone, Debug)]
pub struct CallCounts(BTreeMap<&'static str, u64>);

impl CallCounts {
    /// The calls made since `earlier`, by operation, those that happened only.
    pub fn since(&self, earlier: &CallCounts) -> BTreeMap<String, u64> {
        self.0
            .iter()
            .map(|(name, n)| {
                (
                    name.to_string(),
                    n - earlier.0.get(name).copied().unwrap_or(0),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// The catalog calls made since `earlier`, by operation, those that happened only.
    pub fn catalog_since(&self, earlier: &CallCounts) -> BTreeMap<String, u64> {
        self.since(earlier)
            .into_iter()
            .filter(|(name, _)| CATALOG_COUNTERS.contains(&name.as_str()))
            .collect()
    }
}

/// A directory of its own under the system's temporary directory, removed when dropped.
struct DataDir(PathBuf);

impl DataDir {
    fn create() -> anyhow::Result<Self> {
        let path =
            std::env::temp_dir().join(format!("marketbridge-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
