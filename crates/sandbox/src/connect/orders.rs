//! Mirakl Connect orders: what an order a channel brings is, the workflow it follows, how
//! `GET /v2/orders` shows it, and that list. The seller's actions (accept, shipments, cancel,
//! refund) are `order_actions`; placing orders is the control API's (`order_control`).
//!
//! An order waits for acceptance (AWAITING_ACCEPTANCE), then for the customer's payment
//! (AWAITING_PAYMENT: the debit delay, as on the marketplaces), then for its shipment
//! (AWAITING_SHIPMENT, when the addresses appear); what it awaits moves in one `match`
//! (`Awaiting::after`). The rest follows from the lines: a line shipped in full is SHIPPED; one
//! refused, left undecided past the acceptance deadline, canceled whole or refunded whole is
//! CLOSED with that `status_reason`. An order is CLOSED when all its lines are, SHIPPED when
//! all its open lines are. Time's steps are taken lazily, as on the marketplaces (see
//! `marketplace::orders`).

use axum::Json;
use axum::extract::{RawQuery, State};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Sandbox;
use crate::connect::pages::Page;
use crate::connect::{ConnectCall, ConnectError};
use crate::gate::Operation;
use crate::values::clock::{format_mirakl, now, parse_mirakl};
use crate::values::customer::Customer;
use crate::values::money::Money;
use crate::world::{Company, OrderDelays, World};

/// The channel every sandbox order comes from.
const CHANNEL_ID: &str = "0001";
const CHANNEL_NAME: &str = "Sandbox Marketplace";
/// Days from the payment to the shipping deadline.
const DAYS_TO_SHIP: i64 = 2;
/// The statuses `GET /v2/orders` filters on.
const STATUSES: [&str; 7] = [
    "AWAITING_FRAUD_CHECK",
    "AWAITING_ACCEPTANCE",
    "AWAITING_PAYMENT",
    "AWAITING_SHIPMENT",
    "SHIPPED",
    "DELIVERED",
    "CLOSED",
];

/// What an order awaits in the platform's workflow, before its lines say more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    Acceptance,
    Payment,
    Shipment,
}

/// What moves an order along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The seller accepts at least one line.
    Accept,
    /// The customer paid.
    Debit,
}

impl Awaiting {
    pub fn after(self, step: Step) -> Option<Awaiting> {
        match (self, step) {
            (Awaiting::Acceptance, Step::Accept) => Some(Awaiting::Payment),
            (Awaiting::Payment, Step::Debit) => Some(Awaiting::Shipment),
            _ => None,
        }
    }
}

/// An order's or a line's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    AwaitingAcceptance,
    AwaitingPayment,
    AwaitingShipment,
    Shipped,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingAcceptance => "AWAITING_ACCEPTANCE",
            Self::AwaitingPayment => "AWAITING_PAYMENT",
            Self::AwaitingShipment => "AWAITING_SHIPMENT",
            Self::Shipped => "SHIPPED",
            Self::Closed => "CLOSED",
        }
    }

    fn of(awaiting: Awaiting) -> Self {
        match awaiting {
            Awaiting::Acceptance => Self::AwaitingAcceptance,
            Awaiting::Payment => Self::AwaitingPayment,
            Awaiting::Shipment => Self::AwaitingShipment,
        }
    }
}

/// Why a line or an order is CLOSED (`status_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Refused,
    AcceptanceTimeout,
    Canceled,
    Refunded,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refused => "REFUSED",
            Self::AcceptanceTimeout => "ACCEPTANCE_TIMEOUT",
            Self::Canceled => "CANCELED",
            Self::Refunded => "REFUNDED",
        }
    }
}

/// A cancelation or a refund of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdjustmentKind {
    Cancelation,
    Refund,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    pub id: String,
    pub kind: AdjustmentKind,
    pub reason: String,
    pub quantity: i64,
    pub price: Money,
    pub shipping_price: Money,
    pub created: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectLine {
    pub id: String,
    pub channel_order_line_id: String,
    /// The seller's product id (the Connect catalog's).
    pub product_id: String,
    pub title: String,
    pub ordered: i64,
    pub unit_price: Money,
    /// What the whole line ships for.
    pub shipping_price: Money,
    /// Refused, or left undecided past the deadline.
    pub closed: Option<Reason>,
    pub shipped: i64,
    pub adjustments: Vec<Adjustment>,
}

impl ConnectLine {
    /// What the adjustments of a kind took: `(quantity, price, shipping price)`.
    pub fn adjusted(&self, kind: AdjustmentKind) -> (i64, Money, Money) {
        self.adjustments
            .iter()
            .filter(|adjustment| adjustment.kind == kind)
            .fold((0, Money(0), Money(0)), |(quantity, price, shipping), a| {
                (
                    quantity + a.quantity,
                    Money(price.0 + a.price.0),
                    Money(shipping.0 + a.shipping_price.0),
                )
            })
    }

