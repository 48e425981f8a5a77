//! Mirakl's call budgets switched on, in the sandbox and in the connector, at 1/100 of the
//! documented frequencies (a minute lasts 0.6 s): the connector waits for every slot instead
//! of being told to with a 429, also when two processes share the database, and everything
//! still ends on the channels. No product mapping is saved: P41's 15 minutes would be 9 s.

use std::collections::BTreeSet;

use domain::{ChannelId, ItemState};

use test_support::{Engine, TestApp};

use crate::catalog::{INSTANCE, STORE, Setup, count, items, launch};

const SCALE: f64 = 0.01;
const COMPANY: &str = "demo-company";

/// The calls the sandbox refused for their budget, by operation.
fn over_budget(app: &TestApp) -> Vec<(&'static str, u64)> {
    sandbox::Operation::ALL
        .iter()
        .map(|op| {
            let counter = op.counter();
            (
                counter,
                app.sandbox
                    .call_count(&format!("budget.exceeded.{counter}")),
            )
        })
        .filter(|(_, refused)| *refused > 0)
        .collect()
}

fn assert_no_call_over_budget(app: &TestApp) {
    assert_eq!(
        (app.sandbox.call_count("budget.exceeded"), over_budget(app)),
        (0, Vec::new()),
        "calls the sandbox refused for their budget, by operation"
    );
}

async fn skus_in(
    app: &TestApp,
    s: &Setup,
    channel: ChannelId,
    state: ItemState,
) -> BTreeSet<String> {
    items(app, s.ws, channel)
        .await
        .into_iter()
        .filter(|i| i.state == state)
        .map(|i| i.sku)
        .collect()
}

/// Every item the connector marked live is on its channel, and nothing else is; no item is
/// left waiting to be sent or sent without an answer.
async fn assert_channels_match_the_connector(app: &TestApp, s: &Setup) {
    for channel in [s.connect, s.marketplace] {
        let all = items(app, s.ws, channel).await;
        // Which imports the items left `sent` came in, and which imports are still open: a
        // failure then says whether an import was lost or left unfollowed.
        let stuck: BTreeSet<Option<String>> = all
            .iter()
            .filter(|i| i.state == ItemState::Sent)
            .map(|i| i.import_id.clone())
            .collect();
        let open: Vec<String> = app
            .storage()
            .open_imports(s.ws, channel)
            .await
            .unwrap()
            .into_iter()
            .map(|i| format!("{} {} {}", i.kind, i.import_id, i.status))
            .collect();
        assert_eq!(
            (
                count(&all, ItemState::Waiting),
                count(&all, ItemState::Sent)
            ),
            (0, 0),
            "nothing left waiting or sent on {channel}; sent in imports {stuck:?}, open imports {open:?}"
        );
    }
    let offers: BTreeSet<String> = app
        .sandbox
        .marketplace_offers(INSTANCE, STORE)
        .iter()
        .map(|o| o["shop_sku"].as_str().unwrap().to_owned())
        .collect();
    let live_offers = skus_in(app, s, s.marketplace, ItemState::Live).await;
    assert!(!live_offers.is_empty());
    assert_eq!(offers, live_offers, "the marketplace has every live offer");
    let products: BTreeSet<String> = app
        .sandbox
        .connect_products(COMPANY)
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    let live_products = skus_in(app, s, s.connect, ItemState::Live).await;
    assert!(!live_products.is_empty());
    assert_eq!(products, live_products, "Connect has every live product");
}

/// A launched workspace whose launch ran to its end with the budgets on.
async fn launched_within_budgets(app: &TestApp) -> Setup {
    let s = launch(app).await;
    app.run_until_idle().await;
    s
}

async fn launch_stays_within_every_budget(engine: Engine) {
    let app = TestApp::spawn_with_budgets(engine, SCALE).await;
    let s = launched_within_budgets(&app).await;

    assert_no_call_over_budget(&app);
    assert_channels_match_the_connector(&app, &s).await;
    // The budgeted calls were made, so the test cannot pass by sending nothing.
    for op in ["mmp.of01", "mmp.of04", "connect.products.post"] {
        assert!(app.sandbox.call_count(op) > 0, "no {op} call");
    }
}

