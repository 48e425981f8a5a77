//! The marketplace seller API of each emulated Mirakl instance, under `/mmp/{instance}/api`
//! (real: `https://{instance}.mirakl.net/api`): A01 (the shop account), V01 (version), the
//! offers (`offers`, `offer_imports`: OF01, OF04, OF21, OF24, OF61) and the products
//! (`products`: H11, PM11, VL11, P41) against the operator's catalog (`catalog`), the
//! imports both kinds share (`imports`: OF02, OF03, P42, P44), and the orders (`orders`: OR11
//! and the workflow; `order_actions`: OR21, OR23, OR24, OR28, OR29; `carriers`: SH21).
//!
//! A call is authorized by the raw shop API key in `Authorization` (Mirakl's documented scheme)
//! or, as an ASSUMPTION (practitioner code only), by `Authorization: Bearer <MAS access token>`
//! whose grant names this instance. Every call but A01 and V01 then passes the shop's call
//! budget and the injected faults (`gate`).

pub mod carriers;
pub mod catalog;
pub mod control;
pub mod imports;
pub mod offer_imports;
pub mod offers;
pub mod order_actions;
pub mod order_control;
pub mod orders;
pub mod products;
pub mod sheet;

use std::collections::HashMap;
use std::time::SystemTime;

use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};
use tower_http::limit::RequestBodyLimitLayer;

use crate::Sandbox;
use crate::gate::{FaultSlot, Operation, Refusal};
use crate::marketplace::offer_imports::OfferLines;
use crate::marketplace::products::ProductLines;
use crate::world::{Marketplace, Store, World, unix_seconds};

/// Offer and product files and OF24 bodies run to megabytes (a shop's whole catalog), far past
/// the 64 KiB of the sandbox's forms.
pub const API_BODY_LIMIT: usize = 32 * 1024 * 1024;

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/{instance}/api/account", get(account))
        .route("/{instance}/api/version", get(version))
        .route(
            "/{instance}/api/offers",
            get(offers::list).post(offers::upsert),
        )
        .route("/{instance}/api/offers/states", get(offers::states))
        .route(
            "/{instance}/api/offers/imports",
            get(offer_imports::list).post(offer_imports::create),
        )
        .route(
            "/{instance}/api/offers/imports/{import}",
            get(imports::status::<OfferLines>),
        )
        .route(
            "/{instance}/api/offers/imports/{import}/error_report",
            get(imports::error_report::<OfferLines>),
        )
        .route("/{instance}/api/hierarchies", get(products::hierarchies))
        .route(
            "/{instance}/api/products/attributes",
            get(products::attributes),
        )
        .route(
            "/{instance}/api/values_lists",
            get(products::values_lists_handler),
        )
        .route(
            "/{instance}/api/products/imports",
            post(products::create_import),
        )
        .route(
            "/{instance}/api/products/imports/{import}",
            get(imports::status::<ProductLines>),
        )
        .route(
            "/{instance}/api/products/imports/{import}/error_report",
            get(imports::error_report::<ProductLines>),
        )
        .route("/{instance}/api/orders", get(orders::list))
        .route("/{instance}/api/orders/refund", put(order_actions::refund))
        .route(
            "/{instance}/api/orders/{order_id}/accept",
            put(order_actions::accept),
        )
        .route(
            "/{instance}/api/orders/{order_id}/tracking",
            put(order_actions::tracking),
        )
        .route(
            "/{instance}/api/orders/{order_id}/ship",
            put(order_actions::ship),
        )
        .route(
            "/{instance}/api/orders/{order_id}/cancel",
            put(order_actions::cancel),
        )
        .route("/{instance}/api/shipments", post(order_actions::shipments))
        .route("/{instance}/api/shipping/carriers", get(carriers::list))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(API_BODY_LIMIT))
}

/// Mirakl's error body, `{"message": …, "status": …}`, with `Retry-After` on a 429.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let status = match refusal.retry_after() {
            Some(_) => StatusCode::TOO_MANY_REQUESTS,
            None => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self {
            status,
            message: refusal.message(),
            retry_after: refusal.retry_after(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "message": self.message, "status": self.status.as_u16() });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Offset pagination as OF21 and OR11 read it: `offset`, `max` (default 10), `paginate`
