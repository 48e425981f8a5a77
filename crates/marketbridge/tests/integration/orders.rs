//! F5: orders placed on a marketplace or on Mirakl Connect are accepted against the shop's
//! stock, created once in the shop when Mirakl shows the address, and what the shop does next
//! (ship with tracking, cancel, refund) goes back to Mirakl once. Lost answers and a process
//! that stops half way change nothing: each effect happens exactly once.

use domain::{ChannelId, ItemState, OrderId};
use serde_json::Value;
use storage::{CatalogRow, StoredOrder};
use test_support::{Engine, ShopKind, TestApp};

use crate::catalog::{
    INSTANCE, STORE, Setup, for_each_shop, items, launched, launched_with, set_shop_stock,
};

const SHOP: &str = "demo-shop";
const BC_STORE: &str = sandbox::BC_DEMO_STORE_HASH;

/// A SKU live on `channel` whose stock the shop counts, with its catalog row; the first of
/// those with the most stock.
async fn a_stocked_sku(app: &TestApp, s: &Setup, channel: ChannelId) -> (String, CatalogRow) {
    let live: Vec<String> = items(app, s.ws, channel)
        .await
        .into_iter()
        .filter(|i| i.state == ItemState::Live)
        .map(|i| i.sku)
        .collect();
    app.storage()
        .catalog_page(s.ws, None, 100_000, false)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| live.contains(&r.sku))
        .filter(|r| r.item().unwrap().stock.managed)
        .max_by_key(|r| {
            (
                r.item().unwrap().stock.quantity,
                std::cmp::Reverse(r.sku.clone()),
            )
        })
        .map(|row| (row.sku.clone(), row))
        .expect("a live SKU with counted stock")
}

/// The shop's stock of the row's product or variation.
fn shop_stock(app: &TestApp, s: &Setup, row: &CatalogRow) -> i64 {
    match s.shop {
        ShopKind::WooCommerce => app
            .sandbox
            .woo_product(SHOP, row.shop_variation_id.unwrap_or(row.shop_product_id))
            .unwrap()["stock_quantity"]
            .as_i64()
            .unwrap(),
        ShopKind::BigCommerce => {
            let product = app
                .sandbox
                .bc_product(BC_STORE, row.shop_product_id)
                .unwrap();
            match row.shop_variation_id {
                Some(variant) => product["variants"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|v| v["id"] == variant)
                    .unwrap()["inventory_level"]
                    .as_i64()
                    .unwrap(),
                None => product["inventory_level"].as_i64().unwrap(),
            }
        }
    }
}

/// One call to the demo BigCommerce store's REST API, as the merchant's admin makes it.
async fn bc_call(app: &TestApp, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let url = format!("{}bc/stores/{BC_STORE}/{path}", app.sandbox_url);
    let mut request = reqwest::Client::new()
        .request(method, url)
        .header("X-Auth-Token", sandbox::BC_DEMO_API_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap_or(Value::Null)
}

/// A shop order as the tests read it, whatever the shop: its id, its status in the order
/// flow's words, and its lines (SKU, quantity).
#[derive(Debug)]
struct ShopOrder {
    id: i64,
    status: String,
    lines: Vec<(String, i64)>,
    street: String,
}

/// Ships every line of a shop order, as the merchant does once it leaves: WooCommerce
/// completes it with a tracking item; BigCommerce makes one shipment of every line.
async fn ship_in_shop(app: &TestApp, s: &Setup, shop_id: i64, tracking: (&str, &str)) {
    match s.shop {
        ShopKind::WooCommerce => app
            .sandbox
            .woo_complete_order(SHOP, shop_id, Some(tracking))
            .unwrap(),
        ShopKind::BigCommerce => {
            let lines = bc_call(
                app,
                reqwest::Method::GET,
                &format!("v2/orders/{shop_id}/products"),
                None,
            )
            .await;
            let lines = lines.as_array().unwrap();
            let items: Vec<Value> = lines
                .iter()
                .map(|l| serde_json::json!({ "order_product_id": l["id"], "quantity": l["quantity"] }))
                .collect();
            bc_call(
                app,
                reqwest::Method::POST,
                &format!("v2/orders/{shop_id}/shipments"),
                Some(serde_json::json!({
                    "order_address_id": lines[0]["order_address_id"],
                    "items": items,
                    // BigCommerce names carriers by slug.
                    "tracking_carrier": tracking.0.to_lowercase(),
                    "tracking_number": tracking.1,
                })),
            )
            .await;
        }
    }
}

/// Cancels a shop order, as the merchant does in the shop's admin.
async fn cancel_in_shop(app: &TestApp, s: &Setup, shop_id: i64) {
    match s.shop {
        ShopKind::WooCommerce => app.sandbox.woo_cancel_order(SHOP, shop_id).unwrap(),
        ShopKind::BigCommerce => {
            bc_call(
                app,
                reqwest::Method::PUT,
                &format!("v2/orders/{shop_id}"),
                Some(serde_json::json!({ "status_id": 5 })),
            )
            .await;
        }
    }
}

/// Refunds part of a shop order, as the merchant does in the shop's admin.
async fn refund_in_shop(app: &TestApp, s: &Setup, shop_id: i64, amount: &str, reason: &str) {
    match s.shop {
        ShopKind::WooCommerce => {
            app.sandbox
                .woo_refund_order(SHOP, shop_id, amount, reason)
                .unwrap();
        }
        ShopKind::BigCommerce => {
            bc_call(
                app,
                reqwest::Method::POST,
                &format!("v3/orders/{shop_id}/payment_actions/refunds"),
                Some(serde_json::json!({
                    "items": [{ "item_type": "ORDER", "item_id": shop_id, "amount": amount }],
                    "payments": [{ "provider_id": "custom", "amount": amount, "offline": true }],
                    "reason": reason,
                })),
            )
            .await;
        }
    }
}

/// An edit to a shop order that changes nothing Mirakl knows: a note.
async fn edit_in_shop(app: &TestApp, s: &Setup, shop_id: i64) {
    match s.shop {
        ShopKind::WooCommerce => {
            app.sandbox
                .woo_refund_order(SHOP, shop_id, "0.01", "goodwill")
                .unwrap();
        }
        ShopKind::BigCommerce => {
            bc_call(
                app,
                reqwest::Method::PUT,
                &format!("v2/orders/{shop_id}"),
                Some(serde_json::json!({ "staff_notes": "Packed by Sam." })),
            )
            .await;
        }
    }
}

/// The shop orders of either shop that carry this Mirakl order id.
async fn shop_orders_in(app: &TestApp, s: &Setup, mirakl_id: &str) -> Vec<ShopOrder> {
    match s.shop {
        ShopKind::WooCommerce => shop_orders_of(app, mirakl_id)
            .into_iter()
            .map(|o| ShopOrder {
                id: o["id"].as_i64().unwrap(),
                status: o["status"].as_str().unwrap().to_owned(),
                lines: o["line_items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| {
                        (
                            l["sku"].as_str().unwrap().to_owned(),
                            l["quantity"].as_i64().unwrap(),
                        )
                    })
                    .collect(),
                street: o["shipping"]["address_1"].as_str().unwrap().to_owned(),
            })
            .collect(),
        ShopKind::BigCommerce => {
            let mut found = Vec::new();
            for id in app.sandbox.bc_order_ids(BC_STORE) {
                let order = app.sandbox.bc_order(BC_STORE, id).unwrap();
                if order["external_order_id"] != mirakl_id {
                    continue;
                }
                let lines = bc_call(
                    app,
                    reqwest::Method::GET,
                    &format!("v2/orders/{id}/products"),
                    None,
                )
                .await;
                let addresses = bc_call(
                    app,
                    reqwest::Method::GET,
                    &format!("v2/orders/{id}/shipping_addresses"),
                    None,
                )
                .await;
                found.push(ShopOrder {
                    id,
                    status: match order["status"].as_str().unwrap() {
                        "Awaiting Fulfillment" => "processing",
                        "Cancelled" => "cancelled",
                        "Shipped" | "Completed" => "completed",
                        other => other,
                    }
                    .to_owned(),
                    lines: lines
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|l| {
                            (
                                l["sku"].as_str().unwrap().to_owned(),
                                l["quantity"].as_i64().unwrap(),
                            )
                        })
                        .collect(),
                    street: addresses[0]["street_1"].as_str().unwrap_or("").to_owned(),
                });
            }
            found
        }
    }
}

