//! Orders in a BigCommerce store (v2): creating the order of a Mirakl order, finding it again
//! by its `external_order_id`, reading its status and its shipments, cancelling it.
//!
//! The Mirakl order id is kept in `external_order_id` and the channel's name in
//! `external_source` (BigCommerce's "where the order came from"), so a lost answer is settled
//! by one lookup. Statuses are read into the words the order flow uses for every shop
//! ([`status_word`]): `pending`, `processing`, `on-hold`, `completed`, `cancelled`, `refunded`.

use std::collections::HashMap;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

use super::client::BcClient;
use super::error::BcError;
use crate::woocommerce::{TrackedItem, Tracking};

/// BigCommerce's largest v2 page.
const PER_PAGE: u32 = 250;

/// An order as read from `GET /v2/orders/{id}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct BcOrder {
    pub id: i64,
    pub status_id: i64,
    pub status: String,
    pub date_created: String,
    pub date_modified: String,
    pub external_order_id: Option<String>,
    pub external_source: Option<String>,
    pub staff_notes: Option<String>,
}

impl BcOrder {
    /// `date_modified` (RFC 2822, as v2 writes dates).
    pub fn modified_at(&self) -> Option<OffsetDateTime> {
        parse_v2_date(&self.date_modified)
    }
}

fn parse_v2_date(raw: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(raw.trim(), &Rfc2822)
        .or_else(|_| OffsetDateTime::parse(raw.trim(), &Rfc3339))
        .ok()
}

/// A v2 order line.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct BcOrderProduct {
    pub id: i64,
    pub product_id: i64,
    pub variant_id: i64,
    pub quantity: i64,
}

/// A v2 shipment.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct BcShipment {
    pub id: i64,
    pub tracking_number: String,
    pub tracking_carrier: String,
    pub shipping_provider: String,
    pub tracking_link: String,
    pub items: Vec<ShipmentItem>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShipmentItem {
    pub order_product_id: i64,
    pub quantity: i64,
}

/// BigCommerce's v2 status ids.
pub mod status {
    pub const PENDING: i64 = 1;
    pub const SHIPPED: i64 = 2;
    pub const PARTIALLY_SHIPPED: i64 = 3;
    pub const REFUNDED: i64 = 4;
    pub const CANCELLED: i64 = 5;
    pub const DECLINED: i64 = 6;
    pub const AWAITING_PAYMENT: i64 = 7;
    pub const AWAITING_PICKUP: i64 = 8;
    pub const AWAITING_SHIPMENT: i64 = 9;
    pub const COMPLETED: i64 = 10;
    pub const AWAITING_FULFILLMENT: i64 = 11;
    pub const MANUAL_VERIFICATION: i64 = 12;
    pub const DISPUTED: i64 = 13;
    pub const PARTIALLY_REFUNDED: i64 = 14;
}

/// The order flow's word for a BigCommerce status: what it acts on is `completed` (every line
/// leaves), `cancelled` and `refunded`.
pub fn status_word(status_id: i64) -> &'static str {
    match status_id {
        status::SHIPPED | status::COMPLETED => "completed",
        status::CANCELLED | status::DECLINED => "cancelled",
        status::REFUNDED => "refunded",
        status::MANUAL_VERIFICATION | status::DISPUTED => "on-hold",
        0 | status::PENDING | status::AWAITING_PAYMENT => "pending",
        _ => "processing",
    }
}

/// The status id a new order gets for the flow's word (the seller's order setting).
pub fn status_id_of(word: &str) -> i64 {
    match word {
        "pending" => status::PENDING,
        "on-hold" => status::MANUAL_VERIFICATION,
        "completed" => status::COMPLETED,
        "cancelled" => status::CANCELLED,
        _ => status::AWAITING_FULFILLMENT,
    }
}

impl BcClient {
    /// `POST /v2/orders` with the body given.
    pub async fn create_order(&self, body: &Value) -> Result<BcOrder, BcError> {
        self.call(Method::POST, "v2/orders", &[], Some(body))
            .await?
            .json("order")
    }

    /// One order; `None` when the store has none with that id.
    pub async fn order(&self, id: i64) -> Result<Option<BcOrder>, BcError> {
        self.get_optional(&format!("v2/orders/{id}"), &[])
            .await?
            .map(|answer| answer.json("order"))
            .transpose()
    }

    /// The orders whose `external_order_id` is `external_id`.
    pub async fn orders_by_external_id(&self, external_id: &str) -> Result<Vec<BcOrder>, BcError> {
        let query = [
            ("external_order_id", external_id.to_owned()),
            ("limit", PER_PAGE.to_string()),
        ];
        self.call(Method::GET, "v2/orders", &query, None)
            .await?
            .v2_list("orders")
    }

    /// One page (from 1) of the orders modified at or after `since`, oldest change first.
    pub async fn orders_modified_since(
        &self,
        since: OffsetDateTime,
        page: u32,
    ) -> Result<Vec<BcOrder>, BcError> {
        let query = [
            (
                "min_date_modified",
                since.format(&Rfc3339).expect("a date formats"),
            ),
            ("sort", "date_modified:asc".to_owned()),
            ("page", page.max(1).to_string()),
            ("limit", PER_PAGE.to_string()),
        ];
        self.call(Method::GET, "v2/orders", &query, None)
            .await?
            .v2_list("orders")
    }

