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
//! - orders: create the shop order of a Mirakl order, read one back (its status, tracking and
//!   refunds), find the one made for a Mirakl order since a moment (after a lost answer),
//!   cancel one, add a note.

use domain::ShopPlatform;
use domain::catalog::{CatalogItem, Money};
use domain::order::Address;
use reqwest::header::HeaderMap;
use time::OffsetDateTime;

use crate::bigcommerce::{self, BcClient, BcError};
use crate::webhook;
use crate::woocommerce::{
    MIRAKL_CHANNEL_META, MIRAKL_ORDER_META, NewWooLine, NewWooOrder, NormalizeProblem,
    ProductQuery, StoreSummary, Term, Tracking, WooAddress, WooClient, WooError, WooOrder,
    normalize,
};

/// A client for one connected shop.
#[derive(Clone, Debug)]
pub enum ShopClient {
    WooCommerce(WooClient),
    BigCommerce(BcClient),
}

/// Why a call to a shop failed, whatever its platform.
#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error(transparent)]
    WooCommerce(#[from] WooError),
    #[error(transparent)]
    BigCommerce(#[from] BcError),
}

impl ShopError {
    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::WooCommerce(e) => e.is_retryable(),
            Self::BigCommerce(e) => e.is_retryable(),
        }
    }

    /// What happened and what to do next, in the seller's words.
    pub fn seller_message(&self) -> String {
        match self {
            Self::WooCommerce(e) => e.seller_message(),
            Self::BigCommerce(e) => e.seller_message(),
        }
    }

    /// The shop refused the connector's keys (revoked, or their permissions reduced): only the
    /// seller connecting it again helps.
    pub fn keys_refused(&self) -> bool {
        matches!(
            self,
            Self::WooCommerce(WooError::Unauthorized(_) | WooError::Forbidden(_))
                | Self::BigCommerce(BcError::Unauthorized(_) | BcError::Forbidden(_))
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
            Self::BigCommerce(_) => ShopPlatform::BigCommerce,
        }
    }

    /// One read that proves the address and the keys.
    pub async fn verify(&self) -> Result<StoreSummary, ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c.verify().await?),
            Self::BigCommerce(c) => {
                let (_, _, total) = c.products_page(1, 1, None).await?;
                Ok(StoreSummary {
                    product_count: total,
                })
            }
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
            Self::BigCommerce(c) => {
                let (products, total_pages, _) = c
                    .products_page(page, bigcommerce::catalog::MAX_PER_PAGE, modified_after)
                    .await?;
                Ok(CatalogPage {
                    products: bc_products(c, products, read_at_ms).await?,
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
            Self::BigCommerce(c) => {
                let products = c.products_by_id(ids).await?;
                bc_products(c, products, read_at_ms).await
            }
        }
    }

    /// Whether the shop says the product is gone (WooCommerce: 404, or in the trash). What a
    /// webhook claims is a hint; this answer is what counts.
    pub async fn is_gone(&self, id: i64) -> Result<bool, ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c.product(id).await?.is_none()),
            Self::BigCommerce(c) => Ok(!c.product_exists(id).await?),
        }
    }

    /// Every product category, sorted by name.
    pub async fn categories(&self) -> Result<Vec<Term>, ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c.categories().await?),
            Self::BigCommerce(c) => Ok(c.categories().await?),
        }
    }

    /// Every product tag, sorted by name.
    pub async fn tags(&self) -> Result<Vec<Term>, ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c.tags().await?),
            // BigCommerce products have no tags.
            Self::BigCommerce(_) => Ok(Vec::new()),
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
            Self::BigCommerce(c) => Ok(c
                .register_hooks(delivery_url, secret)
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
            Self::BigCommerce(c) => Ok(c
                .hooks()
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
            Self::BigCommerce(c) => Ok(c.delete_hook(id).await?),
        }
    }
}

/// A shop order to create for a Mirakl order: its lines at Mirakl's prices, its addresses,
/// and the Mirakl order id and channel kept on it (so it can be found again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewShopOrder {
    pub mirakl_order_id: String,
    pub channel_name: String,
    pub status: String,
    pub paid: bool,
    pub currency: String,
    /// Only when Mirakl gives one; no customer account is made.
    pub email: Option<String>,
    pub billing: Address,
    pub shipping: Address,
    pub lines: Vec<NewShopOrderLine>,
    /// The shipping line: how Mirakl ships it, and its total.
    pub shipping_line: Option<(String, Money)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewShopOrderLine {
    pub product_id: i64,
    pub variation_id: Option<i64>,
    pub quantity: i64,
    pub total: Money,
    pub mirakl_line_id: String,
}

