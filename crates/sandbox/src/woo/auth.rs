//! Authentication of REST calls, following WooCommerce's `WC_REST_Authentication`:
//! - `consumer_key` + `consumer_secret` in the query, or HTTP Basic with key:secret;
//! - one-legged OAuth 1.0a (what the official clients send to an `http://` store): the
//!   `oauth_*` parameters in the query (or an `Authorization: OAuth` header), HMAC-SHA1 or
//!   HMAC-SHA256 over `METHOD&base-url&sorted-parameters` with key `secret&`, a timestamp
//!   within 15 minutes and a nonce not seen in that window.
//!
//! ASSUMPTION (local use): core accepts the key/secret forms over HTTPS only; the sandbox
//! serves plain HTTP and accepts them there too.
//!
//! A key then needs the right permission for the method (read for GET, write for the others).
//! A request without credentials reaches no key, and each route refuses it as core's
//! permission callbacks do (`woocommerce_rest_cannot_view`, `…_cannot_create`, …).

use std::collections::BTreeMap;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;

use crate::Sandbox;
use crate::gate::{ConnectionFault, FaultSlot};
use crate::values::clock::now;
use crate::woo::model::{Permissions, WooStore};
use crate::woo::rest::{QueryParams, RestError};
use crate::woo::store_code;

/// OAuth timestamps and nonces are valid for 15 minutes either side of now.
const OAUTH_WINDOW_SECONDS: i64 = 15 * 60;

