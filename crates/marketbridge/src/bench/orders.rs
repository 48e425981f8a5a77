//! `orders`: once the catalog is live on Demo Marketplace (store 2001), M orders are placed
//! there at once, as that many customers would, each of one to three live offers. The worker
//! then runs as `serve` runs it, from a first poll (OR11) until every order has its shop order
//! in the sandbox's WooCommerce store and is accepted on Mirakl. Each order is timed from that
//! poll until its shop order shows in the store.
//!
//! With `--faults`, a share of the Mirakl and WooCommerce calls fail while the orders go
//! through: 500s, 429s and, the fault that makes duplicates elsewhere, answers lost after the
//! call was applied (`--timeout-rate` adds calls never answered, each holding a worker slot for
//! the client's 30 s timeout). At the end the store's orders are counted per Mirakl order id
//! (their `mirakl_order_id` meta): two for one order is a duplicate, none is a lost order, and
//! either makes the benchmark fail.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sandbox::{FaultRates, Sandbox};
use serde_json::Value;
use sync::{Budgets, OrderConfig};
use tokio::sync::watch;

use super::report::{Figures, Report, peak_rss_mb, percentile, rate, round};
use super::setup::{BenchEnv, MARKETPLACE, STORE_CODE, STORE_ID, Workspace};

pub const DEFAULT_ORDERS: usize = 1_000;
/// Shop products unless told otherwise: the demo store's size. The sandbox marketplace knows
/// the demo store's GTINs, so about 120 of them go live there as offers.
pub const DEFAULT_PRODUCTS: u64 = 300;

/// How often the store is looked at for new orders, and Mirakl for the orders' decisions.
const WATCH_EVERY: Duration = Duration::from_millis(20);
const DECIDED_EVERY: Duration = Duration::from_millis(250);
/// Beyond this the catalog export is taken for stuck and the benchmark fails.
const EXPORT_LIMIT: Duration = Duration::from_secs(30 * 60);
/// How long every order may take beyond the connector's own waits (in doubt, budgets) before
/// the ones without a shop order are counted as lost.
const ORDERS_LIMIT: Duration = Duration::from_secs(10 * 60);
/// Once every order is in the shop, the store is watched this long more for late duplicates.
const AFTERWARDS: Duration = Duration::from_secs(2);
/// At most this many orders per control call (the sandbox's limit).
const PLACE_AT_ONCE: usize = 1_000;

#[derive(Clone, Debug)]
pub struct OrdersOptions {
    /// Shop products, a third of them variable.
    pub products: u64,
    pub orders: usize,
    /// The share of calls that fail (500, 429, lost answer), or none.
    pub fault_rate: Option<f64>,
    /// The share of calls never answered.
    pub timeout_rate: f64,
    pub budgets: Budgets,
    pub poll_interval: Duration,
    /// How long the connector waits before looking for a shop order whose creation got no
    /// answer (the connector's default unless told).
    pub in_doubt_after: Duration,
}

impl Default for OrdersOptions {
    fn default() -> Self {
        Self {
            products: DEFAULT_PRODUCTS,
            orders: DEFAULT_ORDERS,
            fault_rate: None,
            timeout_rate: 0.0,
            budgets: Budgets::off(),
            poll_interval: super::setup::DEFAULT_POLL,
            in_doubt_after: OrderConfig::default().in_doubt_after,
        }
    }
}

impl OrdersOptions {
    fn faults(&self) -> Option<FaultRates> {
        if self.fault_rate.is_none() && self.timeout_rate == 0.0 {
            return None;
        }
        let rate = self.fault_rate.unwrap_or(0.0);
        Some(FaultRates {
            error_rate: rate / 4.0,
            rate_limit_rate: rate / 4.0,
            timeout_rate: self.timeout_rate,
            lost_answer_rate: rate / 2.0,
        })
    }

    /// The connector's order flow: polled as often as the OR11 budget allows (at least once a
    /// second), patient with lost answers as asked.
    fn order_config(&self) -> OrderConfig {
        let or11 = self
            .budgets
            .interval_ms(sync::budgets::Operation::OrderList);
        OrderConfig {
            poll_interval: Duration::from_millis(u64::try_from(or11).unwrap_or(0))
                .max(Duration::from_secs(1)),
            in_doubt_after: self.in_doubt_after,
            ..OrderConfig::default()
        }
    }
}

