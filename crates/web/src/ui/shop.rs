//! F2's pages: connecting the seller's WooCommerce store, by its app authorization
//! (preferred: the store creates keys for Marketbridge and POSTs them to us) or with pasted
//! keys. The browser's part of the app authorization is here; proving the keys, storing the
//! shop and registering its webhooks is the flow's (`sync::shop`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::ShopConnection;
use serde::Deserialize;
use shops::woocommerce::{AppAuthorization, AppKeys, Scope, StoreUrl};
use storage::{NewPendingShopAuthorization, PendingShopLookup, Secret, now_ms};
use sync::shop::StoreAccess;

use crate::AppState;
use crate::error::WebError;
use crate::form::Form;
use crate::session::{Session, SignedIn, random_token, sha256};
use crate::ui::ErrorPage;
use crate::ui::onboarding::{OnboardingPage, progress};
use crate::ui::render;

#[derive(Deserialize)]
pub struct ConnectForm {
    #[serde(default)]
    store_url: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    consumer_key: String,
    #[serde(default)]
    consumer_secret: String,
}

/// Shows Step 2 again with an error, keeping what the seller typed (but never the secret).
async fn step_two_again(
    state: &AppState,
    me: SignedIn,
    session: &Session,
    store_url: &str,
    error: String,
) -> Result<Response, WebError> {
    let progress = progress(state, me.workspace_id).await?;
    let mut page = OnboardingPage::new(session, &progress, 2);
    page.store_url = store_url.to_owned();
    page.error = Some(error);
    Ok(render(&page))
}

pub async fn connect(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Form(form): Form<ConnectForm>,
) -> Result<Response, WebError> {
    let store = match StoreUrl::parse(&form.store_url) {
        Ok(s) => s,
        Err(e) => {
            return step_two_again(&state, me, &session, &form.store_url, e.to_string()).await;
        }
    };
    // Said now, before the seller is sent to the store's approve page; every call checks it
    // again, and the names it resolves to.
    if let Err(e) = state.flows().shops.check_address(&store) {
        return step_two_again(&state, me, &session, &form.store_url, e.to_string()).await;
    }
    if form.method == "keys" {
        let key = form.consumer_key.trim();
        let secret = form.consumer_secret.trim();
        if key.is_empty() || secret.is_empty() {
            return step_two_again(
                &state,
                me,
                &session,
                &form.store_url,
                "Enter both the consumer key and the consumer secret, or use Connect with WooCommerce.".to_owned(),
            )
            .await;
        }
        return match finish_connection(
            &state,
            me,
            &store,
            key,
            secret,
            None,
            ShopConnection::PastedKeys,
        )
        .await
        {
            Ok(()) => Ok(after_connection(&state, me).await?),
            Err(message) => step_two_again(&state, me, &session, &form.store_url, message).await,
        };
    }
    // The app authorization: the store will call us back with the keys, server to server,
    // naming this token as `user_id`; the browser returns with the same token.
    let token = random_token();
    let now = now_ms();
    state
        .storage()
        .create_pending_shop_authorization(&NewPendingShopAuthorization {
            token_hash: sha256(&token),
            session_id: session.id,
            workspace_id: me.workspace_id,
            store_url: store.as_str().to_owned(),
            created_at_ms: now,
            expires_at_ms: now + state.config().authorization_ttl.as_millis() as i64,
        })
        .await?;
    let public = &state.config().public_url;
    let return_url = public
        .join("/shop/woocommerce/return")
        .map_err(|e| WebError::Internal(e.into()))?;
    let callback_url = public
        .join("/shop/woocommerce/keys")
        .map_err(|e| WebError::Internal(e.into()))?;
    let url = shops::woocommerce::app_authorization_url(
        &store,
        &AppAuthorization {
            app_name: shops::APP_NAME,
            scope: Scope::ReadWrite,
            user_id: &token,
            return_url: &return_url,
            callback_url: &callback_url,
        },
    );
    tracing::info!(workspace = %me.workspace_id, "WooCommerce app authorization started");
    Ok(Redirect::to(url.as_str()).into_response())
}

