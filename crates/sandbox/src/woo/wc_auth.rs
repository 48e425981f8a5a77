//! WooCommerce's app authorization (`/wc-auth/v1/…`, core's `WC_Auth`), with the WordPress
//! login it needs:
//! `authorize?app_name&scope&user_id&return_url&callback_url` → (not logged in) `login`, the
//! "Log In" form → the approve page, "<app> would like to connect to your store", Approve or
//! Deny → on Approve a REST key is created and POSTed as JSON
//! `{key_id, user_id, consumer_key, consumer_secret, key_permissions}` to `callback_url`
//! (60 s); anything but 200 deletes the key and shows an error page, else the browser goes to
//! `return_url?success=1&user_id=…`. Deny goes to `return_url?success=0&user_id=…`.
//!
//! ASSUMPTION (local use): core insists on an `https://` callback URL; the sandbox also takes
//! `http://`, so a connector on 127.0.0.1 can be authorized.

use std::time::{Duration, SystemTime};

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::Sandbox;
use crate::entropy::{random_bytes, random_token};
use crate::form::FormFields;
use crate::mas::session::cookie;
use crate::page;
use crate::values::clock::now;
use crate::woo::model::{AdminSession, Permissions, WooStore, format_date};
use crate::woo::rest::QueryParams;

const CALLBACK_TIMEOUT: Duration = Duration::from_secs(60);
const IDLE_LIMIT: Duration = Duration::from_secs(12 * 3600);
/// The request parameters, in the order core checks them.
const PARAMS: [&str; 5] = ["app_name", "user_id", "return_url", "callback_url", "scope"];

#[derive(Template)]
#[template(path = "woo/login.html")]
struct LoginPage {
    title: &'static str,
    site_name: String,
    app_name: String,
    action: String,
    params: Vec<(&'static str, String)>,
    login: String,
    error: Option<String>,
    csrf_token: String,
}

#[derive(Template)]
#[template(path = "woo/approve.html")]
struct ApprovePage {
    title: &'static str,
    site_name: String,
    app_name: String,
    scope: &'static str,
    permissions: &'static [&'static str],
    action: String,
    params: Vec<(&'static str, String)>,
    admin: String,
    csrf_token: String,
}

#[derive(Template)]
#[template(path = "woo/message.html")]
struct MessagePage {
    title: String,
    site_name: String,
    message: String,
    is_error: bool,
}

/// A page in the store's WordPress look.
pub fn message_page(status: StatusCode, site_name: &str, title: &str, message: &str) -> Response {
    page::render(
        status,
        &MessagePage {
            title: title.to_owned(),
            site_name: site_name.to_owned(),
            message: message.to_owned(),
            is_error: !status.is_success(),
        },
    )
}

/// A valid authorization request.
#[derive(Debug, Clone)]
struct AppRequest {
    app_name: String,
    user_id: String,
    return_url: url::Url,
    callback_url: url::Url,
    scope: Permissions,
}

impl AppRequest {
    fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        for name in PARAMS {
            if get(name).is_none_or(|value| value.is_empty()) {
                return Err(format!("Missing parameter {name}"));
            }
        }
        let value = |name: &str| get(name).unwrap_or_default();
        let scope = Permissions::parse(&value("scope"))
            .ok_or_else(|| format!("Invalid scope {}", value("scope")))?;
        let web_url = |name: &str| {
            url::Url::parse(&value(name))
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
                .ok_or_else(|| format!("The {name} is not a valid URL"))
        };
        Ok(Self {
            app_name: value("app_name"),
            user_id: value("user_id"),
            return_url: web_url("return_url")?,
            callback_url: web_url("callback_url")?,
            scope,
        })
    }

    /// The parameters again, for a form's hidden fields or a redirect.
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("app_name", self.app_name.clone()),
            ("user_id", self.user_id.clone()),
            ("return_url", self.return_url.to_string()),
            ("callback_url", self.callback_url.to_string()),
            ("scope", self.scope.as_str().to_owned()),
        ]
    }

    fn query(&self) -> String {
        serde_urlencoded::to_string(self.params()).unwrap_or_default()
    }

    /// `return_url` with `success` and `user_id` added to its own query.
    fn back(&self, success: bool) -> Response {
        let mut url = self.return_url.clone();
        url.query_pairs_mut()
            .append_pair("success", if success { "1" } else { "0" })
            .append_pair("user_id", &self.user_id);
        let mut response = StatusCode::FOUND.into_response();
        if let Ok(location) = HeaderValue::from_str(url.as_str()) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }
}

fn permissions_in_scope(scope: Permissions) -> &'static [&'static str] {
    match scope {
        Permissions::Read => &[
            "See your products, their prices and stock",
            "See your orders",
            "See your customers and coupons",
            "See your webhooks and reports",
        ],
        Permissions::Write => &[
            "Create and change products, prices and stock",
            "Create and change orders",
            "Create and change customers and coupons",
            "Create and change webhooks",
        ],
        Permissions::ReadWrite => &[
            "See and change your products, their prices and stock",
            "See and change your orders",
            "See and change your customers and coupons",
            "See and change your webhooks, and see your reports",
        ],
    }
}

