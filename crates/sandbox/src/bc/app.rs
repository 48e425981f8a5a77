//! BigCommerce apps: their registration (client id and secret, scopes, callback URLs), the
//! install codes the control panel hands out, the code exchange at
//! `login/oauth2/token` (`POST /bc/login/oauth2/token`), and the `signed_payload_jwt` the
//! control panel sends to the app's load and uninstall callbacks.
//!
//! The token endpoint takes the grant as JSON (as BigCommerce documents it) or form-encoded
//! (as the official Python client sends it). A code is single-use: the first exchange, right or
//! wrong, uses it up. The access token does not expire; installing again replaces it.
//! ASSUMPTION: refusals are answered as OAuth 2 errors (`{error, error_description}`), the
//! shape of BigCommerce's own is not published.

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Sandbox;
use crate::bc::model::{BcStore, Token};
use crate::entropy::random_token;
use crate::jwt::sign_hs256;
use crate::world::{World, unix_seconds};

/// How long a signed payload is valid, as BigCommerce's are.
const PAYLOAD_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A registered app.
#[derive(Debug, Clone)]
pub struct BcApp {
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    /// Space-separated OAuth scopes the app asks for.
    pub scope: String,
    /// Where the browser goes with the install code (`?code&scope&context`).
    pub auth_callback: String,
    /// Where the browser goes to open the app (`?signed_payload_jwt`).
    pub load_callback: String,
    /// What the store calls, server to server, when the app is uninstalled.
    pub uninstall_callback: String,
}

/// An install code waiting for its exchange.
#[derive(Debug, Clone)]
pub struct InstallCode {
    pub client_id: String,
    pub store_hash: String,
    pub scope: String,
    pub expires: SystemTime,
}

/// What an install hands the app: the code, the scopes granted, the store's context.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IssuedCode {
    pub code: String,
    pub scope: String,
    pub context: String,
}

/// Why an app could not be installed, loaded or uninstalled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    #[error("There is no BigCommerce store '{0}' on this sandbox.")]
    UnknownStore(String),
    #[error("There is no BigCommerce app with client id '{0}' on this sandbox.")]
    UnknownApp(String),
    #[error("The app '{0}' is not installed on this store.")]
    NotInstalled(String),
}

/// The stable UUID of a store's account, from its hash.
pub fn account_uuid(store_hash: &str) -> String {
    let digest = Sha256::digest(format!("account:{store_hash}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A fresh install code for `client_id` on a store.
pub fn issue_code(world: &mut World, hash: &str, client_id: &str) -> Result<IssuedCode, AppError> {
    if !world.bc.stores.contains_key(hash) {
        return Err(AppError::UnknownStore(hash.to_owned()));
    }
    let app = world
        .bc
        .apps
        .get(client_id)
        .ok_or_else(|| AppError::UnknownApp(client_id.to_owned()))?;
    let issued = IssuedCode {
        code: random_token(),
        scope: app.scope.clone(),
        context: format!("stores/{hash}"),
    };
    let expires = SystemTime::now() + world.lifetimes.code;
    world.bc.codes.insert(
        issued.code.clone(),
        InstallCode {
            client_id: client_id.to_owned(),
            store_hash: hash.to_owned(),
            scope: issued.scope.clone(),
            expires,
        },
    );
    Ok(issued)
}

/// A fresh `signed_payload_jwt` for an app on a store: HS256 under the app's client secret.
pub fn signed_payload(world: &World, hash: &str, client_id: &str) -> Result<String, AppError> {
    let store = world
        .bc
        .stores
        .get(hash)
        .ok_or_else(|| AppError::UnknownStore(hash.to_owned()))?;
    let app = world
        .bc
        .apps
        .get(client_id)
        .ok_or_else(|| AppError::UnknownApp(client_id.to_owned()))?;
    let now = unix_seconds(SystemTime::now());
    let claims = json!({
        "aud": app.client_id,
        "iss": "bc",
        "iat": now,
        "nbf": now.saturating_sub(5),
        "exp": now + PAYLOAD_LIFETIME.as_secs(),
        "jti": random_token(),
        "sub": format!("stores/{hash}"),
        "user": { "id": store.owner.id, "email": store.owner.email, "locale": "en-US" },
        "owner": { "id": store.owner.id, "email": store.owner.email },
        "url": "/",
        "channel_id": null,
    });
    Ok(sign_hs256(app.client_secret.as_bytes(), &claims))
}

/// Records an installation: a new token for the app, replacing the one it had.
fn install(store: &mut BcStore, client_id: &str) -> String {
    let token = random_token();
    if let Some(old) = store.installed.insert(client_id.to_owned(), token.clone()) {
        store.tokens.remove(&old);
    }
    store.tokens.insert(
        token.clone(),
        Token {
            client_id: Some(client_id.to_owned()),
        },
    );
    token
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// The grant's fields, from JSON or a form.
fn grant_fields(headers: &HeaderMap, body: &Bytes) -> Option<serde_json::Map<String, Value>> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("json"));
    if is_json {
        return serde_json::from_slice::<Value>(body)
            .ok()?
            .as_object()
            .cloned();
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut fields = serde_json::Map::new();
    for (name, value) in url::form_urlencoded::parse(text.as_bytes()) {
        if fields
            .insert(name.into_owned(), Value::String(value.into_owned()))
            .is_some()
        {
            return None;
        }
    }
    Some(fields)
}

/// `POST /bc/login/oauth2/token`: exchanges an install code for the store's access token.
pub async fn token(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(fields) = grant_fields(&headers, &body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be JSON or form-encoded, each field once.",
        );
    };
    let field = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or("");
    if field("grant_type") != "authorization_code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code.",
        );
    }
    let mut world = sandbox.world();
    world.count_call("bc.oauth.token");
    let client_id = field("client_id");
    let known = world.bc.apps.get(client_id).filter(|app| {
        bool::from(
            app.client_secret
                .as_bytes()
                .ct_eq(field("client_secret").as_bytes()),
        )
    });
    let Some(app) = known.cloned() else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client id or secret is wrong.",
        );
    };
    // Used up by this attempt whatever its outcome.
    let Some(code) = world.bc.codes.remove(field("code")) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The code is unknown, expired or already used.",
        );
    };
    let context = format!("stores/{}", code.store_hash);
    if code.client_id != app.client_id
        || code.expires <= SystemTime::now()
        || field("context") != context
        || field("redirect_uri") != app.auth_callback
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The code does not match this client, context or redirect_uri, or has expired.",
        );
    }
    let Some(store) = world.bc.stores.get_mut(&code.store_hash) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The store is gone.",
        );
    };
    let access_token = install(store, &app.client_id);
    let owner = json!({
        "id": store.owner.id,
        "username": store.owner.username,
        "email": store.owner.email,
    });
    Json(json!({
        "access_token": access_token,
        "scope": code.scope,
        "user": owner,
        "owner": owner,
        "context": context,
        "account_uuid": account_uuid(&code.store_hash),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_uuid_is_stable_and_shaped_as_a_uuid() {
        let uuid = account_uuid("demo-bc");
        assert_eq!(uuid, account_uuid("demo-bc"));
        assert_ne!(uuid, account_uuid("other"));
        assert_eq!(uuid.len(), 36);
        assert_eq!(uuid.matches('-').count(), 4);
    }
}