async fn the_shop_order_in(app: &TestApp, s: &Setup, mirakl_id: &str) -> ShopOrder {
    let mut found = shop_orders_in(app, s, mirakl_id).await;
    assert_eq!(found.len(), 1, "one shop order for {mirakl_id}: {found:?}");
    found.remove(0)
}

/// How many orders the shop holds.
fn shop_order_count(app: &TestApp, s: &Setup) -> usize {
    match s.shop {
        ShopKind::WooCommerce => app.sandbox.woo_order_ids(SHOP).len(),
        ShopKind::BigCommerce => app.sandbox.bc_order_ids(BC_STORE).len(),
    }
}

/// Places orders on the demo marketplace, each of `lines` (SKU, quantity).
fn place(app: &TestApp, count: usize, lines: &[(&str, i64)]) -> Vec<String> {
    let lines: Vec<(String, i64)> = lines.iter().map(|(s, q)| ((*s).to_owned(), *q)).collect();
    app.sandbox
        .mmp_place_orders(INSTANCE, STORE, count, &lines)
        .expect("orders placed")
}

/// Polls the channel's orders and runs every job that follows, webhooks included.
async fn poll(app: &TestApp, ws: domain::WorkspaceId, channel: ChannelId) {
    app.connector()
        .flows
        .orders
        .poll_now(ws, channel)
        .await
        .unwrap();
    app.settle().await;
    shop_events(app).await;
}

/// What the shop's webhooks start, run to the end (either shop's).
async fn shop_events(app: &TestApp) {
    app.sandbox.settle_webhooks().await;
    app.sandbox.settle_bc_hooks().await;
    app.settle().await;
}

async fn stored(app: &TestApp, s: &Setup, mirakl_id: &str) -> StoredOrder {
    let page = app
        .storage()
        .orders_page(
            s.ws,
            &storage::OrdersFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    page.into_iter()
        .find(|o| o.order.mirakl_id == mirakl_id)
        .unwrap_or_else(|| panic!("order {mirakl_id} stored"))
}

async fn timeline(app: &TestApp, s: &Setup, id: OrderId) -> Vec<String> {
    app.storage()
        .order_events(s.ws, id)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, message)| message)
        .collect()
}

fn mirakl(app: &TestApp, order_id: &str) -> Value {
    app.sandbox
        .mmp_order(INSTANCE, order_id)
        .expect("the order")
}

/// The shop's orders that carry this Mirakl order id.
fn shop_orders_of(app: &TestApp, mirakl_id: &str) -> Vec<Value> {
    app.sandbox
        .woo_order_ids(SHOP)
        .into_iter()
        .filter_map(|id| app.sandbox.woo_order(SHOP, id))
        .filter(|o| {
            o["meta_data"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["key"] == "mirakl_order_id" && m["value"] == mirakl_id)
        })
        .collect()
}

fn shop_order_of(app: &TestApp, mirakl_id: &str) -> Value {
    let mut found = shop_orders_of(app, mirakl_id);
    assert_eq!(found.len(), 1, "one shop order for {mirakl_id}: {found:?}");
    found.remove(0)
}

// ----- the order's way through -------------------------------------------------------------

async fn an_order_is_accepted_and_created_once_in_the_shop(engine: Engine, shop: ShopKind) {
    let app = TestApp::spawn_on(engine).await;
    let s = launched_with(&app, shop).await;
    let (sku, row) = a_stocked_sku(&app, &s, s.marketplace).await;
    let stock_before = row.item().unwrap().stock.quantity.unwrap();
    let [order_id] = place(&app, 1, &[(&sku, 2)]).try_into().unwrap();

    poll(&app, s.ws, s.marketplace).await;

    assert_eq!(mirakl(&app, &order_id)["order_state"], "SHIPPING");
    let shop_order = the_shop_order_in(&app, &s, &order_id).await;
    assert_eq!(shop_order.status, "processing");
    assert_eq!(shop_order.lines, [(sku.clone(), 2)]);
    assert!(
        !shop_order.street.is_empty(),
        "the address Mirakl showed once the customer paid: {shop_order:?}"
    );
    assert_eq!(
        shop_stock(&app, &s, &row),
        stock_before - 2,
        "the shop took the stock"
    );

    let order = stored(&app, &s, &order_id).await;
    assert_eq!(
        order.shop_order_id,
        Some(shop_order.id),
        "the order knows its shop order"
    );
    assert_eq!(order.attention, None);
    let events = timeline(&app, &s, order.id).await;
    assert!(
        events.iter().any(|e| e.starts_with("Accepted on Mirakl"))
            && events
                .iter()
                .any(|e| e.starts_with("Shop order #") && e.ends_with("created")),
        "{events:?}"
    );

    // Polled again (and again, as Mirakl's dates overlap): nothing more happens.
    let shop_orders = shop_order_count(&app, &s);
    poll(&app, s.ws, s.marketplace).await;
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(shop_order_count(&app, &s), shop_orders);
    assert_eq!(app.sandbox.call_count("mmp.or21"), 1);
    app.stop().await;
}

