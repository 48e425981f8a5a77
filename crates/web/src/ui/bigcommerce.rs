//! The BigCommerce app's callbacks, as the app's page in BigCommerce's Developer Portal
//! registers them (each under this server's public URL):
//! - **Auth callback** `/bigcommerce/auth`: the merchant installs the app from **My Apps**;
//!   the install code is exchanged for the store's token, the store is connected to a
//!   workspace (the one it was connected to before, else the signed-in seller's, else the
//!   account of the store owner's e-mail, made if needed), and the seller lands, signed in,
//!   in onboarding.
//! - **Load callback** `/bigcommerce/load`: the merchant opens the app; the signed payload
//!   proves who and which store, and signs the workspace's owner in, once per payload.
//! - **Uninstall callback** `/bigcommerce/uninstall`: the app was uninstalled; the store's
//!   workspace is disconnected with its catalog kept active on Mirakl, and the next visit
//!   says so.
//! - **Remove user callback** `/bigcommerce/remove-user`: a store user lost access to the
//!   app; the workspace's own login is not a store user's, so there is nothing to remove.
//!
//! The signed payloads are checked with the app's client secret (`sync::shop`).

use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{DisconnectChoice, Email, ShopConnection};
use serde::Deserialize;
use shops::bigcommerce::app::InstallRequest;
use storage::{StorageError, now_ms};
use sync::shop::StoreAccess;

use crate::AppState;
use crate::error::WebError;
use crate::session::Session;
use crate::ui::ErrorPage;
use crate::ui::accounts::{create_account_without_password, sign_in_and_go};

/// The reason an uninstall's disconnect gives its receipt.
pub const UNINSTALLED: &str = "bigcommerce_uninstalled";

/// What the next visit says after the store's app was uninstalled, until onboarding is done
/// again.
pub async fn uninstalled_notice(
    state: &AppState,
    ws: domain::WorkspaceId,
) -> Result<Option<String>, WebError> {
    let receipt = state.storage().disconnect_receipt_with_reason(ws).await?;
    Ok(match receipt {
        Some((_, at, Some(reason))) if reason == UNINSTALLED => Some(format!(
            "The Marketbridge app was uninstalled from your BigCommerce store on {}, so Marketbridge disconnected it: your catalog stays active on Mirakl, and Marketbridge's data for your accounts was deleted. Set up again to resume.",
            crate::ui::format_time(at)
        )),
        _ => None,
    })
}

fn refused(status: StatusCode, title: &str, message: &str) -> Response {
    ErrorPage::new(title, message).with_status(status)
}

fn not_configured() -> Response {
    refused(
        StatusCode::NOT_FOUND,
        "BigCommerce is not set up here",
        "This Marketbridge has no BigCommerce app configured. Its operator sets one with --bigcommerce-client-id.",
    )
}

/// The auth callback: the app's install.
pub async fn auth(
    State(state): State<AppState>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let shops = &state.flows().shops;
    if shops.bigcommerce_app().is_none() {
        return Ok(not_configured());
    }
    let Ok(request) = InstallRequest::from_query(query.as_deref().unwrap_or("")) else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            "That install link from BigCommerce is incomplete",
            "Install Marketbridge again from My Apps in your BigCommerce control panel.",
        ));
    };
    let redirect_uri = state
        .config()
        .public_url
        .join("/bigcommerce/auth")
        .map_err(|e| WebError::Internal(e.into()))?;
    let installed = match shops
        .exchange_bigcommerce_code(&request, redirect_uri.as_str())
        .await
    {
        Ok(installed) => installed,
        Err(e) => {
            tracing::warn!(error = %e, "BigCommerce install refused");
            return Ok(refused(
                StatusCode::BAD_REQUEST,
                "BigCommerce did not confirm the install",
                &format!(
                    "{e} Nothing was changed. Install Marketbridge again from My Apps in your BigCommerce control panel."
                ),
            ));
        }
    };
    let hash = installed.store_hash.clone();

    // Whose store: the workspace it was connected to, the signed-in seller's, or the
    // account of the installer's e-mail (BigCommerce verified it).
    let bound = shops.bigcommerce_shops(&hash).await?.into_iter().next();
    let (user, ws) = match (bound, session.user) {
        (Some(shop), _) => {
            let owner = state
                .storage()
                .workspace_owner(shop.workspace_id)
                .await?
                .ok_or(WebError::NotFound)?;
            (owner.user_id, shop.workspace_id)
        }
        (None, Some((user, ws))) => (user, ws),
        (None, None) => {
            let Ok(email) = Email::parse(&installed.user_email) else {
                return Ok(refused(
                    StatusCode::BAD_REQUEST,
                    "BigCommerce gave no usable e-mail address",
                    "Sign up to Marketbridge first, then install the app again in the same browser.",
                ));
            };
            match state.storage().find_account_by_email(&email).await? {
                Some(account) => (account.user_id, account.workspace_id),
                None => match create_account_without_password(&state, &email).await {
                    Ok(account) => {
                        tracing::info!(user = %account.user_id, workspace = %account.workspace_id, "account created by a BigCommerce install");
                        (account.user_id, account.workspace_id)
                    }
                    // Made meanwhile by a second install: use it.
                    Err(WebError::Storage(StorageError::Conflict(_))) => {
                        let account = state
                            .storage()
                            .find_account_by_email(&email)
                            .await?
                            .ok_or(WebError::NotFound)?;
                        (account.user_id, account.workspace_id)
                    }
                    Err(e) => return Err(e),
                },
            }
        }
    };
    if let Some(other) = state.storage().get_shop(ws).await?
        && (other.platform != domain::ShopPlatform::BigCommerce
            || other.store_url != shops.bigcommerce_store(hash.clone()).as_str())
    {
        return Ok(refused(
            StatusCode::CONFLICT,
            "This Marketbridge account already has a store",
            &format!(
                "It is connected to {}. Disconnect that store from the Account page first, then install the app again.",
                other.store_url
            ),
        ));
    }
    let access = StoreAccess::BigCommerce {
        api: shops.bigcommerce_store(hash),
        access_token: installed.access_token.clone(),
        scope: Some(installed.scope.clone()),
    };
    if let Err(e) = shops
        .connect(ws, access, ShopConnection::AppAuthorization)
        .await
    {
        return Ok(refused(
            StatusCode::BAD_GATEWAY,
            "Your BigCommerce store could not be connected",
            &format!("{e} Install the app again from My Apps once this is fixed."),
        ));
    }
    tracing::info!(workspace = %ws, "BigCommerce app installed");
    sign_in_and_go(&state, &session, user, ws, "/account?done=shop").await
}

