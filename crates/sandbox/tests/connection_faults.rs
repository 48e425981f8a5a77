//! The injected connection faults, over real sockets: a lost answer (the call is applied, then
//! the connection closes without a byte) and a timeout (not applied, no answer until the client
//! gives up), on the marketplaces, Mirakl Connect and the WooCommerce REST API alike.

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use sandbox::FaultRates;
use serde_json::{Value, json};
use support::woo::{KEY, SECRET, STORE, Shop};

const LOST: FaultRates = FaultRates {
    error_rate: 0.0,
    rate_limit_rate: 0.0,
    timeout_rate: 0.0,
    lost_answer_rate: 1.0,
};
const TIMEOUT: FaultRates = FaultRates {
    error_rate: 0.0,
    rate_limit_rate: 0.0,
    timeout_rate: 1.0,
    lost_answer_rate: 0.0,
};

/// A client that gives up after half a second.
fn impatient() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

/// A live offer on demo-marketplace's store 2001 and an order of it waiting for acceptance.
async fn marketplace_order(shop: &Shop) -> String {
    let gtin = shop.sandbox.marketplace_products("demo-marketplace")[0]["gtin"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = shop
        .http
        .post(format!("{}/mmp/demo-marketplace/api/offers", shop.base))
        .header("Authorization", support::SHOP_API_KEY)
        .json(&json!({ "offers": [{ "shop_sku": "A", "product_id": gtin, "product_id_type": "EAN", "price": "10", "quantity": "5", "state_code": "11" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    shop.sandbox.settle_imports();
    shop.sandbox
        .mmp_place_orders("demo-marketplace", 2001, 1, &[("A".into(), 1)])
        .unwrap()
        .remove(0)
}

async fn or21(
    client: &reqwest::Client,
    shop: &Shop,
    order_id: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .put(format!(
            "{}/mmp/demo-marketplace/api/orders/{order_id}/accept",
            shop.base
        ))
        .header("Authorization", support::SHOP_API_KEY)
        .json(&json!({ "order_lines": [{ "id": format!("{order_id}-1"), "accepted": true }] }))
        .send()
        .await
}

fn state(shop: &Shop, order_id: &str) -> Value {
    shop.sandbox
        .mmp_order("demo-marketplace", order_id)
        .unwrap()["order_state"]
        .clone()
}

#[tokio::test]
async fn a_lost_answer_applies_the_marketplace_call_and_closes_the_connection_without_a_word() {
    let shop = Shop::start().await;
    let order_id = marketplace_order(&shop).await;
    shop.sandbox.set_faults(LOST);
    let error = or21(&impatient(), &shop, &order_id).await.unwrap_err();
    assert!(!error.is_timeout(), "closed at once, not held: {error:?}");
    assert!(error.status().is_none(), "no status line came back");
    assert_eq!(
        state(&shop, &order_id),
        "SHIPPING",
        "the acceptance was applied"
    );
    assert_eq!(shop.sandbox.call_count("mmp.or21"), 1);

    // Retried blindly, the same acceptance now meets an order that moved on.
    shop.sandbox.set_faults(FaultRates::default());
    let retried = or21(&impatient(), &shop, &order_id).await.unwrap();
    assert_eq!(retried.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_timeout_leaves_the_marketplace_call_unapplied_and_unanswered() {
    let shop = Shop::start().await;
    let order_id = marketplace_order(&shop).await;
    shop.sandbox.set_faults(TIMEOUT);
    let error = or21(&impatient(), &shop, &order_id).await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(state(&shop, &order_id), "WAITING_ACCEPTANCE");

    shop.sandbox.set_faults(FaultRates::default());
    let served = or21(&impatient(), &shop, &order_id).await.unwrap();
    assert_eq!(served.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn connect_actions_suffer_the_same_faults() {
    let shop = Shop::start().await;
    let token: Value = shop
        .http
        .post(format!("{}/mas/oauth/token", shop.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("audience", support::CONNECT_COMPANY),
            ("client_id", support::CLIENT_ID),
            ("client_secret", support::CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let catalog = json!({ "products": [{ "id": "mug", "quantities": [{ "available_quantity": 3 }], "standard_prices": [{ "price": { "amount": 5, "currency": "EUR" } }] }] });
    let created = shop
        .http
        .post(format!("{}/connect/api/products", shop.base))
        .header("Authorization", &bearer)
        .json(&catalog)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::ACCEPTED);
    let ids = shop
        .sandbox
        .connect_place_orders(support::CONNECT_COMPANY, 2, &[("mug".into(), 1)])
        .unwrap();
    let accept = |id: &str| {
        impatient()
            .put(format!("{}/connect/api/v2/orders/{id}/accept", shop.base))
            .header("Authorization", &bearer)
            .json(&json!({ "order_lines": [{ "id": format!("{id}-1"), "accepted": true }] }))
            .send()
    };
    let status = |id: &str| shop.sandbox.connect_order(id).unwrap()["status"].clone();

    shop.sandbox.set_faults(LOST);
    assert!(accept(&ids[0]).await.is_err());
    assert_eq!(status(&ids[0]), "AWAITING_SHIPMENT", "applied");
    shop.sandbox.set_faults(TIMEOUT);
    assert!(accept(&ids[1]).await.unwrap_err().is_timeout());
    assert_eq!(status(&ids[1]), "AWAITING_ACCEPTANCE", "not applied");
}

#[tokio::test]
async fn woocommerce_order_creation_is_duplicated_by_a_blind_retry_after_a_lost_answer() {
    let shop = Shop::start().await;
    let product = shop.stocked_simple_product().await;
    let order =
        json!({ "set_paid": true, "line_items": [{ "product_id": product["id"], "quantity": 1 }] });
    let post = || {
        impatient()
            .request(Method::POST, shop.api("orders"))
            .basic_auth(KEY, Some(SECRET))
            .json(&order)
            .send()
    };
    let before = shop.sandbox.woo_order_ids(STORE).len();

    shop.sandbox.set_faults(TIMEOUT);
    assert!(post().await.unwrap_err().is_timeout());
    assert_eq!(
        shop.sandbox.woo_order_ids(STORE).len(),
        before,
        "not applied"
    );

    shop.sandbox.set_faults(LOST);
    let lost = post().await.unwrap_err();
    assert!(!lost.is_timeout() && lost.status().is_none(), "{lost:?}");
    assert_eq!(
        shop.sandbox.woo_order_ids(STORE).len(),
        before + 1,
        "applied"
    );

    shop.sandbox.set_faults(FaultRates::default());
    let retried = post().await.unwrap();
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert_eq!(
        shop.sandbox.woo_order_ids(STORE).len(),
        before + 2,
        "the same order twice: the connector must guard against it"
    );
    assert_eq!(shop.sandbox.call_count("woo.rest.orders"), 3);
}

#[tokio::test]
async fn connection_faults_are_set_over_the_control_api_and_checked() {
    let shop = Shop::start().await;
    let set = |body: Value| {
        shop.http
            .post(format!("{}/sandbox/api/faults", shop.base))
            .json(&body)
            .send()
    };
    let too_much = set(json!({ "timeout_rate": 0.6, "lost_answer_rate": 0.3, "error_rate": 0.2 }))
        .await
        .unwrap();
    assert_eq!(too_much.status(), StatusCode::BAD_REQUEST);
    let negative = set(json!({ "lost_answer_rate": -0.5 })).await.unwrap();
    assert_eq!(negative.status(), StatusCode::BAD_REQUEST);

    let half = set(json!({ "lost_answer_rate": 0.5 })).await.unwrap();
    assert_eq!(half.status(), StatusCode::OK);
    let state: Value = shop
        .http
        .get(format!("{}/sandbox/api/state", shop.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["faults"]["lost_answer_rate"], 0.5);
    assert_eq!(state["faults"]["timeout_rate"], 0.0);
    let page = shop
        .http
        .get(format!("{}/sandbox", shop.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("50% lose their answer"), "{page}");

    // Half the WooCommerce calls lose their answer, the same ones on every run.
    let mut outcomes = Vec::new();
    for _ in 0..20 {
        let answered = shop
            .call(Method::GET, "products?per_page=1")
            .send()
            .await
            .is_ok();
        outcomes.push(answered);
    }
    let lost = outcomes.iter().filter(|answered| !**answered).count();
    assert!((4..=16).contains(&lost), "{lost} of 20 lost");
}

#[tokio::test]
async fn a_planned_lost_answer_hits_only_the_next_call_it_names() {
    let shop = Shop::start().await;
    let product = shop.stocked_simple_product().await;
    let order =
        json!({ "set_paid": true, "line_items": [{ "product_id": product["id"], "quantity": 1 }] });
    let client = impatient();
    let before = shop.sandbox.woo_order_ids(STORE).len();
    shop.sandbox.lose_next_answer("POST woo.rest.orders");

    // A read of the same resource is not the call named.
    let listed = client
        .get(shop.api("orders"))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);

    let post = || {
        client
            .post(shop.api("orders"))
            .basic_auth(KEY, Some(SECRET))
            .json(&order)
            .send()
    };
    let lost = post().await.unwrap_err();
    assert!(!lost.is_timeout() && lost.status().is_none(), "{lost:?}");
    assert_eq!(
        shop.sandbox.woo_order_ids(STORE).len(),
        before + 1,
        "applied"
    );
    assert_eq!(
        post().await.unwrap().status(),
        StatusCode::CREATED,
        "used up"
    );

    // On a marketplace, by the operation's counter.
    let order_id = marketplace_order(&shop).await;
    shop.sandbox.lose_next_answer("mmp.or21");
    assert!(or21(&client, &shop, &order_id).await.is_err());
    assert_eq!(state(&shop, &order_id), "SHIPPING", "applied");
}
