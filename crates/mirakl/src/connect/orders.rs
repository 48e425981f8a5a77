//! Mirakl Connect orders (`/v2/orders`): reading them, and the actions on their lines (accept or
//! refuse, ship, cancel, refund).
//!
//! An action is not done when Connect answers: it is accepted (202) with an [`ActionId`], passed
//! on to the sales channel, and its outcome read later with [`ConnectClient::action`]. Orders are
//! read tolerantly: statuses stay Connect's own words, addresses may be missing, and amounts keep
//! the digits Connect sent.

use std::collections::BTreeMap;
use std::fmt;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Call, ConnectClient, ConnectError};
use crate::wire::{
    date_time, decimal, non_empty, null_as_default, optional_date_time, query_date_time,
    serialize_decimal,
};

/// The largest page of `GET /v2/orders` (`limit`).
pub const MAX_ORDERS_PER_PAGE: u32 = 100;

/// Which orders `GET /v2/orders` lists, and which page of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOrderQuery {
    /// Orders Connect changed since then (`updated_from`). Without it Connect lists the last
    /// 30 days.
    pub updated_from: Option<OffsetDateTime>,
    /// The page after the one that gave this token.
    pub page_token: Option<String>,
    /// Orders per page, kept within 1..=[`MAX_ORDERS_PER_PAGE`].
    pub limit: u32,
}

/// The first page of [`MAX_ORDERS_PER_PAGE`] orders of the last 30 days.
impl Default for ConnectOrderQuery {
    fn default() -> Self {
        Self {
            updated_from: None,
            page_token: None,
            limit: MAX_ORDERS_PER_PAGE,
        }
    }
}

/// One page of `GET /v2/orders`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ConnectOrderPage {
    #[serde(rename = "data")]
    pub orders: Vec<ConnectOrder>,
    /// The token of the next page; `None` on the last one.
    #[serde(default, deserialize_with = "non_empty")]
    pub next_page_token: Option<String>,
}

/// An order as Connect gives it: what the connector uses.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ConnectOrder {
    /// Connect's id, e.g. `0002_3202630-A`: what the actions name. Not for customers' eyes.
    pub id: String,
    /// The order's number on the sales channel, e.g. `3202630-A`; not unique across channels.
    #[serde(default, deserialize_with = "non_empty")]
    pub channel_order_id: Option<String>,
    /// `AWAITING_ACCEPTANCE`, `AWAITING_SHIPMENT`, `SHIPPED`, … or one Connect adds later.
    pub status: String,
    /// Why it has its status, e.g. `REFUSED`, `ACCEPTANCE_TIMEOUT`.
    #[serde(default, deserialize_with = "non_empty")]
    pub status_reason: Option<String>,
    /// When it was placed on the sales channel.
    #[serde(deserialize_with = "date_time")]
    pub created_at: OffsetDateTime,
    /// When Connect last changed it: what `updated_from` filters on.
    #[serde(deserialize_with = "date_time")]
    pub updated_at: OffsetDateTime,
    #[serde(default, deserialize_with = "null_as_default")]
    pub origin: ConnectOrigin,
    #[serde(default, deserialize_with = "null_as_default")]
    pub fulfillment: ConnectFulfillment,
    #[serde(default, deserialize_with = "null_as_default")]
    pub billing_info: ConnectBillingInfo,
    #[serde(default, deserialize_with = "null_as_default")]
    pub shipping_info: ConnectShippingInfo,
    #[serde(default, deserialize_with = "null_as_default")]
    pub order_lines: Vec<ConnectOrderLine>,
}

/// The sales channel (a marketplace) and the seller's store on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ConnectOrigin {
    pub channel_id: Option<String>,
    pub channel_name: Option<String>,
    pub channel_store_id: Option<String>,
    pub channel_store_name: Option<String>,
}

/// Who ships the order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ConnectFulfillment {
    /// `FULFILLED_BY_SELLER`, or `FULFILLED_BY_PARTNER` for an order the seller does not ship.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// The partner, for `FULFILLED_BY_PARTNER`.
    pub code: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ConnectBillingInfo {
    pub address: Option<ConnectAddress>,
}

