//! WooCommerce orders as the order flow (F5) needs them: creating the shop order of a Mirakl
//! order, reading one back, finding the ones created since a moment (the only way to find an
//! order by its meta: the REST API cannot filter on meta, and has no idempotency key),
//! cancelling one, notes and refunds, and the tracking numbers the Shipment Tracking plugins
//! keep in meta.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use reqwest::Method;

use super::catalog::{MAX_PER_PAGE, MetaData, Page};
use super::client::{gmt, page_query};
use super::{WooClient, WooError, wire};

/// The meta key the Shipment Tracking and Advanced Shipment Tracking plugins keep their
/// tracking items in: a list of `{tracking_provider, custom_tracking_provider,
/// custom_tracking_link, tracking_number, date_shipped, tracking_id}`.
pub const TRACKING_ITEMS_META: &str = "_wc_shipment_tracking_items";
/// The meta key holding the Mirakl order id on a shop order made by the connector.
pub const MIRAKL_ORDER_META: &str = "mirakl_order_id";
/// The meta key holding the channel's name on a shop order made by the connector.
pub const MIRAKL_CHANNEL_META: &str = "mirakl_channel";

/// An order as the wc/v3 API answers it (what the connector reads of it).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct WooOrder {
    #[serde(deserialize_with = "wire::id")]
    pub id: i64,
    #[serde(deserialize_with = "wire::text")]
    pub number: String,
    /// `pending`, `processing`, `on-hold`, `completed`, `cancelled`, `refunded`, `failed`.
    #[serde(deserialize_with = "wire::text")]
    pub status: String,
    #[serde(deserialize_with = "wire::gmt_date")]
    pub date_created_gmt: Option<OffsetDateTime>,
    #[serde(deserialize_with = "wire::gmt_date")]
    pub date_modified_gmt: Option<OffsetDateTime>,
    #[serde(deserialize_with = "wire::or_default")]
    pub meta_data: Vec<MetaData>,
    #[serde(deserialize_with = "wire::or_default")]
    pub line_items: Vec<WooLineItem>,
    #[serde(deserialize_with = "wire::or_default")]
    pub refunds: Vec<WooRefundSummary>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct WooLineItem {
    #[serde(deserialize_with = "wire::id")]
    pub id: i64,
    #[serde(deserialize_with = "wire::text")]
    pub sku: String,
    #[serde(deserialize_with = "wire::integer")]
    pub quantity: Option<i64>,
}

/// A refund as an order lists it: its id, `total` as a negative amount, its reason.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct WooRefundSummary {
    #[serde(deserialize_with = "wire::id")]
    pub id: i64,
    #[serde(deserialize_with = "wire::text")]
    pub reason: String,
    #[serde(deserialize_with = "wire::text")]
    pub total: String,
}

/// One tracking number an order carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracking {
    /// The carrier as the shop names it (the plugin's provider, or its custom provider).
    pub provider: Option<String>,
    pub number: String,
    pub link: Option<String>,
    /// What the package holds, when the shop says (Advanced Shipment Tracking's "Tracking Per
    /// Item" add-on: `products_list`); empty when the number is for the whole order.
    pub items: Vec<TrackedItem>,
}

/// One item of a package: a product or variation id and how many of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackedItem {
    pub product_id: i64,
    pub quantity: i64,
}

/// The items a tracking item's `products_list` names: `[{"product": id, "qty": n}]`, numbers
/// or numeric text; entries that name no product or no positive quantity are left out.
fn tracked_items(item: &Value) -> Vec<TrackedItem> {
    let number = |value: Option<&Value>| match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    item.get("products_list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            Some(TrackedItem {
                product_id: number(entry.get("product")).filter(|id| *id > 0)?,
                quantity: number(entry.get("qty")).filter(|qty| *qty > 0)?,
            })
        })
        .collect()
}

