//! What a seller does to its orders: OR21 accepts or refuses an order's lines, OR23 gives its
//! tracking, OR24 confirms its shipment, ST01 ships some of its lines, OR29 cancels it, OR28 refunds lines of any of the
//! shop's orders. Each catches the orders up to now first (`orders::open_orders`) and checks
//! the whole request before it changes anything; the order workflow itself is `orders`'.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::Sandbox;
use crate::gate::Operation;
use crate::marketplace::carriers;
use crate::marketplace::orders::{LineRefund, OrderError, OrderState, Step, Tracking, open_orders};
use crate::marketplace::{ApiCall, ApiError};
use crate::values::clock::format_mirakl;
use crate::values::money::Money;
use crate::world::Marketplace;
use time::OffsetDateTime;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

/// A JSON object body.
fn object_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(bad("The body must be a JSON object.")),
        Err(error) => Err(bad(format!("The body is not valid JSON: {error}."))),
    }
}

/// An optional string field: absent and null are `None`.
fn text(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(bad(format!("{name} must be a string."))),
    }
}

/// OR21 `PUT /api/orders/{order_id}/accept` `{"order_lines": [{"id", "accepted"}]}`: a decision
/// for every line of an order WAITING_ACCEPTANCE; refused lines give their quantities back.
/// The order is REFUSED when every line is, else it waits for the customer's debit. 204.
pub async fn accept(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let mut world = sandbox.world();
    let (shop_id, marketplace, now) = open_orders(&mut world, &call, Operation::Or21)?;
    let fields = object_body(&body)?;
    let items = fields
        .get("order_lines")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("order_lines is required: [{\"id\": …, \"accepted\": …}]."))?;
    let mut decisions = HashMap::new();
    for item in items {
        let (Some(id), Some(accepted)) = (
            item.get("id").and_then(Value::as_str),
            item.get("accepted").and_then(Value::as_bool),
        ) else {
            return Err(bad(
                "Each element of order_lines needs an id (string) and accepted (true or false).",
            ));
        };
        if decisions.insert(id.to_owned(), accepted).is_some() {
            return Err(bad(format!("The order line {id} is decided twice.")));
        }
    }
    let order_id = call.order_id();
    let order = marketplace.shop_order_mut(shop_id, order_id)?;
    if order.state.after(Step::Accept).is_none() {
        // A decision sent again on a decided order: what a connector that retries blindly
        // after a lost answer does. Counted, so a test can tell it never happens.
        let error = OrderError::WrongState {
            order_id: order_id.to_owned(),
            state: order.state,
            action: "accepted or refused",
        };
        world.count_call("mmp.or21.repeated");
        return Err(error.into());
    }
    if let Some(unknown) = decisions
        .keys()
        .find(|id| !order.lines.iter().any(|line| &&line.id == id))
    {
        return Err(bad(format!(
            "The order line {unknown} does not exist or is not part of order {order_id}."
        )));
    }
    let missing: Vec<&str> = order
        .lines
        .iter()
        .filter(|line| !decisions.contains_key(&line.id))
        .map(|line| line.id.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "Every line of the order needs a decision; missing: {}.",
            missing.join(", ")
        )));
    }
    let mut refused = Vec::new();
    for line in &mut order.lines {
        line.refused = !decisions[&line.id];
        if line.refused {
            refused.push((line.offer_sku.clone(), line.quantity));
        }
    }
    let step = if decisions.values().any(|accepted| *accepted) {
        Step::Accept
    } else {
        Step::Refuse
    };
    order.take(step, "accepted or refused", now)?;
    marketplace.give_back(shop_id, &refused);
    Ok(StatusCode::NO_CONTENT)
}

/// OR23 `PUT /api/orders/{order_id}/tracking`: a registered carrier by `carrier_code` (its
/// name and URL are the marketplace's), or one the seller names with `carrier_name` and may
/// give a `carrier_url`; `tracking_number` in both cases. Allowed in SHIPPING and SHIPPED. 204.
pub async fn tracking(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let mut world = sandbox.world();
    let (shop_id, marketplace, now) = open_orders(&mut world, &call, Operation::Or23)?;
    let fields = object_body(&body)?;
    let tracking = tracking_of(&fields, "carrier_url")?
        .ok_or_else(|| bad("Name the carrier: carrier_code (a code from SH21) or carrier_name."))?;
    let order = marketplace.shop_order_mut(shop_id, call.order_id())?;
    if !matches!(order.state, OrderState::Shipping | OrderState::Shipped) {
        return Err(OrderError::WrongState {
            order_id: order.order_id.clone(),
            state: order.state,
            action: "given tracking",
        }
        .into());
    }
    order.tracking = tracking;
    order.updated = now;
    Ok(StatusCode::NO_CONTENT)
}

