//! The seller ("shop") API of one Mirakl marketplace instance: `{instance}/api/…`.
//!
//! Calls send `Accept: application/json` and the credential in `Authorization`. Mirakl may add
//! fields at any time, so response types read only what the connector uses and ignore the rest.
//! Account calls live here; offer imports and offer reads in [`offers`], the catalog
//! configuration and product imports in [`products`], what both kinds of import share in
//! [`imports`], their error reports (OF03, P44) in [`error_report`], orders and carriers in
//! [`orders`]. Rate limits are surfaced ([`MarketplaceError::RateLimited`]), never waited out
//! here: the caller keeps the budgets.

mod error_report;
mod imports;
mod offers;
mod orders;
mod products;

use std::fmt;
use std::time::Duration;

use domain::{InstanceUrl, StoreId};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub use self::error_report::ImportErrorLine;
pub use self::imports::ImportId;
pub use self::offers::{
    ImportMode, ImportStatus, LiveOffer, OfferImport, OfferImportsPage, OffersPage,
};
pub use self::orders::{
    Carrier, LineDecision, LineRefund, MAX_ORDER_IDS, MAX_ORDERS_PER_PAGE, MAX_SHIPMENTS,
    MarketplaceAddress, MarketplaceCustomer, MarketplaceOrder, MarketplaceOrderLine, NewShipment,
    OrderPage, OrderQuery, ShipmentLine, ShipmentOutcome, ShipmentTracking, TaxAmount, Tracking,
};
pub use self::products::{
    Hierarchy, ListValue, ProductAttribute, ProductImport, ProductImportStatus, RequirementLevel,
    ValuesList,
};
use crate::retry_after::retry_after;
use crate::{error_message, transport_failure};

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
    /// 429: too many calls. `retry_after` is the wait Mirakl asked for, from `Retry-After` in
    /// seconds or as an HTTP date.
    #[error("Mirakl is limiting calls for this account. Try again {}.", .retry_after.map(|d| format!("in {} s", d.as_secs())).unwrap_or_else(|| "later".to_owned()))]
    RateLimited { retry_after: Option<Duration> },
    /// Any other 4xx (typically 400): Mirakl refused what was sent, with its message. Sending the
    /// same thing again fails the same way.
    #[error(
        "Mirakl refused the request (HTTP {status}: {message}). Correct the data and try again."
    )]
    Rejected { status: u16, message: String },
    /// 5xx and any other unexpected status, with Mirakl's message when it sent one.
    #[error("Mirakl answered HTTP {status}: {message}")]
    Server { status: u16, message: String },
    /// No answer (connection refused, DNS, timeout).
    #[error("The marketplace could not be reached ({0}). Try again later.")]
    Unreachable(String),
    /// A success status whose body is not what the API promises.
    #[error("Mirakl's answer could not be read ({0}).")]
    Decode(String),
    /// Refused before sending, because Mirakl could never accept it (no lines, an amount that
    /// is no number, too many ids). Nothing was sent.
    #[error("Nothing was sent to Mirakl: {0}. Correct the data and try again.")]
    NotSent(String),
}

impl MarketplaceError {
    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Unreachable(_) => true,
            Self::Server { status, .. } => *status >= 500,
            Self::Unauthorized
            | Self::Forbidden(_)
            | Self::NotFound(_)
            | Self::Rejected { .. }
            | Self::Decode(_)
            | Self::NotSent(_) => false,
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
            _ if status.is_client_error() => Self::Rejected {
                status: status.as_u16(),
                message: error_message(status, body),
            },
            _ => Self::Server {
                status: status.as_u16(),
                message: error_message(status, body),
            },
        }
    }
}

/// What a call sends after its headers.
enum Payload {
    None,
    /// Serialized JSON.
    Json(Vec<u8>),
    Multipart(reqwest::multipart::Form),
}

impl Payload {
    /// `body` as JSON; a body that cannot be written (an amount that is no number) is
    /// [`MarketplaceError::NotSent`].
    fn json(body: &impl Serialize) -> Result<Self, MarketplaceError> {
        crate::wire::json_body(body)
            .map(Self::Json)
            .map_err(MarketplaceError::NotSent)
    }
}

/// One call to the seller API: `{method} {instance}/api/{segments joined by /}`.
struct Call<'a> {
    method: Method,
    /// Each one percent-encoded on its own, so an id can never change the path.
    segments: Vec<&'a str>,
    query: &'a [(&'a str, String)],
    accept: &'static str,
    payload: Payload,
}

impl<'a> Call<'a> {
    fn get(segments: Vec<&'a str>) -> Self {
        Self {
            method: Method::GET,
            segments,
            query: &[],
            accept: "application/json",
            payload: Payload::None,
        }
    }

