//! BigCommerce app authorization. A merchant installs Marketbridge from the store's control
//! panel; BigCommerce then sends the browser to our auth callback with
//! `?code=…&scope=…&context=stores/{store_hash}` ([`InstallRequest`]), and we trade the code for
//! the store's access token at the token URL ([`exchange_install_code`]). Opening, uninstalling
//! the app or removing a user sends the browser (or BigCommerce's server) to the load,
//! uninstall or remove-user callback with `?signed_payload_jwt=…`: a JWT signed HS256 under our
//! client secret, checked by [`verify_signed_payload`].
//!
//! A code works once, right or wrong, and only with the `redirect_uri` registered as the app's
//! auth callback, byte for byte. Nothing here logs or displays an access token, a client
//! secret, an install code or a signed payload.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use reqwest::header::ACCEPT;
use serde::Deserialize;
use sha2::Sha256;
use time::OffsetDateTime;
use url::Url;

use crate::{AddressError, ShopHttp, body_excerpt};

type HmacSha256 = Hmac<Sha256>;

/// BigCommerce's token URL, where install codes are exchanged.
pub const TOKEN_URL: &str = "https://login.bigcommerce.com/oauth2/token";

/// The longest store hash accepted. BigCommerce's are about ten characters; the margin is for
/// the sandbox's readable ones (`demo-bc`).
const MAX_STORE_HASH_LEN: usize = 64;

/// The longest `signed_payload_jwt` read. BigCommerce's are well under 1 KiB; anything longer is
/// refused before it is decoded, so a huge query string costs no work.
pub const MAX_SIGNED_PAYLOAD_LEN: usize = 8 * 1024;

/// How far our clock and BigCommerce's may disagree: a payload is still accepted this long
/// after its `exp`, and already accepted this long before its `nbf`. A minute covers ordinary
/// NTP drift without making a captured payload meaningfully longer-lived (they live 24 hours).
pub const CLOCK_SKEW_SECONDS: i64 = 60;

/// A store's hash: the `{hash}` of `stores/{hash}` and of `api.bigcommerce.com/stores/{hash}`.
/// Only `[a-z0-9-]`, 1 to 64 characters, so it is safe in a URL path and in a log line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoreHash(String);

/// A text that is not a store hash. The text itself is not repeated: it came from outside.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a BigCommerce store hash: it must be 1 to {MAX_STORE_HASH_LEN} lowercase letters, digits or hyphens"
)]
pub struct InvalidStoreHash;

impl StoreHash {
    pub fn parse(text: &str) -> Result<Self, InvalidStoreHash> {
        let valid = !text.is_empty()
            && text.len() <= MAX_STORE_HASH_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidStoreHash)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `stores/{hash}`, as BigCommerce writes a store's context.
    pub fn context(&self) -> String {
        format!("stores/{}", self.0)
    }
}

impl fmt::Display for StoreHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The store of a context `stores/{hash}`; `None` for anything else.
pub fn store_hash_of_context(context: &str) -> Option<StoreHash> {
    StoreHash::parse(context.strip_prefix("stores/")?).ok()
}

// ---------------------------------------------------------------------------------------------
// Signed payloads
// ---------------------------------------------------------------------------------------------

/// What a verified `signed_payload_jwt` says: which store, and who in it opened the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedPayload {
    pub store_hash: StoreHash,
    /// The control-panel user who opened the app (or removed it).
    pub user_id: i64,
    pub user_email: String,
    /// The store's owner.
    pub owner_id: i64,
    pub owner_email: String,
    /// The payload's unique id: a caller that must not accept one twice remembers it until the
    /// payload expires.
    pub jti: String,
    pub issued_at: OffsetDateTime,
}

