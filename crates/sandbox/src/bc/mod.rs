//! The emulated BigCommerce stores (real: `api.bigcommerce.com/stores/{hash}`, the control
//! panel and `login.bigcommerce.com`). A client written for BigCommerce works with
//! `{public_url}/bc` in place of `https://api.bigcommerce.com` and of
//! `https://login.bigcommerce.com`:
//! - `stores/{hash}/v3/catalog/…` (products with variants, their batches, categories, brands),
//!   `…/v3/inventory/adjustments/absolute` (`catalog`), `…/v2/orders` with their products,
//!   shipping addresses and shipments (`orders`), `…/v3/hooks` (`hooks`); every call
//!   authenticated by `X-Auth-Token`, counted against the store's rate limit (`rate`) and open
//!   to the connection faults a test injects (`gate`);
//! - `login/oauth2/token`: the app install's code exchange (`app`);
//! - `manage/{hash}`: the control panel's My Apps page, to install, load and uninstall an app
//!   (`panel`).
//!
//! Hooks fire for every change made through REST or the control API (`delivery`).
//!
//! Choices where BigCommerce's behaviour is unknown or unfit for local use (each marked
//! ASSUMPTION where it is made): http hook destinations and app callbacks are accepted (the
//! real ones must be https on port 443); one id sequence per store serves every resource.

pub mod app;
pub mod catalog;
pub mod control;
pub mod delivery;
pub mod hooks;
pub mod model;
pub mod orders;
pub mod panel;
pub mod rate;
pub mod seed;
pub mod views;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};
use tower_http::limit::RequestBodyLimitLayer;

use crate::Sandbox;
use crate::bc::app::{BcApp, InstallCode};
use crate::bc::model::BcStore;
use crate::gate::{ConnectionFault, FaultSlot};

/// Room for an inventory adjustment of 2,000 items and a batch of products; the rest of the
/// sandbox takes 64 KiB.
const BODY_LIMIT: usize = 1024 * 1024;

/// Everything the sandbox knows of BigCommerce.
pub struct BcWorld {
    /// Stores by hash.
    pub stores: BTreeMap<String, BcStore>,
    /// Registered apps by client id.
    pub apps: BTreeMap<String, BcApp>,
    /// Install codes not yet exchanged.
    pub codes: HashMap<String, InstallCode>,
    /// The factor on the hook retry schedule (1.0: BigCommerce's; 0.0: at once).
    pub retry_scale: f64,
}

impl Default for BcWorld {
    fn default() -> Self {
        Self {
            stores: BTreeMap::new(),
            apps: BTreeMap::new(),
            codes: HashMap::new(),
            retry_scale: 1.0,
        }
    }
}

pub fn router(sandbox: Sandbox) -> Router<Sandbox> {
    let api = Router::new()
        .route(
            "/v3/catalog/products",
            get(catalog::list_products)
                .post(catalog::create_product)
                .put(catalog::update_products),
        )
        .route("/v3/catalog/variants", put(catalog::update_variants))
        .route(
            "/v3/catalog/products/{id}",
            get(catalog::get_product)
                .put(catalog::update_product)
                .delete(catalog::delete_product),
        )
        .route(
            "/v3/catalog/products/{id}/variants",
            get(catalog::list_variants).post(catalog::create_variant),
        )
        .route(
            "/v3/catalog/products/{id}/variants/{variant_id}",
            get(catalog::get_variant).put(catalog::update_variant),
        )
        .route("/v3/catalog/categories", get(catalog::list_categories))
        .route(
            "/v3/catalog/trees/categories",
            get(catalog::list_categories),
        )
        .route("/v3/catalog/brands", get(catalog::list_brands))
        .route(
            "/v3/inventory/adjustments/absolute",
            put(catalog::absolute_adjustments),
        )
        .route(
            "/v2/orders",
            get(orders::list_orders).post(orders::create_order),
        )
        .route(
            "/v2/orders/{id}",
            get(orders::get_order).put(orders::update_order),
        )
        .route("/v2/orders/{id}/products", get(orders::list_order_products))
        .route(
            "/v2/orders/{id}/shipping_addresses",
            get(orders::list_shipping_addresses),
        )
        .route(
            "/v2/orders/{id}/shipments",
            get(orders::list_shipments).post(orders::create_shipment),
        )
        .route(
            "/v3/orders/{id}/payment_actions/refunds",
            get(orders::list_refunds).post(orders::create_refund),
        )
        .route("/v3/hooks", get(hooks::list_hooks).post(hooks::create_hook))
        .route(
            "/v3/hooks/{id}",
            get(hooks::get_hook)
                .put(hooks::update_hook)
                .delete(hooks::delete_hook),
        )
        .route_layer(from_fn_with_state(sandbox, api_gate))
        .fallback(no_route);
    Router::new()
        .nest("/bc/stores/{store_hash}", api)
        .route("/bc/login/oauth2/token", post(app::token))
        .merge(panel::router())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
}

