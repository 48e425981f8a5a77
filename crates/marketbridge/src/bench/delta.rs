//! `delta`: once the catalog is exported, K stock and price changes are made in the shop (each
//! fires its webhook) while the worker runs as `serve` runs it; each change is timed until every
//! channel carrying the item shows the new value (Mirakl Connect always, the marketplace when
//! the item is live there). Then a quiet period, in which no catalog call may happen.
//!
//! The channels are looked at only when they may have changed: Connect applies a product at
//! its `POST /products`, a marketplace an offer import at the OF04 poll that completes it.
//! Both counters are read every few milliseconds (cheap); the channel is read when one moved.

use domain::SyncRunStatus;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use domain::catalog::{ConnectProduct, Money};
use sandbox::Sandbox;
use serde_json::Value;

use sync::Budgets;
use tokio::sync::watch;

use super::report::{Figures, Report, Rss, peak_rss_mb, percentile, round};
use super::scramble;
use super::setup::{self, BenchEnv, COMPANY, MARKETPLACE, STORE_ID, Workspace};

pub const DEFAULT_CHANGES: usize = 1_000;
pub const DEFAULT_CHANGES_PER_SECOND: f64 = 20.0;
pub const DEFAULT_QUIET: Duration = Duration::from_secs(30);

/// How often the channels' counters are read.
const WATCH_EVERY: Duration = Duration::from_millis(5);
/// The quiet period starts once no catalog call happened for this long (the last webhooks'
/// reads finish first), or after `CALM_LIMIT` anyway.
const CALM: Duration = Duration::from_secs(1);
const CALM_LIMIT: Duration = Duration::from_secs(60);
/// Beyond this the first export is taken for stuck and the benchmark fails.
const EXPORT_LIMIT: Duration = Duration::from_secs(30 * 60);
/// A change not visible this long after the last change (plus budget intervals) is lost.
const VISIBLE_LIMIT: Duration = Duration::from_secs(120);

#[derive(Clone, Debug)]
pub struct DeltaOptions {
    /// Shop products, a third of them variable.
    pub products: u64,
    pub changes: usize,
    /// 0 makes every change at once.
    pub changes_per_second: f64,
    pub quiet: Duration,
    pub budgets: Budgets,
    pub poll_interval: Duration,
    pub shop: setup::ShopKind,
}

impl Default for DeltaOptions {
    fn default() -> Self {
        Self {
            products: setup::DEFAULT_PRODUCTS,
            changes: DEFAULT_CHANGES,
            changes_per_second: DEFAULT_CHANGES_PER_SECOND,
            quiet: DEFAULT_QUIET,
            budgets: Budgets::off(),
            poll_interval: setup::DEFAULT_POLL,
            shop: setup::ShopKind::default(),
        }
    }
}

pub async fn delta(options: &DeltaOptions) -> anyhow::Result<Report> {
    let mut env = BenchEnv::start(options.budgets, options.poll_interval).await?;
    env.shop = options.shop;
    let report = run(&env, options).await;
    env.stop().await;
    report
}

