//! `/api/v1/orders`: the Orders page and an order's page as JSON (states, steps, timeline),
//! and the seller's **Accept**, **Refuse** and **Retry**, through the same flows as the pages.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::order::OrderStage;
use domain::{ChannelId, OrderId, WorkspaceId};
use serde::{Deserialize, Serialize};
use storage::{OrdersFilter, StoredOrder};
use utoipa::ToSchema;

use super::Queued;
use super::auth::{ApiCaller, ApiWriter};
use super::page::{ApiQuery, cursor, limit, rfc3339, time_and_id};
use super::problem::{ApiError, Problem};
use crate::AppState;

const CURSOR_TAG: &str = "o";

/// What an order's Mirakl state means.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    AwaitingAcceptance,
    AwaitingPayment,
    ToShip,
    Shipped,
    Closed,
    Refused,
    Canceled,
    /// A state this version does not know.
    Unknown,
}

impl From<OrderStage> for Stage {
    fn from(stage: OrderStage) -> Self {
        match stage {
            OrderStage::AwaitingAcceptance => Self::AwaitingAcceptance,
            OrderStage::AwaitingPayment => Self::AwaitingPayment,
            OrderStage::ToShip => Self::ToShip,
            OrderStage::Shipped => Self::Shipped,
            OrderStage::Closed => Self::Closed,
            OrderStage::Refused => Self::Refused,
            OrderStage::Canceled => Self::Canceled,
            OrderStage::Unknown => Self::Unknown,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Amount {
    /// A decimal number as text, e.g. `24.90`.
    pub amount: String,
    pub currency: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OrderOut {
    pub id: String,
    pub mirakl_order_id: String,
    pub channel_id: String,
    /// Mirakl's state, as Mirakl names it.
    pub state: String,
    pub stage: Stage,
    pub placed_at: String,
    pub acceptance_deadline: Option<String>,
    pub shipping_deadline: Option<String>,
    pub total: Amount,
    pub shop_order_number: Option<String>,
    pub shop_status: Option<String>,
    /// Why the order waits for the seller, if it does.
    pub attention: Option<String>,
    pub imported_at: String,
    pub updated_at: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OrderLineOut {
    pub line_id: String,
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price: Amount,
    pub total: Amount,
    /// Mirakl's state of the line.
    pub state: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OrderStepOut {
    /// e.g. `accept`, `shop_order`, `refund:12`.
    pub step: String,
    pub started_at: String,
    pub done_at: Option<String>,
    pub detail: Option<String>,
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    pub at: String,
    pub message: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OrderDetail {
    pub order: OrderOut,
    pub lines: Vec<OrderLineOut>,
    /// What Marketbridge did for the order, in the order it started each step.
    pub steps: Vec<OrderStepOut>,
    /// The order's history, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderOut>,
    /// Pass it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct OrdersQuery {
    q: Option<String>,
    channel: Option<String>,
    show: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn amount(money: domain::Money, currency: &str) -> Amount {
    Amount {
        amount: money.to_decimal_string(),
        currency: currency.to_owned(),
    }
}

fn order_out(o: &StoredOrder) -> OrderOut {
    let order = &o.order;
    OrderOut {
        id: o.id.to_string(),
        mirakl_order_id: order.mirakl_id.clone(),
        channel_id: o.channel_id.to_string(),
        state: order.state.clone(),
        stage: order.stage().into(),
        placed_at: rfc3339(order.created_at_ms),
        acceptance_deadline: order.acceptance_deadline_ms.map(rfc3339),
        shipping_deadline: order.shipping_deadline_ms.map(rfc3339),
        total: amount(order.total_price, &order.currency),
        shop_order_number: o.shop_order_number.clone(),
        shop_status: o.shop_status.clone(),
        attention: o.attention.clone(),
        imported_at: rfc3339(o.imported_at_ms),
        updated_at: rfc3339(o.updated_at_ms),
    }
}

/// The Orders page's **Show** filter: its values, and the stages each lists (`None`: every
/// order; `attention` is not a stage).
fn show_stages(show: &str) -> Result<Option<&'static [OrderStage]>, ApiError> {
    Ok(match show {
        "" | "all" | "attention" => None,
        "to_accept" => Some(&[OrderStage::AwaitingAcceptance]),
        "awaiting_payment" => Some(&[OrderStage::AwaitingPayment]),
        "to_ship" => Some(&[OrderStage::ToShip]),
        "shipped" => Some(&[OrderStage::Shipped, OrderStage::Closed]),
        "cancelled" => Some(&[OrderStage::Refused, OrderStage::Canceled]),
        _ => {
            return Err(ApiError::BadRequest(
                "show is one of all, attention, to_accept, awaiting_payment, to_ship, shipped or cancelled.".to_owned(),
            ));
        }
    })
}

/// The orders, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    tag = "orders",
    params(
        ("q" = Option<String>, Query, description = "Part of Mirakl's order id (any case), or the shop order's number (whole)."),
        ("channel" = Option<String>, Query, description = "Only this channel's orders (a channel id)."),
        ("show" = Option<String>, Query, description = "As the Orders page's Show: all, attention, to_accept, awaiting_payment, to_ship, shipped or cancelled."),
        ("limit" = Option<u32>, Query, description = "Orders per page, 1 to 200 (default 50)."),
        ("cursor" = Option<String>, Query, description = "The previous page's next_cursor."),
    ),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 400, description = "A query parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The channel is not in the token's workspace", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<OrdersQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    let ws = caller.workspace_id;
    let storage = state.storage();
    let limit = limit(query.limit)?;
    let show = query.show.as_deref().unwrap_or_default();
    let stages = show_stages(show)?;
    let channel = match query.channel.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => {
            let id: ChannelId = raw.parse().map_err(|_| {
                ApiError::BadRequest("channel is a channel id (a UUID).".to_owned())
            })?;
            storage
                .get_channel(ws, id)
                .await?
                .ok_or(ApiError::NotFound)?;
            Some(id)
        }
        None => None,
    };
    let before = query
        .cursor
        .as_deref()
        .map(|c| time_and_id(CURSOR_TAG, c))
        .transpose()?
        .map(|(ms, id)| (ms, OrderId(id)));
    // The Mirakl states the workspace's orders are in that the stage filter lists; none
    // means the filter lists nothing (an empty list of states would mean any).
    let states: Vec<String> = match stages {
        Some(stages) => storage
            .order_state_counts(ws)
            .await?
            .into_iter()
            .map(|(s, _)| s)
            .filter(|s| stages.contains(&OrderStage::of(s)))
            .collect(),
        None => Vec::new(),
    };
    let mut orders = if stages.is_some() && states.is_empty() {
        Vec::new()
    } else {
        storage
            .orders_page(
                ws,
                &OrdersFilter {
                    channel,
                    states,
                    attention_only: show == "attention",
                    search: query
                        .q
                        .as_deref()
                        .map(str::trim)
                        .filter(|q| !q.is_empty())
                        .map(str::to_owned),
                    before,
                    limit: limit + 1,
                    ..OrdersFilter::default()
                },
            )
            .await?
    };
    let next_cursor = (orders.len() as i64 > limit).then(|| {
        orders.truncate(limit as usize);
        let last = &orders[orders.len() - 1];
        cursor(
            CURSOR_TAG,
            &format!("{}_{}", last.order.created_at_ms, last.id),
        )
    });
    Ok(Json(OrderPage {
        items: orders.iter().map(order_out).collect(),
        next_cursor,
    }))
}

async fn find(state: &AppState, ws: WorkspaceId, id: &str) -> Result<StoredOrder, ApiError> {
    let id: OrderId = id.parse().map_err(|_| ApiError::NotFound)?;
    state
        .storage()
        .get_order(ws, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// One order with its lines, steps and timeline.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    tag = "orders",
    params(("id" = String, Path, description = "The order's id (Marketbridge's, as listed)")),
    responses(
        (status = 200, description = "The order", body = OrderDetail),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order in the token's workspace", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<OrderDetail>, ApiError> {
    let ws = caller.workspace_id;
    let stored = find(&state, ws, &id).await?;
    let storage = state.storage();
    let steps = storage.order_steps(ws, stored.id).await?;
    let timeline = storage.order_events(ws, stored.id).await?;
    let order = &stored.order;
    Ok(Json(OrderDetail {
        order: order_out(&stored),
        lines: order
            .lines
            .iter()
            .map(|l| OrderLineOut {
                line_id: l.line_id.clone(),
                sku: l.sku.clone(),
                title: l.title.clone(),
                quantity: l.quantity,
                unit_price: amount(l.unit_price, &order.currency),
                total: amount(l.total_price, &order.currency),
                state: l.state.clone(),
            })
            .collect(),
        steps: steps
            .into_iter()
            .map(|s| OrderStepOut {
                step: s.step,
                started_at: rfc3339(s.reserved_at_ms),
                done_at: s.done_at_ms.map(rfc3339),
                detail: s.detail,
                error: s.error,
            })
            .collect(),
        timeline: timeline
            .into_iter()
            .map(|(at, message)| TimelineEntry {
                at: rfc3339(at),
                message,
            })
            .collect(),
    }))
}

async fn decide(
    state: AppState,
    caller: ApiCaller,
    id: String,
    accept: bool,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let ws = caller.workspace_id;
    let stored = find(&state, ws, &id).await?;
    state
        .flows()
        .orders
        .decide_by_seller(ws, stored.id, accept)
        .await?
        .map_err(ApiError::Conflict)?;
    tracing::info!(workspace = %ws, order = %stored.id, accept, "order decided through the API");
    let detail = if accept {
        "Accepted: Marketbridge sends the decision to Mirakl now; the order moves on once Mirakl confirms it."
    } else {
        "Refused: Marketbridge sends the decision to Mirakl now; Mirakl then cancels it for the customer."
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            status: "queued".to_owned(),
            detail: detail.to_owned(),
        }),
    ))
}

/// Accept: every line of an order that waits for the seller's decision.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/accept",
    tag = "orders",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 202, description = "The decision is on its way to Mirakl", body = Queued),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order in the token's workspace", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order does not wait for a decision", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn accept(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    decide(state, caller, id, true).await
}

/// Refuse: every line of an order that waits for the seller's decision.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/refuse",
    tag = "orders",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 202, description = "The decision is on its way to Mirakl", body = Queued),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order in the token's workspace", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order does not wait for a decision", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn refuse(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    decide(state, caller, id, false).await
}

/// Retry: the order's next step runs again, once what stopped it is mended.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/retry",
    tag = "orders",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 202, description = "The next step is queued again", body = Queued),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order in the token's workspace", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order does not need attention", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn retry(
    State(state): State<AppState>,
    ApiWriter(caller): ApiWriter,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let ws = caller.workspace_id;
    let stored = find(&state, ws, &id).await?;
    if stored.attention.is_none() {
        return Err(ApiError::Conflict(
            "This order does not wait for you: there is nothing to retry.".to_owned(),
        ));
    }
    state.flows().orders.retry(ws, stored.id).await?;
    tracing::info!(workspace = %ws, order = %stored.id, "order retried through the API");
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            status: "queued".to_owned(),
            detail: "Marketbridge is trying this order's next step again.".to_owned(),
        }),
    ))
}
