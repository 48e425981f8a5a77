//! `orders/{id}/refunds` of `wp-json/wc/v3`: an order's refunds, listed (paged, newest first),
//! read, created and deleted, following core's refunds controller and `wc_create_refund`.
//!
//! A refund takes `amount` (or the sum of its lines' `refund_total`), never more than is left
//! to refund (else 500 "Invalid refund amount."), with a `reason` and `line_items` ({id,
//! quantity, refund_total}). With `api_refund` (true unless sent false) core asks the payment
//! gateway to pay it back; the sandbox's stores have only core's offline gateways (bank
//! transfer, cheque, cash on delivery), which cannot, so such a refund fails with 500, as it
//! would there: a refund the marketplace pays is recorded with `api_refund: false`. With
//! `api_restock` (true unless sent false) the refunded quantities go back to stock. The refund
//! that leaves nothing to refund sets the order `refunded`; every refund fires `order.updated`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Sandbox;
use crate::values::clock::now;
use crate::values::money::Money;
use crate::woo::model::{
    Event, Meta, Order, OrderStatus, Resource, WooStore, format_date, set_meta,
};
use crate::woo::orders::transition;
use crate::woo::parse_id;
use crate::woo::resource::require_force;
use crate::woo::rest::{
    Fields, Paging, QueryParams, RestError, RestResult, created_response, json_response, parse_body,
};

/// The payment gateways core ships, none of which refunds by API.
const OFFLINE_GATEWAYS: [&str; 3] = ["bacs", "cheque", "cod"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundLine {
    /// The refund's own item id.
    pub id: i64,
    /// The order's line it refunds (`_refunded_item_id`).
    pub refunded_item_id: i64,
    pub quantity: i64,
    pub total: Money,
}

#[derive(Debug, Clone)]
pub struct Refund {
    pub id: i64,
    pub amount: Money,
    pub reason: String,
    pub refunded_by: i64,
    pub refunded_payment: bool,
    pub lines: Vec<RefundLine>,
    pub meta_data: Vec<Meta>,
    pub created: OffsetDateTime,
}

/// What a refund asks for, from a REST body or the control API.
#[derive(Debug, Clone, Default)]
pub struct RefundRequest {
    pub amount: Option<Money>,
    pub reason: String,
    /// `(order line id, quantity, refund_total)`.
    pub line_items: Vec<(i64, i64, Option<Money>)>,
    pub api_refund: bool,
    pub api_restock: bool,
    pub meta_data: Vec<(String, Value)>,
}

impl RefundRequest {
    fn from_fields(fields: &Fields<'_>) -> Result<Self, RestError> {
        let mut line_items = Vec::new();
        for item in fields.array("line_items")?.into_iter().flatten() {
            let item = Fields::of(item)?;
            let Some(id) = item.integer("id")? else {
                continue;
            };
            let total = match item.raw("refund_total") {
                None => None,
                Some(value) => Some(Money::from_json(value).ok_or_else(|| {
                    RestError::invalid_param("line_items", "refund_total is not a number.")
                })?),
            };
            line_items.push((id, item.integer("quantity")?.unwrap_or(0), total));
        }
        let mut meta_data = Vec::new();
        for entry in fields.array("meta_data")?.into_iter().flatten() {
            let entry = Fields::of(entry)?;
            meta_data.push((
                entry.string("key")?.unwrap_or_default(),
                entry.raw("value").cloned().unwrap_or(Value::Null),
            ));
        }
        Ok(Self {
            amount: fields.money("amount")?.flatten(),
            reason: fields.string("reason")?.unwrap_or_default(),
            line_items,
            // Core counts only a JSON boolean as false; anything else is the default, true.
            api_refund: !matches!(fields.raw("api_refund"), Some(Value::Bool(false))),
            api_restock: !matches!(fields.raw("api_restock"), Some(Value::Bool(false))),
            meta_data,
        })
    }
}

fn cannot_create(message: &str) -> RestError {
    RestError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "woocommerce_rest_cannot_create_order_refund",
        message,
    )
}

fn invalid_order() -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        "woocommerce_rest_invalid_order_id",
        "Invalid order ID.",
    )
}

