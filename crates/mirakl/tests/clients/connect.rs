//! The Mirakl Connect catalog against a fake Connect: request shapes and error mapping.

use std::time::Duration;

use axum::http::Method;
use mirakl::connect::{ConnectClient, ConnectError, FieldError};
use serde_json::json;
use url::Url;

use crate::support::{Canned, CannedServer, http_date_in};

const PRODUCTS_PATH: &str = "/connect/api/products";

async fn connect_answering(canned: Canned) -> (CannedServer, ConnectClient) {
    let server = CannedServer::routes([(PRODUCTS_PATH, canned)]).await;
    let base = Url::parse(&format!("{}/connect/api", server.base)).unwrap();
    (server, ConnectClient::new(base, mirakl::http_client()))
}

fn product(id: &str) -> serde_json::Value {
    json!({
        "id": id,
        "titles": [{"locale": "en_US", "value": "Blue mug"}],
        "quantities": [{"available_quantity": 12}],
        "standard_prices": [{"price": {"amount": 19.9, "currency": "EUR"}}]
    })
}

async fn upsert_error(canned: Canned) -> ConnectError {
    let (_server, connect) = connect_answering(canned).await;
    connect
        .upsert_products("connect-token", &[product("mug-1")])
        .await
        .unwrap_err()
}

#[tokio::test]
async fn upsert_posts_the_products_with_the_bearer_token() {
    let (server, connect) = connect_answering(Canned::new(202, String::new())).await;
    let products = [product("mug-1"), product("mug-2")];

    connect
        .upsert_products("connect-token", &products)
        .await
        .unwrap();

    let request = server.single_request_to(PRODUCTS_PATH);
    assert_eq!(request.method, Method::POST);
    assert_eq!(
        request.header("authorization"),
        Some("Bearer connect-token")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.json(), json!({"products": products}));
}

#[tokio::test]
async fn upsert_400_carries_connects_field_errors() {
    let error = upsert_error(Canned::json(
        400,
        json!({
            "code": "INVALID_INPUT",
            "message": "The request is invalid",
            "errors": [
                {"field": "products[0].gtins[0].value", "message": "must have 8, 12 or 13 digits"},
                {"message": "titles must not be empty", "extensions": {"minLength": 1}}
            ]
        }),
    ))
    .await;

    let ConnectError::Invalid {
        ref code,
        ref message,
        ref errors,
    } = error
    else {
        panic!("{error:?}");
    };
    assert_eq!(code, "INVALID_INPUT");
    assert_eq!(message, "The request is invalid");
    assert_eq!(
        errors,
        &[
            FieldError {
                field: "products[0].gtins[0].value".to_owned(),
                message: "must have 8, 12 or 13 digits".to_owned(),
            },
            FieldError {
                field: String::new(),
                message: "titles must not be empty".to_owned(),
            },
        ]
    );
    assert!(error.to_string().contains("products[0].gtins[0].value"));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_401_is_unauthorized_and_never_shows_the_token() {
    let error = upsert_error(Canned::json(
        401,
        json!({"code": "UNAUTHORIZED", "message": "Invalid token"}),
    ))
    .await;

    assert!(matches!(error, ConnectError::Unauthorized), "{error:?}");
    assert!(!error.is_retryable());
    assert!(!format!("{error} {error:?}").contains("connect-token"));
}

#[tokio::test]
async fn more_than_1000_products_are_refused_before_sending() {
    let (server, connect) = connect_answering(Canned::new(202, String::new())).await;
    let products: Vec<_> = (0..1001).map(|i| product(&format!("p-{i}"))).collect();
    let ids: Vec<String> = (0..1001).map(|i| format!("p-{i}")).collect();

    let upsert = connect
        .upsert_products("connect-token", &products)
        .await
        .unwrap_err();
    let delete = connect
        .delete_products("connect-token", &ids)
        .await
        .unwrap_err();

    assert!(matches!(upsert, ConnectError::TooMany), "{upsert:?}");
    assert!(matches!(delete, ConnectError::TooMany), "{delete:?}");
    assert!(!upsert.is_retryable());
    assert!(server.requests().is_empty(), "nothing was sent");

    connect
        .upsert_products("connect-token", &products[..1000])
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 1, "1000 products go in one call");
}

#[tokio::test]
async fn list_passes_the_page_token_and_reads_the_next_one() {
    let (server, connect) = connect_answering(Canned::json(
        200,
        json!({
            "data": [product("mug-1"), product("mug-2")],
            "next_page_token": "bmV4dA==",
            "previous_page_token": "cHJldg=="
        }),
    ))
    .await;

    let page = connect
        .list_products("connect-token", 2, Some("Zmlyc3Q="))
        .await
        .unwrap();

    assert_eq!(page.data, vec![product("mug-1"), product("mug-2")]);
    assert_eq!(page.next_page_token.as_deref(), Some("bmV4dA=="));
    let request = server.single_request_to(PRODUCTS_PATH);
    assert_eq!(request.method, Method::GET);
    assert_eq!(
        request.header("authorization"),
        Some("Bearer connect-token")
    );
    assert_eq!(request.query("limit").as_deref(), Some("2"));
    assert_eq!(request.query("page_token").as_deref(), Some("Zmlyc3Q="));
}

#[tokio::test]
async fn the_last_page_has_no_next_token() {
    let (server, connect) = connect_answering(Canned::json(
        200,
        json!({"data": [product("mug-9")], "previous_page_token": "cHJldg=="}),
    ))
    .await;

    let page = connect
        .list_products("connect-token", 5000, None)
        .await
        .unwrap();

    assert_eq!(page.data.len(), 1);
    assert_eq!(page.next_page_token, None);
    let request = server.single_request_to(PRODUCTS_PATH);
    assert_eq!(
        request.query("limit").as_deref(),
        Some("1000"),
        "Connect pages hold at most 1000"
    );
    assert_eq!(request.query("page_token"), None);
}

#[tokio::test]
async fn delete_sends_the_product_ids() {
    let (server, connect) = connect_answering(Canned::new(202, String::new())).await;

    connect
        .delete_products("connect-token", &["mug-1".to_owned(), "mug-2".to_owned()])
        .await
        .unwrap();

    let request = server.single_request_to(PRODUCTS_PATH);
    assert_eq!(request.method, Method::DELETE);
    assert_eq!(
        request.json(),
        json!({"products": [{"id": "mug-1"}, {"id": "mug-2"}]})
    );
}

#[tokio::test]
async fn a_429_carries_retry_after_in_seconds_or_as_a_date() {
    let seconds = upsert_error(Canned::new(429, String::new()).header("retry-after", "30")).await;
    assert!(
        matches!(seconds, ConnectError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(30)),
        "{seconds:?}"
    );
    assert!(seconds.is_retryable());

    let date =
        upsert_error(Canned::new(429, String::new()).header("retry-after", &http_date_in(90)))
            .await;
    let ConnectError::RateLimited {
        retry_after: Some(wait),
    } = date
    else {
        panic!("{date:?}");
    };
    assert!(
        (Duration::from_secs(70)..=Duration::from_secs(90)).contains(&wait),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_5xx_is_retryable_with_connects_message() {
    let error = upsert_error(Canned::json(
        503,
        json!({"code": "SERVICE_UNAVAILABLE", "message": "Try again later"}),
    ))
    .await;

    assert!(
        matches!(error, ConnectError::Server { status: 503, ref message } if message == "Try again later"),
        "{error:?}"
    );
    assert!(error.is_retryable());
}