/// A shop order, as the flows read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopOrder {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub mirakl_order_id: Option<String>,
    pub mirakl_channel: Option<String>,
    pub tracking: Vec<Tracking>,
    /// `(refund id, amount as positive decimal text, reason)`.
    pub refunds: Vec<(i64, String, String)>,
    /// When the shop last changed it, by the shop's clock.
    pub modified_at: Option<time::OffsetDateTime>,
}

impl ShopOrder {
    fn from_woo(order: WooOrder, tracking_key: Option<&str>) -> Self {
        Self {
            id: order.id,
            number: if order.number.is_empty() {
                order.id.to_string()
            } else {
                order.number.clone()
            },
            status: order.status.clone(),
            modified_at: order.date_modified_gmt,
            mirakl_order_id: order.meta(MIRAKL_ORDER_META),
            mirakl_channel: order.meta(MIRAKL_CHANNEL_META),
            tracking: order.tracking(tracking_key),
            refunds: order
                .refunds
                .iter()
                .map(|r| {
                    (
                        r.id,
                        r.total.trim_start_matches('-').to_owned(),
                        r.reason.clone(),
                    )
                })
                .collect(),
        }
    }
}

impl ShopOrder {
    fn from_bc(order: bigcommerce::orders::BcOrder, tracking: Vec<Tracking>) -> Self {
        Self {
            id: order.id,
            number: order.id.to_string(),
            status: bigcommerce::orders::status_word(order.status_id).to_owned(),
            modified_at: order.modified_at(),
            mirakl_order_id: order.external_order_id.clone().filter(|s| !s.is_empty()),
            mirakl_channel: order.external_source.clone().filter(|s| !s.is_empty()),
            tracking,
            // Read with the order when its status says so (see `bc_order`).
            refunds: Vec::new(),
        }
    }
}

fn woo_address(address: &Address, email: Option<&str>) -> WooAddress {
    WooAddress {
        first_name: address.first_name.clone(),
        last_name: address.last_name.clone(),
        company: address.company.clone().unwrap_or_default(),
        address_1: address.street_1.clone(),
        address_2: address.street_2.clone().unwrap_or_default(),
        city: address.city.clone(),
        state: address.state.clone().unwrap_or_default(),
        postcode: address.zip_code.clone(),
        country: address.country.clone(),
        email: email.unwrap_or_default().to_owned(),
        phone: address.phone.clone().unwrap_or_default(),
    }
}

/// How far back a search for a shop order looks before its reservation, for the clocks of the
/// connector and the shop differing.
/// ASSUMPTION: the two clocks differ by less than two minutes (NTP keeps servers within a second).
const CLOCK_SKEW: time::Duration = time::Duration::minutes(2);

/// At most this many pages of orders are read looking for one.
const MAX_SEARCH_PAGES: u32 = 200;

impl ShopClient {
    /// Creates the shop order of a Mirakl order.
    pub async fn create_order(&self, order: &NewShopOrder) -> Result<ShopOrder, ShopError> {
        match self {
            Self::WooCommerce(c) => {
                let new = NewWooOrder {
                    status: order.status.clone(),
                    paid: order.paid,
                    currency: order.currency.clone(),
                    billing: woo_address(&order.billing, order.email.as_deref()),
                    shipping: woo_address(&order.shipping, None),
                    lines: order
                        .lines
                        .iter()
                        .map(|l| NewWooLine {
                            product_id: l.product_id,
                            variation_id: l.variation_id,
                            quantity: l.quantity,
                            total: l.total.to_decimal_string(),
                            mirakl_line_id: l.mirakl_line_id.clone(),
                        })
                        .collect(),
                    shipping_line: order
                        .shipping_line
                        .as_ref()
                        .map(|(title, total)| (title.clone(), total.to_decimal_string())),
                    customer_note: None,
                    meta: vec![
                        (MIRAKL_ORDER_META.to_owned(), order.mirakl_order_id.clone()),
                        (MIRAKL_CHANNEL_META.to_owned(), order.channel_name.clone()),
                    ],
                };
                Ok(ShopOrder::from_woo(c.create_order(&new).await?, None))
            }
            Self::BigCommerce(c) => {
                let created = c.create_order(&bc_order_body(order)).await?;
                Ok(ShopOrder::from_bc(created, Vec::new()))
            }
        }
    }

