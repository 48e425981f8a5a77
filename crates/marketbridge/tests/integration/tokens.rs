//! F7: tokens are renewed ahead of expiry by one worker at a time per channel; a refused
//! renewal asks the seller to reconnect, and reconnecting keeps the channel's settings.

use std::time::Duration;

use domain::{ChannelId, ChannelStatus, WorkspaceId};
use mirakl::marketplace::{Credential, MarketplaceClient, MarketplaceError};
use test_support::{Engine, TestApp, Visitor};

/// A live Demo Marketplace channel (store 2001) and the visitor who made it.
async fn live_channel(app: &TestApp) -> (Visitor, WorkspaceId, ChannelId) {
    let v = Visitor::new();
    app.sign_up(&v, "shop@example.com").await;
    let settings = app
        .connect_marketplace(&v, "Demo Marketplace", "Demo Store (2001)")
        .await;
    let settings = app.enter_store_id(&v, &settings, "2001").await;
    v.submit(&settings.form("Launch", &[]))
        .await
        .expect_text("is live");
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let channel = app.storage().list_channels(ws).await.unwrap()[0].id;
    (v, ws, channel)
}

async fn a01(
    app: &TestApp,
    access_token: &str,
) -> Result<mirakl::marketplace::ShopAccount, MarketplaceError> {
    let instance =
        domain::InstanceUrl::parse(&format!("{}mmp/demo-marketplace", app.sandbox_url)).unwrap();
    MarketplaceClient::new(mirakl::http_client())
        .account(
            &instance,
            Credential::Bearer(access_token),
            domain::StoreId::new(2001),
        )
        .await
}

/// The channel's stored tokens.
async fn tokens(app: &TestApp, ws: WorkspaceId, channel: ChannelId) -> storage::TokenSet {
    app.storage()
        .load_tokens(ws, channel)
        .await
        .unwrap()
        .unwrap()
        .tokens
}

#[tokio::test]
async fn a_token_close_to_expiry_is_renewed_by_the_worker() {
    let app = TestApp::spawn().await;
    // Tokens that live one minute are inside the five-minute renewal margin at once.
    app.sandbox
        .set_token_lifetimes(Duration::from_secs(60), Duration::from_secs(3600));
    let (v, ws, channel) = live_channel(&app).await;
    let before = tokens(&app, ws, channel).await;

    assert!(app.drain_jobs().await >= 1, "a refresh job should have run");
    let after = app
        .storage()
        .load_tokens(ws, channel)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        after.tokens.access_token.expose(),
        before.access_token.expose()
    );
    assert_ne!(
        after.tokens.refresh_token.as_ref().unwrap().expose(),
        before.refresh_token.as_ref().unwrap().expose(),
        "MAS rotates refresh tokens"
    );
    assert!(after.refreshed_at_ms.is_some());
    assert!(
        a01(&app, after.tokens.access_token.expose()).await.is_ok(),
        "the new token works"
    );
    v.get(&app.url("/")).await.expect_text("Live");
}

#[tokio::test]
async fn a_token_far_from_expiry_is_left_alone() {
    let app = TestApp::spawn().await;
    let (_v, ws, channel) = live_channel(&app).await;
    let before = tokens(&app, ws, channel).await;
    // The launch's catalog work runs, but no token refresh.
    app.drain_jobs().await;
    let after = tokens(&app, ws, channel).await;
    assert_eq!(after.access_token.expose(), before.access_token.expose());
    assert_eq!(
        app.sandbox.call_count("mas.token"),
        1,
        "only the code exchange reached MAS"
    );
}

#[tokio::test]
async fn a_refused_refresh_asks_for_reconnection_and_reconnecting_keeps_the_store() {
    let app = TestApp::spawn().await;
    app.sandbox
        .set_token_lifetimes(Duration::from_secs(60), Duration::from_secs(3600));
    let (v, ws, channel) = live_channel(&app).await;
    app.sandbox.revoke_all_grants("marketbridge-demo");

    app.drain_jobs().await;
    let c = app
        .storage()
        .get_channel(ws, channel)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, ChannelStatus::ReauthorizationNeeded);
    let dashboard = v.get(&app.url("/")).await;
    dashboard.expect_text("Reauthorization needed");

    // Reconnect from the dashboard: MAS remembers the seller, the selection is skipped.
    app.sandbox
        .set_token_lifetimes(Duration::from_secs(3599), Duration::from_secs(3600));
    let mas = app.start_authorization(&v, &dashboard, "Reconnect").await;
    let consent = app
        .mas_until_consent(&v, mas, "Demo Marketplace", "Demo Store (2001)")
        .await;
    let callback = app.mas_accept(&v, &consent).await;
    v.get(callback.as_str())
        .await
        .expect_text("Mirakl authorized Marketbridge");

    let c = app
        .storage()
        .get_channel(ws, channel)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        c.status,
        ChannelStatus::Live,
        "the channel returns to where it was"
    );
    assert_eq!(
        c.store_id.map(|s| s.get()),
        Some(2001),
        "its settings are kept"
    );
    v.get(&app.url("/")).await.expect_text("Valid until");
}

