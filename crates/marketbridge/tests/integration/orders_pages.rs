//! F5's pages: the Orders list with its filters and search, an order's own page (lines,
//! customer, steps, timeline) with **Accept**, **Refuse** and **Retry**, the Order settings form,
//! and the dashboard's counts — each driven over HTTP as a seller's browser would, each
//! checked against what Mirakl and the store then hold.

use domain::{ChannelId, ItemState, OrderId, WorkspaceId};
use reqwest::StatusCode;
use serde_json::Value;
use test_support::{Engine, FormSubmission, Page, TestApp, Visitor};

use crate::catalog::{INSTANCE, STORE, Setup, items, launched};

/// A SKU live on the marketplace whose stock the shop counts, with some to sell.
pub async fn a_live_sku(app: &TestApp, s: &Setup) -> String {
    let live: Vec<String> = items(app, s.ws, s.marketplace)
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
        .find(|r| {
            let stock = r.item().unwrap().stock;
            stock.managed && stock.quantity.unwrap_or(0) >= 10
        })
        .map(|r| r.sku)
        .expect("a live SKU with stock")
}

/// Places one order on the demo marketplace for `quantity` of `sku`; its Mirakl id.
pub fn place(app: &TestApp, sku: &str, quantity: i64) -> String {
    app.sandbox
        .mmp_place_orders(INSTANCE, STORE, 1, &[(sku.to_owned(), quantity)])
        .expect("an order placed")
        .remove(0)
}

/// Polls the channel's orders, and runs every job that follows, the store's webhooks too.
pub async fn poll(app: &TestApp, ws: WorkspaceId, channel: ChannelId) {
    app.connector()
        .flows
        .orders
        .poll_now(ws, channel)
        .await
        .unwrap();
    work(app).await;
}

/// Runs every job queued, and what the store's webhooks start.
pub async fn work(app: &TestApp) {
    app.settle().await;
    app.sandbox.settle_webhooks().await;
    app.settle().await;
}

pub fn mirakl_state(app: &TestApp, order_id: &str) -> String {
    let order: Value = app
        .sandbox
        .mmp_order(INSTANCE, order_id)
        .expect("the order");
    order["order_state"].as_str().unwrap().to_owned()
}

