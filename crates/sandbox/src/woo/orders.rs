//! `orders` of `wp-json/wc/v3`, and what an order does to stock.
//!
//! Creation follows core's controller: a line item names its product by `sku` (which wins),
//! `variation_id` or `product_id`, else 400 `woocommerce_rest_required_product_reference`;
//! a line without `total` costs the product's price times the quantity; `created_via` is
//! `rest-api`; `set_paid` completes the payment (status `processing`).
//!
//! Stock moves once per order (core's `_order_stock_reduced`): entering processing, on-hold or
//! completed takes each managed line's quantity, going back to pending or cancelled gives back
//! exactly what was taken (a refund's restock gives back part of it: `refunds`). Each move
//! bumps the product's `date_modified` and fires `product.updated`. Each status change adds
//! core's system note (`notes`).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::Value;
use time::OffsetDateTime;

use crate::entropy::random_token;
use crate::values::clock::now;
use crate::values::money::Money;
use crate::woo::model::{
    Address, Event, LineItem, Order, OrderStatus, ProductType, Resource, ShippingLine, StockEffect,
    WooStore, set_meta,
};
use crate::woo::resource::{InStore, ListQuery, RestResource};
use crate::woo::rest::{DateFilter, Fields, QueryParams, RestError};
use crate::woo::views::order_json;

/// `orders`.
pub struct Orders;

impl RestResource for Orders {
    const ROUTE: &'static str = "orders";
    type Scope = InStore;
    type Filter = OrderFilter;

    fn items(store: &WooStore, _: InStore) -> &BTreeMap<i64, Order> {
        &store.orders
    }

    fn unknown_id() -> RestError {
        RestError::invalid_id("shop_order")
    }

    fn create(store: &mut WooStore, _: InStore, fields: &Fields<'_>) -> Result<i64, RestError> {
        create_order(store, fields, "rest-api")
    }

    /// Core's REST update: details, status (with its stock effect) and `set_paid`. Line items are
    /// not editable here (ASSUMPTION: the connector never edits them).
    fn update(
        store: &mut WooStore,
        _: InStore,
        id: i64,
        fields: &Fields<'_>,
    ) -> Result<(), RestError> {
        let mut order = store.orders.get(&id).cloned().ok_or_else(|| {
            RestError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_shop_order_invalid_id",
                "Invalid ID.",
            )
        })?;
        let status = fields
            .string("status")?
            .map(|raw| parse_status(&raw))
            .transpose()?;
        let set_paid = fields.boolean("set_paid")?.unwrap_or(false);
        apply_details(store, &mut order, fields)?;
        let at = now();
        let was_trashed = order.status == OrderStatus::Trash;
        order.modified = at;
        store.orders.insert(id, order);
        store.record(Resource::Order, Event::Updated, id);
        if let Some(status) = status {
            transition(store, id, status, at);
            if was_trashed && status != OrderStatus::Trash {
                store.record(Resource::Order, Event::Restored, id);
            }
        }
        if set_paid {
            payment_complete(store, id, at);
        }
        Ok(())
    }

    fn delete(
        store: &mut WooStore,
        _: InStore,
        id: i64,
        force: bool,
        url: &str,
    ) -> Result<Value, RestError> {
        let order = store.orders.get(&id).ok_or_else(Orders::unknown_id)?;
        if !force {
            if order.status == OrderStatus::Trash {
                return Err(RestError::already_trashed("order"));
            }
            let at = now();
            if let Some(order) = store.orders.get_mut(&id) {
                order.status = OrderStatus::Trash;
                order.modified = at;
            }
            store.record(Resource::Order, Event::Deleted, id);
            return Ok(order_json(store, &store.orders[&id], url));
        }
        let body = order_json(store, order, url);
        store.orders.remove(&id);
        store.record(Resource::Order, Event::Deleted, id);
        Ok(body)
    }

    fn render(store: &WooStore, order: &Order, url: &str) -> Value {
        order_json(store, order, url)
    }
}

/// The filters of `GET /orders`, and its `order`.
pub struct OrderFilter {
    statuses: Vec<OrderStatus>,
    dates: DateFilter,
    include: Vec<i64>,
    exclude: Vec<i64>,
    product: Option<i64>,
    customer: Option<i64>,
    descending: bool,
}

impl ListQuery for OrderFilter {
    type Item = Order;

