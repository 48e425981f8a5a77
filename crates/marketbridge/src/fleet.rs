//! Many nodes on one PostgreSQL database, as an operator runs them: one `marketbridge serve
//! --no-workers` process (the pages and the webhooks) and any number of `marketbridge worker`
//! processes, all of this binary, against one sandbox served from this process, on a database
//! made for the run and dropped after it. Sellers are added as Mirakl would have them (a MAS
//! login, a marketplace store and a Connect company each, and a WooCommerce store) and
//! onboarded over HTTP on the `serve` process, as in a browser.
//!
//! The three-process integration test and `marketbridge bench fleet` stand on it; a worker can
//! be SIGKILLed at any moment and others started.

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use domain::ItemState;
use sandbox::{Sandbox, SandboxConfig};
use storage::scratch::ScratchDatabase;
use storage::{SecretKey, Storage};
use sync::{Budgets, OrderConfig};
use url::Url;

use crate::bench::setup::{Workspace, export_settled, onboarded_workspace, repeated};
use crate::onboarding::{Login, Onboarding, ShopKeys};
use crate::wiring::{RunningServer, SandboxWorker, bind, spawn_server};

/// The marketplace every seller of a fleet sells on (the sandbox's demo one).
pub const MARKETPLACE: &str = "demo-marketplace";
/// Seller `n`'s store on it is `FIRST_STORE_ID + n`.
pub const FIRST_STORE_ID: i64 = 10_000;
const SELLER_PASSWORD: &str = "fleet seller password";
const MAS_PASSWORD: &str = "fleet seller MAS password";
/// How long `serve` may take to answer `/readyz`.
const READY_LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
pub struct FleetOptions {
    /// A PostgreSQL server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`): a database
    /// is made on it for the run.
    pub admin_url: String,
    /// The made database's name is this and a UUIDv7 (the tests give theirs, so that what a
    /// failed test leaves is swept with their other databases).
    pub database_prefix: &'static str,
    /// The `marketbridge` binary the nodes run.
    pub binary: PathBuf,
    /// In the sandbox and in every node.
    pub budgets: Budgets,
    pub orders: OrderConfig,
    /// Jobs each worker runs at once.
    pub concurrency: usize,
    /// The job lease of every worker (`--job-lease-seconds`).
    pub lease_seconds: u64,
}

/// The sandbox, the database and the processes.
pub struct Fleet {
    pub sandbox: Sandbox,
    /// This process's own connection to the nodes' database, to look, not to work.
    pub storage: Storage,
    /// The `serve` process, as sellers' browsers reach it.
    pub connector_url: Url,
    node: Node,
    database: ScratchDatabase,
    /// `None` once stopped.
    sandbox_server: Option<RunningServer>,
    /// `None` once stopped.
    serve: Option<Child>,
    /// Every worker started, in order; `None` once killed.
    workers: Vec<Option<Child>>,
}

/// A seller of the fleet: their store codes and their onboarded workspace.
#[derive(Clone, Debug)]
pub struct Seller {
    pub n: usize,
    pub email: String,
    /// Their WooCommerce store in the sandbox.
    pub store: String,
    /// Their store on [`MARKETPLACE`] and their Connect company.
    pub shop_id: i64,
    pub company: String,
    pub workspace: Workspace,
}

/// What a seller's channels show, against what the connector read from their shop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SellerTally {
    /// Items the connector read from the shop.
    pub items: u64,
    /// Items the connector records as live on Connect, and Connect's products.
    pub connect_live: u64,
    pub connect_products: u64,
    /// Items the connector records as live on the marketplace, and the store's offers.
    pub marketplace_live: u64,
    pub marketplace_offers: u64,
    /// SKUs shown more than once on a channel.
    pub duplicates: u64,
}

impl SellerTally {
    /// Every item on Connect, every offer the connector counts live on the marketplace and
    /// no other, and nothing twice.
    pub fn complete(&self) -> bool {
        self.connect_products == self.items
            && self.connect_live == self.items
            && self.marketplace_offers == self.marketplace_live
            && self.duplicates == 0
    }
}