/// Where and how the order goes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ConnectShippingInfo {
    pub address: Option<ConnectAddress>,
    /// The customer's e-mail, when the channel shares it.
    pub email: Option<String>,
    /// The carrier's name, as the channel gives it.
    pub carrier: Option<String>,
    /// The channel's name for the shipping method, e.g. `Standard`.
    pub method: Option<String>,
    /// The seller must have sent the order by then.
    #[serde(deserialize_with = "optional_date_time")]
    pub shipping_deadline: Option<OffsetDateTime>,
}

/// A billing or shipping address; every part as Connect sent it, `None` when it sent none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ConnectAddress {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub street: Option<String>,
    pub street_additional_info: Option<String>,
    pub additional_info: Option<String>,
    pub zip_code: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    /// ISO 3166-1 alpha-3, e.g. `DNK`.
    pub country_iso_code: Option<String>,
    pub phone: Option<String>,
}

/// One line of a [`ConnectOrder`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ConnectOrderLine {
    /// Connect's line id, e.g. `0002_3202630-A-1`: what the actions name.
    pub id: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub channel_order_line_id: Option<String>,
    pub status: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub status_reason: Option<String>,
    pub product: ConnectLineProduct,
    /// Ordered, less what was cancelled.
    pub quantity: i64,
    /// The unit price times [`Self::quantity`], without taxes and shipping.
    pub price: ConnectPrice,
    /// The line's shipping, without its taxes.
    pub total_shipping_price: ConnectPrice,
    #[serde(default, deserialize_with = "null_as_default")]
    pub taxes: Vec<ConnectTax>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub shipping_taxes: Vec<ConnectTax>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub can_cancel: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub can_refund: bool,
}

/// The product of an order line.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ConnectLineProduct {
    /// The seller's product id: the `id` the catalog (`POST /products`) gave it.
    pub id: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub title: Option<String>,
}

/// An amount in a currency. The amount is decimal text (`"19.90"`): read with the digits
/// Connect sent, sent as a JSON number with those digits.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct ConnectPrice {
    #[serde(deserialize_with = "decimal", serialize_with = "serialize_decimal")]
    pub amount: String,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
}

/// An amount of one tax, by the channel's tax code.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct ConnectTax {
    pub code: String,
    pub amount: ConnectPrice,
}

/// The seller's decision on one line awaiting acceptance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectLineDecision {
    /// The line's Connect id ([`ConnectOrderLine::id`]).
    #[serde(rename = "id")]
    pub order_line_id: String,
    pub accepted: bool,
}

/// One package of an order: its lines, and how it is tracked. Fields left `None` are not sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConnectShipment {
    pub items: Vec<ConnectShipmentItem>,
    /// The carrier's name, e.g. `DHL Express`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
    /// Only for channels that want a return label's tracking with the shipment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_tracking_number: Option<String>,
    /// Ignored by channels that do not ask for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
}

/// Units of one order line in a [`ConnectShipment`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectShipmentItem {
    pub order_line_id: String,
    /// At least 1.
    pub quantity: u32,
}

/// A cancellation or a refund of (part of) one order line; the amounts are what is taken off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectLineAdjustment {
    pub order_line_id: String,
    pub quantity: u32,
    /// Without taxes and shipping.
    pub price: ConnectPrice,
    /// Without shipping taxes.
    pub shipping_price: ConnectPrice,
    /// `CUSTOMER_CANCELATION`, `OUT_OF_STOCK`, `RETURN`, `ITEM_NOT_RECEIVED`, `AGREEMENT`,
    /// `DEFECT` or `UNABLE_TO_DELIVER`.
    pub reason: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<ConnectTax>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shipping_taxes: Vec<ConnectTax>,
}

/// The id Connect gives an order action, to follow it with [`ConnectClient::action`]. It goes
/// into URLs as one percent-encoded path segment, so any stored value is safe to send.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(transparent)]
pub struct ActionId(String);

