//! Sign up, sign in and sign out of the connector.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use domain::{Email, Password};
use serde::Deserialize;
use storage::{LoginAttempt, StorageError, now_ms};

use crate::AppState;
use crate::error::WebError;
use crate::form::Form;
use crate::session::{Session, end_session, start_session};
use crate::ui::{Nav, render};

#[derive(Template)]
#[template(path = "sign_up.html")]
struct SignUpPage {
    nav: Nav,
    csrf_token: String,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    nav: Nav,
    csrf_token: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn sign_up_form(session: Session) -> Response {
    if session.user.is_some() {
        return Redirect::to("/").into_response();
    }
    render(&SignUpPage {
        nav: Nav::anonymous(),
        csrf_token: session.csrf_token,
        email: String::new(),
        error: None,
    })
}

pub async fn sign_up(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<Credentials>,
) -> Result<Response, WebError> {
    let again = |status: StatusCode, error: String| {
        let page = render(&SignUpPage {
            nav: Nav::anonymous(),
            csrf_token: session.csrf_token.clone(),
            email: form.email.clone(),
            error: Some(error),
        });
        (status, page).into_response()
    };
    let email = match Email::parse(&form.email) {
        Ok(e) => e,
        Err(e) => return Ok(again(StatusCode::BAD_REQUEST, e.to_string())),
    };
    let password = match Password::parse(&form.password) {
        Ok(p) => p,
        Err(e) => return Ok(again(StatusCode::BAD_REQUEST, e.to_string())),
    };
    let hash = hash_password(password).await?;
    let account = match state
        .storage()
        .create_account(&email, &hash, now_ms())
        .await
    {
        Ok(a) => a,
        Err(StorageError::Conflict(_)) => {
            return Ok(again(
                StatusCode::CONFLICT,
                "An account with this e-mail already exists. Sign in instead.".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user = %account.user_id, workspace = %account.workspace_id, "account created");
    signed_in_response(&state, &session, account.user_id, account.workspace_id).await
}

pub async fn sign_in_form(session: Session) -> Response {
    if session.user.is_some() {
        return Redirect::to("/").into_response();
    }
    render(&SignInPage {
        nav: Nav::anonymous(),
        csrf_token: session.csrf_token,
        email: String::new(),
        error: None,
        notice: None,
    })
}

/// The same message for an unknown e-mail and a wrong password, so the form does not tell
/// who has an account.
const WRONG_CREDENTIALS: &str =
    "That e-mail and password do not match an account. Check them and try again.";

pub async fn sign_in(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<Credentials>,
) -> Result<Response, WebError> {
    let again = |error: String| {
        render(&SignInPage {
            nav: Nav::anonymous(),
            csrf_token: session.csrf_token.clone(),
            email: form.email.clone(),
            error: Some(error),
            notice: None,
        })
    };
    let Ok(email) = Email::parse(&form.email) else {
        return Ok(again(WRONG_CREDENTIALS.into()));
    };
    let account = state.storage().find_account_by_email(&email).await?;
    let locked = |until: i64| {
        let minutes = (until - now_ms() + 59_999).max(60_000) / 60_000;
        again(format!(
            "Too many failed sign-ins for this account. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        ))
    };
    // The attempt is reserved (and counted as failed) before the password is checked, in one
    // conditional write: however many sign-ins arrive at once, at most MAX_FAILED_LOGINS
    // passwords are checked per window.
    let attempt = match &account {
        Some(a) => match state
            .storage()
            .reserve_login_attempt(a.user_id, now_ms())
            .await?
        {
            LoginAttempt::Locked { until_ms } => return Ok(locked(until_ms)),
            LoginAttempt::Reserved { attempt, locks } => Some((attempt, locks)),
        },
        None => None,
    };
    // Verify against a fixed hash when the account is unknown, so both cases take as long.
    let stored_hash = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.clone());
    let valid = verify_password(form.password.clone(), stored_hash).await?;
    let (Some(account), Some((attempt, locks))) = (account, attempt) else {
        return Ok(again(WRONG_CREDENTIALS.into()));
    };
    if !valid {
        tracing::info!(user = %account.user_id, failures = attempt, "failed sign-in");
        if locks {
            return Ok(locked(now_ms() + storage::account::LOCKOUT_MS));
        }
        return Ok(again(WRONG_CREDENTIALS.into()));
    }
    state.storage().clear_failed_logins(account.user_id).await?;
    signed_in_response(&state, &session, account.user_id, account.workspace_id).await
}

pub async fn sign_out(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, WebError> {
    let cookie = end_session(&state, &session).await?;
    Ok(([(SET_COOKIE, cookie)], Redirect::to("/sign-in")).into_response())
}

/// Replaces the anonymous session with a signed-in one (a fixed session id is worthless).
async fn signed_in_response(
    state: &AppState,
    old: &Session,
    user: domain::UserId,
    ws: domain::WorkspaceId,
) -> Result<Response, WebError> {
    // A workspace that has not finished onboarding lands on its current step.
    sign_in_and_go(state, old, user, ws, "/").await
}

/// Creates an account for someone who signs in through a shop's app (BigCommerce's load
/// callback): its password is random and known to nobody, until they choose one.
/// `Conflict("users_email")` if the address is taken.
pub(crate) async fn create_account_without_password(
    state: &AppState,
    email: &Email,
) -> Result<storage::Account, WebError> {
    let hash = hash_password(
        Password::parse(&crate::session::random_token())
            .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?,
    )
    .await?;
    Ok(state
        .storage()
        .create_account(email, &hash, now_ms())
        .await?)
}

/// Signs `user` in, in a new session that replaces `old`, and goes on to `next`, or to the
/// workspace's onboarding step when it has not finished onboarding.
pub(crate) async fn sign_in_and_go(
    state: &AppState,
    old: &Session,
    user: domain::UserId,
    ws: domain::WorkspaceId,
    next: &str,
) -> Result<Response, WebError> {
    end_session(state, old).await?;
    let (_, cookie) = start_session(state, Some((user, ws))).await?;
    let onboarding = crate::ui::onboarding::progress(state, ws)
        .await?
        .step
        .is_some();
    let next = if onboarding { "/onboarding" } else { next };
    Ok(([(SET_COOKIE, cookie)], Redirect::to(next)).into_response())
}

/// An argon2id hash of a random password nobody knows, used to spend the same time on an
/// unknown e-mail as on a known one.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    Argon2::default()
        .hash_password(crate::session::random_token().as_bytes())
        .map(|h| h.to_string())
        .expect("argon2 hashes a random password")
});

async fn hash_password(password: Password) -> Result<String, WebError> {
    crate::password::hash(password.expose().to_owned())
        .await
        .map_err(WebError::Internal)
}

async fn verify_password(password: String, hash: String) -> Result<bool, WebError> {
    crate::password::verify(password, hash)
        .await
        .map_err(WebError::Internal)
}
