//! What a seller does to its Connect orders: `PUT /v2/orders/{order_id}/accept` (accept or
//! refuse lines), `POST …/shipments` (one package), `POST …/cancel` and `POST …/refund`, each
//! answered 202 with an action id; `GET /v2/orders/actions/{action_id}` says how it went.
//!
//! A malformed request, or a line the order does not have, is refused at once (400
//! INVALID_INPUT), an unknown order with 404 DATA_NOT_FOUND; what depends on the order's state
//! makes the action FAILED (ORDER_IN_WRONG_STATE, or INVALID_INPUT for more than is left).
//! Connect processes actions asynchronously; the sandbox processes one before answering, so its
//! status reads SUCCESS or FAILED at once, which a client cannot tell from a fast Connect.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::Sandbox;
use crate::connect::checks::Problems;
use crate::connect::orders::{
    Adjustment, AdjustmentKind, ConnectOrder, Reason, Status, Step, open_orders,
};
use crate::connect::{ConnectCall, ConnectError};
use crate::entropy::random_bytes;
use crate::gate::Operation;
use crate::values::clock::format_mirakl;
use crate::values::money::Money;
use crate::world::Company;

/// The reasons a cancelation or a refund may give.
const REASONS: [&str; 7] = [
    "CUSTOMER_CANCELATION",
    "OUT_OF_STOCK",
    "RETURN",
    "ITEM_NOT_RECEIVED",
    "AGREEMENT",
    "DEFECT",
    "UNABLE_TO_DELIVER",
];

/// Why an action failed, as its status shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    pub code: &'static str,
    pub message: String,
}

impl ActionError {
    fn wrong_state(order: &ConnectOrder, line: usize, action: &str) -> Self {
        let line = &order.lines[line];
        Self {
            code: "ORDER_IN_WRONG_STATE",
            message: format!(
                "The order line {} is {}: it cannot be {action}.",
                line.id,
                line.status(order.awaiting).0.as_str()
            ),
        }
    }

    fn too_much(message: String) -> Self {
        Self {
            code: "INVALID_INPUT",
            message,
        }
    }
}

/// An action a seller asked for, and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectAction {
    pub id: String,
    pub order_id: String,
    pub created: OffsetDateTime,
    /// Empty when it succeeded.
    pub errors: Vec<ActionError>,
}

impl ConnectAction {
    pub fn to_json(&self) -> Value {
        let at = format_mirakl(self.created);
        let mut body = json!({
            "id": self.id,
            "status": if self.errors.is_empty() { "SUCCESS" } else { "FAILED" },
            "created_at": at,
            "updated_at": at,
        });
        if !self.errors.is_empty() {
            body["errors"] = self
                .errors
                .iter()
                .map(|error| json!({ "code": error.code, "message": error.message }))
                .collect();
        }
        body
    }
}

/// A fresh action id, shaped like Connect's UUIDs.
fn action_id() -> String {
    let hex: String = random_bytes::<16>()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Records how an action went; the 202 that names it.
fn record(
    company: &mut Company,
    order_id: &str,
    outcome: Result<(), ActionError>,
    now: OffsetDateTime,
) -> (StatusCode, Json<Value>) {
    let id = action_id();
    company.actions.insert(
        id.clone(),
        ConnectAction {
            id: id.clone(),
            order_id: order_id.to_owned(),
            created: now,
            errors: outcome.err().into_iter().collect(),
        },
    );
    // `tracking_id` is deprecated and holds the same value.
    (
        StatusCode::ACCEPTED,
        Json(json!({ "action_id": id, "tracking_id": id })),
    )
}

fn find<'c>(
    company: &'c mut Company,
    order_id: &str,
) -> Result<&'c mut ConnectOrder, ConnectError> {
    company.orders.get_mut(order_id).ok_or_else(|| {
        ConnectError::new(
            StatusCode::NOT_FOUND,
            "DATA_NOT_FOUND",
            format!("The order {order_id} does not exist."),
        )
    })
}