#[tokio::test]
async fn launch_with_budgets_on_never_calls_over_budget_and_sends_everything() {
    launch_stays_within_every_budget(Engine::Sqlite).await;
}

#[tokio::test]
async fn launch_with_budgets_on_never_calls_over_budget_on_postgres() {
    launch_stays_within_every_budget(Engine::Postgres).await;
}

/// The shop ids of `n` items live on both channels, with their SKUs.
async fn live_everywhere(app: &TestApp, s: &Setup, n: usize) -> Vec<(String, i64)> {
    let on_connect = skus_in(app, s, s.connect, ItemState::Live).await;
    let on_marketplace = skus_in(app, s, s.marketplace, ItemState::Live).await;
    let rows = app
        .storage()
        .catalog_page(s.ws, None, 100_000, false)
        .await
        .unwrap();
    let picked: Vec<_> = rows
        .into_iter()
        .filter(|r| on_connect.contains(&r.sku) && on_marketplace.contains(&r.sku))
        .map(|r| (r.sku, r.shop_variation_id.unwrap_or(r.shop_product_id)))
        .take(n)
        .collect();
    assert_eq!(picked.len(), n, "enough items live on both channels");
    picked
}

/// The price a round of changes gives its `i`th product (no trailing zero, so it reads the
/// same as a number).
fn new_price(round: usize, i: usize) -> String {
    format!("{}.{}", 200 + round, 11 + i)
}

async fn two_nodes_stay_within_every_budget(engine: Engine) {
    let app = TestApp::spawn_with_budgets(engine, SCALE).await;
    let s = launched_within_budgets(&app).await;
    let second = app.second_node().await;
    let sends = |app: &TestApp| {
        ["mmp.of24", "mmp.of01", "connect.products.post"].map(|op| app.sandbox.call_count(op))
    };
    let before = sends(&app);

    // Two rounds of changes in the shop, each run to its end by both nodes at once: their
    // webhooks, reads, exports and import follow-ups compete for the same budget slots.
    let changed = live_everywhere(&app, &s, 8).await;
    for (round, products) in changed.chunks(4).enumerate() {
        for (i, (_, id)) in products.iter().enumerate() {
            app.sandbox
                .woo_set_price("demo-shop", *id, &new_price(round, i), None);
        }
        app.sandbox.settle_webhooks().await;
        app.run_until_idle_with(&[&second]).await;
    }

    assert_no_call_over_budget(&app);
    assert_channels_match_the_connector(&app, &s).await;
    let after = sends(&app);
    assert!(
        after[0] + after[1] > before[0] + before[1],
        "the changes went to the marketplace: {before:?} → {after:?}"
    );
    assert!(after[2] > before[2], "the changes went to Connect");
    let offers = app.sandbox.marketplace_offers(INSTANCE, STORE);
    let products = app.sandbox.connect_products(COMPANY);
    for (round, chunk) in changed.chunks(4).enumerate() {
        for (i, (sku, _)) in chunk.iter().enumerate() {
            let price = new_price(round, i);
            let offer = offers
                .iter()
                .find(|o| o["shop_sku"] == sku.as_str())
                .unwrap();
            assert_eq!(
                offer["price"].to_string().trim_matches('"'),
                price,
                "{offer}"
            );
            let product = products.iter().find(|p| p["id"] == sku.as_str()).unwrap();
            assert!(
                product["standard_prices"].to_string().contains(&price),
                "{product}"
            );
        }
    }
}

#[tokio::test]
async fn two_nodes_sharing_the_database_stay_within_every_budget() {
    two_nodes_stay_within_every_budget(Engine::Sqlite).await;
}

#[tokio::test]
async fn two_nodes_sharing_the_database_stay_within_every_budget_on_postgres() {
    two_nodes_stay_within_every_budget(Engine::Postgres).await;
}
