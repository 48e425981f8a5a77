//! F3/F4: the catalog export to Mirakl Connect and to a marketplace — deltas only, within
//! budgets, every error attached to its SKU, drift repaired, nothing lost under faults.

use domain::{ChannelKind, ItemState, WorkspaceId};
use storage::ChannelItem;
use test_support::{ShopKind, TestApp, Visitor};

pub const INSTANCE: &str = "demo-marketplace";
pub const STORE: i64 = 2001;

pub struct Setup {
    pub v: Visitor,
    pub ws: WorkspaceId,
    pub connect: domain::ChannelId,
    pub marketplace: domain::ChannelId,
    pub shop: ShopKind,
}

/// An onboarded workspace (Mirakl Connect + the demo store) with Demo Marketplace live too,
/// and every job run to the end.
pub async fn launched(app: &TestApp) -> Setup {
    launched_with(app, ShopKind::WooCommerce).await
}

/// `launched` with this kind of shop.
pub async fn launched_with(app: &TestApp, shop: ShopKind) -> Setup {
    let setup = launch_with(app, shop).await;
    app.settle().await;
    setup
}

/// `launched` without running the jobs: the catalog read and the exports the launch queued
/// are left for the caller to run.
pub async fn launch(app: &TestApp) -> Setup {
    launch_with(app, ShopKind::WooCommerce).await
}

pub async fn launch_with(app: &TestApp, shop: ShopKind) -> Setup {
    let v = Visitor::new();
    app.onboarded_with(&v, "shop@example.com", shop).await;
    let settings = app
        .connect_marketplace(&v, "Demo Marketplace", "Demo Store (2001)")
        .await;
    let settings = app.enter_store_id(&v, &settings, "2001").await;
    v.submit(&settings.form("Launch", &[]))
        .await
        .expect_text("is live");
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let channels = app.storage().list_channels(ws).await.unwrap();
    let id = |kind| channels.iter().find(|c| c.kind == kind).unwrap().id;
    Setup {
        v,
        ws,
        connect: id(ChannelKind::MiraklConnect),
        marketplace: id(ChannelKind::Marketplace),
        shop,
    }
}

// ----- the shop, whichever it is ----------------------------------------------------------

/// Sets the shop's price of the row's product or variation, as the seller would.
pub fn set_shop_price(app: &TestApp, s: &Setup, row: &storage::CatalogRow, price: &str) {
    match s.shop {
        ShopKind::WooCommerce => app.sandbox.woo_set_price(
            "demo-shop",
            row.shop_variation_id.unwrap_or(row.shop_product_id),
            price,
            None,
        ),
        ShopKind::BigCommerce => app.sandbox.bc_set_price(
            sandbox::BC_DEMO_STORE_HASH,
            row.shop_product_id,
            row.shop_variation_id,
            price,
        ),
    }
}

/// Sets the shop's stock of the row's product or variation, as the seller would.
pub fn set_shop_stock(app: &TestApp, s: &Setup, row: &storage::CatalogRow, quantity: i64) {
    match s.shop {
        ShopKind::WooCommerce => app.sandbox.woo_set_stock(
            "demo-shop",
            row.shop_variation_id.unwrap_or(row.shop_product_id),
            quantity,
        ),
        ShopKind::BigCommerce => app.sandbox.bc_set_stock(
            sandbox::BC_DEMO_STORE_HASH,
            row.shop_product_id,
            row.shop_variation_id,
            quantity,
        ),
    }
}

/// Delivers every webhook the shop has queued, retries included.
pub async fn deliver_shop_webhooks(app: &TestApp, s: &Setup) {
    match s.shop {
        ShopKind::WooCommerce => app.sandbox.settle_webhooks().await,
        ShopKind::BigCommerce => app.sandbox.settle_bc_hooks().await,
    }
}

/// The REST calls the shop has answered.
pub fn shop_calls(app: &TestApp, s: &Setup) -> u64 {
    app.sandbox.call_count(match s.shop {
        ShopKind::WooCommerce => "woo.rest",
        ShopKind::BigCommerce => "bc.rest",
    })
}

