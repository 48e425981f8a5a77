//! v2 orders: create (lines by `product_id` with `variant_id`, by `sku`, or custom by `name`
//! and price), list (paging, `min_date_modified`, `external_order_id`, `status_id`, …), read,
//! update (the status: cancelling gives the stock back), and an order's products, shipping
//! addresses and shipments (with tracking).
//!
//! v2 answers bare arrays and objects, errors as `[{status, message}]`, and an empty list as
//! 204 No Content. ASSUMPTION: a line asking for more tracked stock than there is refuses the
//! order (400); a status that returns stock (Cancelled, Refunded, Declined) gives it back
//! once.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::Sandbox;
use crate::bc::catalog::text;
use crate::bc::model::{
    BcStore, Order, OrderProduct, OrderStatus, Refund, Shipment, StockMove, Tracking, parse_date,
};
use crate::bc::{BcError, json_body, paging, parse_id, query_pairs, query_value};
use crate::values::clock::now;
use crate::values::money::Money;

fn bad(message: impl Into<String>) -> BcError {
    BcError::v2(StatusCode::BAD_REQUEST, message)
}

fn list(items: Vec<Value>) -> Response {
    if items.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Json(items).into_response()
    }
}

fn object(body: &Value) -> Result<&Map<String, Value>, BcError> {
    body.as_object()
        .ok_or_else(|| bad("The request body must be a JSON object."))
}

