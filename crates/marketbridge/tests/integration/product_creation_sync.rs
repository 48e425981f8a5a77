//! Product creation at work: with a column mapping saved, the marketplace export creates the
//! shop's products by SKU (P41, followed with P42/P44) before their offers, which then name
//! the product by the seller's SKU.

use std::collections::HashMap;

use storage::{ChannelItem, ItemState};
use test_support::TestApp;

use crate::catalog::{Setup, launched};

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
    app.connector()
        .worker
        .catalog()
        .enqueue_exports(s.ws)
        .await
        .unwrap();
    app.settle().await;
    assert_eq!(app.sandbox.call_count("mmp.p41"), p41);
    assert_eq!(product_states(&app, &s).await, products);
}