/// The tracking a request gives (OR23's body, an ST01 shipment's `tracking`): a registered
/// carrier by `carrier_code` (its name and URL are the marketplace's), or one the seller names
/// with `carrier_name` and may give a link in `url_field`; `tracking_number` in both cases.
/// `None` when it names no carrier.
fn tracking_of(fields: &Map<String, Value>, url_field: &str) -> Result<Option<Tracking>, ApiError> {
    let number = text(fields, "tracking_number")?;
    match (text(fields, "carrier_code")?, text(fields, "carrier_name")?) {
        (Some(code), _) => {
            let carrier = carriers::find(&code).ok_or_else(|| {
                bad(format!(
                    "The carrier '{code}' does not exist: use a code from SH21, or carrier_name."
                ))
            })?;
            Ok(Some(Tracking {
                carrier_code: Some(code),
                carrier_standard_code: Some(carrier.standard_code.to_owned()),
                carrier_name: Some(carrier.label.to_owned()),
                carrier_url: number.as_deref().map(|n| carrier.tracking_url_for(n)),
                tracking_number: number,
            }))
        }
        (None, Some(name)) => Ok(Some(Tracking {
            carrier_code: None,
            carrier_standard_code: text(fields, "carrier_standard_code")?,
            carrier_name: Some(name),
            carrier_url: text(fields, url_field)?,
            tracking_number: number,
        })),
        (None, None) => Ok(None),
    }
}

/// One shipment an ST01 body asks for.
struct ShipmentRequest {
    order_id: String,
    /// `(order_line_id, quantity)`.
    lines: Vec<(String, i64)>,
    tracking: Option<Tracking>,
}

impl ShipmentRequest {
    fn parse(value: &Value) -> Result<Self, ApiError> {
        let fields = value
            .as_object()
            .ok_or_else(|| bad("Each element of shipments must be an object."))?;
        let order_id =
            text(fields, "order_id")?.ok_or_else(|| bad("Each shipment needs an order_id."))?;
        let items = fields
            .get("shipment_lines")
            .and_then(Value::as_array)
            .filter(|items| !items.is_empty())
            .ok_or_else(|| {
                bad("Each shipment needs shipment_lines: [{\"order_line_id\": …, \"quantity\": …}].")
            })?;
        let mut lines = Vec::with_capacity(items.len());
        for item in items {
            let (Some(id), Some(quantity)) = (
                item.get("order_line_id").and_then(Value::as_str),
                item.get("quantity").and_then(Value::as_i64),
            ) else {
                return Err(bad(
                    "Each shipment line needs an order_line_id (string) and a quantity (integer).",
                ));
            };
            lines.push((id.to_owned(), quantity));
        }
        let tracking = match fields.get("tracking") {
            None | Some(Value::Null) => None,
            Some(Value::Object(tracking)) => tracking_of(tracking, "tracking_url")?,
            Some(_) => return Err(bad("tracking must be an object.")),
        };
        Ok(Self {
            order_id,
            lines,
            tracking,
        })
    }
}

/// ST01 `POST /api/shipments` `{"shipments": [{order_id, shipment_lines: [{order_line_id,
/// quantity}], tracking?: {carrier_code | carrier_name, tracking_number, tracking_url}}]}`
/// (multi-shipping): each shipment ships that many units of lines of an order in SHIPPING, and
/// an order whose every line is shipped in full becomes SHIPPED. The body is checked whole
/// first (400); then each shipment succeeds or fails alone: 201 with `shipment_success` and
/// `shipment_errors`, with Mirakl's messages. ASSUMPTION: `shipped: false` (a shipment
/// prepared, not gone) is taken as shipped too; the connector sends shipments once they left.
pub async fn shipments(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut world = sandbox.world();
    let (shop_id, marketplace, now) = open_orders(&mut world, &call, Operation::St01)?;
    let fields = object_body(&body)?;
    let requests = fields
        .get("shipments")
        .and_then(Value::as_array)
        .filter(|items| (1..=1000).contains(&items.len()))
        .ok_or_else(|| bad("shipments is required: 1 to 1000 shipments."))?
        .iter()
        .map(ShipmentRequest::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let mut success = Vec::new();
    let mut errors = Vec::new();
    for request in requests {
        match ship_lines(marketplace, shop_id, &request, now) {
            Ok(shipment) => success.push(shipment),
            Err(message) => {
                errors.push(json!({ "order_id": request.order_id, "message": message }));
            }
        }
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "shipment_success": success, "shipment_errors": errors })),
    ))
}

