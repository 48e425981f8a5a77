//! `/api/v1/products`: the Products page as JSON — each catalog item with its state on each
//! channel and Mirakl's message, filtered as the page filters.

use axum::Json;
use axum::extract::State;
use domain::{ChannelId, ItemState};
use serde::{Deserialize, Serialize};
use storage::ProductsFilter;
use utoipa::ToSchema;

use super::auth::ApiCaller;
use super::page::{ApiQuery, cursor, cursor_key, limit};
use super::problem::{ApiError, Problem};
use crate::AppState;

const CURSOR_TAG: &str = "p";

/// Where an item stands on a channel.
#[derive(Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductState {
    Waiting,
    Sent,
    Live,
    Error,
    Removed,
}

impl From<ItemState> for ProductState {
    fn from(state: ItemState) -> Self {
        match state {
            ItemState::Waiting => Self::Waiting,
            ItemState::Sent => Self::Sent,
            ItemState::Live => Self::Live,
            ItemState::Error => Self::Error,
            ItemState::Removed => Self::Removed,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProductChannelState {
    pub channel_id: String,
    pub state: ProductState,
    /// Mirakl's message (or Marketbridge's) when the item is in error.
    pub message: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProductOut {
    pub sku: String,
    pub title: String,
    pub shop_product_id: i64,
    /// The item on each channel, channels oldest first.
    pub channels: Vec<ProductChannelState>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<ProductOut>,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ProductsQuery {
    q: Option<String>,
    channel: Option<String>,
    state: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The catalog in SKU order, each item with its state on each channel.
#[utoipa::path(
    get,
    path = "/api/v1/products",
    tag = "products",
    params(
        ("q" = Option<String>, Query, description = "Part of the SKU or of the title, any case."),
        ("channel" = Option<String>, Query, description = "Only this channel's states (a channel id)."),
        ("state" = Option<String>, Query, description = "Only items in this state: waiting, sent, live, error or removed (on `channel`, or on any channel)."),
        ("limit" = Option<u32>, Query, description = "Products per page, 1 to 200 (default 50)."),
        ("cursor" = Option<String>, Query, description = "The previous page's next_cursor."),
    ),
    responses(
        (status = 200, description = "A page of products", body = ProductPage),
        (status = 400, description = "A query parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The channel is not in the token's workspace", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<ProductsQuery>,
) -> Result<Json<ProductPage>, ApiError> {
    let ws = caller.workspace_id;
    let limit = limit(query.limit)?;
    let channel = match query.channel.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => {
            let id: ChannelId = raw.parse().map_err(|_| {
                ApiError::BadRequest("channel is a channel id (a UUID).".to_owned())
            })?;
            state
                .storage()
                .get_channel(ws, id)
                .await?
                .ok_or(ApiError::NotFound)?;
            Some(id)
        }
        None => None,
    };
    let item_state = match query.state.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(ItemState::parse(raw).ok_or_else(|| {
            ApiError::BadRequest(
                "state is one of waiting, sent, live, error or removed.".to_owned(),
            )
        })?),
        None => None,
    };
    let after_sku = query
        .cursor
        .as_deref()
        .map(|c| cursor_key(CURSOR_TAG, c))
        .transpose()?;
    let mut views = state
        .storage()
        .products_view(
            ws,
            &ProductsFilter {
                search: query.q.filter(|q| !q.trim().is_empty()),
                channel,
                state: item_state,
                after_sku,
                limit: limit + 1,
            },
        )
        .await?;
    let next_cursor = (views.len() as i64 > limit).then(|| {
        views.truncate(limit as usize);
        cursor(CURSOR_TAG, &views[views.len() - 1].sku)
    });
    let items = views
        .into_iter()
        .map(|v| ProductOut {
            sku: v.sku,
            title: v.title,
            shop_product_id: v.shop_product_id,
            channels: v
                .states
                .into_iter()
                .map(|(id, s, message)| ProductChannelState {
                    channel_id: id.to_string(),
                    state: s.into(),
                    message,
                })
                .collect(),
        })
        .collect();
    Ok(Json(ProductPage { items, next_cursor }))
}
