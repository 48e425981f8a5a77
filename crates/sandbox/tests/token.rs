//! The client's side of MAS: `/mas/oauth/token` and `/mas/oauth/revoke`.

mod support;

use std::time::Duration;

use axum::http::{StatusCode, header};
use support::{CALLBACK, CLIENT_ID, CLIENT_SECRET, TestSandbox, basic, form_request, jwt_claims};

fn bearer(tokens: &serde_json::Value) -> String {
    format!("Bearer {}", tokens["access_token"].as_str().unwrap())
}

fn refresh_token(tokens: &serde_json::Value) -> String {
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn wrong_pkce_verifier_is_invalid_grant() {
    let sandbox = TestSandbox::start();
    let (code, _verifier) = sandbox.authorized_code().await;
    let wrong = format!("another-verifier-{}", "y".repeat(40));
    let response = sandbox.exchange_code(&code, &wrong).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn a_missing_pkce_verifier_is_invalid_grant() {
    let sandbox = TestSandbox::start();
    let (code, _verifier) = sandbox.authorized_code().await;
    let response = sandbox
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn a_different_redirect_uri_is_invalid_grant() {
    let sandbox = TestSandbox::start();
    let (code, verifier) = sandbox.authorized_code().await;
    let response = sandbox
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            (
                "redirect_uri",
                "https://connector.test/oauth/mirakl/callback?tenant=8",
            ),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_the_tokens_it_issued() {
    let sandbox = TestSandbox::start();
    let (code, verifier) = sandbox.authorized_code().await;
    let first = sandbox.exchange_code(&code, &verifier).await;
    assert_eq!(first.status, StatusCode::OK);
    let tokens = first.json();
    let before = sandbox
        .a01("demo-marketplace", Some(&bearer(&tokens)), None)
        .await;
    assert_eq!(before.status, StatusCode::OK);

    let replay = sandbox.exchange_code(&code, &verifier).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(replay.json()["error"], "invalid_grant");

    let after = sandbox
        .a01("demo-marketplace", Some(&bearer(&tokens)), None)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    let refresh = sandbox.refresh(&refresh_token(&tokens)).await;
    assert_eq!(refresh.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    let sandbox = TestSandbox::start();
    let first = sandbox.authorized_tokens().await;

    let second = sandbox.refresh(&refresh_token(&first)).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.headers[header::CACHE_CONTROL], "no-store");
    let second = second.json();
    assert_ne!(refresh_token(&second), refresh_token(&first));
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(
        jwt_claims(second["access_token"].as_str().unwrap())["mirakl_shop_ids"],
        serde_json::json!([2001])
    );
    let third = sandbox.refresh(&refresh_token(&second)).await.json();

    // The first refresh token was already used: someone else has it.
    let replay = sandbox.refresh(&refresh_token(&first)).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(replay.json()["error"], "invalid_grant");

    let latest = sandbox.refresh(&refresh_token(&third)).await;
    assert_eq!(
        latest.json()["error"],
        "invalid_grant",
        "the whole family is revoked"
    );
    let account = sandbox
        .a01("demo-marketplace", Some(&bearer(&third)), None)
        .await;
    assert_eq!(account.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_expired_refresh_token_is_invalid_grant() {
    let sandbox = TestSandbox::start();
    sandbox
        .sandbox
        .set_token_lifetimes(Duration::from_secs(0), Duration::from_secs(0));
    let tokens = sandbox.authorized_tokens().await;
    assert_eq!(tokens["expires_in"], 0);
    let expired_access = sandbox
        .a01("demo-marketplace", Some(&bearer(&tokens)), None)
        .await;
    assert_eq!(expired_access.status, StatusCode::UNAUTHORIZED);
    let refresh = sandbox.refresh(&refresh_token(&tokens)).await;
    assert_eq!(refresh.status, StatusCode::BAD_REQUEST);
    assert_eq!(refresh.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn revoke_all_grants_makes_the_next_refresh_fail() {
    let sandbox = TestSandbox::start();
    let tokens = sandbox.authorized_tokens().await;
    sandbox.sandbox.revoke_all_grants(CLIENT_ID);
    let refresh = sandbox.refresh(&refresh_token(&tokens)).await;
    assert_eq!(refresh.status, StatusCode::BAD_REQUEST);
    assert_eq!(refresh.json()["error"], "invalid_grant");
    let account = sandbox
        .a01("demo-marketplace", Some(&bearer(&tokens)), None)
        .await;
    assert_eq!(account.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_client_authenticates_in_the_body_or_with_basic_but_not_both_disagreeing() {
    let sandbox = TestSandbox::start();
    let client_credentials = [("grant_type", "client_credentials")];

    let body = sandbox.token(&client_credentials).await;
    assert_eq!(body.status, StatusCode::OK, "{}", body.body);

    let mut request = form_request("/mas/oauth/token", &client_credentials, None);
    request.headers_mut().insert(
        header::AUTHORIZATION,
        basic(CLIENT_ID, CLIENT_SECRET).parse().unwrap(),
    );
    let with_basic = sandbox.send(request).await;
    assert_eq!(with_basic.status, StatusCode::OK, "{}", with_basic.body);

    let mut request = form_request(
        "/mas/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", "another-secret"),
        ],
        None,
    );
    request.headers_mut().insert(
        header::AUTHORIZATION,
        basic(CLIENT_ID, CLIENT_SECRET).parse().unwrap(),
    );
    let both = sandbox.send(request).await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    assert_eq!(both.json()["error"], "invalid_request");
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client_and_basic_is_challenged() {
    let sandbox = TestSandbox::start();
    let grant = [("grant_type", "client_credentials")];

    let mut request = form_request("/mas/oauth/token", &grant, None);
    request.headers_mut().insert(
        header::AUTHORIZATION,
        basic(CLIENT_ID, "wrong").parse().unwrap(),
    );
    let with_basic = sandbox.send(request).await;
    assert_eq!(with_basic.status, StatusCode::UNAUTHORIZED);
    assert_eq!(with_basic.json()["error"], "invalid_client");
    assert!(
        with_basic.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );

    let in_body = sandbox
        .send(form_request(
            "/mas/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", "wrong"),
            ],
            None,
        ))
        .await;
    assert_eq!(in_body.status, StatusCode::UNAUTHORIZED);
    assert_eq!(in_body.json()["error"], "invalid_client");
    assert!(in_body.headers.get(header::WWW_AUTHENTICATE).is_none());

    let anonymous = sandbox
        .send(form_request("/mas/oauth/token", &grant, None))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn client_credentials_gives_an_access_token_and_no_refresh_token() {
    let sandbox = TestSandbox::start();
    let response = sandbox
        .token(&[
            ("grant_type", "client_credentials"),
            ("audience", "demo-company"),
        ])
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let tokens = response.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens.get("refresh_token").is_none());
    assert_eq!(tokens["resource_owner"], "demo-company");
    let claims = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], CLIENT_ID);
    assert_eq!(claims["mirakl_company_id"], "demo-company");
}

#[tokio::test]
async fn unknown_grant_types_and_missing_parameters_are_refused() {
    let sandbox = TestSandbox::start();
    let unsupported = sandbox.token(&[("grant_type", "password")]).await;
    assert_eq!(unsupported.status, StatusCode::BAD_REQUEST);
    assert_eq!(unsupported.json()["error"], "unsupported_grant_type");

    let no_code = sandbox.token(&[("grant_type", "authorization_code")]).await;
    assert_eq!(no_code.json()["error"], "invalid_request");

    let unknown_code = sandbox
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", "never-issued"),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    assert_eq!(unknown_code.json()["error"], "invalid_grant");

    let json_body = sandbox
        .send(
            axum::http::Request::post("/mas/oauth/token")
                .header(header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(
                    r#"{"grant_type":"client_credentials"}"#,
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(json_body.status, StatusCode::BAD_REQUEST);
    assert_eq!(json_body.json()["error"], "invalid_request");
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_the_grant() {
    let sandbox = TestSandbox::start();
    let tokens = sandbox.authorized_tokens().await;
    let refresh = refresh_token(&tokens);
    let revoked = sandbox
        .send(form_request(
            "/mas/oauth/revoke",
            &[
                ("token", &refresh),
                ("token_type_hint", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ],
            None,
        ))
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(
        sandbox.refresh(&refresh).await.json()["error"],
        "invalid_grant"
    );
    let account = sandbox
        .a01("demo-marketplace", Some(&bearer(&tokens)), None)
        .await;
    assert_eq!(account.status, StatusCode::UNAUTHORIZED);

    // Unknown tokens are fine (RFC 7009); an unauthenticated client is not.
    let unknown = sandbox
        .send(form_request(
            "/mas/oauth/revoke",
            &[
                ("token", "nothing"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ],
            None,
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    let unauthenticated = sandbox
        .send(form_request(
            "/mas/oauth/revoke",
            &[("token", &refresh)],
            None,
        ))
        .await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    assert_eq!(sandbox.sandbox.call_count("mas.revoke"), 3);
}

#[tokio::test]
async fn revoking_an_access_token_leaves_the_refresh_token_working() {
    let sandbox = TestSandbox::start();
    let tokens = sandbox.authorized_tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let revoked = sandbox
        .send(form_request(
            "/mas/oauth/revoke",
            &[
                ("token", access),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ],
            None,
        ))
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let account = sandbox
        .a01("demo-marketplace", Some(&bearer(&tokens)), None)
        .await;
    assert_eq!(account.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sandbox.refresh(&refresh_token(&tokens)).await.status,
        StatusCode::OK
    );
}
