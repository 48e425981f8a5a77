//! A shop's orders on a marketplace: reading them (OR11), accepting or refusing their lines
//! (OR21), tracking and shipping (OR23, OR24), cancelling (OR29) and refunding lines (OR28), and
//! the carriers the operator knows (SH21).
//!
//! Orders are read tolerantly: Mirakl adds fields and states over time, so only what the
//! connector uses is kept, states stay Mirakl's own words, and the customer's addresses may be
//! `null` (Mirakl shows them only once the order is to be shipped, or accepted, depending on the
//! platform). Amounts keep the digits Mirakl sent. They are in the platform's tax mode: no
//! `order_tax_mode` is sent, for reading or refunding alike.

use domain::{InstanceUrl, StoreId};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;

use super::{Call, Credential, MarketplaceClient, MarketplaceError, Payload, decode_each};
use crate::wire::{
    date_time, decimal, non_empty, null_as_default, optional_date_time, query_date_time,
    serialize_decimal,
};

/// The largest OR11 page (`max`). Mirakl's own connector pages with 100.
pub const MAX_ORDERS_PER_PAGE: u32 = 100;

/// The most order ids one OR11 call may filter on.
pub const MAX_ORDER_IDS: usize = 100;

/// The most shipments one ST01 call may create.
pub const MAX_SHIPMENTS: usize = 1000;

/// Which orders OR11 lists, and which page of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderQuery {
    /// Orders updated since then (`start_update_date`). Mirakl itself goes back a little
    /// further, so that no order is missed; the same order may come twice.
    pub updated_since: Option<OffsetDateTime>,
    /// Only these orders (`order_ids`), at most [`MAX_ORDER_IDS`].
    pub order_ids: Vec<String>,
    /// Orders to skip, oldest created first.
    pub offset: u32,
    /// Orders per page, kept within 1..=[`MAX_ORDERS_PER_PAGE`].
    pub max: u32,
}

/// Every order, the first page of [`MAX_ORDERS_PER_PAGE`].
impl Default for OrderQuery {
    fn default() -> Self {
        Self {
            updated_since: None,
            order_ids: Vec::new(),
            offset: 0,
            max: MAX_ORDERS_PER_PAGE,
        }
    }
}

/// One page of OR11.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderPage {
    pub orders: Vec<MarketplaceOrder>,
    /// Orders across all pages.
    pub total_count: u64,
}

/// An order as OR11 gives it: what the connector uses. Amounts are Mirakl's digits (`"19.9"`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MarketplaceOrder {
    /// E.g. `Order_00010-A`: one shop's part of the customer's order.
    pub order_id: String,
    /// The customer's whole order, e.g. `Order_00010`.
    #[serde(default, deserialize_with = "non_empty")]
    pub commercial_id: Option<String>,
    /// `WAITING_ACCEPTANCE`, `SHIPPING`, `SHIPPED`, … or a state Mirakl adds later.
    pub order_state: String,
    #[serde(default, deserialize_with = "non_empty")]
    pub order_state_reason_code: Option<String>,
    #[serde(deserialize_with = "date_time")]
    pub created_date: OffsetDateTime,
    #[serde(deserialize_with = "date_time")]
    pub last_updated_date: OffsetDateTime,
    /// When the shop accepted or refused it; `None` before, and when Mirakl decided alone.
    #[serde(default, deserialize_with = "optional_date_time")]
    pub acceptance_decision_date: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "optional_date_time")]
    pub shipping_deadline: Option<OffsetDateTime>,
    pub currency_iso_code: String,
    /// The lines' prices, without shipping.
    #[serde(deserialize_with = "decimal")]
    pub price: String,
    #[serde(deserialize_with = "decimal")]
    pub shipping_price: String,
    /// Price, shipping and fees.
    #[serde(deserialize_with = "decimal")]
    pub total_price: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub customer: MarketplaceCustomer,
    /// An anonymized address that reaches the customer, for notices that expect no answer.
    #[serde(default, deserialize_with = "non_empty")]
    pub customer_notification_email: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub shipping_type_code: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub shipping_type_label: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub shipping_carrier_code: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub shipping_company: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub shipping_tracking: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub shipping_tracking_url: Option<String>,
    /// Whether OR29 may cancel it now.
    #[serde(default, deserialize_with = "null_as_default")]
    pub can_cancel: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub order_lines: Vec<MarketplaceOrderLine>,
}

