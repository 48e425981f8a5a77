//! The emulated WooCommerce stores under `/woo/{store}` (real: the seller's WordPress site).
//! A client written for real WooCommerce works with `{public_url}/woo/{store}` as the store URL:
//! - `wp-json/wc/v3/…`: products (simple, variable), variations, orders, webhooks, each with
//!   list/read/create/update/delete and batch, and product categories and tags (`terms`), all
//!   served by one set of handlers (`resource`); an order's notes (`notes`) and refunds
//!   (`refunds`); every call authenticated as core does (`auth`), and open to the connection
//!   faults a test injects (`gate`);
//! - `wc-auth/v1/authorize`: the app authorization with the admin's login (`wc_auth`);
//! - `images/{n}.png`: the catalog's pictures.
//!
//! Webhooks fire for every change made through REST or the control API (`delivery`).
//!
//! Choices where core's behaviour is unknown or unfit for local use (each marked ASSUMPTION
//! where it is made): sites run on UTC; key/secret authentication is accepted over plain HTTP;
//! http callback and delivery URLs (127.0.0.1 included) are accepted; a variation's change also
//! bumps its parent's `date_modified` (so a `modified_after` poll of products sees it) while
//! the webhook fires `product.updated` for the variation itself, with the variation's id and
//! product-shaped body, as core does.

pub mod auth;
pub mod control;
pub mod delivery;
pub mod model;
pub mod notes;
pub mod orders;
pub mod products;
pub mod refunds;
pub mod resource;
pub mod rest;
pub mod seed;
pub mod terms;
pub mod views;
pub mod wc_auth;
pub mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

use crate::Sandbox;
use crate::woo::model::WooStore;
use crate::woo::rest::RestError;
use crate::world::World;

/// The WooCommerce version the sandbox claims (orders' `version`, the webhook user agent).
pub const WC_VERSION: &str = "9.8.5";
/// Core's webhook and ping user agent: `WooCommerce/{version} Hookshot (WordPress/{version})`.
pub const USER_AGENT: &str = "WooCommerce/9.8.5 Hookshot (WordPress/6.8.1)";
/// How long a delivery may take before it counts as failed. Core allows a minute; the sandbox
/// gives up sooner so a dead endpoint does not hold the queue.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// PHP's default `post_max_size` is 8 MiB; batches of 100 products need more than the 64 KiB
/// the other sandbox routes accept.
const BODY_LIMIT: usize = 8 * 1024 * 1024;
/// The global product attributes (`pa_color`, `pa_size`) every store has.
pub const GLOBAL_ATTRIBUTES: [(i64, &str); 2] = [(1, "Color"), (2, "Size")];

pub fn router(sandbox: Sandbox) -> Router<Sandbox> {
    let rest = Router::new()
        .merge(resource::routes::<products::Products>())
        .merge(terms::routes::<terms::Categories>())
        .merge(terms::routes::<terms::Tags>())
        .merge(resource::routes::<products::Variations>())
        .merge(resource::routes::<orders::Orders>())
        .merge(notes::routes())
        .merge(refunds::routes())
        .merge(resource::routes::<webhooks::Webhooks>())
        .route_layer(from_fn_with_state(sandbox, auth::rest_auth))
        .method_not_allowed_fallback(no_route);
    let site = Router::new()
        .nest("/wp-json/wc/v3", rest)
        .route("/wp-json/{*route}", axum::routing::any(no_route))
        .route("/wp-json", get(index))
        .route("/wp-json/", get(index))
        .route("/", get(home))
        .route("/images/{file}", get(image))
        .route("/wc-auth/v1/authorize", get(wc_auth::authorize))
        .route(
            "/wc-auth/v1/login",
            get(wc_auth::show_login).post(wc_auth::submit_login),
        )
        .route("/wc-auth/v1/access_granted", post(wc_auth::access_granted));
    Router::new()
        .nest("/woo/{store}", site)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
}

async fn no_route() -> RestError {
    RestError::no_route()
}