impl WooOrder {
    /// A meta value as text (a number or bool written out).
    pub fn meta(&self, key: &str) -> Option<String> {
        self.meta_data
            .iter()
            .find(|m| m.key == key)
            .and_then(|m| match &m.value {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    }

    /// The tracking numbers of the order: the Shipment Tracking plugins' items, then the
    /// `custom_key` meta holding a plain number, when the seller named one.
    pub fn tracking(&self, custom_key: Option<&str>) -> Vec<Tracking> {
        let text = |item: &Value, field: &str| {
            item.get(field)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let mut found: Vec<Tracking> = self
            .meta_data
            .iter()
            .filter(|m| m.key == TRACKING_ITEMS_META)
            .flat_map(|m| m.value.as_array().cloned().unwrap_or_default())
            .filter_map(|item| {
                Some(Tracking {
                    provider: text(&item, "tracking_provider")
                        .or_else(|| text(&item, "custom_tracking_provider")),
                    number: text(&item, "tracking_number")?,
                    link: text(&item, "custom_tracking_link"),
                    items: tracked_items(&item),
                })
            })
            .collect();
        if let Some(number) = custom_key.and_then(|key| self.meta(key)) {
            found.push(Tracking {
                provider: None,
                number,
                link: None,
                items: Vec::new(),
            });
        }
        found
    }
}

/// A shop order to create for a Mirakl order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWooOrder {
    pub status: String,
    /// Whether to mark it paid (`set_paid`): Mirakl collected the payment.
    pub paid: bool,
    pub currency: String,
    pub billing: WooAddress,
    pub shipping: WooAddress,
    pub lines: Vec<NewWooLine>,
    /// The shipping line: method title and total.
    pub shipping_line: Option<(String, String)>,
    pub customer_note: Option<String>,
    /// Meta to keep on the order (`mirakl_order_id`, `mirakl_channel`).
    pub meta: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWooLine {
    pub product_id: i64,
    pub variation_id: Option<i64>,
    pub quantity: i64,
    /// The line's total, as a decimal text (Mirakl's price, not the shop's).
    pub total: String,
    /// Mirakl's line id, kept as line meta.
    pub mirakl_line_id: String,
}

/// An address as WooCommerce takes it (`country` is ISO alpha-2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WooAddress {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
    pub phone: String,
}

impl NewWooOrder {
    /// The body of `POST orders`. No customer account is made (`customer_id` 0).
    pub(super) fn body(&self) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                let mut line = json!({
                    "product_id": l.product_id,
                    "quantity": l.quantity,
                    "subtotal": l.total,
                    "total": l.total,
                    "meta_data": [{ "key": "mirakl_order_line_id", "value": l.mirakl_line_id }],
                });
                if let Some(variation) = l.variation_id {
                    line["variation_id"] = json!(variation);
                }
                line
            })
            .collect();
        let shipping_lines: Vec<Value> = self
            .shipping_line
            .iter()
            .map(|(title, total)| json!({ "method_id": "mirakl", "method_title": title, "total": total }))
            .collect();
        let meta: Vec<Value> = self
            .meta
            .iter()
            .map(|(key, value)| json!({ "key": key, "value": value }))
            .collect();
        let mut body = json!({
            "status": self.status,
            "set_paid": self.paid,
            "currency": self.currency,
            "customer_id": 0,
            "created_via": "marketbridge",
            "billing": self.billing,
            "shipping": self.shipping,
            "line_items": lines,
            "shipping_lines": shipping_lines,
            "meta_data": meta,
        });
        if let Some(note) = &self.customer_note {
            body["customer_note"] = json!(note);
        }
        body
    }
}

impl WooClient {
    /// Creates an order (`POST orders`).
    pub async fn create_order(&self, order: &NewWooOrder) -> Result<WooOrder, WooError> {
        self.call(Method::POST, "orders", &[], Some(order.body()))
            .await?
            .json("order")
    }

