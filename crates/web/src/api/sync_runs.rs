//! `/api/v1/sync-runs`: each pass of a flow (catalog read, export, order import, …) with its
//! counts and outcome, newest first.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiCaller;
use super::page::{ApiQuery, cursor, limit, rfc3339, time_and_id};
use super::problem::{ApiError, Problem};
use crate::AppState;

const CURSOR_TAG: &str = "r";

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SyncRunOut {
    pub id: String,
    /// `null` for a flow of the whole workspace (reading the shop).
    pub channel_id: Option<String>,
    /// e.g. `catalog_read`, `catalog_export`, `order_import`.
    pub flow: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// The run's counts, by name (empty while it runs).
    #[schema(value_type = Object)]
    pub counts: serde_json::Value,
    /// What went wrong, or anything worth telling the seller.
    pub message: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SyncRunPage {
    pub items: Vec<SyncRunOut>,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The sync runs, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/sync-runs",
    tag = "sync runs",
    params(
        ("limit" = Option<u32>, Query, description = "Runs per page, 1 to 200 (default 50)."),
        ("cursor" = Option<String>, Query, description = "The previous page's next_cursor."),
    ),
    responses(
        (status = 200, description = "A page of sync runs", body = SyncRunPage),
        (status = 400, description = "A query parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<SyncRunPage>, ApiError> {
    let limit = limit(query.limit)?;
    let before = query
        .cursor
        .as_deref()
        .map(|c| time_and_id(CURSOR_TAG, c))
        .transpose()?;
    let mut runs = state
        .storage()
        .sync_runs_page(caller.workspace_id, before, limit + 1)
        .await?;
    let next_cursor = (runs.len() as i64 > limit).then(|| {
        runs.truncate(limit as usize);
        let last = &runs[runs.len() - 1];
        cursor(CURSOR_TAG, &format!("{}_{}", last.started_at_ms, last.id))
    });
    let items = runs
        .into_iter()
        .map(|r| SyncRunOut {
            id: r.id.to_string(),
            channel_id: r.channel_id.map(|c| c.to_string()),
            flow: r.flow,
            status: r.status.as_str().to_owned(),
            started_at: rfc3339(r.started_at_ms),
            finished_at: r.finished_at_ms.map(rfc3339),
            // Stored by the flows as a JSON object; anything else reads as no counts.
            counts: serde_json::from_str::<serde_json::Value>(&r.counts)
                .ok()
                .filter(serde_json::Value::is_object)
                .unwrap_or_else(|| serde_json::json!({})),
            message: r.message,
        })
        .collect();
    Ok(Json(SyncRunPage { items, next_cursor }))
}
