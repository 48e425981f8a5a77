//! Steering the emulated WooCommerce stores, from Rust (`Sandbox::woo_*`) and over JSON under
//! `/sandbox/api/woo/…`: create a store, change stock and prices, place orders (each firing the
//! store's webhooks as a change in the shop's admin would), revoke keys, take a store down, and
//! read webhooks, keys and the delivery log. Secrets never appear in what is read back.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Sandbox;
use crate::values::clock::now;
use crate::values::money::Money;
use crate::woo::delivery::WebhookAttempt;
use crate::woo::model::{
    Event, OrderStatus, Permissions, Resource, WebhookStatus, WooStore, set_meta, slugify,
};
use crate::woo::orders::{create_order, transition};
use crate::woo::refunds::{RefundRequest, create_refund};
use crate::woo::rest::{Fields, RestError};
use crate::woo::seed;
use crate::woo::views::{order_json, product_json};

/// A webhook as the control API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WooWebhookInfo {
    pub id: i64,
    pub name: String,
    pub topic: String,
    pub delivery_url: String,
    pub status: WooWebhookStatus,
    pub failure_count: u32,
}

/// `active`, `paused` or `disabled`; compares with those words too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WooWebhookStatus {
    Active,
    Paused,
    Disabled,
}

impl From<WebhookStatus> for WooWebhookStatus {
    fn from(status: WebhookStatus) -> Self {
        match status {
            WebhookStatus::Active => Self::Active,
            WebhookStatus::Paused => Self::Paused,
            WebhookStatus::Disabled => Self::Disabled,
        }
    }
}

impl PartialEq<&str> for WooWebhookStatus {
    fn eq(&self, other: &&str) -> bool {
        let word = match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Disabled => "disabled",
        };
        word == *other
    }
}

/// A REST key as the control API shows it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WooKeyInfo {
    pub key_id: i64,
    pub description: String,
    /// `read`, `write` or `read_write`.
    pub permissions: String,
    pub consumer_key: String,
}

/// What creating a store hands back: where it is and how to get in.
#[derive(Debug, Clone, Serialize)]
pub struct WooStoreCreated {
    pub code: String,
    pub name: String,
    pub url: String,
    pub admin_email: String,
    pub admin_password: String,
    pub consumer_key: String,
    pub consumer_secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WooControlError {
    #[error("There is no WooCommerce store '{0}' on this sandbox.")]
    UnknownStore(String),
    #[error("A WooCommerce store '{0}' already exists.")]
    StoreExists(String),
    #[error("A store code is 1–40 lower-case letters, digits or dashes; got '{0}'.")]
    BadCode(String),
    #[error("Store '{store}' has no product or variation {id}.")]
    UnknownProduct { store: String, id: i64 },
    #[error("'{0}' is not a price: send a decimal string such as \"19.90\".")]
    BadPrice(String),
    #[error("Key permissions are read, write or read_write; got '{0}'.")]
    BadPermissions(String),
    #[error("The order was refused: {0}")]
    Refused(String),
    #[error("Store '{store}' has no order {id}.")]
    UnknownOrder { store: String, id: i64 },
}

impl WooControlError {
    fn status(&self) -> StatusCode {
        match self {
            Self::UnknownStore(_) | Self::UnknownProduct { .. } | Self::UnknownOrder { .. } => {
                StatusCode::NOT_FOUND
            }
            Self::StoreExists(_) => StatusCode::CONFLICT,
            Self::BadCode(_) | Self::BadPrice(_) | Self::BadPermissions(_) | Self::Refused(_) => {
                StatusCode::BAD_REQUEST
            }
        }
    }
}

impl IntoResponse for WooControlError {
    fn into_response(self) -> Response {
        (self.status(), Json(json!({ "message": self.to_string() }))).into_response()
    }
}

fn unknown(store: &str) -> impl FnOnce(RestError) -> WooControlError + '_ {
    move |_| WooControlError::UnknownStore(store.to_owned())
}