fn session_cookie(code: &str) -> String {
    format!("woo_session_{code}")
}

/// The request's live admin session on a store.
fn find_session(store: &mut WooStore, headers: &HeaderMap) -> Option<String> {
    let id = cookie(headers, &session_cookie(&store.code))?;
    let now = SystemTime::now();
    let session = store.sessions.get_mut(&id)?;
    if now
        .duration_since(session.last_seen)
        .is_ok_and(|idle| idle > IDLE_LIMIT)
    {
        store.sessions.remove(&id);
        return None;
    }
    session.last_seen = now;
    Some(id)
}

fn new_session(store: &mut WooStore, signed_in: bool) -> String {
    let now = SystemTime::now();
    store.sessions.retain(|_, session| {
        now.duration_since(session.last_seen)
            .is_ok_and(|idle| idle <= IDLE_LIMIT)
    });
    let id = random_token();
    store.sessions.insert(
        id.clone(),
        AdminSession {
            csrf_token: random_token(),
            signed_in,
            last_seen: now,
        },
    );
    id
}

fn set_cookie(mut response: Response, code: &str, id: &str, secure: bool) -> Response {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{}={id}; Path=/woo/{code}; HttpOnly; SameSite=Lax{secure}",
        session_cookie(code)
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn refused(site_name: &str, message: &str) -> Response {
    message_page(
        StatusCode::BAD_REQUEST,
        site_name,
        "Access denied",
        &format!(
            "Error: {message}. Go back to the app you came from and start the connection again."
        ),
    )
}

fn see_other(location: &str) -> Response {
    page::see_other(location)
}

/// `GET /wc-auth/v1/authorize`: the approve page, or the login first.
pub async fn authorize(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = QueryParams::parse(raw.as_deref());
    let mut world = sandbox.world();
    let Some(store) = world.woo.get_mut(&code) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let request = match AppRequest::parse(|name| query.get(name).map(str::to_owned)) {
        Ok(request) => request,
        Err(message) => return refused(&store.name, &message),
    };
    let signed_in = find_session(store, &headers)
        .filter(|id| store.sessions.get(id).is_some_and(|s| s.signed_in));
    let Some(session_id) = signed_in else {
        return see_other(&format!("/woo/{code}/wc-auth/v1/login?{}", request.query()));
    };
    page::render(
        StatusCode::OK,
        &ApprovePage {
            title: "Connect an app",
            site_name: store.name.clone(),
            app_name: request.app_name.clone(),
            scope: request.scope.in_words(),
            permissions: permissions_in_scope(request.scope),
            action: format!("/woo/{code}/wc-auth/v1/access_granted"),
            params: request.params(),
            admin: store.admin.email.clone(),
            csrf_token: store.sessions[&session_id].csrf_token.clone(),
        },
    )
}

/// `GET /wc-auth/v1/login`: the WordPress login form (or straight on when logged in).
pub async fn show_login(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = QueryParams::parse(raw.as_deref());
    let mut world = sandbox.world();
    let secure = world.public_url.scheme() == "https";
    let Some(store) = world.woo.get_mut(&code) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let request = match AppRequest::parse(|name| query.get(name).map(str::to_owned)) {
        Ok(request) => request,
        Err(message) => return refused(&store.name, &message),
    };
    let (session_id, created) = match find_session(store, &headers) {
        Some(id) => (id, false),
        None => (new_session(store, false), true),
    };
    if store.sessions[&session_id].signed_in {
        return see_other(&format!(
            "/woo/{code}/wc-auth/v1/authorize?{}",
            request.query()
        ));
    }
    let response = login_page(store, &session_id, &request, String::new(), None);
    if created {
        set_cookie(response, &code, &session_id, secure)
    } else {
        response
    }
}

fn login_page(
    store: &WooStore,
    session_id: &str,
    request: &AppRequest,
    login: String,
    error: Option<String>,
) -> Response {
    page::render(
        if error.is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        },
        &LoginPage {
            title: "Log In",
            site_name: store.name.clone(),
            app_name: request.app_name.clone(),
            action: format!("/woo/{}/wc-auth/v1/login", store.code),
            params: request.params(),
            login,
            error,
            csrf_token: store.sessions[session_id].csrf_token.clone(),
        },
    )
}

/// Why a form POST was refused before it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormRefused {
    NoSession,
    BadToken,
}

impl FormRefused {
    fn page(self, site_name: &str) -> Response {
        let message = match self {
            FormRefused::NoSession => {
                "Your session has expired or your browser blocks cookies. Start the connection again from the app."
            }
            FormRefused::BadToken => {
                "The form is missing its security token or the token is out of date. Reload the page and try again."
            }
        };
        message_page(
            StatusCode::FORBIDDEN,
            site_name,
            "This form was refused",
            message,
        )
    }
}