/// Creates a refund of an order (`wc_create_refund`); its id.
pub fn create_refund(
    store: &mut WooStore,
    order_id: i64,
    request: RefundRequest,
) -> Result<i64, RestError> {
    let order = store.orders.get(&order_id).ok_or_else(invalid_order)?;
    let amount = request.amount.unwrap_or_else(|| {
        let totals: Option<Vec<Money>> = request.line_items.iter().map(|line| line.2).collect();
        Money(totals.map_or(0, |totals| totals.iter().map(|total| total.0).sum()))
    });
    if amount.0 < 0 {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_invalid_order_refund",
            "Refund amount must be greater than zero.",
        ));
    }
    let remaining = order.remaining_refund();
    if amount > remaining {
        return Err(cannot_create("Invalid refund amount."));
    }
    if request.api_refund {
        return Err(cannot_create(
            if OFFLINE_GATEWAYS.contains(&order.payment_method.as_str()) {
                "The payment gateway for this order does not support automatic refunds."
            } else {
                "The payment gateway for this order does not exist."
            },
        ));
    }
    // Lines the order has, with something to refund, in the order's order.
    let refunded: Vec<(i64, i64, Money)> = order
        .line_items
        .iter()
        .filter_map(|line| {
            let (_, quantity, total) = request.line_items.iter().find(|item| item.0 == line.id)?;
            let total = total.unwrap_or(Money(0));
            (*quantity != 0 || total.0 != 0).then_some((line.id, *quantity, total))
        })
        .collect();
    let at = now();
    let id = store.next_post_id();
    let mut lines = Vec::with_capacity(refunded.len());
    for (item, quantity, total) in &refunded {
        lines.push(RefundLine {
            id: store.next_item_id(),
            refunded_item_id: *item,
            quantity: *quantity,
            total: *total,
        });
    }
    let mut meta_data = Vec::new();
    for (key, value) in request.meta_data {
        set_meta(&mut meta_data, &mut store.next_meta_id, None, &key, value);
    }
    let order = store.orders.get_mut(&order_id).expect("found above");
    order.refunds.push(Refund {
        id,
        amount,
        reason: request.reason,
        // The user of the key, the store's admin.
        refunded_by: 1,
        refunded_payment: false,
        lines,
        meta_data,
        created: at,
    });
    if request.api_restock {
        restock(store, order_id, &refunded, at);
    }
    if amount >= remaining {
        transition(store, order_id, OrderStatus::Refunded, at);
    }
    if let Some(order) = store.orders.get_mut(&order_id) {
        order.modified = at;
    }
    store.record(Resource::Order, Event::Updated, order_id);
    Ok(id)
}

/// `wc_restock_refunded_items`: each refunded quantity of a line whose stock was taken goes
/// back to its managed product, with core's note.
fn restock(
    store: &mut WooStore,
    order_id: i64,
    refunded: &[(i64, i64, Money)],
    at: OffsetDateTime,
) {
    for (item, quantity, _) in refunded.iter().filter(|(_, quantity, _)| *quantity > 0) {
        let Some(line) = store
            .orders
            .get_mut(&order_id)
            .and_then(|order| order.line_items.iter_mut().find(|line| line.id == *item))
        else {
            continue;
        };
        let holder = if line.variation_id != 0 {
            line.variation_id
        } else {
            line.product_id
        };
        if line.reduced_stock <= 0 {
            continue;
        }
        let Some(product) = store.products.get_mut(&holder).filter(|p| p.manage_stock) else {
            continue;
        };
        line.reduced_stock -= quantity;
        let old = product.stock_quantity.unwrap_or(0);
        product.stock_quantity = Some(old + quantity);
        product.sync_stock_status();
        store.touch_product(holder, at);
        store.add_note(
            order_id,
            &format!(
                "Item #{holder} stock increased from {old} to {}.",
                old + quantity
            ),
            false,
            None,
        );
    }
}

fn refund_json(order: &Order, refund: &Refund, store_url: &str) -> Value {
    let collection = format!("{store_url}/wp-json/wc/v3/orders/{}/refunds", order.id);
    let line_items: Vec<Value> = refund
        .lines
        .iter()
        .map(|line| {
            let original = order
                .line_items
                .iter()
                .find(|item| item.id == line.refunded_item_id);
            json!({
                "id": line.id,
                "name": original.map_or("", |item| item.name.as_str()),
                "product_id": original.map_or(0, |item| item.product_id),
                "variation_id": original.map_or(0, |item| item.variation_id),
                "quantity": -line.quantity,
                "tax_class": "",
                "subtotal": Money(-line.total.0).to_string(),
                "subtotal_tax": "0.00",
                "total": Money(-line.total.0).to_string(),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
                "sku": original.map_or("", |item| item.sku.as_str()),
                "price": if line.quantity == 0 { 0.0 } else { -(line.total.0 as f64) / 100.0 / line.quantity as f64 },
            })
        })
        .collect();
    json!({
        "id": refund.id,
        "date_created": format_date(refund.created),
        "date_created_gmt": format_date(refund.created),
        "amount": refund.amount.to_string(),
        "reason": refund.reason,
        "refunded_by": refund.refunded_by,
        "refunded_payment": refund.refunded_payment,
        "meta_data": refund.meta_data.iter().map(|m| json!({ "id": m.id, "key": m.key, "value": m.value })).collect::<Vec<_>>(),
        "line_items": line_items,
        "shipping_lines": [],
        "tax_lines": [],
        "fee_lines": [],
        "_links": {
            "self": [{ "href": format!("{collection}/{}", refund.id) }],
            "collection": [{ "href": collection }],
            "up": [{ "href": format!("{store_url}/wp-json/wc/v3/orders/{}", order.id) }],
        },
    })
}

