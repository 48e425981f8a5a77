//! The Mirakl side of one channel's orders, whatever kind the channel is: a marketplace store
//! (OR11, OR21, OR23, OR24, OR28, OR29, ST01) or Mirakl Connect (`/v2/orders` and its actions). The
//! flow asks it for pages of orders, for one order again, and to act; each answer comes back in
//! the same words whatever the channel.

use std::time::Duration;

use domain::catalog::Money;
use domain::order::{Acceptance, Order, OrderStage};
use domain::{ChannelKind, InstanceUrl, StoreId};
use mirakl::connect::ConnectError;
use mirakl::connect::{
    ActionId, ConnectLineAdjustment, ConnectLineDecision, ConnectOrderQuery, ConnectPrice,
    ConnectShipment, ConnectShipmentItem,
};
use mirakl::marketplace::{Credential, MarketplaceError};
use mirakl::marketplace::{
    LineDecision, LineRefund, NewShipment, OrderQuery, ShipmentLine, ShipmentOutcome,
    ShipmentTracking, Tracking,
};
use storage::Channel;
use time::OffsetDateTime;

use super::Orders;
use super::mirakl_order::{from_connect, from_marketplace};
use crate::budgets::Operation;

/// Orders per page of a listing (Mirakl's largest page).
pub(super) const PAGE: u32 = 100;

/// Why a call to Mirakl did not go through.
#[derive(Debug)]
pub(super) enum Failure {
    /// 429: come back after this long (or one budget interval).
    RateLimited(Option<Duration>),
    /// It may go through later unchanged (5xx, no answer). The request may have been applied
    /// if the answer was lost.
    Retryable(String),
    /// Mirakl refused it; sending it again would fail the same way. The message says why.
    Refused(String),
    /// 401: Mirakl refused the access token, not the request; nothing was applied. The job
    /// fails with `TokenRefused`, the token is renewed, and the step is tried again.
    TokenRefused,
}

impl From<MarketplaceError> for Failure {
    fn from(e: MarketplaceError) -> Self {
        match e {
            MarketplaceError::RateLimited { retry_after } => Self::RateLimited(retry_after),
            MarketplaceError::Unauthorized => Self::TokenRefused,
            e if e.is_retryable() => Self::Retryable(e.to_string()),
            e => Self::Refused(e.to_string()),
        }
    }
}

impl From<ConnectError> for Failure {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::RateLimited { retry_after } => Self::RateLimited(retry_after),
            ConnectError::Unauthorized => Self::TokenRefused,
            e if e.is_retryable() => Self::Retryable(e.to_string()),
            e => Self::Refused(e.to_string()),
        }
    }
}

/// What an action sent to Mirakl became: done at once (marketplaces), or an action Connect
/// applies later, to follow by its id.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Sent {
    Done,
    Action(String),
}

/// A page of orders, and where the next one starts.
pub(super) struct OrderPage {
    pub orders: Vec<Order>,
    pub next: Option<Next>,
}

/// Where the next page of a listing starts.
#[derive(Clone, Debug)]
pub(super) enum Next {
    Offset(u32),
    Token(String),
}

/// One channel's orders on Mirakl, with a token for it.
pub(super) struct Remote<'a> {
    orders: &'a Orders,
    channel: &'a Channel,
    token: String,
    place: Place,
}

enum Place {
    Marketplace {
        instance: InstanceUrl,
        store: Option<StoreId>,
    },
    Connect,
}

impl<'a> Remote<'a> {
    pub(super) fn new(orders: &'a Orders, channel: &'a Channel, token: String) -> Option<Self> {
        let place = match channel.kind {
            ChannelKind::Marketplace => Place::Marketplace {
                instance: channel.instance_url.clone()?,
                store: channel.store_id,
            },
            ChannelKind::MiraklConnect => Place::Connect,
        };
        Some(Self {
            orders,
            channel,
            token,
            place,
        })
    }

    /// The budgeted operation of a listing on this channel.
    pub(super) fn list_operation(&self) -> Operation {
        match self.place {
            Place::Marketplace { .. } => Operation::OrderList,
            Place::Connect => Operation::ConnectOrderList,
        }
    }

