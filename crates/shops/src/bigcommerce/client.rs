//! [`BcClient`]: the calls the connector makes to one BigCommerce store's REST API, v3 for the
//! catalog, inventory and hooks, v2 for orders and shipments. Every call carries the store's
//! `X-Auth-Token` and keeps to the store's rate limit (see [`pace`]).

use std::fmt;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::app::StoreHash;
use super::error::BcError;
use super::pace;
use crate::ShopHttp;

/// BigCommerce's API host; a store's API lives under `stores/{hash}/`.
pub const API_ROOT: &str = "https://api.bigcommerce.com/";

/// Where one store's API lives: `{root}stores/{hash}/`, ending in `/`.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreApi {
    base: Url,
    hash: StoreHash,
}

impl fmt::Debug for StoreApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.base.as_str())
    }
}

impl fmt::Display for StoreApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.base.as_str())
    }
}

/// Why what a seller typed names no store API.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreApiError(pub String);

impl StoreApi {
    /// The API of the store `hash` under the API host `root` (BigCommerce's, or a sandbox's
    /// `…/bc/`).
    pub fn new(root: &Url, hash: StoreHash) -> Self {
        let mut root = root.clone();
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        let base = root
            .join(&format!("stores/{}/", hash.as_str()))
            .expect("a store hash is a valid path segment");
        Self { base, hash }
    }

    /// What a seller pastes: the API path BigCommerce shows with an API account
    /// (`https://api.bigcommerce.com/stores/HASH/v3/`) or the store hash alone, which is then
    /// taken under `root`.
    pub fn parse(input: &str, root: &Url) -> Result<Self, StoreApiError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(StoreApiError(
                "Enter the store's API path or store hash.".to_owned(),
            ));
        }
        if !input.contains('/') {
            let hash = StoreHash::parse(input).map_err(|e| StoreApiError(e.to_string()))?;
            return Ok(Self::new(root, hash));
        }
        let url = Url::parse(input).map_err(|_| {
            StoreApiError(
                "The API path must be an address like https://api.bigcommerce.com/stores/abc123/v3/."
                    .to_owned(),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(StoreApiError(
                "The API path must be an http(s) address without a query.".to_owned(),
            ));
        }
        let path = url.path().trim_end_matches('/');
        let path = path
            .strip_suffix("/v3")
            .or_else(|| path.strip_suffix("/v2"))
            .unwrap_or(path);
        let Some((prefix, hash)) = path
            .rsplit_once("/stores/")
            .filter(|(_, h)| !h.contains('/'))
        else {
            return Err(StoreApiError(
                "The API path must end with /stores/HASH/v3/, as BigCommerce shows it.".to_owned(),
            ));
        };
        let hash = StoreHash::parse(hash).map_err(|e| StoreApiError(e.to_string()))?;
        let mut root = url.clone();
        root.set_path(&format!("{prefix}/"));
        Ok(Self::new(&root, hash))
    }

    pub fn hash(&self) -> &StoreHash {
        &self.hash
    }

    pub fn as_str(&self) -> &str {
        self.base.as_str()
    }

    /// `{base}{path}`, `path` relative (`v3/catalog/products`).
    pub fn join(&self, path: &str) -> Url {
        self.base.join(path).expect("a relative API path")
    }
}

/// A store's API token (an app install's, or an API account's). Never shown.
#[derive(Clone)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(…)")
    }
}

/// A client for one store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BcClient {
    api: StoreApi,
    token: AccessToken,
    http: ShopHttp,
}

/// How often one call waits for the window to reset after a 429 before giving up.
const RATE_LIMIT_RETRIES: u32 = 4;

/// The longest wait for a window a 429 names: BigCommerce's windows are 30 s.
const MAX_RATE_WAIT: Duration = Duration::from_secs(35);

/// A successful answer.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) body: Vec<u8>,
}

impl Answer {
    pub(super) fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, BcError> {
        serde_json::from_slice(&self.body).map_err(|e| BcError::Decode(format!("{what}: {e}")))
    }

    /// A v2 list: a JSON array, or nothing at all (204) when the list is empty.
    pub(super) fn v2_list<T: DeserializeOwned>(&self, what: &str) -> Result<Vec<T>, BcError> {
        if self.status == StatusCode::NO_CONTENT || self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        self.json(what)
    }

    /// A v3 answer's `data`.
    pub(super) fn data<T: DeserializeOwned>(&self, what: &str) -> Result<T, BcError> {
        #[derive(serde::Deserialize)]
        struct Envelope<T> {
            data: T,
        }
        Ok(self.json::<Envelope<T>>(what)?.data)
    }