#[tokio::test]
async fn an_order_is_accepted_and_created_once_in_the_shop_on_sqlite() {
    an_order_is_accepted_and_created_once_in_the_shop(Engine::Sqlite, ShopKind::WooCommerce).await;
}

#[tokio::test]
async fn an_order_is_accepted_and_created_once_in_the_shop_on_postgres() {
    an_order_is_accepted_and_created_once_in_the_shop(Engine::Postgres, ShopKind::WooCommerce)
        .await;
}

#[tokio::test]
async fn an_order_is_accepted_and_created_once_in_a_bigcommerce_store_on_sqlite() {
    an_order_is_accepted_and_created_once_in_the_shop(Engine::Sqlite, ShopKind::BigCommerce).await;
}

#[tokio::test]
async fn an_order_is_accepted_and_created_once_in_a_bigcommerce_store_on_postgres() {
    an_order_is_accepted_and_created_once_in_the_shop(Engine::Postgres, ShopKind::BigCommerce)
        .await;
}

#[tokio::test]
async fn the_shop_order_waits_for_the_address_mirakl_shows_after_the_debit() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (sku, _) = a_stocked_sku(&app, &s, s.marketplace).await;
    app.sandbox
        .set_debit_delay(std::time::Duration::from_secs(3600));
    let [order_id] = place(&app, 1, &[(&sku, 1)]).try_into().unwrap();

    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(
        mirakl(&app, &order_id)["order_state"],
        "WAITING_DEBIT_PAYMENT"
    );
    assert!(shop_orders_of(&app, &order_id).is_empty(), "no address yet");
    assert_eq!(stored(&app, &s, &order_id).await.shop_order_id, None);

    app.sandbox.set_debit_delay(std::time::Duration::ZERO);
    poll(&app, s.ws, s.marketplace).await;
    shop_order_of(&app, &order_id);
    app.stop().await;
}

/// What each channel offers of a SKU: the marketplace offer's quantity and Mirakl Connect's
/// available quantity.
fn offered(app: &TestApp, sku: &str) -> (Option<i64>, Option<i64>) {
    let offer = app
        .sandbox
        .marketplace_offers(INSTANCE, STORE)
        .into_iter()
        .find(|o| o["shop_sku"] == sku)
        .and_then(|o| o["quantity"].as_i64());
    let connect = app
        .sandbox
        .connect_products("demo-company")
        .into_iter()
        .find(|p| p["id"] == sku)
        .and_then(|p| p["quantities"][0]["available_quantity"].as_i64());
    (offer, connect)
}

/// An order accepted on one channel and not yet in the shop (Mirakl shows no address before
/// the debit) holds its units: the shop still counts them, but no channel is offered them.
/// Cancelled on Mirakl, it gives them back.
#[tokio::test]
async fn an_accepted_order_not_yet_in_the_shop_holds_its_units_off_every_channel() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (sku, row) = a_stocked_sku(&app, &s, s.marketplace).await;
    set_shop_stock(&app, &s, &row, 5);
    shop_events(&app).await;
    assert_eq!(offered(&app, &sku), (Some(5), Some(5)));
    app.sandbox
        .set_debit_delay(std::time::Duration::from_secs(3600));

    let [order_id] = place(&app, 1, &[(&sku, 2)]).try_into().unwrap();
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(
        mirakl(&app, &order_id)["order_state"],
        "WAITING_DEBIT_PAYMENT"
    );
    assert!(shop_orders_of(&app, &order_id).is_empty(), "no address yet");
    assert_eq!(
        offered(&app, &sku),
        (Some(3), Some(3)),
        "the two units accepted are offered nowhere"
    );

    app.sandbox.mmp_cancel_order(INSTANCE, &order_id).unwrap();
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(
        offered(&app, &sku),
        (Some(5), Some(5)),
        "cancelled, the order holds nothing"
    );

    // An order waiting for the seller's decision holds its units too, without counting
    // against the decision on another order.
    let orders = &app.connector().flows.orders;
    let manual = domain::order::OrderSettings {
        auto_accept: false,
        ..Default::default()
    };
    orders
        .save_settings(s.ws, &manual, true)
        .await
        .unwrap()
        .unwrap();
    let [waiting, other] = place(&app, 2, &[(&sku, 2)]).try_into().unwrap();
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(mirakl(&app, &waiting)["order_state"], "WAITING_ACCEPTANCE");
    assert_eq!(
        offered(&app, &sku),
        (Some(1), Some(1)),
        "two orders waiting for the seller take four units off sale"
    );
    let ids = [
        stored(&app, &s, &waiting).await.id,
        stored(&app, &s, &other).await.id,
    ];
    for (id, accept) in ids.into_iter().zip([true, false]) {
        orders
            .decide_by_seller(s.ws, id, accept)
            .await
            .unwrap()
            .expect("decided");
    }
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(
        mirakl(&app, &waiting)["order_state"],
        "WAITING_DEBIT_PAYMENT"
    );
    assert_eq!(
        offered(&app, &sku),
        (Some(3), Some(3)),
        "the accepted order still holds its two, the refused one nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_short_line_is_refused_and_the_rest_accepted() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (plenty, _) = a_stocked_sku(&app, &s, s.marketplace).await;
    let live: Vec<String> = items(&app, s.ws, s.marketplace)
        .await
        .into_iter()
        .filter(|i| i.state == ItemState::Live && i.sku != plenty)
        .map(|i| i.sku)
        .collect();
    let scarce = app
        .storage()
        .catalog_page(s.ws, None, 100_000, false)
        .await
        .unwrap()
        .into_iter()
        .find(|r| {
            live.contains(&r.sku)
                && r.item().unwrap().stock.managed
                && r.item().unwrap().stock.quantity.unwrap_or(0) >= 2
        })
        .expect("a second SKU with stock");
    let [order_id] = place(&app, 1, &[(&plenty, 1), (&scarce.sku, 2)])
        .try_into()
        .unwrap();
    // The shop sells the last but one meanwhile: one left, two ordered.
    set_shop_stock(&app, &s, &scarce, 1);

    poll(&app, s.ws, s.marketplace).await;

    let order = mirakl(&app, &order_id);
    let line_state = |sku: &str| {
        order["order_lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["offer_sku"] == sku)
            .unwrap()["order_line_state"]
            .clone()
    };
    assert_eq!(line_state(&scarce.sku), "REFUSED");
    assert_ne!(line_state(&plenty), "REFUSED");
    let shop_order = shop_order_of(&app, &order_id);
    let skus: Vec<&str> = shop_order["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sku"].as_str().unwrap())
        .collect();
    assert_eq!(
        skus,
        [plenty.as_str()],
        "only the accepted line is in the shop"
    );
    let events = timeline(&app, &s, stored(&app, &s, &order_id).await.id).await;
    assert!(
        events.iter().any(|e| e.contains("1 line(s) refused")),
        "{events:?}"
    );
    app.stop().await;
}