#[derive(Deserialize)]
pub struct PayloadQuery {
    #[serde(default)]
    signed_payload_jwt: String,
}

/// The load callback: the merchant opens the app in the control panel.
pub async fn load(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PayloadQuery>,
) -> Result<Response, WebError> {
    let shops = &state.flows().shops;
    if shops.bigcommerce_app().is_none() {
        return Ok(not_configured());
    }
    let payload = match shops.verify_bigcommerce_payload(&q.signed_payload_jwt) {
        Ok(payload) => payload,
        Err(e) => {
            tracing::warn!(error = %e, "BigCommerce load refused");
            return Ok(refused(
                StatusCode::UNAUTHORIZED,
                "This link from BigCommerce could not be verified",
                "Open Marketbridge again from My Apps in your BigCommerce control panel.",
            ));
        }
    };
    // A payload signs in once: a load link kept in a browser's history or a proxy's log
    // signs no one in again.
    if !state
        .storage()
        .use_signed_payload(&crate::session::sha256(&payload.jti), now_ms())
        .await?
    {
        tracing::warn!("a BigCommerce load payload was replayed");
        return Ok(refused(
            StatusCode::UNAUTHORIZED,
            "This link from BigCommerce was already used",
            "Open Marketbridge again from My Apps in your BigCommerce control panel.",
        ));
    }
    let Some(shop) = shops
        .bigcommerce_shops(&payload.store_hash)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(refused(
            StatusCode::NOT_FOUND,
            "This store is not connected to Marketbridge",
            "Install the Marketbridge app again from My Apps in your BigCommerce control panel.",
        ));
    };
    let owner = state
        .storage()
        .workspace_owner(shop.workspace_id)
        .await?
        .ok_or(WebError::NotFound)?;
    sign_in_and_go(&state, &session, owner.user_id, shop.workspace_id, "/").await
}

/// The uninstall callback, server to server: the workspace is disconnected with its catalog
/// kept active on Mirakl (what the seller would want of a store they keep selling from).
pub async fn uninstall(
    State(state): State<AppState>,
    Query(q): Query<PayloadQuery>,
) -> Result<Response, WebError> {
    let shops = &state.flows().shops;
    if shops.bigcommerce_app().is_none() {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let payload = match shops.verify_bigcommerce_payload(&q.signed_payload_jwt) {
        Ok(payload) => payload,
        Err(e) => {
            tracing::warn!(error = %e, "BigCommerce uninstall refused");
            return Ok((StatusCode::UNAUTHORIZED, "signed payload refused").into_response());
        }
    };
    for shop in shops.bigcommerce_shops(&payload.store_hash).await? {
        let ws = shop.workspace_id;
        match state
            .storage()
            .start_disconnect(ws, None, DisconnectChoice::Keep, now_ms())
            .await
        {
            Ok(_) => {
                state
                    .storage()
                    .set_disconnect_reason(ws, UNINSTALLED)
                    .await?;
            }
            // A disconnect already runs: it ends the same way.
            Err(StorageError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
        state.flows().disconnect.enqueue(ws).await?;
        tracing::info!(workspace = %ws, "BigCommerce app uninstalled: disconnecting, catalog kept");
    }
    Ok((StatusCode::OK, "uninstalled").into_response())
}

/// The remove-user callback, server to server: checked, and nothing to do.
pub async fn remove_user(State(state): State<AppState>, Query(q): Query<PayloadQuery>) -> Response {
    match state
        .flows()
        .shops
        .verify_bigcommerce_payload(&q.signed_payload_jwt)
    {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(_) => (StatusCode::UNAUTHORIZED, "signed payload refused").into_response(),
    }
}