pub async fn orders(options: &OrdersOptions) -> anyhow::Result<Report> {
    if let Some(faults) = options.faults()
        && let Some(problem) = faults.problem()
    {
        bail!("--faults and --timeout-rate: {problem}");
    }
    let env = BenchEnv::start_with_orders(
        options.budgets,
        options.poll_interval,
        options.order_config(),
    )
    .await?;
    let report = run(&env, options).await;
    env.stop().await;
    report
}

async fn run(env: &BenchEnv, options: &OrdersOptions) -> anyhow::Result<Report> {
    let store = env.create_store(options.products)?;
    let ws = env.onboard(&store).await?;
    env.run_until_settled(&ws, EXPORT_LIMIT).await?;
    let live_offers = env
        .sandbox
        .marketplace_offers(MARKETPLACE, STORE_ID)
        .iter()
        .filter(|offer| offer["active"].as_bool() == Some(true))
        .count();
    if live_offers == 0 {
        bail!("no offer went live on {MARKETPLACE} {STORE_ID}: there is nothing to order");
    }

    if let Some(faults) = options.faults() {
        env.sandbox.set_faults(faults);
    }
    let placed = place(&env.sandbox, options.orders)?;
    let rss_before = peak_rss_mb();
    let before = env.calls();
    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(env.connector.worker.clone().run(stopped));
    let started = Instant::now();
    env.connector
        .flows
        .orders
        .poll_now(ws.id, ws.marketplace)
        .await?;
    let limit = ORDERS_LIMIT + 3 * options.in_doubt_after;
    let watched = watch_until_done(env, &ws, &placed, started, limit).await;
    let _ = stop.send(true);
    let _ = worker.await;
    env.sandbox.set_faults(FaultRates::default());
    let watch = watched?;
    let peak_rss_mb = peak_rss_mb();
    let calls = env.calls().since(&before);

    let shop = ShopOrders::count(&env.sandbox, &placed);
    let mirakl = MiraklStates::read(&env.sandbox, &placed);
    let mut seconds: Vec<f64> = watch
        .first_seen
        .values()
        .map(|at| (*at - started).as_secs_f64())
        .collect();
    seconds.sort_by(f64::total_cmp);
    let wall = seconds.last().copied().unwrap_or(0.0);
    let mut report = Report::new(Figures {
        scenario: "orders".into(),
        items: Some(placed.len() as u64),
        orders_placed: Some(placed.len() as u64),
        shop_orders: Some(shop.total),
        acceptances: Some(mirakl.accepted),
        wall_s: Some(round(wall, 3)),
        items_per_s: Some(rate(watch.first_seen.len() as u64, wall)),
        peak_rss_mb,
        calls: Some(calls),
        import_p50_s: percentile(&seconds, 50.0).map(|s| round(s, 3)),
        import_p95_s: percentile(&seconds, 95.0).map(|s| round(s, 3)),
        duplicates: Some(shop.duplicates),
        lost: Some(shop.lost),
        ..Figures::default()
    });
    report.note("shop products", options.products);
    report.note(
        &format!("offers live on {MARKETPLACE} {STORE_ID}"),
        live_offers,
    );
    report.note("order lines placed", mirakl.lines);
    if let Some(mb) = rss_before {
        report.note("peak RSS before the orders (sandbox, export), MB", mb);
    }
    report.note("budget scale", options.budgets.scale);
    report.note(
        "orders polled every (at most), s",
        round(options.order_config().poll_interval.as_secs_f64(), 3),
    );
    match options.faults() {
        Some(f) => report.note(
            "faults: 500 / 429 / timeout / lost answer",
            format!(
                "{} / {} / {} / {}",
                f.error_rate, f.rate_limit_rate, f.timeout_rate, f.lost_answer_rate
            ),
        ),
        None => report.note("faults", "none"),
    }
    report.note("in doubt after, s", options.in_doubt_after.as_secs_f64());
    if let Some(first) = seconds.first() {
        report.note("first shop order after, s", round(*first, 3));
    }
    if let Some(at) = watch.all_decided_at {
        report.note(
            "every order decided on Mirakl after (±0.25), s",
            round((at - started).as_secs_f64(), 3),
        );
    }
    if let Some(at) = watch.settled_at {
        report.note(
            "connector had recorded every shop order after, s",
            round((at - started).as_secs_f64(), 3),
        );
    }
    for (state, count) in &mirakl.states {
        report.note(&format!("Mirakl orders {state}"), count);
    }
    report.note("Mirakl orders refused by the connector", mirakl.refused);
    let counts = env.storage().order_counts(ws.id).await?;
    report.note("connector: orders stored", counts.total);
    report.note("connector: orders needing attention", counts.attention);
    if shop.foreign > 0 {
        report.note("shop orders naming no placed order", shop.foreign);
    }
    if watch.timed_out {
        report.problem(format!(
            "not every order was in the shop within {} s",
            limit.as_secs()
        ));
    }
    if shop.duplicates > 0 {
        report.problem(format!(
            "{} duplicate shop orders (Mirakl orders with more than one: {})",
            shop.duplicates,
            shop.duplicated.join(", ")
        ));
    }
    if shop.lost > 0 {
        report.problem(format!(
            "{} orders have no shop order ({} of them refused by the connector, though every \
             order was placed within the offers' quantities, which are the shop's stock)",
            shop.lost, mirakl.refused
        ));
    }
    report.note(
        "check: one shop order per Mirakl order",
        if shop.duplicates == 0 && shop.lost == 0 {
            "ok"
        } else {
            "MISMATCH"
        },
    );
    Ok(report)
}

