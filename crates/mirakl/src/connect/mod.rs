//! The Mirakl Connect seller API (`https://miraklconnect.com/api` in production): the catalog,
//! where each product carries its prices and stock, here; the orders in [`orders`].
//!
//! Products travel as `serde_json::Value`: how the connector shapes a product is the domain's
//! business (`domain` serializes its typed product), this module only carries it. Calls take a
//! MAS access token; Connect finds the seller from it. Rate limits are surfaced
//! ([`ConnectError::RateLimited`]), never waited out here.

mod orders;

use std::fmt;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

pub use self::orders::{
    ActionError, ActionId, ActionStatus, ConnectAddress, ConnectBillingInfo, ConnectFulfillment,
    ConnectLineAdjustment, ConnectLineDecision, ConnectLineProduct, ConnectOrder, ConnectOrderLine,
    ConnectOrderPage, ConnectOrderQuery, ConnectOrigin, ConnectPrice, ConnectShipment,
    ConnectShipmentItem, ConnectShippingInfo, ConnectTax, MAX_ORDERS_PER_PAGE,
};
use crate::retry_after::retry_after;
use crate::wire::non_empty;
use crate::{error_message, transport_failure};

/// The most products one upsert or delete may carry.
pub const MAX_PRODUCTS_PER_CALL: usize = 1000;

/// The largest page `list_products` may ask for.
const MAX_PAGE_SIZE: u32 = 1000;

/// One field Connect refused, with its JSONPath (`products[0].gtins[0].value`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct FieldError {
    #[serde(default)]
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// Why a Connect call failed. No variant carries the token.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// 401: the token is missing, expired or revoked.
    #[error(
        "Mirakl Connect refused the access token. Refresh it, or connect the channel to Mirakl Connect again."
    )]
    Unauthorized,
    /// 429: too many calls; the wait Connect asked for, from `Retry-After` in seconds or as an
    /// HTTP date.
    #[error("Mirakl Connect is limiting calls for this account. Try again {}.", .retry_after.map(|d| format!("in {} s", d.as_secs())).unwrap_or_else(|| "later".to_owned()))]
    RateLimited { retry_after: Option<Duration> },
    /// 400 or 422 with Connect's error body: `code` is stable, `message` is for people.
    #[error("Mirakl Connect refused the request ({code}: {message}){}. Correct the data and try again.", field_list(.errors))]
    Invalid {
        code: String,
        message: String,
        errors: Vec<FieldError>,
    },
    /// More than [`MAX_PRODUCTS_PER_CALL`] products in one call; nothing was sent.
    #[error(
        "At most {MAX_PRODUCTS_PER_CALL} products go in one Mirakl Connect call. Send them in smaller batches."
    )]
    TooMany,
    /// Any other status (5xx, 403, 404, …), with Connect's message when it sent one.
    #[error("Mirakl Connect answered HTTP {status}: {message}")]
    Server { status: u16, message: String },
    /// No answer (connection refused, DNS, timeout).
    #[error("Mirakl Connect could not be reached ({0}). Try again later.")]
    Unreachable(String),
    /// A success status whose body is not what the API promises.
    #[error("Mirakl Connect's answer could not be read ({0}).")]
    Decode(String),
    /// Refused before sending, because Connect could never accept it (no lines, an amount that
    /// is no number). Nothing was sent.
    #[error("Nothing was sent to Mirakl Connect: {0}. Correct the data and try again.")]
    NotSent(String),
}

fn field_list(errors: &[FieldError]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let fields: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!(": {}", fields.join("; "))
}

impl ConnectError {
    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Unreachable(_) => true,
            Self::Server { status, .. } => *status >= 500,
            Self::Unauthorized
            | Self::Invalid { .. }
            | Self::TooMany
            | Self::Decode(_)
            | Self::NotSent(_) => false,
        }
    }

    /// The one place that reads a failed answer.
    fn from_status(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        /// Connect's error body.
        #[derive(Deserialize)]
        struct Refusal {
            code: String,
            message: String,
            #[serde(default)]
            errors: Vec<FieldError>,
        }
        match status {
            StatusCode::UNAUTHORIZED => Self::Unauthorized,
            StatusCode::TOO_MANY_REQUESTS => Self::RateLimited {
                retry_after: retry_after(headers),
            },
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                match serde_json::from_slice::<Refusal>(body) {
                    Ok(refusal) => Self::Invalid {
                        code: refusal.code,
                        message: refusal.message,
                        errors: refusal.errors,
                    },
                    Err(_) => Self::server(status, body),
                }
            }
            _ => Self::server(status, body),
        }
    }

    fn server(status: StatusCode, body: &[u8]) -> Self {
        Self::Server {
            status: status.as_u16(),
            message: error_message(status, body),
        }
    }
}

/// One page of `GET /products`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ConnectPage {
    pub data: Vec<serde_json::Value>,
    /// The token of the next page; `None` on the last one.
    #[serde(default, deserialize_with = "non_empty")]
    pub next_page_token: Option<String>,
}

/// One call to Connect: `{method} {base}/{segments joined by /}?{query}`.
struct Call<'a> {
    method: Method,
    /// Each one percent-encoded on its own, so an id can never change the path.
    segments: &'a [&'a str],
    query: &'a [(&'a str, String)],
}

impl<'a> Call<'a> {
    fn new(method: Method, segments: &'a [&'a str]) -> Self {
        Self {
            method,
            segments,
            query: &[],
        }
    }

    /// `METHOD /a/b`, for logs and messages.
    fn describe(&self) -> String {
        format!("{} /{}", self.method, self.segments.join("/"))
    }
}

/// A client for the Connect seller API. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ConnectClient {
    base: Url,
    http: reqwest::Client,
}