async fn run(env: &BenchEnv, options: &DeltaOptions) -> anyhow::Result<Report> {
    let store = env.create_store(options.products)?;
    let ws = env.onboard(&store).await?;
    env.run_until_settled(&ws, EXPORT_LIMIT).await?;
    let targets = targets(env, &ws, options.changes).await?;

    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(env.connector.worker.clone().run(stopped));
    let before = env.calls();
    let (changes, wall) = make_and_watch(env, &targets, options).await;
    let calls = env.calls().since(&before);

    env.sandbox.settle_webhooks().await;
    wait_for_calm(env, &ws).await?;
    let quiet_from = env.calls();
    tokio::time::sleep(options.quiet).await;
    let quiet_calls = env.calls().catalog_since(&quiet_from);
    let _ = stop.send(true);
    let _ = worker.await;
    // Before the counts below, which read every channel back.
    let peak_rss_mb = peak_rss_mb();
    let tally = env.tally(&ws).await?;

    let latencies = |filter: &dyn Fn(&Change) -> bool| {
        let mut seconds: Vec<f64> = changes
            .iter()
            .filter(|c| filter(c))
            .filter_map(Change::latency)
            .map(|d| d.as_secs_f64())
            .collect();
        seconds.sort_by(f64::total_cmp);
        seconds
    };
    let all = latencies(&|_| true);
    let marketplace = latencies(&|c| c.on_marketplace);
    let connect_only = latencies(&|c| !c.on_marketplace);
    let lost = changes.iter().filter(|c| c.latency().is_none()).count() as u64;
    let mut report = Report::new(Figures {
        scenario: "delta".into(),
        items: Some(changes.len() as u64),
        wall_s: Some(round(wall.as_secs_f64(), 3)),
        peak_rss_mb: peak_rss_mb.map(Rss::Process),
        calls: Some(calls),
        latency_p50_s: percentile(&all, 50.0).map(|s| round(s, 3)),
        latency_p95_s: percentile(&all, 95.0).map(|s| round(s, 3)),
        quiet_calls: Some(quiet_calls.values().sum()),
        duplicates: Some(tally.duplicates),
        lost: Some(lost),
        ..Figures::default()
    });
    report.note("shop products", options.products);
    report.note("catalog items", tally.items);
    report.note("changes per second", options.changes_per_second);
    for (label, seconds) in [
        ("changes to items on Connect only", &connect_only),
        ("changes to items live on the marketplace too", &marketplace),
    ] {
        report.note(label, seconds.len());
        if let (Some(p50), Some(p95)) = (percentile(seconds, 50.0), percentile(seconds, 95.0)) {
            report.note("  latency p50 / p95, s", format!("{p50:.3} / {p95:.3}"));
        }
    }
    report.note("budget scale", options.budgets.scale);
    if options.budgets.scale > 0.0 {
        let interval = budget_interval(options.budgets).as_secs_f64();
        report.note("budget interval, s", round(interval, 3));
        report.note(
            "target p95 (one interval + 5 s), s",
            round(interval + 5.0, 3),
        );
    }
    // Where the time goes: how long each kind of run took during the changes.
    let runs = env.storage().recent_sync_runs(ws.id, 100_000).await?;
    let mut by_flow: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for run in &runs {
        if let Some(end) = run.finished_at_ms {
            let kind = match run.channel_id {
                None => run.flow.clone(),
                Some(_) => format!("{} (per channel)", run.flow),
            };
            by_flow
                .entry(kind)
                .or_default()
                .push((end - run.started_at_ms) as f64 / 1000.0);
        }
    }
    for (flow, mut seconds) in by_flow {
        seconds.sort_by(f64::total_cmp);
        if let (Some(p50), Some(p95)) = (percentile(&seconds, 50.0), percentile(&seconds, 95.0)) {
            report.note(
                &format!("runs {flow}: count, p50 / p95 s"),
                format!("{}, {p50:.3} / {p95:.3}", seconds.len()),
            );
        }
    }
    report.note("quiet period, s", options.quiet.as_secs_f64());
    for (operation, count) in &quiet_calls {
        report.note(&format!("quiet calls {operation}"), count);
    }
    report.note("worker poll, ms", options.poll_interval.as_millis());
    Ok(report)
}