/// Places `count` orders on the marketplace store's live offers, a thousand a call at most.
fn place(sandbox: &Sandbox, count: usize) -> anyhow::Result<Vec<String>> {
    let mut placed = Vec::with_capacity(count);
    while placed.len() < count {
        let batch = (count - placed.len()).min(PLACE_AT_ONCE);
        let ids = sandbox
            .mmp_place_orders(MARKETPLACE, STORE_ID, batch, &[])
            .with_context(|| format!("placing {batch} orders on {MARKETPLACE} {STORE_ID}"))?;
        placed.extend(ids);
    }
    Ok(placed)
}

/// What the store showed while the worker ran.
struct Watch {
    /// Mirakl order id → when its first shop order was seen.
    first_seen: HashMap<String, Instant>,
    /// When Mirakl first showed every order decided (looked at every `DECIDED_EVERY`).
    all_decided_at: Option<Instant>,
    /// When every order was accounted for and the connector had recorded each shop order.
    settled_at: Option<Instant>,
    timed_out: bool,
}

/// Watches the store's new orders until every placed order has one (or was refused or
/// canceled on Mirakl), Mirakl shows each decided and the connector has none left open
/// without its shop order; then watches `AFTERWARDS` more, so a late duplicate is caught too.
async fn watch_until_done(
    env: &BenchEnv,
    ws: &Workspace,
    placed: &[String],
    started: Instant,
    limit: Duration,
) -> anyhow::Result<Watch> {
    let placed_ids: HashSet<&str> = placed.iter().map(String::as_str).collect();
    let mut first_seen = HashMap::with_capacity(placed.len());
    let mut seen_shop_orders = HashSet::new();
    let mut done_at: Option<Instant> = None;
    let mut all_decided_at = None;
    let mut decisions_read_at: Option<Instant> = None;
    let mut mirakl = MiraklStates::default();
    loop {
        if decisions_read_at.is_none_or(|at| at.elapsed() >= DECIDED_EVERY) {
            let now = Instant::now();
            decisions_read_at = Some(now);
            mirakl = MiraklStates::read(&env.sandbox, placed);
            if mirakl.waiting == 0 {
                all_decided_at.get_or_insert(now);
            }
        }
        for shop_order in env.sandbox.woo_order_ids(STORE_CODE) {
            if !seen_shop_orders.insert(shop_order) {
                continue;
            }
            let mirakl_id = env
                .sandbox
                .woo_order(STORE_CODE, shop_order)
                .as_ref()
                .and_then(mirakl_order_id);
            if let Some(id) = mirakl_id.filter(|id| placed_ids.contains(id.as_str())) {
                first_seen.entry(id).or_insert_with(Instant::now);
            }
        }
        // Every order is in the shop, or refused or canceled on Mirakl (so never will be).
        let accounted =
            mirakl.waiting == 0 && first_seen.len() as u64 + mirakl.void >= placed.len() as u64;
        match done_at {
            Some(at) if at.elapsed() >= AFTERWARDS => break,
            Some(_) => {}
            None if accounted && connector_settled(env, ws, placed).await? => {
                done_at = Some(Instant::now());
            }
            None if started.elapsed() > limit => {
                return Ok(Watch {
                    first_seen,
                    all_decided_at,
                    settled_at: None,
                    timed_out: true,
                });
            }
            None => {}
        }
        tokio::time::sleep(WATCH_EVERY).await;
    }
    Ok(Watch {
        first_seen,
        all_decided_at,
        settled_at: done_at,
        timed_out: false,
    })
}

