//! MAS browser sessions: a random id in the `mas_session` cookie on the sandbox host, the
//! signed-in user, the authorization in progress, and the CSRF token every form carries.

use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::entropy::random_token;
use crate::form::FormFields;
use crate::mas::authorize::PendingAuthorization;
use crate::page;
use crate::world::World;

pub const SESSION_COOKIE: &str = "mas_session";
/// The hidden field every sandbox form carries.
pub const CSRF_FIELD: &str = "csrf_token";
/// A session unused this long is forgotten.
const IDLE_LIMIT: Duration = Duration::from_secs(12 * 3600);

pub struct BrowserSession {
    pub csrf_token: String,
    pub user_id: Option<String>,
    pub pending: Option<PendingAuthorization>,
    pub verification: Option<PendingVerification>,
    last_seen: SystemTime,
}

/// A correct password after a reset: the user is signed in once the e-mailed code is entered.
pub struct PendingVerification {
    pub user_id: String,
    pub code: String,
    pub expires_at: SystemTime,
    pub attempts_left: u8,
}

/// The session a request belongs to; `created` when the response must set the cookie.
pub struct SessionRef {
    pub id: String,
    created: bool,
}

impl SessionRef {
    /// Adds the session cookie to a response when the session is new.
    pub fn attach(&self, world: &World, mut response: Response) -> Response {
        if self.created {
            let secure = if world.public_url.scheme() == "https" {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{secure}",
                self.id
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }
}

/// The request's live session, if its cookie names one.
pub fn find(world: &mut World, headers: &HeaderMap) -> Option<String> {
    let id = cookie(headers, SESSION_COOKIE)?;
    let now = SystemTime::now();
    let session = world.sessions.get_mut(&id)?;
    if is_idle(session, now) {
        world.sessions.remove(&id);
        return None;
    }
    session.last_seen = now;
    Some(id)
}

/// The request's session, or a new one.
pub fn open(world: &mut World, headers: &HeaderMap) -> SessionRef {
    match find(world, headers) {
        Some(id) => SessionRef { id, created: false },
        None => create(world),
    }
}

fn create(world: &mut World) -> SessionRef {
    let now = SystemTime::now();
    world.sessions.retain(|_, session| !is_idle(session, now));
    let id = random_token();
    world.sessions.insert(
        id.clone(),
        BrowserSession {
            csrf_token: random_token(),
            user_id: None,
            pending: None,
            verification: None,
            last_seen: now,
        },
    );
    SessionRef { id, created: true }
}

/// Signs a user in under a fresh session id (so an id planted before sign-in is worthless),
/// keeping the authorization in progress.
pub fn sign_in(world: &mut World, old_id: &str, user_id: &str) -> SessionRef {
    let pending = world
        .sessions
        .remove(old_id)
        .and_then(|session| session.pending);
    let fresh = create(world);
    if let Some(session) = world.sessions.get_mut(&fresh.id) {
        session.user_id = Some(user_id.to_owned());
        session.pending = pending;
    }
    fresh
}

/// Why a form POST was refused before it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormRefused {
    /// No live session: it expired, or the browser blocks cookies.
    NoSession,
    /// The CSRF token is missing or is not the session's.
    BadToken,
}

impl IntoResponse for FormRefused {
    fn into_response(self) -> Response {
        let message = match self {
            FormRefused::NoSession => {
                "Your session has expired or your browser blocks cookies. \
                 Start again from the application you were connecting."
            }
            FormRefused::BadToken => {
                "The form is missing its security token or the token is out of date. \
                 Reload the page and send the form again."
            }
        };
        page::error_with_link(
            StatusCode::FORBIDDEN,
            "This form was refused",
            message,
            page::Link::new("/mas/login", "Go to the sign-in page"),
        )
    }
}

/// The session of a form POST whose CSRF token matches it.
pub fn check_form(
    world: &mut World,
    headers: &HeaderMap,
    form: &FormFields,
) -> Result<String, FormRefused> {
    let id = find(world, headers).ok_or(FormRefused::NoSession)?;
    let expected = world
        .sessions
        .get(&id)
        .map(|session| session.csrf_token.as_bytes().to_vec())
        .unwrap_or_default();
    let sent = form.get(CSRF_FIELD).unwrap_or_default();
    if expected.is_empty() || !bool::from(sent.as_bytes().ct_eq(&expected)) {
        return Err(FormRefused::BadToken);
    }
    Ok(id)
}

/// The CSRF token to put in a session's forms.
pub fn csrf_token(world: &World, session_id: &str) -> String {
    world
        .sessions
        .get(session_id)
        .map(|session| session.csrf_token.clone())
        .unwrap_or_default()
}

/// The e-mail of the user signed in to a session, shown as "Signed in as …".
pub fn signed_in_email(world: &World, session_id: &str) -> String {
    world
        .sessions
        .get(session_id)
        .and_then(|session| session.user_id.as_deref())
        .and_then(|id| world.user(id))
        .map(|user| user.email.clone())
        .unwrap_or_default()
}

fn is_idle(session: &BrowserSession, now: SystemTime) -> bool {
    now.duration_since(session.last_seen)
        .is_ok_and(|idle| idle > IDLE_LIMIT)
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}
