//! The JSON API under `/api/v1`, for sellers' own tools and integrators: bearer tokens only
//! (never the session cookie), `application/problem+json` errors, cursor pagination, and an
//! OpenAPI 3.1 document generated from these handlers, served with a docs page. It reads and
//! acts through the same storage queries and flows as the pages; no SQL here.

mod auth;
mod channels;
mod docs;
mod orders;
mod page;
pub mod problem;
mod products;
mod sync_runs;
pub mod token;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use problem::{ApiError, Problem};

/// The largest request body the API takes. No route reads a body today: anything larger is
/// refused before a handler runs.
const MAX_API_BODY_BYTES: usize = 16 * 1024;

/// What an action answers: it is queued, and what happens next.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Queued {
    /// Always `queued`.
    pub status: String,
    pub detail: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Marketbridge API",
        version = "1.0.0",
        description = "Your channels, products, orders and sync runs, and the actions of the pages: sync now, accept, refuse and retry an order. Authenticate with a token from the Account page: `Authorization: Bearer mb_…`. Lists are paged with `limit` (1 to 200) and the opaque `next_cursor`. Errors are `application/problem+json` (RFC 9457)."
    ),
    paths(
        channels::list,
        channels::get_one,
        channels::sync_now,
        products::list,
        orders::list,
        orders::get_one,
        orders::accept,
        orders::refuse,
        orders::retry,
        sync_runs::list,
    ),
    components(schemas(Problem, Queued)),
    modifiers(&BearerToken),
    tags(
        (name = "channels", description = "Mirakl Connect and the marketplace stores"),
        (name = "products", description = "The catalog and its state on each channel"),
        (name = "orders", description = "Mirakl orders, their steps and timeline"),
        (name = "sync runs", description = "Each pass of a flow"),
    )
)]
pub struct ApiDoc;

struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "token",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

/// The document as served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(openapi())
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound
}

/// The API's routes, to be merged at the root of the application.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/docs", get(docs::show))
        .route("/api/v1/channels", get(channels::list))
        .route("/api/v1/channels/{id}", get(channels::get_one))
        .route("/api/v1/channels/{id}/sync", post(channels::sync_now))
        .route("/api/v1/products", get(products::list))
        .route("/api/v1/orders", get(orders::list))
        .route("/api/v1/orders/{id}", get(orders::get_one))
        .route("/api/v1/orders/{id}/accept", post(orders::accept))
        .route("/api/v1/orders/{id}/refuse", post(orders::refuse))
        .route("/api/v1/orders/{id}/retry", post(orders::retry))
        .route("/api/v1/sync-runs", get(sync_runs::list))
        .route("/api/v1", get(unknown_route))
        .route("/api/v1/{*rest}", axum::routing::any(unknown_route))
        .layer(axum::middleware::from_fn(problem::every_error_is_a_problem))
        .layer(DefaultBodyLimit::max(MAX_API_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_API_BODY_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_every_route() {
        let doc = serde_json::to_value(openapi()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/api/v1/channels",
            "/api/v1/channels/{id}",
            "/api/v1/channels/{id}/sync",
            "/api/v1/products",
            "/api/v1/orders",
            "/api/v1/orders/{id}",
            "/api/v1/orders/{id}/accept",
            "/api/v1/orders/{id}/refuse",
            "/api/v1/orders/{id}/retry",
            "/api/v1/sync-runs",
        ] {
            assert!(paths.contains_key(path), "{path} missing");
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["token"]["scheme"],
            "bearer"
        );
    }
}
