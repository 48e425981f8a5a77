//! Clients for the sellers' own shops: the WooCommerce REST API (wc/v3) and its app
//! authorization in [`woocommerce`], and the checks on the webhooks a shop sends in [`webhook`].
//!
//! This crate owns the HTTP conversations with shops and the mapping of their answers to typed
//! errors, and the [`address`] policy that keeps those conversations off the operator's own
//! network. It stores nothing and knows no workspace: callers hand in the store address, the
//! keys and the [`ShopHttp`] client. It never logs a key, a secret or a signature.

pub mod address;
pub mod bigcommerce;
pub mod call_metrics;
pub mod shop;
pub mod webhook;
pub mod woocommerce;

pub use address::{AddressError, AddressPolicy, ShopHttp};
pub use shop::{
    CatalogPage, Delivery, DeliveryError, EventSubject, NewShopOrder, NewShopOrderLine, ShopClient,
    ShopError, ShopEvent, ShopOrder, ShopProduct, ShopWebhook, read_delivery,
};
pub use woocommerce::{NormalizeProblem, NormalizeProblemKind, Term, TrackedItem, Tracking};

/// How the connector names itself to shops: on a store's approve page, its key list and the
/// webhooks it registers.
pub const APP_NAME: &str = "Marketbridge";

/// The longest piece of a response body an error carries.
const BODY_EXCERPT_CHARS: usize = 200;

/// Bytes from the operating system's generator. Without one no nonce or webhook secret would be
/// safe, so failing loudly is the only sensible answer.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random generator is unavailable");
    bytes
}

/// Why a request to a shop got no answer: the address policy's refusal (`Err`), or the
/// transport error with its causes on one line (`Ok`). Without the URL: over plain http a
/// WooCommerce URL carries the OAuth signature in its query.
fn transport_failure(error: reqwest::Error) -> Result<String, AddressError> {
    let error = error.without_url();
    if let Some(refusal) = address::address_error(&error) {
        return Err(refusal.clone());
    }
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Ok(message)
}

/// The start of a response body, on one line, for an error message.
fn body_excerpt(body: &[u8]) -> String {
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
        let excerpt = body_excerpt("x".repeat(500).as_bytes());
        assert_eq!(excerpt.chars().count(), BODY_EXCERPT_CHARS + 1);
        assert!(excerpt.ends_with('…'));
    }

    #[test]
    fn random_bytes_differ_each_time() {
        assert_ne!(random_bytes::<16>(), random_bytes::<16>());
    }
}
