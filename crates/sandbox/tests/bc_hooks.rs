//! Hooks of the emulated BigCommerce store: the light payload with the hook's own headers,
//! retries on BigCommerce's schedule (compressed), and a hook deactivated after the window.

mod bc_support;

use bc_support::{HASH, Receiver, Store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn create_hook(store: &Store, scope: &str, destination: &str) -> Value {
    let (status, hook) = store
        .send_json(
            Method::POST,
            "v3/hooks",
            json!({
                "scope": scope,
                "destination": destination,
                "is_active": true,
                "headers": { "X-Marketbridge-Hook": "per-shop-secret" },
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{hook}");
    assert_eq!(hook["data"]["is_active"], true);
    hook["data"].clone()
}

async fn place_order(store: &Store) -> i64 {
    let product = store.stocked_product().await;
    let (status, order) = store
        .send_json(
            Method::POST,
            "v2/orders",
            json!({
                "billing_address": { "first_name": "Jane", "email": "jane@example.com" },
                "products": [{ "product_id": product["id"], "quantity": 1 }],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_order_is_delivered_as_a_light_payload_with_the_hooks_headers() {
    let store = Store::start().await;
    let receiver = Receiver::start(200).await;
    let hook = create_hook(
        &store,
        "store/order/created",
        &format!("{}/hooks", receiver.url),
    )
    .await;
    let listed = store.get_json("v3/hooks").await;
    assert_eq!(
        listed["data"][0]["headers"]["X-Marketbridge-Hook"],
        "per-shop-secret"
    );

    let order_id = place_order(&store).await;
    store.sandbox.settle_bc_hooks().await;

    let requests = receiver.requests();
    assert_eq!(
        requests.len(),
        1,
        "one event, one delivery: no other scope fires it"
    );
    let delivery = &requests[0];
    assert_eq!(delivery.method, "POST");
    assert_eq!(delivery.path, "/hooks");
    assert_eq!(delivery.headers["x-marketbridge-hook"], "per-shop-secret");
    let payload = delivery.json();
    assert_eq!(payload["scope"], "store/order/created");
    assert_eq!(payload["data"], json!({ "type": "order", "id": order_id }));
    assert_eq!(payload["producer"], format!("stores/{HASH}"));
    assert!(payload["store_id"].is_string());
    assert_eq!(payload["hash"].as_str().unwrap().len(), 40, "a SHA-1");
    assert!(payload["created_at"].as_i64().unwrap() > 1_700_000_000);
    let attempts = store.sandbox.bc_hook_attempts(HASH);
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].hook_id, hook["id"].as_i64().unwrap());
    assert!(attempts[0].succeeded());
}

#[tokio::test]
async fn wildcard_scopes_hear_stock_and_status_changes() {
    let store = Store::start().await;
    let receiver = Receiver::start(200).await;
    create_hook(&store, "store/product/*", &receiver.url).await;
    create_hook(&store, "store/order/statusUpdated", &receiver.url).await;
    let product = store.stocked_product().await;
    let id = product["id"].as_i64().unwrap();
    store.sandbox.bc_set_stock(HASH, id, None, 1);
    let order_id = place_order(&store).await;
    store
        .send_json(
            Method::PUT,
            &format!("v2/orders/{order_id}"),
            json!({ "status_id": 5 }),
        )
        .await;
    store.sandbox.settle_bc_hooks().await;

    let scopes: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| r.json()["scope"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        scopes.contains(&"store/product/inventory/updated".to_owned()),
        "{scopes:?}"
    );
    assert!(
        scopes.contains(&"store/product/inventory/order/updated".to_owned()),
        "{scopes:?}"
    );
    let payload = |scope: &str| {
        receiver
            .requests()
            .into_iter()
            .map(|r| r.json())
            .find(|p| p["scope"] == scope)
            .unwrap()
    };
    let set = payload("store/product/inventory/updated");
    assert_eq!(set["data"]["id"], id);
    assert_eq!(set["data"]["inventory"]["method"], "absolute");
    assert_eq!(set["data"]["inventory"]["value"], 1);
    // Deliveries run side by side, so they may arrive in any order, as BigCommerce's do.
    let mut moves: Vec<(String, i64)> = receiver
        .requests()
        .into_iter()
        .map(|r| r.json())
        .filter(|p| p["scope"] == "store/product/inventory/order/updated")
        .map(|p| {
            let inventory = &p["data"]["inventory"];
            (
                inventory["method"].as_str().unwrap().to_owned(),
                inventory["value"].as_i64().unwrap(),
            )
        })
        .collect();
    moves.sort();
    assert_eq!(
        moves,
        vec![("relative".to_owned(), -1), ("relative".to_owned(), 1)],
        "the order took one, its cancellation gave it back"
    );
    let status = receiver
        .requests()
        .into_iter()
        .map(|r| r.json())
        .find(|p| p["scope"] == "store/order/statusUpdated")
        .expect("the cancellation");
    assert_eq!(status["data"]["status"]["new_status_id"], 5);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_until_it_succeeds() {
    let store = Store::start().await;
    store.sandbox.bc_set_hook_retry_scale(0.0);
    let receiver = Receiver::start(200).await;
    receiver.first_answer(&[500, 503]);
    let hook = create_hook(&store, "store/order/created", &receiver.url).await;
    place_order(&store).await;
    store.sandbox.settle_bc_hooks().await;

    let attempts = store.sandbox.bc_hook_attempts(HASH);
    let numbered: Vec<(u32, Option<u16>)> =
        attempts.iter().map(|a| (a.attempt, a.status)).collect();
    assert_eq!(
        numbered,
        vec![(1, Some(500)), (2, Some(503)), (3, Some(200))]
    );
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        requests[0].body, requests[2].body,
        "a retry is the same payload"
    );
    let read = store.get_json(&format!("v3/hooks/{}", hook["id"])).await;
    assert_eq!(read["data"]["is_active"], true);
}

#[tokio::test]
async fn a_hook_failing_through_the_whole_window_is_deactivated() {
    let store = Store::start().await;
    store.sandbox.bc_set_hook_retry_scale(0.0);
    let receiver = Receiver::start(500).await;
    let hook = create_hook(&store, "store/order/created", &receiver.url).await;
    place_order(&store).await;
    store.sandbox.settle_bc_hooks().await;

    assert_eq!(
        receiver.requests().len(),
        12,
        "the first try and 11 retries"
    );
    let read = store.get_json(&format!("v3/hooks/{}", hook["id"])).await;
    assert_eq!(read["data"]["is_active"], false);

    // A deactivated hook hears nothing more until it is turned on again.
    place_order(&store).await;
    store.sandbox.settle_bc_hooks().await;
    assert_eq!(receiver.requests().len(), 12);
    receiver.answer(200);
    let (status, _) = store
        .send_json(
            Method::PUT,
            &format!("v3/hooks/{}", hook["id"]),
            json!({ "is_active": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    place_order(&store).await;
    store.sandbox.settle_bc_hooks().await;
    assert_eq!(receiver.requests().len(), 13);
}

#[tokio::test]
async fn a_deleted_hook_is_gone() {
    let store = Store::start().await;
    let receiver = Receiver::start(200).await;
    let hook = create_hook(&store, "store/order/created", &receiver.url).await;
    let deleted = store
        .call(Method::DELETE, &format!("v3/hooks/{}", hook["id"]))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    place_order(&store).await;
    store.sandbox.settle_bc_hooks().await;
    assert!(receiver.requests().is_empty());
    assert!(store.sandbox.bc_hooks(HASH).is_empty());
}

#[tokio::test]
async fn setting_the_stock_of_an_untracked_product_starts_tracking_it() {
    let store = Store::start().await;
    let receiver = Receiver::start(200).await;
    create_hook(&store, "store/product/*", &receiver.url).await;
    let page = store.get_json("v3/catalog/products?limit=250").await;
    let untracked = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["inventory_tracking"] == "none"
                && p["variants"].as_array().is_none_or(|v| v.len() <= 1)
        })
        .cloned()
        .expect("the demo store has products that track no stock");
    let id = untracked["id"].as_i64().unwrap();

    store.sandbox.bc_set_stock(HASH, id, None, 7);
    store.sandbox.settle_bc_hooks().await;

    let product = store.get_json(&format!("v3/catalog/products/{id}")).await;
    assert_eq!(product["data"]["inventory_tracking"], "product");
    assert_eq!(product["data"]["inventory_level"], 7);
    let set: Vec<Value> = receiver
        .requests()
        .into_iter()
        .map(|r| r.json())
        .filter(|p| p["scope"] == "store/product/inventory/updated")
        .collect();
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(set[0]["data"]["id"], id);
    assert_eq!(set[0]["data"]["inventory"]["value"], 7);
}