fn v2_text(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, BcError> {
    text(fields, name).map_err(|_| bad(format!("The field '{name}' must be text.")))
}

pub async fn create_order(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    body: Bytes,
) -> Result<Response, BcError> {
    let body = json_body(&body, true)?;
    let fields = object(&body)?;
    sandbox.bc_write(&hash, true, |store, api| {
        let billing = fields
            .get("billing_address")
            .filter(|a| a.is_object())
            .cloned()
            .ok_or_else(|| bad("The field 'billing_address' is required."))?;
        let lines = fields
            .get("products")
            .and_then(Value::as_array)
            .filter(|lines| !lines.is_empty())
            .ok_or_else(|| bad("The field 'products' is required: at least one product."))?;
        let status = match fields.get("status_id") {
            None | Some(Value::Null) => OrderStatus::Pending,
            Some(raw) => raw
                .as_i64()
                .and_then(OrderStatus::from_id)
                .ok_or_else(|| bad("The field 'status_id' is not a valid status."))?,
        };
        let mut products = Vec::with_capacity(lines.len());
        for line in lines {
            let line = line
                .as_object()
                .ok_or_else(|| bad("Each product must be an object."))?;
            products.push(order_line(store, line)?);
        }
        // All lines together must fit the stock, before any is taken.
        let mut wanted: std::collections::BTreeMap<(i64, i64), i64> = Default::default();
        for line in &products {
            if let Some((product_id, variant_id, _)) = line.took_stock {
                *wanted.entry((product_id, variant_id)).or_default() += line.quantity;
            }
        }
        for ((product_id, variant_id), quantity) in &wanted {
            let product = &store.products[product_id];
            let level = match product.inventory_tracking {
                Tracking::Variant => product.variant(*variant_id).map_or(0, |v| v.inventory_level),
                _ => product.inventory_level,
            };
            if level < *quantity {
                return Err(bad(format!(
                    "The product '{}' does not have enough stock: {level} left, {quantity} ordered.",
                    product.name
                )));
            }
        }
        let mut shipping_addresses = Vec::new();
        match fields.get("shipping_addresses") {
            None | Some(Value::Null) => {}
            Some(Value::Array(addresses)) => {
                for address in addresses {
                    if !address.is_object() {
                        return Err(bad("Each shipping address must be an object."));
                    }
                    shipping_addresses.push(address.clone());
                }
            }
            Some(_) => return Err(bad("The field 'shipping_addresses' must be a list.")),
        }
        if shipping_addresses.is_empty() {
            shipping_addresses.push(billing.clone());
        }
        let at = now();
        let id = store.next_id();
        let shipping_addresses = shipping_addresses
            .into_iter()
            .map(|address| (store.next_id(), address))
            .collect();
        for line in &mut products {
            line.id = store.next_id();
        }
        for line in &products {
            if let Some((product_id, variant_id, _)) = line.took_stock {
                store.move_stock(product_id, variant_id, -line.quantity, StockMove::Order);
            }
        }
        let order = Order {
            id,
            refunds: Vec::new(),
            status,
            billing_address: billing,
            shipping_addresses,
            products,
            shipments: Vec::new(),
            external_source: v2_text(fields, "external_source")?.unwrap_or_default(),
            external_id: v2_text(fields, "external_id")?.unwrap_or_default(),
            external_order_id: v2_text(fields, "external_order_id")?.unwrap_or_default(),
            customer_message: v2_text(fields, "customer_message")?.unwrap_or_default(),
            staff_notes: v2_text(fields, "staff_notes")?.unwrap_or_default(),
            currency_code: store.currency.clone(),
            stock_returned: false,
            date_created: at,
            date_modified: at,
        };
        let json = order.to_json(api);
        store.orders.insert(id, order);
        store.fire("store/order/created", json!({ "type": "order", "id": id }));
        Ok((StatusCode::CREATED, Json(json)).into_response())
    })
}

/// One line of a new order, its price and the stock it takes (not yet taken).
fn order_line(store: &BcStore, line: &Map<String, Value>) -> Result<OrderProduct, BcError> {
    let quantity = line
        .get("quantity")
        .and_then(Value::as_i64)
        .filter(|q| (1..=1_000_000).contains(q))
        .ok_or_else(|| bad("Each product needs a quantity of 1 or more."))?;
    let given_price = ["price_inc_tax", "price_ex_tax"]
        .iter()
        .find_map(|name| line.get(*name).filter(|v| !v.is_null()))
        .map(|price| {
            Money::from_json(price)
                .ok_or_else(|| bad("A product's price must be an amount of 0 or more."))
        })
        .transpose()?;
    let by_id = line.get("product_id").and_then(Value::as_i64);
    let by_sku = line.get("sku").and_then(Value::as_str);
    let target = match (by_id, by_sku) {
        (Some(product_id), _) => {
            let product = store
                .products
                .get(&product_id)
                .ok_or_else(|| bad(format!("The product {product_id} does not exist.")))?;
            let variant_id = match line.get("variant_id").and_then(Value::as_i64) {
                Some(variant_id) => {
                    product.variant(variant_id).ok_or_else(|| {
                        bad(format!(
                            "The variant {variant_id} is not one of product {product_id}."
                        ))
                    })?;
                    variant_id
                }
                None => match product.base_variant_id() {
                    Some(base) => base,
                    None => {
                        return Err(bad(format!(
                            "The product {product_id} has options: give its variant_id."
                        )));
                    }
                },
            };
            Some((product_id, variant_id))
        }
        (None, Some(sku)) => {
            let (product_id, variant_id) = store
                .find_sku(sku)
                .ok_or_else(|| bad(format!("No product has the SKU '{sku}'.")))?;
            let product = &store.products[&product_id];
            let variant_id = if variant_id == 0 {
                product.base_variant_id().ok_or_else(|| {
                    bad(format!(
                        "The SKU '{sku}' is a product with options: give a variant's SKU."
                    ))
                })?
            } else {
                variant_id
            };
            Some((product_id, variant_id))
        }
        (None, None) => None,
    };
    match target {
        Some((product_id, variant_id)) => {
            let product = &store.products[&product_id];
            let variant = product.variant(variant_id);
            let listed = variant.and_then(|v| v.sale_price.or(v.price)).unwrap_or(
                if product.sale_price.0 > 0 {
                    product.sale_price
                } else {
                    product.price
                },
            );
            let took_stock = (product.inventory_tracking != Tracking::None).then_some((
                product_id,
                variant_id,
                product.inventory_tracking,
            ));
            Ok(OrderProduct {
                id: 0,
                product_id,
                variant_id,
                name: product.name.clone(),
                sku: variant.map_or_else(|| product.sku.clone(), |v| v.sku.clone()),
                upc: variant.map_or_else(String::new, |v| v.upc.clone()),
                quantity,
                quantity_shipped: 0,
                price: given_price.unwrap_or(listed),
                took_stock,
            })
        }
        None => {
            let name = line
                .get("name")
                .and_then(Value::as_str)
                .filter(|name| !name.trim().is_empty())
                .ok_or_else(|| {
                    bad("Each product needs a product_id, a sku, or a name and a price.")
                })?;
            let price = given_price
                .ok_or_else(|| bad("A custom product needs price_inc_tax or price_ex_tax."))?;
            Ok(OrderProduct {
                id: 0,
                product_id: 0,
                variant_id: 0,
                name: name.to_owned(),
                sku: line
                    .get("sku")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                upc: String::new(),
                quantity,
                quantity_shipped: 0,
                price,
                took_stock: None,
            })
        }
    }
}

pub async fn list_orders(
    State(sandbox): State<Sandbox>,
    Path(hash): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, BcError> {
    let pairs = query_pairs(query.as_deref());
    let (page, limit) = paging(&pairs, true)?;
    let date = |name: &str| match query_value(&pairs, name) {
        None => Ok(None),
        Some(raw) => parse_date(raw).map(Some).ok_or_else(|| {
            bad(format!(
                "The filter '{name}' must be a date (RFC 2822 or ISO 8601)."
            ))
        }),
    };
    let number = |name: &str| match query_value(&pairs, name) {
        None => Ok(None),
        Some(raw) => raw
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad(format!("The filter '{name}' must be a number."))),
    };
    let (min_modified, max_modified) = (date("min_date_modified")?, date("max_date_modified")?);
    let (min_created, max_created) = (date("min_date_created")?, date("max_date_created")?);
    let (min_id, max_id, status_id) = (number("min_id")?, number("max_id")?, number("status_id")?);
    let external = query_value(&pairs, "external_order_id");
    let sort = query_value(&pairs, "sort").unwrap_or("id:asc").to_owned();
    sandbox.bc_read(&hash, true, |store, api| {
        let mut orders: Vec<&Order> = store
            .orders
            .values()
            .filter(|o| min_modified.is_none_or(|min| o.date_modified >= min))
            .filter(|o| max_modified.is_none_or(|max| o.date_modified <= max))
            .filter(|o| min_created.is_none_or(|min| o.date_created >= min))
            .filter(|o| max_created.is_none_or(|max| o.date_created <= max))
            .filter(|o| min_id.is_none_or(|min| o.id >= min))
            .filter(|o| max_id.is_none_or(|max| o.id <= max))
            .filter(|o| status_id.is_none_or(|status| o.status.id() == status))
            .filter(|o| external.is_none_or(|external| o.external_order_id == external))
            .collect();
        match sort.as_str() {
            "id:asc" | "id" => {}
            "id:desc" => orders.reverse(),
            "date_modified:asc" | "date_modified" => {
                orders.sort_by_key(|o| (o.date_modified, o.id))
            }
            "date_modified:desc" => {
                orders.sort_by_key(|o| (o.date_modified, o.id));
                orders.reverse();
            }
            "date_created:asc" | "date_created" => orders.sort_by_key(|o| (o.date_created, o.id)),
            "date_created:desc" => {
                orders.sort_by_key(|o| (o.date_created, o.id));
                orders.reverse();
            }
            _ => {
                return Err(bad(
                    "The sort must be id, date_created or date_modified, :asc or :desc.",
                ));
            }
        }
        let items = orders
            .into_iter()
            .skip((page - 1).saturating_mul(limit))
            .take(limit)
            .map(|o| o.to_json(api))
            .collect();
        Ok(list(items))
    })
}

fn order<'s>(store: &'s BcStore, id: &str) -> Result<&'s Order, BcError> {
    let id = parse_id(id, true, "order")?;
    store
        .orders
        .get(&id)
        .ok_or_else(|| BcError::not_found(true, "order"))
}

