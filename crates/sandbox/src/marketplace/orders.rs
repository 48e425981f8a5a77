//! A shop's orders on a marketplace: what an order is, the workflow Mirakl takes it through,
//! how OR11 shows it, and OR11 itself. What the seller does to an order (OR21, OR23, OR24, OR28,
//! OR29) is `order_actions`; placing orders, and a customer's cancellation, is the control API's.
//!
//! The workflow lives in one `match` (`OrderState::after`): WAITING_ACCEPTANCE, then
//! WAITING_DEBIT_PAYMENT once the seller accepts a line (OR21), or REFUSED when every line is
//! refused or the acceptance deadline passes; SHIPPING once the customer is debited (the debit
//! delay after acceptance); SHIPPED (OR24). The seller cancels an accepted order (OR29), the
//! customer any order not shipped yet: CANCELED.
//!
//! The steps time takes (the deadline, the debit) are taken lazily: every call that reads or
//! changes a marketplace's orders first catches them up to now, and stamps each step with the
//! moment it is taken, so a poller's `start_update_date` never misses one. Both delays are the
//! sandbox's (`World::order_delays`) and apply to orders already waiting, so shortening one
//! moves them along at the next read.
//!
//! Placing an order takes its quantities off the offers, as Mirakl does; a refused or canceled
//! line gives them back (ASSUMPTION: Mirakl documents neither, and a connector must re-read
//! quantities anyway).

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Sandbox;
use crate::gate::Operation;
use crate::marketplace::catalog::hierarchy_label;
use crate::marketplace::control::MarketplaceControlError;
use crate::marketplace::{ApiCall, ApiError, OffsetPaging};
use crate::values::clock::{format_mirakl, now, parse_mirakl};
use crate::values::customer::{Customer, basket};
use crate::values::money::Money;
use crate::world::{Marketplace, OrderDelays, World};

/// The order states OR11 knows (its `order_state_codes`); the sandbox's orders go through six.
pub const ORDER_STATE_CODES: [&str; 11] = [
    "STAGING",
    "WAITING_ACCEPTANCE",
    "WAITING_DEBIT",
    "WAITING_DEBIT_PAYMENT",
    "SHIPPING",
    "SHIPPED",
    "TO_COLLECT",
    "RECEIVED",
    "CLOSED",
    "REFUSED",
    "CANCELED",
];

/// What a line ships for, whatever its quantity.
const LINE_SHIPPING: Money = Money(490);
/// The operator's commission on a line's price, in percent.
const COMMISSION_PERCENT: i64 = 10;
/// Days from the debit to the shipping deadline (A01's `lead_time_to_ship`).
const LEADTIME_TO_SHIP: i64 = 2;
/// How far back `start_update_date` reaches: Mirakl subtracts an undocumented delta "so that
/// no order is missed", so a poller sees recent orders again (ASSUMPTION: one minute).
const UPDATE_DATE_DELTA: time::Duration = time::Duration::minutes(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    WaitingAcceptance,
    WaitingDebitPayment,
    Shipping,
    Shipped,
    Refused,
    Canceled,
}

/// What moves an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// OR21 with at least one line accepted.
    Accept,
    /// OR21 with every line refused.
    Refuse,
    /// The acceptance deadline passed.
    Expire,
    /// The customer was debited.
    Debit,
    /// OR24.
    Ship,
    /// OR29.
    SellerCancel,
    /// The customer (or the operator) cancels: the control API.
    CustomerCancel,
}

