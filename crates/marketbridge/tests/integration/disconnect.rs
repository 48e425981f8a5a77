//! F6, Disconnect: the preview (catalog and open orders), the three catalog choices, the typed
//! confirmation (with or without a script), the wipe of every workspace row but the login,
//! orders included, and a disconnect that stops half way and is resumed.

use domain::{DisconnectStatus, WorkspaceId};
use reqwest::StatusCode;

use test_support::flows::SELLER_PASSWORD;
use test_support::{TestApp, Visitor};

use crate::orders_pages::{a_live_sku, place, poll, work};

const INSTANCE: &str = "demo-marketplace";
const STORE: i64 = 2001;

/// Onboarded, with Demo Marketplace live and the catalog exported.
async fn launched(app: &TestApp) -> (Visitor, WorkspaceId) {
    let v = Visitor::new();
    app.onboarded(&v, "shop@example.com").await;
    let settings = app
        .connect_marketplace(&v, "Demo Marketplace", "Demo Store (2001)")
        .await;
    let settings = app.enter_store_id(&v, &settings, "2001").await;
    v.submit(&settings.form("Launch", &[]))
        .await
        .expect_text("is live");
    app.settle().await;
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    (v, ws)
}

async fn disconnect(app: &TestApp, v: &Visitor, choice: &str) -> test_support::Page {
    let page = v.get(&app.url("/account/disconnect")).await;
    page.expect_text("On Mirakl today");
    page.expect_text("products and variants");
    let page = v
        .submit(&page.form(
            "Disconnect & Continue",
            &[(choice, "on"), ("Type disconnect to confirm", "disconnect")],
        ))
        .await;
    page.expect_text("Disconnecting");
    app.settle().await;
    v.get(&app.url("/account/disconnect/progress")).await
}

/// Rows per workspace table, walking every table that has a workspace_id.
async fn leftovers(app: &TestApp, ws: WorkspaceId) -> Vec<(String, i64)> {
    app.storage()
        .rows_per_workspace_table(ws)
        .await
        .into_iter()
        .filter(|(table, n)| {
            *n > 0
                && !matches!(
                    table.as_str(),
                    "users" | "workspaces" | "sessions" | "disconnect_receipts"
                )
        })
        .collect()
}

async fn signs_in_again_on_authorize_mirakl_connect(app: &TestApp) {
    let v = Visitor::new();
    let page = v.get(&app.url("/sign-in")).await;
    let page = v
        .submit(&page.form(
            "Sign in",
            &[("Email", "shop@example.com"), ("Password", SELLER_PASSWORD)],
        ))
        .await;
    page.expect_text("Step 1 of 4: Authorize Mirakl Connect");
    let dashboard = v.get(&app.url("/")).await;
    dashboard.expect_text("No channel yet");
}

fn our_webhooks(app: &TestApp) -> usize {
    app.sandbox
        .woo_webhooks("demo-shop")
        .iter()
        .filter(|h| h.delivery_url.contains("/webhooks/woocommerce/"))
        .count()
}

#[tokio::test]
async fn disconnect_and_keep_the_catalog_leaves_offers_unchanged_and_deletes_all_data() {
    let app = TestApp::spawn().await;
    let (v, ws) = launched(&app).await;
    let offers = app.sandbox.marketplace_offers(INSTANCE, STORE);
    let products = app.sandbox.connect_products("demo-company");
    assert!(!offers.is_empty() && !products.is_empty());
    assert_eq!(our_webhooks(&app), shops::webhook::TOPICS.len());

    let page = disconnect(&app, &v, "Disconnect & keep catalog active").await;
    page.expect_text("Marketbridge is disconnected");
    page.expect_text("Your catalog stays active on Mirakl");

    assert_eq!(
        app.sandbox.marketplace_offers(INSTANCE, STORE),
        offers,
        "offers unchanged"
    );
    assert_eq!(
        app.sandbox.connect_products("demo-company"),
        products,
        "products unchanged"
    );
    assert_eq!(
        our_webhooks(&app),
        0,
        "the webhooks are gone from the store"
    );
    assert_eq!(
        leftovers(&app, ws).await,
        vec![],
        "no row of the workspace is left"
    );
    signs_in_again_on_authorize_mirakl_connect(&app).await;
}

#[tokio::test]
async fn deactivate_products_sets_every_quantity_to_zero() {
    let app = TestApp::spawn().await;
    let (v, ws) = launched(&app).await;
    let page = disconnect(&app, &v, "Deactivate Products").await;
    page.expect_text("set to stock 0");
    let offers = app.sandbox.marketplace_offers(INSTANCE, STORE);
    assert!(!offers.is_empty());
    assert!(
        offers.iter().all(|o| o["quantity"].as_i64() == Some(0)),
        "every offer at 0"
    );
    let products = app.sandbox.connect_products("demo-company");
    assert!(!products.is_empty());
    assert!(
        products
            .iter()
            .all(|p| p["quantities"].as_array().is_none_or(|q| q
                .iter()
                .all(|q| q["available_quantity"].as_i64() == Some(0)))),
        "every Connect product at 0"
    );
    assert_eq!(leftovers(&app, ws).await, vec![]);
}

