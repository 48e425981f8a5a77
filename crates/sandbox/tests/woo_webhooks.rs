//! Webhooks of the emulated store: the ping on creation, signed deliveries for REST and
//! control-API changes, and a dead endpoint that gets the webhook disabled.

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::woo::{Receiver, Shop};

const SECRET: &str = "whsec-test-secret";

async fn create_webhook(shop: &Shop, topic: &str, url: &str) -> i64 {
    let (status, webhook) = shop
        .send_json(
            Method::POST,
            "webhooks",
            json!({ "name": "Marketbridge", "topic": topic, "delivery_url": url, "secret": SECRET }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    assert_eq!(webhook["status"], "active");
    assert!(
        webhook.get("secret").is_none(),
        "REST never shows the secret"
    );
    webhook["id"].as_i64().unwrap()
}

#[tokio::test]
async fn creating_a_webhook_pings_its_url_unsigned() {
    let shop = Shop::start().await;
    let receiver = Receiver::start(200).await;
    let id = create_webhook(&shop, "product.updated", &format!("{}/hooks", receiver.url)).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].body.as_ref(),
        format!("webhook_id={id}").as_bytes()
    );
    assert_eq!(
        requests[0].headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert!(!requests[0].headers.contains_key("x-wc-webhook-signature"));

    // Core's REST controller keeps the webhook whatever the ping gets back.
    let failing = Receiver::start(500).await;
    create_webhook(&shop, "order.created", &failing.url).await;
    assert_eq!(failing.requests().len(), 1);
    assert_eq!(shop.sandbox.woo_webhooks("demo-shop").len(), 2);

    let (status, error) = shop
        .send_json(
            Method::POST,
            "webhooks",
            json!({ "topic": "product.sold", "delivery_url": receiver.url }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "woocommerce_rest_webhook_invalid_topic");
}

#[tokio::test]
async fn a_price_change_is_delivered_signed_with_the_product_as_body() {
    let shop = Shop::start().await;
    let receiver = Receiver::start(200).await;
    let webhook_id = create_webhook(&shop, "product.updated", &receiver.url).await;
    let product = shop.stocked_simple_product().await;
    let id = product["id"].as_i64().unwrap();

    shop.sandbox
        .woo_set_price("demo-shop", id, "42.00", Some("39.90"));
    shop.sandbox.settle_webhooks().await;

    let deliveries: Vec<_> = receiver.requests().into_iter().skip(1).collect();
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&delivery.body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(
        delivery.headers["x-wc-webhook-signature"],
        expected.as_str()
    );
    assert_eq!(delivery.headers["x-wc-webhook-topic"], "product.updated");
    assert_eq!(delivery.headers["x-wc-webhook-resource"], "product");
    assert_eq!(delivery.headers["x-wc-webhook-event"], "updated");
    assert_eq!(
        delivery.headers["x-wc-webhook-id"],
        webhook_id.to_string().as_str()
    );
    assert_eq!(
        delivery.headers["x-wc-webhook-source"],
        format!("{}/", shop.store_url).as_str()
    );
    assert!(
        delivery.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("WooCommerce/")
    );
    assert!(!delivery.headers["x-wc-webhook-delivery-id"].is_empty());
    let body: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(
        body,
        shop.get_json(&format!("products/{id}")).await,
        "the body is what GET answers"
    );
    assert_eq!(body["regular_price"], "42.00");
    assert_eq!(body["sale_price"], "39.90");

    let log = shop.sandbox.webhook_log("demo-shop");
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].resource_id, log[0].status), (id, Some(200)));
}