impl OrderState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WaitingAcceptance => "WAITING_ACCEPTANCE",
            Self::WaitingDebitPayment => "WAITING_DEBIT_PAYMENT",
            Self::Shipping => "SHIPPING",
            Self::Shipped => "SHIPPED",
            Self::Refused => "REFUSED",
            Self::Canceled => "CANCELED",
        }
    }

    /// The state `step` leads to from this one, if it may be taken here: the whole workflow.
    pub fn after(self, step: Step) -> Option<OrderState> {
        use OrderState::*;
        match (self, step) {
            (WaitingAcceptance, Step::Accept) => Some(WaitingDebitPayment),
            (WaitingAcceptance, Step::Refuse | Step::Expire) => Some(Refused),
            (WaitingDebitPayment, Step::Debit) => Some(Shipping),
            (Shipping, Step::Ship) => Some(Shipped),
            (WaitingDebitPayment | Shipping, Step::SellerCancel) => Some(Canceled),
            (WaitingAcceptance | WaitingDebitPayment | Shipping, Step::CustomerCancel) => {
                Some(Canceled)
            }
            _ => None,
        }
    }
}

/// Why an order call cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderError {
    NotFound(String),
    /// The order is not in a state the action is allowed in.
    WrongState {
        order_id: String,
        state: OrderState,
        action: &'static str,
    },
}

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotFound(order_id) => write!(f, "The order {order_id} does not exist."),
            Self::WrongState {
                order_id,
                state,
                action,
            } => write!(
                f,
                "The order {order_id} is {}: it cannot be {action} in that state.",
                state.as_str()
            ),
        }
    }
}

/// ASSUMPTION: Mirakl lists OR21's error codes (ORDER_NOT_FOUND, ORDER_INVALID_STATE, …) but not
/// where they sit; the sandbox answers its usual `{message, status}`: 404 for an unknown order,
/// 400 for the rest.
impl From<OrderError> for ApiError {
    fn from(error: OrderError) -> Self {
        let status = match error {
            OrderError::NotFound(_) => StatusCode::NOT_FOUND,
            OrderError::WrongState { .. } => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, error.to_string())
    }
}

/// What OR23 set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    /// A carrier of SH21's list; `None` for a carrier named by the seller.
    pub carrier_code: Option<String>,
    pub carrier_standard_code: Option<String>,
    pub carrier_name: Option<String>,
    pub carrier_url: Option<String>,
    pub tracking_number: Option<String>,
}

/// One refund of a line (OR28).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRefund {
    pub refund_id: String,
    pub order_refund_id: String,
    pub amount: Money,
    pub shipping_amount: Money,
    pub quantity: i64,
    pub reason_code: String,
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// `{order_id}-{index}`.
    pub id: String,
    pub index: u32,
    /// Refused by the seller, or with the whole order when its deadline passed.
    pub refused: bool,
    pub offer_id: i64,
    pub offer_sku: String,
    pub offer_state_code: String,
    pub product_sku: String,
    pub product_title: String,
    pub category_code: String,
    pub description: String,
    pub quantity: i64,
    pub price_unit: Money,
    pub shipping_price: Money,
    pub refunds: Vec<LineRefund>,
    /// Units shipped so far by ST01 shipments (multi-shipping); OR24 ships the rest.
    pub shipped: i64,
}

impl OrderLine {
    pub fn price(&self) -> Money {
        self.price_unit.times(self.quantity)
    }

    fn commission(&self) -> Money {
        Money(self.price().0 * COMMISSION_PERCENT / 100)
    }

    /// What its refunds took so far: `(amount, shipping amount, quantity)`.
    pub fn refunded(&self) -> (Money, Money, i64) {
        self.refunds.iter().fold(
            (Money(0), Money(0), 0),
            |(amount, shipping, quantity), refund| {
                (
                    Money(amount.0 + refund.amount.0),
                    Money(shipping.0 + refund.shipping_amount.0),
                    quantity + refund.quantity,
                )
            },
        )
    }