/// Why a `signed_payload_jwt` was refused. No variant carries any part of the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error(
        "the BigCommerce signed payload is too long (over {MAX_SIGNED_PAYLOAD_LEN} bytes) and was not read"
    )]
    TooLong,
    #[error(
        "the BigCommerce signed payload is malformed: it is not a JWT of three base64url parts with the claims BigCommerce sends"
    )]
    Malformed,
    #[error("the BigCommerce signed payload is not signed with HS256, the only algorithm accepted")]
    UnsupportedAlgorithm,
    #[error(
        "the BigCommerce signed payload has a bad signature: it was not signed with this app's client secret (forged, altered, or meant for another app)"
    )]
    BadSignature,
    #[error(
        "the BigCommerce signed payload has the wrong issuer: it was not issued by BigCommerce"
    )]
    WrongIssuer,
    #[error(
        "the BigCommerce signed payload has the wrong audience: it was issued for another app's client id"
    )]
    WrongAudience,
    #[error(
        "the BigCommerce signed payload has expired: open the app again from the store's control panel"
    )]
    Expired,
    #[error("the BigCommerce signed payload is not yet valid: check this server's clock")]
    NotYetValid,
    #[error(
        "the BigCommerce signed payload has a bad subject: it does not name a store as stores/{{store hash}}"
    )]
    BadSubject,
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
}

/// `aud` is one string in BigCommerce's payloads; a JWT may also carry a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, client_id: &str) -> bool {
        match self {
            Self::One(aud) => aud == client_id,
            Self::Many(auds) => auds.iter().any(|aud| aud == client_id),
        }
    }
}

#[derive(Deserialize)]
struct PayloadClaims {
    iss: String,
    aud: Audience,
    sub: String,
    iat: i64,
    #[serde(default)]
    nbf: Option<i64>,
    exp: i64,
    jti: String,
    user: Person,
    owner: Person,
}

#[derive(Deserialize)]
struct Person {
    id: i64,
    #[serde(default)]
    email: String,
}

/// Checks a `signed_payload_jwt` for the app `client_id` whose secret is `client_secret`, at
/// `now`: its shape and length, HS256 only, the signature (in constant time), then `iss`,
/// `aud`, `sub` and the validity window (with [`CLOCK_SKEW_SECONDS`] of slack).
pub fn verify_signed_payload(
    jwt: &str,
    client_id: &str,
    client_secret: &str,
    now: OffsetDateTime,
) -> Result<SignedPayload, PayloadError> {
    if jwt.len() > MAX_SIGNED_PAYLOAD_LEN {
        return Err(PayloadError::TooLong);
    }
    let mut parts = jwt.split('.');
    let (Some(header_part), Some(claims_part), Some(signature_part), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PayloadError::Malformed);
    };
    let header: JwtHeader = decode_json(header_part)?;
    // Anything but HS256 is refused: "none" would need no secret, and the RSA/EC algorithms
    // invite the trick of verifying a forged token with a public value as the HMAC key.
    if header.alg != "HS256" {
        return Err(PayloadError::UnsupportedAlgorithm);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature_part)
        .map_err(|_| PayloadError::Malformed)?;
    let signing_input = &jwt[..header_part.len() + 1 + claims_part.len()];
    let mut mac =
        HmacSha256::new_from_slice(client_secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(signing_input.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&signature)
        .map_err(|_| PayloadError::BadSignature)?;

    let claims: PayloadClaims = decode_json(claims_part)?;
    if claims.iss != "bc" {
        return Err(PayloadError::WrongIssuer);
    }
    if !claims.aud.contains(client_id) {
        return Err(PayloadError::WrongAudience);
    }
    let store_hash = store_hash_of_context(&claims.sub).ok_or(PayloadError::BadSubject)?;
    let now = now.unix_timestamp();
    if claims.exp.saturating_add(CLOCK_SKEW_SECONDS) <= now {
        return Err(PayloadError::Expired);
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(CLOCK_SKEW_SECONDS))
    {
        return Err(PayloadError::NotYetValid);
    }
    let issued_at =
        OffsetDateTime::from_unix_timestamp(claims.iat).map_err(|_| PayloadError::Malformed)?;
    Ok(SignedPayload {
        store_hash,
        user_id: claims.user.id,
        user_email: claims.user.email,
        owner_id: claims.owner.id,
        owner_email: claims.owner.email,
        jti: claims.jti,
        issued_at,
    })
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, PayloadError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| PayloadError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| PayloadError::Malformed)
}