/// The store code of a `/woo/{store}/…` path.
pub fn store_code(path: &str) -> Option<&str> {
    path.strip_prefix("/woo/")?
        .split('/')
        .next()
        .filter(|code| !code.is_empty())
}

/// In front of the whole sandbox: a `/woo/{store}` request for a store that does not exist
/// gets 404, and every request to a store that is down gets 503, as a dead host would.
pub async fn guard(State(sandbox): State<Sandbox>, request: Request, next: Next) -> Response {
    let Some(code) = store_code(request.uri().path()) else {
        return next.run(request).await;
    };
    let state = sandbox.world().woo.get(code).map(|store| store.down);
    match state {
        None => crate::page::error(
            StatusCode::NOT_FOUND,
            "No such store",
            &format!(
                "There is no WooCommerce store '{code}' on this sandbox. Create it with POST /sandbox/api/woo/stores."
            ),
        ),
        Some(true) => {
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::response::Html(
                    "<!doctype html><html><head><title>503 Service Unavailable</title></head>\
                     <body><h1>Service Unavailable</h1><p>The server is temporarily unable to \
                     service your request.</p></body></html>",
                ),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            response
        }
        Some(false) => next.run(request).await,
    }
}

/// A path id: WordPress routes match `(?P<id>[\d]+)`, so anything else is no route at all.
pub fn parse_id(raw: &str) -> Result<i64, RestError> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RestError::no_route());
    }
    raw.parse().map_err(|_| RestError::no_route())
}

/// A store and its URL, for reading.
pub fn store<'w>(world: &'w World, code: &str) -> Result<(&'w WooStore, String), RestError> {
    let store = world.woo.get(code).ok_or_else(RestError::no_route)?;
    let url = store.url(&world.public_url);
    Ok((store, url))
}

/// WordPress's REST index, trimmed to what clients read when they check a store URL.
async fn index(State(sandbox): State<Sandbox>, Path(code): Path<String>) -> Response {
    let world = sandbox.world();
    let Ok((store, url)) = store(&world, &code) else {
        return RestError::no_route().into_response();
    };
    axum::Json(json!({
        "name": store.name,
        "description": "Just another WooCommerce store",
        "url": url,
        "home": url,
        "gmt_offset": "0",
        "timezone_string": "UTC",
        "namespaces": ["wp/v2", "wc/v1", "wc/v2", "wc/v3", "wc-auth/v1"],
        "authentication": [],
        "routes": {},
    }))
    .into_response()
}

async fn home(State(sandbox): State<Sandbox>, Path(code): Path<String>) -> Response {
    let name = sandbox
        .world()
        .woo
        .get(&code)
        .map(|store| store.name.clone())
        .unwrap_or_default();
    wc_auth::message_page(
        StatusCode::OK,
        &name,
        &name,
        "Just another WooCommerce store, emulated by the Marketbridge sandbox.",
    )
}

/// A 1×1 PNG, the picture of every catalog image.
const PNG: [u8; 69] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xa8, 0x8f, 0xba, 0x06,
    0x00, 0x03, 0x0b, 0x01, 0xb0, 0xca, 0x86, 0x4b, 0x56, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn image(Path((_, file)): Path<(String, String)>) -> Response {
    let is_png = file
        .strip_suffix(".png")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !is_png {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        PNG.to_vec(),
    )
        .into_response()
}

impl Sandbox {
    /// Locks the state, runs `write` on one store (with its URL), then queues the webhook
    /// deliveries the changes fire: the one way every write path reaches a store.
    pub(crate) fn woo_write<R>(
        &self,
        code: &str,
        write: impl FnOnce(&mut WooStore, &str) -> Result<R, RestError>,
    ) -> Result<R, RestError> {
        let mut world = self.world();
        let public_url = world.public_url.clone();
        let result = match world.woo.get_mut(code) {
            Some(store) => {
                let url = store.url(&public_url);
                write(store, &url)
            }
            None => Err(RestError::no_route()),
        };
        self.deliveries.flush(&mut world);
        result
    }
}