    fn fully_refunded(&self) -> bool {
        self.refunded().0 >= self.price()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// `{commercial_id}-A`: the shop's part of the customer's order.
    pub order_id: String,
    pub commercial_id: String,
    pub shop_id: i64,
    pub currency: String,
    pub state: OrderState,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
    /// When the seller accepted or refused (OR21); `None` for an automatic refusal.
    pub decided: Option<OffsetDateTime>,
    pub debited: Option<OffsetDateTime>,
    pub shipped: Option<OffsetDateTime>,
    pub customer: Customer,
    /// The anonymized address some marketplaces give (`customer_notification_email`).
    pub notification_email: Option<String>,
    pub lines: Vec<OrderLine>,
    pub tracking: Tracking,
    /// `order_refund_id` of each OR28 call that refunded this order, oldest first.
    pub order_refunds: Vec<String>,
    /// ST01 shipments made of it so far (each named `{order_id}-S{n}`).
    pub shipments: u32,
}

impl Order {
    /// Takes a step of the workflow at `now`, or says why it cannot be taken.
    pub fn take(
        &mut self,
        step: Step,
        action: &'static str,
        now: OffsetDateTime,
    ) -> Result<(), OrderError> {
        let next = self
            .state
            .after(step)
            .ok_or_else(|| OrderError::WrongState {
                order_id: self.order_id.clone(),
                state: self.state,
                action,
            })?;
        self.state = next;
        self.updated = now;
        match step {
            Step::Accept | Step::Refuse => self.decided = Some(now),
            Step::Expire => self.lines.iter_mut().for_each(|line| line.refused = true),
            Step::Debit => self.debited = Some(now),
            Step::Ship => self.shipped = Some(now),
            Step::SellerCancel | Step::CustomerCancel => {}
        }
        Ok(())
    }

    /// A line's state: its order's, unless it was refused, or shipped in full by ST01
    /// shipments while other lines still wait.
    pub fn line_state(&self, line: &OrderLine) -> OrderState {
        if line.refused {
            OrderState::Refused
        } else if self.state == OrderState::Shipping && line.shipped >= line.quantity {
            OrderState::Shipped
        } else {
            self.state
        }
    }

    pub fn line_mut(&mut self, line_id: &str) -> Option<&mut OrderLine> {
        self.lines.iter_mut().find(|line| line.id == line_id)
    }

    /// Whether a line can be refunded now (OR11's `can_refund`).
    pub fn can_refund(&self, line: &OrderLine) -> bool {
        matches!(
            self.line_state(line),
            OrderState::Shipping | OrderState::Shipped
        ) && !line.fully_refunded()
    }

    /// Every line the customer still pays for is refunded in full.
    fn fully_refunded(&self) -> bool {
        let mut paid = self.lines.iter().filter(|line| !line.refused).peekable();
        paid.peek().is_some() && paid.all(OrderLine::fully_refunded)
    }

    /// The lines still going to the customer, with their offer and quantity: what a
    /// cancellation gives back.
    fn open_quantities(&self) -> Vec<(String, i64)> {
        self.lines
            .iter()
            .filter(|line| !line.refused)
            .map(|line| (line.offer_sku.clone(), line.quantity))
            .collect()
    }
}

impl Marketplace {
    /// Takes the steps time made due by `now`: orders past their acceptance deadline are
    /// refused (their quantities given back), accepted orders whose debit delay has passed
    /// move to SHIPPING.
    pub fn catch_up_orders(&mut self, delays: OrderDelays, now: OffsetDateTime) {
        let mut given_back = Vec::new();
        for order in self.orders.values_mut() {
            let due = match order.state {
                OrderState::WaitingAcceptance => {
                    (now >= order.created + delays.acceptance).then_some(Step::Expire)
                }
                OrderState::WaitingDebitPayment => {
                    let accepted = order.decided.unwrap_or(order.created);
                    (now >= accepted + delays.debit).then_some(Step::Debit)
                }
                _ => None,
            };
            if let Some(step) = due {
                if step == Step::Expire {
                    given_back.push((order.shop_id, order.open_quantities()));
                }
                // `after` allows both steps from these states.
                let _ = order.take(step, "moved along", now);
            }
        }
        for (shop_id, lines) in given_back {
            self.give_back(shop_id, &lines);
        }
    }

