//! BigCommerce app authorization end to end against the sandbox's emulated BigCommerce: the
//! install code its control panel hands out, exchanged at its token URL for a token its API
//! accepts, and the `signed_payload_jwt` it sends to the load callback.

use sandbox::{
    BC_DEMO_CLIENT_ID, BC_DEMO_CLIENT_SECRET, BC_DEMO_STORE_HASH, Sandbox, SandboxConfig,
};
use shops::bigcommerce::app::{
    AppAuthError, InstallRequest, PayloadError, exchange_install_code, verify_signed_payload,
};
use time::OffsetDateTime;
use url::Url;

use crate::support::{closed_port_addr, http_client, shop_http};

/// The app's auth callback as registered: the exchange must name it byte for byte. Nothing
/// listens there, the browser never goes in these tests.
const AUTH_CALLBACK: &str = "http://127.0.0.1:9/bigcommerce/auth";

async fn start_sandbox() -> (Sandbox, Url) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let sandbox = Sandbox::new(SandboxConfig::new(base.clone()));
    let router = sandbox.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    sandbox
        .bc_set_app_callbacks(BC_DEMO_CLIENT_ID, Some(AUTH_CALLBACK), None, None)
        .unwrap();
    (sandbox, base)
}

fn token_url(base: &Url) -> Url {
    base.join("bc/login/oauth2/token").unwrap()
}

/// A fresh install of the demo app on the demo store, as the auth callback receives it: the
/// browser's query string, read back by [`InstallRequest::from_query`].
fn install_request(sandbox: &Sandbox) -> InstallRequest {
    let issued = sandbox
        .bc_install_code(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID)
        .unwrap();
    let mut callback = Url::parse(AUTH_CALLBACK).unwrap();
    callback
        .query_pairs_mut()
        .append_pair("code", &issued.code)
        .append_pair("scope", &issued.scope)
        .append_pair("context", &issued.context);
    InstallRequest::from_query(callback.query().unwrap()).unwrap()
}

async fn exchange(
    base: &Url,
    redirect_uri: &str,
    request: &InstallRequest,
) -> Result<shops::bigcommerce::app::InstalledApp, AppAuthError> {
    exchange_install_code(
        &shop_http(),
        &token_url(base),
        BC_DEMO_CLIENT_ID,
        BC_DEMO_CLIENT_SECRET,
        redirect_uri,
        request,
    )
    .await
}

#[tokio::test]
async fn an_install_code_exchanges_for_a_token_the_api_accepts() {
    let (sandbox, base) = start_sandbox().await;
    let request = install_request(&sandbox);
    assert_eq!(request.store_hash().unwrap().as_str(), BC_DEMO_STORE_HASH);

    let installed = exchange(&base, AUTH_CALLBACK, &request).await.unwrap();
    assert_eq!(installed.store_hash.as_str(), BC_DEMO_STORE_HASH);
    assert_eq!(installed.scope, request.scope);
    assert!(!installed.user_email.is_empty());
    assert!(!format!("{installed:?}").contains(&installed.access_token));
    assert!(sandbox.bc_app_installed(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID));

    let products = base
        .join(&format!(
            "bc/stores/{BC_DEMO_STORE_HASH}/v3/catalog/products?limit=1"
        ))
        .unwrap();
    let response = http_client()
        .get(products.clone())
        .header("X-Auth-Token", &installed.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let refused = http_client()
        .get(products)
        .header("X-Auth-Token", "not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn an_install_code_works_only_once() {
    let (sandbox, base) = start_sandbox().await;
    let request = install_request(&sandbox);
    exchange(&base, AUTH_CALLBACK, &request).await.unwrap();

    let again = exchange(&base, AUTH_CALLBACK, &request).await.unwrap_err();
    assert!(
        matches!(again, AppAuthError::Refused { status: 400, ref error, .. } if error == "invalid_grant"),
        "{again:?}"
    );
    assert!(!again.is_retryable());
    assert!(again.to_string().contains("code"), "{again}");
    assert!(again.seller_message().contains("code"), "{again:?}");
    for shown in [
        again.to_string(),
        format!("{again:?}"),
        again.seller_message(),
    ] {
        assert!(!shown.contains(&request.code));
        assert!(!shown.contains(BC_DEMO_CLIENT_SECRET));
    }
}

#[tokio::test]
async fn an_exchange_with_another_redirect_uri_is_refused() {
    let (sandbox, base) = start_sandbox().await;
    let request = install_request(&sandbox);
    // A trailing slash is already another address.
    let refused = exchange(&base, &format!("{AUTH_CALLBACK}/"), &request)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, AppAuthError::Refused { status: 400, ref description, .. } if description.contains("redirect_uri")),
        "{refused:?}"
    );
    assert!(!sandbox.bc_app_installed(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID));
}

#[tokio::test]
async fn an_exchange_with_the_wrong_client_secret_is_refused() {
    let (sandbox, base) = start_sandbox().await;
    let request = install_request(&sandbox);
    let refused = exchange_install_code(
        &shop_http(),
        &token_url(&base),
        BC_DEMO_CLIENT_ID,
        "not-the-secret",
        AUTH_CALLBACK,
        &request,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(refused, AppAuthError::Refused { status: 401, ref error, .. } if error == "invalid_client"),
        "{refused:?}"
    );
    assert!(refused.seller_message().contains("support"));
}

#[tokio::test]
async fn an_unreachable_token_url_is_retryable() {
    let (sandbox, _base) = start_sandbox().await;
    let request = install_request(&sandbox);
    let closed = Url::parse(&format!(
        "http://{}/bc/login/oauth2/token",
        closed_port_addr().await
    ))
    .unwrap();
    let error = exchange_install_code(
        &shop_http(),
        &closed,
        BC_DEMO_CLIENT_ID,
        BC_DEMO_CLIENT_SECRET,
        AUTH_CALLBACK,
        &request,
    )
    .await
    .unwrap_err();
    assert!(matches!(error, AppAuthError::Unreachable(_)), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn the_control_panels_signed_payload_verifies() {
    let (sandbox, _base) = start_sandbox().await;
    let jwt = sandbox
        .bc_signed_payload(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID)
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let payload =
        verify_signed_payload(&jwt, BC_DEMO_CLIENT_ID, BC_DEMO_CLIENT_SECRET, now).unwrap();
    assert_eq!(payload.store_hash.as_str(), BC_DEMO_STORE_HASH);
    assert!(!payload.user_email.is_empty());
    assert_eq!(payload.user_id, payload.owner_id);
    assert!(!payload.jti.is_empty());
    assert!((now - payload.issued_at).whole_seconds().abs() < 60);

    assert_eq!(
        verify_signed_payload(&jwt, "another-client", BC_DEMO_CLIENT_SECRET, now),
        Err(PayloadError::WrongAudience)
    );
    assert_eq!(
        verify_signed_payload(&jwt, BC_DEMO_CLIENT_ID, "another-secret", now),
        Err(PayloadError::BadSignature)
    );
}
