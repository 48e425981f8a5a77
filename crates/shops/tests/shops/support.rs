//! What the shop clients' tests add to [`sandbox::canned`]'s recording server, as a fake
//! WooCommerce store: its list and error answers, and [`check_oauth`], which re-checks OAuth
//! 1.0a signatures the way the store does.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

pub use sandbox::canned::{Canned, CannedServer, Recorded, closed_port_addr};

/// WooCommerce's own answers, on top of [`Canned`]'s.
pub trait WooAnswers {
    /// A wc/v3 list page with its total headers.
    fn list(items: serde_json::Value, total: u64, total_pages: u32) -> Self;

    /// WooCommerce's error body.
    fn error(status: u16, code: &str, message: &str) -> Self;
}

impl WooAnswers for Canned {
    fn list(items: serde_json::Value, total: u64, total_pages: u32) -> Self {
        Self::json(200, items)
            .header("x-wp-total", &total.to_string())
            .header("x-wp-totalpages", &total_pages.to_string())
    }

    fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            json!({"code": code, "message": message, "data": {"status": status}}),
        )
    }
}

/// Checks a request's one-legged OAuth 1.0a query as WooCommerce does, written apart from the
/// client's code: the four parameters, a fresh timestamp, HMAC-SHA256 over the method, the
/// address (`base` + path) and every query parameter but the signature.
pub fn check_oauth(
    request: &Recorded,
    base: &str,
    consumer_key: &str,
    secret: &str,
) -> Result<(), String> {
    let pairs = request.query_pairs();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .ok_or(format!("{name} is missing"))
    };
    if get("oauth_consumer_key")? != consumer_key {
        return Err("Consumer key is invalid.".to_owned());
    }
    if get("oauth_signature_method")? != "HMAC-SHA256" {
        return Err("Invalid signature method.".to_owned());
    }
    if get("oauth_version").is_ok() {
        return Err("oauth_version is not sent by WooCommerce's clients.".to_owned());
    }
    let nonce = get("oauth_nonce")?;
    if nonce.len() != 32 || !nonce.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("unexpected nonce {nonce}"));
    }
    let timestamp: u64 = get("oauth_timestamp")?
        .parse()
        .map_err(|_| "bad timestamp")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now.abs_diff(timestamp) > 15 * 60 {
        return Err("Invalid timestamp.".to_owned());
    }
    let signature = get("oauth_signature")?;

    let mut signed: Vec<String> = pairs
        .iter()
        .filter(|(key, _)| key != "oauth_signature")
        .map(|(key, value)| format!("{}={}", rfc3986(key), rfc3986(value)))
        .collect();
    signed.sort();
    let address = format!("{base}{}", request.path);
    let string_to_sign = format!(
        "{}&{}&{}",
        request.method,
        rfc3986(&address),
        rfc3986(&signed.join("&"))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    if STANDARD.encode(mac.finalize().into_bytes()) == signature {
        Ok(())
    } else {
        Err("Invalid signature - provided signature does not match.".to_owned())
    }
}

/// Percent-encodes all but `A-Z a-z 0-9 - . _ ~`.
fn rfc3986(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The 401 a store gives a request whose OAuth check failed.
pub fn oauth_refusal(reason: &str) -> Canned {
    Canned::error(401, "woocommerce_rest_authentication_error", reason)
}

/// The shop client's HTTP as `demo` has it: the test stores live on 127.0.0.1 over plain http.
pub fn shop_http() -> shops::ShopHttp {
    shops::ShopHttp::new(shops::AddressPolicy::AllowPrivate)
}

/// An HTTP client like the application's: no redirects, short timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}
