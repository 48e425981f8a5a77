//! Exactly once, the hard way: the connector's worker runs as its own process
//! (`marketbridge worker`), is killed with SIGKILL at random moments and started again, while a
//! fifth of the sandbox's calls fail in every way (500, 429, timeouts, answers lost after the
//! call was applied). A thousand orders end as a thousand shop orders: none lost, none made
//! twice, each acceptance sent once.

use std::collections::BTreeMap;
use std::process::Child;
use std::time::Duration;

use domain::ItemState;
use marketbridge::wiring::SandboxWorker;
use sandbox::FaultRates;
use test_support::{Engine, ShopKind, TestApp};

use crate::catalog::{
    INSTANCE, STORE, deliver_shop_webhooks, items, launched_with, set_shop_stock,
};

const SHOP: &str = "demo-shop";

/// A fifth of the calls fail: a quarter of those each way.
const FAULTS: FaultRates = FaultRates {
    error_rate: 0.05,
    rate_limit_rate: 0.05,
    timeout_rate: 0.05,
    lost_answer_rate: 0.05,
};

/// `marketbridge worker` on the test app's database, against its sandbox, as an operator would
/// run it: orders polled every second, a shop order without an answer looked for at once.
fn start_worker(app: &TestApp) -> Child {
    let orders = sync::OrderConfig {
        poll_interval: Duration::from_secs(1),
        in_doubt_after: Duration::ZERO,
        ..sync::OrderConfig::default()
    };
    SandboxWorker {
        database_url: app.database_url(),
        secret_key: app.secret_key(),
        public_url: &app.connector_url,
        sandbox_url: &app.sandbox_url,
        budgets: sync::Budgets::off(),
        orders: &orders,
    }
    .command(std::path::Path::new(env!("CARGO_BIN_EXE_marketbridge")))
    .spawn()
    .expect("start marketbridge worker")
}

/// A small deterministic generator: the kill moments are random, and the same on every run.
struct Moments(u64);

impl Moments {
    /// Between 1 and 5 seconds.
    fn next(&mut self) -> Duration {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        Duration::from_millis(1_000 + (self.0 >> 33) % 4_000)
    }
}

/// How many shop orders each Mirakl order id has.
fn shop_orders_per_mirakl_order(app: &TestApp, shop: ShopKind) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    if shop == ShopKind::BigCommerce {
        for id in app.sandbox.bc_order_ids(sandbox::BC_DEMO_STORE_HASH) {
            let order = app
                .sandbox
                .bc_order(sandbox::BC_DEMO_STORE_HASH, id)
                .unwrap();
            if let Some(mirakl) = order["external_order_id"]
                .as_str()
                .filter(|m| !m.is_empty())
            {
                *count.entry(mirakl.to_owned()).or_insert(0) += 1;
            }
        }
        return count;
    }
    marketbridge::fleet::woo_orders_per_mirakl_order(&app.sandbox, SHOP)
}

/// `orders` orders while the worker is killed `kills` times.
async fn a_killed_worker_under_faults_makes_each_shop_order_once(
    engine: Engine,
    shop: ShopKind,
    orders: usize,
    kills: usize,
) {
    let app = TestApp::spawn_on(engine).await;
    let s = launched_with(&app, shop).await;
    // Stock for every order, in the shop and (through the catalog flow) on the marketplace.
    let live: Vec<String> = items(&app, s.ws, s.marketplace)
        .await
        .into_iter()
        .filter(|i| i.state == ItemState::Live)
        .map(|i| i.sku)
        .collect();
    for row in app
        .storage()
        .catalog_page(s.ws, None, 100_000, false)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| live.contains(&r.sku) && r.item().unwrap().stock.managed)
    {
        set_shop_stock(&app, &s, &row, 100_000);
    }
    deliver_shop_webhooks(&app, &s).await;
    app.settle().await;
    app.sandbox.settle_imports();
    let placed = app
        .sandbox
        .mmp_place_orders(INSTANCE, STORE, orders, &[])
        .expect("orders placed");

    app.sandbox.set_timeout_hold(Duration::from_millis(200));
    app.sandbox.set_faults(FAULTS);
    let mut moments = Moments(0x5eed);
    for _ in 0..kills {
        let mut worker = start_worker(&app);
        tokio::time::sleep(moments.next()).await;
        // SIGKILL: no shutdown, leases held, steps reserved and not finished.
        worker.kill().expect("kill the worker");
        worker.wait().expect("the killed worker is reaped");
    }

    // Started again, once and for all (here, in this process, still under faults): the jobs
    // the killed processes held come back once their leases are given up.
    app.storage().reap_expired_leases(i64::MAX).await.unwrap();
    for _ in 0..20 {
        app.connector()
            .flows
            .orders
            .poll_now(s.ws, s.marketplace)
            .await
            .unwrap();
        app.settle().await;
        deliver_shop_webhooks(&app, &s).await;
        let made = shop_orders_per_mirakl_order(&app, shop);
        if placed.iter().all(|id| made.contains_key(id)) {
            break;
        }
    }
    app.sandbox.set_faults(FaultRates::default());
    app.connector()
        .flows
        .orders
        .poll_now(s.ws, s.marketplace)
        .await
        .unwrap();
    app.settle().await;

    let made = shop_orders_per_mirakl_order(&app, shop);
    let lost: Vec<&String> = placed.iter().filter(|id| !made.contains_key(*id)).collect();
    let twice: Vec<(&String, &usize)> = made.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        lost.is_empty(),
        "{} orders never reached the shop: {lost:?}",
        lost.len()
    );
    assert!(twice.is_empty(), "orders made more than once: {twice:?}");
    assert_eq!(made.len(), orders);
    assert_eq!(
        app.sandbox.call_count("mmp.or21.repeated"),
        0,
        "an acceptance was sent to an order already decided"
    );
    for id in &placed {
        let state = app.sandbox.mmp_order(INSTANCE, id).unwrap()["order_state"].clone();
        assert_eq!(state, "SHIPPING", "{id}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_killed_worker_under_faults_makes_each_shop_order_once_on_sqlite() {
    a_killed_worker_under_faults_makes_each_shop_order_once(
        Engine::Sqlite,
        ShopKind::WooCommerce,
        1000,
        6,
    )
    .await;
}

#[tokio::test]
async fn a_killed_worker_under_faults_makes_each_shop_order_once_on_postgres() {
    a_killed_worker_under_faults_makes_each_shop_order_once(
        Engine::Postgres,
        ShopKind::WooCommerce,
        1000,
        6,
    )
    .await;
}

/// The same for a BigCommerce store, smaller: its path through the order flow is the
/// WooCommerce one but for the shop's own calls, which fail here too.
#[tokio::test]
async fn a_killed_worker_under_faults_makes_each_bigcommerce_order_once() {
    a_killed_worker_under_faults_makes_each_shop_order_once(
        Engine::Sqlite,
        ShopKind::BigCommerce,
        200,
        3,
    )
    .await;
}
