//! The Mirakl OAuth callback (end of F1): MAS sends the browser back here with `code` and
//! `state`, or with `error`.
//!
//! The `state` is single use and must belong to this browser session and be fresh; anything
//! else is refused with a page that says what happened. The pending authorization is consumed
//! before any other check, so a refused callback can never be replayed either.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::ChannelEvent;
use mirakl::mas::MasError;
use serde::Deserialize;
use storage::{PendingLookup, now_ms};
use sync::TokenKeeper;

use crate::AppState;
use crate::error::WebError;
use crate::session::{Session, sha256};
use crate::ui::ErrorPage;

#[derive(Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn refused(session: &Session, title: &str, message: String, retry: Option<String>) -> Response {
    let page = ErrorPage::new(title, message).with_nav(session);
    let page = match retry {
        Some(href) => page.with_action(href, "Try again"),
        None => page.with_action("/", "Back to the dashboard"),
    };
    page.with_status(StatusCode::BAD_REQUEST)
}

pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let Ok(Query(q)) = query else {
        return Ok(refused(
            &session,
            "That link from Mirakl could not be read",
            "The address Mirakl sent you back to is malformed. Start the connection again from the channel's Settings.".into(),
            None,
        ));
    };
    let Some(state_param) = q.state.filter(|s| !s.is_empty()) else {
        return Ok(refused(
            &session,
            "That link from Mirakl is incomplete",
            "It carries no state, so Marketbridge cannot tell which connection it finishes. Start again from the channel's Settings.".into(),
            None,
        ));
    };
    let pending = match state
        .storage()
        .take_pending_authorization(&sha256(&state_param), now_ms())
        .await?
    {
        PendingLookup::Unknown => {
            tracing::warn!("callback with an unknown state refused");
            return Ok(refused(
                &session,
                "This authorization is not one Marketbridge started",
                "It may come from an old link or another site. Nothing was changed. Start the connection again from the channel's Settings.".into(),
                None,
            ));
        }
        PendingLookup::Replayed => {
            tracing::warn!("callback with an already used state refused");
            return Ok(refused(
                &session,
                "This authorization was already used",
                "Each Mirakl authorization link works once. Nothing was changed. If the channel is not connected, start again from its Settings.".into(),
                None,
            ));
        }
        PendingLookup::Taken(p) => p,
    };
    let retry = Some(format!("/channels/{}", pending.channel_id));
    let same_browser = pending.session_id == session.id
        && session
            .user
            .is_some_and(|(_, ws)| ws == pending.workspace_id);
    if !same_browser {
        tracing::warn!(channel = %pending.channel_id, "callback from another browser session refused");
        return Ok(refused(
            &session,
            "This authorization was started in another browser session",
            "For your security Marketbridge only finishes a Mirakl authorization in the browser that started it, while signed in. Sign in and start again from the channel's Settings.".into(),
            None,
        ));
    }
    if pending.expires_at_ms < now_ms() {
        return Ok(refused(
            &session,
            "This authorization took too long",
            "The link from Mirakl has expired. Nothing was changed. Start again; it takes a minute.".into(),
            retry,
        ));
    }
    if let Some(error) = q.error {
        let message = if error == "access_denied" {
            "You declined access on Mirakl, so Marketbridge was not connected. Nothing was changed; you can connect whenever you are ready.".to_owned()
        } else {
            let detail = q
                .error_description
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            format!("Mirakl did not authorize Marketbridge ({error}{detail}). Nothing was changed.")
        };
        tracing::info!(channel = %pending.channel_id, %error, "authorization not granted");
        return Ok(refused(
            &session,
            "Mirakl was not connected",
            message,
            retry,
        ));
    }
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return Ok(refused(
            &session,
            "Mirakl sent no authorization code",
            "The connection cannot be finished without it. Nothing was changed. Try again.".into(),
            retry,
        ));
    };
    let ws = pending.workspace_id;
    let Some(channel) = state.storage().get_channel(ws, pending.channel_id).await? else {
        return Ok(refused(
            &session,
            "This channel no longer exists",
            "It was removed while you were on Mirakl.".into(),
            None,
        ));
    };
    let response = match state
        .inner
        .mas
        .exchange_code(&code, pending.pkce_verifier.expose())
        .await
    {
        Ok(r) => r,
        Err(MasError::InvalidGrant(_)) => {
            return Ok(refused(
                &session,
                "Mirakl refused the authorization code",
                "It may have expired or been used already. Nothing was changed. Try again.".into(),
                retry,
            ));
        }
        Err(e) => {
            tracing::warn!(channel = %channel.id, error = %e, "code exchange failed");
            return Ok(refused(
                &session,
                "Marketbridge could not finish the connection",
                format!(
                    "The Mirakl Authentication System did not answer as expected ({e}). Nothing was changed. Try again in a moment."
                ),
                retry,
            ));
        }
    };
    let event = ChannelEvent::Authorized {
        has_store: channel.store_id.is_some(),
        launched: channel.launched_at_ms.is_some(),
    };
    let next = channel
        .status
        .apply(channel.kind, event)
        .map_err(|e| WebError::Internal(e.into()))?;
    // The Connect company chosen on MAS is not in the token response's documented fields
    // (`resource_owner` is the user); it will be read from the Connect API once that client
    // exists. Until then the channel shows no company rather than a guess.
    let company: Option<&str> = None;
    let tokens = TokenKeeper::token_set(response, now_ms());
    state
        .storage()
        .authorize_channel(ws, channel.id, &tokens, next, company, now_ms())
        .await?;
    state
        .storage()
        .record_channel_success(ws, channel.id, now_ms())
        .await?;
    tracing::info!(workspace = %ws, channel = %channel.id, status = next.as_str(), "channel authorized");
    // During onboarding, Step 1 is the Connect authorization: go on to Step 2.
    let onboarding = crate::ui::onboarding::progress(&state, ws)
        .await?
        .step
        .is_some();
    if onboarding && channel.kind == domain::ChannelKind::MiraklConnect {
        return Ok(Redirect::to("/onboarding?done=connect").into_response());
    }
    Ok(Redirect::to(&format!("/channels/{}?done=authorized", channel.id)).into_response())
}
