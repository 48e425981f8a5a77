//! What shops tell the connector through their webhooks, in one place: a delivery is read and
//! its signature checked (`shops::read_delivery`, which knows each platform's topics and wire
//! format), stored once with the job that processes it in one transaction, and answered at
//! once; the job then routes the event to its flow.
//!
//! A delivery is a hint, never the truth. WooCommerce signs only the body, so a recorded
//! delivery can be sent again under a new delivery id: the event only names what to look at,
//! and the shop's own answer about it is what reaches Mirakl.

use domain::{ShopId, WorkspaceId};
use reqwest::header::HeaderMap;
use sha2::{Digest, Sha256};
use shops::{Delivery, DeliveryError, EventSubject};
use storage::{IncomingWebhook, Storage, WebhookRecord, now_ms};
use uuid::Uuid;

use crate::catalog::CatalogSync;
use crate::job::{CatalogRead, Job, Step};
use crate::orders::Orders;

/// Counter: requests to shops' delivery URLs, by `platform` and `receipt` (`recorded`,
/// `duplicate`, `refused`, `pong`).
pub const WEBHOOKS_RECEIVED: &str = "marketbridge_webhooks_received_total";
/// Histogram: seconds from a delivery's receipt to its event being handled, by `subject`
/// (`product`, `catalog`, `order`, `other`).
pub const WEBHOOK_LAG: &str = "marketbridge_webhook_lag_seconds";

/// What became of one request to a shop's delivery URL.
#[derive(Debug, PartialEq, Eq)]
pub enum Receipt {
    /// No such shop (never was, or disconnected).
    UnknownShop,
    /// The shop checking a new webhook's URL.
    Pong,
    Refused(DeliveryError),
    /// Stored with this inbox id; its job is queued.
    Recorded(Uuid),
    /// The same delivery (same delivery id and body) came before; nothing was written.
    Duplicate,
}

#[derive(Clone)]
pub struct ShopEvents {
    storage: Storage,
    catalog: CatalogSync,
    orders: Orders,
}

impl ShopEvents {
    pub fn new(storage: Storage, catalog: CatalogSync, orders: Orders) -> Self {
        Self {
            storage,
            catalog,
            orders,
        }
    }

    /// Receives one request to the delivery URL of shop `shop_id`.
    pub async fn receive(
        &self,
        shop_id: ShopId,
        headers: &HeaderMap,
        body: &[u8],
    ) -> anyhow::Result<Receipt> {
        // The delivery URL names the shop; nothing else identifies the workspace here.
        let Some(shop) = self.storage.find_shop(shop_id).await? else {
            return Ok(Receipt::UnknownShop);
        };
        tracing::Span::current().record("workspace", tracing::field::display(shop.workspace_id));
        let receipt = self.read_and_record(&shop, headers, body).await?;
        let counted = match &receipt {
            Receipt::UnknownShop => "unknown_shop",
            Receipt::Pong => "pong",
            Receipt::Refused(_) => "refused",
            Receipt::Recorded(_) => "recorded",
            Receipt::Duplicate => "duplicate",
        };
        metrics::counter!(WEBHOOKS_RECEIVED, "platform" => shop.platform.as_str(), "receipt" => counted)
            .increment(1);
        Ok(receipt)
    }

    /// The delivery to `shop` read, checked and stored once with its job.
    async fn read_and_record(
        &self,
        shop: &storage::Shop,
        headers: &HeaderMap,
        body: &[u8],
    ) -> anyhow::Result<Receipt> {
        let secrets = self
            .storage
            .shop_secrets(shop.workspace_id, shop.id)
            .await?;
        let event = match shops::read_delivery(
            shop.platform,
            headers,
            body,
            secrets.webhook_secret.expose().as_bytes(),
        ) {
            Ok(Delivery::Ping) => return Ok(Receipt::Pong),
            Ok(Delivery::Event(event)) => event,
            Err(refusal) => return Ok(Receipt::Refused(refusal)),
        };
        let Ok(text) = String::from_utf8(body.to_vec()) else {
            return Ok(Receipt::Refused(DeliveryError::NotJson));
        };
        let incoming = IncomingWebhook {
            id: Uuid::now_v7(),
            topic: event.topic.clone(),
            resource_id: event.subject.resource_id(),
            delivery_id: event.delivery_id.clone(),
            body_sha256: Sha256::digest(body).to_vec(),
            body: text,
        };
        let job = Job::shop_webhook(incoming.id, shop.id)
            .new_jobs(shop.workspace_id)
            .remove(0);
        let record = self
            .storage
            .record_incoming_webhook(shop.workspace_id, shop.id, &incoming, &job, now_ms())
            .await?;
        Ok(match record {
            WebhookRecord::Recorded(id) => {
                tracing::info!(shop = %shop.id, topic = %event.topic, inbox = %id, "webhook recorded");
                Receipt::Recorded(id)
            }
            WebhookRecord::Duplicate => {
                tracing::info!(shop = %shop.id, topic = %event.topic, "duplicate webhook ignored");
                Receipt::Duplicate
            }
        })
    }

    /// Routes a stored delivery to its flow, once: a product event marks the product it names
    /// for the next read of changes (coalesced with the events that arrive meanwhile); one
    /// that names none asks for a read of what changed lately. An order event names a shop
    /// order: if it is one the connector created, its Mirakl order looks at it again (F5).
    pub async fn process(&self, ws: WorkspaceId, inbox_id: Uuid) -> anyhow::Result<Step> {
        let Some(entry) = self
            .storage
            .get_incoming_webhook(ws, inbox_id)
            .await?
            .filter(|e| e.processed_at_ms.is_none())
        else {
            return Ok(Step::Done);
        };
        let event = subject(&entry.topic, entry.resource_id);
        let lag_subject = match event {
            EventSubject::Product(_) => "product",
            EventSubject::Catalog => "catalog",
            EventSubject::Order(_) => "order",
            EventSubject::Other => "other",
        };
        match event {
            EventSubject::Product(id) => {
                self.catalog.product_changed(ws, entry.shop_id, id).await?
            }
            EventSubject::Catalog => self.catalog.enqueue_read(ws, CatalogRead::Modified).await?,
            EventSubject::Order(id) => self.orders.shop_order_changed(ws, id).await?,
            EventSubject::Other => {}
        }
        let handled_ms = now_ms();
        self.storage
            .mark_webhook_processed(ws, inbox_id, handled_ms)
            .await?;
        metrics::histogram!(WEBHOOK_LAG, "subject" => lag_subject)
            .record((handled_ms - entry.received_at_ms).max(0) as f64 / 1000.0);
        Ok(Step::Done)
    }
}

/// The subject of a stored delivery, as [`ShopEvents::receive`] read it: its topic's resource
/// and the id it kept.
fn subject(topic: &str, resource_id: Option<i64>) -> EventSubject {
    match (topic.split('.').next(), resource_id) {
        (Some("product"), Some(id)) => EventSubject::Product(id),
        (Some("product"), None) => EventSubject::Catalog,
        (Some("order"), Some(id)) => EventSubject::Order(id),
        _ => EventSubject::Other,
    }
}