/// The connector stored every order, and none is left open without its shop order.
async fn connector_settled(
    env: &BenchEnv,
    ws: &Workspace,
    placed: &[String],
) -> anyhow::Result<bool> {
    let counts = env.storage().order_counts(ws.id).await?;
    Ok(counts.total >= placed.len() as i64 && counts.not_in_shop == 0)
}

fn mirakl_order_id(shop_order: &Value) -> Option<String> {
    shop_order["meta_data"]
        .as_array()?
        .iter()
        .find(|meta| meta["key"] == "mirakl_order_id")?["value"]
        .as_str()
        .map(str::to_owned)
}

/// The store's orders, counted per Mirakl order.
struct ShopOrders {
    total: u64,
    /// Shop orders beyond the first of a Mirakl order.
    duplicates: u64,
    /// The Mirakl orders that have more than one.
    duplicated: Vec<String>,
    /// Placed orders with none.
    lost: u64,
    /// Shop orders whose Mirakl order id was not placed here.
    foreign: u64,
}

impl ShopOrders {
    fn count(sandbox: &Sandbox, placed: &[String]) -> Self {
        let mut per_order: BTreeMap<String, u64> = BTreeMap::new();
        let mut total = 0;
        for id in sandbox.woo_order_ids(STORE_CODE) {
            total += 1;
            if let Some(mirakl_id) = sandbox
                .woo_order(STORE_CODE, id)
                .as_ref()
                .and_then(mirakl_order_id)
            {
                *per_order.entry(mirakl_id).or_default() += 1;
            }
        }
        let placed_ids: HashSet<&str> = placed.iter().map(String::as_str).collect();
        let duplicated: Vec<String> = per_order
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, _)| id.clone())
            .collect();
        Self {
            total,
            duplicates: per_order.values().map(|n| n.saturating_sub(1)).sum(),
            duplicated,
            lost: placed
                .iter()
                .filter(|id| !per_order.contains_key(*id))
                .count() as u64,
            foreign: per_order
                .iter()
                .filter(|(id, _)| !placed_ids.contains(id.as_str()))
                .map(|(_, n)| n)
                .sum(),
        }
    }
}

/// The placed orders as Mirakl shows them now.
#[derive(Default)]
struct MiraklStates {
    /// Orders by state.
    states: BTreeMap<String, u64>,
    /// Still waiting for the seller's decision.
    waiting: u64,
    /// Decided by the seller with at least one line accepted.
    accepted: u64,
    /// Refused by the seller (every line).
    refused: u64,
    /// Refused (by the seller or past the deadline) or canceled: no shop order is due.
    void: u64,
    lines: u64,
}

impl MiraklStates {
    fn read(sandbox: &Sandbox, placed: &[String]) -> Self {
        let placed: HashSet<&str> = placed.iter().map(String::as_str).collect();
        let mut states = Self::default();
        for order in sandbox.mmp_orders(MARKETPLACE, STORE_ID) {
            if !order["order_id"]
                .as_str()
                .is_some_and(|id| placed.contains(id))
            {
                continue;
            }
            let state = order["order_state"].as_str().unwrap_or("?").to_owned();
            let decided = !order["acceptance_decision_date"].is_null();
            if matches!(state.as_str(), "REFUSED" | "CANCELED") {
                states.void += 1;
            }
            match state.as_str() {
                "WAITING_ACCEPTANCE" => states.waiting += 1,
                "REFUSED" if decided => states.refused += 1,
                _ if decided => states.accepted += 1,
                _ => {}
            }
            states.lines += order["order_lines"].as_array().map_or(0, Vec::len) as u64;
            *states.states.entry(state).or_default() += 1;
        }
        states
    }
}
