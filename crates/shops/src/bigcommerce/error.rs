//! [`BcError`]: what can go wrong calling a BigCommerce store's REST API, in words for the
//! operator (`Display`) and for the seller ([`BcError::seller_message`]).

use reqwest::StatusCode;
use serde_json::Value;

use crate::body_excerpt;

#[derive(Debug, thiserror::Error)]
pub enum BcError {
    /// 401: the API token is wrong or was revoked (the app uninstalled, the API account
    /// deleted); the seller must connect the store again.
    #[error("BigCommerce refused the API token (HTTP 401): {0}")]
    Unauthorized(String),
    /// 403: the token lacks a scope the call needs.
    #[error("BigCommerce denied access (HTTP 403): {0}")]
    Forbidden(String),
    /// 404 on a whole store: the hash names no store (or it was closed).
    #[error("BigCommerce found nothing there (HTTP 404): {0}")]
    NotFound(String),
    /// 429 after waiting for the window to reset as often as the client allows.
    #[error("BigCommerce's rate limit was reached (HTTP 429)")]
    RateLimited,
    /// A 4xx BigCommerce explains (a 422 naming a field, a 400 on an order).
    #[error("BigCommerce refused the request (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    /// 5xx.
    #[error("BigCommerce failed (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    /// No answer: connection refused, DNS, TLS, timeout.
    #[error("BigCommerce could not be reached: {0}")]
    Unreachable(String),
    /// A success whose body is not what the API promises.
    #[error("BigCommerce's answer could not be read: {0}")]
    Decode(String),
    /// The API address is one the connector's address policy does not allow calling.
    #[error("the store's API address is not allowed: {0}")]
    Address(crate::AddressError),
}

impl BcError {
    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::Server { .. } | Self::Unreachable(_)
        )
    }

    /// What happened and what to do next, in the seller's words.
    pub fn seller_message(&self) -> String {
        match self {
            Self::Unauthorized(_) => "BigCommerce refused the API token: it is wrong, or the \
                 app or API account was removed. Connect the store again."
                .to_owned(),
            Self::Forbidden(_) => "BigCommerce refused access: the API account needs the \
                 Products, Orders and Information & Settings scopes (modify), and Store inventory. \
                 Give it those scopes and connect again."
                .to_owned(),
            Self::NotFound(_) => "BigCommerce has no store with that store hash. Check the API \
                 path in your store's API account (it reads …/stores/HASH/v3/)."
                .to_owned(),
            Self::RateLimited => "BigCommerce asked Marketbridge to slow down; it will go on by \
                 itself."
                .to_owned(),
            Self::Refused { message, .. } => format!("BigCommerce refused the request: {message}"),
            Self::Server { status, .. } => format!(
                "BigCommerce answered with an error (HTTP {status}); Marketbridge will try again."
            ),
            Self::Unreachable(_) => "BigCommerce could not be reached; Marketbridge will try \
                 again."
                .to_owned(),
            Self::Decode(_) => "BigCommerce sent an answer Marketbridge could not read; it will \
                 try again."
                .to_owned(),
            Self::Address(e) => format!("The store's API address is not allowed: {e}"),
        }
    }

    pub(super) fn from_transport(error: reqwest::Error) -> Self {
        match crate::transport_failure(error) {
            Ok(message) => Self::Unreachable(message),
            Err(refusal) => Self::Address(refusal),
        }
    }

    /// The error of a non-success answer: v3 `{status, title, errors}`, v2 `[{status,
    /// message}]`, or whatever text came.
    pub(super) fn from_status(status: StatusCode, body: &[u8]) -> Self {
        let message = explained(body).unwrap_or_else(|| body_excerpt(body));
        match status.as_u16() {
            401 => Self::Unauthorized(message),
            403 => Self::Forbidden(message),
            404 => Self::NotFound(message),
            429 => Self::RateLimited,
            s @ 500.. => Self::Server { status: s, message },
            s => Self::Refused { status: s, message },
        }
    }
}

/// BigCommerce's own words in an error body, v3 or v2.
fn explained(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let one = |v: &Value| -> Option<String> {
        let title = v
            .get("title")
            .or_else(|| v.get("message"))
            .and_then(Value::as_str)?;
        let details: Vec<String> = v
            .get("errors")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(field, why)| Some(format!("{field}: {}", why.as_str()?)))
            .collect();
        let text = if details.is_empty() || details.iter().all(|d| title.contains(d.as_str())) {
            title.to_owned()
        } else {
            format!("{title} ({})", details.join("; "))
        };
        Some(body_excerpt(text.as_bytes()))
    };
    match &value {
        Value::Array(items) => items.first().and_then(one),
        other => one(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_bigcommerce_words_v3_and_v2() {
        let v3 = BcError::from_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"status":422,"title":"name: is required","errors":{"name":"is required"}}"#,
        );
        assert_eq!(
            v3.to_string(),
            "BigCommerce refused the request (HTTP 422): name: is required"
        );
        let v2 = BcError::from_status(
            StatusCode::BAD_REQUEST,
            br#"[{"status":400,"message":"The field 'products' is required."}]"#,
        );
        assert!(v2.to_string().contains("The field 'products' is required."));
        assert!(matches!(
            BcError::from_status(StatusCode::UNAUTHORIZED, b"nope"),
            BcError::Unauthorized(_)
        ));
        assert!(BcError::from_status(StatusCode::BAD_GATEWAY, b"<html>").is_retryable());
        assert!(!BcError::from_status(StatusCode::CONFLICT, b"{}").is_retryable());
    }
}
