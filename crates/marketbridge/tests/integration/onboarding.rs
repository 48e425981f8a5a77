//! Onboarding (F2 and the four steps): Authorize Mirakl Connect, connect the WooCommerce
//! store, settings, Launch — and the Account page that shows what is active.

use domain::{ChannelKind, ChannelStatus, ShopConnection, ShopHealth};
use reqwest::StatusCode;

use test_support::flows::{SELLER_PASSWORD, WOO_KEY, WOO_SECRET};
use test_support::{TestApp, Visitor};

async fn workspace(app: &TestApp) -> domain::WorkspaceId {
    let ids = app.storage().list_workspace_ids().await.unwrap();
    assert_eq!(ids.len(), 1);
    ids[0]
}

#[tokio::test]
async fn a_new_seller_onboards_with_the_woocommerce_app_authorization() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let step1 = app.sign_up(&v, "shop@example.com").await;
    let step2 = app.onboard_mirakl_connect(&v, &step1).await;
    step2.expect_text("Mirakl Connect is authorized");
    step2.expect_text("Step 2 of 4: Connect your store");

    let step3 = app.onboard_store_by_app_authorization(&v, &step2).await;
    step3.expect_text("Your WooCommerce store is connected");
    let dashboard = app.finish_onboarding(&v, &step3).await;
    assert!(!dashboard.contains("Setup is not finished"));

    let ws = workspace(&app).await;
    let shop = app.storage().get_shop(ws).await.unwrap().expect("a shop");
    assert_eq!(shop.connection, ShopConnection::AppAuthorization);
    assert_eq!(shop.key_permissions.as_deref(), Some("read_write"));
    // The store created a key for Marketbridge, and our webhooks are registered and active.
    assert!(
        app.sandbox
            .woo_keys("demo-shop")
            .iter()
            .any(|k| k.description.starts_with("Marketbridge"))
    );
    let hooks = app.sandbox.woo_webhooks("demo-shop");
    let ours: Vec<_> = hooks
        .iter()
        .filter(|h| h.delivery_url.contains("/webhooks/woocommerce/"))
        .collect();
    assert_eq!(ours.len(), shops::webhook::TOPICS.len(), "{hooks:?}");
    assert!(ours.iter().all(|h| h.status == "active"));
    let connect = app
        .storage()
        .list_channels(ws)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.kind == ChannelKind::MiraklConnect);
    assert_eq!(connect.unwrap().status, ChannelStatus::Live);
    assert!(
        app.storage()
            .workspace(ws)
            .await
            .unwrap()
            .unwrap()
            .onboarded_at_ms
            .is_some()
    );

    let account = v.get(&app.url("/account")).await;
    account.expect_text("Mirakl Connect");
    account.expect_text(&app.store_url());
    account.expect_text("WooCommerce app authorization");
    account.expect_text("product.updated: active");
}

#[tokio::test]
async fn a_new_seller_onboards_with_pasted_keys() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    app.onboarded(&v, "shop@example.com").await;
    let shop = app
        .storage()
        .get_shop(workspace(&app).await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shop.connection, ShopConnection::PastedKeys);
    assert_eq!(shop.health, ShopHealth::Ok);
}

#[tokio::test]
async fn a_seller_who_leaves_at_step_two_comes_back_to_step_two() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let step1 = app.sign_up(&v, "shop@example.com").await;
    let step2 = app.onboard_mirakl_connect(&v, &step1).await;
    v.submit(&step2.form("Sign out", &[])).await;

    let page = v.get(&app.url("/sign-in")).await;
    let page = v
        .submit(&page.form(
            "Sign in",
            &[("Email", "shop@example.com"), ("Password", SELLER_PASSWORD)],
        ))
        .await;
    page.expect_text("Step 2 of 4: Connect your store");
    // The dashboard says so too, and offers to continue.
    let dashboard = v.get(&app.url("/")).await;
    dashboard.expect_text("Setup is not finished: Step 2 of 4");
}

