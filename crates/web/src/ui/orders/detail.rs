//! One order's page: what Mirakl says of it (lines, customer, address, deadlines), its shop
//! order, each step the connector took for it and its timeline; **Accept** and **Refuse** while
//! Mirakl waits for the seller's decision, **Retry** when the order needs attention. An order
//! of another workspace is a 404, like one that does not exist.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::order::{Address, OrderStage};
use domain::{OrderId, WorkspaceId};
use serde::Deserialize;
use storage::{OrderStep, StoredOrder};

use super::{amount, customer_name, stage_class, stage_label};
use crate::AppState;
use crate::error::WebError;
use crate::session::{Session, SignedIn};
use crate::ui::{Nav, format_time, render};

pub struct LineView {
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price: String,
    pub total: String,
    /// Accepted, refused… once Mirakl says; empty while it waits for the decision.
    pub decision: String,
}

pub struct StepView {
    pub name: String,
    pub status: &'static str,
    pub class: &'static str,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    nav: Nav,
    csrf_token: String,
    notice: Option<String>,
    error: Option<String>,
    id: String,
    mirakl_id: String,
    channel: String,
    state: String,
    stage: String,
    stage_class: &'static str,
    placed_at: String,
    imported_at: String,
    acceptance_deadline: Option<String>,
    shipping_deadline: Option<String>,
    total: String,
    shipping: String,
    shipping_method: Option<String>,
    customer: String,
    email: Option<String>,
    shipping_address: Option<Vec<String>>,
    billing_address: Option<Vec<String>>,
    address_missing: &'static str,
    shop_order: Option<String>,
    shop_status: Option<String>,
    shop_order_missing: &'static str,
    attention: Option<String>,
    lines: Vec<LineView>,
    steps: Vec<StepView>,
    timeline: Vec<(String, String)>,
    can_decide: bool,
    can_retry: bool,
}

/// The step as the seller reads it; the names are those the order flow stores.
fn step_name(step: &str) -> String {
    match step {
        "accept" => "Acceptance sent to Mirakl".to_owned(),
        "shop_order" => "Order created in your store".to_owned(),
        "ship" => "Shipment sent to Mirakl".to_owned(),
        "cancel_on_mirakl" => "Cancellation sent to Mirakl".to_owned(),
        "cancel_in_shop" => "Order cancelled in your store".to_owned(),
        other => match other.strip_prefix("refund:") {
            Some(refund) => format!("Refund {refund} sent to Mirakl"),
            None => other.to_owned(),
        },
    }
}

fn step_view(step: &OrderStep) -> StepView {
    let name = step_name(&step.step);
    match (step.done_at_ms, &step.error) {
        (Some(done), _) => StepView {
            name,
            status: "Done",
            class: "live",
            detail: format_time(done),
        },
        (None, Some(error)) => StepView {
            name,
            status: "Failed",
            class: "bad",
            detail: format!(
                "{error} Marketbridge checks whether it went through before trying again, on its own."
            ),
        },
        (None, None) => StepView {
            name,
            status: "Under way",
            class: "pending",
            detail: format!(
                "Started {}; not confirmed yet. If no answer came, Marketbridge checks before trying again.",
                format_time(step.reserved_at_ms)
            ),
        },
    }
}