/// The order's refunds as its own JSON lists them: `{id, reason, total}`, newest first.
pub fn refunds_summary(order: &Order) -> Vec<Value> {
    order
        .refunds
        .iter()
        .rev()
        .map(|refund| {
            json!({ "id": refund.id, "reason": refund.reason, "total": format!("-{}", refund.amount) })
        })
        .collect()
}

pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/orders/{id}/refunds", get(list).post(create))
        .route("/orders/{id}/refunds/{refund}", get(read).delete(delete))
}

/// `GET orders/{id}/refunds`: paged, newest first; an order without refunds (or none at all)
/// lists none.
async fn list(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> RestResult {
    let order_id = parse_id(&id)?;
    let query = QueryParams::parse(raw.as_deref());
    let paging = Paging::from_query(&query)?;
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let collection = format!("{url}/wp-json/wc/v3/orders/{order_id}/refunds");
    let Some(order) = store.orders.get(&order_id) else {
        return Ok(paging.respond(Vec::<&Refund>::new(), &collection, &query, |_| Value::Null));
    };
    let refunds: Vec<&Refund> = order.refunds.iter().rev().collect();
    Ok(paging.respond(refunds, &collection, &query, |refund| {
        refund_json(order, refund, &url)
    }))
}

/// The order and the position of one of its refunds, or core's 404s.
fn find(store: &WooStore, order_id: i64, refund_id: i64) -> Result<(&Order, usize), RestError> {
    let order = store.orders.get(&order_id).ok_or_else(invalid_order)?;
    if let Some(index) = order.refunds.iter().position(|r| r.id == refund_id) {
        return Ok((order, index));
    }
    let elsewhere = store
        .orders
        .values()
        .any(|other| other.refunds.iter().any(|r| r.id == refund_id));
    Err(if elsewhere {
        RestError::new(
            StatusCode::NOT_FOUND,
            "woocommerce_rest_invalid_order_refund_id",
            "Invalid order refund ID.",
        )
    } else {
        RestError::invalid_id("shop_order_refund")
    })
}

async fn read(
    State(sandbox): State<Sandbox>,
    Path((code, id, refund)): Path<(String, String, String)>,
) -> RestResult {
    let (order_id, refund_id) = (parse_id(&id)?, parse_id(&refund)?);
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let (order, index) = find(store, order_id, refund_id)?;
    Ok(json_response(
        StatusCode::OK,
        refund_json(order, &order.refunds[index], &url),
    ))
}

/// `POST orders/{id}/refunds {amount?, reason?, line_items?, api_refund?, api_restock?,
/// meta_data?}` → 201.
async fn create(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let order_id = parse_id(&id)?;
    let body = parse_body(&headers, &body)?;
    let request = RefundRequest::from_fields(&Fields::of(&body)?)?;
    sandbox.woo_write(&code, |store, url| {
        let refund_id = create_refund(store, order_id, request)?;
        let order = &store.orders[&order_id];
        let refund = order.refunds.last().expect("just created");
        Ok(created_response(
            url,
            &format!("orders/{order_id}/refunds"),
            refund_id,
            refund_json(order, refund, url),
        ))
    })
}

/// `DELETE orders/{id}/refunds/{refund}`: permanent (`force` defaults to true; refunds cannot
/// be trashed). The order keeps its status.
async fn delete(
    State(sandbox): State<Sandbox>,
    Path((code, id, refund)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let (order_id, refund_id) = (parse_id(&id)?, parse_id(&refund)?);
    require_force(
        raw.as_deref(),
        &headers,
        &body,
        true,
        "The shop_order_refund does not support trashing.",
    )?;
    sandbox.woo_write(&code, |store, url| {
        let (order, index) = find(store, order_id, refund_id)?;
        let body = refund_json(order, &order.refunds[index], url);
        if let Some(order) = store.orders.get_mut(&order_id) {
            order.refunds.remove(index);
        }
        Ok(json_response(StatusCode::OK, body))
    })
}
