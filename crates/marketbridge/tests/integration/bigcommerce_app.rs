//! The BigCommerce app: installed from the store's control panel (My Apps), opened from
//! there, uninstalled; and what a forger, a replayer or a stranger to the app gets.

use domain::{ShopConnection, ShopPlatform};
use reqwest::StatusCode;
use sandbox::{BC_DEMO_CLIENT_ID, BC_DEMO_CLIENT_SECRET, BC_DEMO_STORE_HASH};
use test_support::{TestApp, Visitor};

const OWNER: &str = "owner@demo-bc.example";

/// The control panel's My Apps page of the demo store.
fn my_apps(app: &TestApp) -> String {
    format!("{}bc/manage/{BC_DEMO_STORE_HASH}", app.sandbox_url)
}

/// Installs the app from My Apps and returns the page the connector lands the merchant on.
async fn install(app: &TestApp, v: &Visitor) -> test_support::Page {
    let apps = v.get(&my_apps(app)).await;
    v.submit(&apps.form("Install", &[])).await
}

#[tokio::test]
async fn installing_the_app_connects_the_store_and_signs_the_owner_in_at_onboarding() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let landing = install(&app, &v).await;
    landing.expect_text("Step 1 of 4: Authorize Mirakl Connect");

    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let owner = app.storage().workspace_owner(ws).await.unwrap().unwrap();
    let store_owner = app
        .sandbox
        .bc_signed_payload(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID)
        .unwrap();
    let payload = shops::bigcommerce::app::verify_signed_payload(
        &store_owner,
        BC_DEMO_CLIENT_ID,
        BC_DEMO_CLIENT_SECRET,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert_eq!(
        owner.email, payload.owner_email,
        "the account is the store owner's"
    );
    let shop = app.storage().get_shop(ws).await.unwrap().unwrap();
    assert_eq!(shop.platform, ShopPlatform::BigCommerce);
    assert_eq!(shop.connection, ShopConnection::AppAuthorization);
    assert!(
        app.sandbox
            .bc_app_installed(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID),
        "the store shows the app installed"
    );
    let hooks = app.sandbox.bc_hooks(BC_DEMO_STORE_HASH);
    assert!(
        hooks.iter().any(|h| h["destination"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/webhooks/bigcommerce/{}", shop.id))),
        "{hooks:?}"
    );

    // Opened again from My Apps, in a browser that never signed in: the signed payload signs
    // the workspace's owner in.
    let other = Visitor::new();
    let apps = other.get(&my_apps(&app)).await;
    let open = apps.link("Open Marketbridge").expect("an Open link");
    let page = other.get(open.as_str()).await;
    page.expect_text("Authorize Mirakl Connect");
    // A load link used again, in another browser (a history, a log): it signs no one in.
    let replayer = Visitor::new();
    let signed = app
        .sandbox
        .bc_signed_payload(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID)
        .unwrap();
    let load = format!(
        "{}?signed_payload_jwt={signed}",
        app.url("/bigcommerce/load")
    );
    Visitor::new()
        .get(&load)
        .await
        .expect_text("Authorize Mirakl Connect");
    let again = replayer.get(&load).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    again.expect_text("already used");
    app.stop().await;
}

#[tokio::test]
async fn an_install_code_works_once_and_a_forged_or_foreign_payload_signs_no_one_in() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    install(&app, &v).await;

    // The install link replayed: BigCommerce refuses the used code, nothing changes.
    let code = app
        .sandbox
        .bc_install_code(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID)
        .unwrap();
    let callback = format!(
        "{}?code={}&scope={}&context={}",
        app.url("/bigcommerce/auth"),
        code.code,
        urlencode(&code.scope),
        urlencode(&code.context)
    );
    let first = Visitor::new().get_raw(&callback).await;
    assert_eq!(
        first.status(),
        StatusCode::SEE_OTHER,
        "the fresh code installs"
    );
    let replayed = Visitor::new().get(&callback).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST);
    replayed.expect_text("BigCommerce did not confirm the install");

    let load = |jwt: &str| format!("{}?signed_payload_jwt={jwt}", app.url("/bigcommerce/load"));
    let good = app
        .sandbox
        .bc_signed_payload(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID)
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let forged = sign(
        b"not-the-secret",
        &claims(BC_DEMO_CLIENT_ID, now - 10, now + 3600),
    );
    let expired = sign(
        BC_DEMO_CLIENT_SECRET.as_bytes(),
        &claims(BC_DEMO_CLIENT_ID, now - 7200, now - 3600),
    );
    let foreign = sign(
        BC_DEMO_CLIENT_SECRET.as_bytes(),
        &claims("another-app", now - 10, now + 3600),
    );
    let mut tampered = good.clone();
    tampered.pop();
    for jwt in [forged, expired, foreign, tampered, "not.a.jwt".to_owned()] {
        let stranger = Visitor::new();
        let page = stranger.get(&load(&jwt)).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{jwt}");
        page.expect_text("could not be verified");
        let after = stranger.get(&app.url("/account")).await;
        assert!(
            after.url.path().starts_with("/sign-in"),
            "not signed in: {}",
            after.url
        );
    }
    // And an uninstall callback no one signed disconnects nothing.
    let refused = reqwest::get(format!(
        "{}?signed_payload_jwt=forged.payload.here",
        app.url("/bigcommerce/uninstall")
    ))
    .await
    .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    assert!(app.storage().get_shop(ws).await.unwrap().is_some());
    app.stop().await;
}