    /// One page of the orders Mirakl changed since `since` (all of them when `None`).
    pub(super) async fn page(
        &self,
        since: Option<OffsetDateTime>,
        next: Option<&Next>,
    ) -> Result<OrderPage, Failure> {
        match &self.place {
            Place::Marketplace { instance, store } => {
                let offset = match next {
                    Some(Next::Offset(n)) => *n,
                    _ => 0,
                };
                let query = OrderQuery {
                    updated_since: since,
                    order_ids: Vec::new(),
                    offset,
                    max: PAGE,
                };
                let page = self
                    .orders
                    .marketplace
                    .orders(instance, Credential::Bearer(&self.token), *store, &query)
                    .await?;
                let read = offset + page.orders.len() as u32;
                let more = !page.orders.is_empty() && u64::from(read) < page.total_count;
                Ok(OrderPage {
                    orders: page
                        .orders
                        .iter()
                        .map(|o| self.dated(from_marketplace(o)))
                        .collect(),
                    next: more.then_some(Next::Offset(read)),
                })
            }
            Place::Connect => {
                let query = ConnectOrderQuery {
                    updated_from: since,
                    page_token: match next {
                        Some(Next::Token(t)) => Some(t.clone()),
                        _ => None,
                    },
                    limit: PAGE,
                };
                let page = self.orders.connect.orders(&self.token, &query).await?;
                Ok(OrderPage {
                    orders: page
                        .orders
                        .iter()
                        .map(|o| self.dated(from_connect(o)))
                        .collect(),
                    next: page.next_page_token.map(Next::Token),
                })
            }
        }
    }

    /// The order as Mirakl has it now: what answers "did the lost request go through?". For
    /// Connect, which cannot be asked for one order, the orders changed since `since` are read
    /// until it is found.
    pub(super) async fn fetch(
        &self,
        mirakl_id: &str,
        since: OffsetDateTime,
    ) -> Result<Option<Order>, Failure> {
        match &self.place {
            Place::Marketplace { instance, store } => {
                let query = OrderQuery {
                    updated_since: None,
                    order_ids: vec![mirakl_id.to_owned()],
                    offset: 0,
                    max: 1,
                };
                let page = self
                    .orders
                    .marketplace
                    .orders(instance, Credential::Bearer(&self.token), *store, &query)
                    .await?;
                Ok(page
                    .orders
                    .iter()
                    .find(|o| o.order_id == mirakl_id)
                    .map(|o| self.dated(from_marketplace(o))))
            }
            Place::Connect => {
                let mut next = None;
                loop {
                    let page = self.page(Some(since), next.as_ref()).await?;
                    if let Some(found) = page.orders.into_iter().find(|o| o.mirakl_id == mirakl_id)
                    {
                        return Ok(Some(found));
                    }
                    match page.next {
                        Some(n) => next = Some(n),
                        None => return Ok(None),
                    }
                }
            }
        }
    }

    /// Accepts or refuses each line (OR21, Connect accept).
    pub(super) async fn accept(
        &self,
        order: &Order,
        acceptance: &Acceptance,
    ) -> Result<Sent, Failure> {
        match &self.place {
            Place::Marketplace { instance, store } => {
                let lines: Vec<LineDecision> = acceptance
                    .lines
                    .iter()
                    .map(|(id, accepted)| LineDecision {
                        order_line_id: id.clone(),
                        accepted: *accepted,
                    })
                    .collect();
                self.orders
                    .marketplace
                    .accept_order(
                        instance,
                        Credential::Bearer(&self.token),
                        *store,
                        &order.mirakl_id,
                        &lines,
                    )
                    .await?;
                Ok(Sent::Done)
            }
            Place::Connect => {
                let lines: Vec<ConnectLineDecision> = acceptance
                    .lines
                    .iter()
                    .map(|(id, accepted)| ConnectLineDecision {
                        order_line_id: id.clone(),
                        accepted: *accepted,
                    })
                    .collect();
                let action = self
                    .orders
                    .connect
                    .accept_order(&self.token, &order.mirakl_id, &lines)
                    .await?;
                Ok(Sent::Action(action.as_str().to_owned()))
            }
        }
    }

