//! `fleet`: many sellers on several nodes on PostgreSQL, as [`crate::fleet`] runs them: one
//! `serve --no-workers` process and `--nodes` `worker` processes of this binary, on a database
//! made for the run, against the sandbox in this process.
//!
//! 1. `--workspaces` sellers of `--products` products each (a third variable) sign up and
//!    onboard, eight at a time, and their catalogs export in full: `wall_s` runs from the
//!    first sign-up until every seller's items have their final state on both channels, and
//!    `jobs_per_s` counts the jobs the nodes finished meanwhile.
//! 2. A big seller of `--big-products` products onboards, and while their catalog exports, a
//!    small seller's stock changes four times a second, each change timed until both of that
//!    seller's channels show it (`small_delta_p95_s`): what a big seller costs the small ones.
//!
//! Each node's peak memory is read after step 1 and at the end: with the catalog many times
//! bigger, it should stay flat.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use domain::catalog::ConnectProduct;
use storage::JobStatus;
use sync::{Budgets, OrderConfig};

use super::report::{Figures, Report, Rss, percentile, rate, round};
use super::scramble;
use crate::fleet::{Fleet, FleetOptions, MARKETPLACE, Seller};

pub const DEFAULT_WORKSPACES: usize = 200;
pub const DEFAULT_PRODUCTS: u64 = 1_000;
pub const DEFAULT_BIG_PRODUCTS: u64 = 100_000;
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Sellers onboarding at once.
const ONBOARDING_AT_ONCE: usize = 8;
/// Stock changes in small shops per second while the big catalog exports.
const CHANGES_PER_SECOND: f64 = 4.0;
/// A change not shown this long after it was made is lost.
const VISIBLE_LIMIT: Duration = Duration::from_secs(120);
/// Beyond this an export is taken for stuck and the benchmark fails.
const EXPORT_LIMIT: Duration = Duration::from_secs(60 * 60);
const WATCH_EVERY: Duration = Duration::from_millis(20);

#[derive(Clone, Debug)]
pub struct FleetBenchOptions {
    pub workspaces: usize,
    pub products: u64,
    /// Worker processes.
    pub nodes: usize,
    /// The big seller's products (0: no big seller, no small changes).
    pub big_products: u64,
    /// A PostgreSQL server; a database is made on it for the run and dropped after.
    pub database_url: String,
    pub budgets: Budgets,
    /// The `marketbridge` binary the nodes run (this one unless told).
    pub binary: Option<std::path::PathBuf>,
}

pub async fn fleet(options: &FleetBenchOptions) -> anyhow::Result<Report> {
    if options.nodes == 0 || options.workspaces == 0 {
        bail!("--nodes and --workspaces must be at least 1");
    }
    let binary = match &options.binary {
        Some(path) => path.clone(),
        None => std::env::current_exe().context("finding the marketbridge binary")?,
    };
    let mut fleet = Fleet::start(FleetOptions {
        admin_url: options.database_url.clone(),
        database_prefix: "marketbridge_fleet_",
        binary,
        budgets: options.budgets,
        orders: OrderConfig::default(),
        concurrency: sync::WorkerConfig::default().concurrency,
        lease_seconds: sync::WorkerConfig::default().lease.as_secs(),
    })
    .await?;
    for _ in 0..options.nodes {
        fleet.start_worker()?;
    }
    let fleet = Arc::new(fleet);
    let report = run(&fleet, options).await;
    match Arc::try_unwrap(fleet) {
        Ok(fleet) => fleet.stop().await?,
        Err(_) => bail!("the fleet is still in use"),
    }
    report
}

