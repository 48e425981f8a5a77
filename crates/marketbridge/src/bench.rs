//! `marketbridge bench SCENARIO` (DESIGN §9): the benchmarks. Each scenario but `diff` runs the
//! sandbox and the connector in this process, wired as `demo` wires them, on SQLite in a
//! temporary directory; each prints a small table and, as its last line, one JSON object with
//! the figures. Benchmarks measure; they never fail on a time (the tests do not time anything).
//!
//! - `diff`: rules, hashing and the OF01 file for N synthetic items, CPU only;
//! - `catalog`: the first export of a shop to Mirakl Connect and one marketplace store;
//! - `delta`: K stock and price changes in the shop, each timed until the channels show it,
//!   then a quiet period in which no catalog call may happen;
//! - `orders`: M orders placed on a marketplace store, each timed until its shop order exists;
//!   with `--faults`, while calls fail and answers are lost, and with `--kills`, while the
//!   worker process is killed and started again. A duplicate or a lost order, or an acceptance
//!   sent twice, fails the benchmark (after its table and JSON line are printed);
//! - `fleet`: many sellers on several worker processes on PostgreSQL, exported in full, then a
//!   big seller's export while small sellers' stock changes (see `bench/fleet.rs`).

mod catalog;
mod delta;
mod diff;
mod fleet;
mod orders;
pub(crate) mod report;
pub(crate) mod setup;

use std::time::Duration;

use anyhow::{bail, ensure};
use sync::Budgets;