/// Runs a test body once per shop kind, each as a test of its own.
macro_rules! for_each_shop {
    ($body:ident) => {
        mod $body {
            #[tokio::test]
            async fn woocommerce() {
                super::$body(test_support::ShopKind::WooCommerce).await;
            }
            #[tokio::test]
            async fn bigcommerce() {
                super::$body(test_support::ShopKind::BigCommerce).await;
            }
        }
    };
}
pub(crate) use for_each_shop;

pub async fn items(app: &TestApp, ws: WorkspaceId, channel: domain::ChannelId) -> Vec<ChannelItem> {
    app.storage()
        .channel_items_page(ws, channel, None, 100_000)
        .await
        .unwrap()
}

pub fn count(items: &[ChannelItem], state: ItemState) -> usize {
    items.iter().filter(|i| i.state == state).count()
}

/// A full export of every channel (what Sync now starts after its read), run to its end.
pub async fn full_export(app: &TestApp, s: &Setup) {
    app.connector()
        .worker
        .catalog()
        .enqueue_exports(s.ws)
        .await
        .unwrap();
    app.settle().await;
}

/// The SKU of an item live on `channel`, with its catalog row.
async fn a_live_item(
    app: &TestApp,
    s: &Setup,
    channel: domain::ChannelId,
) -> (String, storage::CatalogRow) {
    let live = items(app, s.ws, channel).await;
    let sku = live
        .iter()
        .find(|i| i.state == ItemState::Live)
        .unwrap()
        .sku
        .clone();
    let row = app
        .storage()
        .catalog_page(s.ws, None, 100_000, false)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.sku == sku)
        .unwrap();
    (sku, row)
}

fn catalog_calls(app: &TestApp) -> [u64; 4] {
    [
        "connect.products.post",
        "connect.products.delete",
        "mmp.of01",
        "mmp.of24",
    ]
    .map(|c| app.sandbox.call_count(c))
}

/// Every catalog call, following imports included.
fn all_catalog_calls(app: &TestApp) -> u64 {
    [
        "connect.products.post",
        "connect.products.delete",
        "mmp.of01",
        "mmp.of24",
        "mmp.of02",
        "mmp.of03",
        "mmp.of04",
    ]
    .iter()
    .map(|c| app.sandbox.call_count(c))
    .sum()
}

for_each_shop!(launch_sends_the_catalog_to_connect_and_to_the_marketplace);
async fn launch_sends_the_catalog_to_connect_and_to_the_marketplace(shop: ShopKind) {
    let app = TestApp::spawn().await;
    let s = launched_with(&app, shop).await;
    let catalog = app.storage().catalog_count(s.ws).await.unwrap();
    assert!(
        catalog > 300,
        "simple products and one item per variation: {catalog}"
    );

    let connect = items(&app, s.ws, s.connect).await;
    let live = count(&connect, ItemState::Live);
    assert!(live > 0);
    assert_eq!(
        app.sandbox.connect_products("demo-company").len(),
        live,
        "Connect has every live product"
    );

    let market = items(&app, s.ws, s.marketplace).await;
    let offers = app.sandbox.marketplace_offers(INSTANCE, STORE);
    assert_eq!(offers.len(), count(&market, ItemState::Live));
    assert_eq!(
        count(&market, ItemState::Sent),
        0,
        "every import was followed to its end"
    );
    // The marketplace does not know every GTIN: those lines come back in the OF03 report,
    // each attached to its SKU with Mirakl's message.
    let refused: Vec<_> = market
        .iter()
        .filter(|i| i.state == ItemState::Error)
        .collect();
    assert!(!refused.is_empty());
    assert!(
        refused
            .iter()
            .any(|i| i.error.as_deref() == Some("The product does not exist")),
        "{refused:?}"
    );
    assert!(
        app.sandbox
            .offer_import_modes(INSTANCE)
            .iter()
            .all(|m| m == "NORMAL"),
        "never REPLACE"
    );

    let page = s.v.get(&app.url("/products?state=error")).await;
    page.expect_text("The product does not exist");
}

