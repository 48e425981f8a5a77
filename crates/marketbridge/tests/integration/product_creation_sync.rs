//! Product creation at work: with a column mapping saved, the marketplace export creates the
//! shop's products by SKU (P41, followed with P42/P44) before their offers, which then name
//! the product by the seller's SKU.

use domain::ItemState;
use std::collections::HashMap;

use storage::ChannelItem;
use test_support::TestApp;

use crate::catalog::{Setup, full_export, launched};

const INSTANCE: &str = "demo-marketplace";
const STORE: i64 = 2001;

/// Saves the suggested mapping, except that Brand is read from the shop attribute Color, which
/// simple products do not have: those cannot be created, and say why.
async fn map_brand_to_color(app: &TestApp, s: &Setup) {
    let page =
        s.v.get(&app.url(&format!("/channels/{}/product-creation", s.marketplace)))
            .await;
    let form = page
        .form("Save mapping", &[])
        .with("source.brand", "attribute")
        .with("value.brand", "Color");
    s.v.submit(&form).await.expect_text("Mapping saved");
}

/// Every catalog item's product on the marketplace channel, by SKU.
async fn product_states(app: &TestApp, s: &Setup) -> HashMap<String, ChannelItem> {
    let skus: Vec<String> = app
        .storage()
        .catalog_page(s.ws, None, 100_000, false)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.sku)
        .collect();
    app.storage()
        .channel_products_for(s.ws, s.marketplace, &skus)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.sku.clone(), p))
        .collect()
}

#[tokio::test]
async fn a_saved_mapping_creates_the_products_and_their_offers_name_them_by_sku() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    assert_eq!(app.sandbox.call_count("mmp.p41"), 0, "no mapping, no P41");

    map_brand_to_color(&app, &s).await;
    app.settle().await;
    assert!(app.sandbox.call_count("mmp.p41") > 0);

    let products = product_states(&app, &s).await;
    let live: Vec<&ChannelItem> = products
        .values()
        .filter(|p| p.state == ItemState::Live)
        .collect();
    assert!(!live.is_empty(), "{products:?}");
    assert!(
        products.values().all(|p| p.state != ItemState::Sent),
        "every product import was followed to its end"
    );

    // A product without the required Brand is not sent, and says why next to its SKU.
    let refused: Vec<&ChannelItem> = products
        .values()
        .filter(|p| p.state == ItemState::Error)
        .collect();
    assert!(!refused.is_empty());
    assert!(
        refused
            .iter()
            .all(|p| p.error.as_deref().is_some_and(|e| e.contains("Brand"))),
        "{refused:?}"
    );

    // The marketplace's catalog has each live product under the shop's SKU…
    let catalog = app.sandbox.marketplace_products(INSTANCE);
    let product_of = |shop_sku: &str| {
        catalog
            .iter()
            .find(|p| p["shop_skus"][STORE.to_string()] == shop_sku)
            .map(|p| p["product_sku"].as_str().unwrap().to_owned())
    };
    for product in &live {
        assert!(
            product_of(&product.sku).is_some(),
            "{} is in the marketplace's catalog",
            product.sku
        );
    }

    // …and the offer of each is live and names that product.
    let offers = app.sandbox.marketplace_offers(INSTANCE, STORE);
    let offer_items: HashMap<String, ChannelItem> = app
        .storage()
        .channel_items_page(s.ws, s.marketplace, None, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.sku.clone(), i))
        .collect();
    for product in &live {
        assert_eq!(
            offer_items.get(&product.sku).map(|i| i.state),
            Some(ItemState::Live),
            "the offer of {} is live",
            product.sku
        );
        let offer = offers
            .iter()
            .find(|o| o["shop_sku"] == product.sku.as_str())
            .unwrap_or_else(|| panic!("an offer for {}", product.sku));
        assert_eq!(
            offer["product_sku"].as_str().map(str::to_owned),
            product_of(&product.sku),
            "the offer of {} names the product created for it",
            product.sku
        );
    }

    // Nothing changed: a full export sends no product again.
    let p41 = app.sandbox.call_count("mmp.p41");
    full_export(&app, &s).await;
    assert_eq!(app.sandbox.call_count("mmp.p41"), p41);
    assert_eq!(product_states(&app, &s).await, products);
}

/// Saves the mapping the page suggests, unchanged.
async fn save_suggested_mapping(app: &TestApp, s: &Setup) {
    let page =
        s.v.get(&app.url(&format!("/channels/{}/product-creation", s.marketplace)))
            .await;
    s.v.submit(&page.form("Save mapping", &[]))
        .await
        .expect_text("Mapping saved");
}

/// A simple product of the demo shop whose product is live on the marketplace, and its SKU.
async fn a_live_simple_product(app: &TestApp, s: &Setup) -> (i64, String) {
    let products = product_states(app, s).await;
    let row = app
        .storage()
        .catalog_page(s.ws, None, 100_000, false)
        .await
        .unwrap()
        .into_iter()
        .find(|r| {
            r.shop_variation_id.is_none()
                && products
                    .get(&r.sku)
                    .is_some_and(|p| p.state == ItemState::Live)
        })
        .expect("the demo shop has simple products the suggested mapping creates");
    (row.shop_product_id, row.sku)
}

/// The SKUs whose product carries an error containing `text`.
fn in_error_with(products: &HashMap<String, ChannelItem>, text: &str) -> Vec<String> {
    let mut skus: Vec<String> = products
        .values()
        .filter(|p| {
            p.state == ItemState::Error && p.error.as_deref().is_some_and(|e| e.contains(text))
        })
        .map(|p| p.sku.clone())
        .collect();
    skus.sort();
    skus
}