/// Mirakl refusing an access token before its expiry is not left to fail every call until the
/// scheduled renewal: the job that met the 401 has the token renewed at once; and when MAS
/// refuses the renewal too (the seller revoked the app), the seller is asked to reconnect
/// instead of the channel showing Live while nothing goes through.
#[tokio::test]
async fn a_token_mirakl_refuses_is_renewed_at_once_and_a_revoked_app_asks_to_reconnect() {
    let app = TestApp::spawn().await;
    let (v, ws, channel) = live_channel(&app).await;
    app.drain_jobs().await;
    let poll = || async {
        app.connector()
            .flows
            .orders
            .poll_now(ws, channel)
            .await
            .unwrap();
        app.drain_jobs().await;
    };

    // The access token alone revoked, an hour before it expires.
    let before = tokens(&app, ws, channel).await;
    app.sandbox
        .revoke_token("marketbridge-demo", before.access_token.expose());
    assert!(matches!(
        a01(&app, before.access_token.expose()).await,
        Err(MarketplaceError::Unauthorized)
    ));
    poll().await;
    let after = tokens(&app, ws, channel).await;
    assert_ne!(
        after.access_token.expose(),
        before.access_token.expose(),
        "renewed after the 401"
    );
    a01(&app, after.access_token.expose())
        .await
        .expect("the renewed token is accepted");
    let status = |app: &TestApp| {
        let storage = app.storage().clone();
        async move {
            storage
                .get_channel(ws, channel)
                .await
                .unwrap()
                .unwrap()
                .status
        }
    };
    assert_eq!(status(&app).await, ChannelStatus::Live);

    // The whole grant revoked: the renewal is refused too.
    app.sandbox.revoke_all_grants("marketbridge-demo");
    poll().await;
    assert_eq!(status(&app).await, ChannelStatus::ReauthorizationNeeded);
    v.get(&app.url("/"))
        .await
        .expect_text("Reauthorization needed");
}

#[tokio::test]
async fn reusing_an_authorization_code_revokes_what_it_issued() {
    let app = TestApp::spawn().await;
    let v = Visitor::new();
    let consent = app.marketplace_consent(&v, "shop@example.com").await;
    let callback = app.mas_accept(&v, &consent).await;
    v.get(callback.as_str())
        .await
        .expect_text("Mirakl authorized Marketbridge");
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let channel = app.storage().list_channels(ws).await.unwrap()[0].id;
    let tokens = tokens(&app, ws, channel).await;
    assert!(a01(&app, tokens.access_token.expose()).await.is_ok());

    // Someone replays the code straight at MAS (with any verifier): refused, and the tokens
    // the code first issued die with it.
    let code: String = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let err = app
        .connector_mas_client()
        .exchange_code(&code, &"v".repeat(64))
        .await
        .unwrap_err();
    assert!(
        matches!(err, mirakl::mas::MasError::InvalidGrant(_)),
        "{err:?}"
    );
    assert!(matches!(
        a01(&app, tokens.access_token.expose()).await,
        Err(MarketplaceError::Unauthorized)
    ));
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_kills_the_grant() {
    let app = TestApp::spawn().await;
    app.sandbox
        .set_token_lifetimes(Duration::from_secs(60), Duration::from_secs(3600));
    let (_v, ws, channel) = live_channel(&app).await;
    let old = tokens(&app, ws, channel).await;
    app.drain_jobs().await;

    let err = app
        .connector_mas_client()
        .refresh(old.refresh_token.as_ref().unwrap().expose())
        .await
        .unwrap_err();
    assert!(
        matches!(err, mirakl::mas::MasError::InvalidGrant(_)),
        "{err:?}"
    );
    // The whole family is revoked: the connector's current refresh token fails too.
    app.drain_jobs().await;
    let c = app
        .storage()
        .get_channel(ws, channel)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, ChannelStatus::ReauthorizationNeeded);
}

/// Two workers racing to renew one channel: one renews, the other stands aside, and the grant
/// survives (MAS would revoke it if the same refresh token were presented twice).
async fn one_refresh_at_a_time(engine: Engine) {
    let app = TestApp::spawn_on(engine).await;
    app.sandbox
        .set_token_lifetimes(Duration::from_secs(60), Duration::from_secs(3600));
    let (_v, ws, channel) = live_channel(&app).await;
    // Whoever renews gets an hour-long token, so the other finds nothing left to do,
    // whichever order they run in.
    app.sandbox
        .set_token_lifetimes(Duration::from_secs(3599), Duration::from_secs(3600));
    // A second "process": its own storage handle (its own pool) and its own token keeper.
    let other = app.second_node().await;
    let calls_before = app.sandbox.call_count("mas.token");
    let (a, b) = tokio::join!(
        app.connector().flows.tokens.refresh(ws, channel),
        other.flows.tokens.refresh(ws, channel)
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    let renewed = outcomes
        .iter()
        .filter(|o| **o == sync::tokens::Refreshed::Renewed)
        .count();
    assert_eq!(renewed, 1, "exactly one refresh: {outcomes:?}");
    assert_eq!(
        app.sandbox.call_count("mas.token"),
        calls_before + 1,
        "one refresh reached MAS"
    );
    // The grant is alive: the next renewal works.
    let tokens = tokens(&app, ws, channel).await;
    assert!(a01(&app, tokens.access_token.expose()).await.is_ok());
    let c = app
        .storage()
        .get_channel(ws, channel)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, ChannelStatus::Live);
}

#[tokio::test]
async fn one_refresh_at_a_time_per_channel_on_sqlite() {
    one_refresh_at_a_time(Engine::Sqlite).await;
}

#[tokio::test]
async fn one_refresh_at_a_time_per_channel_across_nodes_on_postgres() {
    one_refresh_at_a_time(Engine::Postgres).await;
}

#[tokio::test]
async fn the_whole_flow_also_runs_on_postgres() {
    let app = TestApp::spawn_on(Engine::Postgres).await;
    let (v, ws, channel) = live_channel(&app).await;
    assert_eq!(
        app.storage()
            .get_channel(ws, channel)
            .await
            .unwrap()
            .unwrap()
            .status,
        ChannelStatus::Live
    );
    v.get(&app.url("/")).await.expect_text("Valid until");
}