/// Two nodes accept at once: each unit of stock goes to one order only.
async fn racing_workers_never_accept_more_than_the_stock(engine: Engine) {
    let app = TestApp::spawn_on(engine).await;
    let s = launched(&app).await;
    let (sku, row) = a_stocked_sku(&app, &s, s.marketplace).await;
    let placed = place(&app, 6, &[(&sku, 1)]);
    set_shop_stock(&app, &s, &row, 3);
    app.connector()
        .flows
        .orders
        .poll_now(s.ws, s.marketplace)
        .await
        .unwrap();
    let second = app.second_node().await;
    app.run_until_idle_with(&[&second]).await;
    app.sandbox.settle_webhooks().await;
    app.settle().await;

    let accepted = placed
        .iter()
        .filter(|id| mirakl(&app, id)["order_state"] != "REFUSED")
        .count();
    assert_eq!(accepted, 3, "three in stock, three accepted");
    for id in &placed {
        let in_shop = shop_orders_of(&app, id).len();
        let refused = mirakl(&app, id)["order_state"] == "REFUSED";
        assert_eq!(in_shop, usize::from(!refused), "{id}");
    }
    assert_eq!(
        app.sandbox.call_count("mmp.or21"),
        6,
        "one decision per order"
    );
    app.stop().await;
}

#[tokio::test]
async fn racing_workers_never_accept_more_than_the_stock_on_sqlite() {
    racing_workers_never_accept_more_than_the_stock(Engine::Sqlite).await;
}

#[tokio::test]
async fn racing_workers_never_accept_more_than_the_stock_on_postgres() {
    racing_workers_never_accept_more_than_the_stock(Engine::Postgres).await;
}

// ----- lost answers and stopped processes ------------------------------------------------------

async fn a_shop_order_whose_answer_was_lost_is_found_not_made_again(
    engine: Engine,
    shop: ShopKind,
) {
    let app = TestApp::spawn_on(engine).await;
    let s = launched_with(&app, shop).await;
    let (sku, _) = a_stocked_sku(&app, &s, s.marketplace).await;
    let [order_id] = place(&app, 1, &[(&sku, 1)]).try_into().unwrap();
    app.sandbox.lose_next_answer(match shop {
        ShopKind::WooCommerce => "POST woo.rest.orders",
        ShopKind::BigCommerce => "POST bc.rest.orders",
    });

    poll(&app, s.ws, s.marketplace).await;

    let shop_order = the_shop_order_in(&app, &s, &order_id).await;
    let order = stored(&app, &s, &order_id).await;
    assert_eq!(order.shop_order_id, Some(shop_order.id));
    let events = timeline(&app, &s, order.id).await;
    assert!(
        events
            .iter()
            .any(|e| e.contains("found (its answer had been lost)")),
        "{events:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_shop_order_whose_answer_was_lost_is_found_not_made_again_on_sqlite() {
    a_shop_order_whose_answer_was_lost_is_found_not_made_again(
        Engine::Sqlite,
        ShopKind::WooCommerce,
    )
    .await;
}

#[tokio::test]
async fn a_shop_order_whose_answer_was_lost_is_found_not_made_again_on_postgres() {
    a_shop_order_whose_answer_was_lost_is_found_not_made_again(
        Engine::Postgres,
        ShopKind::WooCommerce,
    )
    .await;
}

#[tokio::test]
async fn a_bigcommerce_order_whose_answer_was_lost_is_found_not_made_again_on_sqlite() {
    a_shop_order_whose_answer_was_lost_is_found_not_made_again(
        Engine::Sqlite,
        ShopKind::BigCommerce,
    )
    .await;
}

#[tokio::test]
async fn a_bigcommerce_order_whose_answer_was_lost_is_found_not_made_again_on_postgres() {
    a_shop_order_whose_answer_was_lost_is_found_not_made_again(
        Engine::Postgres,
        ShopKind::BigCommerce,
    )
    .await;
}

#[tokio::test]
async fn an_acceptance_whose_answer_was_lost_is_checked_with_mirakl_not_sent_again() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (sku, _) = a_stocked_sku(&app, &s, s.marketplace).await;
    let [order_id] = place(&app, 1, &[(&sku, 1)]).try_into().unwrap();
    app.sandbox.lose_next_answer("mmp.or21");

    poll(&app, s.ws, s.marketplace).await;

    assert_eq!(app.sandbox.call_count("mmp.or21"), 1, "sent once");
    assert_eq!(mirakl(&app, &order_id)["order_state"], "SHIPPING");
    shop_order_of(&app, &order_id);
    app.stop().await;
}