/// The `route_layer` in front of every REST route: counts the call, authenticates, checks the
/// key's permission for the method, refuses anonymous calls, and draws the call's connection
/// fault (`gate`): a timed-out call goes no further, a lost answer is served first.
pub async fn rest_auth(
    State(sandbox): State<Sandbox>,
    fault: FaultSlot,
    request: Request,
    next: Next,
) -> Response {
    let original = request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| request.uri().clone(), |uri| uri.0.clone());
    let path = original.path().to_owned();
    let Some(code) = store_code(&path) else {
        return RestError::no_route().into_response();
    };
    let (outcome, drawn) = {
        let mut world = sandbox.world();
        world.count_call("woo.rest");
        let mut planned = false;
        if let Some(resource) = rest_resource(&path) {
            let counter = format!("woo.rest.{resource}");
            world.count_call(&counter);
            let method_counter = format!("{} {counter}", request.method());
            planned = world.planned_lost_answer(&[&method_counter, &counter]);
        }
        let public_url = world.public_url.clone();
        let Some(store) = world.woo.get_mut(code) else {
            return RestError::no_route().into_response();
        };
        let call = Call {
            method: request.method(),
            headers: request.headers(),
            path: &path,
            query: QueryParams::parse(original.query()),
            public_url: &public_url,
        };
        let outcome = authenticate(store, &call);
        let drawn = match outcome {
            Ok(Some(_)) if planned => Some(ConnectionFault::LostAnswer),
            Ok(Some(_)) => world.gate.connection_fault(),
            _ => None,
        };
        (outcome, drawn)
    };
    if let Some(drawn) = drawn {
        fault.set(drawn);
        if drawn == ConnectionFault::Timeout {
            // Not applied; `gate::connection_faults` holds the connection and never answers.
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
    }
    match outcome {
        Ok(Some(key_id)) => {
            tracing::debug!(key_id, %path, "WooCommerce REST call");
            next.run(request).await
        }
        Ok(None) => anonymous_refusal(request.method(), &path).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `products`, `orders`, `webhooks`, … from `/woo/{store}/wp-json/wc/v3/{resource}/…`.
fn rest_resource(path: &str) -> Option<&str> {
    let rest = path.split_once("/wp-json/wc/v3/")?.1;
    let mut segments = rest.split('/');
    let first = segments.next().filter(|s| !s.is_empty())?;
    match (first, segments.next(), segments.next()) {
        ("products", Some("categories"), _) => Some("categories"),
        ("products", Some("tags"), _) => Some("tags"),
        ("products", Some(_), Some("variations")) => Some("variations"),
        ("orders", Some(_), Some("notes")) => Some("order_notes"),
        ("orders", Some(_), Some("refunds")) => Some("order_refunds"),
        _ => Some(first),
    }
}

/// What an anonymous caller gets from a route's permission check.
fn anonymous_refusal(method: &Method, path: &str) -> RestError {
    let (code, message) = if path.trim_end_matches('/').ends_with("/batch") {
        (
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        )
    } else {
        match *method {
            Method::POST => (
                "woocommerce_rest_cannot_create",
                "Sorry, you are not allowed to create resources.",
            ),
            Method::PUT | Method::PATCH => (
                "woocommerce_rest_cannot_edit",
                "Sorry, you are not allowed to edit this resource.",
            ),
            Method::DELETE => (
                "woocommerce_rest_cannot_delete",
                "Sorry, you are not allowed to delete this resource.",
            ),
            _ => (
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot list resources.",
            ),
        }
    };
    RestError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// The parts of a request that authentication reads.
pub struct Call<'a> {
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    /// The path as received, still percent-encoded.
    pub path: &'a str,
    pub query: QueryParams,
    pub public_url: &'a url::Url,
}

fn auth_error(message: &str) -> RestError {
    RestError::new(
        StatusCode::UNAUTHORIZED,
        "woocommerce_rest_authentication_error",
        message,
    )
}

/// The id of the key a call authenticates with (`Ok(None)`: no credentials, or a key that
/// does not exist, which core treats alike), or why it is refused.
pub fn authenticate(store: &mut WooStore, call: &Call<'_>) -> Result<Option<i64>, RestError> {
    let user = match key_and_secret(call) {
        Some((consumer_key, secret, from_basic)) => {
            match store
                .keys
                .iter()
                .find(|key| key.consumer_key == consumer_key)
            {
                None => None,
                Some(key)
                    if bool::from(key.consumer_secret.as_bytes().ct_eq(secret.as_bytes())) =>
                {
                    Some((key.key_id, key.permissions))
                }
                Some(_) => {
                    let mut error = auth_error("Consumer secret is invalid.");
                    error.www_authenticate = from_basic;
                    return Err(error);
                }
            }
        }
        None => oauth(store, call)?,
    };
    let Some((key_id, permissions)) = user else {
        return Ok(None);
    };
    check_permissions(permissions, call.method)?;
    Ok(Some(key_id))
}

/// `check_permissions`: read for GET/HEAD, write for POST/PUT/PATCH/DELETE.
fn check_permissions(permissions: Permissions, method: &Method) -> Result<(), RestError> {
    match *method {
        Method::GET | Method::HEAD if !permissions.can_read() => Err(auth_error(
            "The API key provided does not have read permissions.",
        )),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE if !permissions.can_write() => {
            Err(auth_error(
                "The API key provided does not have write permissions.",
            ))
        }
        _ => Ok(()),
    }
}

/// Key and secret from the query (preferred, as core) or from HTTP Basic.
fn key_and_secret(call: &Call<'_>) -> Option<(String, String, bool)> {
    if let (Some(key), Some(secret)) = (
        call.query.value("consumer_key"),
        call.query.value("consumer_secret"),
    ) {
        return Some((key.to_owned(), secret.to_owned(), false));
    }
    let value = call
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (key, secret) = decoded.split_once(':')?;
    (!key.is_empty() && !secret.is_empty()).then(|| (key.to_owned(), secret.to_owned(), true))
}

const OAUTH_PARAMETERS: [&str; 5] = [
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
];

/// One-legged OAuth 1.0a; `Ok(None)` when the call carries no OAuth parameter at all.
fn oauth(store: &mut WooStore, call: &Call<'_>) -> Result<Option<(i64, Permissions)>, RestError> {
    // The parameters as PHP sees them: query (last value wins), then the header's.
    let mut params: BTreeMap<String, String> = call.query.0.iter().cloned().collect();
    params.extend(header_parameters(call.headers));
    if !OAUTH_PARAMETERS
        .iter()
        .any(|name| params.get(*name).is_some_and(|v| !v.is_empty()))
    {
        return Ok(None);
    }
    let missing: Vec<&str> = OAUTH_PARAMETERS
        .iter()
        .copied()
        .filter(|name| params.get(*name).is_none_or(String::is_empty))
        .collect();
    if !missing.is_empty() {
        let noun = if missing.len() == 1 {
            "parameter"
        } else {
            "parameters"
        };
        return Err(RestError::new(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_missing_parameter",
            format!("Missing OAuth {noun} {}", missing.join(", ")),
        ));
    }
    let consumer_key = params["oauth_consumer_key"].clone();
    let Some(key) = store.key_mut(&consumer_key) else {
        return Err(auth_error("Consumer key is invalid."));
    };

    let sent_signature = percent_decode(&params["oauth_signature"].replace(' ', "+"));
    let method = params["oauth_signature_method"].clone();
    params.remove("oauth_signature");
    if method != "HMAC-SHA1" && method != "HMAC-SHA256" {
        return Err(auth_error(
            "Invalid signature - signature method is invalid.",
        ));
    }
    let matches = base_urls(call).iter().any(|base_url| {
        let base = signature_base(call.method.as_str(), base_url, &params);
        let expected = sign(&method, &key.consumer_secret, &base);
        bool::from(expected.as_bytes().ct_eq(sent_signature.as_bytes()))
    });
    if !matches {
        return Err(auth_error(
            "Invalid signature - provided signature does not match.",
        ));
    }

    let now = now().unix_timestamp();
    let timestamp: i64 = params["oauth_timestamp"].trim().parse().unwrap_or(0);
    if timestamp < now - OAUTH_WINDOW_SECONDS || timestamp > now + OAUTH_WINDOW_SECONDS {
        return Err(auth_error("Invalid timestamp."));
    }
    let nonce = params["oauth_nonce"].clone();
    key.nonces
        .retain(|_, seen_at| *seen_at >= now - OAUTH_WINDOW_SECONDS);
    if key.nonces.contains_key(&nonce) {
        return Err(auth_error("Invalid nonce - nonce has already been used."));
    }
    key.nonces.insert(nonce, timestamp);
    Ok(Some((key.key_id, key.permissions)))
}

/// `oauth_*` pairs of an `Authorization: OAuth k="v", …` header.
fn header_parameters(headers: &HeaderMap) -> Vec<(String, String)> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().strip_prefix("OAuth "))
    else {
        return Vec::new();
    };
    value
        .split(',')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| name.starts_with("oauth_"))
        .map(|(name, raw)| {
            let raw = raw.trim().trim_matches('"');
            (name.to_owned(), percent_decode(&raw.replace('+', " ")))
        })
        .collect()
}

