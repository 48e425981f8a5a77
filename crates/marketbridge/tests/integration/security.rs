//! The attacks and mistakes F1 must survive: replayed and foreign callbacks, forged forms,
//! other workspaces' ids, oversized and malformed input — and secrets that must never be
//! readable at rest.

use domain::ChannelStatus;
use reqwest::StatusCode;
use test_support::{TestApp, Visitor};

/// Runs F1 up to MAS's redirect back to the connector and returns the callback URL, unused.
async fn callback_url(app: &TestApp, v: &Visitor) -> url::Url {
    let consent = app.marketplace_consent(v, "shop@example.com").await;
    app.mas_accept(v, &consent).await
}

async fn channel_status(app: &TestApp) -> ChannelStatus {
    let ws = app.storage().list_workspace_ids().await.unwrap();
    app.storage().list_channels(ws[0]).await.unwrap()[0].status
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let callback = callback_url(&app, &v).await;
    v.get(callback.as_str())
        .await
        .expect_text("Mirakl authorized Marketbridge");
    let again = v.get(callback.as_str()).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    again.expect_text("This authorization was already used");
}

#[tokio::test]
async fn a_callback_in_another_browser_session_is_refused_and_burnt() {
    let app = TestApp::spawn().await;
    let victim = Visitor::new();
    let callback = callback_url(&app, &victim).await;
    // An attacker signed in to their own account opens the victim's callback link.
    let attacker = Visitor::new();
    app.sign_up(&attacker, "attacker@example.com").await;
    let page = attacker.get(callback.as_str()).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.expect_text("started in another browser session");
    // The state is single use: even its owner cannot use it any more, and nothing was stored.
    victim
        .get(callback.as_str())
        .await
        .expect_text("This authorization was already used");
    let ws = app.storage().list_workspace_ids().await.unwrap();
    for w in ws {
        for c in app.storage().list_channels(w).await.unwrap() {
            assert_eq!(c.status, ChannelStatus::AwaitingAuthorization);
            assert!(app.storage().load_tokens(w, c.id).await.unwrap().is_none());
        }
    }
}

#[tokio::test]
async fn an_unknown_or_missing_state_is_refused() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    app.sign_up(&v, "shop@example.com").await;
    let page = v
        .get(&app.url("/oauth/mirakl/callback?code=abc&state=forged"))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.expect_text("This authorization is not one Marketbridge started");
    let page = v.get(&app.url("/oauth/mirakl/callback?code=abc")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.expect_text("That link from Mirakl is incomplete");
}

#[tokio::test]
async fn a_callback_without_a_code_says_so_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let mut callback = callback_url(&app, &v).await;
    let state: String = callback
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    callback.set_query(Some(&format!("state={state}")));
    let page = v.get(callback.as_str()).await;
    page.expect_text("Mirakl sent no authorization code");
    assert_eq!(
        channel_status(&app).await,
        ChannelStatus::AwaitingAuthorization
    );
}