    /// Ships the order (every line), with its tracking when the shop has one: OR23 then OR24,
    /// or one Connect shipment.
    pub(super) async fn ship(
        &self,
        order: &Order,
        tracking: Option<&Shipment>,
    ) -> Result<Sent, Failure> {
        match &self.place {
            Place::Marketplace { instance, store } => {
                let credential = Credential::Bearer(&self.token);
                if let Some(t) = tracking {
                    let tracking = Tracking {
                        carrier_code: t.carrier_code.clone(),
                        carrier_name: t.carrier_name.clone(),
                        carrier_url: t.url.clone(),
                        tracking_number: Some(t.number.clone()),
                    };
                    self.orders
                        .marketplace
                        .set_tracking(instance, credential, *store, &order.mirakl_id, &tracking)
                        .await?;
                }
                self.orders
                    .marketplace
                    .ship_order(instance, credential, *store, &order.mirakl_id)
                    .await?;
                Ok(Sent::Done)
            }
            Place::Connect => {
                let every_line: Vec<(String, i64)> = order
                    .lines
                    .iter()
                    .filter(|l| !OrderStage::of(&l.state).is_void())
                    .map(|l| (l.line_id.clone(), l.quantity))
                    .collect();
                self.ship_lines(order, tracking, &every_line).await
            }
        }
    }

    /// Ships some units of some lines, `(line id, quantity)`, with their parcel's tracking
    /// when it has one: one ST01 shipment, or one Connect shipment. Mirakl ships the order
    /// once every line is.
    pub(super) async fn ship_lines(
        &self,
        order: &Order,
        tracking: Option<&Shipment>,
        lines: &[(String, i64)],
    ) -> Result<Sent, Failure> {
        let quantity = |q: i64| u32::try_from(q.max(1)).unwrap_or(u32::MAX);
        match &self.place {
            Place::Marketplace { instance, store } => {
                let shipment = NewShipment {
                    order_id: order.mirakl_id.clone(),
                    shipment_lines: lines
                        .iter()
                        .map(|(id, q)| ShipmentLine {
                            order_line_id: id.clone(),
                            quantity: quantity(*q),
                        })
                        .collect(),
                    tracking: tracking.map(|t| ShipmentTracking {
                        carrier_code: t.carrier_code.clone(),
                        carrier_name: t.carrier_name.clone(),
                        tracking_url: t.url.clone(),
                        tracking_number: Some(t.number.clone()),
                    }),
                    shipped: true,
                };
                let outcomes = self
                    .orders
                    .marketplace
                    .create_shipments(
                        instance,
                        Credential::Bearer(&self.token),
                        *store,
                        std::slice::from_ref(&shipment),
                    )
                    .await?;
                match outcomes.into_iter().next() {
                    Some(ShipmentOutcome::Created { .. }) => Ok(Sent::Done),
                    Some(ShipmentOutcome::Refused { message, .. }) => {
                        Err(Failure::Refused(message))
                    }
                    None => Err(Failure::Retryable(
                        "Mirakl answered ST01 with neither a shipment nor an error".to_owned(),
                    )),
                }
            }
            Place::Connect => {
                let shipment = ConnectShipment {
                    items: lines
                        .iter()
                        .map(|(id, q)| ConnectShipmentItem {
                            order_line_id: id.clone(),
                            quantity: quantity(*q),
                        })
                        .collect(),
                    carrier: tracking.and_then(|t| t.carrier_name.clone()),
                    tracking_number: tracking.map(|t| t.number.clone()),
                    tracking_url: tracking.and_then(|t| t.url.clone()),
                    ..ConnectShipment::default()
                };
                let action = self
                    .orders
                    .connect
                    .create_shipment(&self.token, &order.mirakl_id, &shipment)
                    .await?;
                Ok(Sent::Action(action.as_str().to_owned()))
            }
        }
    }

    /// Cancels the order on Mirakl (the shop cancelled it before it shipped): OR29, or a
    /// Connect cancellation of every line.
    pub(super) async fn cancel(&self, order: &Order) -> Result<Sent, Failure> {
        match &self.place {
            Place::Marketplace { instance, store } => {
                self.orders
                    .marketplace
                    .cancel_order(
                        instance,
                        Credential::Bearer(&self.token),
                        *store,
                        &order.mirakl_id,
                    )
                    .await?;
                Ok(Sent::Done)
            }
            Place::Connect => {
                let lines = adjustments(order, None, "CUSTOMER_CANCELATION");
                let action = self
                    .orders
                    .connect
                    .cancel_lines(&self.token, &order.mirakl_id, &lines)
                    .await?;
                Ok(Sent::Action(action.as_str().to_owned()))
            }
        }
    }