#[tokio::test]
async fn a_hook_delivery_without_the_secret_header_is_refused() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    install(&app, &v).await;
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let (url, secret) = app.shop_webhook(ws).await;
    let body = serde_json::json!({
        "scope": "store/product/updated", "store_id": "1", "hash": "h-1",
        "data": { "type": "product", "id": 1 }, "producer": "stores/demo-bc",
    });
    let client = reqwest::Client::new();
    let send = |header: Option<&str>| {
        let mut request = client.post(&url).json(&body);
        if let Some(value) = header {
            request = request.header("X-Marketbridge-Secret", value);
        }
        request.send()
    };
    assert_eq!(send(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        send(Some("guessed")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(send(Some(&secret)).await.unwrap().status(), StatusCode::OK);
    // Hostile content behind the right header: a 4xx, nothing recorded.
    for scope in ["store/product/\\u0000", "store/\\u001b[2J"] {
        let body = format!(r#"{{"scope": "{scope}", "hash": "h-2", "data": {{"id": 1}}}}"#);
        let response = client
            .post(&url)
            .header("X-Marketbridge-Secret", &secret)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{scope}");
    }
    // The same body again is recorded again: BigCommerce's bodies name only the product, so
    // a second change to it in the same second looks the same, and must not be lost. (It
    // costs one more read of the product.)
    let again = send(Some(&secret)).await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.text().await.unwrap(), "recorded");
    app.stop().await;
}

#[tokio::test]
async fn uninstalling_the_app_disconnects_the_store_keeps_the_catalog_and_says_so() {
    let app = TestApp::spawn().await;
    let s = crate::catalog::launched_with(&app, test_support::ShopKind::BigCommerce).await;
    let live_before = app.sandbox.connect_products("demo-company").len();
    assert!(live_before > 0);

    // The API-account store, now installed as the app too: the same workspace.
    let v = &s.v;
    install(&app, v).await;
    let shop = app.storage().get_shop(s.ws).await.unwrap().unwrap();
    assert_eq!(shop.connection, ShopConnection::AppAuthorization);

    app.sandbox
        .bc_uninstall_app(BC_DEMO_STORE_HASH, BC_DEMO_CLIENT_ID)
        .await
        .unwrap();
    app.settle().await;

    assert!(
        app.storage().get_shop(s.ws).await.unwrap().is_none(),
        "disconnected"
    );
    assert_eq!(
        app.sandbox.connect_products("demo-company").len(),
        live_before,
        "the catalog stays active on Mirakl"
    );
    let next_visit = v.get(&app.url("/")).await;
    next_visit.expect_text("The Marketbridge app was uninstalled from your BigCommerce store");
    next_visit.expect_text("your catalog stays active on Mirakl");
    app.stop().await;
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn claims(aud: &str, iat: i64, exp: i64) -> serde_json::Value {
    serde_json::json!({
        "aud": aud, "iss": "bc", "iat": iat, "nbf": iat, "exp": exp, "jti": "j-1",
        "sub": format!("stores/{BC_DEMO_STORE_HASH}"),
        "user": { "id": 1, "email": OWNER }, "owner": { "id": 1, "email": OWNER },
        "url": "/", "channel_id": null,
    })
}

/// An HS256 JWT of `claims` under `key`.
fn sign(key: &[u8], claims: &serde_json::Value) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{KeyInit, Mac};
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{header}.{body}").as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{body}.{signature}")
}