impl Sandbox {
    /// Creates an empty store (WordPress's categories, no product) with its admin
    /// `shop-admin@example.com` / `sandbox-shop-pass` and a read_write key.
    pub fn woo_create_store(
        &self,
        code: &str,
        name: &str,
    ) -> Result<WooStoreCreated, WooControlError> {
        self.woo_create_store_with(code, name, 0, 0)
    }

    /// Like `woo_create_store`, with the demo catalog's generator adding `simple` simple and
    /// `variable` variable products (for benchmarks).
    pub fn woo_create_store_with(
        &self,
        code: &str,
        name: &str,
        simple: usize,
        variable: usize,
    ) -> Result<WooStoreCreated, WooControlError> {
        let valid = !code.is_empty()
            && code.len() <= 40
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(WooControlError::BadCode(code.to_owned()));
        }
        let mut world = self.world();
        if world.woo.contains_key(code) {
            return Err(WooControlError::StoreExists(code.to_owned()));
        }
        let mut store = seed::empty(
            code,
            name,
            seed::DEMO_ADMIN_EMAIL,
            seed::DEMO_ADMIN_PASSWORD,
        );
        let public_url = world.public_url.clone();
        seed::catalog(&mut store, &public_url, simple, variable);
        let consumer_key = format!("ck_{}", hex_token());
        let consumer_secret = format!("cs_{}", hex_token());
        store.add_key(
            "Sandbox control API - API",
            Permissions::ReadWrite,
            consumer_key.clone(),
            consumer_secret.clone(),
        );
        let created = WooStoreCreated {
            code: code.to_owned(),
            name: name.to_owned(),
            url: store.url(&public_url),
            admin_email: store.admin.email.clone(),
            admin_password: store.admin.password.clone(),
            consumer_key,
            consumer_secret,
        };
        world.woo.insert(code.to_owned(), store);
        Ok(created)
    }

    /// Sets the stock of a product or variation (managing its stock from now on), as the
    /// shop's admin would; fires `product.updated`.
    ///
    /// # Panics
    /// When the store or the product does not exist: a test asked for something impossible.
    pub fn woo_set_stock(&self, store: &str, product_or_variation_id: i64, quantity: i64) {
        self.try_set_stock(store, product_or_variation_id, quantity)
            .unwrap_or_else(|error| panic!("{error}"));
    }

    fn try_set_stock(&self, code: &str, id: i64, quantity: i64) -> Result<(), WooControlError> {
        self.woo_write(code, |store, _| {
            let Some(product) = store.products.get_mut(&id) else {
                return Ok(Err(WooControlError::UnknownProduct {
                    store: code.to_owned(),
                    id,
                }));
            };
            product.manage_stock = true;
            product.stock_quantity = Some(quantity);
            product.sync_stock_status();
            store.touch_product(id, now());
            Ok(Ok(()))
        })
        .map_err(unknown(code))?
    }

    /// Sets the regular price and the sale price (`None` ends a sale) of a product or
    /// variation; fires `product.updated`.
    ///
    /// # Panics
    /// When the store or the product does not exist, or a price is not a decimal string.
    pub fn woo_set_price(&self, store: &str, id: i64, regular: &str, sale: Option<&str>) {
        self.try_set_price(store, id, regular, sale)
            .unwrap_or_else(|error| panic!("{error}"));
    }

    fn try_set_price(
        &self,
        code: &str,
        id: i64,
        regular: &str,
        sale: Option<&str>,
    ) -> Result<(), WooControlError> {
        let parse =
            |raw: &str| Money::parse(raw).ok_or_else(|| WooControlError::BadPrice(raw.to_owned()));
        let regular = parse(regular)?;
        let sale = sale.map(parse).transpose()?;
        self.woo_write(code, |store, _| {
            let Some(product) = store.products.get_mut(&id) else {
                return Ok(Err(WooControlError::UnknownProduct {
                    store: code.to_owned(),
                    id,
                }));
            };
            product.regular_price = Some(regular);
            product.sale_price = sale;
            store.touch_product(id, now());
            Ok(Ok(()))
        })
        .map_err(unknown(code))?
    }

    /// Replaces the images of a product or variation with these URLs, in order; fires
    /// `product.updated`.
    ///
    /// # Panics
    /// When the store or the product does not exist.
    pub fn woo_set_images(&self, store: &str, id: i64, urls: &[&str]) {
        let code = store;
        self.woo_write(code, |store, _| {
            let Some(product) = store.products.get_mut(&id) else {
                return Ok(Err(WooControlError::UnknownProduct {
                    store: code.to_owned(),
                    id,
                }));
            };
            product.images = urls
                .iter()
                .zip(900_000..)
                .map(|(url, id)| crate::woo::model::Image {
                    id,
                    src: (*url).to_owned(),
                    name: url.rsplit('/').next().unwrap_or_default().to_owned(),
                    alt: String::new(),
                })
                .collect();
            store.touch_product(id, now());
            Ok(Ok(()))
        })
        .map_err(unknown(code))
        .and_then(|r| r)
        .unwrap_or_else(|error| panic!("{error}"));
    }

    /// Places an order as a shopper's checkout would: `order` has the REST body's shape
    /// (`line_items` by `sku` or ids, `billing`, …); paid unless `set_paid` is false, so stock
    /// is taken. Fires `order.created` and the stock changes' `product.updated`.
    pub fn woo_place_order(&self, store: &str, order: &Value) -> Result<i64, WooControlError> {
        let mut order = order.clone();
        if let Some(fields) = order.as_object_mut() {
            fields.entry("set_paid").or_insert(json!(true));
            fields.entry("payment_method").or_insert(json!("bacs"));
            fields
                .entry("payment_method_title")
                .or_insert(json!("Direct bank transfer"));
        }
        if !self.world().woo.contains_key(store) {
            return Err(WooControlError::UnknownStore(store.to_owned()));
        }
        self.woo_write(store, |shop, _| {
            let fields = Fields::of(&order)?;
            create_order(shop, &fields, "checkout")
        })
        .map_err(|error| WooControlError::Refused(error.message))
    }

    /// Runs `write` on an existing order of a store (at now), queuing the webhooks it fires.
    fn woo_order_write<R>(
        &self,
        code: &str,
        order_id: i64,
        write: impl FnOnce(&mut WooStore, OffsetDateTime) -> Result<R, WooControlError>,
    ) -> Result<R, WooControlError> {
        known(self, code)?;
        self.woo_write(code, |store, _| {
            if !store.orders.contains_key(&order_id) {
                return Ok(Err(WooControlError::UnknownOrder {
                    store: code.to_owned(),
                    id: order_id,
                }));
            }
            Ok(write(store, now()))
        })
        .map_err(unknown(code))?
    }

    /// Completes an order as the shop's admin would once it ships: with `tracking`
    /// (provider, number) it first adds a tracking item to `_wc_shipment_tracking_items`, as
    /// the Shipment Tracking plugins do (see `tracking_item`); then status `completed`. Fires
    /// `order.updated`.
    pub fn woo_complete_order(
        &self,
        store: &str,
        order_id: i64,
        tracking: Option<(&str, &str)>,
    ) -> Result<(), WooControlError> {
        self.woo_order_write(store, order_id, |shop, at| {
            if let Some((provider, number)) = tracking {
                add_tracking_item(shop, order_id, tracking_item(provider, number, at), at);
            }
            transition(shop, order_id, OrderStatus::Completed, at);
            Ok(())
        })
    }

    /// Ships part of an order as Advanced Shipment Tracking's "Tracking Per Item" add-on
    /// does: a tracking item (provider, number) whose `products_list` names the items in the
    /// package, `(product or variation id, quantity)` each; the order's status is left as it
    /// is. Fires `order.updated`.
    pub fn woo_ship_items(
        &self,
        store: &str,
        order_id: i64,
        provider: &str,
        number: &str,
        items: &[(i64, i64)],
    ) -> Result<(), WooControlError> {
        self.woo_order_write(store, order_id, |shop, at| {
            let order = shop.orders.get(&order_id).expect("checked");
            let products: Vec<Value> = items
                .iter()
                .map(|(product, qty)| {
                    // The order item the add-on names too, when one holds that product.
                    let item_id = order
                        .line_items
                        .iter()
                        .find(|line| line.variation_id == *product || line.product_id == *product)
                        .map(|line| line.id);
                    json!({ "product": product, "qty": qty, "item_id": item_id })
                })
                .collect();
            let mut item = tracking_item(provider, number, at);
            item["products_list"] = Value::Array(products);
            add_tracking_item(shop, order_id, item, at);
            Ok(())
        })
    }

    /// Cancels an order as the shop's admin would: status `cancelled`, its stock given back.
    /// Fires `order.updated` (and `product.updated` for the stock).
    pub fn woo_cancel_order(&self, store: &str, order_id: i64) -> Result<(), WooControlError> {
        self.woo_order_write(store, order_id, |shop, at| {
            transition(shop, order_id, OrderStatus::Cancelled, at);
            Ok(())
        })
    }

    /// Refunds an amount of an order by hand, as the admin's "Refund manually" does: no
    /// gateway, no restock. The refund that leaves nothing to refund sets the order
    /// `refunded`; fires `order.updated`. The refund's id.
    pub fn woo_refund_order(
        &self,
        store: &str,
        order_id: i64,
        amount: &str,
        reason: &str,
    ) -> Result<i64, WooControlError> {
        let amount =
            Money::parse(amount).ok_or_else(|| WooControlError::BadPrice(amount.to_owned()))?;
        self.woo_order_write(store, order_id, |shop, _| {
            let request = RefundRequest {
                amount: Some(amount),
                reason: reason.to_owned(),
                ..RefundRequest::default()
            };
            create_refund(shop, order_id, request)
                .map_err(|error| WooControlError::Refused(error.message))
        })
    }

    /// A product or variation as `GET /products/{id}` answers it.
    pub fn woo_product(&self, store: &str, id: i64) -> Option<Value> {
        let world = self.world();
        let (store, url) = crate::woo::store(&world, store).ok()?;
        store
            .products
            .get(&id)
            .map(|product| product_json(store, product, &url))
    }

    /// An order as `GET /orders/{id}` answers it.
    pub fn woo_order(&self, store: &str, id: i64) -> Option<Value> {
        let world = self.world();
        let (store, url) = crate::woo::store(&world, store).ok()?;
        store
            .orders
            .get(&id)
            .map(|order| order_json(store, order, &url))
    }

    /// Every order's id, oldest first.
    pub fn woo_order_ids(&self, store: &str) -> Vec<i64> {
        self.world()
            .woo
            .get(store)
            .map(|store| store.orders.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Adds a REST key (`read`, `write` or `read_write`) as the admin would in WooCommerce ›
    /// Settings › Advanced › REST API; returns its consumer key and secret.
    pub fn woo_add_key(
        &self,
        store: &str,
        description: &str,
        permissions: &str,
    ) -> Result<(String, String), WooControlError> {
        let permissions = Permissions::parse(permissions)
            .ok_or_else(|| WooControlError::BadPermissions(permissions.to_owned()))?;
        let mut world = self.world();
        let store = world
            .woo
            .get_mut(store)
            .ok_or_else(|| WooControlError::UnknownStore(store.to_owned()))?;
        let key = store.add_key(
            description,
            permissions,
            format!("ck_{}", hex_token()),
            format!("cs_{}", hex_token()),
        );
        Ok((key.consumer_key.clone(), key.consumer_secret.clone()))
    }

    /// Deletes a REST key, as revoking it in WooCommerce › Settings › Advanced › REST API does.
    pub fn woo_revoke_key(&self, store: &str, consumer_key: &str) {
        if let Some(store) = self.world().woo.get_mut(store) {
            store.keys.retain(|key| key.consumer_key != consumer_key);
        }
    }

    /// Takes a store down (every `/woo/{store}/…` request answers 503) or brings it back.
    pub fn woo_set_down(&self, store: &str, down: bool) {
        if let Some(store) = self.world().woo.get_mut(store) {
            store.down = down;
        }
    }

    /// Disables every webhook of a store, as WooCommerce does to one whose deliveries kept
    /// failing: nothing is delivered until the connector registers them again.
    pub fn woo_disable_webhooks(&self, store: &str) {
        if let Some(store) = self.world().woo.get_mut(store) {
            for webhook in store.webhooks.values_mut() {
                webhook.status = crate::woo::model::WebhookStatus::Disabled;
            }
        }
    }

    pub fn woo_webhooks(&self, store: &str) -> Vec<WooWebhookInfo> {
        self.world()
            .woo
            .get(store)
            .map(webhook_infos)
            .unwrap_or_default()
    }

    pub fn woo_keys(&self, store: &str) -> Vec<WooKeyInfo> {
        self.world()
            .woo
            .get(store)
            .map(|store| {
                store
                    .keys
                    .iter()
                    .map(|key| WooKeyInfo {
                        key_id: key.key_id,
                        description: key.description.clone(),
                        permissions: key.permissions.as_str().to_owned(),
                        consumer_key: key.consumer_key.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Returns once every webhook delivery queued so far has been attempted.
    pub async fn settle_webhooks(&self) {
        self.deliveries.settle().await;
    }

    /// Every delivery attempted for a store's webhooks, oldest first.
    pub fn webhook_log(&self, store: &str) -> Vec<WebhookAttempt> {
        self.world()
            .woo
            .get(store)
            .map(|store| store.webhook_log.clone())
            .unwrap_or_default()
    }
}

fn webhook_infos(store: &WooStore) -> Vec<WooWebhookInfo> {
    store
        .webhooks
        .values()
        .map(|webhook| WooWebhookInfo {
            id: webhook.id,
            name: webhook.name.clone(),
            topic: webhook.topic.clone(),
            delivery_url: webhook.delivery_url.clone(),
            status: webhook.status.into(),
            failure_count: webhook.failure_count,
        })
        .collect()
}

fn hex_token() -> String {
    hex(&crate::entropy::random_bytes::<20>())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The order meta the Shipment Tracking plugins (WooCommerce's and Advanced Shipment
/// Tracking) keep their tracking items in.
const TRACKING_META: &str = "_wc_shipment_tracking_items";

/// The providers the plugins know, by the slug they store (`sanitize_title` of the name);
/// ASSUMPTION: a few of their list, those a French shop uses.
const TRACKING_PROVIDERS: [&str; 10] = [
    "chronopost",
    "colissimo",
    "dhl",
    "dhl-express",
    "dpd",
    "fedex",
    "gls",
    "la-poste",
    "ups",
    "usps",
];

/// Adds a tracking item to an order's `_wc_shipment_tracking_items` and records the change.
fn add_tracking_item(shop: &mut WooStore, order_id: i64, item: Value, at: OffsetDateTime) {
    let order = shop.orders.get_mut(&order_id).expect("checked");
    let mut items = order
        .meta_data
        .iter()
        .find(|meta| meta.key == TRACKING_META)
        .and_then(|meta| meta.value.as_array().cloned())
        .unwrap_or_default();
    items.push(item);
    set_meta(
        &mut order.meta_data,
        &mut shop.next_meta_id,
        None,
        TRACKING_META,
        Value::Array(items),
    );
    order.modified = at;
    shop.record(Resource::Order, Event::Updated, order_id);
}

/// One tracking item as the plugins store it: a known provider by its slug, another as a
/// custom provider; `date_shipped` a Unix timestamp in a string, `tracking_id` an md5-like id.
fn tracking_item(provider: &str, number: &str, at: OffsetDateTime) -> Value {
    let slug = slugify(provider);
    let known = TRACKING_PROVIDERS.contains(&slug.as_str());
    json!({
        "tracking_provider": if known { slug.as_str() } else { "" },
        "custom_tracking_provider": if known { "" } else { provider },
        "custom_tracking_link": "",
        "tracking_number": number,
        "date_shipped": at.unix_timestamp().to_string(),
        "tracking_id": hex(&crate::entropy::random_bytes::<16>()),
    })
}

/// The stores in `/sandbox/api/state` and on the overview: counts and URLs, no secret (keys
/// show their last 7 characters, as WooCommerce's key list does).
pub fn state_view(store: &WooStore, public_url: &url::Url) -> Value {
    let products = store.products.values().filter(|p| p.parent_id == 0).count();
    json!({
        "code": store.code,
        "name": store.name,
        "url": store.url(public_url),
        "rest_url": format!("{}/wp-json/wc/v3", store.url(public_url)),
        "down": store.down,
        "admin_email": store.admin.email,
        "products": products,
        "variations": store.products.len() - products,
        "orders": store.orders.len(),
        "webhooks": webhook_infos(store),
        "keys": store.keys.iter().map(|key| json!({
            "key_id": key.key_id,
            "description": key.description,
            "permissions": key.permissions.as_str(),
            "truncated_key": key.consumer_key.chars().rev().take(7).collect::<Vec<_>>().into_iter().rev().collect::<String>(),
        })).collect::<Vec<_>>(),
    })
}

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/sandbox/api/woo/stores", post(create_store))
        .route("/sandbox/api/woo/stores/{store}/down", post(set_down))
        .route(
            "/sandbox/api/woo/stores/{store}/webhooks",
            get(list_webhooks),
        )
        .route(
            "/sandbox/api/woo/stores/{store}/webhook-log",
            get(list_attempts),
        )
        .route(
            "/sandbox/api/woo/stores/{store}/keys/revoke",
            post(revoke_key),
        )
        .route(
            "/sandbox/api/woo/stores/{store}/products/{id}/stock",
            post(set_stock),
        )
        .route(
            "/sandbox/api/woo/stores/{store}/products/{id}/price",
            post(set_price),
        )
        .route("/sandbox/api/woo/stores/{store}/orders", post(place_order))
        .route(
            "/sandbox/api/woo/stores/{store}/orders/{id}/complete",
            post(complete_order),
        )
        .route(
            "/sandbox/api/woo/stores/{store}/orders/{id}/cancel",
            post(cancel_order),
        )
        .route(
            "/sandbox/api/woo/stores/{store}/orders/{id}/refunds",
            post(refund_order),
        )
}

#[derive(Deserialize)]
struct CreateStore {
    code: String,
    name: String,
    #[serde(default)]
    simple_products: usize,
    #[serde(default)]
    variable_products: usize,
}

async fn create_store(
    State(sandbox): State<Sandbox>,
    Json(request): Json<CreateStore>,
) -> Response {
    match sandbox.woo_create_store_with(
        &request.code,
        &request.name,
        request.simple_products,
        request.variable_products,
    ) {
        Ok(created) => (StatusCode::CREATED, Json(created)).into_response(),
        Err(error) => error.into_response(),
    }
}

fn known(sandbox: &Sandbox, store: &str) -> Result<(), WooControlError> {
    if sandbox.world().woo.contains_key(store) {
        Ok(())
    } else {
        Err(WooControlError::UnknownStore(store.to_owned()))
    }
}

#[derive(Deserialize)]
struct Down {
    down: bool,
}

async fn set_down(
    State(sandbox): State<Sandbox>,
    Path(store): Path<String>,
    Json(request): Json<Down>,
) -> Result<Json<Value>, WooControlError> {
    known(&sandbox, &store)?;
    sandbox.woo_set_down(&store, request.down);
    Ok(Json(json!({ "store": store, "down": request.down })))
}

async fn list_webhooks(
    State(sandbox): State<Sandbox>,
    Path(store): Path<String>,
) -> Result<Json<Vec<WooWebhookInfo>>, WooControlError> {
    known(&sandbox, &store)?;
    Ok(Json(sandbox.woo_webhooks(&store)))
}

async fn list_attempts(
    State(sandbox): State<Sandbox>,
    Path(store): Path<String>,
) -> Result<Json<Vec<Value>>, WooControlError> {
    known(&sandbox, &store)?;
    let attempts = sandbox
        .webhook_log(&store)
        .into_iter()
        .map(|attempt| {
            json!({
                "webhook_id": attempt.webhook_id,
                "topic": attempt.topic,
                "resource_id": attempt.resource_id,
                "delivery_url": attempt.delivery_url,
                "delivery_id": attempt.delivery_id,
                "status": attempt.status,
                "error": attempt.error,
                "at": crate::woo::model::format_date(time::OffsetDateTime::from(attempt.at)),
            })
        })
        .collect();
    Ok(Json(attempts))
}

#[derive(Deserialize)]
struct RevokeKey {
    consumer_key: String,
}

async fn revoke_key(
    State(sandbox): State<Sandbox>,
    Path(store): Path<String>,
    Json(request): Json<RevokeKey>,
) -> Result<Json<Value>, WooControlError> {
    known(&sandbox, &store)?;
    let before = sandbox.woo_keys(&store).len();
    sandbox.woo_revoke_key(&store, &request.consumer_key);
    let revoked = sandbox.woo_keys(&store).len() < before;
    Ok(Json(json!({ "revoked": revoked })))
}

#[derive(Deserialize)]
struct Stock {
    quantity: i64,
}

async fn set_stock(
    State(sandbox): State<Sandbox>,
    Path((store, id)): Path<(String, i64)>,
    Json(request): Json<Stock>,
) -> Result<Json<Value>, WooControlError> {
    sandbox.try_set_stock(&store, id, request.quantity)?;
    Ok(Json(sandbox.woo_product(&store, id).unwrap_or_default()))
}

#[derive(Deserialize)]
struct Price {
    regular: String,
    sale: Option<String>,
}

async fn set_price(
    State(sandbox): State<Sandbox>,
    Path((store, id)): Path<(String, i64)>,
    Json(request): Json<Price>,
) -> Result<Json<Value>, WooControlError> {
    sandbox.try_set_price(&store, id, &request.regular, request.sale.as_deref())?;
    Ok(Json(sandbox.woo_product(&store, id).unwrap_or_default()))
}

async fn place_order(
    State(sandbox): State<Sandbox>,
    Path(store): Path<String>,
    Json(order): Json<Value>,
) -> Result<(StatusCode, Json<Value>), WooControlError> {
    let id = sandbox.woo_place_order(&store, &order)?;
    Ok((
        StatusCode::CREATED,
        Json(sandbox.woo_order(&store, id).unwrap_or_default()),
    ))
}

#[derive(Deserialize)]
struct Completion {
    tracking_provider: Option<String>,
    tracking_number: Option<String>,
}

/// `POST /sandbox/api/woo/stores/{store}/orders/{id}/complete {tracking_provider?,
/// tracking_number?}`: see `Sandbox::woo_complete_order`.
async fn complete_order(
    State(sandbox): State<Sandbox>,
    Path((store, id)): Path<(String, i64)>,
    Json(request): Json<Completion>,
) -> Result<Json<Value>, WooControlError> {
    let tracking = request
        .tracking_provider
        .as_deref()
        .zip(request.tracking_number.as_deref());
    sandbox.woo_complete_order(&store, id, tracking)?;
    Ok(Json(sandbox.woo_order(&store, id).unwrap_or_default()))
}

async fn cancel_order(
    State(sandbox): State<Sandbox>,
    Path((store, id)): Path<(String, i64)>,
) -> Result<Json<Value>, WooControlError> {
    sandbox.woo_cancel_order(&store, id)?;
    Ok(Json(sandbox.woo_order(&store, id).unwrap_or_default()))
}

#[derive(Deserialize)]
struct ManualRefund {
    amount: String,
    #[serde(default)]
    reason: String,
}

/// `POST /sandbox/api/woo/stores/{store}/orders/{id}/refunds {amount, reason?}` → 201
/// `{refund_id, order}`: see `Sandbox::woo_refund_order`.
async fn refund_order(
    State(sandbox): State<Sandbox>,
    Path((store, id)): Path<(String, i64)>,
    Json(request): Json<ManualRefund>,
) -> Result<(StatusCode, Json<Value>), WooControlError> {
    let refund_id = sandbox.woo_refund_order(&store, id, &request.amount, &request.reason)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "refund_id": refund_id, "order": sandbox.woo_order(&store, id) })),
    ))
}