/// Ships the lines of one ST01 shipment, or says why not (nothing is changed then).
fn ship_lines(
    marketplace: &mut Marketplace,
    shop_id: i64,
    request: &ShipmentRequest,
    now: OffsetDateTime,
) -> Result<Value, String> {
    let order = marketplace
        .shop_order_mut(shop_id, &request.order_id)
        .map_err(|e| e.to_string())?;
    if order.state != OrderState::Shipping {
        return Err(format!(
            "The order status must be 'SHIPPING' but it is '{}'.",
            order.state.as_str()
        ));
    }
    let mut wanted: HashMap<&str, i64> = HashMap::new();
    for (id, quantity) in &request.lines {
        *wanted.entry(id.as_str()).or_default() += quantity;
    }
    for (id, quantity) in &wanted {
        let line = order
            .lines
            .iter()
            .find(|line| line.id == *id)
            .ok_or_else(|| format!("The order line {id} is not part of this order."))?;
        if line.refused || *quantity < 1 || line.shipped + quantity > line.quantity {
            return Err("Shipment quantity is invalid.".to_owned());
        }
    }
    let mut lines = Vec::new();
    for (id, quantity) in &request.lines {
        let line = order.line_mut(id).expect("checked above");
        line.shipped += quantity;
        lines.push(json!({
            "order_line_id": id,
            "offer_sku": line.offer_sku,
            "quantity": quantity,
        }));
    }
    if let Some(tracking) = &request.tracking {
        order.tracking = tracking.clone();
    }
    order.updated = now;
    order.shipments += 1;
    if order
        .lines
        .iter()
        .all(|line| line.refused || line.shipped >= line.quantity)
    {
        order
            .take(Step::Ship, "shipped", now)
            .map_err(|e| e.to_string())?;
    }
    let at = format_mirakl(now);
    let tracking = request.tracking.as_ref().map(|t| {
        json!({
            "carrier_code": t.carrier_code,
            "carrier_name": t.carrier_name,
            "carrier_standard_code": t.carrier_standard_code,
            "tracking_number": t.tracking_number,
            "tracking_url": t.carrier_url,
        })
    });
    Ok(json!({
        "id": format!("{}-S{}", order.order_id, order.shipments),
        "order_id": order.order_id,
        "created_date": at,
        "last_updated_date": at,
        "shipped_date": at,
        "status": "SHIPPED",
        "status_customer_debit": "DEBIT_OK",
        "shipment_lines": lines,
        "tracking": tracking,
    }))
}

/// OR24 `PUT /api/orders/{order_id}/ship`: SHIPPING → SHIPPED (any body, even `null`, is
/// ignored). 204; 400 in any other state.
pub async fn ship(State(sandbox): State<Sandbox>, call: ApiCall) -> Result<StatusCode, ApiError> {
    let mut world = sandbox.world();
    let (shop_id, marketplace, now) = open_orders(&mut world, &call, Operation::Or24)?;
    marketplace
        .shop_order_mut(shop_id, call.order_id())?
        .take(Step::Ship, "shipped", now)?;
    Ok(StatusCode::NO_CONTENT)
}

/// OR29 `PUT /api/orders/{order_id}/cancel`: cancels an accepted order not shipped yet, giving
/// its quantities back. 204; 400 in any other state.
pub async fn cancel(State(sandbox): State<Sandbox>, call: ApiCall) -> Result<StatusCode, ApiError> {
    let mut world = sandbox.world();
    let (shop_id, marketplace, now) = open_orders(&mut world, &call, Operation::Or29)?;
    marketplace.cancel_order(shop_id, call.order_id(), Step::SellerCancel, now)?;
    Ok(StatusCode::NO_CONTENT)
}

/// One refund an OR28 body asks for.
struct RefundRequest {
    order_line_id: String,
    amount: Money,
    shipping_amount: Money,
    quantity: i64,
    reason_code: String,
    currency: Option<String>,
}

impl RefundRequest {
    fn read(index: usize, item: &Value) -> Result<Self, ApiError> {
        let at = |name: &str| format!("refunds[{index}].{name}");
        let fields = item
            .as_object()
            .ok_or_else(|| bad(format!("refunds[{index}] must be an object.")))?;
        let money = |name: &str| {
            fields
                .get(name)
                .and_then(Money::from_json)
                .ok_or_else(|| bad(format!("{} is required: an amount of 0 or more.", at(name))))
        };
        let required = |name: &str| {
            text(fields, name)?
                .filter(|value| !value.is_empty())
                .ok_or_else(|| bad(format!("{} is required.", at(name))))
        };
        let quantity = match fields.get("quantity") {
            None | Some(Value::Null) => 0,
            Some(value) => value
                .as_i64()
                .filter(|quantity| *quantity >= 0)
                .ok_or_else(|| {
                    bad(format!(
                        "{} must be a whole number of 0 or more.",
                        at("quantity")
                    ))
                })?,
        };
        Ok(Self {
            order_line_id: required("order_line_id")?,
            amount: money("amount")?,
            shipping_amount: money("shipping_amount")?,
            quantity,
            reason_code: required("reason_code")?,
            currency: text(fields, "currency_iso_code")?,
        })
    }
}

