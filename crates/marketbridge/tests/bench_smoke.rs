//! The benchmarks at toy sizes: each scenario runs end to end and reports sane figures. No
//! timing is asserted (DESIGN §9: benchmarks, never timed tests).

use std::time::Duration;

use marketbridge::bench::ShopKind;
use marketbridge::bench::{
    CatalogOptions, DeltaOptions, DiffOptions, Figures, FleetBenchOptions, OrdersOptions, Report,
    Rss, catalog, delta, diff, fleet, orders,
};

/// Runs a benchmark body once per shop, each as a test of its own.
macro_rules! for_each_shop {
    ($body:ident) => {
        mod $body {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn woocommerce() {
                super::$body(super::ShopKind::Woocommerce).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn bigcommerce() {
                super::$body(super::ShopKind::Bigcommerce).await;
            }
        }
    };
}

/// The counter of the shop's catalog reads.
fn product_reads(shop: ShopKind) -> &'static str {
    match shop {
        ShopKind::Woocommerce => "woo.rest.products",
        ShopKind::Bigcommerce => "bc.rest.products",
    }
}

fn figures_of(report: &Report) -> &Figures {
    let f = &report.figures;
    let json: serde_json::Value = serde_json::from_str(&report.json()).expect("one JSON object");
    assert_eq!(json["scenario"], f.scenario.as_str());
    assert!(
        report.table().contains(&f.scenario),
        "the table names the scenario"
    );
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_makes_an_offer_of_every_synthetic_item() {
    let report = diff(&DiffOptions { items: 1_000 }).await.unwrap();
    let f = figures_of(&report);
    assert_eq!(f.items, Some(1_000));
    assert!(f.items_per_s.unwrap() > 0.0);
    assert!(f.bytes_per_s.unwrap() > 0.0);
    assert!(f.peak_rss_mb.as_ref().unwrap().max() > 0.0);
    assert!(
        report
            .notes
            .iter()
            .any(|(label, value)| label == "items without an offer" && value == "0"),
        "{:?}",
        report.notes
    );
}

for_each_shop!(catalog_puts_every_item_on_connect_and_every_offer_on_the_marketplace);
async fn catalog_puts_every_item_on_connect_and_every_offer_on_the_marketplace(shop: ShopKind) {
    let report = catalog(&CatalogOptions {
        products: 50,
        shop,
        ..CatalogOptions::default()
    })
    .await
    .unwrap();
    let f = figures_of(&report);
    let items = f.items.unwrap();
    assert!(items > 50, "variations count as items: {items}");
    assert!(f.wall_s.unwrap() > 0.0);
    assert_eq!(f.duplicates, Some(0));
    assert_eq!(f.lost, Some(0), "{}", report.table());
    let calls = f.calls.as_ref().unwrap();
    assert!(calls["connect.products.post"] >= 1);
    assert!(calls[product_reads(shop)] >= 1);
    assert!(
        report
            .notes
            .iter()
            .any(|(label, value)| label.starts_with("check:") && value == "ok"),
        "{}",
        report.table()
    );
}

for_each_shop!(delta_shows_every_change_and_then_calls_nothing);
async fn delta_shows_every_change_and_then_calls_nothing(shop: ShopKind) {
    let report = delta(&DeltaOptions {
        products: 50,
        changes: 10,
        quiet: Duration::from_secs(1),
        shop,
        ..DeltaOptions::default()
    })
    .await
    .unwrap();
    let f = figures_of(&report);
    assert_eq!(f.items, Some(10));
    assert_eq!(f.lost, Some(0), "{}", report.table());
    assert_eq!(f.duplicates, Some(0));
    assert_eq!(f.quiet_calls, Some(0), "{}", report.table());
    let (p50, p95) = (f.latency_p50_s.unwrap(), f.latency_p95_s.unwrap());
    assert!(0.0 < p50 && p50 <= p95, "{p50} {p95}");
}

for_each_shop!(orders_makes_one_shop_order_per_mirakl_order_though_answers_are_lost);
async fn orders_makes_one_shop_order_per_mirakl_order_though_answers_are_lost(shop: ShopKind) {
    let report = orders(&OrdersOptions {
        products: 60,
        orders: 20,
        fault_rate: Some(0.2),
        in_doubt_after: Duration::from_secs(1),
        shop,
        ..OrdersOptions::default()
    })
    .await
    .unwrap();
    let f = figures_of(&report);
    assert!(report.problems.is_empty(), "{}", report.table());
    assert_eq!(f.orders_placed, Some(20));
    assert_eq!(f.shop_orders, Some(20), "{}", report.table());
    assert_eq!(f.duplicates, Some(0));
    assert_eq!(f.lost, Some(0));
    assert_eq!(f.acceptances, Some(20));
    assert_eq!(f.acceptances_duplicated, Some(0));
    assert_eq!(f.kills, Some(0));
    assert!(f.calls.as_ref().unwrap()["mmp.or21"] >= 20);
    let (p50, p95) = (f.import_p50_s.unwrap(), f.import_p95_s.unwrap());
    assert!(0.0 < p50 && p50 <= p95, "{p50} {p95}");
    // Each shop order took stock, and Mirakl Connect came to show it.
    let (p50, p95) = (f.stock_p50_s.unwrap(), f.stock_p95_s.unwrap());
    assert!(0.0 <= p50 && p50 <= p95, "{p50} {p95}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_with_kills_runs_a_worker_process_and_kills_it() {
    let report = orders(&OrdersOptions {
        products: 60,
        orders: 20,
        fault_rate: Some(0.2),
        in_doubt_after: Duration::from_secs(1),
        kills: 2,
        binary: Some(env!("CARGO_BIN_EXE_marketbridge").into()),
        ..OrdersOptions::default()
    })
    .await
    .unwrap();
    let f = figures_of(&report);
    assert!(report.problems.is_empty(), "{}", report.table());
    assert_eq!(f.shop_orders, Some(20), "{}", report.table());
    assert_eq!((f.duplicates, f.lost), (Some(0), Some(0)));
    assert_eq!(f.acceptances_duplicated, Some(0));
    // This process ran no worker: the shop orders above were made by the worker processes,
    // killed as often as the orders lasted (at most as asked).
    assert!(f.kills.unwrap() <= 2, "{}", report.table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_exports_every_seller_on_worker_processes_and_times_small_changes() {
    let report = fleet(&FleetBenchOptions {
        workspaces: 2,
        products: 60,
        nodes: 2,
        big_products: 600,
        database_url: storage::testing::test_postgres_url(),
        budgets: sync::Budgets::off(),
        binary: Some(env!("CARGO_BIN_EXE_marketbridge").into()),
    })
    .await
    .unwrap();
    let f = figures_of(&report);
    assert_eq!((f.workspaces, f.nodes), (Some(2), Some(2)));
    assert!(f.items.unwrap() > 120, "variations count as items");
    assert!(f.jobs_per_s.unwrap() > 0.0);
    assert_eq!(f.duplicates, Some(0));
    assert_eq!(f.lost, Some(0), "{}", report.table());
    assert!(f.small_delta_p95_s.is_some(), "{}", report.table());
    let Some(Rss::PerNode(nodes)) = &f.peak_rss_mb else {
        panic!("the memory of each node: {:?}", f.peak_rss_mb);
    };
    let names: Vec<&str> = nodes.keys().map(String::as_str).collect();
    assert_eq!(names, ["serve", "worker-1", "worker-2"]);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