impl Fleet {
    /// A new database, the sandbox, and `serve --no-workers`, ready; no worker yet.
    pub async fn start(options: FleetOptions) -> anyhow::Result<Self> {
        let database = ScratchDatabase::create(&options.admin_url, options.database_prefix)
            .await
            .with_context(|| {
                format!(
                    "making a database for the run on {} (is PostgreSQL running?)",
                    options.admin_url
                )
            })?;
        let secret_key = SecretKey::generate();
        let storage = Storage::connect(&database.url, secret_key.clone())
            .await
            .context("opening the fleet's database")?;
        // Before any node starts, so none of them races another to apply them.
        storage
            .migrate()
            .await
            .context("applying the database migrations")?;

        let sandbox_listener = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let sandbox_url = Url::parse(&format!(
            "http://127.0.0.1:{}",
            sandbox_listener.local_addr()?.port()
        ))?;
        let port = free_port()?;
        // Two host names, as in `demo`, so the seller's cookies stay apart.
        let connector_url = Url::parse(&format!("http://localhost:{port}"))?;
        let mut config = SandboxConfig::new(sandbox_url.clone());
        config.redirect_uris = vec![connector_url.join("/oauth/mirakl/callback")?.to_string()];
        config.budget_scale = options.budgets.scale;
        let sandbox = Sandbox::new(config);
        let sandbox_server = spawn_server(sandbox_listener, sandbox.router()).await?;

        let node = Node {
            database_url: database.url.clone(),
            secret_key,
            connector_url: connector_url.clone(),
            sandbox_url,
            options,
        };
        let serve = node
            .command(&["serve", "--no-workers"])
            .env("MARKETBRIDGE_LISTEN", format!("127.0.0.1:{port}"))
            .spawn()
            .context("starting marketbridge serve")?;
        let mut fleet = Self {
            sandbox,
            storage,
            connector_url,
            node,
            database,
            sandbox_server: Some(sandbox_server),
            serve: Some(serve),
            workers: Vec::new(),
        };
        if let Err(e) = fleet.wait_until_ready().await {
            let _ = fleet.stop().await;
            return Err(e);
        }
        Ok(fleet)
    }

    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let url = self.connector_url.join("/readyz")?;
        let started = Instant::now();
        loop {
            let serve = self.serve.as_mut().context("serve is stopped")?;
            if let Some(status) = serve.try_wait()? {
                bail!("marketbridge serve stopped at start ({status}); its errors are above");
            }
            let ready = client
                .get(url.clone())
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            if started.elapsed() > READY_LIMIT {
                bail!("marketbridge serve was not ready within {READY_LIMIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts another `marketbridge worker`; returns its number.
    pub fn start_worker(&mut self) -> anyhow::Result<usize> {
        let child = self
            .node
            .command(&["worker"])
            .spawn()
            .context("starting marketbridge worker")?;
        self.workers.push(Some(child));
        Ok(self.workers.len() - 1)
    }

    /// SIGKILLs worker `n`: no shutdown, its leases held, its jobs cut wherever they were.
    pub fn kill_worker(&mut self, n: usize) -> anyhow::Result<()> {
        let mut child = self
            .workers
            .get_mut(n)
            .and_then(Option::take)
            .with_context(|| format!("no worker {n} is running"))?;
        child.kill().context("killing the worker")?;
        child.wait().context("reaping the killed worker")?;
        Ok(())
    }

    /// The workers running now, by number.
    pub fn running_workers(&mut self) -> Vec<usize> {
        self.workers
            .iter_mut()
            .enumerate()
            .filter_map(|(n, w)| {
                let child = w.as_mut()?;
                child.try_wait().ok().flatten().is_none().then_some(n)
            })
            .collect()
    }

    /// The most memory each process running now has held (VmHWM, MB), by name: `serve`,
    /// `worker-1`, …
    pub fn peak_rss_mb(&self) -> BTreeMap<String, f64> {
        self.per_process(process_peak_rss_mb)
    }

    /// The CPU time each process running now has used (user and system, seconds), by name as
    /// in [`Fleet::peak_rss_mb`].
    pub fn cpu_seconds(&self) -> BTreeMap<String, f64> {
        self.per_process(process_cpu_seconds)
    }

    /// `read` of each process running now that it has a figure for, by name.
    fn per_process(&self, read: impl Fn(u32) -> Option<f64>) -> BTreeMap<String, f64> {
        let serve = self.serve.iter().map(|c| ("serve".to_owned(), c));
        let workers = self
            .workers
            .iter()
            .enumerate()
            .filter_map(|(n, w)| w.as_ref().map(|c| (format!("worker-{}", n + 1), c)));
        serve
            .chain(workers)
            .filter_map(|(name, child)| Some((name, read(child.id())?)))
            .collect()
    }

    /// Seller `n`, with a WooCommerce store of `products` products (a third variable), their
    /// own MAS login, store and Connect company in the sandbox, signed up and onboarded on the
    /// `serve` process as in a browser. Their catalog export starts at its Launch, on whichever
    /// worker claims it.
    pub async fn add_seller(&self, n: usize, products: u64) -> anyhow::Result<Seller> {
        let email = format!("seller-{n}@fleet.example.com");
        let mas_email = format!("mas-{n}@fleet.example.com");
        let shop_id = FIRST_STORE_ID + n as i64;
        let company = format!("fleet-company-{n}");
        let store = format!("fleet-{n}");
        if !self
            .sandbox
            .add_seller(&mas_email, MAS_PASSWORD, MARKETPLACE, shop_id, &company)
        {
            bail!("seller {n} exists already in the sandbox");
        }
        let variable = (products / 3) as usize;
        let created = self.sandbox.woo_create_store_with(
            &store,
            &format!("Fleet Shop {n}"),
            products as usize - variable,
            variable,
        )?;
        Onboarding {
            connector_url: &self.connector_url,
            seller: Login {
                email: &email,
                password: SELLER_PASSWORD,
            },
            mas: Login {
                email: &mas_email,
                password: MAS_PASSWORD,
            },
            marketplace: MARKETPLACE,
            store_id: shop_id,
            company: &company,
            shop: ShopKeys::WooCommerce {
                url: &created.url,
                consumer_key: &created.consumer_key,
                consumer_secret: &created.consumer_secret,
            },
        }
        .run(None)
        .await
        .with_context(|| format!("onboarding seller {n}"))?;
        let workspace = onboarded_workspace(&self.storage, &email).await?;
        Ok(Seller {
            n,
            email,
            store,
            shop_id,
            company,
            workspace,
        })
    }

    /// The seller's shop was read and every item has its final state on both channels.
    pub async fn settled(&self, seller: &Seller) -> anyhow::Result<bool> {
        export_settled(&self.storage, &seller.workspace).await
    }

    /// What the seller's channels show.
    pub async fn tally(&self, seller: &Seller) -> anyhow::Result<SellerTally> {
        let ws = &seller.workspace;
        let live = |counts: Vec<(ItemState, i64)>| {
            counts
                .into_iter()
                .filter(|(state, _)| *state == ItemState::Live)
                .map(|(_, n)| n as u64)
                .sum::<u64>()
        };
        let offers = self.sandbox.marketplace_offers(MARKETPLACE, seller.shop_id);
        let products = self.sandbox.connect_products(&seller.company);
        Ok(SellerTally {
            items: self.storage.catalog_count(ws.id).await? as u64,
            connect_live: live(self.storage.item_state_counts(ws.id, ws.connect).await?),
            connect_products: products.len() as u64,
            marketplace_live: live(
                self.storage
                    .item_state_counts(ws.id, ws.marketplace)
                    .await?,
            ),
            marketplace_offers: offers.len() as u64,
            duplicates: repeated(offers.iter().map(|o| o["shop_sku"].to_string()))
                + repeated(products.iter().map(|p| p["id"].to_string())),
        })
    }

    /// How many shop orders each Mirakl order id has in the seller's store.
    pub fn shop_orders_per_mirakl_order(&self, seller: &Seller) -> BTreeMap<String, usize> {
        woo_orders_per_mirakl_order(&self.sandbox, &seller.store)
    }

    /// The seller's SKUs live on the marketplace (their offers).
    pub fn offered_skus(&self, seller: &Seller) -> HashSet<String> {
        self.sandbox
            .marketplace_offers(MARKETPLACE, seller.shop_id)
            .iter()
            .filter_map(|o| o["shop_sku"].as_str().map(str::to_owned))
            .collect()
    }

    /// SIGTERM to every node (each finishes or hands back its jobs), then the sandbox stops
    /// and the database is dropped.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let mut children: Vec<Child> = self.workers.drain(..).flatten().collect();
        children.extend(self.serve.take());
        for child in &children {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        for mut child in children {
            // A node that does not stop within its limit is killed.
            let deadline = Instant::now() + crate::wiring::STOP_LIMIT + Duration::from_secs(5);
            while child.try_wait()?.is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        if let Some(server) = self.sandbox_server.take() {
            server.stop().await;
        }
        self.storage.close().await;
        self.database
            .clone()
            .drop_now()
            .await
            .context("dropping the fleet's database")?;
        Ok(())
    }
}

/// A fleet dropped without [`Fleet::stop`] (a failed test, an error) leaves no process
/// behind: each is killed. Its database stays, named by its time, for the operator to drop.
impl Drop for Fleet {
    fn drop(&mut self) {
        for mut child in self.workers.drain(..).flatten().chain(self.serve.take()) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What every node of the fleet is started with.
struct Node {
    database_url: String,
    secret_key: SecretKey,
    connector_url: Url,
    sandbox_url: Url,
    options: FleetOptions,
}

impl Node {
    /// A node's command: the fleet's database, sandbox and settings; its errors on stderr.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = SandboxWorker {
            database_url: &self.database_url,
            secret_key: &self.secret_key,
            public_url: &self.connector_url,
            sandbox_url: &self.sandbox_url,
            budgets: self.options.budgets,
            orders: &self.options.orders,
        }
        .command_with(&self.options.binary, args);
        command
            .env(
                "MARKETBRIDGE_WORKER_CONCURRENCY",
                self.options.concurrency.to_string(),
            )
            .env(
                "MARKETBRIDGE_JOB_LEASE_SECONDS",
                self.options.lease_seconds.to_string(),
            )
            .stderr(Stdio::inherit());
        command
    }
}

/// How many orders each Mirakl order id has in the sandbox's WooCommerce store `store` (by
/// their `mirakl_order_id` meta): more than one is a duplicate.
pub fn woo_orders_per_mirakl_order(sandbox: &Sandbox, store: &str) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for id in sandbox.woo_order_ids(store) {
        let Some(order) = sandbox.woo_order(store, id) else {
            continue;
        };
        let mirakl = order["meta_data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["key"] == "mirakl_order_id")
            .and_then(|m| m["value"].as_str());
        if let Some(mirakl) = mirakl {
            *count.entry(mirakl.to_owned()).or_insert(0) += 1;
        }
    }
    count
}

/// A port free on 127.0.0.1 now (the node that takes it binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The most memory the process `pid` has held (VmHWM), in MB; `None` off Linux or once it
/// is gone.
pub fn process_peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(crate::bench::report::round(kb / 1024.0, 1))
}

/// The CPU time the process `pid` has used, user and system, in seconds; `None` off Linux or
/// once it is gone. (`/proc` counts in ticks of 1/100 s on Linux's usual builds.)
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name, in parentheses, may hold spaces: count the fields after it.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime, the 14th and 15th fields of the line (11 and 12 after the name).
    Some(((ticks(11)? + ticks(12)?) / 100.0 * 10.0).round() / 10.0)
}