/// The connector's slot for a once-a-minute call: Mirakl's documented minute as the budgets
/// scale it, plus their margin.
fn budget_interval(budgets: Budgets) -> Duration {
    let ms = budgets.interval_ms(sync::budgets::Operation::OfferUpsert);
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// An item to change: its SKU, its id in the shop, and whether the marketplace carries it.
struct Target {
    sku: String,
    product_id: i64,
    variation_id: Option<i64>,
    on_marketplace: bool,
}

/// `n` distinct items live on Connect, in a fixed random order, half of them (as far as there
/// are) live on the marketplace too.
async fn targets(env: &BenchEnv, ws: &Workspace, n: usize) -> anyhow::Result<Vec<Target>> {
    let offered: HashSet<String> = env
        .sandbox
        .marketplace_offers(MARKETPLACE, STORE_ID)
        .iter()
        .filter_map(|o| o["shop_sku"].as_str().map(str::to_owned))
        .collect();
    let on_connect: HashSet<String> = env
        .sandbox
        .connect_products(COMPANY)
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect();
    let (mut both, mut connect_only) = (Vec::new(), Vec::new());
    let mut after: Option<String> = None;
    loop {
        let page = env
            .storage()
            .catalog_page(ws.id, after.as_deref(), 1000, false)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.sku.clone());
        for row in page.into_iter().filter(|r| on_connect.contains(&r.sku)) {
            let on_marketplace = offered.contains(&row.sku);
            let target = Target {
                product_id: row.shop_product_id,
                variation_id: row.shop_variation_id,
                sku: row.sku,
                on_marketplace,
            };
            if on_marketplace {
                both.push(target);
            } else {
                connect_only.push(target);
            }
        }
    }
    shuffle(&mut both, 1);
    shuffle(&mut connect_only, 2);
    let mut both = both.into_iter();
    let mut connect_only = connect_only.into_iter();
    let mut targets = Vec::with_capacity(n);
    while targets.len() < n {
        let next = if targets.len() % 2 == 0 {
            both.next().or_else(|| connect_only.next())
        } else {
            connect_only.next().or_else(|| both.next())
        };
        let Some(target) = next else { break };
        targets.push(target);
    }
    Ok(targets)
}

