//! How a request proves it holds the store's REST API keys, as WooCommerce's official clients do
//! it: HTTP Basic over `https://`, and one-legged OAuth 1.0a in the query string over plain
//! `http://` (where Basic would hand the secret to anyone on the path).
//!
//! The OAuth variant is WooCommerce's: HMAC-SHA256, signing key `consumer_secret + "&"`, no
//! token, no `oauth_version`, and the body is not signed (RFC 5849 §3.4.1 otherwise).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, RequestBuilder};
use sha2::Sha256;
use url::Url;

/// The store's REST API key pair (`ck_…` / `cs_…`). `Debug` shows only the end of the key, as
/// the store's admin does, and never the secret.
#[derive(Clone)]
pub struct Credentials {
    pub consumer_key: String,
    pub consumer_secret: ConsumerSecret,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("consumer_key", &truncated_key(&self.consumer_key))
            .field("consumer_secret", &self.consumer_secret)
            .finish()
    }
}

/// The last 7 characters of a consumer key, as WooCommerce lists keys (`…1a2b3c4`): enough to
/// tell keys apart, not enough to use one.
pub(super) fn truncated_key(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(7)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if key.chars().count() > 7 {
        format!("…{tail}")
    } else {
        "…".to_owned()
    }
}

/// The `cs_…` half of a key pair. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsumerSecret(String);

impl ConsumerSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for storing it encrypted or signing with it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for ConsumerSecret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl fmt::Debug for ConsumerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsumerSecret([redacted])")
    }
}

/// Adds the credentials to a request for `url`, by the store's scheme.
pub(super) fn authorized(
    http: &reqwest::Client,
    method: Method,
    mut url: Url,
    credentials: &Credentials,
) -> RequestBuilder {
    if url.scheme() == "https" {
        return http.request(method, url).basic_auth(
            &credentials.consumer_key,
            Some(credentials.consumer_secret.expose()),
        );
    }
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let nonce: String = crate::random_bytes::<16>()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    sign_query(&method, &mut url, credentials, timestamp, &nonce);
    http.request(method, url)
}

/// Appends the OAuth 1.0a parameters and their signature to `url`'s query.
fn sign_query(
    method: &Method,
    url: &mut Url,
    credentials: &Credentials,
    timestamp: u64,
    nonce: &str,
) {
    let oauth = [
        ("oauth_consumer_key", credentials.consumer_key.clone()),
        ("oauth_nonce", nonce.to_owned()),
        ("oauth_signature_method", "HMAC-SHA256".to_owned()),
        ("oauth_timestamp", timestamp.to_string()),
    ];
    let mut params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    params.extend(oauth.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));

    let mut base_url = url.clone();
    base_url.set_query(None);
    base_url.set_fragment(None);
    let base = base_string(method.as_str(), base_url.as_str(), &params);

    let mut mac = Hmac::<Sha256>::new_from_slice(
        format!("{}&", credentials.consumer_secret.expose()).as_bytes(),
    )
    .expect("HMAC takes a key of any size");
    mac.update(base.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());

    let mut query = url.query_pairs_mut();
    for (key, value) in &oauth {
        query.append_pair(key, value);
    }
    query.append_pair("oauth_signature", &signature);
}

/// RFC 5849 §3.4.1: `METHOD&pct(base URL)&pct(sorted pct(k)=pct(v) pairs joined by &)`.
fn base_string(method: &str, base_url: &str, params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(key, value)| (pct(key), pct(value)))
        .collect();
    pairs.sort();
    let normalized = pairs
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        pct(base_url),
        pct(&normalized)
    )
}

