//! A01 against a fake instance: request shape and error mapping.

use std::time::Duration;

use domain::{InstanceUrl, StoreId};
use mirakl::marketplace::{Credential, MarketplaceClient, MarketplaceError, ShopAccount};
use serde_json::json;

use crate::support::{Canned, CannedServer, closed_port_addr};

const ACCOUNT_PATH: &str = "/mmp/demo/api/account";

async fn instance_answering(canned: Canned) -> (CannedServer, InstanceUrl) {
    let server = CannedServer::routes([(ACCOUNT_PATH, canned)]).await;
    let instance = InstanceUrl::parse(&format!("{}/mmp/demo", server.base)).unwrap();
    (server, instance)
}

async fn account_error(canned: Canned) -> MarketplaceError {
    let (_server, instance) = instance_answering(canned).await;
    MarketplaceClient::new(mirakl::http_client())
        .account(&instance, Credential::Bearer("t"), None)
        .await
        .unwrap_err()
}

fn account_body() -> serde_json::Value {
    json!({
        "shop_id": 2001,
        "shop_name": "Demo Store",
        "shop_state": "OPEN",
        "currency_iso_code": "EUR",
        "channels": [{"code": "FR", "label": "France"}],
        "offers_count": 12,
        "contact_informations": {"email": "seller@example.com"}
    })
}

#[tokio::test]
async fn a01_reads_the_shop_and_ignores_unknown_fields() {
    let (server, instance) = instance_answering(Canned::json(200, account_body())).await;
    let client = MarketplaceClient::new(mirakl::http_client());

    let account = client
        .account(&instance, Credential::Bearer("mas-token"), None)
        .await
        .unwrap();

    assert_eq!(
        account,
        ShopAccount {
            shop_id: 2001,
            shop_name: "Demo Store".to_owned(),
            shop_state: Some("OPEN".to_owned()),
            currency_iso_code: Some("EUR".to_owned()),
        }
    );
    let request = server.single_request_to(ACCOUNT_PATH);
    assert_eq!(request.header("authorization"), Some("Bearer mas-token"));
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.raw_query, "", "no shop_id means the default shop");
}

#[tokio::test]
async fn a01_selects_the_store_and_sends_a_shop_key_raw() {
    let (server, instance) = instance_answering(Canned::json(
        200,
        json!({"shop_id": 2002, "shop_name": "Second"}),
    ))
    .await;
    let client = MarketplaceClient::new(mirakl::http_client());

    let account = client
        .account(
            &instance,
            Credential::ShopApiKey("0f6e-key"),
            StoreId::new(2002),
        )
        .await
        .unwrap();

    assert_eq!(account.shop_id, 2002);
    assert_eq!(account.shop_state, None);
    let request = server.single_request_to(ACCOUNT_PATH);
    assert_eq!(request.query("shop_id").as_deref(), Some("2002"));
    assert_eq!(request.header("authorization"), Some("0f6e-key"));
}

#[tokio::test]
async fn a01_401_is_unauthorized() {
    let error = account_error(Canned::json(
        401,
        json!({"message": "Unauthorized", "status": 401}),
    ))
    .await;
    assert!(matches!(error, MarketplaceError::Unauthorized), "{error:?}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a01_403_is_forbidden_with_mirakls_message() {
    let body = json!({"message": "You are not allowed to access shop 9999", "status": 403});
    let error = account_error(Canned::json(403, body)).await;
    assert!(
        matches!(error, MarketplaceError::Forbidden(ref m) if m == "You are not allowed to access shop 9999"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a01_404_is_not_found() {
    let error = account_error(Canned::json(
        404,
        json!({"message": "Not Found", "status": 404}),
    ))
    .await;
    assert!(
        matches!(error, MarketplaceError::NotFound(ref m) if m == "Not Found"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a01_429_carries_retry_after() {
    let error = account_error(
        Canned::json(429, json!({"message": "Too Many Requests", "status": 429}))
            .header("retry-after", "30"),
    )
    .await;
    assert!(
        matches!(error, MarketplaceError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(30)),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a01_429_without_retry_after_still_rate_limits() {
    let error = account_error(Canned::new(429, String::new())).await;
    assert!(
        matches!(error, MarketplaceError::RateLimited { retry_after: None }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a01_5xx_is_a_retryable_server_error_with_mirakls_message() {
    let error = account_error(Canned::json(
        503,
        json!({"message": "Maintenance in progress", "status": 503}),
    ))
    .await;
    assert!(
        matches!(error, MarketplaceError::Server { status: 503, ref message } if message == "Maintenance in progress"),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a01_html_error_page_is_quoted() {
    let error = account_error(Canned::html(502, "<h1>Bad gateway</h1>")).await;
    assert!(
        matches!(error, MarketplaceError::Server { status: 502, ref message } if message.contains("Bad gateway")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a01_success_that_is_not_a_shop_is_a_decode_error() {
    let error = account_error(Canned::html(200, "<html>login</html>")).await;
    assert!(matches!(error, MarketplaceError::Decode(_)), "{error:?}");
}

#[tokio::test]
async fn an_unreachable_instance_is_retryable() {
    let addr = closed_port_addr().await;
    let instance = InstanceUrl::parse(&format!("http://{addr}/mmp/demo")).unwrap();

    let error = MarketplaceClient::new(mirakl::http_client())
        .account(&instance, Credential::Bearer("t"), None)
        .await
        .unwrap_err();

    assert!(
        matches!(error, MarketplaceError::Unreachable(_)),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn errors_never_show_the_credential() {
    let (_server, instance) =
        instance_answering(Canned::json(401, json!({"message": "Unauthorized"}))).await;
    let error = MarketplaceClient::new(mirakl::http_client())
        .account(&instance, Credential::ShopApiKey("very-secret-key"), None)
        .await
        .unwrap_err();
    assert!(!format!("{error} {error:?}").contains("very-secret-key"));
}