    fn from_query(query: &QueryParams) -> Result<Self, RestError> {
        let mut statuses = Vec::new();
        for status in query.list("status").iter().filter(|s| s.as_str() != "any") {
            statuses.push(OrderStatus::parse(status).ok_or_else(|| {
                RestError::invalid_param(
                    "status",
                    "status[0] is not one of any, trash, pending, processing, on-hold, completed, cancelled, refunded, failed, and checkout-draft.",
                )
            })?);
        }
        Ok(Self {
            statuses,
            dates: DateFilter::from_query(query)?,
            include: query.ids("include")?,
            exclude: query.ids("exclude")?,
            product: query.integer("product")?,
            customer: query.integer("customer")?,
            descending: query.descending("desc")?,
        })
    }

    fn admits(&self, order: &Order) -> bool {
        let status_ok = if self.statuses.is_empty() {
            order.status != OrderStatus::Trash
        } else {
            self.statuses.contains(&order.status)
        };
        status_ok
            && self.dates.admits(order.created, order.modified)
            && (self.include.is_empty() || self.include.contains(&order.id))
            && !self.exclude.contains(&order.id)
            && self.customer.is_none_or(|id| order.customer_id == id)
            && self.product.is_none_or(|id| {
                order
                    .line_items
                    .iter()
                    .any(|line| line.product_id == id || line.variation_id == id)
            })
    }

    /// `orderby` (date, modified, id; default date) and `order` (default desc).
    fn sort(
        &self,
        items: &mut [&Order],
        _: &WooStore,
        query: &QueryParams,
    ) -> Result<(), RestError> {
        match query.value("orderby").unwrap_or("date") {
            "date" => items.sort_by_key(|order| (order.created, order.id)),
            "modified" => items.sort_by_key(|order| (order.modified, order.id)),
            "id" | "include" => items.sort_by_key(|order| order.id),
            _ => {
                return Err(RestError::invalid_param(
                    "orderby",
                    "orderby is not one of date, id, include, title, slug, and modified.",
                ));
            }
        }
        if self.descending {
            items.reverse();
        }
        Ok(())
    }
}

fn parse_status(raw: &str) -> Result<OrderStatus, RestError> {
    OrderStatus::parse(raw).ok_or_else(|| {
        RestError::invalid_param(
            "status",
            "status is not one of pending, processing, on-hold, completed, cancelled, refunded, failed, and checkout-draft.",
        )
    })
}

/// Creates an order from a REST body (or the control API's, which uses the same shape).
pub fn create_order(
    store: &mut WooStore,
    fields: &Fields<'_>,
    created_via: &str,
) -> Result<i64, RestError> {
    if fields.has("id") {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_shop_order_exists",
            "Cannot create existing order.",
        ));
    }
    let status = fields
        .string("status")?
        .map(|raw| parse_status(&raw))
        .transpose()?;
    let set_paid = fields.boolean("set_paid")?.unwrap_or(false);
    let at = now();
    let mut order = Order {
        id: 0,
        order_key: format!("wc_order_{}", &random_token()[..13]),
        status: OrderStatus::Pending,
        currency: fields
            .string("currency")?
            .unwrap_or_else(|| store.currency.clone()),
        created_via: created_via.to_owned(),
        customer_id: fields.integer("customer_id")?.unwrap_or(0),
        customer_note: String::new(),
        billing: Address::default(),
        shipping: Address::default(),
        payment_method: String::new(),
        payment_method_title: String::new(),
        transaction_id: String::new(),
        line_items: Vec::new(),
        shipping_lines: Vec::new(),
        meta_data: Vec::new(),
        created: at,
        modified: at,
        paid: None,
        completed: None,
        stock_reduced: false,
        notes: Vec::new(),
        refunds: Vec::new(),
    };
    apply_details(store, &mut order, fields)?;
    if let Some(lines) = fields.array("line_items")? {
        for line in lines {
            let line = line_item(store, &Fields::of(line)?)?;
            order.line_items.push(line);
        }
    }
    if let Some(lines) = fields.array("shipping_lines")? {
        for line in lines {
            let line = Fields::of(line)?;
            let total = line.money("total")?.flatten().unwrap_or(Money(0));
            order.shipping_lines.push(ShippingLine {
                id: store.next_item_id(),
                method_title: line.string("method_title")?.unwrap_or_default(),
                method_id: line.string("method_id")?.unwrap_or_default(),
                total,
            });
        }
    }
    let id = store.next_post_id();
    order.id = id;
    store.orders.insert(id, order);
    store.record(Resource::Order, Event::Created, id);
    if let Some(status) = status {
        transition(store, id, status, at);
    }
    if set_paid {
        payment_complete(store, id, at);
    }
    Ok(id)
}

