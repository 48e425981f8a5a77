//! Incoming WooCommerce webhooks: signed, size-limited, stored once, processed by a job.

use reqwest::StatusCode;
use storage::WebhookCounts;
use test_support::{TestApp, Visitor};

/// An onboarded workspace; returns (webhook URL, webhook secret, workspace, shop).
async fn connected(app: &TestApp) -> (String, String, domain::WorkspaceId, domain::ShopId) {
    app.onboarded(&Visitor::new(), "shop@example.com").await;
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let shop = app.storage().get_shop(ws).await.unwrap().unwrap();
    let (url, secret) = app.shop_webhook(ws).await;
    (url, secret, ws, shop.id)
}

fn delivery(url: &str, secret: &str, body: &str, delivery_id: &str) -> reqwest::RequestBuilder {
    delivery_of("product.updated", url, secret, body, delivery_id)
}

/// A delivery under `topic` (e.g. `product.deleted`), signed with `secret` as the store signs.
pub(crate) fn delivery_of(
    topic: &str,
    url: &str,
    secret: &str,
    body: &str,
    delivery_id: &str,
) -> reqwest::RequestBuilder {
    let (resource, event) = topic.split_once('.').unwrap();
    reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-WC-Webhook-Source", "http://store.example/")
        .header("X-WC-Webhook-Topic", topic)
        .header("X-WC-Webhook-Resource", resource)
        .header("X-WC-Webhook-Event", event)
        .header("X-WC-Webhook-ID", "7")
        .header("X-WC-Webhook-Delivery-ID", delivery_id)
        .header(
            "X-WC-Webhook-Signature",
            shops::webhook::sign(secret.as_bytes(), body.as_bytes()),
        )
        .body(body.to_owned())
}

async fn counts(app: &TestApp, ws: domain::WorkspaceId, shop: domain::ShopId) -> WebhookCounts {
    app.storage().webhook_counts(ws, shop).await.unwrap()
}

#[tokio::test]
async fn a_valid_delivery_is_processed_once_even_when_delivered_twice() {
    let app = TestApp::spawn().await;
    let (url, secret, ws, shop) = connected(&app).await;
    let before = counts(&app, ws, shop).await;
    let body = r#"{"id":42,"name":"Blue mug","stock_quantity":3}"#;
    for _ in 0..2 {
        let response = delivery(&url, &secret, body, "abc123")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let after = counts(&app, ws, shop).await;
    assert_eq!(
        after.received,
        before.received + 1,
        "the duplicate was ignored"
    );
    app.drain_jobs().await;
    assert_eq!(
        counts(&app, ws, shop).await.processed,
        after.received,
        "processed by the job"
    );

    // Same delivery id (WooCommerce reuses it within a second), another body: a new event.
    let other = r#"{"id":42,"name":"Blue mug","stock_quantity":2}"#;
    delivery(&url, &secret, other, "abc123")
        .send()
        .await
        .unwrap();
    assert_eq!(counts(&app, ws, shop).await.received, after.received + 1);
}

#[tokio::test]
async fn bad_signatures_missing_headers_huge_and_non_json_bodies_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (url, secret, ws, shop) = connected(&app).await;
    let before = counts(&app, ws, shop).await;
    let body = r#"{"id":42}"#;

    let forged = delivery(&url, "not-the-secret", body, "d1")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    let unsigned = reqwest::Client::new()
        .post(&url)
        .header("Content-Type", "application/json")
        .header("X-WC-Webhook-Topic", "product.updated")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);

    let huge = format!(
        r#"{{"id":42,"description":"{}"}}"#,
        "x".repeat(3 * 1024 * 1024)
    );
    let response = delivery(&url, &secret, &huge, "d2").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let response = delivery(&url, &secret, "this is not json", "d3")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let unknown_shop = app.url(&format!("/webhooks/woocommerce/{}", uuid::Uuid::new_v4()));
    assert_eq!(
        delivery(&unknown_shop, &secret, body, "d4")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    assert_eq!(counts(&app, ws, shop).await.received, before.received);
}

