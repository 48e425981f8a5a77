//! How WooCommerce answers map to [`WooError`]: the one place that reads its error bodies.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use serde::Deserialize;
use url::Url;

use crate::body_excerpt;

/// Why a call to a WooCommerce store failed. No variant carries a key, a secret or a signature.
#[derive(Debug, thiserror::Error)]
pub enum WooError {
    /// 401: the keys are wrong, revoked, or lack the permission; the seller must reconnect.
    #[error("the store refused the API keys (HTTP 401): {0}")]
    Unauthorized(String),
    /// 403, with WooCommerce's message.
    #[error("the store denied access (HTTP 403): {0}")]
    Forbidden(String),
    /// The address answers, but not as a WooCommerce REST API: `rest_no_route` (WooCommerce
    /// inactive), or a web page where JSON was due (not WordPress, or "Plain" permalinks).
    #[error("the address is not a WooCommerce store with the REST API on: {0}")]
    NotWooCommerce(String),
    /// Any other 404: the item asked for does not exist (any more).
    #[error("the store found nothing there (HTTP 404): {0}")]
    NotFound(String),
    /// No answer: connection refused, DNS, TLS, timeout.
    #[error("the store could not be reached: {0}")]
    Unreachable(String),
    /// A 3xx answer. Redirects are never followed (they would carry the keys elsewhere), so the
    /// store must be connected at the address it redirects to. `location` is that address: the
    /// store address when it could be derived, otherwise the redirect target without its query.
    #[error("the store redirected the request (HTTP {status}) to {location}")]
    Redirected { status: u16, location: String },
    /// 5xx, 429 and any other 4xx, with WooCommerce's `{code, message}` when it sent one.
    #[error("the store answered HTTP {status}{}: {message}", .code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Server {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// A success whose body is not what the API promises.
    #[error("the store's answer could not be read: {0}")]
    Decode(String),
    /// The address (or the one a redirect names, or what its name resolves to) is one the
    /// connector's address policy does not allow calling.
    #[error("the store's address is not allowed: {0}")]
    Address(crate::AddressError),
}