impl ActionId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An id read back from storage.
impl From<String> for ActionId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an order action stands (`GET /v2/orders/actions/{action_id}`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ActionStatus {
    pub id: ActionId,
    /// `PENDING`, `SUCCESS`, `FAILED`, or one Connect adds later.
    pub status: String,
    #[serde(default, deserialize_with = "optional_date_time")]
    pub created_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "optional_date_time")]
    pub updated_at: Option<OffsetDateTime>,
    /// Why it failed, as the channel said.
    #[serde(default, deserialize_with = "null_as_default")]
    pub errors: Vec<ActionError>,
}

impl ActionStatus {
    /// Whether Connect is done with the action. A status this crate does not know counts as
    /// not done, so a caller polling with a deadline never takes an open action for finished.
    pub fn is_done(&self) -> bool {
        matches!(self.status.as_str(), "SUCCESS" | "FAILED")
    }

    /// Whether the action went through on the channel.
    pub fn succeeded(&self) -> bool {
        self.status == "SUCCESS"
    }
}

/// One reason an action failed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ActionError {
    /// Stable, e.g. `ORDER_IN_WRONG_STATE`, `OUT_OF_STOCK`, `MISSING_CARRIER`.
    pub code: String,
    /// The channel's own words.
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
}

impl fmt::Display for ActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ConnectClient {
    /// `GET /v2/orders?limit=[&updated_from=][&page_token=]`: one page of the seller's orders,
    /// latest changed first.
    pub async fn orders(
        &self,
        token: &str,
        query: &ConnectOrderQuery,
    ) -> Result<ConnectOrderPage, ConnectError> {
        let mut pairs = vec![(
            "limit",
            query.limit.clamp(1, MAX_ORDERS_PER_PAGE).to_string(),
        )];
        if let Some(from) = query.updated_from {
            let from = query_date_time(from).ok_or_else(|| {
                ConnectError::NotSent(format!("{from} is no date Connect can filter on"))
            })?;
            pairs.push(("updated_from", from));
        }
        if let Some(page_token) = &query.page_token {
            pairs.push(("page_token", page_token.clone()));
        }
        let call = Call {
            query: &pairs,
            ..Call::new(Method::GET, &["v2", "orders"])
        };
        self.call_json(token, call, None::<&()>).await
    }