/// An order whose shop order got no answer still holds its stock, and the shop may already
/// count it too: a second order for what is left is not refused on that double count, but
/// waits until the first is found in the shop, then is accepted.
#[tokio::test]
async fn a_line_short_only_because_a_shop_order_is_in_doubt_waits_instead_of_being_refused() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (sku, row) = a_stocked_sku(&app, &s, s.marketplace).await;
    set_shop_stock(&app, &s, &row, 2);
    app.sandbox
        .set_debit_delay(std::time::Duration::from_secs(3600));
    let [first] = place(&app, 1, &[(&sku, 1)]).try_into().unwrap();
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(mirakl(&app, &first)["order_state"], "WAITING_DEBIT_PAYMENT");

    // What a lost answer leaves: the shop order's step reserved, and the shop order made (the
    // shop took its item), unknown to the connector.
    let order = stored(&app, &s, &first).await;
    app.storage()
        .reserve_order_step(s.ws, order.id, "shop_order", None, storage::now_ms())
        .await
        .unwrap();
    let channel = app
        .storage()
        .list_channels(s.ws)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == s.marketplace)
        .unwrap();
    app.sandbox
        .woo_place_order(
            SHOP,
            &serde_json::json!({
                "status": "processing",
                "line_items": [{"sku": sku, "quantity": 1}],
                "meta_data": [
                    {"key": "mirakl_order_id", "value": first},
                    {"key": "mirakl_channel", "value": channel.name},
                ],
            }),
        )
        .unwrap();

    // The shop has 1 left and the first order's hold says 1: counted twice, nothing is left.
    let [second] = place(&app, 1, &[(&sku, 1)]).try_into().unwrap();
    app.connector()
        .flows
        .orders
        .poll_now(s.ws, s.marketplace)
        .await
        .unwrap();
    app.drain_jobs().await;
    assert_eq!(
        mirakl(&app, &second)["order_state"],
        "WAITING_ACCEPTANCE",
        "decided later, not refused"
    );

    // Paid, the first is looked for and found in the shop; its hold goes, the second is
    // accepted on the item left, and each has one shop order.
    app.sandbox.set_debit_delay(std::time::Duration::ZERO);
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(mirakl(&app, &second)["order_state"], "SHIPPING");
    shop_order_of(&app, &first);
    shop_order_of(&app, &second);
    app.stop().await;
}

/// A process stopped right after it reserved the shop order, before the shop heard of it: the
/// next one looks in the shop, finds nothing, and makes it once.
async fn a_process_stopped_before_the_shop_order_leaves_it_to_the_next(engine: Engine) {
    let app = TestApp::spawn_on(engine).await;
    let s = launched(&app).await;
    let (sku, _) = a_stocked_sku(&app, &s, s.marketplace).await;
    app.sandbox
        .set_debit_delay(std::time::Duration::from_secs(3600));
    let [order_id] = place(&app, 1, &[(&sku, 1)]).try_into().unwrap();
    poll(&app, s.ws, s.marketplace).await;
    let order = stored(&app, &s, &order_id).await;
    // What the stopped process left: the step reserved, nothing sent.
    app.storage()
        .reserve_order_step(s.ws, order.id, "shop_order", None, storage::now_ms())
        .await
        .unwrap();

    app.sandbox.set_debit_delay(std::time::Duration::ZERO);
    poll(&app, s.ws, s.marketplace).await;

    shop_order_of(&app, &order_id);
    let steps = app.storage().order_steps(s.ws, order.id).await.unwrap();
    let shop_step = steps.iter().find(|st| st.step == "shop_order").unwrap();
    assert!(shop_step.done_at_ms.is_some(), "{steps:?}");
    app.stop().await;
}