/// The base URLs a client may have signed: the store's configured URL (what core uses) and
/// the scheme + `Host` the client actually called, each with the request path.
fn base_urls(call: &Call<'_>) -> Vec<String> {
    let origin = call.public_url.origin().ascii_serialization();
    let mut urls = vec![format!("{origin}{}", call.path)];
    if let Some(host) = call.headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        let from_host = format!("{}://{host}{}", call.public_url.scheme(), call.path);
        if from_host != urls[0] {
            urls.push(from_host);
        }
    }
    urls
}

/// `METHOD & rawurlencode(base URL) & rawurlencode-joined(sorted, normalized parameters)`, as
/// `check_oauth_signature` builds it (keys sorted byte-wise, each key and value encoded, then
/// each `key=value` encoded again and joined with `%26`).
pub fn signature_base(method: &str, base_url: &str, params: &BTreeMap<String, String>) -> String {
    let joined: Vec<String> = params
        .iter()
        .map(|(name, value)| encode(&format!("{}={}", encode(name), encode(value))))
        .collect();
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(base_url),
        joined.join("%26")
    )
}

/// base64 of the HMAC of the base string with `secret&`.
pub fn sign(method: &str, consumer_secret: &str, base: &str) -> String {
    let key = format!("{consumer_secret}&");
    let digest = if method == "HMAC-SHA1" {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes())
            .expect("HMAC takes a key of any size");
        mac.update(base.as_bytes());
        mac.finalize().into_bytes().to_vec()
    } else {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
            .expect("HMAC takes a key of any size");
        mac.update(base.as_bytes());
        mac.finalize().into_bytes().to_vec()
    };
    STANDARD.encode(digest)
}

/// PHP's `rawurlencode` (RFC 3986: only `A-Z a-z 0-9 - _ . ~` stay as they are).
pub fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// PHP's `rawurldecode`.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[index + 1]), hex(bytes[index + 2]))
        {
            out.push((high * 16 + low) as u8);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_follows_rfc_3986() {
        assert_eq!(encode("a b/c~d+e"), "a%20b%2Fc~d%2Be");
        assert_eq!(percent_decode("a%2Bb%3D"), "a+b=");
    }

    #[test]
    fn the_base_string_double_encodes_parameters() {
        let params = BTreeMap::from([
            ("b".to_owned(), "x y".to_owned()),
            ("a".to_owned(), "1".to_owned()),
        ]);
        assert_eq!(
            signature_base("get", "http://h:1/p", &params),
            "GET&http%3A%2F%2Fh%3A1%2Fp&a%3D1%26b%3Dx%2520y"
        );
    }
}