pub async fn get_order(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
) -> Result<Response, BcError> {
    sandbox.bc_read(&hash, true, |store, api| {
        Ok(Json(order(store, &id)?.to_json(api)).into_response())
    })
}

pub async fn list_order_products(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
) -> Result<Response, BcError> {
    sandbox.bc_read(&hash, true, |store, _| {
        let order = order(store, &id)?;
        Ok(list(
            order
                .products
                .iter()
                .map(|line| order.product_json(line))
                .collect(),
        ))
    })
}

pub async fn list_shipping_addresses(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
) -> Result<Response, BcError> {
    sandbox.bc_read(&hash, true, |store, _| {
        let order = order(store, &id)?;
        let items = order
            .shipping_addresses
            .iter()
            .map(|(address_id, address)| {
                let mut address = address.clone();
                address["id"] = json!(address_id);
                address["order_id"] = json!(order.id);
                address["items_total"] =
                    json!(order.products.iter().map(|p| p.quantity).sum::<i64>());
                address["items_shipped"] = json!(
                    order
                        .products
                        .iter()
                        .map(|p| p.quantity_shipped)
                        .sum::<i64>()
                );
                address
            })
            .collect();
        Ok(list(items))
    })
}

pub async fn list_shipments(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
) -> Result<Response, BcError> {
    sandbox.bc_read(&hash, true, |store, _| {
        let order = order(store, &id)?;
        Ok(list(
            order
                .shipments
                .iter()
                .map(|s| order.shipment_json(s))
                .collect(),
        ))
    })
}

