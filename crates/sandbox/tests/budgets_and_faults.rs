//! Mirakl's call budgets (429 + `Retry-After` past the documented call frequency) and the
//! injected faults resilience tests switch on.

mod support;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode, header};
use sandbox::Faults;
use serde_json::json;
use support::{SHOP_API_KEY, TestSandbox};

const FILE: &str = "sku;product-id;product-id-type;price;quantity;state\n";

#[tokio::test]
async fn a_second_of01_within_the_minute_gets_429_with_retry_after_and_mirakl_body() {
    let sandbox = TestSandbox::start_with(|config| config.budget_scale = 1.0);
    let first = sandbox.of01("NORMAL", FILE).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);

    let second = sandbox.of01("NORMAL", FILE).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = second.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((59..=60).contains(&retry_after), "{retry_after}");
    let body = second.json();
    assert_eq!(body["status"], 429);
    assert!(body["message"].as_str().unwrap().contains("OF01"), "{body}");
    assert_eq!(sandbox.sandbox.call_count("mmp.of01"), 2);

    // OF24 has a budget of its own, and another shop has its own.
    let of24 = sandbox
        .json(
            Method::POST,
            "/mmp/demo-marketplace/api/offers",
            Some(SHOP_API_KEY),
            Some(&json!({ "offers": [{ "shop_sku": "A", "price": 1, "state_code": "11" }] })),
        )
        .await;
    assert_eq!(of24.status, StatusCode::CREATED, "{}", of24.body);
    sandbox
        .sandbox
        .add_marketplace_shop("demo-marketplace", 2002, "Other", "other-key")
        .unwrap();
    let other_shop = sandbox
        .upload(
            "/mmp/demo-marketplace/api/offers/imports",
            "other-key",
            &[("import_mode", "NORMAL")],
            Some(FILE),
        )
        .await;
    assert_eq!(other_shop.status, StatusCode::CREATED);

    // A01 is not budgeted.
    for _ in 0..3 {
        let a01 = sandbox
            .a01("demo-marketplace", Some(SHOP_API_KEY), None)
            .await;
        assert_eq!(a01.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn every_call_refused_for_its_budget_is_counted_by_operation() {
    let sandbox = TestSandbox::start_with(|config| config.budget_scale = 1.0);
    let exceeded = |name: &str| sandbox.sandbox.call_count(name);
    assert_eq!(
        sandbox.of01("NORMAL", FILE).await.status,
        StatusCode::CREATED
    );
    assert_eq!(exceeded("budget.exceeded"), 0, "a call within budget");

    let second = sandbox.of01("NORMAL", FILE).await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(exceeded("budget.exceeded"), 1);
    assert_eq!(exceeded("budget.exceeded.mmp.of01"), 1);

    // Connect calls are counted the same way, under their own operation.
    let bearer = sandbox.connect_bearer().await;
    let get = || sandbox.json(Method::GET, "/connect/api/products", Some(&bearer), None);
    assert_eq!(get().await.status, StatusCode::OK);
    assert_eq!(get().await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(exceeded("budget.exceeded"), 2);
    assert_eq!(exceeded("budget.exceeded.connect.products.get"), 1);
    assert_eq!(exceeded("budget.exceeded.mmp.of01"), 1);

    // An injected 429 is a fault, not a spent budget.
    sandbox.sandbox.set_faults(Faults {
        error_rate: 0.0,
        rate_limit_rate: 1.0,
    });
    let faulted = sandbox.mmp_get("/offers").await;
    assert_eq!(faulted.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(exceeded("budget.exceeded"), 2);
}

#[tokio::test]
async fn with_budgets_off_repeated_calls_are_all_served() {
    let sandbox = TestSandbox::start();
    for _ in 0..5 {
        assert_eq!(
            sandbox.of01("NORMAL", FILE).await.status,
            StatusCode::CREATED
        );
        assert_eq!(sandbox.mmp_get("/offers").await.status, StatusCode::OK);
    }
    let bearer = sandbox.connect_bearer().await;
    for _ in 0..5 {
        let response = sandbox
            .json(Method::GET, "/connect/api/products", Some(&bearer), None)
            .await;
        assert_eq!(response.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn connect_budgets_answer_with_connects_error_body() {
    let sandbox = TestSandbox::start();
    sandbox.sandbox.set_budget_scale(1.0);
    let bearer = sandbox.connect_bearer().await;
    let get = || sandbox.json(Method::GET, "/connect/api/products", Some(&bearer), None);
    assert_eq!(get().await.status, StatusCode::OK);
    let refused = get().await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(refused.json()["code"], "TOO_MANY_REQUEST");

    sandbox.sandbox.set_budget_scale(0.0);
    assert_eq!(get().await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_scaled_budget_lets_the_next_window_through() {
    let sandbox = TestSandbox::start();
    let set = sandbox
        .json(
            Method::POST,
            "/sandbox/api/budgets",
            None,
            Some(&json!({ "scale": 0.001 })),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(
        sandbox.get("/sandbox/api/state").await.json()["budget_scale"],
        0.001
    );

    assert_eq!(
        sandbox.of01("NORMAL", FILE).await.status,
        StatusCode::CREATED
    );
    let refused = sandbox.of01("NORMAL", FILE).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        refused.headers[header::RETRY_AFTER],
        "1",
        "whole seconds, never 0"
    );

    // One minute at this scale is 60 ms: a retry soon gets through.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let retried = sandbox.of01("NORMAL", FILE).await;
        if retried.status == StatusCode::CREATED {
            break;
        }
        assert_eq!(retried.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(Instant::now() < deadline, "the budget never came back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let negative = sandbox
        .json(
            Method::POST,
            "/sandbox/api/budgets",
            None,
            Some(&json!({ "scale": -1 })),
        )
        .await;
    assert_eq!(negative.status, StatusCode::BAD_REQUEST);
}

/// The statuses of `calls` OF21 calls on a fresh sandbox with these faults.
async fn of21_statuses(faults: Faults, calls: usize) -> Vec<(u16, Option<String>)> {
    let sandbox = TestSandbox::start();
    sandbox.sandbox.set_faults(faults);
    let mut statuses = Vec::with_capacity(calls);
    for _ in 0..calls {
        let response = sandbox.mmp_get("/offers").await;
        if response.status != StatusCode::OK {
            assert_eq!(response.json()["status"], response.status.as_u16());
        }
        let retry_after = response
            .headers
            .get(header::RETRY_AFTER)
            .map(|value| value.to_str().unwrap().to_owned());
        statuses.push((response.status.as_u16(), retry_after));
    }
    statuses
}

#[tokio::test]
async fn faults_answer_500_and_429_at_the_configured_rates_deterministically() {
    let faults = Faults {
        error_rate: 0.2,
        rate_limit_rate: 0.1,
    };
    let statuses = of21_statuses(faults, 400).await;
    let count = |status: u16| statuses.iter().filter(|(s, _)| *s == status).count();
    let (errors, limited, served) = (count(500), count(429), count(200));
    assert_eq!(errors + limited + served, 400);
    assert!((50..=110).contains(&errors), "{errors} answered 500 of 400");
    assert!(
        (20..=60).contains(&limited),
        "{limited} answered 429 of 400"
    );
    assert!(
        statuses
            .iter()
            .filter(|(status, _)| *status == 429)
            .all(|(_, retry_after)| retry_after.as_deref() == Some("1"))
    );
    assert_eq!(
        of21_statuses(faults, 400).await,
        statuses,
        "the same settings fail the same calls"
    );
    assert!(
        of21_statuses(Faults::default(), 50)
            .await
            .iter()
            .all(|(status, _)| *status == 200)
    );
}

#[tokio::test]
async fn faults_hit_catalog_calls_only_and_are_set_over_the_control_api() {
    let sandbox = TestSandbox::start();
    let all_errors = sandbox
        .json(
            Method::POST,
            "/sandbox/api/faults",
            None,
            Some(&json!({ "error_rate": 1.0 })),
        )
        .await;
    assert_eq!(all_errors.status, StatusCode::OK, "{}", all_errors.body);
    assert_eq!(
        sandbox.get("/sandbox/api/state").await.json()["faults"]["error_rate"],
        1.0
    );

    assert_eq!(
        sandbox.mmp_get("/offers").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        sandbox.of01("NORMAL", FILE).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let bearer = sandbox.connect_bearer().await;
    let connect = sandbox
        .json(Method::GET, "/connect/api/products", Some(&bearer), None)
        .await;
    assert_eq!(connect.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(connect.json()["code"], "UNEXPECTED");
    // Configuration reads and the account are not catalog calls.
    assert_eq!(
        sandbox.mmp_get("/offers/states").await.status,
        StatusCode::OK
    );
    assert_eq!(
        sandbox
            .a01("demo-marketplace", Some(SHOP_API_KEY), None)
            .await
            .status,
        StatusCode::OK
    );

    let too_much = sandbox
        .json(
            Method::POST,
            "/sandbox/api/faults",
            None,
            Some(&json!({ "error_rate": 0.8, "rate_limit_rate": 0.5 })),
        )
        .await;
    assert_eq!(too_much.status, StatusCode::BAD_REQUEST);

    let off = sandbox
        .json(Method::POST, "/sandbox/api/faults", None, Some(&json!({})))
        .await;
    assert_eq!(off.status, StatusCode::OK);
    assert_eq!(sandbox.mmp_get("/offers").await.status, StatusCode::OK);
}