#[tokio::test]
async fn wrong_keys_a_wrong_address_and_a_dead_store_get_clear_errors_and_store_nothing() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let step1 = app.sign_up(&v, "shop@example.com").await;
    let step2 = app.onboard_mirakl_connect(&v, &step1).await;

    let page = app
        .onboard_store_by_keys(&v, &step2, WOO_KEY, "cs_wrong")
        .await;
    page.expect_text("Step 2 of 4");
    assert!(
        page.contains("key") || page.contains("Key"),
        "{}",
        page.text()
    );
    assert!(
        !page.html.contains("cs_wrong"),
        "the secret is never echoed back"
    );

    let page = v
        .submit(&page.form(
            "Connect with API keys",
            &[
                ("Store URL", "not a url at all"),
                ("Consumer key", WOO_KEY),
                ("Consumer secret", WOO_SECRET),
            ],
        ))
        .await;
    page.expect_text("Step 2 of 4");

    app.sandbox.woo_set_down("demo-shop", true);
    let page = app
        .onboard_store_by_keys(&v, &page, WOO_KEY, WOO_SECRET)
        .await;
    page.expect_text("Step 2 of 4");
    app.sandbox.woo_set_down("demo-shop", false);

    assert!(
        app.storage()
            .get_shop(workspace(&app).await)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app.sandbox
            .woo_webhooks("demo-shop")
            .iter()
            .all(|h| !h.delivery_url.contains("/webhooks/woocommerce/"))
    );
}

#[tokio::test]
async fn declining_on_the_store_changes_nothing() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let step1 = app.sign_up(&v, "shop@example.com").await;
    let step2 = app.onboard_mirakl_connect(&v, &step1).await;
    let store_url = app.store_url();
    let page = v
        .submit(&step2.form(
            "Connect with WooCommerce",
            &[("Store URL", store_url.as_str())],
        ))
        .await;
    let page = v
        .submit(&page.form(
            "Log In",
            &[
                ("Username or Email Address", test_support::flows::WOO_ADMIN),
                ("Password", test_support::flows::WOO_ADMIN_PASSWORD),
            ],
        ))
        .await;
    let page = v.submit(&page.form("Deny", &[])).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.expect_text("You did not approve Marketbridge");
    assert!(
        app.storage()
            .get_shop(workspace(&app).await)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn keys_posted_for_an_unknown_authorization_are_refused() {
    let app = TestApp::spawn().await;
    let response = reqwest::Client::new()
        .post(app.url("/shop/woocommerce/keys"))
        .json(&serde_json::json!({
            "key_id": 1, "user_id": "forged", "consumer_key": "ck_x", "consumer_secret": "cs_x", "key_permissions": "read_write"
        }))
        .send()
        .await
        .unwrap();
    // Anything but 200 makes WooCommerce delete the key it just made.
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_store_that_stops_answering_or_revokes_its_keys_shows_on_the_dashboard() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    app.onboarded(&v, "shop@example.com").await;
    let ws = workspace(&app).await;
    let shop = app.storage().get_shop(ws).await.unwrap().unwrap();

    app.sandbox.woo_set_down("demo-shop", true);
    assert_eq!(
        app.connector()
            .flows
            .health
            .check(ws, shop.id)
            .await
            .unwrap(),
        ShopHealth::Unreachable
    );
    let dashboard = v.get(&app.url("/")).await;
    dashboard.expect_text("Not answering");
    dashboard.expect_text("Check that your site is online");

    app.sandbox.woo_set_down("demo-shop", false);
    assert_eq!(
        app.connector()
            .flows
            .health
            .check(ws, shop.id)
            .await
            .unwrap(),
        ShopHealth::Ok
    );
    v.get(&app.url("/")).await.expect_text("Connected");

    app.sandbox.woo_revoke_key("demo-shop", WOO_KEY);
    assert_eq!(
        app.connector()
            .flows
            .health
            .check(ws, shop.id)
            .await
            .unwrap(),
        ShopHealth::KeysRefused
    );
    let dashboard = v.get(&app.url("/")).await;
    dashboard.expect_text("Keys refused");
    dashboard.expect_text("Connect the store again");
}
