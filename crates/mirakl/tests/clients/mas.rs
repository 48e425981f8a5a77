//! MAS: authorization URL, code exchange, refresh, revocation and how failures map.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mirakl::mas::{AuthorizationTarget, ClientSecret, MasClient, MasConfig, MasError};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::support::{Canned, CannedServer, closed_port_addr};

const CLIENT_ID: &str = "marketbridge-test";
const CLIENT_SECRET: &str = "s3cr3t-client-value";
const TOKEN_PATH: &str = "/mas/oauth/token";
const REVOKE_PATH: &str = "/mas/oauth/revoke";

fn client_for(base: &str) -> MasClient {
    MasClient::new(
        MasConfig {
            base_url: url::Url::parse(&format!("{base}/mas")).unwrap(),
            client_id: CLIENT_ID.to_owned(),
            client_secret: ClientSecret::new(CLIENT_SECRET),
            redirect_uri: url::Url::parse(
                "https://connector.example/oauth/mirakl/callback?tenant=7",
            )
            .unwrap(),
        },
        mirakl::http_client(),
    )
}

fn tokens() -> serde_json::Value {
    json!({
        "token_type": "Bearer",
        "access_token": "access-abc-123",
        "refresh_token": "refresh-def-456",
        "expires_in": 3599,
        "scope": "orders offers",
        "target_app": "marketplace-demo",
        "resource_owner": "shop-2001",
        "some_future_field": {"nested": true}
    })
}

async fn token_endpoint_answering(canned: Canned) -> (CannedServer, MasClient) {
    let server = CannedServer::routes([(TOKEN_PATH, canned)]).await;
    let client = client_for(&server.base);
    (server, client)
}

fn query(url: &url::Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

#[test]
fn authorization_url_carries_an_s256_challenge_of_the_verifier() {
    let client = client_for("http://127.0.0.1:9");
    let request = client.authorization_request(AuthorizationTarget::Marketplace);

    assert_eq!(request.url.path(), "/mas/authorize");
    let params = query(&request.url);
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], CLIENT_ID);
    assert_eq!(
        params["redirect_uri"],
        "https://connector.example/oauth/mirakl/callback?tenant=7"
    );
    assert_eq!(params["state"], request.state);
    assert_eq!(params["code_challenge_method"], "S256");
    let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(request.pkce_verifier.as_bytes()));
    assert_eq!(params["code_challenge"], expected);
    assert!(
        !params.contains_key("audience"),
        "a marketplace grant names no audience"
    );
    assert!(
        !request.url.as_str().contains(&request.pkce_verifier),
        "the verifier stays server-side"
    );
    assert!(!request.url.as_str().contains(CLIENT_SECRET));
}

#[test]
fn every_authorization_request_has_a_fresh_32_byte_state_and_verifier() {
    let client = client_for("http://127.0.0.1:9");
    let first = client.authorization_request(AuthorizationTarget::Marketplace);
    let second = client.authorization_request(AuthorizationTarget::Marketplace);

    assert_ne!(first.state, second.state);
    assert_ne!(first.pkce_verifier, second.pkce_verifier);
    assert_eq!(URL_SAFE_NO_PAD.decode(&first.state).unwrap().len(), 32);
}

#[test]
fn a_mirakl_connect_authorization_asks_for_the_connect_audience() {
    let client = client_for("http://127.0.0.1:9");
    let request = client.authorization_request(AuthorizationTarget::MiraklConnect);
    assert_eq!(query(&request.url)["audience"], "connect");
}

#[tokio::test]
async fn exchanging_a_code_sends_client_credentials_and_verifier_in_the_form_body() {
    let (server, client) = token_endpoint_answering(Canned::json(200, tokens())).await;

    let response = client
        .exchange_code("the-code", "the-verifier")
        .await
        .unwrap();

    let request = server.single_request_to(TOKEN_PATH);
    let form = request.form();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["code_verifier"], "the-verifier");
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert_eq!(form["redirect_uri"], client.redirect_uri().as_str());
    assert_eq!(
        request.header("authorization"),
        None,
        "client authentication goes in the body, not Basic"
    );
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("marketbridge/")
    );

    assert_eq!(response.access_token, "access-abc-123");
    assert_eq!(response.refresh_token.as_deref(), Some("refresh-def-456"));
    assert_eq!(response.expires_in, Some(Duration::from_secs(3599)));
    assert_eq!(response.scope.as_deref(), Some("orders offers"));
    assert_eq!(response.target_app.as_deref(), Some("marketplace-demo"));
    assert_eq!(response.resource_owner.as_deref(), Some("shop-2001"));
}

#[tokio::test]
async fn a_token_response_with_only_the_documented_fields_is_accepted() {
    let body = json!({"token_type": "bearer", "access_token": "a", "expires_in": 3599, "target_app": "", "resource_owner": ""});
    let (_server, client) = token_endpoint_answering(Canned::json(200, body)).await;

    let response = client.exchange_code("c", "v").await.unwrap();

    assert_eq!(response.refresh_token, None);
    assert_eq!(response.scope, None);
    assert_eq!(
        response.target_app, None,
        "an empty target_app reads as absent"
    );
    assert_eq!(response.resource_owner, None);
}

