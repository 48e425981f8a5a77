//! `/api/v1/channels`: the workspace's Mirakl channels with their state and health, and
//! **Sync now**.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::{ChannelId, ChannelStatus, TokenState};
use serde::{Deserialize, Serialize};
use storage::{Channel, now_ms};
use utoipa::ToSchema;

use super::Queued;
use super::auth::{ApiCaller, ApiWriter};
use super::page::{ApiQuery, cursor, cursor_key, limit, rfc3339};
use super::problem::{ApiError, Problem};
use crate::AppState;

const CURSOR_TAG: &str = "c";

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChannelOut {
    pub id: String,
    /// `mirakl_connect` or `marketplace`.
    pub kind: String,
    pub name: String,
    /// The marketplace's code (marketplace channels only).
    pub marketplace_code: Option<String>,
    /// `awaiting_authorization`, `awaiting_store_id`, `ready_to_launch`, `live` or
    /// `reauthorization_needed`.
    pub state: String,
    /// The state in the Account page's words.
    pub state_label: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub launched_at: Option<String>,
    pub health: ChannelHealthOut,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChannelHealthOut {
    /// `none`, `valid`, `expired` or `reauthorization_needed`: Marketbridge's Mirakl token.
    pub token: String,
    pub token_expires_at: Option<String>,
    /// The last renewal of the token that failed, if it failed.
    pub token_error: Option<String>,
    /// When a flow last reached the channel successfully.
    pub last_success_at: Option<String>,
    /// The last problem worth showing the seller.
    pub last_error: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChannelPage {
    pub items: Vec<ChannelOut>,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn channel_out(state: &AppState, c: Channel) -> Result<ChannelOut, ApiError> {
    let stored = state.storage().load_tokens(c.workspace_id, c.id).await?;
    let expires = stored.as_ref().map(|s| s.tokens.access_expires_at_ms);
    let token_error = stored.and_then(|s| s.last_refresh_error);
    let (token, token_expires_at) = match TokenState::of(c.status, expires, now_ms()) {
        TokenState::None => ("none", None),
        TokenState::Valid { expires_at_ms } => ("valid", Some(rfc3339(expires_at_ms))),
        TokenState::Expired => ("expired", None),
        TokenState::ReauthorizationNeeded => ("reauthorization_needed", None),
    };
    Ok(ChannelOut {
        id: c.id.to_string(),
        kind: c.kind.as_str().to_owned(),
        name: c.name,
        marketplace_code: c.marketplace_code,
        state: c.status.as_str().to_owned(),
        state_label: c.status.label().to_owned(),
        store_id: c.store_id.map(|s| s.get()),
        store_name: c.store_name,
        launched_at: c.launched_at_ms.map(rfc3339),
        health: ChannelHealthOut {
            token: token.to_owned(),
            token_expires_at,
            token_error,
            last_success_at: c.last_success_at_ms.map(rfc3339),
            last_error: c.last_error,
        },
    })
}

/// The channels, oldest first.
///
/// A workspace has a handful of channels: the page is cut from the whole list, in the order
/// storage gives it.
#[utoipa::path(
    get,
    path = "/api/v1/channels",
    tag = "channels",
    params(
        ("limit" = Option<u32>, Query, description = "Channels per page, 1 to 200 (default 50)."),
        ("cursor" = Option<String>, Query, description = "The previous page's next_cursor."),
    ),
    responses(
        (status = 200, description = "A page of channels", body = ChannelPage),
        (status = 400, description = "A query parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ChannelPage>, ApiError> {
    let limit = limit(query.limit)? as usize;
    let after: Option<ChannelId> = match query.cursor.as_deref() {
        Some(sent) => Some(
            cursor_key(CURSOR_TAG, sent)?
                .parse()
                .map_err(|_| ApiError::BadRequest("The cursor is not valid here.".to_owned()))?,
        ),
        None => None,
    };
    let channels = state.storage().list_channels(caller.workspace_id).await?;
    let start = match after {
        Some(id) => channels
            .iter()
            .position(|c| c.id == id)
            .map(|i| i + 1)
            .ok_or_else(|| ApiError::BadRequest("The cursor is not valid here.".to_owned()))?,
        None => 0,
    };
    let rest: Vec<Channel> = channels.into_iter().skip(start).collect();
    let next_cursor =
        (rest.len() > limit).then(|| cursor(CURSOR_TAG, &rest[limit - 1].id.to_string()));
    let mut items = Vec::new();
    for c in rest.into_iter().take(limit) {
        items.push(channel_out(&state, c).await?);
    }
    Ok(Json(ChannelPage { items, next_cursor }))
}

/// One channel.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{id}",
    tag = "channels",
    params(("id" = String, Path, description = "The channel's id")),
    responses(
        (status = 200, description = "The channel", body = ChannelOut),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such channel in the token's workspace", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<ChannelOut>, ApiError> {
    let channel = find(&state, caller, &id).await?;
    Ok(Json(channel_out(&state, channel).await?))
}

async fn find(state: &AppState, caller: ApiCaller, id: &str) -> Result<Channel, ApiError> {
    let id: ChannelId = id.parse().map_err(|_| ApiError::NotFound)?;
    state
        .storage()
        .get_channel(caller.workspace_id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Sync now: the Products page's **Sync now** for a live channel. The shop is read again in
/// full, and every change goes to the workspace's live channels, this one included.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{id}/sync",
    tag = "channels",
    params(("id" = String, Path, description = "The channel's id")),
    responses(
        (status = 202, description = "The sync is queued", body = Queued),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such channel in the token's workspace", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The channel is not live", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn sync_now(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let channel = find(&state, caller, &id).await?;
    if channel.status != ChannelStatus::Live {
        return Err(ApiError::Conflict(format!(
            "The channel is not live ({}): launch it first.",
            channel.status.label()
        )));
    }
    state
        .flows()
        .catalog
        .enqueue_read(caller.workspace_id, sync::CatalogRead::Full)
        .await?;
    tracing::info!(workspace = %caller.workspace_id, channel = %channel.id, "sync requested through the API");
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            status: "queued".to_owned(),
            detail: "The shop is read again, and every change goes to your live channels."
                .to_owned(),
        }),
    ))
}
