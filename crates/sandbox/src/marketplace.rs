//! The marketplace seller API of each emulated Mirakl instance, under `/mmp/{instance}/api`
//! (real: `https://{instance}.mirakl.net/api`): A01 (the shop account) and V01 (version).
//!
//! A call is authorized by the raw shop API key in `Authorization` (Mirakl's documented scheme)
//! or, as an ASSUMPTION (practitioner code only), by `Authorization: Bearer <MAS access token>`
//! whose grant names this instance.

use std::collections::HashMap;
use std::time::SystemTime;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::Sandbox;
use crate::world::{Store, World, unix_seconds};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/{instance}/api/account", get(account))
        .route("/{instance}/api/version", get(version))
}

/// Mirakl's error body, `{"message": …, "status": …}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "message": self.message, "status": self.status.as_u16() });
        (self.status, Json(body)).into_response()
    }
}

/// The stores a credential opens on one instance; the first is the default store.
struct Access {
    shop_ids: Vec<i64>,
}

async fn account(
    State(sandbox): State<Sandbox>,
    Path(instance): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut world = sandbox.world();
    world.count_call("mmp.a01");
    match shop_account(&world, &instance, &query, &headers) {
        Ok(store) => Json(a01_body(store)).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn version(State(sandbox): State<Sandbox>, Path(instance): Path<String>) -> Response {
    let mut world = sandbox.world();
    world.count_call("mmp.version");
    if !world.marketplaces.contains_key(&instance) {
        return unknown_instance(&instance).into_response();
    }
    Json(json!({ "version": "3.240.0-sandbox" })).into_response()
}

fn shop_account<'w>(
    world: &'w World,
    instance: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<&'w Store, ApiError> {
    let marketplace = world
        .marketplaces
        .get(instance)
        .ok_or_else(|| unknown_instance(instance))?;
    let access = authorize(world, instance, headers)?;
    let shop_id = match query.get("shop_id") {
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
fn a01_body(store: &Store) -> serde_json::Value {
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
        "offers_count": store.offers_count,
        "orders_count": store.orders_count,
        "evaluations_count": 0,
        "model": "MARKETPLACE",
        "payment_method_mandatory": false,
        "contact_informations": store.contact,
        "billing_info": { "owner": format!("{} {}", store.contact.firstname, store.contact.lastname) },
        "default_billing_information": { "default_language": "en_US" },
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