impl WooError {
    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Server { status, .. } => *status >= 500 || *status == 429,
            Self::Unauthorized(_)
            | Self::Forbidden(_)
            | Self::NotWooCommerce(_)
            | Self::NotFound(_)
            | Self::Redirected { .. }
            | Self::Decode(_)
            | Self::Address(_) => false,
        }
    }

    /// What happened and what to do next, for the seller.
    pub fn seller_message(&self) -> String {
        match self {
            Self::Unauthorized(detail) => format!(
                "Your WooCommerce store refused Marketbridge's API keys ({detail}). The keys may \
                 have been revoked or deleted: connect the store again."
            ),
            Self::Forbidden(detail) => format!(
                "Your WooCommerce store denied Marketbridge access ({detail}). Connect the store \
                 again with Read/Write keys of a user who can manage WooCommerce."
            ),
            Self::NotWooCommerce(detail) => format!(
                "Marketbridge could not find the WooCommerce REST API at this address ({detail}). \
                 Check that it is your store's address, that WooCommerce is active, and that \
                 WordPress permalinks are not set to \"Plain\" (Settings → Permalinks)."
            ),
            Self::NotFound(detail) => format!(
                "Your WooCommerce store no longer has this item ({detail}). It may have been \
                 deleted in the store."
            ),
            Self::Unreachable(detail) => format!(
                "Your WooCommerce store could not be reached ({detail}). Check the store's \
                 address and that the site is online; Marketbridge will try again."
            ),
            Self::Redirected { location, .. } => format!(
                "Your store sends requests on to {location}. Connect the store with that address \
                 instead{}.",
                if location.starts_with("https://") {
                    ", starting with https://"
                } else {
                    ""
                }
            ),
            Self::Server { status: 429, .. } => "Your WooCommerce store (or its host) is limiting \
                 requests. Marketbridge will slow down and try again."
                .to_owned(),
            Self::Server {
                status, message, ..
            } if *status >= 500 => format!(
                "Your WooCommerce store had an error (HTTP {status}: {message}). Marketbridge \
                 will try again; if it keeps happening, check the store's error log or ask its host."
            ),
            Self::Server {
                status, message, ..
            } => format!(
                "Your WooCommerce store rejected Marketbridge's request (HTTP {status}: \
                 {message}). A security plugin or firewall may be blocking the REST API."
            ),
            Self::Decode(detail) => format!(
                "Your WooCommerce store gave an answer Marketbridge could not read ({detail}). A \
                 plugin or the host may be changing the REST API's answers."
            ),
            Self::Address(refusal) => refusal.to_string(),
        }
    }

    pub(super) fn from_transport(error: reqwest::Error) -> Self {
        match crate::transport_failure(error) {
            Ok(message) => Self::Unreachable(message),
            Err(refusal) => Self::Address(refusal),
        }
    }

    /// The one place that reads a failed answer to a request for `url`.
    pub(super) fn from_status(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        url: &Url,
    ) -> Self {
        if status.is_redirection() {
            return Self::Redirected {
                status: status.as_u16(),
                location: redirect_target(headers, url),
            };
        }
        let error = serde_json::from_slice::<WooErrorBody>(body).ok();
        let message = match &error {
            Some(WooErrorBody {
                message: Some(message),
                ..
            }) => message.clone(),
            _ if is_web_page(headers, body) => {
                format!("a web page (HTTP {})", status.as_u16())
            }
            _ => {
                let excerpt = body_excerpt(body);
                if excerpt.is_empty() {
                    status.canonical_reason().unwrap_or_default().to_owned()
                } else {
                    excerpt
                }
            }
        };
        let code = error.and_then(|error| error.code);
        match status {
            StatusCode::UNAUTHORIZED => Self::Unauthorized(message),
            StatusCode::FORBIDDEN => Self::Forbidden(message),
            StatusCode::NOT_FOUND if code.as_deref() == Some("rest_no_route") => {
                Self::NotWooCommerce(message)
            }
            StatusCode::NOT_FOUND if code.is_none() => Self::NotWooCommerce(message),
            StatusCode::NOT_FOUND => Self::NotFound(message),
            _ => Self::Server {
                status: status.as_u16(),
                code,
                message,
            },
        }
    }

    /// A success answer that is a web page rather than JSON.
    pub(super) fn web_page(status: StatusCode, body: &[u8]) -> Self {
        Self::NotWooCommerce(format!(
            "a web page where JSON was expected (HTTP {}: {})",
            status.as_u16(),
            body_excerpt(body)
        ))
    }
}

/// WooCommerce's error body: `{"code": "…", "message": "…", "data": {"status": 401}}`.
#[derive(Deserialize)]
struct WooErrorBody {
    code: Option<String>,
    message: Option<String>,
}

/// HTML where JSON was due: WordPress without pretty permalinks, or not WordPress at all.
pub(super) fn is_web_page(headers: &HeaderMap, body: &[u8]) -> bool {
    let html_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("html"));
    html_type || body.trim_ascii_start().starts_with(b"<")
}