    /// Puts quantities back on a shop's offers (those still there).
    pub fn give_back(&mut self, shop_id: i64, lines: &[(String, i64)]) {
        let Some(store) = self.stores.get_mut(&shop_id) else {
            return;
        };
        for (sku, quantity) in lines {
            if let Some(offer) = store.offers.get_mut(sku) {
                offer.terms.quantity += quantity;
            }
        }
    }

    /// A shop's order, for an action on it.
    pub fn shop_order_mut(
        &mut self,
        shop_id: i64,
        order_id: &str,
    ) -> Result<&mut Order, OrderError> {
        self.orders
            .get_mut(order_id)
            .filter(|order| order.shop_id == shop_id)
            .ok_or_else(|| OrderError::NotFound(order_id.to_owned()))
    }

    /// Cancels an order (OR29 for the seller, the control API for the customer), giving its
    /// quantities back.
    pub fn cancel_order(
        &mut self,
        shop_id: i64,
        order_id: &str,
        step: Step,
        now: OffsetDateTime,
    ) -> Result<(), OrderError> {
        let order = self.shop_order_mut(shop_id, order_id)?;
        order.take(step, "canceled", now)?;
        let lines = order.open_quantities();
        self.give_back(shop_id, &lines);
        Ok(())
    }

    /// Places an order of a shop's live offers, `(offer SKU, quantity)` each, taking the
    /// quantities off the offers; its id.
    pub fn place_order(
        &mut self,
        shop_id: i64,
        lines: &[(String, i64)],
        now: OffsetDateTime,
    ) -> Result<String, MarketplaceControlError> {
        let instance = self.instance.clone();
        let store =
            self.stores
                .get_mut(&shop_id)
                .ok_or_else(|| MarketplaceControlError::UnknownShop {
                    instance: instance.clone(),
                    shop_id,
                })?;
        if lines.is_empty() {
            return Err(MarketplaceControlError::EmptyOrder);
        }
        let mut wanted: HashMap<&str, i64> = HashMap::new();
        for (sku, quantity) in lines {
            if *quantity < 1 {
                return Err(MarketplaceControlError::BadOrderQuantity(*quantity));
            }
            *wanted.entry(sku.as_str()).or_default() += quantity;
        }
        for (sku, quantity) in &wanted {
            let offer =
                store
                    .offers
                    .get(*sku)
                    .ok_or_else(|| MarketplaceControlError::UnknownOffer {
                        instance: instance.clone(),
                        shop_id,
                        sku: (*sku).to_owned(),
                    })?;
            if !offer.terms.is_live(now) || offer.terms.quantity < *quantity {
                return Err(MarketplaceControlError::OutOfStock {
                    sku: (*sku).to_owned(),
                    available: offer.terms.quantity,
                    wanted: *quantity,
                });
            }
        }
        self.next_order_number += 1;
        let number = self.next_order_number;
        let commercial_id = format!("Order_{number:05}");
        let order_id = format!("{commercial_id}-A");
        let mut order_lines = Vec::with_capacity(lines.len());
        for ((sku, quantity), index) in lines.iter().zip(1..) {
            let offer = store.offers.get_mut(sku).expect("checked above");
            offer.terms.quantity -= quantity;
            let product = self.catalog.get(&offer.product_sku);
            order_lines.push(OrderLine {
                id: format!("{order_id}-{index}"),
                index,
                refused: false,
                offer_id: offer.offer_id,
                offer_sku: sku.clone(),
                offer_state_code: offer.terms.state_code.clone(),
                product_sku: offer.product_sku.clone(),
                product_title: product.map_or_else(|| sku.clone(), |p| p.title.clone()),
                category_code: product.map_or_else(String::new, |p| p.category.clone()),
                description: offer.terms.description.clone(),
                quantity: *quantity,
                price_unit: offer.terms.applicable_price(now),
                shipping_price: LINE_SHIPPING,
                refunds: Vec::new(),
                shipped: 0,
            });
        }
        store.orders_count += 1;
        let currency = store.currency_iso_code.clone();
        let customer = Customer::draw(&mut self.order_entropy, number);
        let notification_email = self.customer_emails.then(|| {
            format!(
                "{}.{number}@notification.{instance}.example.com",
                customer.id.to_ascii_lowercase()
            )
        });
        self.orders.insert(
            order_id.clone(),
            Order {
                order_id: order_id.clone(),
                commercial_id,
                shop_id,
                currency,
                state: OrderState::WaitingAcceptance,
                created: now,
                updated: now,
                decided: None,
                debited: None,
                shipped: None,
                customer,
                notification_email,
                lines: order_lines,
                tracking: Tracking::default(),
                order_refunds: Vec::new(),
                shipments: 0,
            },
        );
        Ok(order_id)
    }