#[tokio::test]
async fn delete_products_leaves_nothing_on_connect_or_the_marketplace() {
    let app = TestApp::spawn().await;
    let (v, ws) = launched(&app).await;
    let page = disconnect(&app, &v, "Delete Products").await;
    page.expect_text("deleted from Mirakl");
    assert_eq!(app.sandbox.marketplace_offers(INSTANCE, STORE).len(), 0);
    assert_eq!(app.sandbox.connect_products("demo-company").len(), 0);
    assert_eq!(leftovers(&app, ws).await, vec![]);
}

#[tokio::test]
async fn the_typed_confirmation_is_enforced_by_the_server() {
    let app = TestApp::spawn().await;
    let (v, ws) = launched(&app).await;
    let page = v.get(&app.url("/account/disconnect")).await;
    for typed in ["", "Disconnect please", "delete"] {
        let form = page
            .form("Disconnect & Continue", &[("Delete Products", "on")])
            .with("confirm", typed);
        let response = v.send_raw(&form).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{typed:?}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Nothing was changed")
        );
    }
    app.settle().await;
    assert!(app.storage().disconnect(ws).await.unwrap().is_none());
    assert!(!app.sandbox.marketplace_offers(INSTANCE, STORE).is_empty());
}

#[tokio::test]
async fn the_disconnect_form_works_without_javascript() {
    let app = TestApp::spawn().await;
    let (v, ws) = launched(&app).await;
    let page = v.get(&app.url("/account/disconnect")).await;
    assert_eq!(
        page.texts("button[disabled]"),
        Vec::<String>::new(),
        "the button is served enabled; only the script may hold it back"
    );

    // A typo: refused, named, and the seller's choice stays ticked for the second try.
    let response = v
        .send_raw(&page.form(
            "Disconnect & Continue",
            &[
                ("Delete Products", "on"),
                ("Type disconnect to confirm", "disconect"),
            ],
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let refused = v.follow(response).await;
    refused.expect_text("Type the word disconnect to confirm. Nothing was changed.");
    assert_eq!(refused.texts("button[disabled]"), Vec::<String>::new());
    app.settle().await;
    assert!(app.storage().disconnect(ws).await.unwrap().is_none());
    assert!(!app.sandbox.marketplace_offers(INSTANCE, STORE).is_empty());

    let page = v
        .submit(&refused.form(
            "Disconnect & Continue",
            &[("Type disconnect to confirm", "disconnect")],
        ))
        .await;
    page.expect_text("Disconnecting");
    app.settle().await;
    v.get(&app.url("/account/disconnect/progress"))
        .await
        .expect_text("Every product and offer was deleted from Mirakl");
    assert_eq!(app.sandbox.marketplace_offers(INSTANCE, STORE).len(), 0);
    assert_eq!(leftovers(&app, ws).await, vec![]);
}

#[tokio::test]
async fn the_preview_counts_products_apart_from_their_variants() {
    let app = TestApp::spawn().await;
    let s = crate::catalog::launched(&app).await;
    let live_skus: Vec<String> = app
        .sandbox
        .connect_products("demo-company")
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    let catalog = app
        .storage()
        .catalog_page(s.ws, None, 100_000, false)
        .await
        .unwrap();
    let products: std::collections::BTreeSet<i64> = catalog
        .iter()
        .filter(|r| live_skus.contains(&r.sku))
        .map(|r| r.shop_product_id)
        .collect();
    assert!(
        products.len() < live_skus.len(),
        "the demo store has variable products"
    );
    let offers = app.sandbox.marketplace_offers(INSTANCE, STORE).len();

    let page = s.v.get(&app.url("/account/disconnect")).await;
    page.expect_text(&format!(
        "On Mirakl today: {} products and variants ({} products of your store) on Mirakl Connect, {offers} offers on Demo Marketplace.",
        live_skus.len(),
        products.len(),
    ));
    page.expect_text("Orders: No open order.");
}

#[tokio::test]
async fn the_preview_counts_open_orders_and_the_wipe_deletes_every_order_row() {
    let app = TestApp::spawn().await;
    let s = crate::catalog::launched(&app).await;
    let page = s.v.get(&app.url("/settings/orders")).await;
    s.v.submit(&page.form("Save order settings", &[]))
        .await
        .expect_text("Order settings saved");
    let sku = a_live_sku(&app, &s).await;
    let shipped = place(&app, &sku, 1);
    let open = place(&app, &sku, 1);
    poll(&app, s.ws, s.marketplace).await;

    // One ships from the store and is done; the other still waits for its shipment.
    let orders = app
        .storage()
        .orders_page(
            s.ws,
            &storage::OrdersFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let shop_order = |mirakl_id: &str| {
        orders
            .iter()
            .find(|o| o.order.mirakl_id == mirakl_id)
            .and_then(|o| o.shop_order_id)
            .unwrap_or_else(|| panic!("{mirakl_id} is in the store"))
    };
    let (shipped_in_shop, open_in_shop) = (shop_order(&shipped), shop_order(&open));
    app.sandbox
        .woo_complete_order("demo-shop", shipped_in_shop, Some(("colissimo", "6A123")))
        .unwrap();
    work(&app).await;
    poll(&app, s.ws, s.marketplace).await;
    let counts = app.storage().order_counts(s.ws).await.unwrap();
    assert_eq!((counts.total, counts.open), (2, 1));

    let page = s.v.get(&app.url("/account/disconnect")).await;
    page.expect_text("Orders: 1 open order stays on Mirakl.");
    page.expect_text("The orders already created in your WooCommerce store stay in your store.");

    let order_tables = [
        "orders",
        "order_steps",
        "order_events",
        "order_settings",
        "order_decisions",
    ];
    let rows = |counts: Vec<(String, i64)>| -> Vec<(String, i64)> {
        counts
            .into_iter()
            .filter(|(table, _)| order_tables.contains(&table.as_str()))
            .collect()
    };
    let before = rows(app.storage().rows_per_workspace_table(s.ws).await);
    assert_eq!(before.len(), order_tables.len(), "{before:?}");
    assert!(before.iter().all(|(_, n)| *n > 0), "{before:?}");

    disconnect(&app, &s.v, "Disconnect & keep catalog active")
        .await
        .expect_text("Marketbridge is disconnected");
    let after = rows(app.storage().rows_per_workspace_table(s.ws).await);
    assert!(after.iter().all(|(_, n)| *n == 0), "{after:?}");
    assert_eq!(leftovers(&app, s.ws).await, vec![]);

    // What Mirakl and the store hold stays there.
    assert_eq!(
        app.sandbox.mmp_order(INSTANCE, &open).unwrap()["order_state"],
        "SHIPPING"
    );
    assert_eq!(
        app.sandbox.mmp_order(INSTANCE, &shipped).unwrap()["order_state"],
        "SHIPPED"
    );
    for id in [shipped_in_shop, open_in_shop] {
        assert!(
            app.sandbox.woo_order("demo-shop", id).is_some(),
            "shop order {id}"
        );
    }
}

#[tokio::test]
async fn another_workspace_cannot_disconnect_this_one() {
    let app = TestApp::spawn().await;
    let (_owner, ws) = launched(&app).await;
    let other = Visitor::new();
    app.onboarded(&other, "other@example.com").await;
    let page = other.get(&app.url("/account/disconnect")).await;
    other
        .submit(&page.form(
            "Disconnect & Continue",
            &[
                ("Delete Products", "on"),
                ("Type disconnect to confirm", "disconnect"),
            ],
        ))
        .await;
    app.settle().await;
    // The other seller disconnected themselves; this workspace is untouched.
    assert!(app.storage().disconnect(ws).await.unwrap().is_none());
    assert!(app.storage().get_shop(ws).await.unwrap().is_some());
    assert!(!app.sandbox.marketplace_offers(INSTANCE, STORE).is_empty());
}

#[tokio::test]
async fn a_disconnect_stopped_half_way_resumes_on_another_node_and_ends_the_same() {
    let app = TestApp::spawn().await;
    let (v, ws) = launched(&app).await;
    // The store is down when the disconnect reaches it: the job stops, saying so.
    app.sandbox.woo_set_down("demo-shop", true);
    let page = disconnect(&app, &v, "Delete Products").await;
    page.expect_text("Your WooCommerce store did not let Marketbridge remove its webhooks");
    let d = app.storage().disconnect(ws).await.unwrap().unwrap();
    assert_eq!(
        (d.status, d.step.as_str()),
        (DisconnectStatus::Failed, "shop")
    );
    // The catalog step is done and recorded: products are already gone.
    assert_eq!(app.sandbox.connect_products("demo-company").len(), 0);

    // The store is back; the seller retries, and another process picks the job up.
    app.sandbox.woo_set_down("demo-shop", false);
    let retry = page.form("Retry", &[]);
    v.submit(&retry).await;
    let node = app.second_node().await;
    for _ in 0..50 {
        node.worker.tick().await.unwrap();
        if app.storage().queued_jobs().await == 0 {
            break;
        }
        app.storage().make_queued_jobs_due().await;
    }
    v.get(&app.url("/account/disconnect/progress"))
        .await
        .expect_text("Marketbridge is disconnected");
    assert_eq!(our_webhooks(&app), 0);
    assert_eq!(app.sandbox.marketplace_offers(INSTANCE, STORE).len(), 0);
    assert_eq!(leftovers(&app, ws).await, vec![]);
}

#[tokio::test]
async fn a_store_that_stays_down_can_be_left_behind_by_forcing_the_local_deletion() {
    let app = TestApp::spawn().await;
    let (v, ws) = launched(&app).await;
    app.sandbox.woo_set_down("demo-shop", true);
    let page = disconnect(&app, &v, "Disconnect & keep catalog active").await;
    let page = v.submit(&page.form("Delete local data anyway", &[])).await;
    page.expect_text("Disconnecting");
    app.settle().await;
    v.get(&app.url("/account/disconnect/progress"))
        .await
        .expect_text("Marketbridge is disconnected");
    assert_eq!(leftovers(&app, ws).await, vec![]);
    assert_eq!(
        our_webhooks(&app),
        shops::webhook::TOPICS.len(),
        "the store was down: its webhooks stay, as the page said"
    );
}

#[tokio::test]
async fn removing_one_channel_with_delete_leaves_the_other_channels_untouched() {
    let app = TestApp::spawn().await;
    let (v, ws) = launched(&app).await;
    let products = app.sandbox.connect_products("demo-company");
    let market = app
        .storage()
        .list_channels(ws)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.kind == domain::ChannelKind::Marketplace)
        .unwrap();
    let settings = v.get(&app.url(&format!("/channels/{}", market.id))).await;
    let refused = v
        .submit(&settings.form("Remove channel", &[("Delete Products", "on")]))
        .await;
    refused.expect_text("Type the word remove to confirm");
    let page = v
        .submit(&settings.form(
            "Remove channel",
            &[
                ("Delete Products", "on"),
                ("Type remove to confirm", "remove"),
            ],
        ))
        .await;
    page.expect_text("Disconnecting");
    app.settle().await;
    v.get(&app.url("/account/disconnect/progress"))
        .await
        .expect_text("The channel was removed");

    assert_eq!(
        app.sandbox.marketplace_offers(INSTANCE, STORE).len(),
        0,
        "its offers are deleted"
    );
    assert_eq!(
        app.sandbox.connect_products("demo-company"),
        products,
        "Mirakl Connect untouched"
    );
    assert!(
        app.storage()
            .get_channel(ws, market.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(app.storage().list_channels(ws).await.unwrap().len(), 1);
    assert!(
        app.storage().get_shop(ws).await.unwrap().is_some(),
        "the store stays connected"
    );
    assert_eq!(our_webhooks(&app), shops::webhook::TOPICS.len());
}

#[tokio::test]
async fn settings_downloaded_before_a_disconnect_are_imported_by_the_next_onboarding() {
    let app = TestApp::spawn().await;
    let (v, ws) = launched(&app).await;
    let page = v.get(&app.url("/settings/products")).await;
    v.submit(&page.form(
        "Save settings",
        &[("Markup (%)", "10"), ("Stock buffer", "3")],
    ))
    .await
    .expect_text("Settings saved");
    let file = v.get_raw(&app.url("/account/settings.json")).await;
    assert!(
        file.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("marketbridge-settings.json")
    );
    let file = file.text().await.unwrap();
    disconnect(&app, &v, "Disconnect & keep catalog active")
        .await
        .expect_text("Marketbridge is disconnected");
    assert!(
        app.storage().product_settings(ws).await.unwrap().is_none(),
        "deleted with the rest"
    );

    // Onboarding again, importing the file at Step 3.
    let step1 = v.get(&app.url("/onboarding")).await;
    let step2 = app.onboard_mirakl_connect(&v, &step1).await;
    let step3 = app
        .onboard_store_by_keys(
            &v,
            &step2,
            test_support::flows::WOO_KEY,
            test_support::flows::WOO_SECRET,
        )
        .await;
    let bad = v
        .submit(&step3.form(
            "Import settings",
            &[("Settings file (marketbridge-settings.json)", "{ not json")],
        ))
        .await;
    bad.expect_text("That is not a Marketbridge settings file");
    let step4 = v
        .submit(&bad.form(
            "Import settings",
            &[("Settings file (marketbridge-settings.json)", file.as_str())],
        ))
        .await;
    step4.expect_text("Your settings were imported");
    step4.expect_text("Step 4 of 4");
    let saved = app.storage().product_settings(ws).await.unwrap().unwrap();
    assert_eq!(
        (saved.price.markup_percent_bp, saved.stock.buffer),
        (1000, 3)
    );
}
