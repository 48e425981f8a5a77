//! `catalog`: the first export of a shop of N products to Mirakl Connect and to one marketplace
//! store, timed from the first full read of the shop until every item has its final state on
//! both channels (live, or refused with its error line) and no import is open.

use std::time::{Duration, Instant};

use sync::Budgets;

use super::report::{Figures, Report, Rss, peak_rss_mb, rate, round};
use super::setup::{self, BenchEnv, MARKETPLACE, STORE_ID};

/// Beyond this the export is taken for stuck and the benchmark fails.
const EXPORT_LIMIT: Duration = Duration::from_secs(30 * 60);

#[derive(Clone, Debug)]
pub struct CatalogOptions {
    /// Shop products, a third of them variable.
    pub products: u64,
    pub budgets: Budgets,
    pub poll_interval: Duration,
    pub shop: setup::ShopKind,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        Self {
            products: setup::DEFAULT_PRODUCTS,
            budgets: Budgets::off(),
            poll_interval: setup::DEFAULT_POLL,
            shop: setup::ShopKind::default(),
        }
    }
}

pub async fn catalog(options: &CatalogOptions) -> anyhow::Result<Report> {
    let mut env = BenchEnv::start(options.budgets, options.poll_interval).await?;
    env.shop = options.shop;
    let report = run(&env, options).await;
    env.stop().await;
    report
}

async fn run(env: &BenchEnv, options: &CatalogOptions) -> anyhow::Result<Report> {
    let store = env.create_store(options.products)?;
    let ws = env.onboard(&store).await?;

    let rss_before = peak_rss_mb();
    let before = env.calls();
    let started_ms = storage::now_ms();
    let started = Instant::now();
    env.run_until_settled(&ws, EXPORT_LIMIT).await?;
    let wall = started.elapsed().as_secs_f64();
    // Before the counts below, which read every channel back.
    let peak_rss_mb = peak_rss_mb();
    let calls = env.calls().since(&before);

    let tally = env.tally(&ws).await?;
    let mut report = Report::new(Figures {
        scenario: "catalog".into(),
        items: Some(tally.items),
        wall_s: Some(round(wall, 3)),
        items_per_s: Some(rate(tally.items, wall)),
        peak_rss_mb: peak_rss_mb.map(Rss::Process),
        calls: Some(calls),
        duplicates: Some(tally.duplicates),
        lost: Some(tally.lost()),
        ..Figures::default()
    });
    report.note("shop", format!("{:?}", options.shop).to_lowercase());
    report.note("shop products", options.products);
    if let Some(mb) = rss_before {
        report.note("peak RSS before the export (sandbox store, setup), MB", mb);
    }
    report.note("budget scale", options.budgets.scale);
    // Where the time goes: each run, when it started and how long it took.
    let mut runs = env.storage().recent_sync_runs(ws.id, 1_000).await?;
    runs.sort_by_key(|run| run.started_at_ms);
    for (n, run) in runs.iter().enumerate() {
        let at = |ms: i64| (ms - started_ms) as f64 / 1000.0;
        let channel = run.channel_id.map_or(String::new(), |c| {
            let c = c.to_string();
            format!(" {}", &c[c.len() - 4..])
        });
        report.note(
            &format!("run {}: {}{channel}, from / to s", n + 1, run.flow),
            format!(
                "{:.2} / {}",
                at(run.started_at_ms),
                run.finished_at_ms
                    .map_or("-".to_owned(), |end| format!("{:.2}", at(end)))
            ),
        );
    }
    report.note("items with a GTIN", tally.with_gtin);
    report.note(
        &format!("offers live on {MARKETPLACE} {STORE_ID}"),
        tally.marketplace_offers,
    );
    report.note("offers refused (error lines)", tally.error_lines);
    report.note("Connect products", tally.connect_products);
    report.note(
        "check: offers + error lines = items with a GTIN, Connect products = items",
        tally.verdict(),
    );
    Ok(report)
}