/// One line of a new order, priced from its product.
fn line_item(store: &mut WooStore, line: &Fields<'_>) -> Result<LineItem, RestError> {
    let quantity = line.integer("quantity")?.unwrap_or(1);
    if quantity <= 0 {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_invalid_product_quantity",
            "Product quantity must be a positive float.",
        ));
    }
    let sku = line.string("sku")?.filter(|sku| !sku.is_empty());
    let product_id = line.integer("product_id")?.filter(|id| *id != 0);
    let variation_id = line.integer("variation_id")?.filter(|id| *id != 0);
    let wanted = match (sku, product_id, variation_id) {
        (Some(sku), _, _) => store.product_by_sku(&sku).map(|product| product.id),
        (None, _, Some(variation)) => Some(variation),
        (None, Some(product), None) => Some(product),
        (None, None, None) => {
            return Err(RestError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_required_product_reference",
                "Product ID or SKU is required.",
            ));
        }
    };
    let at = now();
    // Core keeps a line whose product does not exist, with no product attached.
    let product = wanted.and_then(|id| store.products.get(&id));
    let (product_id, variation_id, name, sku, price) = match product {
        Some(product) if product.kind == ProductType::Variation => (
            product.parent_id,
            product.id,
            product.name.clone(),
            product.sku.clone(),
            product.active_price(at),
        ),
        Some(product) => (
            product.id,
            0,
            product.name.clone(),
            product.sku.clone(),
            product.active_price(at),
        ),
        None => (0, 0, String::new(), String::new(), None),
    };
    let total = match line.money("total")? {
        Some(total) => total.unwrap_or(Money(0)),
        None => price.unwrap_or(Money(0)).times(quantity),
    };
    let subtotal = line
        .money("subtotal")?
        .map_or(total, |subtotal| subtotal.unwrap_or(Money(0)));
    let mut item = LineItem {
        id: store.next_item_id(),
        name: line.string("name")?.unwrap_or(name),
        product_id,
        variation_id,
        sku,
        quantity,
        subtotal,
        total,
        meta_data: Vec::new(),
        reduced_stock: 0,
    };
    if let Some(meta) = line.array("meta_data")? {
        for entry in meta {
            let entry = Fields::of(entry)?;
            let key = entry.string("key")?.unwrap_or_default();
            let value = entry.raw("value").cloned().unwrap_or(Value::Null);
            set_meta(
                &mut item.meta_data,
                &mut store.next_meta_id,
                None,
                &key,
                value,
            );
        }
    }
    Ok(item)
}

/// Addresses, payment fields, note and meta data: what create and update share.
fn apply_details(
    store: &mut WooStore,
    order: &mut Order,
    fields: &Fields<'_>,
) -> Result<(), RestError> {
    if let Some(billing) = fields.object("billing")? {
        apply_address(&mut order.billing, &billing)?;
    }
    if let Some(shipping) = fields.object("shipping")? {
        apply_address(&mut order.shipping, &shipping)?;
    }
    if let Some(value) = fields.string("customer_note")? {
        order.customer_note = value;
    }
    if let Some(value) = fields.string("payment_method")? {
        order.payment_method = value;
    }
    if let Some(value) = fields.string("payment_method_title")? {
        order.payment_method_title = value;
    }
    if let Some(value) = fields.string("transaction_id")? {
        order.transaction_id = value;
    }
    if let Some(meta) = fields.array("meta_data")? {
        for entry in meta {
            let entry = Fields::of(entry)?;
            let key = entry.string("key")?.unwrap_or_default();
            let value = entry.raw("value").cloned().unwrap_or(Value::Null);
            set_meta(
                &mut order.meta_data,
                &mut store.next_meta_id,
                entry.integer("id")?,
                &key,
                value,
            );
        }
    }
    Ok(())
}

fn apply_address(address: &mut Address, fields: &Fields<'_>) -> Result<(), RestError> {
    let slots: [(&str, &mut String); 11] = [
        ("first_name", &mut address.first_name),
        ("last_name", &mut address.last_name),
        ("company", &mut address.company),
        ("address_1", &mut address.address_1),
        ("address_2", &mut address.address_2),
        ("city", &mut address.city),
        ("state", &mut address.state),
        ("postcode", &mut address.postcode),
        ("country", &mut address.country),
        ("email", &mut address.email),
        ("phone", &mut address.phone),
    ];
    for (name, slot) in slots {
        if let Some(value) = fields.string(name)? {
            *slot = value;
        }
    }
    Ok(())
}

