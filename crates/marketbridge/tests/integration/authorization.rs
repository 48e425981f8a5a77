//! F1: connecting a Mirakl marketplace store through the Mirakl Authentication System.

use domain::{ChannelKind, ChannelStatus};
use test_support::{TestApp, Visitor};

async fn only_channel(app: &TestApp) -> storage::Channel {
    let ws = app.storage().list_workspace_ids().await.unwrap();
    assert_eq!(ws.len(), 1, "one workspace expected");
    let channels = app.storage().list_channels(ws[0]).await.unwrap();
    assert_eq!(channels.len(), 1, "one channel expected");
    channels.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_seller_connects_a_marketplace_store_and_launches_it() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    app.sign_up(&v, "shop@example.com").await;
    let settings = app
        .connect_marketplace(&v, "Demo Marketplace", "Demo Store (2001)")
        .await;
    assert_eq!(
        only_channel(&app).await.status,
        ChannelStatus::AwaitingStoreId
    );

    let page = app.enter_store_id(&v, &settings, "2001").await;
    page.expect_text("Store verified");
    page.expect_text("Demo Store (store 2001)");
    let page = v.submit(&page.form("Launch", &[])).await;
    page.expect_text("Demo Marketplace is live");

    let channel = only_channel(&app).await;
    assert_eq!(channel.status, ChannelStatus::Live);
    assert_eq!(channel.store_id.map(|s| s.get()), Some(2001));
    let dashboard = v.get(&app.url("/")).await;
    dashboard.expect_text("Live");
    dashboard.expect_text("Valid until");
}

#[tokio::test]
async fn a_wrong_store_id_gets_a_clear_error_and_can_be_retried() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    app.sign_up(&v, "shop@example.com").await;
    let settings = app
        .connect_marketplace(&v, "Demo Marketplace", "Demo Store (2001)")
        .await;

    let page = app.enter_store_id(&v, &settings, "9999").await;
    page.expect_text("Store 9999 is not a store your Mirakl authorization gives access to");
    let page = app.enter_store_id(&v, &page, "twelve").await;
    page.expect_text("A Mirakl store ID is a number");
    // Nothing was saved by the failed attempts.
    let channel = only_channel(&app).await;
    assert_eq!(channel.status, ChannelStatus::AwaitingStoreId);
    assert_eq!(channel.store_id, None);

    let page = app.enter_store_id(&v, &page, "2001").await;
    page.expect_text("Demo Store (store 2001)");
}

#[tokio::test]
async fn declining_on_mirakl_changes_nothing_and_offers_to_try_again() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let consent = app.marketplace_consent(&v, "shop@example.com").await;
    let page = v.submit(&consent.form("Decline", &[])).await;
    page.expect_text("You declined access on Mirakl");
    assert!(page.link("Try again").is_some());

    let channel = only_channel(&app).await;
    assert_eq!(channel.status, ChannelStatus::AwaitingAuthorization);
    assert!(
        app.storage()
            .load_tokens(channel.workspace_id, channel.id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_second_authorization_skips_the_store_selection_and_keeps_the_store() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    app.sign_up(&v, "shop@example.com").await;
    let settings = app
        .connect_marketplace(&v, "Demo Marketplace", "Demo Store (2001)")
        .await;
    let settings = app.enter_store_id(&v, &settings, "2001").await;
    let settings = v.submit(&settings.form("Launch", &[])).await;

    let mas = app
        .start_authorization(&v, &settings, "Authorize Demo Marketplace again")
        .await;
    // Still signed in on MAS and the selection is remembered: straight to consent.
    mas.expect_text("Accept");
    assert!(
        !mas.contains("Confirm"),
        "selection should be skipped:\n{}",
        mas.text()
    );
    let callback = app.mas_accept(&v, &mas).await;
    let page = v.get(callback.as_str()).await;
    page.expect_text("Mirakl authorized Marketbridge");
    let channel = only_channel(&app).await;
    assert_eq!(channel.status, ChannelStatus::Live);
    assert_eq!(channel.store_id.map(|s| s.get()), Some(2001));
}

#[tokio::test]
async fn a_mirakl_connect_channel_is_authorized_with_its_company() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    app.sign_up(&v, "shop@example.com").await;
    let settings = app.add_channel(&v, "Mirakl Connect").await;
    let mas = app
        .start_authorization(&v, &settings, "Connect to Mirakl Connect")
        .await;
    let consent = app.mas_until_consent(&v, mas, "Demo Company", "").await;
    let callback = app.mas_accept(&v, &consent).await;
    // During onboarding this is Step 1 done: on to Step 2.
    let page = v.get(callback.as_str()).await;
    page.expect_text("Mirakl Connect is authorized");
    page.expect_text("Step 2 of 4");

    let settings = v.get(settings.url.as_str()).await;
    settings.expect_text("Ready to launch");
    assert!(
        !settings.contains("Mirakl store ID"),
        "Connect channels have no store ID step"
    );
    let page = v.submit(&settings.form("Launch", &[])).await;
    page.expect_text("Mirakl Connect is live");
}

#[tokio::test]
async fn the_account_page_names_the_mirakl_connect_company_granted_on_mas() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    // Step 1 picks "Demo Company" on MAS; its access token names the company.
    app.onboarded(&v, "shop@example.com").await;
    app.connect_marketplace(&v, "Demo Marketplace", "Demo Store (2001)")
        .await;

    let account = v.get(&app.url("/account")).await;
    account.expect_text("Mirakl Connect Status Live Company demo-company");
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let companies: Vec<(ChannelKind, Option<String>)> = app
        .storage()
        .list_channels(ws)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.kind, c.company))
        .collect();
    assert_eq!(
        companies,
        [
            (ChannelKind::MiraklConnect, Some("demo-company".to_owned())),
            (ChannelKind::Marketplace, None),
        ],
        "a marketplace store has no company"
    );
}
