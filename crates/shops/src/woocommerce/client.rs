//! [`WooClient`]: the calls the connector makes to one store's wc/v3 REST API.

use std::collections::{HashMap, HashSet};

use domain::catalog::plain_text;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use url::Url;

use super::StoreUrl;
use super::auth::{Credentials, authorized};
use super::catalog::{
    MAX_PER_PAGE, MAX_TERM_PAGES, Page, Product, ProductQuery, StoreSummary, Term, Variation,
};
use super::error::{WooError, is_web_page};
use super::webhooks::{CreateWebhook, NewWebhook, Webhook};
use crate::{ShopHttp, webhook};

/// How many variable products have their variations read at once.
/// ASSUMPTION: a WooCommerce host serves a few parallel REST requests from one client; reading
/// one product's variations after another made the first read of a large catalog take as many
/// round trips as it has variable products.
const VARIATION_READS_AT_ONCE: usize = 8;

/// Where WooCommerce's REST API v3 lives under the store's address.
const API_PREFIX: &str = "wp-json/wc/v3";

/// A client for one store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct WooClient {
    store: StoreUrl,
    credentials: Credentials,
    http: ShopHttp,
}

impl WooClient {
    /// Every call keeps to `http`'s address policy: a store address it refuses is refused
    /// before anything is sent, and so is a name that resolves inside.
    pub fn new(store: StoreUrl, credentials: Credentials, http: ShopHttp) -> Self {
        Self {
            store,
            credentials,
            http,
        }
    }

    pub fn store(&self) -> &StoreUrl {
        &self.store
    }

    /// One read that proves the address and the keys work: `GET products?per_page=1`, counting
    /// the products from `X-WP-Total`.
    pub async fn verify(&self) -> Result<StoreSummary, WooError> {
        let answer = self
            .call(
                Method::GET,
                "products",
                &[("per_page", "1".to_owned())],
                None,
            )
            .await?;
        // Items as raw JSON: one odd product must not make a good connection look broken.
        let page: Page<Value> = answer.page("products")?;
        Ok(StoreSummary {
            product_count: page.total,
        })
    }

    /// Every webhook of the store, following the pages (100 each).
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, WooError> {
        let mut webhooks = Vec::new();
        let mut page = 1;
        loop {
            let query = page_query(page, MAX_PER_PAGE);
            let answer = self.call(Method::GET, "webhooks", &query, None).await?;
            let batch: Page<Webhook> = answer.page("webhooks")?;
            let last = batch.items.is_empty() || page >= batch.total_pages;
            webhooks.extend(batch.items);
            if last {
                return Ok(webhooks);
            }
            page += 1;
        }
    }

    /// Creates an active webhook. The store pings `delivery_url` first and refuses to create the
    /// webhook unless the ping gets a 200.
    pub async fn create_webhook(&self, new: &NewWebhook) -> Result<Webhook, WooError> {
        let body = serde_json::to_value(CreateWebhook {
            new,
            status: "active",
        })
        .map_err(|error| WooError::Decode(format!("webhook request: {error}")))?;
        self.call(Method::POST, "webhooks", &[], Some(body))
            .await?
            .json("webhook")
    }

    /// Creates one active webhook per topic in [`webhook::TOPICS`] to `delivery_url`, first
    /// deleting those already pointing there (a reconnect), so the store never delivers twice.
    pub async fn register_webhooks(
        &self,
        delivery_url: &str,
        secret: &str,
    ) -> Result<Vec<Webhook>, WooError> {
        for old in self.list_webhooks().await? {
            if old.delivery_url == delivery_url {
                self.delete_webhook(old.id).await?;
            }
        }
        let mut registered = Vec::new();
        for topic in webhook::TOPICS {
            let created = self
                .create_webhook(&NewWebhook {
                    name: format!("{} {topic}", crate::APP_NAME),
                    topic: topic.to_owned(),
                    delivery_url: delivery_url.to_owned(),
                    secret: secret.to_owned(),
                })
                .await?;
            registered.push(created);
        }
        Ok(registered)
    }