    /// A v3 list page's `data` and its `meta.pagination.total_pages` (1 when missing).
    pub(super) fn page<T: DeserializeOwned>(
        &self,
        what: &str,
    ) -> Result<(Vec<T>, u32, u64), BcError> {
        #[derive(serde::Deserialize)]
        struct Envelope<T> {
            data: Vec<T>,
            #[serde(default)]
            meta: Meta,
        }
        #[derive(Default, serde::Deserialize)]
        struct Meta {
            #[serde(default)]
            pagination: Option<Pagination>,
        }
        #[derive(serde::Deserialize)]
        struct Pagination {
            #[serde(default)]
            total: u64,
            #[serde(default)]
            total_pages: u32,
        }
        let envelope: Envelope<T> = self.json(what)?;
        let (total_pages, total) = envelope
            .meta
            .pagination
            .map_or((1, 0), |p| (p.total_pages.max(1), p.total));
        Ok((envelope.data, total_pages, total))
    }
}

impl BcClient {
    /// Every call keeps to `http`'s address policy, like the WooCommerce client's.
    pub fn new(api: StoreApi, token: AccessToken, http: ShopHttp) -> Self {
        Self { api, token, http }
    }

    pub fn api(&self) -> &StoreApi {
        &self.api
    }

    /// One call, paced to the store's rate limit; a 429 waits for the window it names and is
    /// tried again.
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, BcError> {
        let mut url = self.api.join(path);
        self.http.policy().check(&url).map_err(BcError::Address)?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        let store = self.api.as_str();
        let mut refused = 0;
        loop {
            pace::admit(store).await;
            let mut request = self
                .http
                .client()
                .request(method.clone(), url.clone())
                .header("X-Auth-Token", self.token.expose())
                .header(ACCEPT, HeaderValue::from_static("application/json"));
            if let Some(body) = body {
                request = request
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .body(serde_json::to_vec(body).expect("JSON values serialize"));
            }
            let started = std::time::Instant::now();
            let response = request.send().await;
            crate::call_metrics::record("bigcommerce", response.as_ref(), started);
            let response = response.map_err(BcError::from_transport)?;
            let status = response.status();
            let headers = response.headers().clone();
            pace::observe(store, &headers);
            tracing::debug!(store = %self.api, %method, path, status = status.as_u16(), "BigCommerce answered");
            let body = response.bytes().await.map_err(BcError::from_transport)?;
            if status == StatusCode::TOO_MANY_REQUESTS && refused < RATE_LIMIT_RETRIES {
                refused += 1;
                let wait = reset_after(&headers).min(MAX_RATE_WAIT);
                tracing::warn!(store = %self.api, wait_ms = wait.as_millis() as u64, "BigCommerce rate limit reached; waiting for the next window");
                pace::exhausted(store, wait);
                tokio::time::sleep(wait).await;
                continue;
            }
            if status.is_redirection() {
                return Err(BcError::Refused {
                    status: status.as_u16(),
                    message: "the API redirected the request; redirects are not followed"
                        .to_owned(),
                });
            }
            if !status.is_success() {
                return Err(BcError::from_status(status, &body));
            }
            return Ok(Answer {
                status,
                body: body.to_vec(),
            });
        }
    }

    /// A GET whose 404 means "there is none".
    pub(super) async fn get_optional(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<Answer>, BcError> {
        match self.call(Method::GET, path, query, None).await {
            Ok(answer) => Ok(Some(answer)),
            Err(BcError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// `X-Rate-Limit-Time-Reset-Ms`, or a second when it is missing.
fn reset_after(headers: &HeaderMap) -> Duration {
    headers
        .get("x-rate-limit-time-reset-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> Url {
        Url::parse(API_ROOT).unwrap()
    }

    #[test]
    fn a_pasted_api_path_or_hash_names_the_store_api() {
        let from_path =
            StoreApi::parse("https://api.bigcommerce.com/stores/abc123/v3/", &root()).unwrap();
        assert_eq!(
            from_path.as_str(),
            "https://api.bigcommerce.com/stores/abc123/"
        );
        assert_eq!(from_path.hash().as_str(), "abc123");
        let from_hash = StoreApi::parse(" abc123 ", &root()).unwrap();
        assert_eq!(from_hash, from_path);
        let sandbox = Url::parse("http://127.0.0.1:9/bc").unwrap();
        assert_eq!(
            StoreApi::parse("demo-bc", &sandbox).unwrap().as_str(),
            "http://127.0.0.1:9/bc/stores/demo-bc/"
        );
        assert_eq!(
            StoreApi::parse("http://127.0.0.1:9/bc/stores/demo-bc/v3", &root())
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/bc/stores/demo-bc/"
        );
        for bad in [
            "",
            "https://api.bigcommerce.com/v3/",
            "ftp://api.bigcommerce.com/stores/abc/v3/",
            "https://api.bigcommerce.com/stores/abc/v3/?x=1",
            "ab\u{0}c",
            "https://api.bigcommerce.com/stores/a%2Fb/v3/",
        ] {
            assert!(StoreApi::parse(bad, &root()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_token_is_never_shown() {
        assert_eq!(
            format!("{:?}", AccessToken::new("secret")),
            "AccessToken(…)"
        );
    }
}
