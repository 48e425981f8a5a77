//! `orders`: once the catalog is live on Demo Marketplace (store 2001), M orders are placed
//! there, each of one to three live offers: all at once before a first poll (a burst, as after
//! a flash sale), or with `--orders-per-second` at that rate from the first poll on. The worker
//! runs as `serve` runs it until every order has its shop order in the sandbox's WooCommerce
//! store and is accepted on Mirakl. Each order is timed until its shop order shows in the
//! store: from its placing, or in a burst from the first poll (OR11).
//!
//! With `--faults`, a share of the Mirakl and WooCommerce calls fail while the orders go
//! through: 500s, 429s and, the fault that makes duplicates elsewhere, answers lost after the
//! call was applied (`--timeout-rate` adds calls never answered, each holding a worker slot for
//! the client's 30 s timeout). At the end the store's orders are counted per Mirakl order id
//! (their `mirakl_order_id` meta): two for one order is a duplicate, none is a lost order, and
//! either makes the benchmark fail.
//!
//! With `--kills N`, the worker runs as its own process (`marketbridge worker` on the
//! benchmark's database, this process serving the web and webhooks as `serve --no-workers`
//! would), and is SIGKILLed N times, one to three seconds after each start, then started
//! again. A killed worker's leases are given back at once, as though they had run out (120 s
//! in production), so the run measures what a crash costs, not the lease. Acceptances sent
//! twice are counted by the sandbox (OR21 on an order already decided) and fail the benchmark.
//!
//! Each shop order takes stock in the shop; `stock_p95_s` is how long Mirakl Connect (the
//! other channel) takes to show each of its items' new stock, from the moment the shop order
//! is seen.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sandbox::{FaultRates, Sandbox};
use sync::{Budgets, OrderConfig};
use tokio::sync::watch;

use super::report::{Figures, Report, Rss, peak_rss_mb, percentile, rate, round};
use super::setup::{BenchEnv, BenchShopOrder, COMPANY, MARKETPLACE, STORE_ID, Workspace};

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
/// Once every order is in the shop, the new stock may take this much longer to show on
/// Mirakl Connect before the benchmark calls it lost.
const STOCK_LIMIT: Duration = Duration::from_secs(60);

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
    /// SIGKILLs of the worker process; 0 runs the worker in this process.
    pub kills: usize,
    /// Orders placed per second from the first poll on; 0 places them all before it (a
    /// burst, as after a flash sale).
    pub per_second: f64,
    /// The `marketbridge` binary the worker processes run (this one unless told: tests name
    /// it, as they run in a test binary).
    pub binary: Option<std::path::PathBuf>,
    /// The shop the orders go into.
    pub shop: super::setup::ShopKind,
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
            kills: 0,
            per_second: 0.0,
            binary: None,
            shop: super::setup::ShopKind::default(),
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
    /// second), patient with lost answers as asked. With budgets, the overlap each poll reads
    /// again is scaled like the budgets, so that a compressed minute keeps its proportions (a
    /// five-minute overlap read in 0.6 s slots would page through ten times what it does).
    fn order_config(&self) -> OrderConfig {
        let or11 = self
            .budgets
            .interval_ms(sync::budgets::Operation::OrderList);
        let defaults = OrderConfig::default();
        let overlap = if self.budgets.scale > 0.0 {
            defaults.overlap.mul_f64(self.budgets.scale)
        } else {
            defaults.overlap
        };
        OrderConfig {
            poll_interval: Duration::from_millis(u64::try_from(or11).unwrap_or(0))
                .max(Duration::from_secs(1)),
            in_doubt_after: self.in_doubt_after,
            overlap,
            ..defaults
        }
    }
}