#[tokio::test]
async fn refreshing_sends_the_refresh_token_grant() {
    let (server, client) = token_endpoint_answering(Canned::json(200, tokens())).await;

    let response = client.refresh("old-refresh").await.unwrap();

    let form = server.single_request_to(TOKEN_PATH).form();
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "old-refresh");
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert_eq!(response.refresh_token.as_deref(), Some("refresh-def-456"));
}

#[tokio::test]
async fn a_dead_refresh_token_is_invalid_grant() {
    let body = json!({"error": "invalid_grant", "error_description": "refresh token already used"});
    let (_server, client) = token_endpoint_answering(Canned::json(400, body)).await;

    let error = client.refresh("used").await.unwrap_err();

    assert!(
        matches!(error, MasError::InvalidGrant(ref d) if d == "refresh token already used"),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_refused_client_secret_is_invalid_client() {
    let (_server, client) =
        token_endpoint_answering(Canned::json(401, json!({"error": "invalid_client"}))).await;

    let error = client.exchange_code("c", "v").await.unwrap_err();

    assert!(matches!(error, MasError::InvalidClient), "{error:?}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn other_oauth_errors_are_refused_with_their_code() {
    let body = json!({"error": "unsupported_grant_type", "error_description": "nope"});
    let (_server, client) = token_endpoint_answering(Canned::json(400, body)).await;

    let error = client.exchange_code("c", "v").await.unwrap_err();

    match error {
        MasError::Refused { error, description } => {
            assert_eq!(error, "unsupported_grant_type");
            assert_eq!(description.as_deref(), Some("nope"));
        }
        other => panic!("expected Refused, got {other:?}"),
    }
}

#[tokio::test]
async fn an_html_server_error_is_an_unexpected_retryable_response() {
    let (_server, client) = token_endpoint_answering(Canned::html(
        500,
        "<html><h1>Internal Server Error</h1></html>",
    ))
    .await;

    let error = client.exchange_code("c", "v").await.unwrap_err();

    match &error {
        MasError::UnexpectedResponse {
            status,
            body_excerpt,
        } => {
            assert_eq!(*status, 500);
            assert!(
                body_excerpt.contains("Internal Server Error"),
                "{body_excerpt}"
            );
        }
        other => panic!("expected UnexpectedResponse, got {other:?}"),
    }
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_malformed_success_body_is_reported_without_quoting_its_tokens() {
    // No token_type: oauth2 rejects it, and the excerpt must not leak the access token.
    let body = json!({"access_token": "leaky-access-token", "expires_in": 3599});
    let (_server, client) = token_endpoint_answering(Canned::json(200, body)).await;

    let error = client.exchange_code("c", "v").await.unwrap_err();

    assert!(
        matches!(error, MasError::UnexpectedResponse { status: 200, .. }),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains("leaky-access-token"));
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_retryable() {
    let addr = closed_port_addr().await;
    let client = client_for(&format!("http://{addr}"));

    let error = client.refresh("r").await.unwrap_err();

    assert!(matches!(error, MasError::Unreachable(_)), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let server = CannedServer::routes([
        (
            TOKEN_PATH,
            Canned::new(302, String::new()).header("location", "/elsewhere/token"),
        ),
        ("/elsewhere/token", Canned::json(200, tokens())),
    ])
    .await;
    let client = client_for(&server.base);

    let error = client.exchange_code("c", "v").await.unwrap_err();

    assert!(
        matches!(error, MasError::UnexpectedResponse { status: 302, .. }),
        "{error:?}"
    );
    assert!(
        server.requests_to("/elsewhere/token").is_empty(),
        "the code and secret went to the redirect target"
    );
}

#[tokio::test]
async fn debug_output_shows_no_token_or_secret() {
    let (_server, client) = token_endpoint_answering(Canned::json(200, tokens())).await;
    let response = client.exchange_code("c", "v").await.unwrap();

    let shown = format!(
        "{response:?} {client:?} {:?}",
        ClientSecret::new(CLIENT_SECRET)
    );

    assert!(!shown.contains("access-abc-123"), "{shown}");
    assert!(!shown.contains("refresh-def-456"), "{shown}");
    assert!(!shown.contains(CLIENT_SECRET), "{shown}");
    assert!(
        shown.contains("shop-2001"),
        "non-secret fields stay visible: {shown}"
    );
}

#[tokio::test]
async fn revoking_posts_the_token_and_client_credentials() {
    let server = CannedServer::routes([(REVOKE_PATH, Canned::new(200, String::new()))]).await;
    let client = client_for(&server.base);

    client.revoke("refresh-def-456").await.unwrap();

    let form = server.single_request_to(REVOKE_PATH).form();
    assert_eq!(form["token"], "refresh-def-456");
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["client_secret"], CLIENT_SECRET);
}

#[tokio::test]
async fn revoking_where_mas_has_no_revocation_endpoint_succeeds() {
    let server = CannedServer::routes([]).await;
    let client = client_for(&server.base);

    client.revoke("t").await.unwrap();

    assert_eq!(server.requests_to(REVOKE_PATH).len(), 1);
}

#[tokio::test]
async fn a_refused_revocation_maps_like_a_token_error() {
    let server = CannedServer::routes([(
        REVOKE_PATH,
        Canned::json(401, json!({"error": "invalid_client"})),
    )])
    .await;
    let client = client_for(&server.base);

    let error = client.revoke("t").await.unwrap_err();

    assert!(matches!(error, MasError::InvalidClient), "{error:?}");
}
