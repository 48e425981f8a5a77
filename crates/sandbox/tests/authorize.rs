//! The seller's side of MAS: `/authorize`, sign-in, selection, consent.

mod support;

use axum::http::{StatusCode, header};
use support::{
    Browser, CALLBACK, CLIENT_ID, EMAIL, PASSWORD, Pkce, TestSandbox, form_request, jwt_claims,
};

fn marketplace_request(redirect_uri: &str) -> Vec<(&str, &str)> {
    vec![
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", redirect_uri),
        ("state", "s-1"),
    ]
}

#[tokio::test]
async fn unregistered_redirect_uri_shows_an_error_page_and_never_redirects() {
    let sandbox = TestSandbox::start();
    let lookalikes = [
        "https://evil.test/callback",
        // Same URI as the registered one but for its query.
        "https://connector.test/oauth/mirakl/callback?tenant=8",
        "https://connector.test/oauth/mirakl/callback",
    ];
    for redirect_uri in lookalikes {
        let mut browser = sandbox.browser();
        let page = browser.authorize(&marketplace_request(redirect_uri)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{redirect_uri}");
        assert!(
            page.location().is_none(),
            "never redirect to {redirect_uri}"
        );
        assert!(page.body.contains("is not registered"), "{}", page.body);
    }

    let mut browser = sandbox.browser();
    let unknown_client = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", "someone-else"),
            ("redirect_uri", CALLBACK),
        ])
        .await;
    assert_eq!(unknown_client.status, StatusCode::BAD_REQUEST);
    assert!(unknown_client.location().is_none());
    assert!(unknown_client.body.contains("No application is registered"));
}