/// The stored id of the order Mirakl calls `mirakl_id`.
async fn order_id(app: &TestApp, s: &Setup, mirakl_id: &str) -> OrderId {
    app.storage()
        .orders_page(
            s.ws,
            &storage::OrdersFilter {
                search: Some(mirakl_id.to_owned()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.order.mirakl_id == mirakl_id)
        .unwrap_or_else(|| panic!("order {mirakl_id} stored"))
        .id
}

/// Saves the Order settings with automatic acceptance off, through the page.
async fn accept_by_hand(app: &TestApp, v: &Visitor) {
    let page = v.get(&app.url("/settings/orders")).await;
    let saved = v
        .submit(&page.form("Save order settings", &[]).without("auto_accept"))
        .await;
    saved.expect_text("Order settings saved");
}

/// `launch`'s workspace with its jobs run, automatic acceptance off and one order imported
/// that waits for the seller's decision: its id. For the tests that go through every form.
pub async fn an_order_to_decide(app: &TestApp, s: &Setup) -> OrderId {
    app.settle().await;
    accept_by_hand(app, &s.v).await;
    let sku = a_live_sku(app, s).await;
    let mirakl_id = place(app, &sku, 1);
    poll(app, s.ws, s.marketplace).await;
    order_id(app, s, &mirakl_id).await
}

/// The rows of the Orders page's table, as the Mirakl ids they link to, top to bottom.
fn listed(page: &Page) -> Vec<String> {
    page.texts("table.orders tbody tr td:first-child a")
}

/// The order page's Accept, Refuse and Retry forms, as its page sends them. Retry is not shown
/// while the order only waits for the seller's decision: it is the Accept form sent to
/// Retry's address.
fn action_forms(app: &TestApp, page: &Page, id: OrderId) -> Vec<(&'static str, FormSubmission)> {
    let mut retry = page.form("Accept", &[]);
    retry.url = app.url(&format!("/orders/{id}/retry")).parse().unwrap();
    vec![
        ("Accept", page.form("Accept", &[])),
        ("Refuse", page.form("Refuse", &[])),
        ("Retry", retry),
    ]
}

/// The Orders page with these query parameters.
async fn orders(app: &TestApp, v: &Visitor, query: &str) -> Page {
    let page = v.get(&app.url(&format!("/orders{query}"))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page
}

async fn the_orders_page_lists_filters_and_finds_orders(engine: Engine) {
    let app = TestApp::spawn_on(engine).await;
    let s = launched(&app).await;
    let empty = orders(&app, &s.v, "").await;
    empty.expect_text(
        "No order yet. Orders placed on your channels appear here within about a minute",
    );

    accept_by_hand(&app, &s.v).await;
    let sku = a_live_sku(&app, &s).await;
    let older = place(&app, &sku, 1);
    let newer = place(&app, &sku, 2);
    poll(&app, s.ws, s.marketplace).await;

    let all = orders(&app, &s.v, "").await;
    assert_eq!(
        listed(&all),
        [newer.as_str(), older.as_str()],
        "newest first"
    );
    all.expect_text("Demo Marketplace");
    all.expect_text("To accept");
    all.expect_text("Accept or refuse this order");

    let dashboard = s.v.get(&app.url("/")).await;
    dashboard.expect_text("Needs attention: 2");
    dashboard.expect_text("To accept: 2");
    dashboard.expect_text("To ship: 0");
    let to_accept = dashboard
        .link("To accept: 2")
        .expect("a link to the orders to accept");
    let to_accept = s.v.get(to_accept.as_str()).await;
    assert_eq!(listed(&to_accept), [newer.as_str(), older.as_str()]);

    // Filters and search, as the form sends them.
    let filtered =
        s.v.submit(&all.form("Filter", &[("Show", "To ship (0)")]))
            .await;
    assert!(listed(&filtered).is_empty());
    filtered.expect_text("No order matches.");
    let attention =
        s.v.submit(&all.form("Filter", &[("Show", "Needs attention (2)")]))
            .await;
    assert_eq!(listed(&attention).len(), 2);
    let connect =
        s.v.submit(&all.form("Filter", &[("Channel", "Mirakl Connect")]))
            .await;
    assert!(listed(&connect).is_empty(), "no order on Mirakl Connect");
    let found = s.v.submit(&all.form("Filter", &[("Search", &older)])).await;
    assert_eq!(listed(&found), [older.as_str()]);

    // Accepted: it moves to To ship, with its shop order, found by its number too.
    let detail = s.v.get(all.link(&older).unwrap().as_str()).await;
    s.v.submit(&detail.form("Accept", &[]))
        .await
        .expect_text("You accepted the order");
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(mirakl_state(&app, &older), "SHIPPING");
    let to_ship = orders(&app, &s.v, "?show=to_ship").await;
    assert_eq!(listed(&to_ship), [older.as_str()]);
    let stored = app
        .storage()
        .get_order(s.ws, order_id(&app, &s, &older).await)
        .await
        .unwrap()
        .unwrap();
    let number = stored.shop_order_number.expect("a shop order");
    to_ship.expect_text(&format!("#{number}"));
    let by_number = orders(&app, &s.v, &format!("?q={number}")).await;
    assert_eq!(listed(&by_number), [older.as_str()]);
    let dashboard = s.v.get(&app.url("/")).await;
    dashboard.expect_text("To accept: 1");
    dashboard.expect_text("To ship: 1");
    app.stop().await;
}

#[tokio::test]
async fn the_orders_page_lists_filters_and_finds_orders_on_sqlite() {
    the_orders_page_lists_filters_and_finds_orders(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_orders_page_lists_filters_and_finds_orders_on_postgres() {
    the_orders_page_lists_filters_and_finds_orders(Engine::Postgres).await;
}

#[tokio::test]
async fn an_orders_page_shows_its_lines_customer_steps_and_timeline() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    accept_by_hand(&app, &s.v).await;
    let sku = a_live_sku(&app, &s).await;
    let mirakl_id = place(&app, &sku, 3);
    poll(&app, s.ws, s.marketplace).await;

    let id = order_id(&app, &s, &mirakl_id).await;
    let page = s.v.get(&app.url(&format!("/orders/{id}"))).await;
    assert_eq!(page.status, StatusCode::OK);
    page.expect_text(&format!("Order {mirakl_id}"));
    page.expect_text("Demo Marketplace");
    page.expect_text("WAITING_ACCEPTANCE");
    page.expect_text(&sku);
    page.expect_text("Waiting for a decision");
    page.expect_text("Mirakl shows the address once the customer has paid.");
    page.expect_text("Marketbridge has sent nothing for this order yet.");
    page.expect_text("Imported from Demo Marketplace (WAITING_ACCEPTANCE)");
    page.expect_text("Needs attention: Accept or refuse this order");
    let stored = app.storage().get_order(s.ws, id).await.unwrap().unwrap();
    let line = &stored.order.lines[0];
    assert_eq!(line.quantity, 3);
    page.expect_text(&format!(
        "{} {}",
        line.total_price.to_decimal_string(),
        stored.order.currency
    ));

    s.v.submit(&page.form("Accept", &[]))
        .await
        .expect_text("You accepted the order");
    poll(&app, s.ws, s.marketplace).await;

    let page = s.v.get(&app.url(&format!("/orders/{id}"))).await;
    let stored = app.storage().get_order(s.ws, id).await.unwrap().unwrap();
    let shipping = stored.order.customer.shipping.clone().expect("an address");
    page.expect_text(&shipping.street_1);
    page.expect_text(&shipping.city);
    page.expect_text("Accepted");
    page.expect_text("Acceptance sent to Mirakl Done");
    page.expect_text("Order created in your store Done");
    let number = stored.shop_order_number.expect("a shop order");
    page.expect_text(&format!("Shop order #{number}"));
    assert!(!page.contains("Needs attention"), "{}", page.text());
    assert!(!page.contains("Your decision"), "decided already");
    // The timeline, oldest first.
    let text = page.text();
    let at = |what: &str| {
        text.find(what)
            .unwrap_or_else(|| panic!("{what:?} in the timeline: {text}"))
    };
    assert!(at("Imported from Demo Marketplace") < at("You accepted the order"));
    assert!(at("You accepted the order") < at("Accepted on Mirakl"));
    assert!(at("Accepted on Mirakl") < at(&format!("Shop order #{number} created")));
    app.stop().await;
}

async fn the_seller_accepts_one_order_and_refuses_another(engine: Engine) {
    let app = TestApp::spawn_on(engine).await;
    let s = launched(&app).await;
    accept_by_hand(&app, &s.v).await;
    let sku = a_live_sku(&app, &s).await;
    let kept = place(&app, &sku, 1);
    let declined = place(&app, &sku, 1);
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(mirakl_state(&app, &kept), "WAITING_ACCEPTANCE");
    assert_eq!(
        app.sandbox.call_count("mmp.or21"),
        0,
        "nothing decided alone"
    );

    let kept_id = order_id(&app, &s, &kept).await;
    let declined_id = order_id(&app, &s, &declined).await;
    let kept_page = s.v.get(&app.url(&format!("/orders/{kept_id}"))).await;
    let declined_page = s.v.get(&app.url(&format!("/orders/{declined_id}"))).await;
    let accepted = s.v.submit(&kept_page.form("Accept", &[])).await;
    accepted.expect_text("You accepted the order");
    assert!(!accepted.contains("Your decision"), "decided once");
    let refused = s.v.submit(&declined_page.form("Refuse", &[])).await;
    refused.expect_text("You refused the order");

    // The stale page's other button: the decision was taken.
    let again = s.v.submit(&kept_page.form("Refuse", &[])).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    again.expect_text("A decision on this order was already sent.");

    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(mirakl_state(&app, &kept), "SHIPPING");
    assert_eq!(mirakl_state(&app, &declined), "REFUSED");
    assert_eq!(
        app.sandbox.call_count("mmp.or21"),
        2,
        "each decision sent once"
    );

    let declined_page = s.v.get(&app.url(&format!("/orders/{declined_id}"))).await;
    declined_page.expect_text("Refused");
    declined_page.expect_text("None: Mirakl will not ship this order.");
    declined_page.expect_text("Refused on Mirakl");
    // Mirakl no longer waits: a late click says so and sends nothing.
    let late = s.v.submit(&kept_page.form("Accept", &[])).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    late.expect_text("Mirakl no longer waits for a decision on this order");
    work(&app).await;
    assert_eq!(app.sandbox.call_count("mmp.or21"), 2);
    app.stop().await;
}

#[tokio::test]
async fn the_seller_accepts_one_order_and_refuses_another_on_sqlite() {
    the_seller_accepts_one_order_and_refuses_another(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_seller_accepts_one_order_and_refuses_another_on_postgres() {
    the_seller_accepts_one_order_and_refuses_another(Engine::Postgres).await;
}

/// With orders accepted on their own only when every line is in stock, an order of two of an
/// item the store has one of: it waits for the seller. Its id, Mirakl id, SKU, and the shop
/// id that holds the item's stock.
pub async fn an_order_short_of_stock(app: &TestApp, s: &Setup) -> (OrderId, String, String, i64) {
    let page = s.v.get(&app.url("/settings/orders")).await;
    s.v.submit(
        &page
            .form("Save order settings", &[])
            .without("partial_acceptance"),
    )
    .await
    .expect_text("Order settings saved");
    let sku = a_live_sku(app, s).await;
    let row = app
        .storage()
        .catalog_item(s.ws, &sku)
        .await
        .unwrap()
        .unwrap();
    let product = row.shop_variation_id.unwrap_or(row.shop_product_id);
    let mirakl_id = place(app, &sku, 2);
    // The store sells all but one meanwhile.
    app.sandbox.woo_set_stock("demo-shop", product, 1);
    work(app).await;
    poll(app, s.ws, s.marketplace).await;
    let id = order_id(app, s, &mirakl_id).await;
    (id, mirakl_id, sku, product)
}

#[tokio::test]
async fn retry_runs_the_orders_step_again_once_the_seller_mended_it() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (id, mirakl_id, sku, product) = an_order_short_of_stock(&app, &s).await;
    let page = s.v.get(&app.url(&format!("/orders/{id}"))).await;
    page.expect_text(&format!("Not enough stock for {sku}"));
    assert_eq!(mirakl_state(&app, &mirakl_id), "WAITING_ACCEPTANCE");
    let listed_attention = orders(&app, &s.v, "?show=attention").await;
    assert_eq!(listed(&listed_attention), [mirakl_id.as_str()]);

    // Restocked, then Retry: accepted on its own this time.
    app.sandbox.woo_set_stock("demo-shop", product, 50);
    work(&app).await;
    let page_before = page;
    let retried = s.v.submit(&page_before.form("Retry", &[])).await;
    retried.expect_text("Marketbridge is trying this order's next step again.");
    retried.expect_text("Retried");
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(mirakl_state(&app, &mirakl_id), "SHIPPING");
    let page = s.v.get(&app.url(&format!("/orders/{id}"))).await;
    assert!(!page.contains("Needs attention"), "{}", page.text());
    assert!(listed(&orders(&app, &s.v, "?show=attention").await).is_empty());

    // Nothing to retry now.
    let stale = s.v.submit(&page_before.form("Retry", &[])).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    stale.expect_text("there is nothing to retry");
    app.stop().await;
}

#[tokio::test]
async fn an_order_form_without_its_csrf_token_is_refused_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    accept_by_hand(&app, &s.v).await;
    let sku = a_live_sku(&app, &s).await;
    let mirakl_id = place(&app, &sku, 1);
    poll(&app, s.ws, s.marketplace).await;
    let id = order_id(&app, &s, &mirakl_id).await;
    let page = s.v.get(&app.url(&format!("/orders/{id}"))).await;

    for (button, form) in action_forms(&app, &page, id) {
        for form in [
            form.clone().without("csrf_token"),
            form.with("csrf_token", "forged"),
        ] {
            let response = s.v.send_raw(&form).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{button}");
        }
    }
    let settings = s.v.get(&app.url("/settings/orders")).await;
    let response =
        s.v.send_raw(
            &settings
                .form("Save order settings", &[])
                .without("csrf_token")
                .without("import_orders"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    work(&app).await;
    assert_eq!(mirakl_state(&app, &mirakl_id), "WAITING_ACCEPTANCE");
    assert!(
        app.storage()
            .order_steps(s.ws, id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        app.storage()
            .workspace_settings(s.ws)
            .await
            .unwrap()
            .import_orders,
        "the settings stay"
    );
    app.stop().await;
}

#[tokio::test]
async fn another_workspaces_order_is_not_found() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    accept_by_hand(&app, &s.v).await;
    let sku = a_live_sku(&app, &s).await;
    let mirakl_id = place(&app, &sku, 1);
    poll(&app, s.ws, s.marketplace).await;
    let id = order_id(&app, &s, &mirakl_id).await;
    let page = s.v.get(&app.url(&format!("/orders/{id}"))).await;

    let stranger = Visitor::new();
    app.sign_up(&stranger, "stranger@example.com").await;
    let theirs = stranger.get(&app.url("/orders")).await;
    assert!(listed(&theirs).is_empty());
    assert!(!theirs.contains(&mirakl_id));
    for path in [
        format!("/orders/{id}"),
        format!("/orders/{}", OrderId::new()),
        "/orders/not-an-id".to_owned(),
    ] {
        let response = stranger.get_raw(&app.url(&path)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The stranger's own session and token, on the seller's order.
    let own = stranger.get(&app.url("/settings/orders")).await;
    let token = own
        .form("Save order settings", &[])
        .fields
        .into_iter()
        .find(|(n, _)| n == "csrf_token")
        .unwrap()
        .1;
    for (button, form) in action_forms(&app, &page, id) {
        let form = form.with("csrf_token", &token);
        let response = stranger.send_raw(&form).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{button}");
    }
    work(&app).await;
    assert_eq!(mirakl_state(&app, &mirakl_id), "WAITING_ACCEPTANCE");
    assert!(
        app.storage()
            .order_steps(s.ws, id)
            .await
            .unwrap()
            .is_empty()
    );
    app.stop().await;
}

async fn bad_order_settings_are_named_by_field_and_nothing_is_saved(engine: Engine) {
    let app = TestApp::spawn_on(engine).await;
    let v = Visitor::new();
    app.onboarded(&v, "shop@example.com").await;
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let page = v.get(&app.url("/settings/orders")).await;
    page.expect_text("Import orders");

    let form = page
        .form(
            "Save order settings",
            &[
                ("Custom tracking number field (meta key)", "two words"),
                ("Carrier mapping", "UPS = ups\nColissimo colissimo"),
            ],
        )
        .with("shop_status", "completed")
        .without("import_orders")
        .without("auto_accept");
    let refused = v.submit(&form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    refused.expect_text("Nothing was saved");
    refused.expect_text("Choose one of: processing, on-hold, pending.");
    refused.expect_text("A meta key is one word");
    refused.expect_text("Carrier mapping, line 2");
    // Each message beside its field, the seller's values kept.
    for field in ["shop_status", "tracking_meta_key", "carriers"] {
        assert!(
            refused.html.contains(&format!("id=\"{field}-error\"")),
            "{field}"
        );
        assert!(
            refused
                .html
                .contains(&format!("aria-describedby=\"{field}-error\"")),
            "{field}"
        );
    }
    assert!(refused.html.contains("value=\"two words\""));
    assert!(refused.html.contains("Colissimo colissimo</textarea>"));
    let auto_accept = refused.form("Save order settings", &[]);
    assert!(
        !auto_accept.fields.iter().any(|(n, _)| n == "auto_accept"),
        "the unticked box stays unticked"
    );

    assert_eq!(app.storage().order_settings(ws).await.unwrap(), None);
    assert!(
        app.storage()
            .workspace_settings(ws)
            .await
            .unwrap()
            .import_orders,
        "Import orders is still on"
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_order_settings_are_named_by_field_and_nothing_is_saved_on_sqlite() {
    bad_order_settings_are_named_by_field_and_nothing_is_saved(Engine::Sqlite).await;
}

#[tokio::test]
async fn bad_order_settings_are_named_by_field_and_nothing_is_saved_on_postgres() {
    bad_order_settings_are_named_by_field_and_nothing_is_saved(Engine::Postgres).await;
}

#[tokio::test]
async fn saved_order_settings_are_shown_again_and_used() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let page = s.v.get(&app.url("/settings/orders")).await;
    let saved =
        s.v.submit(
            &page
                .form(
                    "Save order settings",
                    &[
                        ("Status of imported orders", "On hold"),
                        (
                            "Custom tracking number field (meta key)",
                            "_tracking_number",
                        ),
                        ("Carrier mapping", "UPS = ups\r\nDHL Express = dhl"),
                    ],
                )
                // WooCommerce makes a paid order Processing.
                .without("mark_paid")
                .without("send_refunds"),
        )
        .await;
    saved.expect_text("Order settings saved");
    assert!(saved.html.contains("value=\"_tracking_number\""));
    assert!(
        saved
            .html
            .contains("DHL Express = dhl\nUPS = ups</textarea>")
    );
    assert!(saved.html.contains("<option value=\"on-hold\" selected>"));
    let settings = app.storage().order_settings(s.ws).await.unwrap().unwrap();
    assert!(settings.auto_accept && !settings.mark_paid && !settings.send_refunds);
    assert_eq!(
        settings.carriers.get("UPS").map(String::as_str),
        Some("ups")
    );

    // Used: an order is accepted on its own and lands in the store on hold.
    let sku = a_live_sku(&app, &s).await;
    let mirakl_id = place(&app, &sku, 1);
    poll(&app, s.ws, s.marketplace).await;
    assert_eq!(mirakl_state(&app, &mirakl_id), "SHIPPING");
    let id = order_id(&app, &s, &mirakl_id).await;
    let page = s.v.get(&app.url(&format!("/orders/{id}"))).await;
    page.expect_text("(on-hold)");

    // Import orders off: the next order is not read.
    let form = s.v.get(&app.url("/settings/orders")).await;
    s.v.submit(
        &form
            .form("Save order settings", &[])
            .without("import_orders"),
    )
    .await
    .expect_text("Order settings saved");
    let unread = place(&app, &sku, 1);
    poll(&app, s.ws, s.marketplace).await;
    let list = orders(&app, &s.v, "").await;
    list.expect_text("Import orders is off");
    assert_eq!(listed(&list), [mirakl_id.as_str()]);
    assert_eq!(mirakl_state(&app, &unread), "WAITING_ACCEPTANCE");
    app.stop().await;
}

#[tokio::test]
async fn the_settings_file_carries_the_order_settings_to_a_new_onboarding() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    app.onboarded(&v, "shop@example.com").await;
    let mine = app.storage().list_workspace_ids().await.unwrap()[0];
    let page = v.get(&app.url("/settings/orders")).await;
    v.submit(
        &page
            .form(
                "Save order settings",
                &[
                    ("Status of imported orders", "On hold"),
                    ("Carrier mapping", "UPS = ups"),
                ],
            )
            .without("auto_accept")
            .without("mark_paid"),
    )
    .await
    .expect_text("Order settings saved");
    let file = v
        .get_raw(&app.url("/account/settings.json"))
        .await
        .text()
        .await
        .unwrap();
    let json: Value = serde_json::from_str(&file).unwrap();
    assert_eq!(json["order_settings"]["shop_status"], "on-hold");
    assert_eq!(json["order_settings"]["auto_accept"], false);

    // Another seller starts with the file.
    let newcomer = Visitor::new();
    let step1 = app.sign_up(&newcomer, "newcomer@example.com").await;
    let step2 = app.onboard_mirakl_connect(&newcomer, &step1).await;
    let step3 = app
        .onboard_store_by_keys(
            &newcomer,
            &step2,
            test_support::flows::WOO_KEY,
            test_support::flows::WOO_SECRET,
        )
        .await;
    let import = |file: String| {
        step3.form(
            "Import settings",
            &[("Settings file (marketbridge-settings.json)", file.as_str())],
        )
    };
    let mut wrong = json.clone();
    wrong["order_settings"]["shop_status"] = "completed".into();
    let refused = newcomer.submit(&import(wrong.to_string())).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    refused.expect_text("Choose one of: processing, on-hold, pending.");
    refused.expect_text("Nothing was imported");
    let theirs = app
        .storage()
        .list_workspace_ids()
        .await
        .unwrap()
        .into_iter()
        .find(|ws| *ws != mine)
        .unwrap();
    assert_eq!(app.storage().order_settings(theirs).await.unwrap(), None);

    newcomer
        .submit(&import(file))
        .await
        .expect_text("Your settings were imported");
    let page = newcomer.get(&app.url("/settings/orders")).await;
    assert!(page.html.contains("<option value=\"on-hold\" selected>"));
    assert!(page.html.contains("UPS = ups</textarea>"));
    let imported = app.storage().order_settings(theirs).await.unwrap().unwrap();
    assert!(!imported.auto_accept);
    app.stop().await;
}