pub use catalog::{CatalogOptions, catalog};
pub use delta::{DeltaOptions, delta};
pub use diff::{DiffOptions, diff};
pub use fleet::{FleetBenchOptions, fleet};
pub use orders::{OrdersOptions, orders};
pub use report::{Figures, Report, Rss};
pub use setup::ShopKind;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Which benchmark to run.
    #[arg(value_enum)]
    pub scenario: Scenario,
    /// Synthetic items (diff, default 1,000,000) or shop products, a third of them variable
    /// (catalog and delta, default 10,000; orders, default 300).
    #[arg(long)]
    pub items: Option<u64>,
    /// Orders placed on the marketplace store (orders).
    #[arg(long, default_value_t = orders::DEFAULT_ORDERS)]
    pub orders: usize,
    /// Make this share of Mirakl's catalog and order calls fail while the orders go through
    /// (orders): a quarter answered 500, a quarter 429, half lost after the call was applied;
    /// the lost answers hit every WooCommerce REST call too. Alone, 0.2.
    #[arg(long, value_name = "SHARE", num_args = 0..=1, default_missing_value = "0.2")]
    pub faults: Option<f64>,
    /// This share of the same calls is never answered, besides --faults (orders): the
    /// connector gives up after its 30 s timeout, holding a worker slot meanwhile.
    #[arg(long, value_name = "SHARE", default_value_t = 0.0)]
    pub timeout_rate: f64,
    /// Place this many orders per second from the first poll on, each timed from its placing
    /// (orders; 0, the default, places them all at once before the first poll).
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    pub orders_per_second: f64,
    /// Run the worker as its own process and SIGKILL it this many times, one to three seconds
    /// after each start, starting it again each time (orders; 0 runs it in this process).
    #[arg(long, default_value_t = 0)]
    pub kills: usize,
    /// How long the connector waits before looking in the shop for an order whose creation got
    /// no answer, in seconds (orders; default: the connector's own).
    #[arg(long, value_name = "SECONDS")]
    pub in_doubt_seconds: Option<u64>,
    /// Stock and price changes made in the shop (delta).
    #[arg(long, default_value_t = delta::DEFAULT_CHANGES)]
    pub changes: usize,
    /// How fast the changes are made, per second (delta; 0 makes them all at once).
    #[arg(long, default_value_t = delta::DEFAULT_CHANGES_PER_SECOND)]
    pub changes_per_second: f64,
    /// How long to watch for calls once every change is visible (delta).
    #[arg(long, default_value_t = delta::DEFAULT_QUIET.as_secs())]
    pub quiet_seconds: u64,
    /// Apply Mirakl's documented call budgets, in the sandbox and in the connector, scaled by
    /// --budget-scale (catalog, delta and orders; off by default).
    #[arg(long)]
    pub budgets: bool,
    /// With --budgets: 1.0 is Mirakl's documented frequencies, 0.01 makes a minute last 0.6 s.
    #[arg(long, default_value_t = 0.01)]
    pub budget_scale: f64,
    /// How often the connector's worker looks for due work, in milliseconds (catalog, delta,
    /// orders).
    #[arg(long, default_value_t = setup::DEFAULT_POLL.as_millis() as u64)]
    pub poll_ms: u64,
    /// The shop whose store the benchmark makes and connects (catalog, delta and orders).
    #[arg(long, value_enum, default_value_t = setup::ShopKind::Woocommerce)]
    pub shop: setup::ShopKind,
    /// Print only the JSON line.
    #[arg(long)]
    pub json_only: bool,
    /// Sellers onboarded and exported (fleet).
    #[arg(long, default_value_t = fleet::DEFAULT_WORKSPACES)]
    pub workspaces: usize,
    /// Shop products of each seller, a third of them variable (fleet).
    #[arg(long, default_value_t = fleet::DEFAULT_PRODUCTS)]
    pub products: u64,
    /// Worker processes (fleet), beside one `serve --no-workers`.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
    /// The big seller's shop products, exported while small sellers' stock changes (fleet; 0
    /// for none).
    #[arg(long, default_value_t = fleet::DEFAULT_BIG_PRODUCTS)]
    pub big_products: u64,
    /// The PostgreSQL server the fleet runs on: a database is made there for the run and
    /// dropped after it.
    #[arg(
        long,
        env = "MARKETBRIDGE_BENCH_DATABASE_URL",
        default_value = fleet::DEFAULT_DATABASE_URL
    )]
    pub database_url: String,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    Diff,
    Catalog,
    Delta,
    Orders,
    Fleet,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let budgets = if args.budgets {
        ensure!(
            args.budget_scale.is_finite() && args.budget_scale > 0.0,
            "--budget-scale must be a number above 0 (1.0 is Mirakl's documented budgets)"
        );
        Budgets::scaled(args.budget_scale)
    } else {
        Budgets::off()
    };
    let poll_interval = Duration::from_millis(args.poll_ms.max(1));
    let report = match args.scenario {
        Scenario::Diff => {
            diff(&DiffOptions {
                items: args.items.unwrap_or(diff::DEFAULT_ITEMS),
            })
            .await?
        }
        Scenario::Catalog => {
            catalog(&CatalogOptions {
                products: args.items.unwrap_or(setup::DEFAULT_PRODUCTS),
                budgets,
                poll_interval,
                shop: args.shop,
            })
            .await?
        }
        Scenario::Delta => {
            delta(&DeltaOptions {
                products: args.items.unwrap_or(setup::DEFAULT_PRODUCTS),
                changes: args.changes,
                changes_per_second: args.changes_per_second,
                quiet: Duration::from_secs(args.quiet_seconds),
                budgets,
                poll_interval,
                shop: args.shop,
            })
            .await?
        }
        Scenario::Orders => {
            ensure!(
                args.orders_per_second.is_finite() && args.orders_per_second >= 0.0,
                "--orders-per-second must be 0 (all at once) or a rate above 0"
            );
            let defaults = OrdersOptions::default();
            orders(&OrdersOptions {
                products: args.items.unwrap_or(orders::DEFAULT_PRODUCTS),
                orders: args.orders,
                fault_rate: args.faults,
                timeout_rate: args.timeout_rate,
                budgets,
                poll_interval,
                in_doubt_after: args
                    .in_doubt_seconds
                    .map_or(defaults.in_doubt_after, Duration::from_secs),
                kills: args.kills,
                per_second: args.orders_per_second,
                binary: None,
                shop: args.shop,
            })
            .await?
        }
        Scenario::Fleet => {
            fleet(&FleetBenchOptions {
                workspaces: args.workspaces,
                products: args.products,
                nodes: args.nodes,
                big_products: args.big_products,
                database_url: args.database_url,
                budgets,
                binary: None,
            })
            .await?
        }
    };
    if !args.json_only {
        println!("{}", report.table());
    }
    println!("{}", report.json());
    if !report.problems.is_empty() {
        bail!("{}", report.problems.join("; "));
    }
    Ok(())
}

/// SplitMix64: a fixed, well-spread sequence from a counter, so every run of a benchmark makes
/// the same items and the same changes.
pub(crate) fn scramble(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