/// Fisher–Yates with the benchmarks' fixed sequence.
fn shuffle<T>(items: &mut [T], seed: u64) {
    for i in (1..items.len()).rev() {
        let j = (scramble(seed << 32 ^ i as u64) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

enum NewValue {
    Stock(i64),
    Price(Money),
}

struct Change {
    sku: String,
    new: NewValue,
    on_marketplace: bool,
    made_at: Instant,
    on_connect_at: Option<Instant>,
    on_marketplace_at: Option<Instant>,
}

impl Change {
    /// From the change in the shop until every channel carrying the item shows it.
    fn latency(&self) -> Option<Duration> {
        let connect = self.on_connect_at?;
        let seen = if self.on_marketplace {
            connect.max(self.on_marketplace_at?)
        } else {
            connect
        };
        Some(seen - self.made_at)
    }
}

/// Makes the changes at the rate asked for and watches the channels until every change is
/// visible or the time is up. Returns the changes and the time from the first change to the
/// last seen.
async fn make_and_watch(
    env: &BenchEnv,
    targets: &[Target],
    options: &DeltaOptions,
) -> (Vec<Change>, Duration) {
    let period = if options.changes_per_second > 0.0 {
        Duration::from_secs_f64(1.0 / options.changes_per_second)
    } else {
        Duration::ZERO
    };
    let limit = VISIBLE_LIMIT + budget_interval(options.budgets) * 20;
    let mut changes: Vec<Change> = Vec::with_capacity(targets.len());
    let mut watcher = Watcher::default();
    let started = Instant::now();
    loop {
        while let Some(target) = targets.get(changes.len()) {
            if started + period * changes.len() as u32 > Instant::now() {
                break;
            }
            changes.push(make_change(env, target, changes.len()));
        }
        watcher.look(&env.sandbox, &mut changes);
        if changes.len() == targets.len() {
            let all_seen = changes.iter().all(|c| c.latency().is_some());
            let given_up = changes.last().is_none_or(|c| c.made_at.elapsed() > limit);
            if all_seen || given_up {
                break;
            }
        }
        tokio::time::sleep(WATCH_EVERY).await;
    }
    let last_seen = changes
        .iter()
        .filter_map(|c| c.latency().map(|l| c.made_at + l))
        .max()
        .unwrap_or(started);
    (changes, last_seen - started)
}

/// Change `index`: a new stock or a new regular price (ending any sale), values no item had.
fn make_change(env: &BenchEnv, target: &Target, index: usize) -> Change {
    let new = if scramble(index as u64).is_multiple_of(2) {
        let quantity = 1_000 + index as i64;
        env.set_stock(target.product_id, target.variation_id, quantity);
        NewValue::Stock(quantity)
    } else {
        let price = Money::from_minor(30_037 + 100 * index as i64);
        env.set_price(
            target.product_id,
            target.variation_id,
            &price.to_decimal_string(),
        );
        NewValue::Price(price)
    };
    Change {
        sku: target.sku.clone(),
        new,
        on_marketplace: target.on_marketplace,
        made_at: Instant::now(),
        on_connect_at: None,
        on_marketplace_at: None,
    }
}

/// The counters of the calls that change what a channel shows, as last read.
#[derive(Default)]
struct Watcher {
    connect_posts: u64,
    offer_polls: u64,
}

impl Watcher {
    fn look(&mut self, sandbox: &Sandbox, changes: &mut [Change]) {
        let posts = sandbox.call_count("connect.products.post");
        if posts != self.connect_posts {
            self.connect_posts = posts;
            let now = Instant::now();
            let waiting = waiting(changes, |c| c.on_connect_at.is_none());
            if !waiting.is_empty() {
                for product in sandbox.connect_products(COMPANY) {
                    let Some(&i) = product["id"].as_str().and_then(|id| waiting.get(id)) else {
                        continue;
                    };
                    if connect_shows(product, &changes[i].new) {
                        changes[i].on_connect_at = Some(now);
                    }
                }
            }
        }
        let polls = sandbox.call_count("mmp.of04");
        if polls != self.offer_polls {
            self.offer_polls = polls;
            let now = Instant::now();
            let waiting = waiting(changes, |c| {
                c.on_marketplace && c.on_marketplace_at.is_none()
            });
            if !waiting.is_empty() {
                for offer in sandbox.marketplace_offers(MARKETPLACE, STORE_ID) {
                    let Some(&i) = offer["shop_sku"].as_str().and_then(|s| waiting.get(s)) else {
                        continue;
                    };
                    if offer_shows(&offer, &changes[i].new) {
                        changes[i].on_marketplace_at = Some(now);
                    }
                }
            }
        }
    }
}

/// SKU → index of the changes still waiting to be seen.
fn waiting(changes: &[Change], unseen: impl Fn(&Change) -> bool) -> HashMap<String, usize> {
    changes
        .iter()
        .enumerate()
        .filter(|(_, c)| unseen(c))
        .map(|(i, c)| (c.sku.clone(), i))
        .collect()
}

fn connect_shows(product: Value, new: &NewValue) -> bool {
    let Ok(product) = serde_json::from_value::<ConnectProduct>(product) else {
        return false;
    };
    match new {
        NewValue::Stock(quantity) => product.available_quantity() == Some(*quantity),
        NewValue::Price(price) => {
            product.standard_prices.first().map(|p| p.price.amount) == Some(*price)
        }
    }
}

fn offer_shows(offer: &Value, new: &NewValue) -> bool {
    match new {
        NewValue::Stock(quantity) => offer["quantity"].as_i64() == Some(*quantity),
        // The price the seller set, whatever discount runs.
        NewValue::Price(price) => offer["applicable_pricing"]["unit_origin_price"]
            .as_f64()
            .is_some_and(|p| (p * 100.0).round() as i64 == price.minor()),
    }
}

/// Waits until no run is under way and no catalog call happened for `CALM`: the work the last
/// changes queued is done.
async fn wait_for_calm(env: &BenchEnv, ws: &Workspace) -> anyhow::Result<()> {
    let deadline = Instant::now() + CALM_LIMIT;
    let mut last = env.calls();
    let mut calm_since = Instant::now();
    while Instant::now() < deadline && calm_since.elapsed() < CALM {
        tokio::time::sleep(env.poll_interval).await;
        let now = env.calls();
        let running = env
            .storage()
            .recent_sync_runs(ws.id, 20)
            .await?
            .iter()
            .any(|run| run.status == SyncRunStatus::Running);
        if running || !now.catalog_since(&last).is_empty() {
            last = now;
            calm_since = Instant::now();
        }
    }
    Ok(())
}