// ---------------------------------------------------------------------------------------------
// Install: the auth callback and the code exchange
// ---------------------------------------------------------------------------------------------

/// The query BigCommerce sends the browser to the auth callback with. `Debug` hides the code.
#[derive(Clone, PartialEq, Eq)]
pub struct InstallRequest {
    /// The install code: single-use, short-lived, a secret until it is exchanged.
    pub code: String,
    /// The scopes the merchant granted, space-separated.
    pub scope: String,
    /// `stores/{store_hash}`.
    pub context: String,
}

/// Why an auth callback's query is not an install request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InstallRequestError {
    #[error("the BigCommerce install callback has no '{0}' parameter")]
    Missing(&'static str),
    #[error("the BigCommerce install callback has the '{0}' parameter more than once")]
    Repeated(&'static str),
    #[error(
        "the BigCommerce install callback's context does not name a store as stores/{{store hash}}"
    )]
    BadContext,
}

impl InstallRequest {
    /// Reads the auth callback's query string (without the `?`). `code` and `context` must be
    /// there and non-empty, `scope` there; none may be repeated; other parameters are ignored.
    pub fn from_query(query: &str) -> Result<Self, InstallRequestError> {
        let mut code = None;
        let mut scope = None;
        let mut context = None;
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let (slot, name) = match name.as_ref() {
                "code" => (&mut code, "code"),
                "scope" => (&mut scope, "scope"),
                "context" => (&mut context, "context"),
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(InstallRequestError::Repeated(name));
            }
        }
        let code = code
            .filter(|code| !code.is_empty())
            .ok_or(InstallRequestError::Missing("code"))?;
        let scope = scope.ok_or(InstallRequestError::Missing("scope"))?;
        let context = context
            .filter(|context| !context.is_empty())
            .ok_or(InstallRequestError::Missing("context"))?;
        if store_hash_of_context(&context).is_none() {
            return Err(InstallRequestError::BadContext);
        }
        Ok(Self {
            code,
            scope,
            context,
        })
    }

    /// The store being installed on, when the context names one.
    pub fn store_hash(&self) -> Option<StoreHash> {
        store_hash_of_context(&self.context)
    }
}

impl fmt::Debug for InstallRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstallRequest")
            .field("code", &"[redacted]")
            .field("scope", &self.scope)
            .field("context", &self.context)
            .finish()
    }
}

/// A finished install: the store's access token for the API (`X-Auth-Token`), which does not
/// expire and is replaced when the app is installed again. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct InstalledApp {
    pub store_hash: StoreHash,
    pub access_token: String,
    /// The scopes granted, space-separated.
    pub scope: String,
    /// The control-panel user who installed the app.
    pub user_id: i64,
    pub user_email: String,
}

impl fmt::Debug for InstalledApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstalledApp")
            .field("store_hash", &self.store_hash)
            .field("access_token", &"[redacted]")
            .field("scope", &self.scope)
            .field("user_id", &self.user_id)
            .field("user_email", &self.user_email)
            .finish()
    }
}

/// Why an install code could not be exchanged. No variant carries the code, the client secret
/// or a token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppAuthError {
    /// 400 or 401 with BigCommerce's OAuth error: the code is unknown, expired or already used,
    /// the `redirect_uri` is not the registered auth callback, or the client id or secret is
    /// wrong.
    #[error("BigCommerce refused the install code exchange (HTTP {status}{}): {description}", if .error.is_empty() { String::new() } else { format!(", {}", .error) })]
    Refused {
        status: u16,
        /// The OAuth error code (`invalid_grant`, `invalid_client`, …), empty when none came.
        error: String,
        /// BigCommerce's `error_description`, or the start of its answer.
        description: String,
    },
    /// No answer: connection refused, DNS, TLS, timeout.
    #[error("BigCommerce's token URL could not be reached: {0}")]
    Unreachable(String),
    /// An answer that is neither a token nor a refusal: 5xx, 429, a redirect, an unreadable
    /// body, or a token for another store than the one asked for.
    #[error("BigCommerce's token URL gave an unexpected answer (HTTP {status}): {detail}")]
    Unexpected { status: u16, detail: String },
    /// The token URL is one the address policy does not allow calling.
    #[error("BigCommerce's token URL is not allowed: {0}")]
    Address(AddressError),
    /// The install request's context does not name a store, so nothing was sent.
    #[error(
        "the install request's context does not name a BigCommerce store as stores/{{store hash}}"
    )]
    BadContext,
}

