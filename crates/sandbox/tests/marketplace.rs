//! The marketplace seller API: A01 and V01.

mod support;

use axum::http::StatusCode;
use support::{SHOP_API_KEY, TestSandbox};

#[tokio::test]
async fn a01_answers_the_raw_shop_api_key_with_the_store_account() {
    let sandbox = TestSandbox::start();
    let response = sandbox
        .a01("demo-marketplace", Some(SHOP_API_KEY), None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let account = response.json();
    assert_eq!(account["shop_id"], 2001);
    assert_eq!(account["shop_name"], "Demo Store");
    assert_eq!(account["shop_state"], "OPEN");
    assert_eq!(account["currency_iso_code"], "EUR");
    assert!(account["channels"].is_array());
    assert_eq!(
        account["contact_informations"]["email"],
        "seller@example.com"
    );
    // Both required by the published schema.
    let billing = &account["default_billing_information"];
    assert!(billing["id"].as_str().is_some_and(|id| id.len() == 36));
    assert_eq!(billing["registration_address"]["country_iso_code"], "FRA");
    assert_eq!(sandbox.sandbox.call_count("mmp.a01"), 1);

    let with_shop = sandbox
        .a01("demo-marketplace", Some(SHOP_API_KEY), Some("2001"))
        .await;
    assert_eq!(with_shop.status, StatusCode::OK);
}

#[tokio::test]
async fn a01_answers_a_mas_bearer_token_for_the_granted_store() {
    let sandbox = TestSandbox::start();
    let tokens = sandbox.authorized_tokens().await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let response = sandbox
        .a01("demo-marketplace", Some(&bearer), Some("2001"))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.json()["shop_name"], "Demo Store");
}

#[tokio::test]
async fn a01_refuses_a_shop_the_credential_does_not_open() {
    let sandbox = TestSandbox::start();
    let tokens = sandbox.authorized_tokens().await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    for credential in [SHOP_API_KEY, bearer.as_str()] {
        let response = sandbox
            .a01("demo-marketplace", Some(credential), Some("3001"))
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN);
        let body = response.json();
        assert_eq!(body["status"], 403);
        assert!(body["message"].as_str().unwrap().contains("3001"));
    }
    let not_a_number = sandbox
        .a01("demo-marketplace", Some(SHOP_API_KEY), Some("abc"))
        .await;
    assert_eq!(not_a_number.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a01_refuses_a_missing_or_bad_credential() {
    let sandbox = TestSandbox::start();
    let cases = [
        None,
        Some("not-a-key"),
        Some("Bearer not-a-token"),
        Some("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"),
    ];
    for credential in cases {
        let response = sandbox.a01("demo-marketplace", credential, None).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{credential:?}");
        let body = response.json();
        assert_eq!(body["status"], 401);
        assert!(body["message"].is_string());
    }
    // The demo key belongs to store 2001 on demo-marketplace only.
    let other_instance = sandbox
        .a01("second-marketplace", Some(SHOP_API_KEY), None)
        .await;
    assert_eq!(other_instance.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_instance_is_not_found() {
    let sandbox = TestSandbox::start();
    let response = sandbox
        .a01("no-such-marketplace", Some(SHOP_API_KEY), None)
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.json()["status"], 404);
}

#[tokio::test]
async fn version_answers_on_known_instances() {
    let sandbox = TestSandbox::start();
    assert_eq!(
        sandbox
            .get("/mmp/demo-marketplace/api/version")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        sandbox.get("/mmp/nowhere/api/version").await.status,
        StatusCode::NOT_FOUND
    );
}