#[tokio::test]
async fn a_change_in_the_store_arrives_as_a_signed_webhook_and_is_processed() {
    let app = TestApp::spawn().await;
    let (_url, _secret, ws, shop) = connected(&app).await;
    let before = counts(&app, ws, shop).await;
    let client = shops::woocommerce::WooClient::new(
        shops::woocommerce::StoreUrl::parse(&app.store_url()).unwrap(),
        shops::woocommerce::Credentials {
            consumer_key: test_support::flows::WOO_KEY.to_owned(),
            consumer_secret: shops::woocommerce::ConsumerSecret::new(
                test_support::flows::WOO_SECRET.to_owned(),
            ),
        },
        shops::ShopHttp::new(shops::AddressPolicy::AllowPrivate),
    );
    let first = client
        .products_page(&shops::woocommerce::ProductQuery {
            page: 1,
            per_page: 1,
            modified_after: None,
            include: Vec::new(),
        })
        .await
        .unwrap()
        .items
        .remove(0);
    app.sandbox.woo_set_stock("demo-shop", first.id, 7);
    app.sandbox.settle_webhooks().await;

    let after = counts(&app, ws, shop).await;
    assert!(
        after.received > before.received,
        "the store's webhook reached the connector"
    );
    app.drain_jobs().await;
    let done = counts(&app, ws, shop).await;
    assert_eq!(done.processed, done.received);
    let shop = app.storage().get_shop(ws).await.unwrap().unwrap();
    assert!(shop.last_webhook_at_ms.is_some());
}

/// WooCommerce signs only the body, so a recorded `product.deleted` can be sent again under a
/// new delivery id, or a body naming any product can be signed by anyone who once saw the
/// secret. The connector asks the shop before acting: a product the shop still has stays.
#[tokio::test]
async fn a_signed_product_deleted_for_a_product_the_shop_still_has_changes_nothing() {
    let app = TestApp::spawn().await;
    let s = crate::catalog::launched(&app).await;
    let (url, secret) = app.shop_webhook(s.ws).await;
    let rows = app
        .storage()
        .catalog_page(s.ws, None, 100_000, false)
        .await
        .unwrap();
    let live = crate::catalog::items(&app, s.ws, s.marketplace).await;
    let row = rows
        .iter()
        .find(|r| {
            live.iter()
                .any(|i| i.sku == r.sku && i.state == domain::ItemState::Live)
        })
        .unwrap();
    let connect_before = app.sandbox.connect_products("demo-company").len();
    let states = |items: Vec<storage::ChannelItem>| {
        items
            .into_iter()
            .map(|i| (i.sku, i.state))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let before = [
        states(crate::catalog::items(&app, s.ws, s.connect).await),
        states(crate::catalog::items(&app, s.ws, s.marketplace).await),
    ];
    let catalog_calls = || {
        [
            "connect.products.delete",
            "connect.products.post",
            "mmp.of01",
            "mmp.of24",
        ]
        .map(|c| app.sandbox.call_count(c))
    };
    let calls_before = catalog_calls();

    let body = format!(r#"{{"id":{}}}"#, row.shop_product_id);
    for delivery_id in ["replayed-1", "replayed-2"] {
        let response = delivery_of("product.deleted", &url, &secret, &body, delivery_id)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    app.settle().await;

    assert_eq!(
        app.sandbox.connect_products("demo-company").len(),
        connect_before,
        "Mirakl Connect still has every product"
    );
    let after = [
        states(crate::catalog::items(&app, s.ws, s.connect).await),
        states(crate::catalog::items(&app, s.ws, s.marketplace).await),
    ];
    assert_eq!(after, before, "no item changed state on any channel");
    assert_eq!(catalog_calls(), calls_before, "nothing was sent to Mirakl");
    let still = app
        .storage()
        .catalog_items_by_product(s.ws, row.shop_product_id)
        .await
        .unwrap();
    assert!(
        still.iter().all(|r| r.deleted_at_ms.is_none()),
        "the product is still in the catalog"
    );
    // The seller still sees it on the Products page, live.
    let products = s.v.get(&app.url(&format!("/products?q={}", row.sku))).await;
    products.expect_text(&row.sku);
    products.expect_text("Live");
}