#[tokio::test]
async fn a_product_the_marketplace_refuses_shows_its_report_line_until_fixed() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    save_suggested_mapping(&app, &s).await;
    app.settle().await;
    let (id, sku) = a_live_simple_product(&app, &s).await;
    let p44 = app.sandbox.call_count("mmp.p44");

    // The domain cannot tell that this link holds no image; only the marketplace, which
    // downloads it, can.
    app.sandbox
        .woo_set_images("demo-shop", id, &["https://cdn.example/photos/missing"]);
    app.sandbox.settle_webhooks().await;
    app.settle().await;
    assert!(
        app.sandbox.call_count("mmp.p44") > p44,
        "the report was read"
    );
    let products = product_states(&app, &s).await;
    assert_eq!(
        in_error_with(&products, "could not be downloaded as an image"),
        std::slice::from_ref(&sku),
        "Mirakl's P44 line is attached to its SKU: {:?}",
        products[&sku]
    );
    assert!(
        products[&sku]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("https://cdn.example/photos/missing")),
        "{:?}",
        products[&sku]
    );

    // Fixed in the shop: the product is sent again and created, and its offer names it.
    app.sandbox
        .woo_set_images("demo-shop", id, &["https://cdn.example/photos/fixed.png"]);
    app.sandbox.settle_webhooks().await;
    app.settle().await;
    let fixed = &product_states(&app, &s).await[&sku];
    assert_eq!(
        (fixed.state, fixed.error.as_deref()),
        (ItemState::Live, None)
    );
    let catalog = app.sandbox.marketplace_products(INSTANCE);
    let product = catalog
        .iter()
        .find(|p| p["shop_skus"][STORE.to_string()] == sku.as_str())
        .expect("the product is in the marketplace's catalog");
    assert_eq!(
        product["attributes"]["main_image"],
        "https://cdn.example/photos/fixed.png"
    );
    let offers = app.sandbox.marketplace_offers(INSTANCE, STORE);
    let offer = offers
        .iter()
        .find(|o| o["shop_sku"] == sku.as_str())
        .expect("its offer");
    assert_eq!(offer["product_sku"], product["product_sku"]);
}

#[tokio::test]
async fn a_product_import_that_fails_as_a_whole_leaves_its_products_in_error_until_sent_again() {
    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    app.sandbox
        .fail_next_import(INSTANCE, "The file could not be processed");
    save_suggested_mapping(&app, &s).await;
    app.settle().await;
    assert_eq!(
        app.sandbox.call_count("mmp.p41"),
        1,
        "a failed import is not sent again on its own, over and over"
    );
    let products = product_states(&app, &s).await;
    let failed = in_error_with(&products, "did not integrate");
    assert!(!failed.is_empty());
    assert_eq!(
        failed,
        in_error_with(&products, "The file could not be processed"),
        "the reason Mirakl gave is shown"
    );
    assert!(
        products
            .values()
            .all(|p| p.state == ItemState::Error && p.sent_hash.is_none()),
        "every product was in the failed file or never sendable: {:?}",
        products.values().find(|p| p.state != ItemState::Error)
    );
    assert!(
        app.sandbox
            .marketplace_products(INSTANCE)
            .iter()
            .all(|p| p["shop_skus"].get(STORE.to_string()).is_none()),
        "nothing of the file reached the catalog"
    );

    // A full export (what Sync now starts) sends them again; this time the marketplace takes
    // them.
    full_export(&app, &s).await;
    assert_eq!(app.sandbox.call_count("mmp.p41"), 2);
    let products = product_states(&app, &s).await;
    for sku in &failed {
        assert_eq!(products[sku].state, ItemState::Live, "{:?}", products[sku]);
    }
}

/// What each product became, without what differs between two runs (times, import ids, and
/// hashes: image links name each sandbox's port).
fn outcomes(
    products: HashMap<String, ChannelItem>,
) -> HashMap<String, (ItemState, Option<String>)> {
    products
        .into_iter()
        .map(|(sku, p)| (sku, (p.state, p.error)))
        .collect()
}

#[tokio::test]
async fn product_creation_ends_right_through_429s_and_5xx() {
    let calm = TestApp::spawn().await;
    let cs = launched(&calm).await;
    save_suggested_mapping(&calm, &cs).await;
    calm.settle().await;
    let calm_p42 = calm.sandbox.call_count("mmp.p42");
    assert_eq!(calm.sandbox.call_count("mmp.p41"), 1);

    let app = TestApp::spawn().await;
    let s = launched(&app).await;
    app.sandbox.set_faults(sandbox::Faults {
        error_rate: 0.3,
        rate_limit_rate: 0.3,
    });
    save_suggested_mapping(&app, &s).await;
    app.settle().await;
    app.sandbox.set_faults(sandbox::Faults::default());
    app.settle().await;
    assert!(
        app.sandbox.call_count("mmp.p41") > 1 || app.sandbox.call_count("mmp.p42") > calm_p42,
        "the faults hit P41 or P42"
    );

    let products = product_states(&app, &s).await;
    let live: Vec<&ChannelItem> = products
        .values()
        .filter(|p| p.state == ItemState::Live)
        .collect();
    assert!(!live.is_empty());
    assert_eq!(
        outcomes(products.clone()),
        outcomes(product_states(&calm, &cs).await),
        "the same outcome as without faults"
    );
    let offers = app.sandbox.marketplace_offers(INSTANCE, STORE);
    for product in live {
        assert!(
            offers
                .iter()
                .any(|o| o["shop_sku"] == product.sku.as_str() && o["product_sku"].is_string()),
            "the offer of {} went out",
            product.sku
        );
    }
}
