//! Webhook deliveries received from a shop: stored first, with the job that processes them, so
//! the receiver answers at once and nothing is lost if processing fails. A delivery is stored
//! once: WooCommerce's delivery id is a hash of the webhook id and the current second, so two
//! different events can share it, and only delivery id + body hash identifies a redelivery.

use domain::{ShopId, WorkspaceId};
use uuid::Uuid;

use crate::error::found;
use crate::job::{NewJob, insert_job};

use crate::{Storage, StorageError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingWebhook {
    /// The inbox id to store it under, chosen by the caller so the job can name it.
    pub id: Uuid,
    /// The shop's topic, e.g. `product.updated`.
    pub topic: String,
    /// The id of the product or order the delivery is about, when the shop says.
    pub resource_id: Option<i64>,
    /// The shop's delivery id (WooCommerce `X-WC-Webhook-Delivery-ID`).
    pub delivery_id: String,
    pub body_sha256: Vec<u8>,
    pub body: String,
}

/// What [`Storage::record_incoming_webhook`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookRecord {
    /// Stored with this inbox id, and its job queued.
    Recorded(Uuid),
    /// The same delivery was stored before; nothing was written.
    Duplicate,
}

/// One stored delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxEntry {
    pub id: Uuid,
    pub shop_id: ShopId,
    pub topic: String,
    pub resource_id: Option<i64>,
    pub body: String,
    pub received_at_ms: i64,
    pub processed_at_ms: Option<i64>,
}

/// Deliveries of a shop in the inbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookCounts {
    pub received: i64,
    pub processed: i64,
}

#[derive(sqlx::FromRow)]
struct InboxRow {
    id: Uuid,
    shop_id: Uuid,
    topic: String,
    resource_id: Option<i64>,
    body: String,
    received_at_ms: i64,
    processed_at_ms: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct CountsRow {
    received: i64,
    processed: i64,
}

impl Storage {
    /// In one transaction: stores the delivery, sets the shop's `last_webhook_at_ms` and queues
    /// `job`, the one that processes it. An exact redelivery (same delivery id and body) is
    /// `Duplicate` and writes nothing. `NotFound` if the shop is not in `ws`.
    pub async fn record_incoming_webhook(
        &self,
        ws: WorkspaceId,
        shop_id: ShopId,
        w: &IncomingWebhook,
        job: &NewJob,
        now_ms: i64,
    ) -> Result<WebhookRecord, StorageError> {
        const INSERT: &str = "INSERT INTO webhook_inbox \
             (id, workspace_id, shop_id, topic, resource_id, delivery_id, body_sha256, body, \
              received_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (shop_id, delivery_id, body_sha256) DO NOTHING RETURNING id";
        const TOUCH_SHOP: &str =
            "UPDATE shops SET last_webhook_at_ms = $3 WHERE workspace_id = $1 AND id = $2";
        let inbox_id = w.id;
        let record = in_transaction!(self, |tx| {
            let inserted: Option<Uuid> = sqlx::query_scalar(INSERT)
                .bind(inbox_id)
                .bind(ws.0)
                .bind(shop_id.0)
                .bind(&w.topic)
                .bind(w.resource_id)
                .bind(&w.delivery_id)
                .bind(w.body_sha256.as_slice())
                .bind(&w.body)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StorageError::on_write("webhook_inbox_delivery"))?;
            if inserted.is_some() {
                let touched = sqlx::query(TOUCH_SHOP)
                    .bind(ws.0)
                    .bind(shop_id.0)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                found(touched.rows_affected())?;
                insert_job!(&mut *tx, job, now_ms)
                    .map_err(StorageError::on_write("jobs_live_dedupe_key"))?;
                WebhookRecord::Recorded(inbox_id)
            } else {
                WebhookRecord::Duplicate
            }
        });
        if matches!(record, WebhookRecord::Recorded(_)) {
            self.jobs_changed().await;
        }
        Ok(record)
    }

    /// The stored delivery, if it is in `ws` (it is gone once its shop is deleted).
    pub async fn get_incoming_webhook(
        &self,
        ws: WorkspaceId,
        inbox_id: Uuid,
    ) -> Result<Option<InboxEntry>, StorageError> {
        const SQL: &str = "SELECT id, shop_id, topic, resource_id, body, received_at_ms, \
             processed_at_ms FROM webhook_inbox WHERE workspace_id = $1 AND id = $2";
        let row = on_reader!(self, |p| sqlx::query_as::<_, InboxRow>(SQL)
            .bind(ws.0)
            .bind(inbox_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|row| InboxEntry {
            id: row.id,
            shop_id: ShopId(row.shop_id),
            topic: row.topic,
            resource_id: row.resource_id,
            body: row.body,
            received_at_ms: row.received_at_ms,
            processed_at_ms: row.processed_at_ms,
        }))
    }

    /// Marks the delivery processed; the first time is kept if it is marked again. `NotFound` if
    /// it is not in `ws`.
    pub async fn mark_webhook_processed(
        &self,
        ws: WorkspaceId,
        inbox_id: Uuid,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE webhook_inbox SET processed_at_ms = COALESCE(processed_at_ms, $3) \
             WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(inbox_id)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// How many deliveries of the shop are stored and how many of them are processed; zeros
    /// for a shop not in `ws`.
    pub async fn webhook_counts(
        &self,
        ws: WorkspaceId,
        shop_id: ShopId,
    ) -> Result<WebhookCounts, StorageError> {
        const SQL: &str = "SELECT COUNT(*) AS received, COUNT(processed_at_ms) AS processed \
             FROM webhook_inbox WHERE workspace_id = $1 AND shop_id = $2";
        let row = on_reader!(self, |p| sqlx::query_as::<_, CountsRow>(SQL)
            .bind(ws.0)
            .bind(shop_id.0)
            .fetch_one(p)
            .await)?;
        Ok(WebhookCounts {
            received: row.received,
            processed: row.processed,
        })
    }
}