    fn post(segments: Vec<&'a str>, payload: Payload) -> Self {
        Self {
            method: Method::POST,
            payload,
            ..Self::get(segments)
        }
    }

    fn put(segments: Vec<&'a str>, payload: Payload) -> Self {
        Self {
            method: Method::PUT,
            ..Self::post(segments, payload)
        }
    }

    /// `METHOD /api/a/b`, for logs and messages.
    fn describe(&self) -> String {
        format!("{} /api/{}", self.method, self.segments.join("/"))
    }
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
        self.call_json(instance, credential, shop_id, Call::get(vec!["account"]))
            .await
    }

    /// [`Self::call`], its body read as JSON.
    async fn call_json<T: DeserializeOwned>(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        call: Call<'_>,
    ) -> Result<T, MarketplaceError> {
        let what = call.describe();
        let body = self.call(instance, credential, shop_id, call).await?;
        serde_json::from_slice(&body)
            .map_err(|error| MarketplaceError::Decode(format!("{what}: {error}")))
    }

    /// Sends `call` with the credential and `shop_id`; the body of a success, or the error
    /// any other status maps to.
    async fn call(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        call: Call<'_>,
    ) -> Result<Vec<u8>, MarketplaceError> {
        // A credential no header can carry could never be accepted by Mirakl.
        let authorization = credential
            .header_value()
            .ok_or(MarketplaceError::Unauthorized)?;
        let mut url = instance.api("");
        url.path_segments_mut()
            .expect("an instance URL is http(s), so it has a path")
            .pop_if_empty()
            .extend(&call.segments);
        {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in call.query {
                pairs.append_pair(name, value);
            }
            if let Some(shop_id) = shop_id {
                pairs.append_pair("shop_id", &shop_id.to_string());
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }

        let what = call.describe();
        let operation = crate::call_metrics::marketplace_operation(&call.method, &call.segments);
        let is_get = call.method == Method::GET;
        let request = self
            .http
            .request(call.method, url)
            .header(ACCEPT, HeaderValue::from_static(call.accept))
            .header(AUTHORIZATION, authorization);
        let request = match call.payload {
            Payload::None if is_get => request,
            // An action without a body (OR24, OR29) still says `Content-Length: 0`, which hyper
            // leaves out of an empty body: without it some proxies refuse a PUT with 411.
            Payload::None => request.header(CONTENT_LENGTH, HeaderValue::from_static("0")),
            Payload::Json(body) => request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body),
            Payload::Multipart(form) => request.multipart(form),
        };
        let started = std::time::Instant::now();
        let response = request.send().await;
        crate::call_metrics::record(
            "marketplace",
            operation,
            response.as_ref().ok().map(reqwest::Response::status),
            started,
        );
        let response = response.map_err(|error| MarketplaceError::from_transport(&error))?;
        let status = response.status();
        tracing::debug!(%instance, call = what, shop_id = shop_id.map(StoreId::get), status = status.as_u16(), "Mirakl seller API answered");
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|error| MarketplaceError::from_transport(&error))?;
        if !status.is_success() {
            return Err(MarketplaceError::from_status(status, &headers, &body));
        }
        Ok(body.into())
    }
}

/// Each item of a list decoded on its own, so that an error names the one Mirakl sent wrong
/// (`GET /api/orders: orders[3]: missing field …`).
fn decode_each<T>(
    what: &str,
    list: &str,
    items: &[Box<RawValue>],
    decode: impl Fn(&RawValue) -> Result<T, serde_json::Error>,
) -> Result<Vec<T>, MarketplaceError> {
    items
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            decode(raw).map_err(|error| {
                MarketplaceError::Decode(format!("{what}: {list}[{index}]: {error}"))
            })
        })
        .collect()
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
    fn only_rate_limits_outages_and_server_errors_are_retryable() {
        let headers = HeaderMap::new();
        let status = |code: u16| {
            MarketplaceError::from_status(
                StatusCode::from_u16(code).unwrap(),
                &headers,
                br#"{"message":"Error with field offers.price","status":400}"#,
            )
        };
        let rejected = status(400);
        assert!(
            matches!(rejected, MarketplaceError::Rejected { status: 400, ref message } if message == "Error with field offers.price"),
            "{rejected:?}"
        );
        assert!(!rejected.is_retryable());
        assert!(!status(422).is_retryable());
        assert!(status(429).is_retryable());
        assert!(status(500).is_retryable());
        assert!(status(503).is_retryable());
        assert!(!status(302).is_retryable(), "a redirect is never followed");
    }
}