/// Moves an order to a status and applies that status's stock effect once.
pub fn transition(store: &mut WooStore, id: i64, status: OrderStatus, at: OffsetDateTime) {
    let Some(order) = store.orders.get_mut(&id) else {
        return;
    };
    if order.status == status {
        return;
    }
    let from = order.status;
    order.status = status;
    order.modified = at;
    if status == OrderStatus::Completed {
        order.completed = Some(at);
    }
    let reduced = order.stock_reduced;
    store.record(Resource::Order, Event::Updated, id);
    // Core notes every status change; trashing is a post status, not one of the order's.
    if from != OrderStatus::Trash && status != OrderStatus::Trash {
        store.add_note(
            id,
            &format!(
                "Order status changed from {} to {}.",
                from.label(),
                status.label()
            ),
            false,
            None,
        );
    }
    match status.stock_effect() {
        StockEffect::Reduce if !reduced => reduce_stock(store, id, at),
        StockEffect::Restore if reduced => restore_stock(store, id, at),
        _ => {}
    }
}

/// `payment_complete()`: paid now, processing, stock taken.
fn payment_complete(store: &mut WooStore, id: i64, at: OffsetDateTime) {
    if let Some(order) = store.orders.get_mut(&id) {
        if order.paid.is_none() {
            order.paid = Some(at);
        }
        let lines: Vec<(i64, i64)> = order
            .line_items
            .iter()
            .map(|line| (line.product_id, line.quantity))
            .collect();
        for (product_id, quantity) in lines {
            if let Some(product) = store.products.get_mut(&product_id) {
                product.total_sales += quantity;
            }
        }
    }
    if store.orders.get(&id).is_some_and(|order| {
        matches!(
            order.status,
            OrderStatus::Pending
                | OrderStatus::Failed
                | OrderStatus::OnHold
                | OrderStatus::Cancelled
        )
    }) {
        transition(store, id, OrderStatus::Processing, at);
    }
    let reduced = store
        .orders
        .get(&id)
        .is_some_and(|order| order.stock_reduced);
    if !reduced {
        reduce_stock(store, id, at);
    }
}

/// The product or variation a line takes stock from.
fn stock_holder(line: &LineItem) -> i64 {
    if line.variation_id != 0 {
        line.variation_id
    } else {
        line.product_id
    }
}

fn reduce_stock(store: &mut WooStore, id: i64, at: OffsetDateTime) {
    let Some(order) = store.orders.get(&id) else {
        return;
    };
    let lines: Vec<(usize, i64, i64)> = order
        .line_items
        .iter()
        .enumerate()
        .map(|(index, line)| (index, stock_holder(line), line.quantity))
        .collect();
    let mut touched = Vec::new();
    for (index, holder, quantity) in lines {
        let Some(product) = store.products.get_mut(&holder).filter(|p| p.manage_stock) else {
            continue;
        };
        product.stock_quantity = Some(product.stock_quantity.unwrap_or(0) - quantity);
        product.sync_stock_status();
        touched.push(holder);
        if let Some(order) = store.orders.get_mut(&id) {
            order.line_items[index].reduced_stock = quantity;
        }
    }
    if let Some(order) = store.orders.get_mut(&id) {
        order.stock_reduced = true;
    }
    for holder in touched {
        store.touch_product(holder, at);
    }
}

fn restore_stock(store: &mut WooStore, id: i64, at: OffsetDateTime) {
    let Some(order) = store.orders.get(&id) else {
        return;
    };
    let lines: Vec<(usize, i64, i64)> = order
        .line_items
        .iter()
        .enumerate()
        .filter(|(_, line)| line.reduced_stock > 0)
        .map(|(index, line)| (index, stock_holder(line), line.reduced_stock))
        .collect();
    let mut touched = Vec::new();
    for (index, holder, quantity) in lines {
        if let Some(product) = store.products.get_mut(&holder).filter(|p| p.manage_stock) {
            product.stock_quantity = Some(product.stock_quantity.unwrap_or(0) + quantity);
            product.sync_stock_status();
            touched.push(holder);
        }
        if let Some(order) = store.orders.get_mut(&id) {
            order.line_items[index].reduced_stock = 0;
        }
    }
    if let Some(order) = store.orders.get_mut(&id) {
        order.stock_reduced = false;
    }
    for holder in touched {
        store.touch_product(holder, at);
    }
}