/// Who ordered. The addresses are `None` until Mirakl shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct MarketplaceCustomer {
    pub customer_id: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub civility: Option<String>,
    pub locale: Option<String>,
    pub billing_address: Option<MarketplaceAddress>,
    pub shipping_address: Option<MarketplaceAddress>,
}

/// A billing or shipping address; every part as Mirakl sent it, `None` when it sent none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct MarketplaceAddress {
    pub civility: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub company: Option<String>,
    pub street_1: Option<String>,
    pub street_2: Option<String>,
    pub zip_code: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    /// The country's name, as the customer or the operator wrote it.
    pub country: Option<String>,
    /// ISO 3166-1 alpha-3, e.g. `FRA`.
    pub country_iso_code: Option<String>,
    pub phone: Option<String>,
    pub additional_info: Option<String>,
}

/// One line of a [`MarketplaceOrder`]: one offer, in some quantity.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MarketplaceOrderLine {
    /// E.g. `Order_00010-A-1`: what OR21 and OR28 name.
    pub order_line_id: String,
    /// The order states, plus `INCIDENT_OPEN`, `REFUNDED`, or one Mirakl adds later.
    pub order_line_state: String,
    /// The seller's SKU: the offer's `shop_sku`.
    pub offer_sku: String,
    /// The operator's product SKU.
    #[serde(default, deserialize_with = "non_empty")]
    pub product_sku: Option<String>,
    #[serde(default, deserialize_with = "non_empty")]
    pub product_title: Option<String>,
    pub quantity: i64,
    /// The price of one unit.
    #[serde(deserialize_with = "decimal")]
    pub price_unit: String,
    /// The line's price without shipping: `price_unit` × `quantity`, as Mirakl counts it.
    #[serde(deserialize_with = "decimal")]
    pub price: String,
    #[serde(deserialize_with = "decimal")]
    pub shipping_price: String,
    /// Price, shipping and fees of the line.
    #[serde(deserialize_with = "decimal")]
    pub total_price: String,
    /// Whether the line's full amount may still be refunded.
    #[serde(default, deserialize_with = "null_as_default")]
    pub can_refund: bool,
}

/// OR21: the shop's decision on one line of an order waiting for acceptance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineDecision {
    #[serde(rename = "id")]
    pub order_line_id: String,
    pub accepted: bool,
}

/// OR23: how an order is tracked. A carrier the operator knows (see
/// [`MarketplaceClient::carriers`]) goes by `carrier_code`, and Mirakl makes the tracking URL
/// from it; any other carrier needs `carrier_name`, and may give `carrier_url`. Fields left
/// `None` are not sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tracking {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
}

/// ST01: one shipment of lines of an order (multi-shipping), with its tracking. Mirakl
/// counts each line's units shipped; the order is `SHIPPED` once every line is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewShipment {
    pub order_id: String,
    pub shipment_lines: Vec<ShipmentLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking: Option<ShipmentTracking>,
    /// Gone, not only prepared.
    pub shipped: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShipmentLine {
    pub order_line_id: String,
    pub quantity: u32,
}

/// ST01's tracking: as OR23's, but the link of a carrier the operator does not know goes in
/// `tracking_url`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShipmentTracking {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
}

/// What ST01 did with one shipment: its id, or Mirakl's message saying why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShipmentOutcome {
    Created { order_id: String, id: String },
    Refused { order_id: String, message: String },
}

/// OR28: one refund on one order line. Amounts are decimal text (`"19.90"`), sent as JSON
/// numbers with those digits; one that is no plain decimal stops the call before it is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineRefund {
    pub order_line_id: String,
    /// The offer's part of the refund.
    #[serde(serialize_with = "serialize_decimal")]
    pub amount: String,
    /// The shipping part of the refund.
    #[serde(serialize_with = "serialize_decimal")]
    pub shipping_amount: String,
    /// One of the operator's refund reason codes.
    pub reason_code: String,
    /// The units refunded; Mirakl only records it.
    pub quantity: u32,
    /// Needed when the shop does not use the platform's default currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_iso_code: Option<String>,
    /// The taxes refunded on the price; needed when the order has taxes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<TaxAmount>,
    /// The taxes refunded on shipping; needed when the order has shipping taxes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shipping_taxes: Vec<TaxAmount>,
}

