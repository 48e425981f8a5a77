//! Clients for Mirakl: the Mirakl Authentication System (MAS, OAuth 2) in [`mas`], the
//! marketplace seller API of one instance in [`marketplace`], the Mirakl Connect seller API in
//! [`connect`], the offer file and JSON Mirakl reads in [`offers_file`] and the product file in
//! [`products_file`].
//!
//! This crate owns the HTTP conversations with Mirakl and the mapping of their answers to typed
//! errors. It stores nothing and knows no workspace: callers hand in base URLs and credentials.
//! Every base URL is configurable, so the same code talks to production or to the sandbox.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

pub mod call_metrics;
pub mod connect;
mod import_file;
pub mod marketplace;
pub mod mas;
pub mod offers_file;
pub mod products_file;
mod retry_after;
mod wire;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const USER_AGENT: &str = concat!("marketbridge/", env!("CARGO_PKG_VERSION"));

/// The longest piece of a response body an error carries.
const BODY_EXCERPT_CHARS: usize = 200;

/// One reqwest client for all outside calls.
///
/// It never follows redirects: a token endpoint that redirects must fail loudly rather than
/// send the client secret or an authorization code somewhere else.
///
/// # Panics
///
/// When the TLS backend cannot be initialised, which is a broken build rather than a runtime
/// condition.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(USER_AGENT)
        .build()
        .expect("the TLS backend of the HTTP client initialises")
}

/// Why a request got no answer, with the causes reqwest keeps in its source chain
/// (such as "Connection refused"), which its own message leaves out.
pub(crate) fn transport_failure(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The start of a response body, on one line, for an error message or a log.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut excerpt: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(BODY_EXCERPT_CHARS)
        .collect();
    if text.chars().nth(BODY_EXCERPT_CHARS).is_some() {
        excerpt.push('…');
    }
    excerpt.trim().to_owned()
}

/// The `message` of a Mirakl error body (`{"message": "…", "status": 400}` on a marketplace,
/// `{"code": "…", "message": "…"}` on Connect); any other body is quoted.
pub(crate) fn error_message(status: StatusCode, body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct MiraklError {
        message: Option<String>,
    }
    if let Ok(MiraklError {
        message: Some(message),
    }) = serde_json::from_slice(body)
    {
        return message;
    }
    let excerpt = body_excerpt(body);
    if excerpt.is_empty() {
        status.canonical_reason().unwrap_or_default().to_owned()
    } else {
        excerpt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_prefer_mirakls_message_field() {
        let body = br#"{"message":"Shop 7 is not granted","status":403}"#;
        assert_eq!(
            error_message(StatusCode::FORBIDDEN, body),
            "Shop 7 is not granted"
        );
        let connect = br#"{"code":"INVALID_INPUT","message":"Invalid body"}"#;
        assert_eq!(
            error_message(StatusCode::BAD_REQUEST, connect),
            "Invalid body"
        );
        assert_eq!(error_message(StatusCode::BAD_GATEWAY, b""), "Bad Gateway");
        assert_eq!(
            error_message(StatusCode::BAD_GATEWAY, b"<h1>oops</h1>"),
            "<h1>oops</h1>"
        );
    }

    #[test]
    fn body_excerpts_are_one_short_line() {
        assert_eq!(
            body_excerpt(b"<html>\n<b>Bad gateway</b>\n</html>"),
            "<html> <b>Bad gateway</b> </html>"
        );
        let long = "x".repeat(500);
        let excerpt = body_excerpt(long.as_bytes());
        assert_eq!(excerpt.chars().count(), BODY_EXCERPT_CHARS + 1);
        assert!(excerpt.ends_with('…'));
    }
}