impl ConnectClient {
    /// `base` is `https://miraklconnect.com/api` in production, the sandbox's `…/connect/api`
    /// in tests; `http` should be [`crate::http_client`].
    pub fn new(base: Url, http: reqwest::Client) -> Self {
        Self { base, http }
    }

    /// `POST /products` with `{"products": […]}`: creates or updates up to
    /// [`MAX_PRODUCTS_PER_CALL`] products. Connect accepts them (202) and applies them later;
    /// fields a product leaves out stay as they are. No products, no call.
    pub async fn upsert_products(
        &self,
        token: &str,
        products: &[serde_json::Value],
    ) -> Result<(), ConnectError> {
        #[derive(Serialize)]
        struct Body<'a> {
            products: &'a [serde_json::Value],
        }
        if products.len() > MAX_PRODUCTS_PER_CALL {
            return Err(ConnectError::TooMany);
        }
        if products.is_empty() {
            return Ok(());
        }
        let call = Call::new(Method::POST, &["products"]);
        self.call(token, call, Some(&Body { products }))
            .await
            .map(drop)
    }

    /// `GET /products?limit=&page_token=`: a page of the catalog, sorted by product id.
    /// `limit` is kept within Connect's 1..=1000.
    pub async fn list_products(
        &self,
        token: &str,
        limit: u32,
        page_token: Option<&str>,
    ) -> Result<ConnectPage, ConnectError> {
        let mut query = vec![("limit", limit.clamp(1, MAX_PAGE_SIZE).to_string())];
        if let Some(page_token) = page_token {
            query.push(("page_token", page_token.to_owned()));
        }
        let call = Call {
            query: &query,
            ..Call::new(Method::GET, &["products"])
        };
        self.call_json(token, call, None::<&()>).await
    }

    /// `DELETE /products` with `{"products": [{"id": …}]}`: removes up to
    /// [`MAX_PRODUCTS_PER_CALL`] products from the catalog (202, applied later). No ids, no call.
    pub async fn delete_products(&self, token: &str, ids: &[String]) -> Result<(), ConnectError> {
        #[derive(Serialize)]
        struct Body<'a> {
            products: Vec<ProductId<'a>>,
        }
        #[derive(Serialize)]
        struct ProductId<'a> {
            id: &'a str,
        }
        if ids.len() > MAX_PRODUCTS_PER_CALL {
            return Err(ConnectError::TooMany);
        }
        if ids.is_empty() {
            return Ok(());
        }
        let body = Body {
            products: ids.iter().map(|id| ProductId { id }).collect(),
        };
        let call = Call::new(Method::DELETE, &["products"]);
        self.call(token, call, Some(&body)).await.map(drop)
    }

    /// `{base}/{segments joined by /}`, each segment percent-encoded on its own.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("a Connect base URL is http(s), so it has a path")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// [`Self::call`], its body read as JSON.
    async fn call_json<T: DeserializeOwned, B: Serialize>(
        &self,
        token: &str,
        call: Call<'_>,
        body: Option<&B>,
    ) -> Result<T, ConnectError> {
        let what = call.describe();
        let answer = self.call(token, call, body).await?;
        serde_json::from_slice(&answer)
            .map_err(|error| ConnectError::Decode(format!("{what}: {error}")))
    }

    /// Sends one call with `body` as JSON; the body of a success, or the error the status maps
    /// to. A body that cannot be written (an amount that is no number) is not sent.
    async fn call<B: Serialize>(
        &self,
        token: &str,
        call: Call<'_>,
        body: Option<&B>,
    ) -> Result<Vec<u8>, ConnectError> {
        // A token no header can carry could never be accepted.
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ConnectError::Unauthorized)?;
        authorization.set_sensitive(true);
        let mut url = self.url(call.segments);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query);
        }

        let what = call.describe();
        let operation = crate::call_metrics::connect_operation(&call.method, call.segments);
        let mut request = self
            .http
            .request(call.method, url)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(AUTHORIZATION, authorization);
        if let Some(body) = body {
            let json = crate::wire::json_body(body).map_err(ConnectError::NotSent)?;
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(json);
        }
        let started = std::time::Instant::now();
        let response = request.send().await;
        crate::call_metrics::record(
            "connect",
            operation,
            response.as_ref().ok().map(reqwest::Response::status),
            started,
        );
        let response =
            response.map_err(|error| ConnectError::Unreachable(transport_failure(&error)))?;
        let status = response.status();
        tracing::debug!(
            call = what,
            status = status.as_u16(),
            "Mirakl Connect answered"
        );
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|error| ConnectError::Unreachable(transport_failure(&error)))?;
        if !status.is_success() {
            return Err(ConnectError::from_status(status, &headers, &body));
        }
        Ok(body.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_live_under_the_configured_base() {
        let client =
            |base: &str| ConnectClient::new(Url::parse(base).unwrap(), reqwest::Client::new());
        assert_eq!(
            client("https://miraklconnect.com/api")
                .url(&["products"])
                .as_str(),
            "https://miraklconnect.com/api/products"
        );
        assert_eq!(
            client("http://127.0.0.1:8080/connect/api/")
                .url(&["v2", "orders", "a/b?c"])
                .as_str(),
            "http://127.0.0.1:8080/connect/api/v2/orders/a%2Fb%3Fc"
        );
    }

    #[test]
    fn a_refusal_without_connects_body_is_a_plain_error() {
        let error = ConnectError::from_status(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            b"<h1>Bad request</h1>",
        );
        assert!(
            matches!(error, ConnectError::Server { status: 400, .. }),
            "{error:?}"
        );
        assert!(!error.is_retryable());
    }
}