#[tokio::test]
async fn a_code_exchanged_with_the_wrong_pkce_verifier_is_refused_by_mas() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let callback = callback_url(&app, &v).await;
    let code: String = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let mas = app.connector_mas_client();
    let err = mas
        .exchange_code(
            &code,
            "a-verifier-that-is-not-the-one-whose-challenge-was-sent-0000",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, mirakl::mas::MasError::InvalidGrant(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_form_without_its_csrf_token_changes_nothing() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let dashboard = app.sign_up(&v, "shop@example.com").await;
    let page = v.get(&app.url("/channels/new")).await;
    let form = page.form("Add channel", &[("Demo Marketplace", "on")]);
    let response = v.send_raw(&form.clone().without("csrf_token")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );
    let response = v.send_raw(&form.with("csrf_token", "guessed")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let ws = app.storage().list_workspace_ids().await.unwrap();
    assert!(app.storage().list_channels(ws[0]).await.unwrap().is_empty());
    drop(dashboard);
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    app.sign_up(&v, "shop@example.com").await;
    let page = v.get(&app.url("/channels/new")).await;
    let form = page.form("Add channel", &[("Demo Marketplace", "on")]);
    let response = v
        .client()
        .post(form.url.clone())
        .header("Origin", "http://evil.example")
        .form(&form.fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let ws = app.storage().list_workspace_ids().await.unwrap();
    assert!(app.storage().list_channels(ws[0]).await.unwrap().is_empty());
}

#[tokio::test]
async fn another_workspaces_channel_is_not_found() {
    let app = TestApp::spawn().await;
    let owner = Visitor::new();
    app.sign_up(&owner, "owner@example.com").await;
    let settings = app.add_channel(&owner, "Demo Marketplace").await;
    let channel_path = settings.url.path().to_owned();

    let other = Visitor::new();
    app.sign_up(&other, "other@example.com").await;
    assert_eq!(
        other.get_raw(&app.url(&channel_path)).await.status(),
        StatusCode::NOT_FOUND
    );
    // Its forms are refused the same way, with this visitor's own valid CSRF token.
    let own = other.get(&app.url("/channels/new")).await;
    let csrf = own
        .form("Add channel", &[])
        .fields
        .into_iter()
        .find(|(k, _)| k == "csrf_token")
        .unwrap()
        .1;
    for action in ["authorize", "store", "launch"] {
        let response = other
            .client()
            .post(app.url(&format!("{channel_path}/{action}")))
            .form(&[("csrf_token", csrf.as_str()), ("store_id", "2001")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(
        other
            .get_raw(&app.url("/channels/not-a-uuid"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let page = v.get(&app.url("/sign-up")).await;
    let form = page.form(
        "Create account",
        &[
            ("Email", "shop@example.com"),
            ("Password", "x".repeat(200_000).as_str()),
        ],
    );
    let response = v.send_raw(&form).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(app.storage().list_workspace_ids().await.unwrap().is_empty());
}

#[tokio::test]
async fn malformed_forms_and_query_strings_get_a_clear_400() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let page = v.get(&app.url("/sign-up")).await;
    let csrf = page
        .form("Create account", &[])
        .fields
        .into_iter()
        .find(|(k, _)| k == "csrf_token")
        .unwrap()
        .1;
    // A body that is not a form at all (the CSRF token is there, the rest is nonsense).
    let response = v
        .client()
        .post(app.url("/sign-up"))
        .header("Content-Type", "application/json")
        .body(format!("csrf_token={csrf}&email=a@b.c"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("The form could not be read")
    );
    let page = v
        .get(&app.url("/oauth/mirakl/callback?state=%ZZ&code=%"))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(app.storage().list_workspace_ids().await.unwrap().is_empty());
}

#[tokio::test]
async fn tokens_are_never_stored_in_plain_text() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let callback = callback_url(&app, &v).await;
    v.get(callback.as_str())
        .await
        .expect_text("Mirakl authorized Marketbridge");
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let channel = app.storage().list_channels(ws).await.unwrap()[0].id;
    let tokens = app
        .storage()
        .load_tokens(ws, channel)
        .await
        .unwrap()
        .unwrap()
        .tokens;
    let access = tokens.access_token.expose().to_owned();
    let refresh = tokens.refresh_token.unwrap().expose().to_owned();
    app.storage().checkpoint().await.unwrap();
    let file = app.sqlite_file.as_ref().unwrap();
    let mut bytes = std::fs::read(file).unwrap();
    if let Ok(wal) = std::fs::read(file.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    for secret in [&access, &refresh] {
        // The JWT's signature part alone is enough to say whether it leaked.
        let tail = &secret[secret.len() - 20..];
        assert!(
            !bytes.windows(tail.len()).any(|w| w == tail.as_bytes()),
            "a token is readable in the database file"
        );
    }
}

#[test]
fn no_token_or_secret_reaches_the_logs() {
    let (secrets, logs) = test_support::LogCapture::run(|| async {
        let app = TestApp::spawn().await;
        app.sandbox.set_token_lifetimes(
            std::time::Duration::from_secs(60),
            std::time::Duration::from_secs(3600),
        );
        let v = Visitor::new();
        let callback = callback_url(&app, &v).await;
        v.get(callback.as_str())
            .await
            .expect_text("Mirakl authorized Marketbridge");
        let ws = app.storage().list_workspace_ids().await.unwrap()[0];
        let channel = app.storage().list_channels(ws).await.unwrap()[0].id;
        let first = app
            .storage()
            .load_tokens(ws, channel)
            .await
            .unwrap()
            .unwrap()
            .tokens;
        app.drain_jobs().await;
        let second = app
            .storage()
            .load_tokens(ws, channel)
            .await
            .unwrap()
            .unwrap()
            .tokens;
        let code: String = callback
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        vec![
            first.access_token.expose().to_owned(),
            first.refresh_token.unwrap().expose().to_owned(),
            second.access_token.expose().to_owned(),
            second.refresh_token.unwrap().expose().to_owned(),
            code,
            "sandbox-client-secret".to_owned(),
            test_support::flows::SELLER_PASSWORD.to_owned(),
            test_support::flows::MAS_PASSWORD.to_owned(),
        ]
    });
    assert!(
        logs.contains("channel authorized"),
        "the capture works:\n{logs}"
    );
    assert!(
        logs.contains("access token renewed"),
        "the refresh ran:\n{logs}"
    );
    for secret in secrets {
        let probe = &secret[secret.len().saturating_sub(16)..];
        if let Some(line) = logs.lines().find(|l| l.contains(probe)) {
            panic!("a secret ending in …{probe} is in the logs:\n{line}");
        }
    }
}

/// A seller's own WooCommerce keys (pasted, or sent by the store's app authorization) and the
/// webhook secrets never reach a log line, through connecting, exporting, webhooks, a health
/// check and a Disconnect. (`demo` prints the demo store's well-known keys on purpose; those
/// are not a seller's.)
#[test]
fn no_shop_key_or_webhook_secret_reaches_the_logs() {
    let (secrets, logs) = test_support::LogCapture::run(|| async {
        let app = TestApp::spawn().await;
        let (key, secret) = app
            .sandbox
            .woo_add_key("demo-shop", "Pasted by a seller", "read_write")
            .unwrap();

        let pasted = Visitor::new();
        let step1 = app.sign_up(&pasted, "pasted@example.com").await;
        let step2 = app.onboard_mirakl_connect(&pasted, &step1).await;
        let step3 = app
            .onboard_store_by_keys(&pasted, &step2, &key, &secret)
            .await;
        app.finish_onboarding(&pasted, &step3).await;

        let approved = Visitor::new();
        let step1 = app.sign_up(&approved, "approved@example.com").await;
        let step2 = app.onboard_mirakl_connect(&approved, &step1).await;
        let step3 = app
            .onboard_store_by_app_authorization(&approved, &step2)
            .await;
        app.finish_onboarding(&approved, &step3).await;

        let bigcommerce = Visitor::new();
        let step1 = app.sign_up(&bigcommerce, "bc@example.com").await;
        let step2 = app.onboard_mirakl_connect(&bigcommerce, &step1).await;
        let step3 = app
            .onboard_bigcommerce_by_api_account(&bigcommerce, &step2)
            .await;
        app.finish_onboarding(&bigcommerce, &step3).await;
        app.settle().await;

        let mut secrets = vec![key, secret, sandbox::BC_DEMO_API_TOKEN.to_owned()];
        for ws in app.storage().list_workspace_ids().await.unwrap() {
            let shop = app.storage().get_shop(ws).await.unwrap().unwrap();
            let sealed = app.storage().shop_secrets(ws, shop.id).await.unwrap();
            // A BigCommerce shop keeps its store hash there, which is no secret.
            if shop.platform == domain::ShopPlatform::WooCommerce {
                secrets.push(sealed.consumer_key.expose().to_owned());
            }
            secrets.push(sealed.consumer_secret.expose().to_owned());
            secrets.push(sealed.webhook_secret.expose().to_owned());
            app.connector()
                .flows
                .health
                .check(ws, shop.id)
                .await
                .unwrap();
        }
        // A change in the store arrives as a signed webhook for both shops.
        let ws = app.storage().list_workspace_ids().await.unwrap()[0];
        let row = app
            .storage()
            .catalog_page(ws, None, 1, false)
            .await
            .unwrap()
            .remove(0);
        let id = row.shop_variation_id.unwrap_or(row.shop_product_id);
        app.sandbox.woo_set_stock("demo-shop", id, 3);
        app.sandbox.settle_webhooks().await;
        let bc_product = app.sandbox.bc_product_ids(sandbox::BC_DEMO_STORE_HASH)[0];
        app.sandbox
            .bc_set_price(sandbox::BC_DEMO_STORE_HASH, bc_product, None, "41.00");
        app.sandbox.settle_bc_hooks().await;
        app.settle().await;

        let page = pasted.get(&app.url("/account/disconnect")).await;
        pasted
            .submit(&page.form(
                "Disconnect & Continue",
                &[("Type disconnect to confirm", "disconnect")],
            ))
            .await;
        app.settle().await;
        secrets
    });
    assert!(
        logs.contains("store connected"),
        "the capture works:\n{logs}"
    );
    assert!(logs.contains("webhook recorded"), "webhooks ran:\n{logs}");
    for secret in secrets {
        assert!(secret.len() > 12, "a real secret: {secret}");
        if let Some(line) = logs.lines().find(|l| l.contains(&secret)) {
            panic!("a shop secret or key is in the logs:\n{line}");
        }
        // Nor any long piece of it (a key is shown by its last 7 characters at most).
        let head = &secret[..12];
        if let Some(line) = logs.lines().find(|l| l.contains(head)) {
            panic!("the start of a shop secret or key is in the logs:\n{line}");
        }
    }
}