impl AppAuthError {
    /// Whether the same exchange may succeed later without anyone changing anything. A code
    /// is used up by the first exchange that reaches BigCommerce, so after a refusal the
    /// merchant must install (or open) the app again for a new one.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Unexpected { status, .. } => *status >= 500 || *status == 429,
            Self::Refused { .. } | Self::Address(_) | Self::BadContext => false,
        }
    }

    /// What happened and what to do next, for the merchant.
    pub fn seller_message(&self) -> String {
        match self {
            Self::Refused { error, .. } if error == "invalid_client" => {
                "BigCommerce did not recognise Marketbridge's app credentials, so the app could \
                 not be installed. This is a problem on Marketbridge's side: please contact \
                 support."
                    .to_owned()
            }
            Self::Refused { description, .. } => format!(
                "BigCommerce refused the install code ({description}). An install code works \
                 only once and for a few minutes: install the app again from your store's \
                 control panel (Apps → My Apps)."
            ),
            Self::Unreachable(_) => "BigCommerce could not be reached to finish installing the \
                 app. Please try again in a few minutes; if the install code has expired by \
                 then, install the app again from your store's control panel."
                .to_owned(),
            Self::Unexpected { status, .. } if *status >= 500 || *status == 429 => format!(
                "BigCommerce had a problem finishing the install (HTTP {status}). Please try \
                 again in a few minutes; if it keeps happening, install the app again from your \
                 store's control panel."
            ),
            Self::Unexpected { .. } | Self::Address(_) | Self::BadContext => {
                "BigCommerce's answer to the install could not be used, so the app is not \
                 connected. Install the app again from your store's control panel; if it keeps \
                 happening, please contact support."
                    .to_owned()
            }
        }
    }
}

/// BigCommerce's token answer, as much of it as is used.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    scope: String,
    user: Person,
    context: String,
}

/// BigCommerce's refusal: `{"error": "…", "error_description": "…"}`.
#[derive(Deserialize)]
struct OAuthErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Exchanges the install code of `request` for the store's access token, with a form-encoded
/// `POST` to `token_url` ([`TOKEN_URL`] in production). `redirect_uri` must be the app's
/// registered auth callback exactly. The token answered must be for the store asked for.
pub async fn exchange_install_code(
    http: &ShopHttp,
    token_url: &Url,
    client_id: &str,
    client_secret: &str,
    redirect_uri: &str,
    request: &InstallRequest,
) -> Result<InstalledApp, AppAuthError> {
    let Some(requested_store) = request.store_hash() else {
        return Err(AppAuthError::BadContext);
    };
    http.policy()
        .check(token_url)
        .map_err(AppAuthError::Address)?;
    let form = [
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("code", request.code.as_str()),
        ("scope", request.scope.as_str()),
        ("grant_type", "authorization_code"),
        ("redirect_uri", redirect_uri),
        ("context", request.context.as_str()),
    ];
    let response = http
        .client()
        .post(token_url.clone())
        .header(ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(from_transport)?;
    let status = response.status();
    let body = response.bytes().await.map_err(from_transport)?;
    tracing::debug!(store = %requested_store, status = status.as_u16(), "BigCommerce token URL answered");
    // Whatever BigCommerce says back, the secrets we sent never reach a message.
    let redact = |text: String| scrub(text, &[client_secret, &request.code]);

    if status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED {
        let refusal = serde_json::from_slice::<OAuthErrorBody>(&body).ok();
        let (error, description) = match refusal {
            Some(OAuthErrorBody {
                error,
                error_description,
            }) if !error.is_empty() || !error_description.is_empty() => (error, error_description),
            _ => (String::new(), body_excerpt(&body)),
        };
        let description = if description.is_empty() {
            status.canonical_reason().unwrap_or_default().to_owned()
        } else {
            description
        };
        tracing::warn!(store = %requested_store, status = status.as_u16(), error = %error, "BigCommerce refused an install code");
        return Err(AppAuthError::Refused {
            status: status.as_u16(),
            error: redact(error),
            description: redact(description),
        });
    }
    if !status.is_success() {
        let excerpt = body_excerpt(&body);
        let detail = if status.is_redirection() {
            "a redirect, which is not followed".to_owned()
        } else if excerpt.is_empty() {
            status.canonical_reason().unwrap_or_default().to_owned()
        } else {
            excerpt
        };
        return Err(AppAuthError::Unexpected {
            status: status.as_u16(),
            detail: redact(detail),
        });
    }
    let unexpected = |detail: String| AppAuthError::Unexpected {
        status: status.as_u16(),
        detail,
    };
    // The body holds the token: only the position of a decoding error is reported, never the
    // serde message, which may quote a value.
    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|error| {
        unexpected(format!(
            "the answer is not the documented token JSON (line {}, column {})",
            error.line(),
            error.column()
        ))
    })?;
    if answer.access_token.is_empty() {
        return Err(unexpected(
            "the answer has an empty access_token".to_owned(),
        ));
    }
    if answer.context != request.context {
        return Err(unexpected(format!(
            "the token is for another context than the requested {}",
            request.context
        )));
    }
    tracing::info!(store = %requested_store, scope = %answer.scope, "BigCommerce app installed");
    Ok(InstalledApp {
        store_hash: requested_store,
        access_token: answer.access_token,
        scope: answer.scope,
        user_id: answer.user.id,
        user_email: answer.user.email,
    })
}