for_each_shop!(nothing_changed_means_no_call);
async fn nothing_changed_means_no_call(shop: ShopKind) {
    let app = TestApp::spawn().await;
    let s = launched_with(&app, shop).await;
    let before = catalog_calls(&app);
    // A full read of the shop and an export to every channel: nothing differs.
    app.connector()
        .worker
        .catalog()
        .enqueue_read(s.ws, sync::CatalogRead::Full)
        .await
        .unwrap();
    app.settle().await;
    assert_eq!(
        catalog_calls(&app),
        before,
        "no catalog call when nothing changed"
    );
}

for_each_shop!(only_the_changed_item_is_sent_after_a_webhook);
async fn only_the_changed_item_is_sent_after_a_webhook(shop: ShopKind) {
    let app = TestApp::spawn().await;
    let s = launched_with(&app, shop).await;
    let (sku, row) = a_live_item(&app, &s, s.marketplace).await;
    let before = catalog_calls(&app);
    let shop_reads = shop_calls(&app, &s);

    set_shop_price(&app, &s, &row, "123.45");
    deliver_shop_webhooks(&app, &s).await;
    app.settle().await;

    // The webhook names the product: it alone is read (WooCommerce: with its variations, if
    // it has some; BigCommerce gives them with the product), not everything modified lately.
    let expected_reads = match shop {
        ShopKind::WooCommerce if row.shop_variation_id.is_some() => 2,
        _ => 1,
    };
    assert_eq!(shop_calls(&app, &s) - shop_reads, expected_reads);
    // And each channel's export looked at the changed items only, not the whole catalog.
    let runs = app.storage().recent_sync_runs(s.ws, 50).await.unwrap();
    for channel in [s.connect, s.marketplace] {
        let export = runs
            .iter()
            .find(|r| r.flow == "channel_export" && r.channel_id == Some(channel))
            .unwrap();
        let counts: serde_json::Value = serde_json::from_str(&export.counts).unwrap();
        assert!(
            counts["read"].as_u64().unwrap() <= expected_reads,
            "{counts}"
        );
    }
    let after = catalog_calls(&app);
    assert_eq!(after[2], before[2], "no offer file for one change");
    assert_eq!(after[3], before[3] + 1, "one OF24 call");
    assert_eq!(after[0], before[0] + 1, "one Connect upsert");
    let offer = app
        .sandbox
        .marketplace_offers(INSTANCE, STORE)
        .into_iter()
        .find(|o| o["shop_sku"] == sku.as_str())
        .unwrap();
    assert_eq!(
        offer["price"].to_string().trim_matches('"'),
        "123.45",
        "{offer}"
    );
    let connect = app
        .sandbox
        .connect_products("demo-company")
        .into_iter()
        .find(|p| p["id"] == sku.as_str())
        .unwrap();
    assert!(
        connect["standard_prices"].to_string().contains("123.45"),
        "{connect}"
    );
}

#[tokio::test]
async fn an_offer_import_that_fails_as_a_whole_is_shown_and_sent_again_by_the_next_full_export() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (sku, row) = a_live_item(&app, &s, s.marketplace).await;
    let id = row.shop_variation_id.unwrap_or(row.shop_product_id);

    app.sandbox
        .fail_next_import(INSTANCE, "The import could not be processed");
    app.sandbox.woo_set_price("demo-shop", id, "77.71", None);
    app.sandbox.settle_webhooks().await;
    app.settle().await;
    let failed = items(&app, s.ws, s.marketplace)
        .await
        .into_iter()
        .find(|i| i.sku == sku)
        .unwrap();
    assert_eq!(failed.state, ItemState::Error, "{failed:?}");
    assert!(
        failed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("The import could not be processed")),
        "{failed:?}"
    );
    let price = |app: &TestApp| {
        app.sandbox
            .marketplace_offers(INSTANCE, STORE)
            .into_iter()
            .find(|o| o["shop_sku"] == sku.as_str())
            .map(|o| o["price"].to_string().trim_matches('"').to_owned())
    };
    assert_ne!(price(&app).as_deref(), Some("77.71"));

    full_export(&app, &s).await;
    let sent_again = items(&app, s.ws, s.marketplace)
        .await
        .into_iter()
        .find(|i| i.sku == sku)
        .unwrap();
    assert_eq!(
        (sent_again.state, sent_again.error.as_deref()),
        (ItemState::Live, None)
    );
    assert_eq!(price(&app).as_deref(), Some("77.71"));
}

