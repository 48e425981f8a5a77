//! The edge check on the text a request carries: every query parameter and every form field
//! of every page route, and every string of the JSON bodies the connector reads, goes through
//! [`domain::check_field`] before a handler sees it. A NUL byte, another control character or
//! an overlong value gets a 400 naming the field, on SQLite and PostgreSQL alike (PostgreSQL
//! cannot store a NUL at all), and nothing is changed. One middleware, so a new form cannot
//! forget it.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::{InputError, check_field};
use serde_json::Value;
use url::form_urlencoded;

use crate::MAX_BODY_BYTES;
use crate::error::WebError;

/// Refuses a page request whose query string or form body holds a field that
/// [`domain::check_field`] refuses.
pub async fn input_guard(req: Request, next: Next) -> Response {
    if let Some(query) = req.uri().query()
        && let Err(e) = check_pairs(query.as_bytes())
    {
        return refuse(&req, e);
    }
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) || !is_form(&req) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            crate::ui::ErrorPage::new(
                "That form is too large",
                "The form sent more data than this page accepts. Nothing was changed.",
            ),
        )
            .into_response();
    };
    let req = Request::from_parts(parts, Body::from(bytes.clone()));
    if let Err(e) = check_pairs(&bytes) {
        return refuse(&req, e);
    }
    next.run(req).await
}

fn is_form(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

fn check_pairs(encoded: &[u8]) -> Result<(), InputError> {
    form_urlencoded::parse(encoded).try_for_each(|(name, value)| check_field(&name, &value))
}

fn refuse(req: &Request, error: InputError) -> Response {
    tracing::info!(path = %req.uri().path(), %error, "request refused at the edge");
    WebError::from(error).into_response()
}

/// Checks every string of a JSON document, object keys included; the field is named by its
/// path (`items[2].name`).
pub fn check_json(value: &Value) -> Result<(), InputError> {
    fn walk(value: &Value, path: &mut String) -> Result<(), InputError> {
        match value {
            Value::String(s) => check_field(path, s),
            Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let checked = walk(item, path);
                path.truncate(len);
                checked
            }),
            Value::Object(map) => map.iter().try_for_each(|(key, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                let checked = check_field(path, "").and_then(|()| walk(item, path));
                path.truncate(len);
                checked
            }),
            Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
        }
    }
    walk(value, &mut String::new())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pairs_are_checked_after_decoding() {
        assert!(check_pairs(b"email=a%40b.example&note=two%0D%0Alines").is_ok());
        let err = check_pairs(b"csrf_token=x&email=nul%00byte%40example.com").unwrap_err();
        assert!(err.to_string().contains("\"email\""), "{err}");
        assert!(check_pairs(b"e%00vil=1").is_err());
        // Bytes that are not UTF-8 decode to U+FFFD, which is text.
        assert!(check_pairs(b"name=%ED%A0%80").is_ok());
    }

    #[test]
    fn every_string_of_a_json_body_is_checked_and_named_by_its_path() {
        assert!(check_json(&json!({"key_id": 1, "user_id": "abc", "ok": [true, null]})).is_ok());
        let err = check_json(&json!({"keys": [{"consumer_key": "ck_\u{0000}"}]})).unwrap_err();
        assert!(err.to_string().contains("keys[0].consumer_key"), "{err}");
        assert!(check_json(&json!({"bad\u{0001}key": 1})).is_err());
    }
}
