//! `/readyz`: whether this process can do its work now, for a load balancer or an
//! orchestrator. `/healthz` only says the database answers; this also says the database holds
//! every migration of this release, so a node is not sent traffic before `migrate` has run.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// 200 `ready`, or 503 with what is wrong (never the database's own error text: it is logged).
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.storage().schema_state().await {
        Ok(schema) => match schema.problem() {
            None => (StatusCode::OK, "ready").into_response(),
            Some(problem) => {
                tracing::warn!(%problem, "readiness check: the schema is not this release's");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("not ready: {problem}"),
                )
                    .into_response()
            }
        },
        Err(e) => {
            tracing::error!(error = ?e, "readiness check: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database does not answer",
            )
                .into_response()
        }
    }
}