async fn run(fleet: &Arc<Fleet>, options: &FleetBenchOptions) -> anyhow::Result<Report> {
    // 1. Many sellers export in full.
    let started = Instant::now();
    let sellers = onboard(fleet, options).await?;
    let onboarded = started.elapsed().as_secs_f64();
    for seller in &sellers {
        wait_settled(fleet, seller).await?;
    }
    let wall = started.elapsed().as_secs_f64();
    let jobs_done = fleet
        .storage
        .jobs_in_status(JobStatus::Done, i64::MAX)
        .await?
        .len() as u64;
    let rss_after_small = fleet.peak_rss_mb();
    let mut items = 0;
    let mut problems = Vec::new();
    let mut duplicates = 0;
    let mut lost = 0;
    for seller in &sellers {
        let tally = fleet.tally(seller).await?;
        items += tally.items;
        duplicates += tally.duplicates;
        lost += tally.items.saturating_sub(tally.connect_products)
            + tally
                .marketplace_live
                .saturating_sub(tally.marketplace_offers);
        if !tally.complete() {
            problems.push(format!("seller {}: {tally:?}", seller.n));
        }
    }

    // 2. A big seller exports while small sellers' stock changes.
    let mut big = None;
    let mut latencies = Vec::new();
    let mut unseen = 0;
    if options.big_products > 0 {
        let big_started = Instant::now();
        let seller = fleet
            .add_seller(sellers.len(), options.big_products)
            .await?;
        let (seen, missed) = small_changes_during(fleet, &sellers, &seller).await?;
        wait_settled(fleet, &seller).await?;
        let tally = fleet.tally(&seller).await?;
        if !tally.complete() {
            problems.push(format!("the big seller: {tally:?}"));
        }
        big = Some((tally.items, big_started.elapsed().as_secs_f64()));
        latencies = seen;
        unseen = missed;
    }
    latencies.sort_by(f64::total_cmp);
    let rss_end = fleet.peak_rss_mb();
    let mut cpu = fleet.cpu_seconds();
    if let Some(s) = crate::fleet::process_cpu_seconds(std::process::id()) {
        cpu.insert("bench (the sandbox)".to_owned(), s);
    }

    let mut report = Report::new(Figures {
        scenario: "fleet".into(),
        workspaces: Some(sellers.len() as u64),
        items: Some(items),
        nodes: Some(options.nodes as u64),
        wall_s: Some(round(wall, 3)),
        items_per_s: Some(rate(items, wall)),
        jobs_per_s: Some(rate(jobs_done, wall)),
        small_delta_p50_s: percentile(&latencies, 50.0).map(|s| round(s, 3)),
        small_delta_p95_s: percentile(&latencies, 95.0).map(|s| round(s, 3)),
        peak_rss_mb: Some(Rss::PerNode(rss_end.clone())),
        duplicates: Some(duplicates),
        lost: Some(lost + unseen as u64),
        ..Figures::default()
    });
    report.note("products per seller", options.products);
    report.note("budget scale", options.budgets.scale);
    report.note("onboarding of every seller, s", round(onboarded, 3));
    report.note("jobs finished in wall_s", jobs_done);
    report.note(
        "peak RSS per node after the small exports, MB",
        Rss::PerNode(rss_after_small),
    );
    if let Some((items, seconds)) = big {
        report.note("big seller's items", items);
        report.note(
            "big seller's export (with onboarding), s",
            round(seconds, 3),
        );
        report.note("small stock changes timed during it", latencies.len());
        report.note("small stock changes never shown", unseen);
    }
    report.note(
        "check: every item on Connect, every live offer on the marketplace, nothing twice",
        if problems.is_empty() && duplicates == 0 && unseen == 0 {
            "ok"
        } else {
            "MISMATCH"
        },
    );
    let cpu: Vec<String> = cpu.iter().map(|(n, s)| format!("{n} {s:.1}")).collect();
    report.note("CPU seconds per process", cpu.join(", "));
    if let Some(mb) = super::report::peak_rss_mb() {
        report.note("peak RSS of the bench process (the sandbox), MB", mb);
    }
    for problem in problems {
        report.problem(problem);
    }
    if unseen > 0 {
        report.problem(format!(
            "{unseen} stock changes never reached their channels"
        ));
    }
    Ok(report)
}

/// Onboards the sellers, [`ONBOARDING_AT_ONCE`] at a time.
async fn onboard(fleet: &Arc<Fleet>, options: &FleetBenchOptions) -> anyhow::Result<Vec<Seller>> {
    let mut sellers = Vec::with_capacity(options.workspaces);
    let mut running = tokio::task::JoinSet::new();
    let mut next = 0;
    while sellers.len() < options.workspaces {
        while next < options.workspaces && running.len() < ONBOARDING_AT_ONCE {
            let fleet = fleet.clone();
            let products = options.products;
            let n = next;
            running.spawn(async move { fleet.add_seller(n, products).await });
            next += 1;
        }
        let seller = running
            .join_next()
            .await
            .context("no onboarding under way")???;
        sellers.push(seller);
    }
    sellers.sort_by_key(|s| s.n);
    Ok(sellers)
}