/// The store's server-to-server POST of the new keys (no browser, no session: the token in
/// `user_id` is the only proof). Anything but 200 makes WooCommerce delete the key again.
pub async fn receive_keys(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let not_keys = || {
        (
            StatusCode::BAD_REQUEST,
            "expected the WooCommerce app authorization JSON",
        )
            .into_response()
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return not_keys();
    };
    if let Err(e) = crate::input::check_json(&json) {
        return (StatusCode::BAD_REQUEST, e.to_string()).into_response();
    }
    let Ok(keys) = serde_json::from_value::<AppKeys>(json) else {
        return not_keys();
    };
    let attached = state
        .storage()
        .attach_shop_keys(
            &sha256(&keys.user_id),
            &Secret::new(keys.consumer_key.clone()),
            &Secret::new(keys.consumer_secret.clone()),
            &keys.key_permissions,
            now_ms(),
        )
        .await;
    match attached {
        Ok(true) => (StatusCode::OK, "keys received").into_response(),
        Ok(false) => {
            tracing::warn!(
                "WooCommerce keys for an unknown, expired or used authorization refused"
            );
            (
                StatusCode::NOT_FOUND,
                "no pending authorization for this user_id",
            )
                .into_response()
        }
        Err(e) => WebError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct ReturnQuery {
    success: Option<String>,
    user_id: Option<String>,
}

/// The browser's return from the store's approve page.
pub async fn return_from_store(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Query(q): Query<ReturnQuery>,
) -> Result<Response, WebError> {
    let refused = |title: &str, message: &str| {
        ErrorPage::new(title, message)
            .with_nav(&session)
            .with_action("/onboarding", "Try again")
            .with_status(StatusCode::BAD_REQUEST)
    };
    let Some(token) = q.user_id.filter(|t| !t.is_empty()) else {
        return Ok(refused(
            "That link from your store is incomplete",
            "Start the connection again.",
        ));
    };
    let pending = match state
        .storage()
        .take_pending_shop_authorization(&sha256(&token), now_ms())
        .await?
    {
        PendingShopLookup::Unknown => {
            return Ok(refused(
                "This store connection is not one Marketbridge started",
                "Nothing was changed. Start again.",
            ));
        }
        PendingShopLookup::Replayed => {
            return Ok(refused(
                "This store connection was already used",
                "Each approval link works once. Nothing was changed.",
            ));
        }
        PendingShopLookup::Taken(p) => p,
    };
    if pending.session_id != session.id || pending.workspace_id != me.workspace_id {
        return Ok(refused(
            "This store connection was started in another browser session",
            "For your security it can only be finished where it started. Nothing was changed.",
        ));
    }
    if q.success.as_deref() != Some("1") {
        return Ok(refused(
            "The store was not connected",
            "You did not approve Marketbridge in your WooCommerce admin, so nothing was changed. You can connect whenever you are ready.",
        ));
    }
    if pending.expires_at_ms < now_ms() {
        return Ok(refused(
            "This store connection took too long",
            "Nothing was changed. Start again; it takes a minute.",
        ));
    }
    let Some((key, secret, permissions)) = pending.keys else {
        return Ok(refused(
            "WooCommerce did not send the keys",
            "Your store approved Marketbridge but its keys never reached us (the store must be able to reach this server). Try again, or paste API keys instead.",
        ));
    };
    let store = StoreUrl::parse(&pending.store_url)
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?;
    match finish_connection(
        &state,
        me,
        &store,
        key.expose(),
        secret.expose(),
        Some(permissions),
        ShopConnection::AppAuthorization,
    )
    .await
    {
        Ok(()) => after_connection(&state, me).await,
        Err(message) => step_two_again(&state, me, &session, store.as_str(), message).await,
    }
}

async fn after_connection(state: &AppState, me: SignedIn) -> Result<Response, WebError> {
    let onboarding = progress(state, me.workspace_id).await?.step.is_some();
    Ok(Redirect::to(if onboarding {
        "/onboarding?done=shop"
    } else {
        "/account?done=shop"
    })
    .into_response())
}

/// Connects the store with these keys (the flow proves them, stores the shop and registers
/// the webhooks); the error, if any, is the seller's message.
async fn finish_connection(
    state: &AppState,
    me: SignedIn,
    store: &StoreUrl,
    consumer_key: &str,
    consumer_secret: &str,
    permissions: Option<String>,
    connection: ShopConnection,
) -> Result<(), String> {
    let access = StoreAccess::WooCommerce {
        store: store.clone(),
        consumer_key: consumer_key.to_owned(),
        consumer_secret: consumer_secret.to_owned(),
        permissions,
    };
    state
        .flows()
        .shops
        .connect(me.workspace_id, access, connection)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[derive(Deserialize)]
pub struct BigCommerceForm {
    #[serde(default)]
    api_path: String,
    #[serde(default)]
    access_token: String,
}

/// A BigCommerce store by pasted API-account credentials: the API path (or the store hash)
/// and the access token.
pub async fn connect_bigcommerce(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Form(form): Form<BigCommerceForm>,
) -> Result<Response, WebError> {
    let again = |message: String| async {
        let progress = progress(&state, me.workspace_id).await?;
        let mut page = OnboardingPage::new(&session, &progress, 2);
        page.bc_api_path = form.api_path.trim().to_owned();
        page.error = Some(message);
        Ok::<_, WebError>(render(&page))
    };
    let shops = &state.flows().shops;
    let api = match shops.parse_bigcommerce_store(&form.api_path) {
        Ok(api) => api,
        Err(e) => return again(e.to_string()).await,
    };
    let token = form.access_token.trim();
    if token.is_empty() {
        return again("Enter the API account's access token.".to_owned()).await;
    }
    let access = StoreAccess::BigCommerce {
        api,
        access_token: token.to_owned(),
        scope: None,
    };
    match shops
        .connect(me.workspace_id, access, ShopConnection::PastedKeys)
        .await
    {
        Ok(_) => after_connection(&state, me).await,
        Err(e) => again(e.to_string()).await,
    }
}