/// (`false` answers everything) and `order` (`asc`, the default, or `desc`).
///
/// ASSUMPTION: a `max` above 100 is served as 100 (the ceiling practitioners cite).
#[derive(Debug, Clone, Copy)]
pub struct OffsetPaging {
    offset: usize,
    max: usize,
    paginate: bool,
    descending: bool,
}

impl OffsetPaging {
    pub fn from_query(query: &HashMap<String, String>) -> Result<Self, ApiError> {
        let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
        let number = |name: &str, default: usize| match query.get(name) {
            None => Ok(default),
            Some(raw) => raw.parse::<usize>().map_err(|_| {
                bad(format!(
                    "{name} must be a whole number of 0 or more, got '{raw}'."
                ))
            }),
        };
        let descending = match query.get("order").map(String::as_str) {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(bad(format!("order must be asc or desc, got '{other}'.")));
            }
        };
        Ok(Self {
            offset: number("offset", 0)?,
            max: number("max", 10)?.clamp(1, 100),
            paginate: query.get("paginate").is_none_or(|raw| raw != "false"),
            descending,
        })
    }

    /// The page of `items`, which come sorted ascending.
    pub fn page<T>(self, mut items: Vec<T>) -> Vec<T> {
        if self.descending {
            items.reverse();
        }
        if self.paginate {
            items.into_iter().skip(self.offset).take(self.max).collect()
        } else {
            items
        }
    }
}

/// What every seller API call names: the instance (and, for an import, the import) in its
/// path, the query (`shop_id`, …) and the headers (the credential). Read as a handler's `Path`
/// and `Query` would be, in that order, refused as they would refuse.
pub struct ApiCall {
    pub instance: String,
    /// The path's other parameters, e.g. `import`.
    pub path: HashMap<String, String>,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    /// Where `admit` leaves the connection fault the call drew.
    pub fault: FaultSlot,
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCall {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Path(mut path) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            instance: path.remove("instance").unwrap_or_default(),
            path,
            query,
            headers: parts.headers.clone(),
            fault: parts
                .extensions
                .get::<FaultSlot>()
                .cloned()
                .unwrap_or_default(),
        })
    }
}

impl ApiCall {
    /// Counts the call and finds the shop its credential acts for.
    pub fn open(&self, world: &mut World, operation: Operation) -> Result<i64, ApiError> {
        world.count_call(operation.counter());
        self.shop(world).map(|store| store.shop_id)
    }

    /// Charges the call to its shop's budget, or turns it away (budget spent, injected fault).
    pub fn admit(
        &self,
        world: &mut World,
        shop_id: i64,
        operation: Operation,
    ) -> Result<(), ApiError> {
        world
            .admit(
                &format!("{}/{shop_id}", self.instance),
                operation,
                &self.fault,
            )
            .map_err(ApiError::from)
    }

    /// `open` then `admit`: the front door of every budgeted endpoint.
    pub fn serve(&self, world: &mut World, operation: Operation) -> Result<i64, ApiError> {
        let shop_id = self.open(world, operation)?;
        self.admit(world, shop_id, operation)?;
        Ok(shop_id)
    }

    /// The import the path names (OF02, OF03, P42, P44), as sent.
    pub fn import(&self) -> &str {
        self.path.get("import").map_or("", String::as_str)
    }

    /// The order the path names (OR21, OR23, OR24, OR29), as sent.
    pub fn order_id(&self) -> &str {
        self.path.get("order_id").map_or("", String::as_str)
    }

    pub fn marketplace<'w>(&self, world: &'w mut World) -> Result<&'w mut Marketplace, ApiError> {
        world
            .marketplaces
            .get_mut(&self.instance)
            .ok_or_else(|| unknown_instance(&self.instance))
    }

    /// The store the call acts for: `shop_id` when the credential opens it, else the
    /// credential's default store.
    fn shop<'w>(&self, world: &'w World) -> Result<&'w Store, ApiError> {
        let instance = self.instance.as_str();
        let marketplace = world
            .marketplaces
            .get(instance)
            .ok_or_else(|| unknown_instance(instance))?;
        let access = authorize(world, instance, &self.headers)?;
        let shop_id = match self.query.get("shop_id") {
            None => access.shop_ids.first().copied().ok_or_else(|| {
                ApiError::new(StatusCode::FORBIDDEN, "This credential opens no store.")
            })?,
            Some(raw) => {
                let shop_id: i64 = raw.parse().map_err(|_| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!("shop_id must be an integer, got '{raw}'."),
                    )
                })?;
                if !access.shop_ids.contains(&shop_id) {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        format!("This credential does not give access to shop {shop_id}."),
                    ));
                }
                shop_id
            }
        };
        marketplace.stores.get(&shop_id).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("Shop {shop_id} does not exist."),
            )
        })
    }
}