/// OR28 `PUT /api/orders/refund` `{refunds: [{order_line_id, amount, shipping_amount,
/// reason_code, quantity?, currency_iso_code?}]}`: refunds lines in SHIPPING or SHIPPED, never
/// more than a line's price and shipping price in all. 200 with each refund's `refund_id` and
/// the `order_refund_id` that groups one call's refunds of one order. The reason codes are the
/// operator's, so any is taken. ASSUMPTION: the sandbox's orders have no taxes, so none is
/// required, and refunds change no state (`fully_refunded` and `can_refund` tell them).
pub async fn refund(
    State(sandbox): State<Sandbox>,
    call: ApiCall,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut world = sandbox.world();
    let (shop_id, marketplace, now) = open_orders(&mut world, &call, Operation::Or28)?;
    let fields = object_body(&body)?;
    let items = fields
        .get("refunds")
        .and_then(Value::as_array)
        .filter(|items| !items.is_empty())
        .ok_or_else(|| bad("refunds is required: a list of at least one refund."))?;
    let requests = items
        .iter()
        .enumerate()
        .map(|(index, item)| RefundRequest::read(index, item))
        .collect::<Result<Vec<_>, _>>()?;
    // Every request checked against what is left of its line, this call's earlier ones included.
    let mut taken: HashMap<&str, (Money, Money, i64)> = HashMap::new();
    let mut order_of = HashMap::new();
    for request in &requests {
        let line_id = request.order_line_id.as_str();
        let (order, line) = marketplace
            .orders
            .values()
            .filter(|order| order.shop_id == shop_id)
            .find_map(|order| {
                let line = order.lines.iter().find(|line| line.id == line_id)?;
                Some((order, line))
            })
            .ok_or_else(|| bad(format!("The order line {line_id} does not exist.")))?;
        if !matches!(
            order.line_state(line),
            OrderState::Shipping | OrderState::Shipped
        ) {
            return Err(bad(format!(
                "The order line {line_id} is {}: only a line in SHIPPING or SHIPPED can be refunded.",
                order.line_state(line).as_str()
            )));
        }
        if request
            .currency
            .as_ref()
            .is_some_and(|c| *c != order.currency)
        {
            return Err(bad(format!(
                "The order line {line_id} is in {}, not {}.",
                order.currency,
                request.currency.as_deref().unwrap_or_default()
            )));
        }
        let (amount, shipping, quantity) = taken.entry(line_id).or_insert_with(|| line.refunded());
        *amount = Money(amount.0 + request.amount.0);
        *shipping = Money(shipping.0 + request.shipping_amount.0);
        *quantity += request.quantity;
        if *amount > line.price() || *shipping > line.shipping_price || *quantity > line.quantity {
            return Err(bad(format!(
                "The refunds of order line {line_id} exceed what it was paid: {} and {} shipping for {} item(s).",
                line.price(),
                line.shipping_price,
                line.quantity
            )));
        }
        order_of.insert(line_id, order.order_id.clone());
    }
    let mut order_refund_ids: HashMap<String, String> = HashMap::new();
    let mut answers = Vec::with_capacity(requests.len());
    for request in &requests {
        let order_id = &order_of[request.order_line_id.as_str()];
        marketplace.next_refund_id += 1;
        let refund_id = marketplace.next_refund_id.to_string();
        let order = marketplace.orders.get_mut(order_id).expect("found above");
        let order_refund_id = order_refund_ids
            .entry(order_id.clone())
            .or_insert_with(|| {
                let id = format!("{order_id}-R{}", order.order_refunds.len() + 1);
                order.order_refunds.push(id.clone());
                id
            })
            .clone();
        order.updated = now;
        let line = order.line_mut(&request.order_line_id).expect("found above");
        line.refunds.push(LineRefund {
            refund_id: refund_id.clone(),
            order_refund_id: order_refund_id.clone(),
            amount: request.amount,
            shipping_amount: request.shipping_amount,
            quantity: request.quantity,
            reason_code: request.reason_code.clone(),
            created: now,
        });
        answers.push(json!({
            "refund_id": refund_id,
            "order_refund_id": order_refund_id,
            "order_line_id": request.order_line_id,
            "amount": request.amount.to_json(),
            "shipping_amount": request.shipping_amount.to_json(),
            "quantity": request.quantity,
            "reason_code": request.reason_code,
            "currency_iso_code": order.currency,
            "taxes": [],
            "shipping_taxes": [],
        }));
    }
    Ok(Json(
        json!({ "order_tax_mode": "TAX_INCLUDED", "refunds": answers }),
    ))
}
