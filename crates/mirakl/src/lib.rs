//! Clients for Mirakl: the Mirakl Authentication System (MAS, OAuth 2) in [`mas`] and the
//! marketplace seller API of one instance in [`marketplace`].
//!
//! This crate owns the HTTP conversations with Mirakl and the mapping of their answers to typed
//! errors. It stores nothing and knows no workspace: callers hand in base URLs and credentials.
//! Every base URL is configurable, so the same code talks to production or to the sandbox.

use std::time::Duration;

pub mod marketplace;
pub mod mas;

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

#[cfg(test)]
mod tests {
    use super::*;

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