pub async fn update_order(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, BcError> {
    let id = parse_id(&id, true, "order")?;
    let body = json_body(&body, true)?;
    let fields = object(&body)?;
    if fields.contains_key("external_id") {
        return Err(bad(
            "The field 'external_id' can only be set when the order is created.",
        ));
    }
    let status = match fields.get("status_id") {
        None | Some(Value::Null) => None,
        Some(raw) => Some(
            raw.as_i64()
                .and_then(OrderStatus::from_id)
                .ok_or_else(|| bad("The field 'status_id' is not a valid status."))?,
        ),
    };
    sandbox.bc_write(&hash, true, |store, api| {
        let mut order = store
            .orders
            .get(&id)
            .cloned()
            .ok_or_else(|| BcError::not_found(true, "order"))?;
        for (name, slot) in [
            ("customer_message", &mut order.customer_message),
            ("staff_notes", &mut order.staff_notes),
            ("external_order_id", &mut order.external_order_id),
            ("external_source", &mut order.external_source),
        ] {
            if let Some(value) = v2_text(fields, name)? {
                *slot = value;
            }
        }
        if let Some(address) = fields.get("billing_address").filter(|a| !a.is_null()) {
            if !address.is_object() {
                return Err(bad("The field 'billing_address' must be an object."));
            }
            order.billing_address = address.clone();
        }
        let previous = order.status;
        order.date_modified = now();
        if let Some(status) = status {
            order.status = status;
        }
        store.orders.insert(id, order);
        set_status_effects(store, id, previous);
        store.fire("store/order/updated", json!({ "type": "order", "id": id }));
        Ok(Json(store.orders[&id].to_json(api)).into_response())
    })
}

/// What a status change does beside the status: the stock of a cancelled order goes back,
/// and `store/order/statusUpdated` fires.
fn set_status_effects(store: &mut BcStore, id: i64, previous: OrderStatus) {
    let Some(order) = store.orders.get_mut(&id) else {
        return;
    };
    let current = order.status;
    if current == previous {
        return;
    }
    let mut returned = Vec::new();
    if current.returns_stock() && !order.stock_returned {
        order.stock_returned = true;
        returned = order
            .products
            .iter()
            .filter_map(|line| line.took_stock.map(|(p, v, _)| (p, v, line.quantity)))
            .collect();
    }
    for (product_id, variant_id, quantity) in returned {
        store.move_stock(product_id, variant_id, quantity, StockMove::Order);
    }
    store.fire(
        "store/order/statusUpdated",
        json!({ "type": "order", "id": id, "status": {
            "previous_status_id": previous.id(), "new_status_id": current.id(),
        }}),
    );
}

pub async fn create_shipment(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, BcError> {
    let id = parse_id(&id, true, "order")?;
    let body = json_body(&body, true)?;
    let fields = object(&body)?;
    sandbox.bc_write(&hash, true, |store, _| {
        let mut order = store
            .orders
            .get(&id)
            .cloned()
            .ok_or_else(|| BcError::not_found(true, "order"))?;
        let address_id = fields
            .get("order_address_id")
            .and_then(Value::as_i64)
            .filter(|address| order.shipping_addresses.iter().any(|(id, _)| id == address))
            .ok_or_else(|| {
                bad("The field 'order_address_id' must name a shipping address of the order.")
            })?;
        let items = fields
            .get("items")
            .and_then(Value::as_array)
            .filter(|items| !items.is_empty())
            .ok_or_else(|| bad("The field 'items' is required: at least one order product."))?;
        let mut shipped = Vec::new();
        for item in items {
            let line_id = item.get("order_product_id").and_then(Value::as_i64);
            let quantity = item
                .get("quantity")
                .and_then(Value::as_i64)
                .filter(|q| *q > 0);
            let (Some(line_id), Some(quantity)) = (line_id, quantity) else {
                return Err(bad(
                    "Each item needs an order_product_id and a quantity of 1 or more.",
                ));
            };
            let line = order
                .products
                .iter_mut()
                .find(|line| line.id == line_id)
                .ok_or_else(|| bad(format!("The order has no product {line_id}.")))?;
            if line.quantity_shipped + quantity > line.quantity {
                return Err(bad(format!(
                    "The order product {line_id} has {} left to ship, not {quantity}.",
                    line.quantity - line.quantity_shipped
                )));
            }
            line.quantity_shipped += quantity;
            shipped.push((line_id, quantity));
        }
        let shipment = Shipment {
            id: store.next_id(),
            order_address_id: address_id,
            tracking_number: v2_text(fields, "tracking_number")?.unwrap_or_default(),
            tracking_carrier: v2_text(fields, "tracking_carrier")?.unwrap_or_default(),
            shipping_provider: v2_text(fields, "shipping_provider")?.unwrap_or_default(),
            comments: v2_text(fields, "comments")?.unwrap_or_default(),
            items: shipped,
            date_created: now(),
        };
        let previous = order.status;
        let all_shipped = order
            .products
            .iter()
            .all(|l| l.quantity_shipped >= l.quantity);
        order.status = if all_shipped {
            OrderStatus::Shipped
        } else {
            OrderStatus::PartiallyShipped
        };
        order.date_modified = now();
        let json = order.shipment_json(&shipment);
        let shipment_id = shipment.id;
        order.shipments.push(shipment);
        store.orders.insert(id, order);
        store.fire(
            "store/shipment/created",
            json!({ "type": "shipment", "id": shipment_id, "orderId": id }),
        );
        set_status_effects(store, id, previous);
        store.fire("store/order/updated", json!({ "type": "order", "id": id }));
        Ok((StatusCode::CREATED, Json(json)).into_response())
    })
}

fn refund_json(order_id: i64, refund: &Refund) -> Value {
    json!({
        "id": refund.id,
        "order_id": order_id,
        "user_id": 0,
        "created": crate::bc::model::format_v3(refund.created),
        "reason": refund.reason,
        "total_amount": refund.total_amount.to_json(),
        "total_tax": 0,
        "uses_merchant_override_values": true,
        "payments": [{ "id": refund.id, "provider_id": "custom", "amount": refund.total_amount.to_json(),
                       "offline": true, "is_declined": false, "declined_message": "" }],
    })
}

/// `GET /v3/orders/{id}/payment_actions/refunds`: the order's refunds.
pub async fn list_refunds(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "order")?;
    sandbox.bc_read(&hash, false, |store, _| {
        let order = store
            .orders
            .get(&id)
            .ok_or_else(|| BcError::not_found(false, "order"))?;
        let data: Vec<Value> = order.refunds.iter().map(|r| refund_json(id, r)).collect();
        Ok(Json(json!({ "data": data, "meta": {} })).into_response())
    })
}

/// `POST /v3/orders/{id}/payment_actions/refunds`: a refund of an amount of the order,
/// `{items: [{item_type: "ORDER", item_id, amount}], payments: [...], reason?}`. The order
/// becomes Partially Refunded, or Refunded once its total is refunded.
/// ASSUMPTION: only the order-level item type is taken (BigCommerce also refunds products,
/// shipping and handling by item), and the payments are not checked against a refund quote.
pub async fn create_refund(
    State(sandbox): State<Sandbox>,
    Path((hash, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, BcError> {
    let id = parse_id(&id, false, "order")?;
    let body = json_body(&body, false)?;
    let fields = crate::bc::catalog::object(&body)?;
    let items = fields
        .get("items")
        .and_then(Value::as_array)
        .filter(|items| !items.is_empty())
        .ok_or_else(|| BcError::field(false, "items", "at least one item to refund"))?;
    let mut amount = Money(0);
    for item in items {
        let valid = item.get("item_type").and_then(Value::as_str) == Some("ORDER")
            && item.get("item_id").and_then(Value::as_i64) == Some(id);
        let item_amount = item
            .get("amount")
            .and_then(Money::from_json)
            .filter(|m| m.0 > 0);
        match (valid, item_amount) {
            (true, Some(item_amount)) => amount = Money(amount.0 + item_amount.0),
            _ => {
                return Err(BcError::field(
                    false,
                    "items",
                    "each item must be {item_type: ORDER, item_id: the order, amount > 0}",
                ));
            }
        }
    }
    let reason = text(fields, "reason")
        .map_err(|_| BcError::field(false, "reason", "must be text"))?
        .unwrap_or_default();
    sandbox.bc_write(&hash, false, |store, _| {
        let refund_id = store.next_id();
        let order = store
            .orders
            .get_mut(&id)
            .ok_or_else(|| BcError::not_found(false, "order"))?;
        let refunded: i64 = order.refunds.iter().map(|r| r.total_amount.0).sum();
        if refunded + amount.0 > order.total().0 {
            return Err(BcError::v3(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The refund exceeds the amount left to refund on the order.",
            ));
        }
        let refund = Refund {
            id: refund_id,
            total_amount: amount,
            reason,
            created: now(),
        };
        let json = refund_json(id, &refund);
        order.refunds.push(refund);
        let previous = order.status;
        order.status = if refunded + amount.0 >= order.total().0 {
            OrderStatus::Refunded
        } else {
            OrderStatus::PartiallyRefunded
        };
        order.date_modified = now();
        set_status_effects(store, id, previous);
        store.fire("store/order/updated", json!({ "type": "order", "id": id }));
        Ok((
            StatusCode::CREATED,
            Json(json!({ "data": json, "meta": {} })),
        )
            .into_response())
    })
}