/// An amount of one tax, by the operator's tax code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaxAmount {
    pub code: String,
    #[serde(serialize_with = "serialize_decimal")]
    pub amount: String,
}

/// SH21: a carrier the operator knows, for OR23's `carrier_code`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Carrier {
    pub code: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub label: String,
    /// With `{trackingId}` where the tracking number goes.
    #[serde(default, deserialize_with = "non_empty")]
    pub tracking_url: Option<String>,
}

impl MarketplaceClient {
    /// OR11 `GET {instance}/api/orders?paginate=true&offset=&max=[&start_update_date=]
    /// [&order_ids=a,b]`: one page of the shop's orders, oldest created first.
    ///
    /// More than [`MAX_ORDER_IDS`] ids, or an id with a comma, is [`MarketplaceError::NotSent`].
    pub async fn orders(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        query: &OrderQuery,
    ) -> Result<OrderPage, MarketplaceError> {
        #[derive(Deserialize)]
        struct Page {
            orders: Vec<Box<RawValue>>,
            #[serde(default)]
            total_count: u64,
        }
        let query = order_query(query)?;
        let call = Call {
            query: &query,
            ..Call::get(vec!["orders"])
        };
        let page: Page = self.call_json(instance, credential, shop_id, call).await?;
        let orders = decode_each("GET /api/orders", "orders", &page.orders, |raw| {
            serde_json::from_str(raw.get())
        })?;
        Ok(OrderPage {
            orders,
            total_count: page.total_count,
        })
    }