for_each_shop!(a_storm_of_429s_and_5xx_still_ends_with_every_offer_right);
async fn a_storm_of_429s_and_5xx_still_ends_with_every_offer_right(shop: ShopKind) {
    let calm = TestApp::spawn().await;
    launched_with(&calm, shop).await;
    let calm_calls = all_catalog_calls(&calm);

    let app = TestApp::spawn().await;
    app.sandbox.set_faults(sandbox::Faults {
        error_rate: 0.3,
        rate_limit_rate: 0.3,
    });
    let s = launched_with(&app, shop).await;
    app.sandbox.set_faults(sandbox::Faults::default());
    app.settle().await;
    let stormy_calls = all_catalog_calls(&app);
    assert!(
        stormy_calls > calm_calls,
        "the faults were hit: {stormy_calls} calls against {calm_calls}"
    );

    let market = items(&app, s.ws, s.marketplace).await;
    assert_eq!(
        count(&market, ItemState::Waiting) + count(&market, ItemState::Sent),
        0,
        "nothing left behind"
    );
    assert_eq!(
        app.sandbox.marketplace_offers(INSTANCE, STORE).len(),
        count(&market, ItemState::Live)
    );
    let connect = items(&app, s.ws, s.connect).await;
    assert_eq!(
        app.sandbox.connect_products("demo-company").len(),
        count(&connect, ItemState::Live)
    );
    assert!(count(&connect, ItemState::Live) > 0);
}

#[tokio::test]
async fn reconciliation_repairs_an_offer_changed_behind_the_connectors_back() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let offer = app.sandbox.marketplace_offers(INSTANCE, STORE).remove(0);
    let sku = offer["shop_sku"].as_str().unwrap().to_owned();
    let right = offer["quantity"].as_i64().unwrap();
    app.sandbox
        .set_offer_quantity(INSTANCE, STORE, &sku, right + 500);

    app.connector()
        .flows
        .queue
        .enqueue(s.ws, &sync::Job::reconcile(s.marketplace))
        .await
        .unwrap();
    app.settle().await;

    let repaired = app
        .sandbox
        .marketplace_offers(INSTANCE, STORE)
        .into_iter()
        .find(|o| o["shop_sku"] == sku.as_str())
        .unwrap();
    assert_eq!(repaired["quantity"].as_i64(), Some(right));
    let runs = app.storage().recent_sync_runs(s.ws, 20).await.unwrap();
    assert!(
        runs.iter().any(|r| r
            .message
            .as_deref()
            .is_some_and(|m| m.contains("repaired 1"))),
        "{runs:?}"
    );
}

#[tokio::test]
async fn with_sync_product_off_nothing_is_sent() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let step1 = app.sign_up(&v, "shop@example.com").await;
    let step2 = app.onboard_mirakl_connect(&v, &step1).await;
    let step3 = app
        .onboard_store_by_keys(
            &v,
            &step2,
            test_support::flows::WOO_KEY,
            test_support::flows::WOO_SECRET,
        )
        .await;
    // Untick Sync Product (the form sends only ticked boxes).
    let form = step3
        .form("Save and continue", &[])
        .without("sync_products");
    let step4 = v.submit(&form).await;
    step4.expect_text("Sync Product");
    v.submit(&step4.form("Launch", &[]))
        .await
        .expect_text("Marketbridge is live");
    app.settle().await;

    assert_eq!(catalog_calls(&app), [0, 0, 0, 0], "nothing was sent");
    assert!(app.sandbox.connect_products("demo-company").is_empty());
    let page = v.get(&app.url("/products")).await;
    page.expect_text("Sync Product is off: nothing is sent to Mirakl");
}