    /// Refunds `amount` of the order (the shop refunded it), taken from its lines in order:
    /// OR28, or a Connect refund.
    pub(super) async fn refund(&self, order: &Order, amount: Money) -> Result<Sent, Failure> {
        match &self.place {
            Place::Marketplace { instance, store } => {
                let refunds: Vec<LineRefund> = split(order, amount)
                    .into_iter()
                    .map(|(line, part, quantity)| LineRefund {
                        order_line_id: line.line_id.clone(),
                        amount: part.to_decimal_string(),
                        shipping_amount: "0.00".to_owned(),
                        reason_code: REFUND_REASON.to_owned(),
                        quantity,
                        currency_iso_code: Some(order.currency.clone()),
                        taxes: Vec::new(),
                        shipping_taxes: Vec::new(),
                    })
                    .collect();
                self.orders
                    .marketplace
                    .refund_lines(instance, Credential::Bearer(&self.token), *store, &refunds)
                    .await?;
                Ok(Sent::Done)
            }
            Place::Connect => {
                let lines = adjustments(order, Some(amount), "AGREEMENT");
                let action = self
                    .orders
                    .connect
                    .refund_lines(&self.token, &order.mirakl_id, &lines)
                    .await?;
                Ok(Sent::Action(action.as_str().to_owned()))
            }
        }
    }

    /// Where a Connect action stands: `Some(true)` done, `Some(false)` failed (with why),
    /// `None` still running. A marketplace has no actions: always done.
    pub(super) async fn action(&self, id: &str) -> Result<ActionState, Failure> {
        match &self.place {
            Place::Marketplace { .. } => Ok(ActionState::Succeeded),
            Place::Connect => {
                let status = self
                    .orders
                    .connect
                    .action(&self.token, &ActionId::from(id.to_owned()))
                    .await?;
                Ok(if !status.is_done() {
                    ActionState::Running
                } else if status.succeeded() {
                    ActionState::Succeeded
                } else {
                    ActionState::Failed(
                        status
                            .errors
                            .iter()
                            .map(|e| e.to_string())
                            .collect::<Vec<_>>()
                            .join("; "),
                    )
                })
            }
        }
    }

    /// The order with the deadline it must be accepted by, while it waits for acceptance.
    fn dated(&self, mut order: Order) -> Order {
        if order.stage() == OrderStage::AwaitingAcceptance {
            let window = self.orders.config.acceptance_window.as_millis() as i64;
            order.acceptance_deadline_ms = Some(order.created_at_ms + window);
        }
        order
    }

    pub(super) fn channel(&self) -> &Channel {
        self.channel
    }

    /// The flow this speaks for (its call slots).
    pub(super) fn flow(&self) -> &Orders {
        self.orders
    }
}

/// Where a Connect action stands.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ActionState {
    Running,
    Succeeded,
    Failed(String),
}

/// A shipment's tracking, in Mirakl's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Shipment {
    pub carrier_code: Option<String>,
    pub carrier_name: Option<String>,
    pub number: String,
    pub url: Option<String>,
}

/// ASSUMPTION: Mirakl's refund reason codes are set per operator; a seller's refund made in
/// the shop is sent with this one. It belongs in the order settings once sellers ask for it.
const REFUND_REASON: &str = "SELLER_REFUND";

/// `amount` taken from the order's lines in order, each at most its total: `(line, part,
/// quantity refunded)` (the whole quantity when the whole line is).
fn split(order: &Order, amount: Money) -> Vec<(&domain::order::OrderLine, Money, u32)> {
    let mut left = amount.minor();
    let mut parts = Vec::new();
    for line in &order.lines {
        if left <= 0 {
            break;
        }
        let part = left.min(line.total_price.minor());
        left -= part;
        let whole = part == line.total_price.minor();
        let quantity = if whole {
            line.quantity.max(1) as u32
        } else {
            0
        };
        parts.push((line, Money::from_minor(part), quantity));
    }
    parts
}

fn adjustments(order: &Order, amount: Option<Money>, reason: &str) -> Vec<ConnectLineAdjustment> {
    let price = |m: Money| ConnectPrice {
        amount: m.to_decimal_string(),
        currency: order.currency.clone(),
    };
    let parts: Vec<(&domain::order::OrderLine, Money, u32)> = match amount {
        Some(amount) => split(order, amount),
        None => order
            .lines
            .iter()
            .map(|l| (l, l.total_price, l.quantity.max(1) as u32))
            .collect(),
    };
    parts
        .into_iter()
        .map(|(line, part, quantity)| ConnectLineAdjustment {
            order_line_id: line.line_id.clone(),
            quantity,
            price: price(part),
            shipping_price: price(Money::ZERO),
            reason: reason.to_owned(),
            taxes: Vec::new(),
            shipping_taxes: Vec::new(),
        })
        .collect()
}