impl Marketplace {
    /// Completes every import in progress: products first, so the offers that name them find
    /// them.
    pub fn settle(&mut self) {
        self.settle_imports::<ProductLines>();
        self.settle_imports::<OfferLines>();
    }
}

/// The stores a credential opens on one instance; the first is the default store.
struct Access {
    shop_ids: Vec<i64>,
}

async fn account(State(sandbox): State<Sandbox>, call: ApiCall) -> Result<Json<Value>, ApiError> {
    let mut world = sandbox.world();
    world.count_call("mmp.a01");
    call.shop(&world).map(|store| Json(a01_body(store)))
}

async fn version(State(sandbox): State<Sandbox>, Path(instance): Path<String>) -> Response {
    let mut world = sandbox.world();
    world.count_call("mmp.version");
    if !world.marketplaces.contains_key(&instance) {
        return unknown_instance(&instance).into_response();
    }
    Json(json!({ "version": "3.240.0-sandbox" })).into_response()
}

fn authorize(world: &World, instance: &str, headers: &HeaderMap) -> Result<Access, ApiError> {
    let unauthorized = |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, message);
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            unauthorized(
                "Authentication is required: send your shop API key in the Authorization header.",
            )
        })?;

    let bearer = credential
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    if let Some(token) = bearer {
        let now = unix_seconds(SystemTime::now());
        let claims = world
            .signer
            .verify(token, now)
            .map_err(|error| unauthorized(&format!("Invalid access token: {error}.")))?;
        if !world.grants.is_live(&claims.jti) {
            return Err(unauthorized("Invalid access token: it was revoked."));
        }
        if claims.mirakl_instance.as_deref() != Some(instance) {
            return Err(unauthorized(
                "Invalid access token: it was not granted for this marketplace.",
            ));
        }
        return Ok(Access {
            shop_ids: claims.mirakl_shop_ids,
        });
    }

    match world.shop_api_keys.get(credential) {
        Some(key) if key.instance == instance => Ok(Access {
            shop_ids: vec![key.shop_id],
        }),
        _ => Err(unauthorized("Invalid API key.")),
    }
}

fn unknown_instance(instance: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("No marketplace instance '{instance}' exists on this sandbox."),
    )
}

/// A01's answer: the fields the published schema requires, with the store's values.
fn a01_body(store: &Store) -> Value {
    json!({
        "shop_id": store.shop_id,
        "shop_name": store.name,
        "shop_state": store.state,
        "currency_iso_code": store.currency_iso_code,
        "channels": store.channels,
        "domains": ["PRODUCT"],
        "date_created": store.date_created,
        "last_updated_date": store.date_created,
        "is_professional": store.is_professional,
        "premium": false,
        "free_shipping": false,
        "offers_count": store.offers.len(),
        "orders_count": store.orders_count,
        "evaluations_count": 0,
        "model": "MARKETPLACE",
        "payment_method_mandatory": false,
        "contact_informations": store.contact,
        "billing_info": { "owner": format!("{} {}", store.contact.firstname, store.contact.lastname) },
        "default_billing_information": {
            // ASSUMPTION: Mirakl shows a UUID; the sandbox derives a stable one from the shop.
            "id": format!("00000000-0000-4000-8000-{:012}", store.shop_id),
            "default_language": "en_US",
            "registration_address": {
                "street_1": store.contact.street1,
                "zip_code": store.contact.zip_code,
                "city": store.contact.city,
                "country_iso_code": store.contact.country,
            },
        },
        "payment_details": {
            "paid_balance": 0,
            "payable_balance": 0,
            "pending_balance": 0,
            "reserve_balance": 0,
            "reserve_target": 0
        },
        "pro_details": { "corporate_name": store.name },
        "shipping": { "lead_time_to_ship": 2 },
        "shipping_types": ["STD"],
        "shipping_zones": [store.contact.country],
        "shop_additional_fields": []
    })
}