    /// The shop order made for `mirakl_order_id` on `channel_name`, among the orders created
    /// since `since` (less the clocks' skew): what answers "did the lost request create it?".
    pub async fn find_order(
        &self,
        mirakl_order_id: &str,
        channel_name: &str,
        since: OffsetDateTime,
    ) -> Result<Option<ShopOrder>, ShopError> {
        match self {
            Self::WooCommerce(c) => {
                for page in 1..=MAX_SEARCH_PAGES {
                    let orders = c.orders_created_after(since - CLOCK_SKEW, page).await?;
                    let found = orders.items.into_iter().find(|o| {
                        o.meta(MIRAKL_ORDER_META).as_deref() == Some(mirakl_order_id)
                            && o.meta(MIRAKL_CHANNEL_META).as_deref() == Some(channel_name)
                    });
                    if let Some(found) = found {
                        return Ok(Some(ShopOrder::from_woo(found, None)));
                    }
                    if page >= orders.total_pages {
                        break;
                    }
                }
                Ok(None)
            }
            Self::BigCommerce(c) => {
                let _ = since;
                let found = c
                    .orders_by_external_id(mirakl_order_id)
                    .await?
                    .into_iter()
                    .find(|o| {
                        o.external_order_id.as_deref() == Some(mirakl_order_id)
                            && o.external_source.as_deref() == Some(channel_name)
                    });
                Ok(found.map(|o| ShopOrder::from_bc(o, Vec::new())))
            }
        }
    }