#[tokio::test]
async fn an_order_fires_order_created_and_product_updated_for_the_stock_it_takes() {
    let shop = Shop::start().await;
    let receiver = Receiver::start(200).await;
    create_webhook(&shop, "order.created", &receiver.url).await;
    create_webhook(&shop, "product.updated", &receiver.url).await;
    let variable = shop.get_json("products?type=variable&per_page=1").await;
    let variation_id = variable[0]["variations"][0].as_i64().unwrap();

    let order = shop
        .sandbox
        .woo_place_order(
            "demo-shop",
            &json!({ "line_items": [{ "variation_id": variation_id, "quantity": 1 }] }),
        )
        .unwrap();
    shop.sandbox.settle_webhooks().await;

    let topics: Vec<(String, i64)> = shop
        .sandbox
        .webhook_log("demo-shop")
        .into_iter()
        .map(|attempt| (attempt.topic, attempt.resource_id))
        .collect();
    assert_eq!(
        topics,
        [
            ("order.created".to_owned(), order),
            ("product.updated".to_owned(), variation_id)
        ]
    );
    let product_delivery = receiver
        .requests()
        .into_iter()
        .find(|r| {
            r.headers
                .get("x-wc-webhook-topic")
                .is_some_and(|t| t == "product.updated")
        })
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&product_delivery.body).unwrap();
    assert_eq!(body["type"], "variation", "core sends the variation itself");
    assert_eq!(body["parent_id"], variable[0]["id"]);
}

#[tokio::test]
async fn more_than_five_failed_deliveries_in_a_row_disable_the_webhook() {
    let shop = Shop::start().await;
    let endpoint = Receiver::start(200).await;
    let webhook_id = create_webhook(&shop, "product.updated", &endpoint.url).await;
    endpoint.answer(500);
    let product = shop.stocked_simple_product().await;
    let id = product["id"].as_i64().unwrap();

    for (round, quantity) in (1..=6).zip(10..) {
        shop.sandbox.woo_set_stock("demo-shop", id, quantity);
        shop.sandbox.settle_webhooks().await;
        let webhook = shop
            .sandbox
            .woo_webhooks("demo-shop")
            .into_iter()
            .find(|w| w.id == webhook_id)
            .unwrap();
        assert_eq!(webhook.failure_count, round);
        let expected = if round <= 5 { "active" } else { "disabled" };
        assert_eq!(webhook.status, expected, "after {round} failures");
    }
    let deliveries = endpoint.requests().len();
    shop.sandbox.woo_set_stock("demo-shop", id, 99);
    shop.sandbox.settle_webhooks().await;
    assert_eq!(
        endpoint.requests().len(),
        deliveries,
        "a disabled webhook sends nothing"
    );

    let listed: Vec<serde_json::Value> = shop
        .http
        .get(format!(
            "{}/sandbox/api/woo/stores/demo-shop/webhooks",
            shop.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["status"], "disabled");
    assert_eq!(listed[0]["failure_count"], 6);
    assert!(listed[0].get("secret").is_none());

    // Reactivated, one success resets the count.
    endpoint.answer(200);
    let (status, _) = shop
        .send_json(
            Method::PUT,
            &format!("webhooks/{webhook_id}"),
            json!({ "status": "active" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    shop.sandbox.woo_set_stock("demo-shop", id, 7);
    shop.sandbox.settle_webhooks().await;
    assert_eq!(shop.sandbox.woo_webhooks("demo-shop")[0].failure_count, 0);
}

#[tokio::test]
async fn a_connection_refused_counts_as_a_failure() {
    let shop = Shop::start().await;
    let dead_url = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    // Nothing listens there any more (the ping failed too; core keeps the webhook anyway).
    let webhook_id = create_webhook(&shop, "product.updated", &dead_url).await;
    shop.sandbox.woo_set_stock("demo-shop", 10, 5);
    shop.sandbox.settle_webhooks().await;
    let log = shop.sandbox.webhook_log("demo-shop");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, None);
    assert!(log[0].error.is_some());
    assert_eq!(shop.sandbox.woo_webhooks("demo-shop")[0].id, webhook_id);
    assert_eq!(shop.sandbox.woo_webhooks("demo-shop")[0].failure_count, 1);
}