/// Where a redirect points, as a store address when the target still holds the REST path we
/// asked for (`https://shop.example/wp-json/…` → `https://shop.example`), never with its query:
/// over plain http that query would hold our OAuth signature.
fn redirect_target(headers: &HeaderMap, url: &Url) -> String {
    let Some(mut target) = headers
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|location| url.join(location).ok())
    else {
        return "an address the store did not name".to_owned();
    };
    target.set_query(None);
    target.set_fragment(None);
    let path = target.path().to_owned();
    for marker in ["/wp-json/", "/wc-auth/"] {
        if let Some(at) = path.find(marker) {
            target.set_path(&path[..at]);
            return target.as_str().trim_end_matches('/').to_owned();
        }
    }
    target.to_string()
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn request_url() -> Url {
        Url::parse("http://shop.example/wp-json/wc/v3/products?per_page=1&oauth_signature=abc")
            .unwrap()
    }

    fn error(status: u16, content_type: &str, body: &str) -> WooError {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        WooError::from_status(
            StatusCode::from_u16(status).unwrap(),
            &headers,
            body.as_bytes(),
            &request_url(),
        )
    }

    #[test]
    fn woocommerce_error_bodies_map_to_their_variants() {
        let json = "application/json";
        let unauthorized = error(
            401,
            json,
            r#"{"code":"woocommerce_rest_authentication_error","message":"Invalid signature - provided signature does not match.","data":{"status":401}}"#,
        );
        assert!(
            matches!(unauthorized, WooError::Unauthorized(ref m) if m.starts_with("Invalid signature")),
            "{unauthorized:?}"
        );
        let no_route = error(
            404,
            json,
            r#"{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}"#,
        );
        assert!(
            matches!(no_route, WooError::NotWooCommerce(_)),
            "{no_route:?}"
        );
        let missing = error(
            404,
            json,
            r#"{"code":"woocommerce_rest_invalid_id","message":"Invalid ID.","data":{"status":404}}"#,
        );
        assert!(
            matches!(missing, WooError::NotFound(ref m) if m == "Invalid ID."),
            "{missing:?}"
        );
        let html_404 = error(
            404,
            "text/html",
            "<!doctype html><title>Page not found</title>",
        );
        assert!(
            matches!(html_404, WooError::NotWooCommerce(_)),
            "{html_404:?}"
        );
        let bad = error(
            400,
            json,
            r#"{"code":"rest_invalid_param","message":"Invalid parameter(s): per_page","data":{"status":400}}"#,
        );
        assert!(
            matches!(bad, WooError::Server { status: 400, code: Some(ref c), .. } if c == "rest_invalid_param"),
            "{bad:?}"
        );
        assert!(!bad.is_retryable());
        let down = error(503, "text/html", "<h1>Service Unavailable</h1>");
        assert!(
            matches!(
                down,
                WooError::Server {
                    status: 503,
                    code: None,
                    ..
                }
            ),
            "{down:?}"
        );
        assert!(down.is_retryable());
        assert!(error(429, "text/plain", "slow down").is_retryable());
    }

    #[test]
    fn redirects_name_the_store_address_without_the_query() {
        let mut headers = HeaderMap::new();
        headers.insert(
            LOCATION,
            HeaderValue::from_static(
                "https://shop.example/wp-json/wc/v3/products?per_page=1&oauth_signature=abc",
            ),
        );
        let redirected =
            WooError::from_status(StatusCode::MOVED_PERMANENTLY, &headers, b"", &request_url());
        assert!(
            matches!(redirected, WooError::Redirected { status: 301, ref location } if location == "https://shop.example"),
            "{redirected:?}"
        );
        assert!(redirected.seller_message().contains("https://shop.example"));

        headers.insert(LOCATION, HeaderValue::from_static("/login?next=abc"));
        let relative = WooError::from_status(StatusCode::FOUND, &headers, b"", &request_url());
        assert!(
            matches!(relative, WooError::Redirected { ref location, .. } if location == "http://shop.example/login"),
            "{relative:?}"
        );
    }

    #[test]
    fn seller_messages_say_what_to_do() {
        assert!(
            WooError::Unauthorized("Consumer key is invalid.".to_owned())
                .seller_message()
                .contains("connect the store again")
        );
        assert!(
            WooError::NotWooCommerce("x".to_owned())
                .seller_message()
                .contains("permalinks")
        );
        assert!(
            WooError::Unreachable("connection refused".to_owned())
                .seller_message()
                .contains("try again")
        );
    }
}
