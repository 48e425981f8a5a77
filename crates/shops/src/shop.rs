//! The one interface to a seller's shop, whatever software runs it: what the flows in `sync`
//! and the pages in `web` need of a shop, and nothing of how a platform speaks. WooCommerce is
//! the one platform today ([`ShopClient::WooCommerce`]); a second one is a new variant here,
//! with no change in the flows that use it.
//!
//! - the store: [`ShopClient::verify`];
//! - the catalog: pages of products as catalog items, products by id, whether one is gone,
//!   the categories and tags;
//! - webhooks: register ours, list them, remove one; and reading a delivery into a
//!   [`ShopEvent`] (signature checked) with [`read_delivery`];
//! - orders: not yet (flow F5 adds them here).

use domain::ShopPlatform;
use domain::catalog::CatalogItem;
use reqwest::header::HeaderMap;
use time::OffsetDateTime;

use crate::webhook;
use crate::woocommerce::{
    NormalizeProblem, ProductQuery, StoreSummary, Term, WooClient, WooError, normalize,
};

/// A client for one connected shop.
#[derive(Clone, Debug)]
pub enum ShopClient {
    WooCommerce(WooClient),
}

/// Why a call to a shop failed, whatever its platform.
#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error(transparent)]
    WooCommerce(#[from] WooError),
}

impl ShopError {
    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::WooCommerce(e) => e.is_retryable(),
        }
    }

    /// What happened and what to do next, in the seller's words.
    pub fn seller_message(&self) -> String {
        match self {
            Self::WooCommerce(e) => e.seller_message(),
        }
    }

    /// The shop refused the connector's keys (revoked, or their permissions reduced): only the
    /// seller connecting it again helps.
    pub fn keys_refused(&self) -> bool {
        matches!(
            self,
            Self::WooCommerce(WooError::Unauthorized(_) | WooError::Forbidden(_))
        )
    }
}

/// One product of the shop as catalog items: the product itself, or each of its variations;
/// what cannot become an item (no SKU, a price that is not one) is a problem of its own.
#[derive(Clone, Debug)]
pub struct ShopProduct {
    pub id: i64,
    pub items: Vec<Result<CatalogItem, NormalizeProblem>>,
}

/// One page of the catalog, in id order.
#[derive(Clone, Debug)]
pub struct CatalogPage {
    pub products: Vec<ShopProduct>,
    pub total_pages: u32,
}

/// A webhook of the connector's on the shop, as the shop reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopWebhook {
    /// The shop's id for it.
    pub id: i64,
    pub topic: String,
    pub delivery_url: String,
    /// `active`, `paused`, `disabled` (WooCommerce stops one after repeated failures).
    pub status: String,
}

/// Products read per page of the catalog (WordPress's largest page).
pub const PRODUCTS_PER_PAGE: u32 = 100;

impl ShopClient {
    pub fn platform(&self) -> ShopPlatform {
        match self {
            Self::WooCommerce(_) => ShopPlatform::WooCommerce,
        }
    }