async fn no_route() -> BcError {
    BcError::v3(StatusCode::NOT_FOUND, "The route is not found.")
}

/// An error as BigCommerce answers it: v3 `{status, title, type, errors}`, v2
/// `[{status, message}]`.
#[derive(Debug, Clone)]
pub struct BcError {
    pub status: StatusCode,
    pub v2: bool,
    pub title: String,
    pub errors: BTreeMap<String, String>,
}

impl BcError {
    pub fn v3(status: StatusCode, title: impl Into<String>) -> Self {
        Self {
            status,
            v2: false,
            title: title.into(),
            errors: BTreeMap::new(),
        }
    }

    pub fn v2(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            v2: true,
            ..Self::v3(status, message)
        }
    }

    /// A 422 naming the field at fault.
    pub fn field(v2: bool, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut error = Self::v3(
            if v2 {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            },
            format!("{field}: {message}"),
        );
        error.v2 = v2;
        error.errors.insert(field.to_owned(), message);
        error
    }

    pub fn not_found(v2: bool, what: &str) -> Self {
        let mut error = Self::v3(
            StatusCode::NOT_FOUND,
            format!("The requested {what} was not found."),
        );
        error.v2 = v2;
        error
    }
}

impl IntoResponse for BcError {
    fn into_response(self) -> Response {
        let body = if self.v2 {
            json!([{ "status": self.status.as_u16(), "message": self.title }])
        } else {
            json!({
                "status": self.status.as_u16(),
                "title": self.title,
                "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
                "errors": self.errors,
            })
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// A JSON request body: an object (or, where `array` says so, an array), without NUL
/// characters anywhere (no BigCommerce field holds one).
pub fn json_body(body: &Bytes, v2: bool) -> Result<Value, BcError> {
    let bad = |message: &str| {
        let mut error = BcError::v3(StatusCode::BAD_REQUEST, message);
        error.v2 = v2;
        error
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("The request body is empty; JSON is expected."));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|_| bad("The request body is not valid JSON."))?;
    if holds_nul(&value) {
        return Err(BcError::field(
            v2,
            "body",
            "Text may not contain NUL characters.",
        ));
    }
    Ok(value)
}

fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || holds_nul(value)),
        _ => false,
    }
}

/// The query string's pairs, in order.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub fn query_value<'q>(pairs: &'q [(String, String)], name: &str) -> Option<&'q str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// `page` (from 1) and `limit` (default 50, at most 250).
pub fn paging(pairs: &[(String, String)], v2: bool) -> Result<(usize, usize), BcError> {
    let number = |name: &str, default: usize| match query_value(pairs, name) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| BcError::field(v2, name, "must be a whole number of 1 or more")),
    };
    Ok((number("page", 1)?, number("limit", 50)?.min(250)))
}

/// A path id: digits only, else no such resource.
pub fn parse_id(raw: &str, v2: bool, what: &str) -> Result<i64, BcError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && raw.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| BcError::not_found(v2, what))
}

