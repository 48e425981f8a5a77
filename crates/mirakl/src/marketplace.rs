//! The seller ("shop") API of one Mirakl marketplace instance: `{instance}/api/…`.
//!
//! Calls send `Accept: application/json` and the credential in `Authorization`. Mirakl may add
//! fields at any time, so response types read only what the connector uses and ignore the rest.

use std::fmt;
use std::time::Duration;

use domain::{InstanceUrl, StoreId};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{body_excerpt, transport_failure};

/// How a call proves who it is for.
#[derive(Clone, Copy)]
pub enum Credential<'a> {
    /// A MAS access token: `Authorization: Bearer <token>`.
    Bearer(&'a str),
    /// A shop API key, sent raw in `Authorization` (Mirakl's documented `shop_api_key` scheme).
    ShopApiKey(&'a str),
}

impl Credential<'_> {
    /// `None` when the credential holds bytes no header may carry.
    fn header_value(self) -> Option<HeaderValue> {
        let raw = match self {
            Self::Bearer(token) => format!("Bearer {token}"),
            Self::ShopApiKey(key) => key.to_owned(),
        };
        let mut value = HeaderValue::from_str(&raw).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bearer(_) => f.write_str("Bearer([redacted])"),
            Self::ShopApiKey(_) => f.write_str("ShopApiKey([redacted])"),
        }
    }
}

/// A01: the shop the credential reaches.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ShopAccount {
    pub shop_id: i64,
    pub shop_name: String,
    /// `OPEN`, `CLOSE`, `SUSPENDED`, `TERMINATED`, or a value Mirakl adds later.
    #[serde(default)]
    pub shop_state: Option<String>,
    #[serde(default)]
    pub currency_iso_code: Option<String>,
}

/// Why a marketplace call failed. No variant carries the credential.
#[derive(Debug, thiserror::Error)]
pub enum MarketplaceError {
    /// 401: the token or API key is missing, expired or wrong.
    #[error("Mirakl refused the credential. Connect the channel again or enter a new API key.")]
    Unauthorized,
    /// 403, with Mirakl's message; e.g. a `shop_id` this credential does not grant.
    #[error(
        "Mirakl denied access ({0}). Check that the store ID belongs to the connected account."
    )]
    Forbidden(String),
    /// 404, with Mirakl's message.
    #[error("Mirakl found nothing there ({0}). Check the marketplace address.")]
    NotFound(String),
    /// 429: too many calls; `Retry-After` in seconds when Mirakl sent it.
    #[error("Mirakl is limiting calls for this account. Try again {}.", .retry_after.map(|d| format!("in {} s", d.as_secs())).unwrap_or_else(|| "later".to_owned()))]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx and any other unexpected status, with Mirakl's message when it sent one.
    #[error("Mirakl answered HTTP {status}: {message}")]
    Server { status: u16, message: String },
    /// No answer (connection refused, DNS, timeout).
    #[error("The marketplace could not be reached ({0}). Try again later.")]
    Unreachable(String),
    /// A success status whose body is not what the API promises.
    #[error("Mirakl's answer could not be read ({0}).")]
    Decode(String),
}

impl MarketplaceError {
    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Unreachable(_) => true,
            Self::Server { status, .. } => *status >= 500,
            Self::Unauthorized | Self::Forbidden(_) | Self::NotFound(_) | Self::Decode(_) => false,
        }
    }

    fn from_transport(error: &reqwest::Error) -> Self {
        Self::Unreachable(transport_failure(error))
    }

    /// The one place that reads a failed answer.
    fn from_status(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => Self::Unauthorized,
            StatusCode::FORBIDDEN => Self::Forbidden(error_message(status, body)),
            StatusCode::NOT_FOUND => Self::NotFound(error_message(status, body)),
            StatusCode::TOO_MANY_REQUESTS => Self::RateLimited {
                retry_after: retry_after(headers),
            },
            _ => Self::Server {
                status: status.as_u16(),
                message: error_message(status, body),
            },
        }
    }
}

/// Mirakl's error body is `{"message": "…", "status": 400}`; anything else is quoted.
fn error_message(status: StatusCode, body: &[u8]) -> String {
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

/// `Retry-After` in seconds (Mirakl's documented form; an HTTP date is ignored).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// A client for the seller API of any instance. Cheap to clone.
#[derive(Clone, Debug)]
pub struct MarketplaceClient {
    http: reqwest::Client,
}

impl MarketplaceClient {
    /// `http` should be [`crate::http_client`].
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }

    /// A01 `GET {instance}/api/account[?shop_id=]`: the shop this credential reaches, or the
    /// given store when the credential grants several.
    pub async fn account(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
    ) -> Result<ShopAccount, MarketplaceError> {
        self.get(instance, "account", credential, shop_id).await
    }

    /// `GET {instance}/api/{path}[?shop_id=]`, read as JSON.
    async fn get<T: DeserializeOwned>(
        &self,
        instance: &InstanceUrl,
        path: &str,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
    ) -> Result<T, MarketplaceError> {
        // A credential no header can carry could never be accepted by Mirakl.
        let authorization = credential
            .header_value()
            .ok_or(MarketplaceError::Unauthorized)?;
        let mut url = instance.api(path);
        if let Some(shop_id) = shop_id {
            url.query_pairs_mut()
                .append_pair("shop_id", &shop_id.to_string());
        }

        let response = self
            .http
            .get(url)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(AUTHORIZATION, authorization)
            .send()
            .await
            .map_err(|error| MarketplaceError::from_transport(&error))?;
        let status = response.status();
        tracing::debug!(%instance, path, shop_id = shop_id.map(StoreId::get), status = status.as_u16(), "Mirakl seller API answered");
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|error| MarketplaceError::from_transport(&error))?;
        if !status.is_success() {
            return Err(MarketplaceError::from_status(status, &headers, &body));
        }
        serde_json::from_slice(&body)
            .map_err(|error| MarketplaceError::Decode(format!("GET /api/{path}: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_become_sensitive_authorization_headers() {
        let bearer = Credential::Bearer("tok").header_value().unwrap();
        assert_eq!(bearer.to_str().unwrap(), "Bearer tok");
        assert!(bearer.is_sensitive());
        let key = Credential::ShopApiKey("1b2c").header_value().unwrap();
        assert_eq!(key.to_str().unwrap(), "1b2c");
        assert!(Credential::ShopApiKey("bad\nkey").header_value().is_none());
        assert_eq!(
            format!("{:?}", Credential::Bearer("tok")),
            "Bearer([redacted])"
        );
    }

    #[test]
    fn error_messages_prefer_mirakls_message_field() {
        let body = br#"{"message":"Shop 7 is not granted","status":403}"#;
        assert_eq!(
            error_message(StatusCode::FORBIDDEN, body),
            "Shop 7 is not granted"
        );
        assert_eq!(error_message(StatusCode::BAD_GATEWAY, b""), "Bad Gateway");
        assert_eq!(
            error_message(StatusCode::BAD_GATEWAY, b"<h1>oops</h1>"),
            "<h1>oops</h1>"
        );
    }
}