#[tokio::test]
async fn a_process_stopped_before_the_shop_order_leaves_it_to_the_next_on_sqlite() {
    a_process_stopped_before_the_shop_order_leaves_it_to_the_next(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_process_stopped_before_the_shop_order_leaves_it_to_the_next_on_postgres() {
    a_process_stopped_before_the_shop_order_leaves_it_to_the_next(Engine::Postgres).await;
}

// ----- back to Mirakl ------------------------------------------------------------------------

/// An order in the shop, accepted on Mirakl: its Mirakl id and shop order id.
async fn an_order_in_the_shop(app: &TestApp, s: &Setup) -> (String, i64) {
    let (sku, _) = a_stocked_sku(app, s, s.marketplace).await;
    let [order_id] = place(app, 1, &[(&sku, 1)]).try_into().unwrap();
    poll(app, s.ws, s.marketplace).await;
    let shop_id = the_shop_order_in(app, s, &order_id).await.id;
    (order_id, shop_id)
}

for_each_shop!(an_order_completed_in_the_shop_ships_on_mirakl_with_its_tracking);
async fn an_order_completed_in_the_shop_ships_on_mirakl_with_its_tracking(shop: ShopKind) {
    let app = TestApp::spawn().await;
    let s = launched_with(&app, shop).await;
    let (order_id, shop_id) = an_order_in_the_shop(&app, &s).await;

    ship_in_shop(&app, &s, shop_id, ("Colissimo", "6A12345678901")).await;
    shop_events(&app).await;

    let order = mirakl(&app, &order_id);
    assert_eq!(order["order_state"], "SHIPPED");
    assert_eq!(order["shipping_tracking"], "6A12345678901");
    // The Shipment Tracking plugins keep the provider's slug.
    assert_eq!(order["shipping_company"], "colissimo");
    let calls = || {
        [
            app.sandbox.call_count("mmp.or23"),
            app.sandbox.call_count("mmp.or24"),
            app.sandbox.call_count("mmp.st01"),
        ]
    };
    // WooCommerce's tracking is the whole order's: tracking (OR23), then shipped (OR24).
    // BigCommerce's shipment names its lines: they ship as one parcel (ST01).
    let expected = match shop {
        ShopKind::WooCommerce => [1, 1, 0],
        ShopKind::BigCommerce => [0, 0, 1],
    };
    assert_eq!(calls(), expected);

    // The same event again (a replayed webhook, a later edit): nothing is sent twice.
    edit_in_shop(&app, &s, shop_id).await;
    shop_events(&app).await;
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(calls(), expected);
    let stored = stored(&app, &s, &order_id).await;
    assert!(stored.finished_at_ms.is_some() || stored.order.state == "SHIPPED");
    app.stop().await;
}

/// The state Mirakl shows for each line of an order, in its order.
fn line_states(app: &TestApp, order_id: &str) -> Vec<String> {
    mirakl(app, order_id)["order_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["order_line_state"].as_str().unwrap().to_owned())
        .collect()
}

/// Two SKUs live on the marketplace with at least three units counted in the shop.
async fn two_stocked_skus(app: &TestApp, s: &Setup) -> [CatalogRow; 2] {
    let live: Vec<String> = items(app, s.ws, s.marketplace)
        .await
        .into_iter()
        .filter(|i| i.state == ItemState::Live)
        .map(|i| i.sku)
        .collect();
    let mut rows = Vec::new();
    for sku in &live {
        let row = app
            .storage()
            .catalog_item(s.ws, sku)
            .await
            .unwrap()
            .unwrap();
        let item = row.item().unwrap();
        if item.stock.managed && item.stock.quantity.unwrap_or(0) >= 3 {
            rows.push(row);
        }
    }
    rows.truncate(2);
    rows.try_into().expect("two stocked SKUs")
}

/// The id the shop's tracking names an item by: its variation's, or its product's.
fn shop_item_id(row: &CatalogRow) -> i64 {
    row.shop_variation_id.unwrap_or(row.shop_product_id)
}

/// A shop order shipped in parcels (Advanced Shipment Tracking's tracking per item): each
/// parcel ships the lines it holds on Mirakl as soon as the shop records it, with its own
/// tracking (ST01), once; the order is shipped when its last line is.
#[tokio::test]
async fn an_order_shipped_in_parcels_ships_each_parcels_lines_with_its_tracking() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let [first, second] = two_stocked_skus(&app, &s).await;
    let [order_id] = place(&app, 1, &[(&first.sku, 2), (&second.sku, 1)])
        .try_into()
        .unwrap();
    poll(&app, s.ws, s.marketplace).await;
    let shop_id = shop_order_of(&app, &order_id)["id"].as_i64().unwrap();

    // The first parcel holds the first line's two units.
    app.sandbox
        .woo_ship_items(
            SHOP,
            shop_id,
            "UPS",
            "1Z-PARCEL-1",
            &[(shop_item_id(&first), 2)],
        )
        .unwrap();
    shop_events(&app).await;
    assert_eq!(mirakl(&app, &order_id)["order_state"], "SHIPPING");
    assert_eq!(line_states(&app, &order_id), ["SHIPPED", "SHIPPING"]);
    assert_eq!(mirakl(&app, &order_id)["shipping_tracking"], "1Z-PARCEL-1");

    // The second holds the rest; the order is completed in the shop.
    app.sandbox
        .woo_ship_items(
            SHOP,
            shop_id,
            "UPS",
            "1Z-PARCEL-2",
            &[(shop_item_id(&second), 1)],
        )
        .unwrap();
    app.sandbox.woo_complete_order(SHOP, shop_id, None).unwrap();
    shop_events(&app).await;
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(mirakl(&app, &order_id)["order_state"], "SHIPPED");
    let calls = [
        app.sandbox.call_count("mmp.st01"),
        app.sandbox.call_count("mmp.or24"),
    ];
    assert_eq!(
        calls,
        [2, 0],
        "one shipment per parcel, no whole-order shipment"
    );
    let events = timeline(&app, &s, stored(&app, &s, &order_id).await.id).await;
    for expected in [
        "Shipped 2 items on Mirakl with tracking 1Z-PARCEL-1 (ups)",
        "Shipped 1 item on Mirakl with tracking 1Z-PARCEL-2 (ups)",
    ] {
        assert!(
            events.iter().any(|e| e == expected),
            "{expected}: {events:?}"
        );
    }

    // Another change of the shop order: nothing is shipped twice.
    app.sandbox
        .woo_refund_order(SHOP, shop_id, "0.01", "goodwill")
        .unwrap();
    shop_events(&app).await;
    assert_eq!(app.sandbox.call_count("mmp.st01"), 2);
    app.stop().await;
}

/// A parcel whose shipment's answer was lost is looked up on Mirakl, not sent again; the line
/// no parcel named ships when the shop completes the order.
#[tokio::test]
async fn a_parcel_whose_answer_was_lost_is_not_sent_again_and_the_rest_ships_with_the_order() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let [first, second] = two_stocked_skus(&app, &s).await;
    let [order_id] = place(&app, 1, &[(&first.sku, 1), (&second.sku, 2)])
        .try_into()
        .unwrap();
    poll(&app, s.ws, s.marketplace).await;
    let shop_id = shop_order_of(&app, &order_id)["id"].as_i64().unwrap();

    app.sandbox.lose_next_answer("mmp.st01");
    app.sandbox
        .woo_ship_items(SHOP, shop_id, "DHL", "JD-1", &[(shop_item_id(&first), 1)])
        .unwrap();
    shop_events(&app).await;
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(line_states(&app, &order_id), ["SHIPPED", "SHIPPING"]);
    assert_eq!(app.sandbox.call_count("mmp.st01"), 1, "sent once");

    app.sandbox.woo_complete_order(SHOP, shop_id, None).unwrap();
    shop_events(&app).await;
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(mirakl(&app, &order_id)["order_state"], "SHIPPED");
    assert_eq!(app.sandbox.call_count("mmp.st01"), 2);
    let events = timeline(&app, &s, stored(&app, &s, &order_id).await.id).await;
    assert!(
        events
            .iter()
            .any(|e| e
                == "Shipped the items no parcel named on Mirakl (no tracking number for them)"),
        "{events:?}"
    );
    app.stop().await;
}

/// WooCommerce gives up on a webhook that keeps failing: the next poll reads the open shop
/// orders back, and the shipment still reaches Mirakl.
#[tokio::test]
async fn a_shipment_whose_webhook_never_came_reaches_mirakl_at_the_next_poll() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (order_id, shop_id) = an_order_in_the_shop(&app, &s).await;
    app.sandbox.woo_disable_webhooks(SHOP);
    let delivered = app.sandbox.webhook_log(SHOP).len();

    app.sandbox
        .woo_complete_order(SHOP, shop_id, Some(("colissimo", "6A000000001")))
        .unwrap();
    shop_events(&app).await;
    assert_eq!(
        app.sandbox.webhook_log(SHOP).len(),
        delivered,
        "nothing delivered"
    );
    assert_eq!(mirakl(&app, &order_id)["order_state"], "SHIPPING");

    poll(&app, s.ws, s.marketplace).await;
    let order = mirakl(&app, &order_id);
    assert_eq!(order["order_state"], "SHIPPED");
    assert_eq!(order["shipping_tracking"], "6A000000001");
    app.stop().await;
}

