//! v3 hooks: list, read, create, update, delete. A hook belongs to the app whose token created
//! it (uninstalling the app removes it); its `headers` go with every delivery, and its
//! `is_active` turns false when a delivery fails through the whole retry window.
//!
//! ASSUMPTION (local use): a destination may be plain http on any port; BigCommerce wants https
//! on 443.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::Sandbox;
use crate::bc::catalog::{object, page_of, text};
use crate::bc::model::{Hook, is_valid_scope};
use crate::bc::{BcError, json_body, paging, parse_id, query_pairs};
use crate::values::clock::now;

fn one(data: Value) -> Response {
    Json(json!({ "data": data, "meta": {} })).into_response()
}

pub async fn list_hooks(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, BcError> {
    let (page, limit) = paging(&query_pairs(query.as_deref()), false)?;
    sandbox.bc_read(&hash, false, |store, _| {
        let items = store
            .hooks
            .values()
            .map(|hook| hook.to_json(&hash))
            .collect();
        Ok(Json(page_of(items, page, limit)).into_response())
    })
}

pub async fn get_hook(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "hook")?;
    sandbox.bc_read(&hash, false, |store, _| {
        let hook = store
            .hooks
            .get(&id)
            .ok_or_else(|| BcError::not_found(false, "hook"))?;
        Ok(one(hook.to_json(&hash)))
    })
}

pub async fn create_hook(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, BcError> {
    let body = json_body(&body, false)?;
    let fields = object(&body)?;
    let token = headers
        .get("x-auth-token")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    sandbox.bc_write(&hash, false, |store, _| {
        let scope = scope(fields)?.ok_or_else(|| BcError::field(false, "scope", "is required"))?;
        let destination = destination(fields)?
            .ok_or_else(|| BcError::field(false, "destination", "is required"))?;
        let at = now();
        let id = store.next_id();
        let hook = Hook {
            id,
            client_id: store.tokens.get(&token).and_then(|t| t.client_id.clone()),
            scope,
            destination,
            is_active: active(fields)?.unwrap_or(true),
            headers: custom_headers(fields)?.unwrap_or_default(),
            created_at: at,
            updated_at: at,
        };
        let json = hook.to_json(&hash);
        store.hooks.insert(id, hook);
        Ok(one(json))
    })
}

pub async fn update_hook(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "hook")?;
    let body = json_body(&body, false)?;
    let fields = object(&body)?;
    sandbox.bc_write(&hash, false, |store, _| {
        let mut hook = store
            .hooks
            .get(&id)
            .cloned()
            .ok_or_else(|| BcError::not_found(false, "hook"))?;
        if let Some(scope) = scope(fields)? {
            hook.scope = scope;
        }
        if let Some(destination) = destination(fields)? {
            hook.destination = destination;
        }
        if let Some(active) = active(fields)? {
            hook.is_active = active;
        }
        if let Some(headers) = custom_headers(fields)? {
            hook.headers = headers;
        }
        hook.updated_at = now();
        let json = hook.to_json(&hash);
        store.hooks.insert(id, hook);
        Ok(one(json))
    })
}

pub async fn delete_hook(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "hook")?;
    sandbox.bc_write(&hash, false, |store, _| {
        let hook = store
            .hooks
            .remove(&id)
            .ok_or_else(|| BcError::not_found(false, "hook"))?;
        Ok(one(hook.to_json(&hash)))
    })
}

fn scope(fields: &Map<String, Value>) -> Result<Option<String>, BcError> {
    match text(fields, "scope")? {
        None => Ok(None),
        Some(scope) if is_valid_scope(&scope) => Ok(Some(scope)),
        Some(_) => Err(BcError::field(
            false,
            "scope",
            "is not a webhook scope this store knows",
        )),
    }
}

fn destination(fields: &Map<String, Value>) -> Result<Option<String>, BcError> {
    match text(fields, "destination")? {
        None => Ok(None),
        Some(raw) => {
            let valid = url::Url::parse(&raw)
                .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some());
            if valid {
                Ok(Some(raw))
            } else {
                Err(BcError::field(
                    false,
                    "destination",
                    "must be an http(s) URL",
                ))
            }
        }
    }
}

fn active(fields: &Map<String, Value>) -> Result<Option<bool>, BcError> {
    match fields.get("is_active") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(active)) => Ok(Some(*active)),
        Some(_) => Err(BcError::field(false, "is_active", "must be true or false")),
    }
}

/// `headers`: an object of header names to text values, each a valid HTTP header.
fn custom_headers(
    fields: &Map<String, Value>,
) -> Result<Option<BTreeMap<String, String>>, BcError> {
    let refuse = || BcError::field(false, "headers", "must map header names to text values");
    match fields.get("headers") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(headers)) => {
            if headers.len() > 20 {
                return Err(refuse());
            }
            let mut parsed = BTreeMap::new();
            for (name, value) in headers {
                let value = value.as_str().ok_or_else(refuse)?;
                if HeaderName::from_bytes(name.as_bytes()).is_err()
                    || HeaderValue::from_str(value).is_err()
                {
                    return Err(refuse());
                }
                parsed.insert(name.clone(), value.to_owned());
            }
            Ok(Some(parsed))
        }
        Some(_) => Err(refuse()),
    }
}