    /// Deletes a webhook for good (`force=true`: webhooks have no trash). One that is already
    /// gone counts as deleted.
    pub async fn delete_webhook(&self, id: i64) -> Result<(), WooError> {
        let path = format!("webhooks/{id}");
        match self
            .call(Method::DELETE, &path, &[("force", "true".to_owned())], None)
            .await
        {
            Ok(_) | Err(WooError::NotFound(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// One page of products, ordered by id.
    pub async fn products_page(&self, query: &ProductQuery) -> Result<Page<Product>, WooError> {
        let mut params = page_query(query.page, query.per_page);
        if let Some(after) = query.modified_after {
            params.push(("modified_after", gmt(after)));
            params.push(("dates_are_gmt", "true".to_owned()));
        }
        if !query.include.is_empty() {
            // WordPress reads a list argument from a comma-separated value.
            let ids: Vec<String> = query.include.iter().map(i64::to_string).collect();
            params.push(("include", ids.join(",")));
        }
        self.call(Method::GET, "products", &params, None)
            .await?
            .page("products")
    }

    /// One product by id, as the store has it now; `None` when the store says it is gone: 404,
    /// or moved to the trash (WooCommerce's "delete" without `force`). What a webhook claims
    /// about a product is only a hint: this is the answer that counts.
    pub async fn product(&self, id: i64) -> Result<Option<Product>, WooError> {
        let path = format!("products/{id}");
        match self.call(Method::GET, &path, &[], None).await {
            Ok(answer) => {
                let product: Product = answer.json("product")?;
                Ok((product.status != "trash").then_some(product))
            }
            Err(WooError::NotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// One page of products, each with every variation of its own (a variable product's
    /// variations are read [`VARIATION_READS_AT_ONCE`] products at a time), and the number of
    /// pages.
    pub async fn products_with_variations(
        &self,
        query: &ProductQuery,
    ) -> Result<(Vec<(Product, Vec<Variation>)>, u32), WooError> {
        let page = self.products_page(query).await?;
        let mut variations = self.variations_of(&page.items).await?;
        let products = page
            .items
            .into_iter()
            .map(|product| {
                let own = variations.remove(&product.id).unwrap_or_default();
                (product, own)
            })
            .collect();
        Ok((products, page.total_pages))
    }

    /// The variations of each variable product among `products`, by product id, read up to
    /// [`VARIATION_READS_AT_ONCE`] products at a time, each product's pages in order.
    async fn variations_of(
        &self,
        products: &[Product],
    ) -> Result<HashMap<i64, Vec<Variation>>, WooError> {
        let mut variable = products
            .iter()
            .filter(|p| !p.variations.is_empty())
            .map(|p| p.id);
        let mut reads = tokio::task::JoinSet::new();
        let mut all = HashMap::new();
        loop {
            while reads.len() < VARIATION_READS_AT_ONCE
                && let Some(id) = variable.next()
            {
                let client = self.clone();
                reads.spawn(async move { (id, client.all_variations(id).await) });
            }
            // An error returns at once; dropping the set stops the reads still under way.
            let Some(read) = reads.join_next().await else {
                return Ok(all);
            };
            let (id, variations) =
                read.map_err(|e| WooError::Decode(format!("a variations read stopped: {e}")))?;
            all.insert(id, variations?);
        }
    }

    /// Every variation of one product, page after page.
    async fn all_variations(&self, product_id: i64) -> Result<Vec<Variation>, WooError> {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let v = self.variations_page(product_id, page, MAX_PER_PAGE).await?;
            all.extend(v.items);
            if page >= v.total_pages {
                return Ok(all);
            }
            page += 1;
        }
    }

    /// One page of a variable product's variations, ordered by id.
    pub async fn variations_page(
        &self,
        product_id: i64,
        page: u32,
        per_page: u32,
    ) -> Result<Page<Variation>, WooError> {
        let path = format!("products/{product_id}/variations");
        self.call(Method::GET, &path, &page_query(page, per_page), None)
            .await?
            .page("variations")
    }

    /// Every product category with its `parent`, sorted by name: what a picker by name
    /// offers. Reads at most 50 pages of 100, so a broken shop cannot keep it reading forever;
    /// past that it returns the categories read so far.
    pub async fn categories(&self) -> Result<Vec<Term>, WooError> {
        self.terms("products/categories", "categories").await
    }

    /// Every product tag, sorted by name. Reads at most 50 pages of 100, as
    /// [`Self::categories`].
    pub async fn tags(&self) -> Result<Vec<Term>, WooError> {
        self.terms("products/tags", "tags").await
    }

    /// Every term of a taxonomy, 100 a page in id order, until a short page or the last of
    /// `X-WP-TotalPages`. After [`MAX_TERM_PAGES`] pages it stops and keeps what it read (with
    /// a warning): a picker missing a few terms of a huge or broken shop beats no picker. A
    /// term answered twice counts once. Names come decoded (WordPress sends `&amp;`) and are
    /// sorted without regard to case.
    async fn terms(&self, path: &str, what: &str) -> Result<Vec<Term>, WooError> {
        let mut terms: Vec<Term> = Vec::new();
        let mut seen = HashSet::new();
        let mut complete = false;
        for page in 1..=MAX_TERM_PAGES {
            let query = page_query(page, MAX_PER_PAGE);
            let batch: Page<Term> = self
                .call(Method::GET, path, &query, None)
                .await?
                .page(what)?;
            let short = batch.items.len() < MAX_PER_PAGE as usize;
            terms.extend(batch.items.into_iter().filter(|term| seen.insert(term.id)));
            if short || page >= batch.total_pages {
                complete = true;
                break;
            }
        }
        if !complete {
            tracing::warn!(store = %self.store, what, pages = MAX_TERM_PAGES, "stopped reading terms at the page limit");
        }
        for term in &mut terms {
            term.name = plain_text(&term.name);
        }
        terms.sort_by_cached_key(|term| (term.name.to_lowercase(), term.id));
        Ok(terms)
    }

    /// `METHOD {store}/wp-json/wc/v3/{path}?{query}`, authorized; any answer but a 2xx is an error.
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Answer, WooError> {
        let mut url = endpoint(&self.store, path);
        self.http.policy().check(&url).map_err(WooError::Address)?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        let mut request = authorized(
            self.http.client(),
            method.clone(),
            url.clone(),
            &self.credentials,
        )
        .header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(body) = &body {
            request = request.json(body);
        }
        let started = std::time::Instant::now();
        let response = request.send().await;
        crate::call_metrics::record("woocommerce", response.as_ref(), started);
        let response = response.map_err(WooError::from_transport)?;
        let status = response.status();
        // The path only: over plain http the query holds the OAuth signature.
        tracing::debug!(store = %self.store, %method, path, status = status.as_u16(), "WooCommerce answered");
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(WooError::from_transport)?;
        if !status.is_success() {
            let error = WooError::from_status(status, &headers, &body, &url);
            if let WooError::Redirected { location, .. } = &error
                && let Err(refusal) = self.http.policy().check_redirect(location)
            {
                return Err(WooError::Address(refusal));
            }
            return Err(error);
        }
        Ok(Answer {
            status,
            headers,
            body: body.to_vec(),
        })
    }
}

/// A successful answer, before reading.
pub(super) struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    pub(super) fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, WooError> {
        if is_web_page(&self.headers, &self.body) {
            return Err(WooError::web_page(self.status, &self.body));
        }
        serde_json::from_slice(&self.body)
            .map_err(|error| WooError::Decode(format!("{what}: {error}")))
    }

    /// A list with its `X-WP-Total` and `X-WP-TotalPages` headers, which every wc/v3 list sends.
    pub(super) fn page<T: DeserializeOwned>(&self, what: &str) -> Result<Page<T>, WooError> {
        let items = self.json(what)?;
        Ok(Page {
            items,
            total: self.count_header("X-WP-Total", what)?,
            total_pages: self.count_header("X-WP-TotalPages", what)?,
        })
    }

    fn count_header<N: std::str::FromStr>(&self, name: &str, what: &str) -> Result<N, WooError> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse().ok())
            .ok_or_else(|| WooError::Decode(format!("{what}: no readable {name} header")))
    }
}

/// `page` from 1 and `per_page` within WordPress's 1–100, ordered by id so that pages stay put
/// while the store changes.
pub(super) fn page_query(page: u32, per_page: u32) -> Vec<(&'static str, String)> {
    vec![
        ("page", page.max(1).to_string()),
        ("per_page", per_page.clamp(1, MAX_PER_PAGE).to_string()),
        ("orderby", "id".to_owned()),
        ("order", "asc".to_owned()),
    ]
}

/// An instant as WooCommerce's `_gmt` dates are written: `2024-05-01T10:00:00`, no zone.
pub(super) fn gmt(instant: OffsetDateTime) -> String {
    instant
        .to_offset(UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .expect("a date with a four-digit year formats")
}

/// `{store}/wp-json/wc/v3/{path}`.
fn endpoint(store: &StoreUrl, path: &str) -> Url {
    store.join(&format!("{API_PREFIX}/{path}"))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn dates_are_sent_in_gmt_without_a_zone() {
        assert_eq!(
            gmt(datetime!(2024-05-01 12:00:00 +02:00)),
            "2024-05-01T10:00:00"
        );
    }

    #[test]
    fn pages_stay_within_wordpress_limits() {
        let query = page_query(0, 500);
        assert_eq!(query[0], ("page", "1".to_owned()));
        assert_eq!(query[1], ("per_page", "100".to_owned()));
        assert_eq!(page_query(3, 0)[1], ("per_page", "1".to_owned()));
    }

    #[test]
    fn endpoints_live_under_the_store_subfolder() {
        let store = StoreUrl::parse("https://example.com/shop").unwrap();
        assert_eq!(
            endpoint(&store, "products/7/variations").as_str(),
            "https://example.com/shop/wp-json/wc/v3/products/7/variations"
        );
    }
}