fn from_transport(error: reqwest::Error) -> AppAuthError {
    match crate::transport_failure(error) {
        Ok(message) => AppAuthError::Unreachable(message),
        Err(refusal) => AppAuthError::Address(refusal),
    }
}

/// `text` with every non-empty secret of `secrets` replaced by `[redacted]`.
fn scrub(mut text: String, secrets: &[&str]) -> String {
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        if text.contains(secret) {
            text = text.replace(secret, "[redacted]");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use time::Duration;

    use super::*;

    const CLIENT_ID: &str = "client-1";
    const SECRET: &str = "secret-1";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    fn claims() -> Value {
        let now = now().unix_timestamp();
        json!({
            "aud": CLIENT_ID,
            "iss": "bc",
            "iat": now,
            "nbf": now - 5,
            "exp": now + 86_400,
            "jti": "jti-1",
            "sub": "stores/abc123",
            "user": {"id": 7, "email": "user@example.com", "locale": "en-US"},
            "owner": {"id": 8, "email": "owner@example.com"},
            "url": "/",
            "channel_id": null,
        })
    }

    fn encode_json(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }

    /// A JWT with `header` and `claims`, signed HS256 under `key`: written apart from the
    /// verifier.
    fn sign_with(header: &Value, claims: &Value, key: &str) -> String {
        let input = format!("{}.{}", encode_json(header), encode_json(claims));
        let mut mac = HmacSha256::new_from_slice(key.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    fn sign(claims: &Value) -> String {
        sign_with(&json!({"alg": "HS256", "typ": "JWT"}), claims, SECRET)
    }

    fn verify(jwt: &str) -> Result<SignedPayload, PayloadError> {
        verify_signed_payload(jwt, CLIENT_ID, SECRET, now())
    }

    fn with(field: &str, value: Value) -> Value {
        let mut claims = claims();
        claims[field] = value;
        claims
    }

    #[test]
    fn store_hashes_are_short_lowercase_alphanumerics() {
        for good in ["abc123", "demo-bc", "a", &"x".repeat(64)] {
            assert_eq!(StoreHash::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "ABC",
            "abc/def",
            "abc\0",
            "abc\n",
            "a b",
            "ä",
            "..",
            &"x".repeat(65),
        ] {
            assert_eq!(StoreHash::parse(bad), Err(InvalidStoreHash), "{bad:?}");
        }
        assert_eq!(
            store_hash_of_context("stores/abc123").map(|hash| hash.to_string()),
            Some("abc123".to_owned())
        );
        for bad in [
            "abc123",
            "stores/",
            "stores/abc/def",
            "store/abc",
            "stores/ABC",
        ] {
            assert_eq!(store_hash_of_context(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_payload_signed_with_the_secret_verifies() {
        let payload = verify(&sign(&claims())).unwrap();
        assert_eq!(
            payload,
            SignedPayload {
                store_hash: StoreHash::parse("abc123").unwrap(),
                user_id: 7,
                user_email: "user@example.com".to_owned(),
                owner_id: 8,
                owner_email: "owner@example.com".to_owned(),
                jti: "jti-1".to_owned(),
                issued_at: now(),
            }
        );
        // The audience may also come as a list.
        assert!(verify(&sign(&with("aud", json!(["other", CLIENT_ID])))).is_ok());
    }

    #[test]
    fn a_forged_signature_is_refused() {
        let forged = sign_with(&json!({"alg": "HS256"}), &claims(), "another-secret");
        assert_eq!(verify(&forged), Err(PayloadError::BadSignature));
        // A valid signature over other claims.
        let genuine = sign(&claims());
        let parts: Vec<&str> = genuine.split('.').collect();
        let altered = format!(
            "{}.{}.{}",
            parts[0],
            encode_json(&with("sub", json!("stores/victim"))),
            parts[2]
        );
        assert_eq!(verify(&altered), Err(PayloadError::BadSignature));
        // One bit of the signature changed, and the signature cut short.
        let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        signature[0] ^= 1;
        let flipped = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            URL_SAFE_NO_PAD.encode(&signature)
        );
        assert_eq!(verify(&flipped), Err(PayloadError::BadSignature));
        let short = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            URL_SAFE_NO_PAD.encode(&signature[..16])
        );
        assert_eq!(verify(&short), Err(PayloadError::BadSignature));
    }

    #[test]
    fn other_algorithms_are_refused() {
        let none = format!(
            "{}.{}.",
            encode_json(&json!({"alg": "none", "typ": "JWT"})),
            encode_json(&claims())
        );
        assert_eq!(verify(&none), Err(PayloadError::UnsupportedAlgorithm));
        for alg in ["HS512", "RS256", "hs256", "None"] {
            let token = sign_with(&json!({"alg": alg}), &claims(), SECRET);
            assert_eq!(
                verify(&token),
                Err(PayloadError::UnsupportedAlgorithm),
                "{alg}"
            );
        }
    }

    #[test]
    fn the_wrong_audience_or_issuer_is_refused() {
        assert_eq!(
            verify(&sign(&with("aud", json!("another-client")))),
            Err(PayloadError::WrongAudience)
        );
        assert_eq!(
            verify_signed_payload(&sign(&claims()), "another-client", SECRET, now()),
            Err(PayloadError::WrongAudience)
        );
        assert_eq!(
            verify(&sign(&with("iss", json!("not-bc")))),
            Err(PayloadError::WrongIssuer)
        );
    }

    #[test]
    fn expired_and_future_payloads_are_refused_beyond_the_skew() {
        let at = now().unix_timestamp();
        assert_eq!(
            verify(&sign(&with("exp", json!(at - CLOCK_SKEW_SECONDS)))),
            Err(PayloadError::Expired)
        );
        assert!(verify(&sign(&with("exp", json!(at - CLOCK_SKEW_SECONDS + 1)))).is_ok());
        assert_eq!(
            verify(&sign(&with("nbf", json!(at + CLOCK_SKEW_SECONDS + 1)))),
            Err(PayloadError::NotYetValid)
        );
        assert!(verify(&sign(&with("nbf", json!(at + CLOCK_SKEW_SECONDS)))).is_ok());
        // The same payload, checked a day and more later.
        let later = now() + Duration::days(2);
        assert_eq!(
            verify_signed_payload(&sign(&claims()), CLIENT_ID, SECRET, later),
            Err(PayloadError::Expired)
        );
    }

    #[test]
    fn a_subject_that_is_not_a_store_is_refused() {
        for sub in [
            "abc123",
            "stores/",
            "stores/ABC",
            "stores/a/b",
            "stores/a\u{0}",
        ] {
            assert_eq!(
                verify(&sign(&with("sub", json!(sub)))),
                Err(PayloadError::BadSubject),
                "{sub:?}"
            );
        }
    }

    #[test]
    fn oversize_and_malformed_payloads_are_refused() {
        let mut huge = claims();
        huge["padding"] = json!("x".repeat(MAX_SIGNED_PAYLOAD_LEN));
        assert_eq!(verify(&sign(&huge)), Err(PayloadError::TooLong));
        assert_eq!(
            verify(&"a".repeat(MAX_SIGNED_PAYLOAD_LEN + 1)),
            Err(PayloadError::TooLong)
        );
        let genuine = sign(&claims());
        let parts: Vec<&str> = genuine.split('.').collect();
        for malformed in [
            String::new(),
            "not-a-jwt".to_owned(),
            format!("{}.{}", parts[0], parts[1]),
            format!("{genuine}.extra"),
            format!("{}!.{}.{}", parts[0], parts[1], parts[2]),
            format!("{}.{}.{}*", parts[0], parts[1], parts[2]),
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode("not json"),
                parts[1],
                parts[2]
            ),
        ] {
            assert_eq!(
                verify(&malformed),
                Err(PayloadError::Malformed),
                "{malformed}"
            );
        }
        // Signed, but the claims lack what BigCommerce always sends.
        let mut missing = claims();
        missing.as_object_mut().unwrap().remove("exp");
        assert_eq!(verify(&sign(&missing)), Err(PayloadError::Malformed));
    }

    #[test]
    fn payload_errors_never_repeat_the_token() {
        let token = sign(&with("aud", json!("x")));
        let error = verify(&token).unwrap_err();
        let text = format!("{error} {error:?}");
        for part in token.split('.') {
            assert!(!text.contains(part));
        }
        assert!(text.contains("audience"));
    }

    #[test]
    fn install_requests_are_read_from_the_callback_query() {
        let request = InstallRequest::from_query(
            "code=c0de&scope=store_v2_products%20users_basic_information&context=stores%2Fabc123",
        )
        .unwrap();
        assert_eq!(request.code, "c0de");
        assert_eq!(request.scope, "store_v2_products users_basic_information");
        assert_eq!(request.store_hash().unwrap().as_str(), "abc123");
        assert!(!format!("{request:?}").contains("c0de"));
        assert_eq!(
            InstallRequest::from_query("scope=x&context=stores/abc"),
            Err(InstallRequestError::Missing("code"))
        );
        assert_eq!(
            InstallRequest::from_query("code=a&code=b&scope=x&context=stores/abc"),
            Err(InstallRequestError::Repeated("code"))
        );
        assert_eq!(
            InstallRequest::from_query("code=a&scope=x&context=stores/../admin"),
            Err(InstallRequestError::BadContext)
        );
    }

    #[test]
    fn installed_apps_and_errors_hide_the_secrets() {
        let app = InstalledApp {
            store_hash: StoreHash::parse("abc").unwrap(),
            access_token: "tok3n".to_owned(),
            scope: "s".to_owned(),
            user_id: 1,
            user_email: "a@example.com".to_owned(),
        };
        assert!(!format!("{app:?}").contains("tok3n"));
        assert_eq!(
            scrub("code c0de and s3cret".to_owned(), &["s3cret", "c0de", ""]),
            "code [redacted] and [redacted]"
        );
        let refused = AppAuthError::Refused {
            status: 400,
            error: "invalid_grant".to_owned(),
            description: "The code is unknown, expired or already used.".to_owned(),
        };
        assert!(!refused.is_retryable());
        assert!(refused.seller_message().contains("install code"));
        assert!(AppAuthError::Unreachable("refused".to_owned()).is_retryable());
        assert!(
            AppAuthError::Unexpected {
                status: 503,
                detail: String::new()
            }
            .is_retryable()
        );
    }
}