fn address_lines(a: &Address) -> Vec<String> {
    let name = format!("{} {}", a.first_name.trim(), a.last_name.trim())
        .trim()
        .to_owned();
    let place = [
        a.zip_code.trim(),
        a.city.trim(),
        a.state.as_deref().unwrap_or("").trim(),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    [
        Some(name),
        a.company.clone(),
        Some(a.street_1.clone()),
        a.street_2.clone(),
        Some(place),
        Some(a.country.clone()),
        a.phone.as_ref().map(|p| format!("Phone: {p}")),
    ]
    .into_iter()
    .flatten()
    .map(|l| l.trim().to_owned())
    .filter(|l| !l.is_empty())
    .collect()
}

/// The order of the signed-in seller's workspace; anything else is a 404, whether it does not
/// exist or belongs to someone else.
async fn load_order(state: &AppState, ws: WorkspaceId, id: &str) -> Result<StoredOrder, WebError> {
    let id: OrderId = id.parse().map_err(|_| WebError::NotFound)?;
    state
        .storage()
        .get_order(ws, id)
        .await?
        .ok_or(WebError::NotFound)
}

async fn page(
    state: &AppState,
    session: &Session,
    stored: &StoredOrder,
    notice: Option<String>,
    error: Option<String>,
) -> Result<OrderPage, WebError> {
    let ws = stored.workspace_id;
    let storage = state.storage();
    let order = &stored.order;
    let stage = order.stage();
    let channel = storage
        .get_channel(ws, stored.channel_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let steps = storage.order_steps(ws, stored.id).await?;
    let timeline = storage
        .order_events(ws, stored.id)
        .await?
        .into_iter()
        .map(|(at, message)| (format_time(at), message))
        .collect();
    let lines = order
        .lines
        .iter()
        .map(|l| LineView {
            sku: l.sku.clone(),
            title: l.title.clone(),
            quantity: l.quantity,
            unit_price: amount(l.unit_price, &order.currency),
            total: amount(l.total_price, &order.currency),
            decision: match OrderStage::of(&l.state) {
                OrderStage::AwaitingAcceptance => String::new(),
                OrderStage::Refused => "Refused".to_owned(),
                OrderStage::Canceled => "Cancelled".to_owned(),
                OrderStage::Unknown => format!("Mirakl state {}", l.state),
                _ => "Accepted".to_owned(),
            },
        })
        .collect();
    let shipping_address = order.customer.shipping.as_ref().map(address_lines);
    let billing_address = order
        .customer
        .billing
        .as_ref()
        .filter(|b| order.customer.shipping.as_ref() != Some(*b))
        .map(address_lines);
    let address_missing = match stage {
        OrderStage::AwaitingAcceptance | OrderStage::AwaitingPayment => {
            "Mirakl shows the address once the customer has paid."
        }
        _ => "Mirakl did not show an address for this order.",
    };
    let shop_order_missing = match stage {
        OrderStage::AwaitingAcceptance | OrderStage::AwaitingPayment => {
            "Not yet: it is created in your store once Mirakl shows the address, after payment."
        }
        OrderStage::ToShip => "Not yet: Marketbridge creates it in your store.",
        OrderStage::Refused | OrderStage::Canceled => "None: Mirakl will not ship this order.",
        _ => "None.",
    };
    let can_decide =
        stage == OrderStage::AwaitingAcceptance && !steps.iter().any(|s| s.step == "accept");
    // Waiting for the seller's decision is not a failure: Retry would only ask again. It does
    // mean something when automatic acceptance is on (the stock may have come back).
    let auto_accept = state.flows().orders.settings(ws).await?.auto_accept;
    let can_retry = stored.attention.is_some() && (auto_accept || !can_decide);
    Ok(OrderPage {
        nav: Nav::for_session(session),
        csrf_token: session.csrf_token.clone(),
        notice,
        error,
        id: stored.id.to_string(),
        mirakl_id: order.mirakl_id.clone(),
        channel,
        state: order.state.clone(),
        stage: stage_label(order),
        stage_class: stage_class(stage),
        placed_at: format_time(order.created_at_ms),
        imported_at: format_time(stored.imported_at_ms),
        acceptance_deadline: order
            .acceptance_deadline_ms
            .filter(|_| stage == OrderStage::AwaitingAcceptance)
            .map(format_time),
        shipping_deadline: order
            .shipping_deadline_ms
            .filter(|_| {
                matches!(
                    stage,
                    OrderStage::AwaitingAcceptance
                        | OrderStage::AwaitingPayment
                        | OrderStage::ToShip
                )
            })
            .map(format_time),
        total: amount(order.total_price, &order.currency),
        shipping: amount(order.shipping_price, &order.currency),
        shipping_method: order.shipping_method.clone(),
        customer: customer_name(order),
        email: order.customer.email.clone(),
        shipping_address,
        billing_address,
        address_missing,
        shop_order: stored.shop_order_number.as_ref().map(|n| format!("#{n}")),
        shop_status: stored.shop_status.clone(),
        shop_order_missing,
        attention: stored.attention.clone(),
        lines,
        steps: steps.iter().map(step_view).collect(),
        timeline,
        can_decide,
        can_retry,
    })
}

#[derive(Deserialize, Default)]
pub struct OrderQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<OrderQuery>,
) -> Result<Response, WebError> {
    let stored = load_order(&state, me.workspace_id, &id).await?;
    let notice = match query.done.as_deref() {
        Some("accepted") => Some(
            "You accepted the order. Marketbridge sends your decision to Mirakl now; the order moves on once Mirakl confirms it.",
        ),
        Some("refused") => Some(
            "You refused the order. Marketbridge sends your decision to Mirakl now; Mirakl then cancels it for the customer.",
        ),
        Some("retried") => Some("Marketbridge is trying this order's next step again."),
        _ => None,
    };
    Ok(render(
        &page(&state, &session, &stored, notice.map(str::to_owned), None).await?,
    ))
}

/// The page again with what went wrong; nothing was changed.
async fn refused(
    state: &AppState,
    session: &Session,
    stored: &StoredOrder,
    error: String,
) -> Result<Response, WebError> {
    let page = page(state, session, stored, None, Some(error)).await?;
    Ok((StatusCode::CONFLICT, render(&page)).into_response())
}

async fn decide(
    state: AppState,
    me: SignedIn,
    session: Session,
    id: String,
    accept: bool,
) -> Result<Response, WebError> {
    let stored = load_order(&state, me.workspace_id, &id).await?;
    match state
        .flows()
        .orders
        .decide_by_seller(me.workspace_id, stored.id, accept)
        .await?
    {
        Ok(()) => {
            tracing::info!(workspace = %me.workspace_id, order = %stored.id, accept, "order decided by the seller");
            let done = if accept { "accepted" } else { "refused" };
            Ok(Redirect::to(&format!("/orders/{}?done={done}", stored.id)).into_response())
        }
        Err(message) => refused(&state, &session, &stored, message).await,
    }
}

/// **Accept**: every line of the order.
pub async fn accept(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    decide(state, me, session, id, true).await
}

/// **Refuse**: every line of the order.
pub async fn refuse(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    decide(state, me, session, id, false).await
}

/// **Retry**: the seller mended what stopped the order; its next step runs again.
pub async fn retry(
    State(state): State<AppState>,
    me: SignedIn,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let stored = load_order(&state, me.workspace_id, &id).await?;
    if stored.attention.is_none() {
        return refused(
            &state,
            &session,
            &stored,
            "This order does not wait for you: there is nothing to retry.".to_owned(),
        )
        .await;
    }
    state
        .flows()
        .orders
        .retry(me.workspace_id, stored.id)
        .await?;
    tracing::info!(workspace = %me.workspace_id, order = %stored.id, "order retried by the seller");
    Ok(Redirect::to(&format!("/orders/{}?done=retried", stored.id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_in_words_and_unknown_ones_as_stored() {
        assert_eq!(step_name("shop_order"), "Order created in your store");
        assert_eq!(step_name("refund:12"), "Refund 12 sent to Mirakl");
        assert_eq!(step_name("something_new"), "something_new");
    }

    #[test]
    fn an_address_leaves_out_what_is_empty() {
        let a = Address {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            street_1: "1 Main St".into(),
            zip_code: "75001".into(),
            city: "Paris".into(),
            country: "FR".into(),
            ..Address::default()
        };
        assert_eq!(
            address_lines(&a),
            ["Ada Lovelace", "1 Main St", "75001 Paris", "FR"]
        );
    }
}