    /// One to three of a shop's live offers at random, each for 1 or 2 within its quantity.
    pub fn random_lines(
        &mut self,
        shop_id: i64,
        now: OffsetDateTime,
    ) -> Result<Vec<(String, i64)>, MarketplaceControlError> {
        let live: Vec<(String, i64)> = self
            .stores
            .get(&shop_id)
            .ok_or_else(|| MarketplaceControlError::UnknownShop {
                instance: self.instance.clone(),
                shop_id,
            })?
            .offers
            .values()
            .filter(|offer| offer.terms.is_live(now))
            .map(|offer| (offer.shop_sku.clone(), offer.terms.quantity))
            .collect();
        if live.is_empty() {
            return Err(MarketplaceControlError::NoLiveOffer {
                instance: self.instance.clone(),
                shop_id,
            });
        }
        Ok(basket(&mut self.order_entropy, live))
    }
}

/// An object without its null members: OR11 leaves out what an order does not have.
fn present(mut value: Value) -> Value {
    if let Value::Object(fields) = &mut value {
        fields.retain(|_, value| !value.is_null());
    }
    value
}

fn date(at: Option<OffsetDateTime>) -> Value {
    at.map_or(Value::Null, |at| json!(format_mirakl(at)))
}

/// A customer address; null until the customer is debited, as the platform hides it. OR11's
/// published schema types both addresses as required objects, though its own wording says they
/// are null until the order ships (or is accepted): the sandbox keeps both keys, null.
fn address_json(customer: &Customer, visible: bool) -> Value {
    if !visible {
        return Value::Null;
    }
    present(json!({
        "civility": customer.civility,
        "firstname": customer.firstname,
        "lastname": customer.lastname,
        "street_1": customer.street,
        "street_2": customer.street_additional,
        "zip_code": customer.zip_code,
        "city": customer.city,
        "country": Customer::COUNTRY,
        "country_iso_code": Customer::COUNTRY_ISO,
        "phone": customer.phone,
    }))
}

fn refund_json(refund: &LineRefund) -> Value {
    json!({
        "id": refund.refund_id,
        "order_refund_id": refund.order_refund_id,
        "amount": refund.amount.to_json(),
        "shipping_amount": refund.shipping_amount.to_json(),
        "quantity": refund.quantity,
        "reason_code": refund.reason_code,
        // ASSUMPTION: the operator pays a refund at once.
        "refund_state": "REFUNDED",
        "state": "REFUNDED",
        "created_date": format_mirakl(refund.created),
        "commission_amount": 0,
        "commission_tax_amount": 0,
        "commission_taxes": [],
        "commission_total_amount": 0,
        "taxes": [],
        "shipping_taxes": [],
    })
}

fn line_json(order: &Order, line: &OrderLine) -> Value {
    let price = line.price();
    present(json!({
        "order_line_id": line.id,
        "order_line_index": line.index,
        "order_line_state": order.line_state(line).as_str(),
        "offer_id": line.offer_id,
        "offer_sku": line.offer_sku,
        "offer_state_code": line.offer_state_code,
        "product_sku": line.product_sku,
        "product_shop_sku": line.offer_sku,
        "product_title": line.product_title,
        "product_medias": [],
        "category_code": line.category_code,
        "category_label": hierarchy_label(&line.category_code),
        "description": line.description,
        "quantity": line.quantity,
        "price_unit": line.price_unit.to_json(),
        "price": price.to_json(),
        "shipping_price": line.shipping_price.to_json(),
        "total_price": Money(price.0 + line.shipping_price.0).to_json(),
        "commission_fee": line.commission().to_json(),
        "commission_vat": 0,
        "commission_rate_vat": 0,
        "total_commission": line.commission().to_json(),
        "taxes": [],
        "shipping_taxes": [],
        "cancelations": [],
        "refunds": line.refunds.iter().map(refund_json).collect::<Vec<_>>(),
        "order_line_additional_fields": [],
        "can_refund": order.can_refund(line),
        "created_date": format_mirakl(order.created),
        "last_updated_date": format_mirakl(order.updated),
        "debited_date": date(order.debited),
        "shipped_date": date(order.shipped),
    }))
}

/// An order as OR11 shows it.
pub fn order_json(order: &Order) -> Value {
    let sum =
        |amount: fn(&OrderLine) -> Money| Money(order.lines.iter().map(|l| amount(l).0).sum());
    let price = sum(OrderLine::price);
    let shipping = sum(|line| line.shipping_price);
    let visible = order.debited.is_some();
    let customer = &order.customer;
    let tracking = &order.tracking;
    let mut body = present(json!({
        "order_id": order.order_id,
        "commercial_id": order.commercial_id,
        "order_state": order.state.as_str(),
        "created_date": format_mirakl(order.created),
        "last_updated_date": format_mirakl(order.updated),
        "acceptance_decision_date": date(order.decided),
        "customer_debited_date": date(order.debited),
        "shipping_deadline": date(order.debited.map(|at| at + time::Duration::days(LEADTIME_TO_SHIP))),
        "currency_iso_code": order.currency,
        "price": price.to_json(),
        "shipping_price": shipping.to_json(),
        "total_price": Money(price.0 + shipping.0).to_json(),
        "total_commission": sum(OrderLine::commission).to_json(),
        "order_tax_mode": "TAX_INCLUDED",
        "payment_type": "CREDIT_CARD",
        "paymentType": "CREDIT_CARD",
        "payment_workflow": "PAY_ON_ACCEPTANCE",
        "shipping_type_code": "STD",
        "shipping_type_label": "Standard",
        "shipping_zone_code": "FR",
        "shipping_zone_label": "France",
        "leadtime_to_ship": LEADTIME_TO_SHIP,
        "fulfillment": { "center": { "code": "DEFAULT" } },
        "can_cancel": order.state.after(Step::SellerCancel).is_some(),
        "can_shop_ship": order.state == OrderState::Shipping,
        "has_customer_message": false,
        "has_incident": false,
        "has_invoice": false,
        "fully_refunded": order.fully_refunded(),
        "customer": {
            "customer_id": customer.id,
            "civility": customer.civility,
            "firstname": customer.firstname,
            "lastname": customer.lastname,
            "locale": "fr_FR",
            "billing_address": address_json(customer, visible),
            "shipping_address": address_json(customer, visible),
        },
        "customer_notification_email": order.notification_email,
        "shipping_carrier_code": tracking.carrier_code,
        "shipping_carrier_standard_code": tracking.carrier_standard_code,
        "shipping_company": tracking.carrier_name,
        "shipping_tracking": tracking.tracking_number,
        "shipping_tracking_url": tracking.carrier_url,
        "order_lines": order.lines.iter().map(|line| line_json(order, line)).collect::<Vec<_>>(),
    }));
    if !order.order_refunds.is_empty() {
        body["order_refunds"] = order
            .order_refunds
            .iter()
            .map(|id| json!({ "order_refund_id": id }))
            .collect();
    }
    body
}

/// OR11's filters.
struct OrderFilter {
    order_ids: Option<Vec<String>>,
    states: Option<Vec<String>>,
    created_from: Option<OffsetDateTime>,
    created_to: Option<OffsetDateTime>,
    updated_from: Option<OffsetDateTime>,
    updated_to: Option<OffsetDateTime>,
    debited: Option<bool>,
}

impl OrderFilter {
    fn from_query(query: &HashMap<String, String>) -> Result<Self, ApiError> {
        let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
        let list = |name: &str| {
            query.get(name).map(|raw| {
                raw.split(',')
                    .map(|item| item.trim().to_owned())
                    .filter(|item| !item.is_empty())
                    .collect::<Vec<_>>()
            })
        };
        // An unencoded `+` in an offset arrives as a space.
        let date = |name: &str| match query.get(name) {
            None => Ok(None),
            Some(raw) => parse_mirakl(&raw.trim().replace(' ', "+"))
                .map(Some)
                .ok_or_else(|| bad(format!("{name} is not a valid date-time: '{raw}'."))),
        };
        let order_ids = list("order_ids");
        if let Some(ids) = &order_ids
            && ids.len() > 100
        {
            return Err(bad(
                "The limit of 100 is exceeded for the parameter : order_ids".to_owned(),
            ));
        }
        let states = list("order_state_codes");
        if let Some(unknown) = states
            .iter()
            .flatten()
            .find(|state| !ORDER_STATE_CODES.contains(&state.as_str()))
        {
            return Err(bad(format!(
                "The order state code '{unknown}' is not valid."
            )));
        }
        let debited = match query.get("customer_debited").map(String::as_str) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(bad(format!(
                    "customer_debited must be true or false, got '{other}'."
                )));
            }
        };
        Ok(Self {
            order_ids,
            states,
            created_from: date("start_date")?,
            created_to: date("end_date")?,
            updated_from: date("start_update_date")?.map(|at| at - UPDATE_DATE_DELTA),
            updated_to: date("end_update_date")?,
            debited,
        })
    }

    /// Dates are inclusive at both ends: a poller that reads up to `end_update_date` and then
    /// from it sees the orders of that second twice rather than never.
    fn admits(&self, order: &Order) -> bool {
        let within =
            |at: OffsetDateTime, from: Option<OffsetDateTime>, to: Option<OffsetDateTime>| {
                from.is_none_or(|from| at >= from) && to.is_none_or(|to| at <= to)
            };
        self.order_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&order.order_id))
            && self
                .states
                .as_ref()
                .is_none_or(|states| states.iter().any(|s| s == order.state.as_str()))
            && within(order.created, self.created_from, self.created_to)
            && within(order.updated, self.updated_from, self.updated_to)
            && self
                .debited
                .is_none_or(|debited| debited == order.debited.is_some())
    }
}