    /// One shop order, with the tracking numbers it carries (also read from `tracking_key`'s
    /// meta when given); `None` when the shop says there is none.
    pub async fn order(
        &self,
        id: i64,
        tracking_key: Option<&str>,
    ) -> Result<Option<ShopOrder>, ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c
                .order(id)
                .await?
                .map(|o| ShopOrder::from_woo(o, tracking_key))),
            Self::BigCommerce(c) => match c.order(id).await? {
                None => Ok(None),
                Some(order) => Ok(Some(bc_order(c, order).await?)),
            },
        }
    }

    /// The shop orders changed after `since` (the shop's clock), oldest change first, with
    /// their tracking: at most `max_pages` pages of 100, so a backlog is read over several
    /// calls. What a sweep reads, so a lost webhook delays a shipment instead of losing it.
    pub async fn orders_changed_since(
        &self,
        since: OffsetDateTime,
        tracking_key: Option<&str>,
        max_pages: u32,
    ) -> Result<Vec<ShopOrder>, ShopError> {
        match self {
            Self::WooCommerce(c) => {
                let mut changed = Vec::new();
                for page in 1..=max_pages.max(1) {
                    let orders = c.orders_modified_after(since, page).await?;
                    changed.extend(
                        orders
                            .items
                            .into_iter()
                            .map(|o| ShopOrder::from_woo(o, tracking_key)),
                    );
                    if page >= orders.total_pages {
                        break;
                    }
                }
                Ok(changed)
            }
            Self::BigCommerce(c) => {
                let mut changed = Vec::new();
                for page in 1..=max_pages.max(1) {
                    let orders = c.orders_modified_since(since, page).await?;
                    let full = orders.len() >= 250;
                    for order in orders {
                        changed.push(bc_order(c, order).await?);
                    }
                    if !full {
                        break;
                    }
                }
                Ok(changed)
            }
        }
    }

    /// Cancels a shop order (its stock comes back, as the shop does on cancellation) and
    /// says why in a note.
    pub async fn cancel_order(&self, id: i64, note: &str) -> Result<ShopOrder, ShopError> {
        match self {
            Self::WooCommerce(c) => {
                let cancelled = c.set_order_status(id, "cancelled").await?;
                c.add_order_note(id, note).await?;
                Ok(ShopOrder::from_woo(cancelled, None))
            }
            Self::BigCommerce(c) => {
                c.add_staff_note(id, note).await?;
                let cancelled = c
                    .update_order(
                        id,
                        &serde_json::json!({ "status_id": bigcommerce::orders::status::CANCELLED }),
                    )
                    .await?;
                Ok(ShopOrder::from_bc(cancelled, Vec::new()))
            }
        }
    }

    /// Adds a note for the seller to a shop order.
    pub async fn add_order_note(&self, id: i64, note: &str) -> Result<(), ShopError> {
        match self {
            Self::WooCommerce(c) => Ok(c.add_order_note(id, note).await?),
            Self::BigCommerce(c) => Ok(c.add_staff_note(id, note).await?),
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

/// The catalog items of BigCommerce products, with the category and brand names they use.
async fn bc_products(
    client: &BcClient,
    products: Vec<bigcommerce::BcProduct>,
    read_at_ms: i64,
) -> Result<Vec<ShopProduct>, ShopError> {
    if products.is_empty() {
        return Ok(Vec::new());
    }
    let names = bigcommerce::catalog::names_of(client).await?;
    Ok(products
        .iter()
        .map(|product| ShopProduct {
            id: product.id,
            items: bigcommerce::catalog::catalog_items(product, &names, read_at_ms),
        })
        .collect())
}

/// A BigCommerce order as the flows read it: its shipments as tracking and its refunds, each
/// read only when its status says there are some.
async fn bc_order(
    client: &BcClient,
    order: bigcommerce::orders::BcOrder,
) -> Result<ShopOrder, ShopError> {
    use bigcommerce::orders::status;
    let tracking = if matches!(
        order.status_id,
        status::SHIPPED | status::PARTIALLY_SHIPPED | status::COMPLETED
    ) {
        client.tracking(order.id).await?
    } else {
        Vec::new()
    };
    let refunds = if matches!(
        order.status_id,
        status::REFUNDED | status::PARTIALLY_REFUNDED
    ) {
        client.refunds(order.id).await?
    } else {
        Vec::new()
    };
    let mut read = ShopOrder::from_bc(order, tracking);
    read.refunds = refunds;
    Ok(read)
}

/// The v2 body of a new order: the Mirakl order id in `external_order_id`, the channel in
/// `external_source`, unit prices from the line totals.
fn bc_order_body(order: &NewShopOrder) -> serde_json::Value {
    use serde_json::json;
    let address = |a: &Address, email: Option<&str>| {
        json!({
            "first_name": a.first_name,
            "last_name": a.last_name,
            "company": a.company.clone().unwrap_or_default(),
            "street_1": a.street_1,
            "street_2": a.street_2.clone().unwrap_or_default(),
            "city": a.city,
            "state": a.state.clone().unwrap_or_default(),
            "zip": a.zip_code,
            // ASSUMPTION: BigCommerce wants the country's English name in `country` and reads
            // `country_iso2` too; Mirakl gives ISO codes, so both carry the code.
            "country": a.country,
            "country_iso2": a.country,
            "phone": a.phone.clone().unwrap_or_default(),
            "email": email.unwrap_or_default(),
        })
    };
    let mut uneven = Vec::new();
    let products: Vec<serde_json::Value> = order
        .lines
        .iter()
        .map(|line| {
            let quantity = line.quantity.max(1);
            let unit = Money::from_minor(line.total.minor() / quantity);
            if unit.minor() * quantity != line.total.minor() {
                uneven.push(format!(
                    "line {}: {} for {quantity}",
                    line.mirakl_line_id,
                    line.total.to_decimal_string()
                ));
            }
            let mut product = json!({
                "product_id": line.product_id,
                "quantity": line.quantity,
                "price_inc_tax": unit.to_decimal_string(),
                "price_ex_tax": unit.to_decimal_string(),
            });
            if let Some(variant) = line.variation_id {
                product["variant_id"] = json!(variant);
            }
            product
        })
        .collect();
    let mut notes = format!(
        "Mirakl order {} from {}.",
        order.mirakl_order_id, order.channel_name
    );
    if !uneven.is_empty() {
        notes.push_str(&format!(
            " Line totals that do not divide by their quantity (unit prices rounded down): {}.",
            uneven.join("; ")
        ));
    }
    let mut body = json!({
        "status_id": bigcommerce::orders::status_id_of(&order.status),
        "billing_address": address(&order.billing, order.email.as_deref()),
        "shipping_addresses": [address(&order.shipping, order.email.as_deref())],
        "products": products,
        "external_order_id": order.mirakl_order_id,
        "external_source": order.channel_name,
        "staff_notes": notes,
        "default_currency_code": order.currency,
    });
    if let Some((method, total)) = &order.shipping_line {
        body["shipping_cost_inc_tax"] = json!(total.to_decimal_string());
        body["shipping_cost_ex_tax"] = json!(total.to_decimal_string());
        body["shipping_addresses"][0]["shipping_method"] = json!(method);
    }
    if order.paid {
        body["payment_method"] = json!("Mirakl");
    }
    body
}

impl From<bigcommerce::webhooks::Hook> for ShopWebhook {
    fn from(h: bigcommerce::webhooks::Hook) -> Self {
        Self {
            id: h.id,
            topic: h.scope,
            delivery_url: h.destination,
            status: if h.is_active { "active" } else { "disabled" }.to_owned(),
        }
    }
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
    /// JSON, but not a delivery: a field missing, or holding control characters or too much.
    #[error("the body is not a delivery: {0}")]
    Malformed(&'static str),
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
        ShopPlatform::BigCommerce => bigcommerce::webhooks::read_delivery(headers, body, secret),
    }
}