    /// The quantity after cancelations.
    pub fn quantity(&self) -> i64 {
        self.ordered - self.adjusted(AdjustmentKind::Cancelation).0
    }

    /// The price after cancelations; refunds do not change it.
    pub fn price(&self) -> Money {
        self.unit_price.times(self.quantity())
    }

    pub fn total_shipping(&self) -> Money {
        Money(self.shipping_price.0 - self.adjusted(AdjustmentKind::Cancelation).2.0)
    }

    /// Its status in an order that awaits `awaiting`, with the reason it is closed.
    pub fn status(&self, awaiting: Awaiting) -> (Status, Option<Reason>) {
        let refunded = self.adjusted(AdjustmentKind::Refund).1;
        if let Some(reason) = self.closed {
            (Status::Closed, Some(reason))
        } else if self.quantity() == 0 {
            (Status::Closed, Some(Reason::Canceled))
        } else if refunded >= self.price() {
            (Status::Closed, Some(Reason::Refunded))
        } else if self.shipped >= self.quantity() {
            (Status::Shipped, None)
        } else {
            (Status::of(awaiting), None)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOrder {
    /// `{channel id}_{channel order id}`.
    pub id: String,
    pub channel_order_id: String,
    pub awaiting: Awaiting,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
    pub accepted: Option<OffsetDateTime>,
    pub debited: Option<OffsetDateTime>,
    pub currency: String,
    pub customer: Customer,
    pub lines: Vec<ConnectLine>,
    /// What the last shipment named.
    pub carrier: Option<String>,
}

impl ConnectOrder {
    /// The order's status and its reason: CLOSED when every line is (with their reason when
    /// they share one), SHIPPED when every open line is, else what it awaits.
    pub fn status(&self) -> (Status, Option<Reason>) {
        let lines: Vec<(Status, Option<Reason>)> = self
            .lines
            .iter()
            .map(|line| line.status(self.awaiting))
            .collect();
        if lines.iter().all(|(status, _)| *status == Status::Closed) {
            let reason = lines[0]
                .1
                .filter(|first| lines.iter().all(|(_, r)| *r == Some(*first)));
            return (Status::Closed, reason);
        }
        if lines
            .iter()
            .all(|(status, _)| matches!(status, Status::Shipped | Status::Closed))
        {
            return (Status::Shipped, None);
        }
        (Status::of(self.awaiting), None)
    }

    pub fn take(&mut self, step: Step, now: OffsetDateTime) -> bool {
        let Some(next) = self.awaiting.after(step) else {
            return false;
        };
        self.awaiting = next;
        self.updated = now;
        match step {
            Step::Accept => self.accepted = Some(now),
            Step::Debit => self.debited = Some(now),
        }
        true
    }

    pub fn line_index(&self, line_id: &str) -> Option<usize> {
        self.lines.iter().position(|line| line.id == line_id)
    }

    /// Whether a line may still be canceled: paid for or awaiting payment, not all shipped.
    pub fn can_cancel(&self, line: &ConnectLine) -> bool {
        matches!(
            line.status(self.awaiting).0,
            Status::AwaitingPayment | Status::AwaitingShipment
        )
    }

    /// Whether a line may be refunded: paid for, and not refunded in full.
    pub fn can_refund(&self, line: &ConnectLine) -> bool {
        matches!(
            line.status(self.awaiting).0,
            Status::AwaitingShipment | Status::Shipped
        )
    }
}

impl Company {
    /// Takes the steps time made due by `now` (see `Marketplace::catch_up_orders`).
    pub fn catch_up_orders(&mut self, delays: OrderDelays, now: OffsetDateTime) {
        for order in self.orders.values_mut() {
            match order.status().0 {
                Status::AwaitingAcceptance if now >= order.created + delays.acceptance => {
                    for line in order.lines.iter_mut().filter(|line| line.closed.is_none()) {
                        line.closed = Some(Reason::AcceptanceTimeout);
                    }
                    order.updated = now;
                }
                Status::AwaitingPayment
                    if now >= order.accepted.unwrap_or(order.created) + delays.debit =>
                {
                    order.take(Step::Debit, now);
                }
                _ => {}
            }
        }
    }
}

/// The front door of every order call: serves it (count, credential, budget, faults; `scope`
/// narrows the budget), then catches the company's orders up to now.
pub fn open_orders<'w>(
    world: &'w mut World,
    call: &ConnectCall,
    operation: Operation,
    scope: &str,
) -> Result<(&'w mut Company, OffsetDateTime), ConnectError> {
    let company = call.serve_as(world, operation, scope)?;
    let delays = world.order_delays;
    let at = now();
    let company = world
        .companies
        .get_mut(&company)
        .expect("authorize checked the company exists");
    company.catch_up_orders(delays, at);
    Ok((company, at))
}

pub fn money_json(amount: Money, currency: &str) -> Value {
    json!({ "amount": amount.to_json(), "currency": currency })
}

fn address_json(customer: &Customer) -> Value {
    let mut address = json!({
        "first_name": customer.firstname,
        "last_name": customer.lastname,
        "street": customer.street,
        "city": customer.city,
        "zip_code": customer.zip_code,
        "country": Customer::COUNTRY,
        "country_iso_code": Customer::COUNTRY_ISO,
        "phone": customer.phone,
    });
    if let Some(more) = customer.street_additional {
        address["street_additional_info"] = json!(more);
    }
    address
}

fn adjustment_json(adjustment: &Adjustment, currency: &str) -> Value {
    json!({
        "adjustment_id": adjustment.id,
        "id": adjustment.id,
        "type": match adjustment.kind {
            AdjustmentKind::Cancelation => "CANCELATION",
            AdjustmentKind::Refund => "REFUND",
        },
        "reason": adjustment.reason,
        "quantity": adjustment.quantity,
        "price": money_json(adjustment.price, currency),
        "shipping_price": money_json(adjustment.shipping_price, currency),
        "taxes": [],
        "shipping_taxes": [],
        "created_at": format_mirakl(adjustment.created),
    })
}

fn line_json(order: &ConnectOrder, line: &ConnectLine) -> Value {
    let (status, reason) = line.status(order.awaiting);
    let mut body = json!({
        "id": line.id,
        "channel_order_line_id": line.channel_order_line_id,
        "status": status.as_str(),
        "product": { "id": line.product_id, "title": line.title },
        "quantity": line.quantity(),
        "price": money_json(line.price(), &order.currency),
        "total_shipping_price": money_json(line.total_shipping(), &order.currency),
        "taxes": [],
        "shipping_taxes": [],
        "adjustments": line.adjustments.iter().map(|a| adjustment_json(a, &order.currency)).collect::<Vec<_>>(),
        "can_cancel": order.can_cancel(line),
        "can_refund": order.can_refund(line) && line.adjusted(AdjustmentKind::Refund).1 < line.price(),
        "custom_attributes": [],
    });
    if let Some(reason) = reason {
        body["status_reason"] = json!(reason.as_str());
    }
    body
}

/// An order as `GET /v2/orders` shows it. The addresses (and the anonymized e-mail) appear
/// once the customer has paid, at AWAITING_SHIPMENT.
pub fn order_json(order: &ConnectOrder, store_name: &str) -> Value {
    let (status, reason) = order.status();
    let mut shipping_info = json!({ "method": "Standard" });
    if let Some(debited) = order.debited {
        shipping_info["address"] = address_json(&order.customer);
        shipping_info["email"] = json!(format!(
            "{}@notification.connect.example.com",
            order.id.to_ascii_lowercase().replace('_', ".")
        ));
        shipping_info["shipping_deadline"] =
            json!(format_mirakl(debited + time::Duration::days(DAYS_TO_SHIP)));
    }
    if let Some(carrier) = &order.carrier {
        shipping_info["carrier"] = json!(carrier);
    }
    let mut body = json!({
        "id": order.id,
        "channel_order_id": order.channel_order_id,
        "status": status.as_str(),
        "created_at": format_mirakl(order.created),
        "updated_at": format_mirakl(order.updated),
        "channel_updated_at": format_mirakl(order.updated),
        "origin": {
            "channel_id": CHANNEL_ID,
            "channel_name": CHANNEL_NAME,
            "channel_store_id": "1",
            "channel_store_name": store_name,
        },
        "fulfillment": { "type": "FULFILLED_BY_SELLER" },
        "shipping_info": shipping_info,
        "order_lines": order.lines.iter().map(|line| line_json(order, line)).collect::<Vec<_>>(),
        "custom_attributes": [],
    });
    if let Some(reason) = reason {
        body["status_reason"] = json!(reason.as_str());
    }
    if order.debited.is_some() {
        body["billing_info"] = json!({ "address": address_json(&order.customer) });
    }
    body
}

/// `GET /v2/orders`' filters and order.
struct OrderQuery {
    order_ids: Vec<String>,
    statuses: Vec<String>,
    updated_from: Option<OffsetDateTime>,
    by_creation: bool,
    ascending: bool,
    limit: usize,
    page_token: Option<String>,
    partner_only: bool,
}

impl OrderQuery {
    /// ASSUMPTION: `sort` is not among the published parameters but its description names
    /// `updated_at` (the default) and `created_at`, descending by default; the sandbox takes
    /// `sort=created_at` or `sort=updated_at,ASC` as the seek lists' `criterion,ASC|DESC`.
    fn parse(raw: Option<&str>, now: OffsetDateTime) -> Result<Self, ConnectError> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let all = |name: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(key, _)| key == name || *key == format!("{name}[]"))
                .flat_map(|(_, value)| value.split(','))
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .collect()
        };
        let one = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, v)| v.clone())
        };
        let statuses = all("statuses");
        if let Some(unknown) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
            return Err(ConnectError::invalid_field(
                "statuses",
                &format!("'{unknown}' is not one of {}", STATUSES.join(", ")),
            ));
        }
        let order_ids = all("order_ids");
        let updated_from = match one("updated_from") {
            Some(raw) => Some(parse_mirakl(&raw.replace(' ', "+")).ok_or_else(|| {
                ConnectError::invalid_field("updated_from", "must be an ISO 8601 date-time")
            })?),
            // 30 days back when neither it nor order ids narrow the list.
            None if order_ids.is_empty() => Some(now - time::Duration::days(30)),
            None => None,
        };
        if let Some(kind) = one("fulfillment_type")
            && !matches!(
                kind.as_str(),
                "FULFILLED_BY_SELLER" | "FULFILLED_BY_PARTNER"
            )
        {
            return Err(ConnectError::invalid_field(
                "fulfillment_type",
                "must be FULFILLED_BY_SELLER or FULFILLED_BY_PARTNER",
            ));
        }
        let sort = one("sort").unwrap_or_default();
        let (criterion, direction) = sort.split_once(',').unwrap_or((sort.as_str(), "DESC"));
        let by_creation = match criterion {
            "" | "updated_at" => false,
            "created_at" => true,
            _ => {
                return Err(ConnectError::invalid_field(
                    "sort",
                    "must be updated_at or created_at",
                ));
            }
        };
        let ascending = match direction.to_ascii_uppercase().as_str() {
            "ASC" => true,
            "DESC" => false,
            _ => {
                return Err(ConnectError::invalid_field(
                    "sort",
                    "must end with ,ASC or ,DESC",
                ));
            }
        };
        Ok(Self {
            order_ids,
            statuses,
            updated_from,
            by_creation,
            ascending,
            limit: Page::limit(one("limit").as_deref(), 10, 100)?,
            page_token: one("page_token"),
            partner_only: one("fulfillment_type").as_deref() == Some("FULFILLED_BY_PARTNER"),
        })
    }

    fn admits(&self, order: &ConnectOrder) -> bool {
        // Every sandbox order is fulfilled by the seller.
        !self.partner_only
            && (self.order_ids.is_empty() || self.order_ids.contains(&order.id))
            && (self.statuses.is_empty()
                || self.statuses.iter().any(|s| s == order.status().0.as_str()))
            && self.updated_from.is_none_or(|from| order.updated >= from)
    }

    /// The key an order sorts by, ascending in the list's order.
    fn key(&self, order: &ConnectOrder) -> String {
        let at = if self.by_creation {
            order.created
        } else {
            order.updated
        }
        .unix_timestamp();
        let at = if self.ascending { at } else { i64::MAX - at };
        format!("{at:020}|{}", order.id)
    }
}