    pub async fn order_products(&self, id: i64) -> Result<Vec<BcOrderProduct>, BcError> {
        let query = [("limit", PER_PAGE.to_string())];
        self.call(
            Method::GET,
            &format!("v2/orders/{id}/products"),
            &query,
            None,
        )
        .await?
        .v2_list("order products")
    }

    pub async fn shipments(&self, id: i64) -> Result<Vec<BcShipment>, BcError> {
        let query = [("limit", PER_PAGE.to_string())];
        self.call(
            Method::GET,
            &format!("v2/orders/{id}/shipments"),
            &query,
            None,
        )
        .await?
        .v2_list("shipments")
    }

    /// The order's shipments as tracking: each names the product (or variant) and quantity of
    /// its items, so parcels ship their own lines.
    pub async fn tracking(&self, id: i64) -> Result<Vec<Tracking>, BcError> {
        let shipments = self.shipments(id).await?;
        if shipments
            .iter()
            .all(|s| s.tracking_number.trim().is_empty())
        {
            return Ok(Vec::new());
        }
        let lines: HashMap<i64, BcOrderProduct> = self
            .order_products(id)
            .await?
            .into_iter()
            .map(|line| (line.id, line))
            .collect();
        Ok(shipments
            .into_iter()
            .filter(|s| !s.tracking_number.trim().is_empty())
            .map(|s| Tracking {
                provider: [&s.tracking_carrier, &s.shipping_provider]
                    .into_iter()
                    .map(|p| p.trim())
                    .find(|p| !p.is_empty())
                    .map(str::to_owned),
                number: s.tracking_number.trim().to_owned(),
                link: Some(s.tracking_link.trim().to_owned()).filter(|l| !l.is_empty()),
                items: s
                    .items
                    .iter()
                    .filter(|item| item.quantity > 0)
                    .filter_map(|item| {
                        let line = lines.get(&item.order_product_id)?;
                        Some(TrackedItem {
                            product_id: if line.variant_id > 0 {
                                line.variant_id
                            } else {
                                line.product_id
                            },
                            quantity: item.quantity,
                        })
                    })
                    .collect(),
            })
            .collect())
    }

    /// The order's refunds (v3 payment actions): `(refund id, amount as positive decimal
    /// text, reason)`, as the order flow reads a shop's refunds.
    pub async fn refunds(&self, id: i64) -> Result<Vec<(i64, String, String)>, BcError> {
        #[derive(Deserialize)]
        struct Refund {
            id: i64,
            #[serde(default)]
            total_amount: Value,
            #[serde(default)]
            reason: Option<String>,
        }
        let refunds: Vec<Refund> = self
            .call(
                Method::GET,
                &format!("v3/orders/{id}/payment_actions/refunds"),
                &[],
                None,
            )
            .await?
            .data("refunds")?;
        Ok(refunds
            .into_iter()
            .filter_map(|r| {
                let amount = match &r.total_amount {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => s.clone(),
                    _ => return None,
                };
                let amount = amount.trim().trim_start_matches('-').to_owned();
                Some((r.id, amount, r.reason.unwrap_or_default()))
            })
            .collect())
    }

    /// `PUT /v2/orders/{id}` with the fields given.
    pub async fn update_order(&self, id: i64, fields: &Value) -> Result<BcOrder, BcError> {
        self.call(Method::PUT, &format!("v2/orders/{id}"), &[], Some(fields))
            .await?
            .json("order")
    }

    /// Adds a line to the order's staff notes (v2 has no order notes of their own).
    pub async fn add_staff_note(&self, id: i64, note: &str) -> Result<(), BcError> {
        let current = self
            .order(id)
            .await?
            .and_then(|o| o.staff_notes)
            .unwrap_or_default();
        let notes = if current.trim().is_empty() {
            note.to_owned()
        } else {
            format!("{}\n{note}", current.trim_end())
        };
        self.update_order(id, &json!({ "staff_notes": notes }))
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_the_flows_words_and_back() {
        assert_eq!(status_word(status::SHIPPED), "completed");
        assert_eq!(status_word(status::COMPLETED), "completed");
        assert_eq!(status_word(status::DECLINED), "cancelled");
        assert_eq!(status_word(status::PARTIALLY_SHIPPED), "processing");
        assert_eq!(status_word(status::AWAITING_FULFILLMENT), "processing");
        for word in ["pending", "processing", "on-hold", "completed", "cancelled"] {
            assert_eq!(status_word(status_id_of(word)), word);
        }
    }

    #[test]
    fn v2_dates_are_rfc_2822() {
        let order = BcOrder {
            date_modified: "Tue, 01 Dec 2026 10:00:00 +0000".to_owned(),
            ..BcOrder::default()
        };
        assert_eq!(order.modified_at().unwrap().unix_timestamp(), 1_796_119_200);
    }
}
