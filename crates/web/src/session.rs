//! Browser sessions and CSRF protection.
//!
//! The session cookie holds 32 random bytes; the database holds only their SHA-256, so a copy
//! of the database opens no session. Every visitor gets a session (anonymous until sign-in) so
//! that even the sign-in form carries a CSRF token. Signing in replaces the session, so a
//! session id planted before sign-in is worthless after it.
//!
//! CSRF: every state-changing request must carry the session's token in the `csrf_token` form
//! field, compared in constant time, and must not come from another site (`Origin` and
//! `Sec-Fetch-Site`, when the browser sends them). This is checked in one middleware for every
//! route, so a new form cannot forget it.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{COOKIE, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{UserId, WorkspaceId};
use sha2::{Digest, Sha256};
use storage::{SessionRecord, now_ms};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::error::WebError;
use crate::{AppState, MAX_BODY_BYTES};

/// The session cookie's name on plain HTTP (the demo). Behind HTTPS it is `__Host-mb_session`,
/// which browsers only accept with `Secure`, `Path=/` and no `Domain`.
pub const SESSION_COOKIE: &str = "mb_session";
const SECURE_SESSION_COOKIE: &str = "__Host-mb_session";

/// The current visitor's session, put in the request by [`load_session`].
#[derive(Clone, Debug)]
pub struct Session {
    pub id: Uuid,
    pub csrf_token: String,
    pub user: Option<(UserId, WorkspaceId)>,
    token_hash: Vec<u8>,
}

impl Session {
    fn from_record(record: SessionRecord, token_hash: Vec<u8>) -> Self {
        let user = record.user_id.zip(record.workspace_id);
        Self {
            id: record.id,
            csrf_token: record.csrf_token,
            user,
            token_hash,
        }
    }
}

/// A signed-in seller. Pages that need one take this; anybody else is sent to sign in.
#[derive(Clone, Copy, Debug)]
pub struct SignedIn {
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
}

pub struct SignInRequired;

impl IntoResponse for SignInRequired {
    fn into_response(self) -> Response {
        Redirect::to("/sign-in").into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Session>().cloned().ok_or_else(|| {
            WebError::Internal(anyhow::anyhow!("session middleware missing on this route"))
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = SignInRequired;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Session>().and_then(|s| s.user) {
            Some((user_id, workspace_id)) => Ok(SignedIn {
                user_id,
                workspace_id,
            }),
            None => Err(SignInRequired),
        }
    }
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

fn cookie_name(state: &AppState) -> &'static str {
    if state.config().secure_cookies() {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(state: &AppState, token: &str, max_age_secs: u64) -> HeaderValue {
    let secure = if state.config().secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}",
        cookie_name(state)
    );
    HeaderValue::from_str(&value).expect("cookie value is ASCII")
}

/// Starts a new session (anonymous or for a user) and returns it with its cookie.
pub async fn start_session(
    state: &AppState,
    user: Option<(UserId, WorkspaceId)>,
) -> Result<(Session, HeaderValue), WebError> {
    let token = random_token();
    let token_hash = sha256(&token);
    let now = now_ms();
    let ttl = state.config().session_ttl;
    let record = state
        .storage()
        .create_session(
            &token_hash,
            &random_token(),
            user,
            now,
            now + ttl.as_millis() as i64,
        )
        .await?;
    Ok((
        Session::from_record(record, token_hash),
        set_cookie(state, &token, ttl.as_secs()),
    ))
}

/// Ends a session and returns the cookie that clears it in the browser.
pub async fn end_session(state: &AppState, session: &Session) -> Result<HeaderValue, WebError> {
    state.storage().delete_session(&session.token_hash).await?;
    Ok(set_cookie(state, "", 0))
}

/// Finds the visitor's session or starts an anonymous one.
pub async fn load_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing = match read_cookie(req.headers(), cookie_name(&state)) {
        Some(token) => {
            let hash = sha256(&token);
            match state.storage().find_session(&hash, now_ms()).await {
                Ok(found) => found.map(|r| Session::from_record(r, hash)),
                Err(e) => return WebError::from(e).into_response(),
            }
        }
        None => None,
    };
    let (session, new_cookie) = match existing {
        Some(s) => (s, None),
        None => match start_session(&state, None).await {
            Ok((s, cookie)) => (s, Some(cookie)),
            Err(e) => return e.into_response(),
        },
    };
    req.extensions_mut().insert(session);
    let mut response = next.run(req).await;
    // A handler that started its own session (sign-in) already set the cookie.
    if let Some(cookie) = new_cookie
        && !response.headers().contains_key(SET_COOKIE)
    {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// Refuses any state-changing request that lacks the session's CSRF token or comes from
/// another site.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return WebError::Csrf.into_response();
    };
    if !same_site(&state, req.headers()) {
        tracing::warn!(path = %req.uri().path(), "cross-site form post refused");
        return WebError::Csrf.into_response();
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return (
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                crate::ui::ErrorPage::new(
                    "That form is too large",
                    "The form sent more data than this page accepts. Nothing was changed.",
                ),
            )
                .into_response();
        }
    };
    let sent = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| {
            fields
                .into_iter()
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v)
        });
    let valid = sent.is_some_and(|t| bool::from(t.as_bytes().ct_eq(session.csrf_token.as_bytes())));
    if !valid {
        tracing::warn!(path = %parts.uri.path(), "form without a valid CSRF token refused");
        return WebError::Csrf.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn same_site(state: &AppState, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match headers.get(ORIGIN).and_then(|v| v.to_str().ok()) {
        None | Some("null") => true,
        Some(origin) => origin == state.config().public_url.origin().ascii_serialization(),
    }
}
