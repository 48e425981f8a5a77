//! The Mirakl OAuth callback (end of F1): MAS sends the browser back here with `code` and
//! `state`, or with `error`. The checks and the code exchange are the flow's
//! (`sync::authorization`); this page reads the query, hands it over, and says what happened.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::ChannelKind;
use serde::Deserialize;
use sync::authorization::{Browser, Callback};

use crate::AppState;
use crate::error::WebError;
use crate::session::Session;
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
    let browser = Browser {
        session_id: session.id,
        workspace: session.user.map(|(_, ws)| ws),
    };
    let callback = Callback {
        state: q.state,
        code: q.code,
        error: q.error,
        error_description: q.error_description,
    };
    let authorized = match state
        .flows()
        .authorization
        .complete(browser, callback)
        .await?
    {
        Ok(authorized) => authorized,
        Err(refusal) => {
            let retry = refusal.retry().map(|c| format!("/channels/{c}"));
            return Ok(refused(&session, refusal.title(), refusal.message(), retry));
        }
    };
    // During onboarding, Step 1 is the Connect authorization: go on to Step 2.
    let onboarding = crate::ui::onboarding::progress(&state, authorized.workspace)
        .await?
        .step
        .is_some();
    if onboarding && authorized.kind == ChannelKind::MiraklConnect {
        return Ok(Redirect::to("/onboarding?done=connect").into_response());
    }
    Ok(Redirect::to(&format!("/channels/{}?done=authorized", authorized.channel)).into_response())
}