async fn wait_settled(fleet: &Fleet, seller: &Seller) -> anyhow::Result<()> {
    let started = Instant::now();
    while !fleet.settled(seller).await? {
        if started.elapsed() > EXPORT_LIMIT {
            bail!(
                "seller {}'s export did not settle within {EXPORT_LIMIT:?}",
                seller.n
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// A stock change in a small seller's shop: the item, and when it was made.
struct Change {
    seller: usize,
    sku: String,
    quantity: i64,
    made_at: Instant,
    on_connect: bool,
    on_marketplace: bool,
}

/// Changes small sellers' stock, [`CHANGES_PER_SECOND`], until `big`'s export settles, each
/// timed until both of its seller's channels show it. Returns the latencies, in seconds, and
/// how many changes were never shown.
async fn small_changes_during(
    fleet: &Fleet,
    small: &[Seller],
    big: &Seller,
) -> anyhow::Result<(Vec<f64>, usize)> {
    // Items live on both channels, with stock counted by the shop, per small seller.
    let mut targets: BTreeMap<usize, Vec<(String, i64)>> = BTreeMap::new();
    let period = Duration::from_secs_f64(1.0 / CHANGES_PER_SECOND);
    let started = Instant::now();
    let mut changes: Vec<Change> = Vec::new();
    let mut latencies = Vec::new();
    let mut big_settled = false;
    let mut checked_at = Instant::now();
    // Changes tried: an item is picked for each, in a small seller that has one.
    let mut tried = 0u64;
    loop {
        if !big_settled && started + period * changes.len() as u32 <= Instant::now() {
            tried += 1;
            let seller = &small[(scramble(tried) % small.len() as u64) as usize];
            let items = match targets.entry(seller.n) {
                Entry::Occupied(found) => found.into_mut(),
                Entry::Vacant(slot) => slot.insert(stock_targets(fleet, seller).await?),
            };
            if !items.is_empty() {
                let (sku, holder) = &items[(scramble(!tried) % items.len() as u64) as usize];
                let quantity = 5_000 + tried as i64;
                fleet
                    .sandbox
                    .woo_set_stock(&seller.store, *holder, quantity);
                changes.push(Change {
                    seller: seller.n,
                    sku: sku.clone(),
                    quantity,
                    made_at: Instant::now(),
                    on_connect: false,
                    on_marketplace: false,
                });
            }
        }
        for change in changes
            .iter_mut()
            .filter(|c| !(c.on_connect && c.on_marketplace))
        {
            let seller = &small[change.seller];
            if !change.on_marketplace {
                change.on_marketplace = fleet
                    .sandbox
                    .marketplace_offer(MARKETPLACE, seller.shop_id, &change.sku)
                    .is_some_and(|o| o["quantity"] == change.quantity);
            }
            if !change.on_connect {
                change.on_connect = fleet
                    .sandbox
                    .connect_product(&seller.company, &change.sku)
                    .and_then(|p| serde_json::from_value::<ConnectProduct>(p).ok())
                    .is_some_and(|p| p.available_quantity() == Some(change.quantity));
            }
            if change.on_connect && change.on_marketplace {
                latencies.push(change.made_at.elapsed().as_secs_f64());
            }
        }
        if !big_settled && checked_at.elapsed() > Duration::from_millis(500) {
            checked_at = Instant::now();
            big_settled = fleet.settled(big).await?;
        }
        let pending = changes
            .iter()
            .filter(|c| !(c.on_connect && c.on_marketplace))
            .collect::<Vec<_>>();
        if big_settled
            && (pending.is_empty() || pending.iter().all(|c| c.made_at.elapsed() > VISIBLE_LIMIT))
        {
            return Ok((latencies, pending.len()));
        }
        tokio::time::sleep(WATCH_EVERY).await;
    }
}

/// The seller's items live on both channels whose stock the shop counts: `(SKU, the id that
/// holds the stock in WooCommerce)`.
async fn stock_targets(fleet: &Fleet, seller: &Seller) -> anyhow::Result<Vec<(String, i64)>> {
    let offered = fleet.offered_skus(seller);
    let rows = fleet
        .storage
        .catalog_page(seller.workspace.id, None, 1_000_000, false)
        .await?;
    let mut targets = Vec::new();
    for row in rows {
        if offered.contains(&row.sku) && row.item()?.stock.managed {
            targets.push((
                row.sku.clone(),
                row.shop_variation_id.unwrap_or(row.shop_product_id),
            ));
        }
    }
    Ok(targets)
}