/// Everything but RFC 3986's unreserved characters (ALPHA / DIGIT / "-" / "." / "_" / "~").
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// RFC 3986 percent-encoding of UTF-8, upper-case hex, as RFC 5849 §3.6 requires.
fn pct(text: &str) -> String {
    utf8_percent_encode(text, RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(key: &str, secret: &str) -> Credentials {
        Credentials {
            consumer_key: key.to_owned(),
            consumer_secret: ConsumerSecret::new(secret),
        }
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(pct("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(pct("Ladies + Gentlemen"), "Ladies%20%2B%20Gentlemen");
        assert_eq!(pct("An encoded string!"), "An%20encoded%20string%21");
        assert_eq!(pct("Dogs, Cats & Mice"), "Dogs%2C%20Cats%20%26%20Mice");
        assert_eq!(pct("a/b:c=d?e*f'g(h)"), "a%2Fb%3Ac%3Dd%3Fe%2Af%27g%28h%29");
        assert_eq!(pct("☃"), "%E2%98%83");
        assert_eq!(pct("%3D"), "%253D");
    }

    #[test]
    fn the_base_string_matches_rfc_5849_section_3_4_1_1() {
        // The RFC's example request, its query, body and OAuth parameters decoded; the expected
        // string is the RFC's own, joined onto one line.
        let params: Vec<(String, String)> = [
            ("b5", "=%3D"),
            ("a3", "a"),
            ("c@", ""),
            ("a2", "r b"),
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("c2", ""),
            ("a3", "2 q"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            base_string("post", "http://example.com/request", &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
             %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_\
             key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m\
             ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk\
             9d7dh3k39sjv7"
        );
    }

    #[test]
    fn oauth_signature_matches_an_independently_computed_one() {
        // Computed with Python's standard library:
        //   pct = lambda s: urllib.parse.quote(s, safe="")
        //   pairs = sorted((pct(k), pct(v)) for k, v in params)   # the query + oauth_* below
        //   base = "GET&" + pct(url) + "&" + pct("&".join(f"{k}={v}" for k, v in pairs))
        //   base64.b64encode(hmac.new(b"cs_sandbox_demo&", base.encode(), hashlib.sha256).digest())
        let mut url = Url::parse(
            "http://127.0.0.1:8090/woo/demo-shop/wp-json/wc/v3/products\
             ?page=2&per_page=100&modified_after=2024-05-01T10%3A00%3A00&dates_are_gmt=true",
        )
        .unwrap();
        sign_query(
            &Method::GET,
            &mut url,
            &credentials("ck_sandbox_demo", "cs_sandbox_demo"),
            1_714_557_600,
            "0123456789abcdef0123456789abcdef",
        );
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("oauth_consumer_key"), Some("ck_sandbox_demo"));
        assert_eq!(get("oauth_timestamp"), Some("1714557600"));
        assert_eq!(get("oauth_nonce"), Some("0123456789abcdef0123456789abcdef"));
        assert_eq!(get("oauth_signature_method"), Some("HMAC-SHA256"));
        assert_eq!(
            get("oauth_signature"),
            Some("vvH/qqo5zkTUbIp1mmjq92qw+OCNPI9bhez/l8Z0NpE=")
        );
        assert_eq!(get("page"), Some("2"), "the request's own query stays");
        assert_eq!(get("oauth_version"), None);
        assert!(!url.as_str().contains("cs_sandbox_demo"));
    }

    #[test]
    fn https_stores_get_a_sensitive_basic_authorization_header() {
        let request = authorized(
            &reqwest::Client::new(),
            Method::GET,
            Url::parse("https://shop.example/wp-json/wc/v3/products?per_page=1").unwrap(),
            &credentials("ck_x", "cs_y"),
        )
        .build()
        .unwrap();
        let header = &request.headers()["authorization"];
        // base64("ck_x:cs_y")
        assert_eq!(header.to_str().unwrap(), "Basic Y2tfeDpjc195");
        assert!(header.is_sensitive());
        assert_eq!(
            request.url().query(),
            Some("per_page=1"),
            "no OAuth over TLS"
        );
    }

    #[test]
    fn http_stores_get_oauth_in_the_query_and_no_authorization_header() {
        let request = authorized(
            &reqwest::Client::new(),
            Method::DELETE,
            Url::parse("http://shop.example/wp-json/wc/v3/webhooks/7?force=true").unwrap(),
            &credentials("ck_x", "cs_y"),
        )
        .build()
        .unwrap();
        assert!(request.headers().get("authorization").is_none());
        let query: Vec<(String, String)> = request.url().query_pairs().into_owned().collect();
        let names: Vec<&str> = query.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "force",
                "oauth_consumer_key",
                "oauth_nonce",
                "oauth_signature_method",
                "oauth_timestamp",
                "oauth_signature"
            ]
        );
        let nonce = &query[2].1;
        assert_eq!(nonce.len(), 32);
        assert!(nonce.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = "ck_0123456789abcdef0123456789abcdef01234567";
        let shown = format!("{:?}", credentials(key, "cs_very_secret"));
        assert!(shown.contains("…1234567"), "{shown}");
        assert!(!shown.contains(key));
        assert!(!shown.contains("cs_very_secret"));
        assert_eq!(truncated_key("ck_x"), "…");
    }
}