#[tokio::test]
async fn full_code_flow_with_pkce_issues_tokens_for_the_chosen_store() {
    let sandbox = TestSandbox::start();
    let pkce = Pkce::new();
    let mut browser = sandbox.browser();

    let query = serde_urlencoded::to_string(pkce.params("state-xyz")).unwrap();
    let authorize = browser.get(&format!("/mas/authorize?{query}")).await;
    assert_eq!(authorize.location().as_deref(), Some("/mas/login"));
    let cookie = authorize
        .headers
        .get(header::SET_COOKIE)
        .expect("the session cookie")
        .to_str()
        .unwrap();
    assert!(cookie.starts_with("mas_session="));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));

    let login = browser.follow(authorize).await;
    assert_eq!(login.status, StatusCode::OK);
    for label in [
        r#"<label for="email">Email</label>"#,
        r#"<label for="password">Password</label>"#,
    ] {
        assert!(login.body.contains(label), "missing {label}");
    }
    assert!(login.body.contains(">Sign in</button>"));
    assert!(login.body.contains("Forgot password?"));
    assert!(login.body.contains("Marketbridge Demo"));

    let selection = browser.sign_in(&login, EMAIL, PASSWORD).await;
    for label in [
        r#"<label for="marketplace">Marketplace</label>"#,
        r#"<label for="store">Store</label>"#,
    ] {
        assert!(selection.body.contains(label), "missing {label}");
    }
    assert!(selection.body.contains("Second Marketplace"));
    assert!(selection.body.contains(">Confirm</button>"));

    let consent = browser
        .submit(
            &selection,
            "/mas/select",
            &[("marketplace", "second-marketplace"), ("store", "3001")],
        )
        .await;
    assert!(consent.body.contains("Marketbridge Demo"));
    assert!(
        consent
            .body
            .contains("Second Store (store ID 3001) on Second Marketplace")
    );
    assert!(
        consent.body.contains(">Accept</button>") && consent.body.contains(">Decline</button>")
    );

    let redirect = browser.accept(&consent).await;
    assert_eq!(redirect.status, StatusCode::FOUND);
    let params = redirect.callback_params();
    assert_eq!(params["tenant"], "7");
    assert_eq!(params["state"], "state-xyz");

    let response = sandbox.exchange_code(&params["code"], &pkce.verifier).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.headers[header::CACHE_CONTROL], "no-store");
    let tokens = response.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3599);
    assert!(
        tokens["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(tokens["target_app"], "second-marketplace");
    assert_eq!(tokens["resource_owner"], "demo-seller");
    let access_token = tokens["access_token"].as_str().unwrap();
    let claims = jwt_claims(access_token);
    assert_eq!(claims["sub"], "demo-seller");
    assert_eq!(claims["client_id"], CLIENT_ID);
    assert_eq!(claims["mirakl_instance"], "second-marketplace");
    assert_eq!(claims["mirakl_shop_ids"], serde_json::json!([3001]));

    let bearer = format!("Bearer {access_token}");
    let account = sandbox.a01("second-marketplace", Some(&bearer), None).await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.body);
    assert_eq!(account.json()["shop_name"], "Second Store");
    let elsewhere = sandbox.a01("demo-marketplace", Some(&bearer), None).await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn second_authorization_skips_the_selection_page() {
    let sandbox = TestSandbox::start();
    sandbox.authorized_code().await;

    let mut browser = sandbox.browser();
    let pkce = Pkce::new();
    let login = browser.authorize(&pkce.params("again")).await;
    let consent = browser.sign_in(&login, EMAIL, PASSWORD).await;
    assert!(!consent.body.contains("Choose your store"));
    assert!(
        consent
            .body
            .contains("Demo Store (store ID 2001) on Demo Marketplace")
    );
    let params = browser.accept(&consent).await.callback_params();
    assert_eq!(params["state"], "again");
    let tokens = sandbox.exchange_code(&params["code"], &pkce.verifier).await;
    assert_eq!(tokens.status, StatusCode::OK);
}

#[tokio::test]
async fn a_signed_in_session_goes_straight_to_consent() {
    let sandbox = TestSandbox::start();
    let mut browser = sandbox.browser();
    let pkce = Pkce::new();
    let login = browser.authorize(&pkce.params("one")).await;
    let selection = browser.sign_in(&login, EMAIL, PASSWORD).await;
    let consent = browser
        .submit(
            &selection,
            "/mas/select",
            &[("marketplace", "demo-marketplace"), ("store", "2001")],
        )
        .await;
    browser.accept(&consent).await;

    let consent_again = browser.authorize(&pkce.params("two")).await;
    assert!(
        consent_again.body.contains(">Accept</button>"),
        "{}",
        consent_again.body
    );
    assert!(!consent_again.body.contains(r#"name="password""#));
}

#[tokio::test]
async fn declining_consent_returns_access_denied_with_the_state() {
    let sandbox = TestSandbox::start();
    let mut browser = sandbox.browser();
    let login = browser.authorize(&marketplace_request(CALLBACK)).await;
    let selection = browser.sign_in(&login, EMAIL, PASSWORD).await;
    let consent = browser
        .submit(
            &selection,
            "/mas/select",
            &[("marketplace", "demo-marketplace"), ("store", "2001")],
        )
        .await;
    let redirect = browser
        .submit(&consent, "/mas/consent", &[("decision", "decline")])
        .await;
    assert_eq!(redirect.status, StatusCode::FOUND);
    let params = redirect.callback_params();
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "s-1");
    assert!(!params.contains_key("code"));
}

#[tokio::test]
async fn a_store_from_another_marketplace_is_refused_on_the_selection_page() {
    let sandbox = TestSandbox::start();
    let mut browser = sandbox.browser();
    let login = browser.authorize(&marketplace_request(CALLBACK)).await;
    let selection = browser.sign_in(&login, EMAIL, PASSWORD).await;
    let again = browser
        .submit(
            &selection,
            "/mas/select",
            &[("marketplace", "demo-marketplace"), ("store", "3001")],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("not on that marketplace"));
    assert!(again.body.contains(r#"<label for="store">Store</label>"#));
}

#[tokio::test]
async fn connect_audience_asks_for_the_company_and_grants_it() {
    let sandbox = TestSandbox::start();
    let mut browser = sandbox.browser();
    let pkce = Pkce::new();
    let mut params = pkce.params("connect-1");
    params.push(("audience", "connect"));
    let login = browser.authorize(&params).await;
    let selection = browser.sign_in(&login, EMAIL, PASSWORD).await;
    assert!(
        selection
            .body
            .contains(r#"<label for="company">Company</label>"#)
    );
    assert!(selection.body.contains("Demo Company"));
    assert!(!selection.body.contains(r#"<label for="store">"#));
    let consent = browser
        .submit(&selection, "/mas/select", &[("company", "demo-company")])
        .await;
    assert!(consent.body.contains("Demo Company on Mirakl Connect"));
    let code = browser.accept(&consent).await.callback_params()["code"].clone();
    let tokens = sandbox.exchange_code(&code, &pkce.verifier).await.json();
    assert_eq!(tokens["target_app"], "connect");
    let claims = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["mirakl_company_id"], "demo-company");
    assert!(claims.get("mirakl_instance").is_none());
}

#[tokio::test]
async fn a_malformed_request_goes_back_to_the_client_with_an_error() {
    let sandbox = TestSandbox::start();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("response_type", "token")], "unsupported_response_type"),
        (
            &[
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            &[
                ("code_challenge", "too-short"),
                ("code_challenge_method", "S256"),
            ],
            "invalid_request",
        ),
        (&[("audience", "nowhere")], "invalid_request"),
    ];
    for (overrides, expected) in cases {
        let mut params = marketplace_request(CALLBACK);
        params.retain(|(name, _)| !overrides.iter().any(|(o, _)| o == name));
        params.extend_from_slice(overrides);
        let redirect = sandbox.browser().authorize(&params).await;
        assert_eq!(redirect.status, StatusCode::FOUND, "{overrides:?}");
        let query = redirect.callback_params();
        assert_eq!(query["error"], expected, "{overrides:?}");
        assert_eq!(query["state"], "s-1");
        assert!(query.contains_key("error_description"));
    }
}

#[tokio::test]
async fn wrong_password_shows_the_login_page_again_with_an_error() {
    let sandbox = TestSandbox::start();
    let mut browser = sandbox.browser();
    let login = browser.authorize(&marketplace_request(CALLBACK)).await;
    let again = browser.sign_in(&login, EMAIL, "not-the-password").await;
    assert!(again.body.contains("The email or password is incorrect"));
    assert!(
        again
            .body
            .contains(r#"<label for="password">Password</label>"#)
    );
    let selection = browser.sign_in(&again, EMAIL, PASSWORD).await;
    assert!(selection.body.contains("Choose your store"));
}

#[tokio::test]
async fn sign_in_without_the_csrf_token_is_refused() {
    let sandbox = TestSandbox::start();
    let mut browser: Browser<'_> = sandbox.browser();
    let login = browser.authorize(&marketplace_request(CALLBACK)).await;
    assert_eq!(login.status, StatusCode::OK);

    let without_token = browser
        .post("/mas/login", &[("email", EMAIL), ("password", PASSWORD)])
        .await;
    assert_eq!(without_token.status, StatusCode::FORBIDDEN);
    assert!(without_token.body.contains("security token"));

    let wrong_token = browser
        .post(
            "/mas/login",
            &[
                ("email", EMAIL),
                ("password", PASSWORD),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);

    // A token without its session cookie is as good as none.
    let no_cookie = sandbox
        .send(form_request(
            "/mas/login",
            &[
                ("email", EMAIL),
                ("password", PASSWORD),
                ("csrf_token", &login.csrf_token()),
            ],
            None,
        ))
        .await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    assert!(no_cookie.location().is_none());
}