    /// `PUT /v2/orders/{order_id}/accept` with `{"order_lines": [{"id", "accepted"}]}`: accepts
    /// or refuses lines awaiting acceptance. No lines, no call ([`ConnectError::NotSent`]).
    pub async fn accept_order(
        &self,
        token: &str,
        order_id: &str,
        lines: &[ConnectLineDecision],
    ) -> Result<ActionId, ConnectError> {
        #[derive(Serialize)]
        struct Body<'a> {
            order_lines: &'a [ConnectLineDecision],
        }
        non_empty_lines(lines, "accept or refuse")?;
        let body = Body { order_lines: lines };
        self.order_action(token, Method::PUT, order_id, "accept", &body)
            .await
    }

    /// `POST /v2/orders/{order_id}/shipments`: ships one package of the order. No items, no
    /// call ([`ConnectError::NotSent`]).
    pub async fn create_shipment(
        &self,
        token: &str,
        order_id: &str,
        shipment: &ConnectShipment,
    ) -> Result<ActionId, ConnectError> {
        non_empty_lines(&shipment.items, "ship")?;
        self.order_action(token, Method::POST, order_id, "shipments", shipment)
            .await
    }

    /// `POST /v2/orders/{order_id}/cancel` with `{"cancelations": […]}`: cancels (part of)
    /// lines. No lines, or an amount that is no plain decimal, and nothing is sent
    /// ([`ConnectError::NotSent`]).
    pub async fn cancel_lines(
        &self,
        token: &str,
        order_id: &str,
        cancelations: &[ConnectLineAdjustment],
    ) -> Result<ActionId, ConnectError> {
        self.adjust_lines(token, order_id, ["cancel", "cancelations"], cancelations)
            .await
    }

    /// `POST /v2/orders/{order_id}/refund` with `{"refunds": […]}`: refunds (part of) lines.
    /// No lines, or an amount that is no plain decimal, and nothing is sent
    /// ([`ConnectError::NotSent`]).
    pub async fn refund_lines(
        &self,
        token: &str,
        order_id: &str,
        refunds: &[ConnectLineAdjustment],
    ) -> Result<ActionId, ConnectError> {
        self.adjust_lines(token, order_id, ["refund", "refunds"], refunds)
            .await
    }

    /// `GET /v2/orders/actions/{action_id}`: where an action stands. Connect asks for this once
    /// a minute per action at most.
    pub async fn action(
        &self,
        token: &str,
        action_id: &ActionId,
    ) -> Result<ActionStatus, ConnectError> {
        let segments = ["v2", "orders", "actions", action_id.as_str()];
        self.call_json(token, Call::new(Method::GET, &segments), None::<&()>)
            .await
    }

    /// `POST /v2/orders/{order_id}/{action}` with `{"{list}": […]}`: cancels or refunds.
    async fn adjust_lines(
        &self,
        token: &str,
        order_id: &str,
        [action, list]: [&str; 2],
        adjustments: &[ConnectLineAdjustment],
    ) -> Result<ActionId, ConnectError> {
        non_empty_lines(adjustments, action)?;
        let body = BTreeMap::from([(list, adjustments)]);
        self.order_action(token, Method::POST, order_id, action, &body)
            .await
    }

    /// `{method} /v2/orders/{order_id}/{action}` with `body`; the id of the action Connect
    /// accepted (202 `{"action_id"}`, or the deprecated `tracking_id` alone).
    async fn order_action(
        &self,
        token: &str,
        method: Method,
        order_id: &str,
        action: &str,
        body: &impl Serialize,
    ) -> Result<ActionId, ConnectError> {
        #[derive(Deserialize)]
        struct Accepted {
            #[serde(default)]
            action_id: Option<ActionId>,
            #[serde(default)]
            tracking_id: Option<ActionId>,
        }
        let segments = ["v2", "orders", order_id, action];
        let call = Call::new(method, &segments);
        let what = call.describe();
        let accepted: Accepted = self.call_json(token, call, Some(body)).await?;
        accepted
            .action_id
            .or(accepted.tracking_id)
            .ok_or_else(|| ConnectError::Decode(format!("{what}: no action_id")))
    }
}

/// A call about no line at all could never be accepted.
fn non_empty_lines<T>(lines: &[T], what: &str) -> Result<(), ConnectError> {
    if lines.is_empty() {
        return Err(ConnectError::NotSent(format!("no order lines to {what}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn action(status: &str) -> ActionStatus {
        serde_json::from_value(json!({"id": "a-1", "status": status})).unwrap()
    }

    #[test]
    fn only_success_and_failure_are_done() {
        assert!(action("SUCCESS").is_done() && action("SUCCESS").succeeded());
        assert!(action("FAILED").is_done() && !action("FAILED").succeeded());
        for open in ["PENDING", "RETRYING"] {
            assert!(!action(open).is_done(), "{open}");
            assert!(!action(open).succeeded(), "{open}");
        }
        assert_eq!(action("PENDING").errors, vec![]);
    }

    #[test]
    fn adjustments_send_amounts_as_numbers_with_their_digits() {
        let eur = |amount: &str| ConnectPrice {
            amount: amount.to_owned(),
            currency: "EUR".to_owned(),
        };
        let cancel = ConnectLineAdjustment {
            order_line_id: "0002_1-A-1".to_owned(),
            quantity: 1,
            price: eur("19.90"),
            shipping_price: eur("0"),
            reason: "OUT_OF_STOCK".to_owned(),
            taxes: vec![],
            shipping_taxes: vec![ConnectTax {
                code: "VAT".to_owned(),
                amount: eur("0.00"),
            }],
        };
        assert_eq!(
            String::from_utf8(crate::wire::json_body(&cancel).unwrap()).unwrap(),
            concat!(
                r#"{"order_line_id":"0002_1-A-1","quantity":1,"#,
                r#""price":{"amount":19.90,"currency":"EUR"},"#,
                r#""shipping_price":{"amount":0,"currency":"EUR"},"reason":"OUT_OF_STOCK","#,
                r#""shipping_taxes":[{"code":"VAT","amount":{"amount":0.00,"currency":"EUR"}}]}"#
            )
        );
    }
}
