//! The emulated BigCommerce store's rate limit and injected faults.

mod bc_support;

use bc_support::{HASH, Store};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn header(response: &reqwest::Response, name: &str) -> u64 {
    response.headers()[name].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_spent_quota_answers_429_with_the_rate_limit_headers() {
    let store = Store::start().await;
    store.sandbox.set_budget_scale(1.0);
    store.sandbox.bc_set_rate_quota(HASH, 3);
    for left in [2, 1, 0] {
        let response = store
            .call(Method::GET, "v3/catalog/brands")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-rate-limit-requests-left"), left);
        assert_eq!(header(&response, "x-rate-limit-requests-quota"), 3);
        assert_eq!(header(&response, "x-rate-limit-time-window-ms"), 30_000);
    }
    let refused = store.call(Method::GET, "v2/orders").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&refused, "x-rate-limit-requests-left"), 0);
    assert_eq!(header(&refused, "x-rate-limit-requests-quota"), 3);
    let reset = header(&refused, "x-rate-limit-time-reset-ms");
    assert!(reset > 0 && reset <= 30_000, "{reset}");
    assert_eq!(store.sandbox.call_count("bc.rate_limited"), 1);
}

#[tokio::test]
async fn with_budgets_off_the_headers_show_a_full_quota_and_nothing_is_refused() {
    let store = Store::start().await;
    store.sandbox.bc_set_rate_quota(HASH, 3);
    for _ in 0..10 {
        let response = store
            .call(Method::GET, "v3/catalog/brands")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-rate-limit-requests-quota"), 3);
        assert_eq!(header(&response, "x-rate-limit-requests-left"), 3);
        assert!(
            response
                .headers()
                .contains_key("x-rate-limit-time-reset-ms")
        );
    }
    assert_eq!(store.sandbox.call_count("bc.rate_limited"), 0);
}

#[tokio::test]
async fn a_lost_answer_still_creates_the_order() {
    let store = Store::start().await;
    let product = store.stocked_product().await;
    store.sandbox.lose_next_answer("POST bc.rest.orders");
    let lost = store
        .call(Method::POST, "v2/orders")
        .json(&json!({
            "billing_address": { "first_name": "Jane" },
            "products": [{ "product_id": product["id"], "quantity": 1 }],
        }))
        .send()
        .await;
    assert!(lost.is_err(), "the connection closes without an answer");
    let orders = store.get_json("v2/orders").await;
    assert_eq!(orders.as_array().unwrap().len(), 1, "the call was applied");
}

#[tokio::test]
async fn a_timed_out_call_is_not_applied() {
    let store = Store::start().await;
    let product = store.stocked_product().await;
    store.sandbox.set_timeout_hold(std::time::Duration::ZERO);
    store.sandbox.set_faults(sandbox::FaultRates {
        timeout_rate: 1.0,
        ..sandbox::FaultRates::default()
    });
    let timed_out = store
        .call(Method::POST, "v2/orders")
        .json(&json!({
            "billing_address": { "first_name": "Jane" },
            "products": [{ "product_id": product["id"], "quantity": 1 }],
        }))
        .send()
        .await;
    assert!(timed_out.is_err(), "no answer");
    store.sandbox.set_faults(sandbox::FaultRates::default());
    let orders = store.call(Method::GET, "v2/orders").send().await.unwrap();
    assert_eq!(
        orders.status(),
        StatusCode::NO_CONTENT,
        "the order was not created"
    );
    assert_eq!(store.sandbox.bc_order_ids(HASH), Vec::<i64>::new());
}