for_each_shop!(an_order_cancelled_in_the_shop_is_cancelled_on_mirakl_once);
async fn an_order_cancelled_in_the_shop_is_cancelled_on_mirakl_once(shop: ShopKind) {
    let app = TestApp::spawn().await;
    let s = launched_with(&app, shop).await;
    let (order_id, shop_id) = an_order_in_the_shop(&app, &s).await;

    cancel_in_shop(&app, &s, shop_id).await;
    shop_events(&app).await;
    poll(&app, s.ws, s.marketplace).await;

    assert_eq!(mirakl(&app, &order_id)["order_state"], "CANCELED");
    assert_eq!(app.sandbox.call_count("mmp.or29"), 1);
    let order = stored(&app, &s, &order_id).await;
    assert!(order.finished_at_ms.is_some(), "nothing left to do");
    app.stop().await;
}

for_each_shop!(an_order_cancelled_on_mirakl_cancels_its_shop_order_and_gives_the_stock_back);
async fn an_order_cancelled_on_mirakl_cancels_its_shop_order_and_gives_the_stock_back(
    shop: ShopKind,
) {
    let app = TestApp::spawn().await;
    let s = launched_with(&app, shop).await;
    let (sku, row) = a_stocked_sku(&app, &s, s.marketplace).await;
    let before = shop_stock(&app, &s, &row);
    let [order_id] = place(&app, 1, &[(&sku, 1)]).try_into().unwrap();
    poll(&app, s.ws, s.marketplace).await;
    the_shop_order_in(&app, &s, &order_id).await;

    app.sandbox.mmp_cancel_order(INSTANCE, &order_id).unwrap();
    poll(&app, s.ws, s.marketplace).await;

    let shop_order = the_shop_order_in(&app, &s, &order_id).await;
    assert_eq!(shop_order.status, "cancelled");
    assert_eq!(shop_stock(&app, &s, &row), before, "the stock is back");
    assert_eq!(
        app.sandbox.call_count("mmp.or29"),
        0,
        "Mirakl cancelled it, not us"
    );
    let events = timeline(&app, &s, stored(&app, &s, &order_id).await.id).await;
    assert!(
        events
            .iter()
            .any(|e| e.contains("cancelled (CANCELED on Mirakl)")),
        "{events:?}"
    );
    app.stop().await;
}