    /// One order by id; `None` when the store says there is none (404).
    pub async fn order(&self, id: i64) -> Result<Option<WooOrder>, WooError> {
        match self
            .call(Method::GET, &format!("orders/{id}"), &[], None)
            .await
        {
            Ok(answer) => Ok(Some(answer.json("order")?)),
            Err(WooError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page (from 1) of the orders created after `after`, oldest first, with their meta:
    /// how an order is found by its meta, since the REST API cannot filter on it.
    pub async fn orders_created_after(
        &self,
        after: OffsetDateTime,
        page: u32,
    ) -> Result<Page<WooOrder>, WooError> {
        let mut query = page_query(page, MAX_PER_PAGE);
        query.retain(|(name, _)| *name != "orderby" && *name != "order");
        query.extend([
            ("after", gmt(after)),
            ("dates_are_gmt", "true".to_owned()),
            ("orderby", "date".to_owned()),
            ("order", "asc".to_owned()),
        ]);
        self.call(Method::GET, "orders", &query, None)
            .await?
            .page("orders")
    }

    /// One page (from 1) of the orders modified after `after`, oldest change first.
    pub async fn orders_modified_after(
        &self,
        after: OffsetDateTime,
        page: u32,
    ) -> Result<Page<WooOrder>, WooError> {
        let mut query = page_query(page, MAX_PER_PAGE);
        query.retain(|(name, _)| *name != "orderby" && *name != "order");
        query.extend([
            ("modified_after", gmt(after)),
            ("dates_are_gmt", "true".to_owned()),
            ("orderby", "modified".to_owned()),
            ("order", "asc".to_owned()),
        ]);
        self.call(Method::GET, "orders", &query, None)
            .await?
            .page("orders")
    }

    /// Sets an order's status (`cancelled` gives its stock back, as core does).
    pub async fn set_order_status(&self, id: i64, status: &str) -> Result<WooOrder, WooError> {
        self.call(
            Method::PUT,
            &format!("orders/{id}"),
            &[],
            Some(json!({ "status": status })),
        )
        .await?
        .json("order")
    }

    /// Adds a note to an order, for the seller (not sent to the customer).
    pub async fn add_order_note(&self, id: i64, note: &str) -> Result<(), WooError> {
        self.call(
            Method::POST,
            &format!("orders/{id}/notes"),
            &[],
            Some(json!({ "note": note, "customer_note": false })),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(meta: Value) -> WooOrder {
        serde_json::from_value(
            json!({ "id": 9, "number": "9", "status": "completed", "meta_data": meta }),
        )
        .unwrap()
    }

    #[test]
    fn tracking_is_read_from_the_plugins_items_and_a_custom_key() {
        let o = order(json!([
            { "id": 1, "key": TRACKING_ITEMS_META, "value": [
                { "tracking_provider": "colissimo", "tracking_number": "6A123", "date_shipped": "1700000000" },
                { "tracking_provider": "", "custom_tracking_provider": "Bike courier",
                  "custom_tracking_link": "https://courier.example/t/7", "tracking_number": "7" },
                { "tracking_provider": "dhl" },
                { "tracking_provider": "ups", "tracking_number": "1Z", "products_list": [
                    { "product": 31, "qty": 2, "item_id": 7 },
                    { "product": "32", "qty": "1" },
                    { "product": 0, "qty": 1 },
                    { "product": 33, "qty": 0 }
                ]}
            ]},
            { "id": 2, "key": "_my_tracking", "value": " ZX9 " },
            { "id": 3, "key": MIRAKL_ORDER_META, "value": "2001-A" }
        ]));
        assert_eq!(
            o.tracking(Some("_my_tracking")),
            [
                Tracking {
                    provider: Some("colissimo".into()),
                    number: "6A123".into(),
                    link: None,
                    items: vec![],
                },
                Tracking {
                    provider: Some("Bike courier".into()),
                    number: "7".into(),
                    link: Some("https://courier.example/t/7".into()),
                    items: vec![],
                },
                Tracking {
                    provider: Some("ups".into()),
                    number: "1Z".into(),
                    link: None,
                    items: vec![
                        TrackedItem {
                            product_id: 31,
                            quantity: 2
                        },
                        TrackedItem {
                            product_id: 32,
                            quantity: 1
                        },
                    ],
                },
                Tracking {
                    provider: None,
                    number: "ZX9".into(),
                    link: None,
                    items: vec![],
                },
            ]
        );
        assert_eq!(o.tracking(None).len(), 3);
        assert_eq!(o.meta(MIRAKL_ORDER_META).as_deref(), Some("2001-A"));
        assert!(order(json!(null)).tracking(None).is_empty());
    }
}