/// In front of every store API route: counts the call, finds the store (404), checks
/// `X-Auth-Token` (401), charges the store's rate limit (429) and draws the call's connection
/// fault (`gate`); every answer carries the rate-limit headers.
async fn api_gate(
    State(sandbox): State<Sandbox>,
    fault: FaultSlot,
    request: Request,
    next: Next,
) -> Response {
    let path = request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(
            || request.uri().path().to_owned(),
            |uri| uri.0.path().to_owned(),
        );
    let Some((hash, rest)) = path
        .strip_prefix("/bc/stores/")
        .and_then(|tail| tail.split_once('/'))
    else {
        return no_route().await.into_response();
    };
    let v2 = rest.starts_with("v2/");
    let refuse = |status: StatusCode, message: &str| {
        let mut error = BcError::v3(status, message);
        error.v2 = v2;
        error.into_response()
    };
    let token = request
        .headers()
        .get("x-auth-token")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (rate, drawn) = {
        let mut world = sandbox.world();
        world.count_call("bc.rest");
        let counter = format!("bc.rest.{}", resource(rest));
        world.count_call(&counter);
        let method_counter = format!("{} {counter}", request.method());
        let scale = world.gate.scale();
        let Some(store) = world.bc.stores.get_mut(hash) else {
            return refuse(StatusCode::NOT_FOUND, "Store not found.");
        };
        if token.is_empty() || !store.tokens.contains_key(&token) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "Missing or invalid X-Auth-Token header.",
            );
        }
        let rate = store.rate.admit(scale, Instant::now());
        if rate.refused {
            world.count_call("bc.rate_limited");
            let mut response = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "You have exceeded the rate limit of this store; wait for X-Rate-Limit-Time-Reset-Ms.",
            );
            rate.write(response.headers_mut());
            return response;
        }
        let drawn = if world.planned_lost_answer(&[&method_counter, &counter]) {
            Some(ConnectionFault::LostAnswer)
        } else {
            world.gate.connection_fault()
        };
        (rate, drawn)
    };
    if let Some(drawn) = drawn {
        fault.set(drawn);
        if drawn == ConnectionFault::Timeout {
            // Not applied; `gate::connection_faults` holds the connection and never answers.
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
    }
    let mut response = next.run(request).await;
    rate.write(response.headers_mut());
    response
}

/// What a call is counted under: `products`, `variants`, `orders`, `shipments`, `refunds`, `hooks`, …
fn resource(rest: &str) -> &str {
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["v3", "catalog", "products", _, "variants", ..] | ["v3", "catalog", "variants", ..] => {
            "variants"
        }
        ["v3", "catalog", "trees", ..] => "categories",
        ["v3", "catalog", kind, ..] => kind,
        ["v3", "inventory", ..] => "inventory",
        ["v2", "orders", _, sub, ..] => match *sub {
            "products" => "order_products",
            "shipping_addresses" => "shipping_addresses",
            "shipments" => "shipments",
            _ => "orders",
        },
        ["v2", "orders", ..] => "orders",
        ["v3", "hooks", ..] => "hooks",
        ["v3", "orders", _, "payment_actions", ..] => "refunds",
        _ => "other",
    }
}

impl Sandbox {
    /// Locks the state, runs `write` on one store (with its API base URL), then queues the
    /// hook deliveries its events fire: the one way every write path reaches a store.
    pub(crate) fn bc_write<R>(
        &self,
        hash: &str,
        v2: bool,
        write: impl FnOnce(&mut BcStore, &str) -> Result<R, BcError>,
    ) -> Result<R, BcError> {
        let mut world = self.world();
        let api = world.url(&format!("/bc/stores/{hash}"));
        let result = match world.bc.stores.get_mut(hash) {
            Some(store) => write(store, &api),
            None => Err(BcError::not_found(v2, "store")),
        };
        self.bc_hooks.flush(&mut world);
        result
    }

    /// Runs `read` on one store (with its API base URL).
    pub(crate) fn bc_read<R>(
        &self,
        hash: &str,
        v2: bool,
        read: impl FnOnce(&BcStore, &str) -> Result<R, BcError>,
    ) -> Result<R, BcError> {
        let world = self.world();
        let api = world.url(&format!("/bc/stores/{hash}"));
        match world.bc.stores.get(hash) {
            Some(store) => read(store, &api),
            None => Err(BcError::not_found(v2, "store")),
        }
    }
}