#[tokio::test]
async fn a_product_trashed_in_the_shop_leaves_the_channels() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (sku, row) = a_live_item(&app, &s, s.marketplace).await;
    // What the product editor's "Move to Trash" does: DELETE without force.
    let url = format!(
        "{}/wp-json/wc/v3/products/{}",
        app.store_url(),
        row.shop_product_id
    );
    let response = reqwest::Client::new()
        .delete(url)
        .basic_auth(
            test_support::flows::WOO_KEY,
            Some(test_support::flows::WOO_SECRET),
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    app.sandbox.settle_webhooks().await;
    app.settle().await;
    assert!(
        !app.sandbox
            .connect_products("demo-company")
            .iter()
            .any(|p| p["id"] == sku.as_str())
    );
    for channel in [s.connect, s.marketplace] {
        let state = items(&app, s.ws, channel)
            .await
            .into_iter()
            .find(|i| i.sku == sku)
            .unwrap();
        assert_eq!(state.state, ItemState::Removed);
    }
}

#[tokio::test]
async fn an_offer_refused_for_its_gtin_goes_live_once_the_gtin_is_corrected_in_the_shop() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let (refused, typo) = app
        .a_product_refused_for_its_gtin(s.ws, s.marketplace)
        .await;

    app.correct_gtin_in_the_shop(refused.shop_product_id, &sandbox::corrected_gtin(&typo))
        .await;
    app.sandbox.settle_webhooks().await;
    app.settle().await;

    let state = items(&app, s.ws, s.marketplace)
        .await
        .into_iter()
        .find(|i| i.sku == refused.sku)
        .unwrap();
    assert_eq!(state.state, ItemState::Live, "{state:?}");
    assert!(
        app.sandbox
            .marketplace_offers(INSTANCE, STORE)
            .iter()
            .any(|o| o["shop_sku"] == refused.sku.as_str())
    );
}

#[tokio::test]
async fn a_channel_override_changes_that_channel_only() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    let sku = app.sandbox.marketplace_offers(INSTANCE, STORE)[0]["shop_sku"]
        .as_str()
        .unwrap()
        .to_owned();
    let offer_price = |app: &TestApp| {
        app.sandbox
            .marketplace_offers(INSTANCE, STORE)
            .into_iter()
            .find(|o| o["shop_sku"] == sku.as_str())
            .unwrap()["price"]
            .to_string()
    };
    let connect_product = |app: &TestApp| {
        app.sandbox
            .connect_products("demo-company")
            .into_iter()
            .find(|p| p["id"] == sku.as_str())
            .unwrap()
    };
    let (price_before, connect_before) = (offer_price(&app), connect_product(&app));

    let settings =
        s.v.get(&app.url(&format!("/channels/{}", s.marketplace)))
            .await;
    let page =
        s.v.submit(&settings.form(
            "Save channel rules",
            &[("Markup (%) on this channel", "abc")],
        ))
        .await;
    page.expect_text("Nothing was saved");
    let page =
        s.v.submit(&page.form(
            "Save channel rules",
            &[("Markup (%) on this channel", "50")],
        ))
        .await;
    page.expect_text("Channel rules saved");
    app.settle().await;

    assert_ne!(
        offer_price(&app),
        price_before,
        "the marketplace got the channel's markup"
    );
    assert_eq!(
        connect_product(&app),
        connect_before,
        "Mirakl Connect is untouched"
    );
}

/// A BigCommerce store's calls keep to its rate window: more calls than one window holds are
/// spread over several, and the store never answers 429.
#[tokio::test]
async fn a_bigcommerce_store_is_read_within_its_rate_limit() {
    let app = TestApp::spawn_with_budgets(test_support::Engine::Sqlite, 0.01).await;
    // A 30 s window lasts 0.3 s at this scale; eight requests each, three left to others.
    app.sandbox
        .bc_set_rate_quota(sandbox::BC_DEMO_STORE_HASH, 8);
    let s = launch_with(&app, ShopKind::BigCommerce).await;
    app.run_until_idle().await;
    app.connector()
        .worker
        .catalog()
        .enqueue_read(s.ws, sync::CatalogRead::Full)
        .await
        .unwrap();
    app.run_until_idle().await;

    let calls = shop_calls(&app, &s);
    assert!(calls > 8, "more calls than one window holds: {calls}");
    assert_eq!(app.sandbox.call_count("bc.rate_limited"), 0, "no 429");
    let connect = items(&app, s.ws, s.connect).await;
    assert_eq!(
        app.sandbox.connect_products("demo-company").len(),
        count(&connect, ItemState::Live),
        "the catalog went out all the same"
    );
}