/// `GET /v2/orders` (v2-listOrders): the company's orders updated from `updated_from` (30 days
/// back by default), `order_ids`, `statuses` and `fulfillment_type` filters, most recently
/// updated first, by seek pages of `limit` (1–100, 10 by default).
pub async fn list(
    State(sandbox): State<Sandbox>,
    call: ConnectCall,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ConnectError> {
    let mut world = sandbox.world();
    let (company, at) = open_orders(&mut world, &call, Operation::ConnectListOrders, "")?;
    let query = OrderQuery::parse(raw.as_deref(), at)?;
    let mut orders: Vec<(String, &ConnectOrder)> = company
        .orders
        .values()
        .filter(|order| query.admits(order))
        .map(|order| (query.key(order), order))
        .collect();
    orders.sort_by(|a, b| a.0.cmp(&b.0));
    let keys: Vec<String> = orders.iter().map(|(key, _)| key.clone()).collect();
    let page = Page::of(&keys, query.page_token.as_deref(), query.limit)?;
    let data = orders[page.items.clone()]
        .iter()
        .map(|(_, order)| order_json(order, &company.name))
        .collect();
    Ok(Json(page.body(data)))
}

/// A company's orders by id, as the list shows them, oldest first.
pub fn orders_json(company: &Company) -> Vec<Value> {
    let mut orders: Vec<&ConnectOrder> = company.orders.values().collect();
    orders.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    orders
        .into_iter()
        .map(|order| order_json(order, &company.name))
        .collect()
}