/// The session of a form whose CSRF token matches it.
fn check_form(
    store: &mut WooStore,
    headers: &HeaderMap,
    form: &FormFields,
) -> Result<String, FormRefused> {
    let id = find_session(store, headers).ok_or(FormRefused::NoSession)?;
    let expected = store.sessions[&id].csrf_token.clone();
    let sent = form
        .get(crate::mas::session::CSRF_FIELD)
        .unwrap_or_default();
    if !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(FormRefused::BadToken);
    }
    Ok(id)
}

/// `POST /wc-auth/v1/login`.
pub async fn submit_login(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    headers: HeaderMap,
    form: FormFields,
) -> Response {
    let mut world = sandbox.world();
    let secure = world.public_url.scheme() == "https";
    let Some(store) = world.woo.get_mut(&code) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let session_id = match check_form(store, &headers, &form) {
        Ok(id) => id,
        Err(refusal) => return refusal.page(&store.name),
    };
    let request = match AppRequest::parse(|name| form.get(name).map(str::to_owned)) {
        Ok(request) => request,
        Err(message) => return refused(&store.name, &message),
    };
    let login = form.get("log").unwrap_or_default().trim().to_owned();
    let password = form.get("pwd").unwrap_or_default();
    let admin = &store.admin;
    let known = login.eq_ignore_ascii_case(&admin.email) || login == admin.login;
    let password_ok = bool::from(admin.password.as_bytes().ct_eq(password.as_bytes()));
    if !(known && password_ok) {
        let error = "The username or password is not right. Check both and try again.".to_owned();
        return login_page(store, &session_id, &request, login, Some(error));
    }
    // A fresh session id once logged in, so an id planted before is worthless.
    store.sessions.remove(&session_id);
    let session_id = new_session(store, true);
    let response = see_other(&format!(
        "/woo/{code}/wc-auth/v1/authorize?{}",
        request.query()
    ));
    set_cookie(response, &code, &session_id, secure)
}

/// `POST /wc-auth/v1/access_granted`: Approve or Deny.
pub async fn access_granted(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    headers: HeaderMap,
    form: FormFields,
) -> Response {
    let (request, key, site_name) = {
        let mut world = sandbox.world();
        let Some(store) = world.woo.get_mut(&code) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let session_id = match check_form(store, &headers, &form) {
            Ok(id) => id,
            Err(refusal) => return refusal.page(&store.name),
        };
        let request = match AppRequest::parse(|name| form.get(name).map(str::to_owned)) {
            Ok(request) => request,
            Err(message) => return refused(&store.name, &message),
        };
        if !store.sessions[&session_id].signed_in {
            return see_other(&format!("/woo/{code}/wc-auth/v1/login?{}", request.query()));
        }
        match form.get("decision") {
            Some("approve") => {}
            Some("deny") => return request.back(false),
            _ => return refused(&store.name, "Choose Approve or Deny"),
        }
        let description = format!(
            "{} - API ({})",
            request.app_name.chars().take(170).collect::<String>(),
            format_date(now()).replace('T', " ")
        );
        let key = store.add_key(&description, request.scope, new_key("ck_"), new_key("cs_"));
        let key = (
            key.key_id,
            key.consumer_key.clone(),
            key.consumer_secret.clone(),
        );
        (request, key, store.name.clone())
    };
    let (key_id, consumer_key, consumer_secret) = key;
    let payload = serde_json::json!({
        "key_id": key_id,
        "user_id": request.user_id,
        "consumer_key": consumer_key,
        "consumer_secret": consumer_secret,
        "key_permissions": request.scope.as_str(),
    });
    let outcome = post_consumer_data(&request.callback_url, &payload).await;
    match outcome {
        Ok(()) => request.back(true),
        Err(reason) => {
            if let Some(store) = sandbox.world().woo.get_mut(&code) {
                store.keys.retain(|key| key.key_id != key_id);
            }
            message_page(
                StatusCode::UNAUTHORIZED,
                &site_name,
                "Access denied",
                &format!(
                    "Error: the store could not hand the new API keys to {}: {reason}. \
                     The keys were deleted; try connecting again once the app is reachable.",
                    request.app_name
                ),
            )
        }
    }
}

/// `ck_`/`cs_` and 40 hex digits, as core's `wc_rand_hash`.
fn new_key(prefix: &str) -> String {
    let hex: String = random_bytes::<20>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{prefix}{hex}")
}

async fn post_consumer_data(
    callback: &url::Url,
    payload: &serde_json::Value,
) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(CALLBACK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(crate::woo::USER_AGENT)
        .build()
        .map_err(|error| error.to_string())?;
    let response = client
        .post(callback.as_str())
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(payload.to_string())
        .send()
        .await
        .map_err(|error| format!("its callback URL could not be reached ({error})"))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(format!(
            "its callback URL answered {} instead of 200",
            response.status().as_u16()
        ));
    }
    Ok(())
}