    /// OR21 `PUT {instance}/api/orders/{order_id}/accept` with `{"order_lines": [{"id",
    /// "accepted"}]}`: accepts or refuses the lines of an order in `WAITING_ACCEPTANCE`. Mirakl
    /// wants a decision for every line, and may refuse a partial acceptance. No lines, no call
    /// ([`MarketplaceError::NotSent`]).
    pub async fn accept_order(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        order_id: &str,
        lines: &[LineDecision],
    ) -> Result<(), MarketplaceError> {
        #[derive(Serialize)]
        struct Body<'a> {
            order_lines: &'a [LineDecision],
        }
        if lines.is_empty() {
            return Err(no_lines("accept or refuse"));
        }
        let payload = Payload::json(&Body { order_lines: lines })?;
        self.order_action(instance, credential, shop_id, [order_id, "accept"], payload)
            .await
    }

    /// OR23 `PUT {instance}/api/orders/{order_id}/tracking`: sets the carrier and tracking
    /// number. Follow it with [`Self::ship_order`].
    pub async fn set_tracking(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        order_id: &str,
        tracking: &Tracking,
    ) -> Result<(), MarketplaceError> {
        let payload = Payload::json(tracking)?;
        let path = [order_id, "tracking"];
        self.order_action(instance, credential, shop_id, path, payload)
            .await
    }

    /// OR24 `PUT {instance}/api/orders/{order_id}/ship`, no body: the order in `SHIPPING` has
    /// left; it becomes `SHIPPED`. In any other state Mirakl refuses (400).
    pub async fn ship_order(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        order_id: &str,
    ) -> Result<(), MarketplaceError> {
        let (path, payload) = ([order_id, "ship"], Payload::None);
        self.order_action(instance, credential, shop_id, path, payload)
            .await
    }

    /// OR29 `PUT {instance}/api/orders/{order_id}/cancel`, no body: cancels the whole order,
    /// when its `can_cancel` allows.
    pub async fn cancel_order(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        order_id: &str,
    ) -> Result<(), MarketplaceError> {
        let (path, payload) = ([order_id, "cancel"], Payload::None);
        self.order_action(instance, credential, shop_id, path, payload)
            .await
    }

    /// OR28 `PUT {instance}/api/orders/refund` with `{"refunds": […]}`: refunds order lines,
    /// of one order or several. The ids of the refunds Mirakl created, in its order. No
    /// refunds, or an amount that is no plain decimal, and nothing is sent
    /// ([`MarketplaceError::NotSent`]).
    pub async fn refund_lines(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        refunds: &[LineRefund],
    ) -> Result<Vec<String>, MarketplaceError> {
        #[derive(Serialize)]
        struct Body<'a> {
            refunds: &'a [LineRefund],
        }
        #[derive(Deserialize)]
        struct Created {
            refunds: Vec<Refund>,
        }
        #[derive(Deserialize)]
        struct Refund {
            refund_id: RefundId,
        }
        /// Documented as text; a number is read too.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum RefundId {
            Text(String),
            Number(u64),
        }
        if refunds.is_empty() {
            return Err(no_lines("refund"));
        }
        let call = Call::put(vec!["orders", "refund"], Payload::json(&Body { refunds })?);
        let created: Created = self.call_json(instance, credential, shop_id, call).await?;
        Ok(created
            .refunds
            .into_iter()
            .map(|refund| match refund.refund_id {
                RefundId::Text(id) => id,
                RefundId::Number(id) => id.to_string(),
            })
            .collect())
    }

    /// ST01 `POST {instance}/api/shipments` with `{"shipments": […]}` (at most
    /// [`MAX_SHIPMENTS`]): ships lines of orders in `SHIPPING`. Each shipment is created or
    /// refused alone; the outcomes come back created first, then refused. No shipments, or
    /// too many, and nothing is sent ([`MarketplaceError::NotSent`]).
    pub async fn create_shipments(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        shipments: &[NewShipment],
    ) -> Result<Vec<ShipmentOutcome>, MarketplaceError> {
        #[derive(Serialize)]
        struct Body<'a> {
            shipments: &'a [NewShipment],
        }
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            shipment_success: Vec<Created>,
            #[serde(default)]
            shipment_errors: Vec<Refused>,
        }
        #[derive(Deserialize)]
        struct Created {
            id: String,
            #[serde(default)]
            order_id: String,
        }
        #[derive(Deserialize)]
        struct Refused {
            #[serde(default)]
            order_id: String,
            #[serde(default)]
            message: String,
        }
        if shipments.is_empty() || shipments.len() > MAX_SHIPMENTS {
            return Err(MarketplaceError::NotSent(format!(
                "ST01 takes 1 to {MAX_SHIPMENTS} shipments, not {}",
                shipments.len()
            )));
        }
        let call = Call::post(vec!["shipments"], Payload::json(&Body { shipments })?);
        let answer: Answer = self.call_json(instance, credential, shop_id, call).await?;
        let created = answer
            .shipment_success
            .into_iter()
            .map(|c| ShipmentOutcome::Created {
                order_id: c.order_id,
                id: c.id,
            });
        let refused = answer
            .shipment_errors
            .into_iter()
            .map(|r| ShipmentOutcome::Refused {
                order_id: r.order_id,
                message: r.message,
            });
        Ok(created.chain(refused).collect())
    }

    /// SH21 `GET {instance}/api/shipping/carriers`: the carriers the operator knows, by label.
    /// Mirakl asks for this once a day at most.
    pub async fn carriers(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
    ) -> Result<Vec<Carrier>, MarketplaceError> {
        #[derive(Deserialize)]
        struct Carriers {
            carriers: Vec<Carrier>,
        }
        let call = Call::get(vec!["shipping", "carriers"]);
        let carriers: Carriers = self.call_json(instance, credential, shop_id, call).await?;
        Ok(carriers.carriers)
    }

    /// `PUT {instance}/api/orders/{order_id}/{action}` (OR21, OR23, OR24, OR29), answered 204.
    async fn order_action(
        &self,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        shop_id: Option<StoreId>,
        [order_id, action]: [&str; 2],
        payload: Payload,
    ) -> Result<(), MarketplaceError> {
        let call = Call::put(vec!["orders", order_id, action], payload);
        self.call(instance, credential, shop_id, call)
            .await
            .map(drop)
    }
}

