//! The Mirakl Connect seller API under `/connect/api` (real: `https://miraklconnect.com/api`):
//! the catalog (`products`: upsert, list, delete), where a product carries its own prices and
//! stock, and the orders its channels bring (`orders`: the list and the workflow;
//! `order_actions`: accept, shipments, cancel, refund and the actions' status). Lists page by
//! seek tokens (`pages`); request bodies are checked against the published schema (`checks`).
//!
//! Every call carries `Authorization: Bearer <MAS access token>`, and the token's grant is the
//! seller: Connect has no parameter naming a company, so the token must (ASSUMPTION, inferred
//! from the spec; the sandbox puts the company in its `mirakl_company_id` claim). Errors have
//! Connect's body `{code, message, errors?[{field, message}]}`.

pub mod checks;
pub mod order_actions;
pub mod order_control;
pub mod orders;
pub mod pages;
pub mod products;

use std::time::SystemTime;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

use crate::Sandbox;
use crate::gate::{FaultSlot, Operation, Refusal};
use crate::marketplace::API_BODY_LIMIT;
use crate::world::{World, unix_seconds};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route(
            "/products",
            post(products::upsert)
                .get(products::list)
                .delete(products::delete),
        )
        .route("/v2/orders", get(orders::list))
        .route("/v2/orders/{order_id}/accept", put(order_actions::accept))
        .route("/v2/orders/{order_id}/shipments", post(order_actions::ship))
        .route("/v2/orders/{order_id}/cancel", post(order_actions::cancel))
        .route("/v2/orders/{order_id}/refund", post(order_actions::refund))
        .route("/v2/orders/actions/{action_id}", get(order_actions::status))
        .layer(axum::extract::DefaultBodyLimit::max(API_BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(API_BODY_LIMIT))
}

/// The control API's part for Connect: the catalogs, and the orders (`order_control`).
pub fn control_router() -> Router<Sandbox> {
    Router::new()
        .route(
            "/sandbox/api/connect/{company}/products",
            get(products::control_list),
        )
        .merge(order_control::router())
}

/// One problem with a request, at a JSONPath-like location.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Connect's error body.
#[derive(Debug)]
pub struct ConnectError {
    pub status: StatusCode,
    /// Connect's stable code: INVALID_INPUT, DATA_NOT_FOUND, TOO_MANY_REQUEST, UNEXPECTED; and
    /// UNAUTHORIZED for a 401 (ASSUMPTION: no 401 body is published).
    pub code: &'static str,
    pub message: String,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
}

impl ConnectError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Self {
            errors,
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "INVALID_INPUT",
                "The request is not valid; see errors for each field.",
            )
        }
    }

    /// INVALID_INPUT for one field.
    pub fn invalid_field(field: &str, message: &str) -> Self {
        Self::invalid(vec![FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        }])
    }

    fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }
}

impl From<Refusal> for ConnectError {
    fn from(refusal: Refusal) -> Self {
        let (status, code) = match refusal.retry_after() {
            Some(_) => (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUEST"),
            None => (StatusCode::INTERNAL_SERVER_ERROR, "UNEXPECTED"),
        };
        Self {
            retry_after: refusal.retry_after(),
            ..Self::new(status, code, refusal.message())
        }
    }
}

impl IntoResponse for ConnectError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code, "message": self.message });
        if !self.errors.is_empty() {
            body["errors"] = json!(self.errors);
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The company a Bearer token speaks for.
fn authorize(world: &World, headers: &HeaderMap) -> Result<String, ConnectError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ConnectError::unauthorized(
                "Authentication is required: send Authorization: Bearer <access token>.",
            )
        })?;
    let claims = world
        .signer
        .verify(token, unix_seconds(SystemTime::now()))
        .map_err(|error| ConnectError::unauthorized(&format!("Invalid access token: {error}.")))?;
    if !world.grants.is_live(&claims.jti) {
        return Err(ConnectError::unauthorized(
            "Invalid access token: it was revoked.",
        ));
    }
    claims
        .mirakl_company_id
        .filter(|company| world.companies.contains_key(company))
        .ok_or_else(|| {
            ConnectError::unauthorized(
                "Invalid access token: it was not granted for a Mirakl Connect company.",
            )
        })
}

/// What every Connect call carries: its credential, and the slot its connection fault goes in.
pub struct ConnectCall {
    pub headers: HeaderMap,
    pub fault: FaultSlot,
}

impl<S: Send + Sync> FromRequestParts<S> for ConnectCall {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            headers: parts.headers.clone(),
            fault: parts
                .extensions
                .get::<FaultSlot>()
                .cloned()
                .unwrap_or_default(),
        })
    }
}

impl ConnectCall {
    /// Counts the call, finds its company and charges the company's budget.
    pub fn serve(&self, world: &mut World, operation: Operation) -> Result<String, ConnectError> {
        self.serve_as(world, operation, "")
    }

    /// `serve` for a budget kept per company and `scope` (an action's status: per action).
    pub fn serve_as(
        &self,
        world: &mut World,
        operation: Operation,
        scope: &str,
    ) -> Result<String, ConnectError> {
        world.count_call(operation.counter());
        let company = authorize(world, &self.headers)?;
        world.admit(&format!("connect/{company}{scope}"), operation, &self.fault)?;
        Ok(company)
    }
}