    /// One read that proves the address and the keys.
    pub async fn verify(&self) -> Result<StoreSummary, ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c.verify().await?),
        }
    }

    /// One page (from 1) of the catalog, [`PRODUCTS_PER_PAGE`] products, with their variations;
    /// only the products modified after `modified_after` when it is given. `read_at_ms` stands
    /// in for a product's missing modification date.
    pub async fn catalog_page(
        &self,
        page: u32,
        modified_after: Option<OffsetDateTime>,
        read_at_ms: i64,
    ) -> Result<CatalogPage, ShopError> {
        match self {
            Self::WooCommerce(c) => {
                let query = ProductQuery {
                    page,
                    per_page: PRODUCTS_PER_PAGE,
                    modified_after,
                    include: Vec::new(),
                };
                let (products, total_pages) = c.products_with_variations(&query).await?;
                Ok(CatalogPage {
                    products: woo_products(products, read_at_ms),
                    total_pages,
                })
            }
        }
    }

    /// The products named (at most [`PRODUCTS_PER_PAGE`]) that the shop lists, with their
    /// variations. One left out is not necessarily gone: ask [`Self::is_gone`].
    pub async fn products_by_id(
        &self,
        ids: &[i64],
        read_at_ms: i64,
    ) -> Result<Vec<ShopProduct>, ShopError> {
        match self {
            Self::WooCommerce(c) => {
                let query = ProductQuery {
                    page: 1,
                    per_page: PRODUCTS_PER_PAGE,
                    modified_after: None,
                    include: ids.to_vec(),
                };
                let (products, _) = c.products_with_variations(&query).await?;
                Ok(woo_products(products, read_at_ms))
            }
        }
    }

    /// Whether the shop says the product is gone (WooCommerce: 404, or in the trash). What a
    /// webhook claims is a hint; this answer is what counts.
    pub async fn is_gone(&self, id: i64) -> Result<bool, ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c.product(id).await?.is_none()),
        }
    }

    /// Every product category, sorted by name.
    pub async fn categories(&self) -> Result<Vec<Term>, ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c.categories().await?),
        }
    }

    /// Every product tag, sorted by name.
    pub async fn tags(&self) -> Result<Vec<Term>, ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c.tags().await?),
        }
    }

    /// Registers the connector's webhooks (every topic the flows use) to `delivery_url`,
    /// signed with `secret`, first removing any this connector left there before (a
    /// reconnect), so the shop never delivers twice.
    pub async fn register_webhooks(
        &self,
        delivery_url: &str,
        secret: &str,
    ) -> Result<Vec<ShopWebhook>, ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c
                .register_webhooks(delivery_url, secret)
                .await?
                .into_iter()
                .map(ShopWebhook::from)
                .collect()),
        }
    }

    /// Every webhook of the shop's, ours among them, with its status.
    pub async fn webhooks(&self) -> Result<Vec<ShopWebhook>, ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c
                .list_webhooks()
                .await?
                .into_iter()
                .map(ShopWebhook::from)
                .collect()),
        }
    }

    /// Removes one webhook; one already gone counts as removed.
    pub async fn remove_webhook(&self, id: i64) -> Result<(), ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c.delete_webhook(id).await?),
        }
    }
}

fn woo_products(
    products: Vec<(
        crate::woocommerce::Product,
        Vec<crate::woocommerce::Variation>,
    )>,
    read_at_ms: i64,
) -> Vec<ShopProduct> {
    products
        .into_iter()
        .map(|(product, variations)| ShopProduct {
            id: product.id,
            items: normalize::catalog_items(&product, &variations, read_at_ms),
        })
        .collect()
}

impl From<crate::woocommerce::Webhook> for ShopWebhook {
    fn from(w: crate::woocommerce::Webhook) -> Self {
        Self {
            id: w.id,
            topic: w.topic,
            delivery_url: w.delivery_url,
            status: w.status,
        }
    }
}

// ----- events ---------------------------------------------------------------------------

/// What a shop's webhook delivery says happened. Only a hint: it names what to look at, and
/// the shop's own answer about it is what the flows act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopEvent {
    /// The shop's topic, e.g. `product.updated`.
    pub topic: String,
    /// The shop's delivery id (not unique on its own: see `storage::webhook_inbox`).
    pub delivery_id: String,
    pub subject: EventSubject,
}

/// What an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSubject {
    /// A product: for a variation's event, its product (what is read).
    Product(i64),
    /// The catalog, without naming a product.
    Catalog,
    /// An order.
    Order(i64),
    /// Anything else the shop sends.
    Other,
}

impl EventSubject {
    /// The shop id the subject names, as the inbox keeps it.
    pub fn resource_id(self) -> Option<i64> {
        match self {
            Self::Product(id) | Self::Order(id) => Some(id),
            Self::Catalog | Self::Other => None,
        }
    }
}

/// One request to a webhook's delivery URL, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The shop checking a new webhook's URL: it wants a 200, and carries nothing.
    Ping,
    Event(ShopEvent),
}

/// Why a delivery was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("missing webhook headers")]
    MissingHeaders,
    #[error("bad signature")]
    BadSignature,
    #[error("the body is not JSON")]
    NotJson,
}

/// Reads one request to a delivery URL of a `platform` shop whose webhooks are signed with
/// `secret`: a ping, or an event whose signature holds (checked in constant time).
pub fn read_delivery(
    platform: ShopPlatform,
    headers: &HeaderMap,
    body: &[u8],
    secret: &[u8],
) -> Result<Delivery, DeliveryError> {
    match platform {
        ShopPlatform::WooCommerce => webhook::read_delivery(headers, body, secret),
    }
}