/// The line an item names, by `order_line_id` or by the seller's product id (`product_field`:
/// `id` for shipments, `product_id` elsewhere), or why not, at its `path`.
fn line_of(
    order: &ConnectOrder,
    item: &Map<String, Value>,
    product_field: &str,
    path: &str,
) -> Result<usize, ConnectError> {
    let (field, found) = match (
        item.get("order_line_id").and_then(Value::as_str),
        item.get(product_field).and_then(Value::as_str),
    ) {
        (Some(line_id), _) => ("order_line_id", order.line_index(line_id)),
        (None, Some(product_id)) => (
            product_field,
            order
                .lines
                .iter()
                .position(|line| line.product_id == product_id),
        ),
        (None, None) => {
            return Err(ConnectError::invalid_field(
                path,
                &format!("needs order_line_id or {product_field}"),
            ));
        }
    };
    found.ok_or_else(|| {
        ConnectError::invalid_field(
            &format!("{path}.{field}"),
            &format!("is not a line of order {}", order.id),
        )
    })
}

/// `PUT /v2/orders/{order_id}/accept` `{order_lines: [{id, accepted}]}`: every line of an order
/// AWAITING_ACCEPTANCE decided (ASSUMPTION: as on the marketplaces); refused lines are CLOSED
/// (REFUSED), and the order awaits payment when one line is accepted.
pub async fn accept(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    call: ConnectCall,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ConnectError> {
    let mut world = sandbox.world();
    let (company, now) = open_orders(&mut world, &call, Operation::ConnectAcceptOrder, "")?;
    let fields = Problems::body(&body)?;
    let items = fields.get("order_lines").unwrap_or(&Value::Null);
    let mut problems = Problems::default();
    problems.objects(
        "order_lines",
        items,
        false,
        1,
        usize::MAX,
        |p, path, line| {
            p.string(&format!("{path}.id"), line.get("id"), 1, 255);
            p.boolean(&format!("{path}.accepted"), line.get("accepted"));
        },
    );
    problems.refuse()?;
    let order = find(company, &order_id)?;
    let mut accepted = vec![None; order.lines.len()];
    for (index, item) in items.as_array().into_iter().flatten().enumerate() {
        let field = format!("order_lines[{index}].id");
        let line = order
            .line_index(item["id"].as_str().unwrap_or_default())
            .ok_or_else(|| {
                ConnectError::invalid_field(&field, &format!("is not a line of order {order_id}"))
            })?;
        if accepted[line].is_some() {
            return Err(ConnectError::invalid_field(&field, "is decided twice"));
        }
        accepted[line] = item["accepted"].as_bool();
    }
    if let Some(missing) = accepted.iter().position(Option::is_none) {
        return Err(ConnectError::invalid_field(
            "order_lines",
            &format!("has no decision for line {}", order.lines[missing].id),
        ));
    }
    let outcome = if order.status().0 == Status::AwaitingAcceptance {
        for (line, accepted) in order.lines.iter_mut().zip(&accepted) {
            if *accepted == Some(false) {
                line.closed = Some(Reason::Refused);
            }
        }
        order.updated = now;
        if accepted.contains(&Some(true)) {
            order.take(Step::Accept, now);
        }
        Ok(())
    } else {
        Err(ActionError {
            code: "ORDER_IN_WRONG_STATE",
            message: format!(
                "The order {order_id} is {}: it cannot be accepted or refused.",
                order.status().0.as_str()
            ),
        })
    };
    Ok(record(company, &order_id, outcome, now))
}

/// `POST /v2/orders/{order_id}/shipments` `{items: [{order_line_id | id, quantity}], carrier?,
/// tracking_number?, tracking_url?, …}`: one package of lines AWAITING_SHIPMENT; a line
/// shipped in full is SHIPPED.
pub async fn ship(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    call: ConnectCall,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ConnectError> {
    let mut world = sandbox.world();
    let (company, now) = open_orders(&mut world, &call, Operation::ConnectShipOrder, "")?;
    let fields = Problems::body(&body)?;
    let items = fields.get("items").unwrap_or(&Value::Null);
    let mut problems = Problems::default();
    problems.objects("items", items, false, 1, usize::MAX, |p, path, item| {
        p.whole(&format!("{path}.quantity"), item.get("quantity"), 1);
    });
    for name in [
        "carrier",
        "tracking_number",
        "return_tracking_number",
        "warehouse_id",
    ] {
        problems.optional_string(name, fields.get(name), 255);
    }
    problems.optional_string("tracking_url", fields.get("tracking_url"), 2000);
    problems.refuse()?;
    let order = find(company, &order_id)?;
    let mut package = Vec::new();
    for (index, item) in items.as_array().into_iter().flatten().enumerate() {
        let item = item.as_object().expect("checked above");
        let line = line_of(order, item, "id", &format!("items[{index}]"))?;
        package.push((line, item["quantity"].as_i64().unwrap_or_default()));
    }
    let outcome = ship_package(order, &package).map(|()| {
        for (line, quantity) in &package {
            order.lines[*line].shipped += quantity;
        }
        if let Some(carrier) = fields.get("carrier").and_then(Value::as_str) {
            order.carrier = Some(carrier.to_owned());
        }
        order.updated = now;
    });
    Ok(record(company, &order_id, outcome, now))
}

/// Whether a package can leave: each line AWAITING_SHIPMENT with that much left to ship.
fn ship_package(order: &ConnectOrder, package: &[(usize, i64)]) -> Result<(), ActionError> {
    let mut shipping = vec![0; order.lines.len()];
    for (line, quantity) in package {
        if order.lines[*line].status(order.awaiting).0 != Status::AwaitingShipment {
            return Err(ActionError::wrong_state(order, *line, "shipped"));
        }
        shipping[*line] += quantity;
        let left = order.lines[*line].quantity() - order.lines[*line].shipped;
        if shipping[*line] > left {
            return Err(ActionError::too_much(format!(
                "Only {left} item(s) of order line {} are left to ship.",
                order.lines[*line].id
            )));
        }
    }
    Ok(())
}

/// One cancelation or refund a body asks for, its line resolved.
struct AdjustmentRequest {
    line: usize,
    quantity: i64,
    price: Money,
    shipping_price: Money,
    reason: String,
}

/// The `cancelations` or `refunds` of a body, checked against the schema and resolved to the
/// order's lines.
fn adjustment_requests(
    order: &ConnectOrder,
    fields: &Map<String, Value>,
    name: &str,
    quantity_required: bool,
) -> Result<Vec<AdjustmentRequest>, ConnectError> {
    let items = fields.get(name).unwrap_or(&Value::Null);
    let mut problems = Problems::default();
    problems.objects(name, items, false, 1, usize::MAX, |p, path, item| {
        if quantity_required || item.get("quantity").is_some_and(|q| !q.is_null()) {
            p.whole(&format!("{path}.quantity"), item.get("quantity"), 0);
        }
        p.money(&format!("{path}.price"), item.get("price"));
        p.money(
            &format!("{path}.shipping_price"),
            item.get("shipping_price"),
        );
        p.one_of(&format!("{path}.reason"), item.get("reason"), &REASONS);
        for money in ["price", "shipping_price"] {
            let currency = item.get(money).and_then(|m| m.get("currency"));
            if currency
                .and_then(Value::as_str)
                .is_some_and(|c| c != order.currency)
            {
                p.add(
                    &format!("{path}.{money}.currency"),
                    &format!("must be the order's currency, {}", order.currency),
                );
            }
        }
    });
    problems.refuse()?;
    let amount = |item: &Map<String, Value>, money: &str| {
        Money::from_json(&item[money]["amount"]).unwrap_or(Money(0))
    };
    let mut requests = Vec::new();
    for (index, item) in items.as_array().into_iter().flatten().enumerate() {
        let item = item.as_object().expect("checked above");
        requests.push(AdjustmentRequest {
            line: line_of(order, item, "product_id", &format!("{name}[{index}]"))?,
            quantity: item.get("quantity").and_then(Value::as_i64).unwrap_or(0),
            price: amount(item, "price"),
            shipping_price: amount(item, "shipping_price"),
            reason: item["reason"].as_str().unwrap_or_default().to_owned(),
        });
    }
    Ok(requests)
}

/// Applies cancelations or refunds, all or none: each line must allow it (`can_cancel`,
/// `can_refund`), and they never take more than the line has left.
fn adjust(
    order: &mut ConnectOrder,
    requests: Vec<AdjustmentRequest>,
    kind: AdjustmentKind,
    now: OffsetDateTime,
) -> Result<(), ActionError> {
    let mut taken = vec![(0, Money(0), Money(0)); order.lines.len()];
    for request in &requests {
        let line = &order.lines[request.line];
        let (allowed, action) = match kind {
            AdjustmentKind::Cancelation => (order.can_cancel(line), "canceled"),
            AdjustmentKind::Refund => (order.can_refund(line), "refunded"),
        };
        if !allowed {
            return Err(ActionError::wrong_state(order, request.line, action));
        }
        let before = line.adjusted(kind);
        let total = &mut taken[request.line];
        *total = (
            total.0 + request.quantity,
            Money(total.1.0 + request.price.0),
            Money(total.2.0 + request.shipping_price.0),
        );
        let (quantity_left, price_left, shipping_left) = match kind {
            AdjustmentKind::Cancelation => (
                line.quantity() - line.shipped,
                line.unit_price.times(line.quantity() - line.shipped),
                line.total_shipping(),
            ),
            AdjustmentKind::Refund => (
                line.quantity() - before.0,
                Money(line.price().0 - before.1.0),
                Money(line.total_shipping().0 - before.2.0),
            ),
        };
        if total.0 > quantity_left || total.1 > price_left || total.2 > shipping_left {
            return Err(ActionError::too_much(format!(
                "Order line {} has {quantity_left} item(s), {price_left} and {shipping_left} \
                 shipping left to be {action}.",
                line.id
            )));
        }
    }
    for request in requests {
        let line = &mut order.lines[request.line];
        let letter = match kind {
            AdjustmentKind::Cancelation => 'C',
            AdjustmentKind::Refund => 'R',
        };
        line.adjustments.push(Adjustment {
            id: format!("{}-{letter}{}", line.id, line.adjustments.len() + 1),
            kind,
            reason: request.reason,
            quantity: request.quantity,
            price: request.price,
            shipping_price: request.shipping_price,
            created: now,
        });
    }
    order.updated = now;
    Ok(())
}

/// `POST /v2/orders/{order_id}/cancel` `{cancelations: [{order_line_id | product_id, quantity,
/// price, shipping_price, reason}]}`: cancels items not shipped of lines paid or awaiting
/// payment; the line's quantity and price drop, and a line canceled whole is CLOSED (CANCELED).
pub async fn cancel(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    call: ConnectCall,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ConnectError> {
    adjustment_action(sandbox, order_id, call, body, AdjustmentKind::Cancelation).await
}

/// `POST /v2/orders/{order_id}/refund` `{refunds: [{order_line_id | product_id, quantity?,
/// price, shipping_price, reason}]}`: refunds lines paid for (AWAITING_SHIPMENT or SHIPPED);
/// a line refunded whole is CLOSED (REFUNDED).
pub async fn refund(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    call: ConnectCall,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ConnectError> {
    adjustment_action(sandbox, order_id, call, body, AdjustmentKind::Refund).await
}

async fn adjustment_action(
    sandbox: Sandbox,
    order_id: String,
    call: ConnectCall,
    body: Bytes,
    kind: AdjustmentKind,
) -> Result<(StatusCode, Json<Value>), ConnectError> {
    let (operation, name, quantity_required) = match kind {
        AdjustmentKind::Cancelation => (Operation::ConnectCancelOrder, "cancelations", true),
        AdjustmentKind::Refund => (Operation::ConnectRefundOrder, "refunds", false),
    };
    let mut world = sandbox.world();
    let (company, now) = open_orders(&mut world, &call, operation, "")?;
    let fields = Problems::body(&body)?;
    let order = find(company, &order_id)?;
    let requests = adjustment_requests(order, &fields, name, quantity_required)?;
    let outcome = adjust(order, requests, kind, now);
    Ok(record(company, &order_id, outcome, now))
}

/// `GET /v2/orders/actions/{action_id}` (v2-getActionStatus): `{id, status, created_at,
/// updated_at, errors?}`; budgeted once a minute per action.
pub async fn status(
    State(sandbox): State<Sandbox>,
    Path(action_id): Path<String>,
    call: ConnectCall,
) -> Result<Json<Value>, ConnectError> {
    let mut world = sandbox.world();
    let scope = format!("/actions/{action_id}");
    let (company, _) = open_orders(&mut world, &call, Operation::ConnectGetOrderAction, &scope)?;
    company
        .actions
        .get(&action_id)
        .map(|action| Json(action.to_json()))
        .ok_or_else(|| {
            ConnectError::new(
                StatusCode::NOT_FOUND,
                "DATA_NOT_FOUND",
                format!("No action {action_id} exists."),
            )
        })
}