for_each_shop!(a_refund_in_the_shop_is_refunded_on_mirakl_once);
async fn a_refund_in_the_shop_is_refunded_on_mirakl_once(shop: ShopKind) {
    let app = TestApp::spawn().await;
    let s = launched_with(&app, shop).await;
    let (order_id, shop_id) = an_order_in_the_shop(&app, &s).await;

    refund_in_shop(&app, &s, shop_id, "1.00", "scratched").await;
    shop_events(&app).await;
    // Another change to the shop order: the refund it lists is not sent again.
    match shop {
        ShopKind::WooCommerce => app.sandbox.woo_complete_order(SHOP, shop_id, None).unwrap(),
        ShopKind::BigCommerce => edit_in_shop(&app, &s, shop_id).await,
    }
    shop_events(&app).await;

    assert_eq!(app.sandbox.call_count("mmp.or28"), 1);
    let order = mirakl(&app, &order_id);
    let refunds: Vec<&Value> = order["order_lines"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["refunds"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(refunds.len(), 1, "{order}");
    assert_eq!(refunds[0]["amount"].as_f64(), Some(1.0), "{order}");
    app.stop().await;
}

/// A signed order event is a hint: the shop is asked, and only what it answers counts.
#[tokio::test]
async fn a_signed_order_event_only_names_the_shop_order_to_look_at() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (order_id, shop_id) = an_order_in_the_shop(&app, &s).await;
    let (url, secret) = app.shop_webhook(s.ws).await;
    let forged = [
        // Ours, claimed completed with tracking: the shop says it is still processing.
        (
            shop_id,
            format!(r#"{{"id":{shop_id},"status":"completed"}}"#),
        ),
        // Not one the connector made.
        (987_654, r#"{"id":987654,"status":"cancelled"}"#.to_owned()),
    ];
    for (n, (_, body)) in forged.iter().enumerate() {
        let answer = crate::webhooks::delivery_of(
            "order.updated",
            &url,
            &secret,
            body,
            &format!("forged-{n}"),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(answer.status(), 200);
    }
    app.settle().await;

    assert_eq!(mirakl(&app, &order_id)["order_state"], "SHIPPING");
    let sent = ["mmp.or23", "mmp.or24", "mmp.or29", "mmp.or28"].map(|c| app.sandbox.call_count(c));
    assert_eq!(sent, [0, 0, 0, 0]);
    app.stop().await;
}

// ----- Mirakl Connect --------------------------------------------------------------------------

#[tokio::test]
async fn a_connect_order_is_accepted_created_in_the_shop_and_shipped() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (sku, _) = a_stocked_sku(&app, &s, s.connect).await;
    let [order_id] = app
        .sandbox
        .connect_place_orders("demo-company", 1, &[(sku.clone(), 1)])
        .unwrap()
        .try_into()
        .unwrap();

    poll(&app, s.ws, s.connect).await;

    let connect = |id: &str| app.sandbox.connect_order(id).unwrap();
    assert_eq!(connect(&order_id)["status"], "AWAITING_SHIPMENT");
    let shop_order = shop_order_of(&app, &order_id);
    app.sandbox
        .woo_complete_order(
            SHOP,
            shop_order["id"].as_i64().unwrap(),
            Some(("UPS", "1Z999")),
        )
        .unwrap();
    shop_events(&app).await;

    let shipped = connect(&order_id);
    assert_eq!(shipped["status"], "SHIPPED", "{shipped}");
    assert_eq!(app.sandbox.call_count("connect.orders.accept"), 1);
    assert_eq!(app.sandbox.call_count("connect.orders.shipments"), 1);
    app.stop().await;
}

// ----- the seller decides --------------------------------------------------------------------

#[tokio::test]
async fn with_automatic_acceptance_off_the_order_waits_for_the_seller() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let orders = &app.connector().flows.orders;
    let manual = domain::order::OrderSettings {
        auto_accept: false,
        ..Default::default()
    };
    orders
        .save_settings(s.ws, &manual, true)
        .await
        .unwrap()
        .unwrap();
    let (sku, _) = a_stocked_sku(&app, &s, s.marketplace).await;
    let [kept, turned_down] = place(&app, 2, &[(&sku, 1)]).try_into().unwrap();

    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(
        app.sandbox.call_count("mmp.or21"),
        0,
        "nothing decided alone"
    );
    let waiting = stored(&app, &s, &kept).await;
    assert!(
        waiting
            .attention
            .as_deref()
            .unwrap_or("")
            .starts_with("Accept or refuse this order"),
        "{:?}",
        waiting.attention
    );

    orders
        .decide_by_seller(s.ws, waiting.id, true)
        .await
        .unwrap()
        .unwrap();
    let refused = stored(&app, &s, &turned_down).await;
    orders
        .decide_by_seller(s.ws, refused.id, false)
        .await
        .unwrap()
        .unwrap();
    // A second click (another tab) is told, and sends nothing.
    let again = orders
        .decide_by_seller(s.ws, refused.id, true)
        .await
        .unwrap();
    assert!(again.is_err(), "{again:?}");
    app.settle().await;
    poll(&app, s.ws, s.marketplace).await;

    assert_eq!(mirakl(&app, &kept)["order_state"], "SHIPPING");
    assert_eq!(mirakl(&app, &turned_down)["order_state"], "REFUSED");
    shop_order_of(&app, &kept);
    assert!(shop_orders_of(&app, &turned_down).is_empty());
    assert_eq!(stored(&app, &s, &kept).await.attention, None);
    assert_eq!(app.sandbox.call_count("mmp.or21"), 2);
    app.stop().await;
}

#[tokio::test]
async fn an_order_left_past_its_deadline_is_refused_by_mirakl_and_never_reaches_the_shop() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let manual = domain::order::OrderSettings {
        auto_accept: false,
        ..Default::default()
    };
    app.connector()
        .flows
        .orders
        .save_settings(s.ws, &manual, true)
        .await
        .unwrap()
        .unwrap();
    let (sku, _) = a_stocked_sku(&app, &s, s.marketplace).await;
    let [order_id] = place(&app, 1, &[(&sku, 1)]).try_into().unwrap();
    poll(&app, s.ws, s.marketplace).await;

    app.sandbox.set_acceptance_delay(std::time::Duration::ZERO);
    poll(&app, s.ws, s.marketplace).await;

    assert_eq!(mirakl(&app, &order_id)["order_state"], "REFUSED");
    let order = stored(&app, &s, &order_id).await;
    assert_eq!(
        order.attention, None,
        "nothing left for the seller to decide"
    );
    assert!(order.finished_at_ms.is_some());
    assert!(shop_orders_of(&app, &order_id).is_empty());
    let late = app
        .connector()
        .flows
        .orders
        .decide_by_seller(s.ws, order.id, true)
        .await
        .unwrap();
    assert!(late.unwrap_err().contains("no longer waits"));
    app.stop().await;
}

#[tokio::test]
async fn a_store_that_cannot_tell_its_stock_holds_the_decision_back() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (sku, _) = a_stocked_sku(&app, &s, s.marketplace).await;
    let [order_id] = place(&app, 1, &[(&sku, 1)]).try_into().unwrap();
    app.sandbox.woo_set_down(SHOP, true);

    app.connector()
        .flows
        .orders
        .poll_now(s.ws, s.marketplace)
        .await
        .unwrap();
    app.drain_jobs().await;
    assert_eq!(app.sandbox.call_count("mmp.or21"), 0, "nothing guessed");
    let order = stored(&app, &s, &order_id).await;
    assert!(
        order
            .attention
            .as_deref()
            .unwrap_or("")
            .contains("did not answer the stock check"),
        "{:?}",
        order.attention
    );

    app.sandbox.woo_set_down(SHOP, false);
    app.settle().await;
    assert_eq!(mirakl(&app, &order_id)["order_state"], "SHIPPING");
    app.stop().await;
}

/// An order for a SKU the shop does not know waits for the seller with a clear message and a
/// Retry; the other orders of the same poll go on.
#[tokio::test]
async fn an_order_for_a_sku_the_shop_does_not_know_waits_for_a_retry() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (known, _) = a_stocked_sku(&app, &s, s.marketplace).await;
    let live: Vec<String> = items(&app, s.ws, s.marketplace)
        .await
        .into_iter()
        .filter(|i| i.state == ItemState::Live && i.sku != known)
        .map(|i| i.sku)
        .collect();
    let gone = app
        .storage()
        .catalog_page(s.ws, None, 100_000, false)
        .await
        .unwrap()
        .into_iter()
        .find(|r| live.contains(&r.sku) && r.item().unwrap().stock.quantity.is_some_and(|q| q > 0))
        .expect("a second live SKU in stock");
    let [stranded] = place(&app, 1, &[(&gone.sku, 1)]).try_into().unwrap();
    let [fine] = place(&app, 1, &[(&known, 1)]).try_into().unwrap();
    // The seller renamed the SKU in the shop since: the catalog no longer has it.
    app.storage()
        .mark_catalog_deleted(s.ws, std::slice::from_ref(&gone.sku), storage::now_ms())
        .await
        .unwrap();

    poll(&app, s.ws, s.marketplace).await;

    shop_order_of(&app, &fine);
    assert_eq!(mirakl(&app, &stranded)["order_state"], "WAITING_ACCEPTANCE");
    let waiting = stored(&app, &s, &stranded).await;
    let message = waiting.attention.clone().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "Your store has no product with the SKU {}.",
            gone.sku
        )) && message.contains("then Retry"),
        "{message}"
    );

    // Mended in the shop (the next read sees it again); the seller clicks Retry.
    app.storage()
        .upsert_catalog_items(s.ws, std::slice::from_ref(&gone))
        .await
        .unwrap();
    app.connector()
        .flows
        .orders
        .retry(s.ws, waiting.id)
        .await
        .unwrap();
    app.settle().await;
    poll(&app, s.ws, s.marketplace).await;
    shop_order_of(&app, &stranded);
    assert_eq!(stored(&app, &s, &stranded).await.attention, None);
    app.stop().await;
}