for_each_shop!(two_changes_to_one_product_in_a_row_both_reach_the_channels);
/// The second of two quick changes to one product is read too: BigCommerce says the same
/// thing of both (the same scope and product, in the same second), and must not be taken
/// for a redelivery.
async fn two_changes_to_one_product_in_a_row_both_reach_the_channels(shop: ShopKind) {
    let app = TestApp::spawn().await;
    let s = launched_with(&app, shop).await;
    let (sku, row) = a_live_item(&app, &s, s.connect).await;
    for price in ["101.01", "102.02"] {
        set_shop_price(&app, &s, &row, price);
        deliver_shop_webhooks(&app, &s).await;
        app.settle().await;
    }
    let connect = app
        .sandbox
        .connect_products("demo-company")
        .into_iter()
        .find(|p| p["id"] == sku.as_str())
        .unwrap();
    assert!(
        connect["standard_prices"].to_string().contains("102.02"),
        "{connect}"
    );
}

for_each_shop!(
    webhooks_the_store_gave_up_on_are_registered_again_and_what_changed_meanwhile_is_sent
);
/// A shop gives up on a webhook that keeps failing (WooCommerce disables it, BigCommerce
/// deactivates it after 48 hours). The next health check registers the webhooks again and
/// reads the catalog, so a change made while none was delivered still reaches the channels,
/// and the next change arrives by webhook again.
async fn webhooks_the_store_gave_up_on_are_registered_again_and_what_changed_meanwhile_is_sent(
    shop: ShopKind,
) {
    let app = TestApp::spawn().await;
    let s = launched_with(&app, shop).await;
    let (sku, row) = a_live_item(&app, &s, s.connect).await;
    let shop_id = app.storage().get_shop(s.ws).await.unwrap().unwrap().id;
    let hooks_active = || -> Vec<bool> {
        match shop {
            ShopKind::WooCommerce => app
                .sandbox
                .woo_webhooks("demo-shop")
                .iter()
                .filter(|h| h.delivery_url.contains("/webhooks/woocommerce/"))
                .map(|h| h.status == sandbox::WooWebhookStatus::Active)
                .collect(),
            ShopKind::BigCommerce => app
                .sandbox
                .bc_hooks(sandbox::BC_DEMO_STORE_HASH)
                .iter()
                .map(|h| h["is_active"] == true)
                .collect(),
        }
    };
    match shop {
        ShopKind::WooCommerce => app.sandbox.woo_disable_webhooks("demo-shop"),
        ShopKind::BigCommerce => app.sandbox.bc_deactivate_hooks(sandbox::BC_DEMO_STORE_HASH),
    }
    set_shop_price(&app, &s, &row, "111.11");
    deliver_shop_webhooks(&app, &s).await;
    app.settle().await;
    let price_on_connect = |app: &TestApp| {
        app.sandbox
            .connect_products("demo-company")
            .into_iter()
            .find(|p| p["id"] == sku.as_str())
            .unwrap()["standard_prices"]
            .to_string()
    };
    assert!(
        !price_on_connect(&app).contains("111.11"),
        "no webhook was delivered, so nothing was read yet"
    );

    app.connector()
        .flows
        .health
        .check(s.ws, shop_id)
        .await
        .unwrap();
    app.settle().await;

    let active = hooks_active();
    assert!(
        !active.is_empty() && active.iter().all(|a| *a),
        "{active:?}"
    );
    let ours = app.storage().shop_webhooks(s.ws, shop_id).await.unwrap();
    assert!(ours.iter().all(|w| w.status == "active"), "{ours:?}");
    assert!(price_on_connect(&app).contains("111.11"));

    set_shop_price(&app, &s, &row, "122.22");
    deliver_shop_webhooks(&app, &s).await;
    app.settle().await;
    assert!(price_on_connect(&app).contains("122.22"));
}