pub async fn orders(options: &OrdersOptions) -> anyhow::Result<Report> {
    if let Some(faults) = options.faults()
        && let Some(problem) = faults.problem()
    {
        bail!("--faults and --timeout-rate: {problem}");
    }
    let mut env = BenchEnv::start_with_orders(
        options.budgets,
        options.poll_interval,
        options.order_config(),
    )
    .await?;
    env.shop = options.shop;
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
    let mut placed = Placed::new(options.orders, options.per_second);
    if options.per_second <= 0.0 {
        placed.place(&env.sandbox, options.orders)?;
    }
    let rss_before = peak_rss_mb();
    let before = env.calls();
    let (stop, stopped) = watch::channel(false);
    let in_process = (options.kills == 0)
        .then(|| tokio::spawn(env.connector.worker.clone().run(stopped.clone())));
    let started = Instant::now();
    placed.started(started);
    env.connector
        .flows
        .orders
        .poll_now(ws.id, ws.marketplace)
        .await?;
    let limit = ORDERS_LIMIT + 3 * options.in_doubt_after + placed.placing_time();
    let (watched, killed) = tokio::join!(
        async {
            let watched = watch_until_done(env, &ws, &mut placed, started, limit).await;
            let _ = stop.send(true);
            watched
        },
        async {
            match in_process {
                Some(worker) => {
                    let _ = worker.await;
                    Ok(0)
                }
                None => kill_and_restart(env, options, stopped).await,
            }
        }
    );
    env.sandbox.set_faults(FaultRates::default());
    let watch = watched?;
    let killed = killed?;
    let peak_rss_mb = peak_rss_mb();
    let calls = env.calls().since(&before);

    let stopped_early = placed.stopped_early.take();
    let placed_at = placed.at;
    let placed = placed.ids;
    let shop = ShopOrders::count(env, &placed);
    let mirakl = MiraklStates::read(&env.sandbox, &placed);
    // Each order from its placing (or, in a burst, from the first poll) to its shop order.
    let mut seconds: Vec<f64> = watch
        .first_seen
        .iter()
        .map(|(id, at)| (*at - placed_at.get(id).copied().unwrap_or(started)).as_secs_f64())
        .collect();
    seconds.sort_by(f64::total_cmp);
    let wall = watch
        .first_seen
        .values()
        .max()
        .map_or(0.0, |last| (*last - started).as_secs_f64());
    let mut stock_seconds: Vec<f64> = watch
        .stock
        .shown
        .iter()
        .map(Duration::as_secs_f64)
        .collect();
    stock_seconds.sort_by(f64::total_cmp);
    let acceptances_duplicated = calls.get("mmp.or21.repeated").copied().unwrap_or(0);
    let mut report = Report::new(Figures {
        scenario: "orders".into(),
        items: Some(placed.len() as u64),
        orders_placed: Some(placed.len() as u64),
        shop_orders: Some(shop.total),
        acceptances: Some(mirakl.accepted),
        acceptances_duplicated: Some(acceptances_duplicated),
        kills: Some(killed as u64),
        wall_s: Some(round(wall, 3)),
        items_per_s: Some(rate(watch.first_seen.len() as u64, wall)),
        peak_rss_mb: peak_rss_mb.map(Rss::Process),
        calls: Some(calls),
        import_p50_s: percentile(&seconds, 50.0).map(|s| round(s, 3)),
        import_p95_s: percentile(&seconds, 95.0).map(|s| round(s, 3)),
        stock_p50_s: percentile(&stock_seconds, 50.0).map(|s| round(s, 3)),
        stock_p95_s: percentile(&stock_seconds, 95.0).map(|s| round(s, 3)),
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
        "orders read again each poll (overlap), s",
        round(options.order_config().overlap.as_secs_f64(), 3),
    );
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
    if let Some(why) = stopped_early {
        report.note(
            &format!(
                "placing stopped after {} of {} orders",
                placed.len(),
                options.orders
            ),
            why,
        );
    }
    if options.per_second > 0.0 {
        report.note("orders placed per second", options.per_second);
    } else {
        report.note("orders placed", "all at once, before the first poll");
    }
    if options.kills > 0 {
        report.note(
            "worker",
            format!(
                "a marketbridge worker process, SIGKILLed {killed} times of {} asked",
                options.kills
            ),
        );
    } else {
        report.note("worker", "in this process");
    }
    report.note("stock changes timed on Mirakl Connect", stock_seconds.len());
    if watch.stock.not_on_connect > 0 {
        report.note(
            "ordered items not on Mirakl Connect (not timed)",
            watch.stock.not_on_connect,
        );
    }
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
    if acceptances_duplicated > 0 {
        report.problem(format!(
            "{acceptances_duplicated} acceptances were sent for orders already decided"
        ));
    }
    if !watch.stock.waiting.is_empty() {
        report.problem(format!(
            "{} stock changes never showed on Mirakl Connect (SKUs {})",
            watch.stock.waiting.len(),
            watch
                .stock
                .waiting
                .iter()
                .take(10)
                .map(|w| w.sku.as_str())
                .collect::<Vec<_>>()
                .join(", ")
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

/// The orders placed on the marketplace store so far, and when.
struct Placed {
    total: usize,
    per_second: f64,
    ids: Vec<String>,
    known: HashSet<String>,
    at: HashMap<String, Instant>,
    started: Option<Instant>,
    /// Why placing at the rate asked stopped before `total` (the store sold out).
    stopped_early: Option<String>,
}

impl Placed {
    fn new(total: usize, per_second: f64) -> Self {
        Self {
            total,
            per_second,
            ids: Vec::with_capacity(total),
            known: HashSet::with_capacity(total),
            at: HashMap::with_capacity(total),
            started: None,
            stopped_early: None,
        }
    }

    /// From now on orders are placed at the rate asked, and timed from their placing.
    fn started(&mut self, at: Instant) {
        self.started = Some(at);
    }

    /// How long placing every order at the rate asked takes.
    fn placing_time(&self) -> Duration {
        if self.per_second > 0.0 {
            Duration::from_secs_f64(self.total as f64 / self.per_second)
        } else {
            Duration::ZERO
        }
    }

    fn contains(&self, id: &str) -> bool {
        self.known.contains(id)
    }

    fn all_placed(&self) -> bool {
        self.ids.len() >= self.total
    }

    /// Places the orders due by now at the rate asked.
    fn place_due(&mut self, sandbox: &Sandbox) -> anyhow::Result<()> {
        let Some(started) = self.started.filter(|_| self.per_second > 0.0) else {
            return Ok(());
        };
        let due =
            ((started.elapsed().as_secs_f64() * self.per_second) as usize + 1).min(self.total);
        if due > self.ids.len()
            && let Err(e) = self.place(sandbox, due - self.ids.len())
        {
            // The orders placed so far are the run's; the benchmark says why there are fewer.
            self.stopped_early = Some(format!("{e:#}"));
            self.total = self.ids.len();
        }
        Ok(())
    }

    /// Places `count` orders on the marketplace store's live offers, a thousand a call at most.
    fn place(&mut self, sandbox: &Sandbox, count: usize) -> anyhow::Result<()> {
        let mut left = count;
        while left > 0 {
            let batch = left.min(PLACE_AT_ONCE);
            let ids = sandbox
                .mmp_place_orders(MARKETPLACE, STORE_ID, batch, &[])
                .with_context(|| format!("placing {batch} orders on {MARKETPLACE} {STORE_ID}"))?;
            let now = Instant::now();
            for id in ids {
                // In a burst the orders are timed from the first poll, which comes after.
                if self.per_second > 0.0 {
                    self.at.insert(id.clone(), now);
                }
                self.known.insert(id.clone());
                self.ids.push(id);
            }
            left -= batch;
        }
        Ok(())
    }
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
    stock: StockWatch,
}

/// Watches the store's new orders until every placed order has one (or was refused or
/// canceled on Mirakl), Mirakl shows each decided and the connector has none left open
/// without its shop order; then watches `AFTERWARDS` more, so a late duplicate is caught too.
async fn watch_until_done(
    env: &BenchEnv,
    ws: &Workspace,
    placed: &mut Placed,
    started: Instant,
    limit: Duration,
) -> anyhow::Result<Watch> {
    let mut first_seen = HashMap::with_capacity(placed.total);
    let mut seen_shop_orders = HashSet::new();
    let mut done_at: Option<Instant> = None;
    let mut all_decided_at = None;
    let mut decisions_read_at: Option<Instant> = None;
    let mut mirakl = MiraklStates::default();
    let mut stock = StockWatch::default();
    loop {
        placed.place_due(&env.sandbox)?;
        if decisions_read_at.is_none_or(|at| at.elapsed() >= DECIDED_EVERY) {
            let now = Instant::now();
            decisions_read_at = Some(now);
            mirakl = MiraklStates::read(&env.sandbox, &placed.ids);
            if mirakl.waiting == 0 {
                all_decided_at.get_or_insert(now);
            }
        }
        for shop_order in env.shop_order_ids() {
            if !seen_shop_orders.insert(shop_order) {
                continue;
            }
            let Some(order) = env.shop_order(shop_order) else {
                continue;
            };
            if let Some(id) = order
                .mirakl_order_id
                .clone()
                .filter(|id| placed.contains(id))
            {
                first_seen.entry(id).or_insert_with(Instant::now);
                stock.ordered(&order);
            }
        }
        stock.look_at_connect(&env.sandbox);
        // Every order is in the shop, or refused or canceled on Mirakl (so never will be).
        let accounted = placed.all_placed()
            && mirakl.waiting == 0
            && first_seen.len() as u64 + mirakl.void >= placed.total as u64;
        match done_at {
            // The late stock changes are waited for, up to STOCK_LIMIT after the last order.
            Some(at)
                if at.elapsed() >= AFTERWARDS
                    && (stock.waiting.is_empty() || at.elapsed() >= STOCK_LIMIT) =>
            {
                break;
            }
            Some(_) => {}
            None if accounted && connector_settled(env, ws, &placed.ids).await? => {
                done_at = Some(Instant::now());
            }
            None if started.elapsed() > limit => {
                return Ok(Watch {
                    first_seen,
                    all_decided_at,
                    settled_at: None,
                    timed_out: true,
                    stock,
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
        stock,
    })
}

/// The stock each shop order took, until Mirakl Connect shows it.
#[derive(Default)]
struct StockWatch {
    /// Items whose new stock Connect does not show yet.
    waiting: Vec<StockChange>,
    /// How long each change took to show.
    shown: Vec<Duration>,
    /// Ordered items Connect does not have (refused there, or never sent): not timed.
    not_on_connect: u64,
}

struct StockChange {
    sku: String,
    /// The shop's stock just after the order: Connect shows the change once it shows this
    /// much or less.
    at_most: i64,
    since: Instant,
}

impl StockWatch {
    /// Notes the stock the shop `order` left for each of its items (those whose stock the
    /// shop manages).
    fn ordered(&mut self, order: &BenchShopOrder) {
        let since = Instant::now();
        for (sku, stock) in &order.lines {
            if let Some(at_most) = stock.filter(|_| !sku.is_empty()) {
                self.waiting.push(StockChange {
                    sku: sku.clone(),
                    at_most,
                    since,
                });
            }
        }
    }

    /// Times the changes Connect shows now.
    fn look_at_connect(&mut self, sandbox: &Sandbox) {
        if self.waiting.is_empty() {
            return;
        }
        let now = Instant::now();
        let quantities: HashMap<String, i64> = sandbox
            .connect_products(COMPANY)
            .iter()
            .filter_map(|product| {
                let quantity = product["quantities"]
                    .as_array()?
                    .iter()
                    .filter_map(|q| q["available_quantity"].as_i64())
                    .sum();
                Some((product["id"].as_str()?.to_owned(), quantity))
            })
            .collect();
        let mut not_on_connect = 0;
        let mut shown = Vec::new();
        self.waiting
            .retain(|change| match quantities.get(&change.sku) {
                None => {
                    not_on_connect += 1;
                    false
                }
                Some(quantity) if *quantity <= change.at_most => {
                    shown.push(now - change.since);
                    false
                }
                Some(_) => true,
            });
        self.not_on_connect += not_on_connect;
        self.shown.extend(shown);
    }
}

/// Runs the worker as a `marketbridge worker` process and SIGKILLs it `options.kills` times,
/// one to three seconds after each start, starting it again each time; the last one runs until
/// `stop`. Returns how many kills there were (fewer than asked when the orders were all done
/// first).
async fn kill_and_restart(
    env: &BenchEnv,
    options: &OrdersOptions,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<usize> {
    let order_config = options.order_config();
    let mut killed = 0;
    loop {
        let mut worker = env
            .worker_process(options.binary.as_deref(), options.budgets, &order_config)?
            .spawn()
            .context("starting a marketbridge worker process")?;
        let stopped = if killed < options.kills {
            let pause = Duration::from_millis(1_000 + super::scramble(killed as u64) % 2_000);
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => true,
                () = tokio::time::sleep(pause) => false,
            }
        } else {
            let _ = stop.wait_for(|stop| *stop).await;
            true
        };
        // SIGKILL: no shutdown, leases held, steps reserved and not finished.
        worker.kill().context("killing the worker process")?;
        worker.wait().context("reaping the worker process")?;
        // Its leases are given back at once, as though they had run out.
        env.storage().reap_expired_leases(i64::MAX).await?;
        if stopped {
            return Ok(killed);
        }
        killed += 1;
    }
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
    fn count(env: &BenchEnv, placed: &[String]) -> Self {
        let mut per_order: BTreeMap<String, u64> = BTreeMap::new();
        let mut total = 0;
        for id in env.shop_order_ids() {
            total += 1;
            if let Some(mirakl_id) = env.shop_order(id).and_then(|o| o.mirakl_order_id) {
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