/// The front door of every order call: serves it (count, credential, budget, faults), then
/// catches the marketplace's orders up to now. The shop, its marketplace, and now.
pub fn open_orders<'w>(
    world: &'w mut World,
    call: &ApiCall,
    operation: Operation,
) -> Result<(i64, &'w mut Marketplace, OffsetDateTime), ApiError> {
    let shop_id = call.serve(world, operation)?;
    let delays = world.order_delays;
    let at = now();
    let marketplace = call.marketplace(world)?;
    marketplace.catch_up_orders(delays, at);
    Ok((shop_id, marketplace, at))
}

/// OR11 `GET /api/orders`: the shop's orders, sorted by creation date then id (`sort`
/// `dateCreated`, the only one), paged by offset (`offset`, `max` ≤ 100, `paginate`, `order`).
pub async fn list(State(sandbox): State<Sandbox>, call: ApiCall) -> Result<Json<Value>, ApiError> {
    let mut world = sandbox.world();
    let (shop_id, marketplace, _) = open_orders(&mut world, &call, Operation::Or11)?;
    if let Some(sort) = call.query.get("sort").filter(|sort| *sort != "dateCreated") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("sort '{sort}' is not supported: use dateCreated."),
        ));
    }
    let filter = OrderFilter::from_query(&call.query)?;
    let paging = OffsetPaging::from_query(&call.query)?;
    let mut orders: Vec<&Order> = marketplace
        .orders
        .values()
        .filter(|order| order.shop_id == shop_id && filter.admits(order))
        .collect();
    orders.sort_by(|a, b| {
        a.created
            .cmp(&b.created)
            .then_with(|| a.order_id.cmp(&b.order_id))
    });
    let total_count = orders.len();
    let page: Vec<Value> = paging.page(orders).into_iter().map(order_json).collect();
    Ok(Json(json!({ "orders": page, "total_count": total_count })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::Sequence;

    fn order_of(state: OrderState, debited: Option<OffsetDateTime>) -> Order {
        let at = now();
        Order {
            order_id: "Order_00001-A".into(),
            commercial_id: "Order_00001".into(),
            shop_id: 2001,
            currency: "EUR".into(),
            state,
            created: at,
            updated: at,
            decided: None,
            debited,
            shipped: None,
            customer: Customer::draw(&mut Sequence::new(7), 1),
            notification_email: None,
            lines: vec![OrderLine {
                id: "Order_00001-A-1".into(),
                index: 1,
                refused: false,
                offer_id: 1,
                offer_sku: "A".into(),
                offer_state_code: "11".into(),
                product_sku: "P1".into(),
                product_title: "A product".into(),
                category_code: String::new(),
                description: String::new(),
                quantity: 2,
                price_unit: Money(1000),
                shipping_price: LINE_SHIPPING,
                refunds: Vec::new(),
                shipped: 0,
            }],
            tracking: Tracking::default(),
            order_refunds: Vec::new(),
            shipments: 0,
        }
    }

    /// OR11 requires both addresses: the keys are always there, null before the debit.
    #[test]
    fn or11_always_has_both_customer_addresses() {
        let waiting = order_json(&order_of(OrderState::WaitingAcceptance, None));
        let customer = waiting["customer"].as_object().unwrap();
        for address in ["billing_address", "shipping_address"] {
            assert!(
                customer.get(address).is_some_and(Value::is_null),
                "{address}"
            );
        }
        let debited = order_json(&order_of(OrderState::Shipping, Some(now())));
        for address in ["billing_address", "shipping_address"] {
            let fields = debited["customer"][address].as_object().unwrap();
            for required in [
                "city",
                "country",
                "country_iso_code",
                "lastname",
                "street_1",
            ] {
                assert!(fields[required].is_string(), "{address}.{required}");
            }
        }
    }

    #[test]
    fn the_workflow_allows_only_its_steps() {
        use OrderState::*;
        assert_eq!(
            WaitingAcceptance.after(Step::Accept),
            Some(WaitingDebitPayment)
        );
        assert_eq!(WaitingAcceptance.after(Step::Expire), Some(Refused));
        assert_eq!(WaitingAcceptance.after(Step::SellerCancel), None);
        assert_eq!(
            WaitingAcceptance.after(Step::CustomerCancel),
            Some(Canceled)
        );
        assert_eq!(WaitingDebitPayment.after(Step::Debit), Some(Shipping));
        assert_eq!(WaitingDebitPayment.after(Step::Ship), None);
        assert_eq!(Shipping.after(Step::Ship), Some(Shipped));
        assert_eq!(Shipping.after(Step::SellerCancel), Some(Canceled));
        for step in [
            Step::Accept,
            Step::Ship,
            Step::SellerCancel,
            Step::CustomerCancel,
        ] {
            assert_eq!(Shipped.after(step), None, "{step:?}");
            assert_eq!(Refused.after(step), None, "{step:?}");
            assert_eq!(Canceled.after(step), None, "{step:?}");
        }
    }
}