/// OR11's query string for `query`.
fn order_query(query: &OrderQuery) -> Result<Vec<(&'static str, String)>, MarketplaceError> {
    let mut pairs = vec![
        ("paginate", "true".to_owned()),
        ("offset", query.offset.to_string()),
        ("max", query.max.clamp(1, MAX_ORDERS_PER_PAGE).to_string()),
    ];
    if let Some(since) = query.updated_since {
        let since = query_date_time(since).ok_or_else(|| {
            MarketplaceError::NotSent(format!("{since} is no date Mirakl can filter on"))
        })?;
        pairs.push(("start_update_date", since));
    }
    if query.order_ids.len() > MAX_ORDER_IDS {
        return Err(MarketplaceError::NotSent(format!(
            "{} order ids in one call, where Mirakl takes at most {MAX_ORDER_IDS}",
            query.order_ids.len()
        )));
    }
    if let Some(id) = query.order_ids.iter().find(|id| id.contains(',')) {
        return Err(MarketplaceError::NotSent(format!(
            "the order id “{id}” has a comma, which separates ids in the query"
        )));
    }
    if !query.order_ids.is_empty() {
        pairs.push(("order_ids", query.order_ids.join(",")));
    }
    Ok(pairs)
}

fn no_lines(what: &str) -> MarketplaceError {
    MarketplaceError::NotSent(format!("no order lines to {what}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_query_pages_by_at_most_100_and_joins_ids_with_commas() {
        let since = OffsetDateTime::from_unix_timestamp(1_772_359_200).unwrap();
        let query = OrderQuery {
            updated_since: Some(since),
            order_ids: vec!["Order_1-A".to_owned(), "Order_2-A".to_owned()],
            offset: 200,
            max: 500,
        };
        assert_eq!(
            order_query(&query).unwrap(),
            vec![
                ("paginate", "true".to_owned()),
                ("offset", "200".to_owned()),
                ("max", "100".to_owned()),
                ("start_update_date", "2026-03-01T10:00:00Z".to_owned()),
                ("order_ids", "Order_1-A,Order_2-A".to_owned()),
            ]
        );
        let zero = OrderQuery {
            max: 0,
            ..OrderQuery::default()
        };
        assert_eq!(order_query(&zero).unwrap()[2], ("max", "1".to_owned()));
    }

    #[test]
    fn too_many_ids_or_an_id_with_a_comma_is_not_sent() {
        let many = OrderQuery {
            order_ids: (0..=MAX_ORDER_IDS).map(|i| format!("O-{i}")).collect(),
            ..OrderQuery::default()
        };
        assert!(matches!(
            order_query(&many),
            Err(MarketplaceError::NotSent(_))
        ));
        let comma = OrderQuery {
            order_ids: vec!["a,b".to_owned()],
            ..OrderQuery::default()
        };
        let error = order_query(&comma).unwrap_err();
        assert!(!error.is_retryable(), "{error:?}");
    }

    #[test]
    fn refunds_send_their_amounts_as_numbers_with_their_digits() {
        let refund = LineRefund {
            order_line_id: "Order_00010-A-1".to_owned(),
            amount: "19.90".to_owned(),
            shipping_amount: "0".to_owned(),
            reason_code: "15".to_owned(),
            quantity: 1,
            currency_iso_code: None,
            taxes: vec![TaxAmount {
                code: "tax1".to_owned(),
                amount: "3.98".to_owned(),
            }],
            shipping_taxes: vec![],
        };
        let body = Payload::json(&refund).unwrap();
        let Payload::Json(body) = body else {
            panic!("a JSON payload");
        };
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"order_line_id":"Order_00010-A-1","amount":19.90,"shipping_amount":0,"reason_code":"15","quantity":1,"taxes":[{"code":"tax1","amount":3.98}]}"#
        );
    }

    #[test]
    fn an_order_line_needs_its_amounts() {
        let line = json!({
            "order_line_id": "O-1-1", "order_line_state": "SHIPPING", "offer_sku": "MUG-1",
            "quantity": 1, "price_unit": 5, "price": 5, "shipping_price": null, "total_price": 5
        });
        let error = serde_json::from_value::<MarketplaceOrderLine>(line).unwrap_err();
        assert!(error.to_string().contains("expected an amount"), "{error}");
    }
}
