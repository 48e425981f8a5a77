//! The background work as one type: a [`Job`] per flow, each with its payload as a struct,
//! queued through [`Queue`] and run by the one dispatch of the worker.
//!
//! A job is stored as its flow's name (the `jobs.flow` column, which the queue also uses to run
//! one job per workspace and flow at a time) and its payload as JSON; `#[serde(tag, content)]`
//! gives exactly those two. The names and payloads are those the earlier release wrote, so
//! jobs queued by it still run. A stored job that no longer reads is a [`JobError`], which the
//! worker moves to the dead letter with a message that names it; it never panics.

use domain::{ChannelId, OrderId, ShopId, WorkspaceId};
use serde::{Deserialize, Serialize};
use storage::{NewJob, Storage, now_ms};
use uuid::Uuid;

/// One unit of background work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "flow", content = "payload", rename_all = "snake_case")]
pub enum Job {
    /// F7: renew the channel's access token before it lapses.
    TokenRefresh(ForChannel),
    /// One read of the shop, to record its health and the state of our webhooks there.
    ShopHealth(ForShop),
    /// Process one stored webhook delivery.
    ShopWebhook(ForDelivery),
    /// F4: read the shop into catalog items.
    CatalogRead(CatalogRead),
    /// F4: send one channel what changed.
    ChannelExport(ChannelExport),
    /// F4: follow one channel's open imports to their end.
    ImportFollow(ForChannel),
    /// F4: compare one channel's live offers with what it should have.
    Reconcile(ForChannel),
    /// F6: the Disconnect, step after step.
    Disconnect(Everything),
    /// F5: poll one channel for the orders Mirakl changed.
    OrderImport(ForChannel),
    /// F5: take one order its next step (accept, shop order, ship, cancel, refund).
    OrderStep(OrderStep),
}

/// A job about one order: its next step, and (`shop_changed`) a look at its shop order, which
/// a shop event named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderStep {
    pub order_id: OrderId,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shop_changed: bool,
}

/// A job about one channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForChannel {
    pub channel_id: ChannelId,
}

/// A job about the workspace's shop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForShop {
    pub shop_id: ShopId,
}

/// A job about one stored webhook delivery of a shop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForDelivery {
    pub inbox_id: Uuid,
    pub shop_id: ShopId,
}

/// A job about the whole workspace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Everything {}

/// Which part of the shop a catalog read reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "CatalogReadPayload", into = "CatalogReadPayload")]
pub enum CatalogRead {
    /// Every product; what the shop no longer has is marked deleted.
    Full,
    /// The products modified since the last read.
    Modified,
    /// The products webhooks named (marked in `shop_changes`).
    Changes,
}

/// How a [`CatalogRead`] is stored: `{"full": bool}`, or `{"changes": true}`.
#[derive(Serialize, Deserialize)]
struct CatalogReadPayload {
    #[serde(default)]
    full: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    changes: bool,
}

impl From<CatalogReadPayload> for CatalogRead {
    fn from(p: CatalogReadPayload) -> Self {
        match (p.changes, p.full) {
            (true, _) => Self::Changes,
            (false, true) => Self::Full,
            (false, false) => Self::Modified,
        }
    }
}

impl From<CatalogRead> for CatalogReadPayload {
    fn from(read: CatalogRead) -> Self {
        Self {
            full: read == CatalogRead::Full,
            changes: read == CatalogRead::Changes,
        }
    }
}

/// An export to one channel: of every item, or (`delta`) of the items changed since its last
/// export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelExport {
    pub channel_id: ChannelId,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delta: bool,
}

/// What a job asks of the worker when it returns.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Done,
    /// Run the same job again at this time (a budget slot, Retry-After, an import still running).
    RunAgainAt(i64),
}

/// A stored job this version cannot run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JobError {
    #[error("the {flow} job's payload cannot be read ({error}); it was moved to the dead letter")]
    Unreadable { flow: String, error: String },
    #[error("the {flow} job names no workspace; it was moved to the dead letter")]
    NoWorkspace { flow: String },
}

impl Job {
    pub fn token_refresh(channel_id: ChannelId) -> Self {
        Self::TokenRefresh(ForChannel { channel_id })
    }

    pub fn shop_health(shop_id: ShopId) -> Self {
        Self::ShopHealth(ForShop { shop_id })
    }

    pub fn shop_webhook(inbox_id: Uuid, shop_id: ShopId) -> Self {
        Self::ShopWebhook(ForDelivery { inbox_id, shop_id })
    }

    pub fn catalog_read(read: CatalogRead) -> Self {
        Self::CatalogRead(read)
    }

    /// An export to the channel: of every item, or only of what changed since its last one.
    pub fn channel_export(channel_id: ChannelId, delta: bool) -> Self {
        Self::ChannelExport(ChannelExport { channel_id, delta })
    }

    pub fn import_follow(channel_id: ChannelId) -> Self {
        Self::ImportFollow(ForChannel { channel_id })
    }

    pub fn reconcile(channel_id: ChannelId) -> Self {
        Self::Reconcile(ForChannel { channel_id })
    }

    pub fn disconnect() -> Self {
        Self::Disconnect(Everything {})
    }

    pub fn order_import(channel_id: ChannelId) -> Self {
        Self::OrderImport(ForChannel { channel_id })
    }

    pub fn order_step(order_id: OrderId, shop_changed: bool) -> Self {
        Self::OrderStep(OrderStep {
            order_id,
            shop_changed,
        })
    }

    /// The flow's name, as stored and as sync runs record it.
    pub fn flow(&self) -> &'static str {
        match self {
            Self::TokenRefresh(_) => flow::TOKEN_REFRESH,
            Self::ShopHealth(_) => flow::SHOP_HEALTH,
            Self::ShopWebhook(_) => flow::SHOP_WEBHOOK,
            Self::CatalogRead(_) => flow::CATALOG_READ,
            Self::ChannelExport(_) => flow::CHANNEL_EXPORT,
            Self::ImportFollow(_) => flow::IMPORT_FOLLOW,
            Self::Reconcile(_) => flow::RECONCILE,
            Self::Disconnect(_) => flow::DISCONNECT,
            Self::OrderImport(_) => flow::ORDER_IMPORT,
            Self::OrderStep(_) => flow::ORDER_STEP,
        }
    }

    /// The job as the queue stores it.
    fn split(&self) -> (String, serde_json::Value) {
        let tagged = serde_json::to_value(self).expect("a job serializes");
        let payload = tagged
            .get("payload")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({}));
        (self.flow().to_owned(), payload)
    }

    /// The job a stored flow and payload describe.
    pub fn from_stored(flow: &str, payload: &serde_json::Value) -> Result<Self, JobError> {
        serde_json::from_value(serde_json::json!({ "flow": flow, "payload": payload })).map_err(
            |e| JobError::Unreadable {
                flow: flow.to_owned(),
                error: e.to_string(),
            },
        )
    }

    /// How live jobs of this kind are deduplicated: one key, or two slots of one (so that one
    /// runs and one waits, and a change that arrives during a run is never lost), or none.
    fn dedupe(&self, ws: WorkspaceId) -> Dedupe {
        let flow = self.flow();
        match self {
            Self::TokenRefresh(c) => Dedupe::One(format!("{flow}:{}", c.channel_id)),
            Self::ShopHealth(s) => Dedupe::One(format!("{flow}:{}", s.shop_id)),
            Self::ShopWebhook(_) => Dedupe::None,
            Self::CatalogRead(read) => {
                let scope = match read {
                    CatalogRead::Full => "full",
                    CatalogRead::Modified => "delta",
                    CatalogRead::Changes => "changes",
                };
                Dedupe::TwoSlots(format!("{flow}:{ws}:{scope}"))
            }
            Self::ChannelExport(e) if e.delta => {
                Dedupe::TwoSlots(format!("{flow}:{}:delta", e.channel_id))
            }
            Self::ChannelExport(ChannelExport { channel_id, .. })
            | Self::ImportFollow(ForChannel { channel_id })
            | Self::Reconcile(ForChannel { channel_id }) => {
                Dedupe::TwoSlots(format!("{flow}:{channel_id}"))
            }
            Self::Disconnect(_) => Dedupe::TwoSlots(format!("{flow}:{ws}")),
            Self::OrderImport(c) => Dedupe::TwoSlots(format!("{flow}:{}", c.channel_id)),
            Self::OrderStep(o) if o.shop_changed => {
                Dedupe::TwoSlots(format!("{flow}:{}:shop", o.order_id))
            }
            Self::OrderStep(o) => Dedupe::TwoSlots(format!("{flow}:{}", o.order_id)),
        }
    }

    /// The queue runs one job per workspace and flow at a time, or per lane when there is one.
    /// An order's steps need order only among themselves: each order is a lane, so a burst of
    /// orders goes through the worker's slots side by side while one order's steps (and its
    /// look at its shop order) still run one at a time. Stock is held per SKU atomically in
    /// storage, so orders that share an item may run together.
    fn lane(&self) -> Option<String> {
        match self {
            Self::OrderStep(o) => Some(o.order_id.to_string()),
            _ => None,
        }
    }

    /// Attempts before a failing job goes to the dead letter.
    fn max_attempts(&self) -> i32 {
        match self {
            Self::TokenRefresh(_) | Self::ShopWebhook(_) => 8,
            // An order's step fails only on what retrying may mend (a store down); its
            // attempts are many, and spaced by the queue's backoff, before the seller is told.
            Self::OrderStep(_) => 12,
            Self::OrderImport(_) => 10,
            Self::ShopHealth(_) => 3,
            Self::CatalogRead(_)
            | Self::ChannelExport(_)
            | Self::ImportFollow(_)
            | Self::Reconcile(_)
            | Self::Disconnect(_) => 10,
        }
    }

    /// The rows to try, in order, to queue this job for `ws` now; the first the queue takes
    /// is the one queued.
    pub fn new_jobs(&self, ws: WorkspaceId) -> Vec<NewJob> {
        let (flow, payload) = self.split();
        let job = |dedupe_key: Option<String>| NewJob {
            workspace_id: Some(ws),
            flow: flow.clone(),
            payload: payload.clone(),
            dedupe_key,
            lane: self.lane(),
            run_at_ms: now_ms(),
            max_attempts: self.max_attempts(),
        };
        match self.dedupe(ws) {
            Dedupe::None => vec![job(None)],
            Dedupe::One(key) => vec![job(Some(key))],
            Dedupe::TwoSlots(key) => ["a", "b"]
                .into_iter()
                .map(|slot| job(Some(format!("{key}:{slot}"))))
                .collect(),
        }
    }
}

enum Dedupe {
    None,
    One(String),
    TwoSlots(String),
}

/// The stored names of the flows. Sync runs record them too, and [`describe_run`] turns them
/// into the seller's words.
pub mod flow {
    pub const TOKEN_REFRESH: &str = "token_refresh";
    pub const SHOP_HEALTH: &str = "shop_health";
    pub const SHOP_WEBHOOK: &str = "shop_webhook";
    pub const CATALOG_READ: &str = "catalog_read";
    pub const CHANNEL_EXPORT: &str = "channel_export";
    pub const IMPORT_FOLLOW: &str = "import_follow";
    pub const RECONCILE: &str = "reconcile";
    pub const DISCONNECT: &str = "disconnect";
    pub const ORDER_IMPORT: &str = "order_import";
    pub const ORDER_STEP: &str = "order_step";
    /// Every flow, as the metrics list them.
    pub const ALL: [&str; 10] = [
        TOKEN_REFRESH,
        SHOP_HEALTH,
        SHOP_WEBHOOK,
        CATALOG_READ,
        CHANNEL_EXPORT,
        IMPORT_FOLLOW,
        RECONCILE,
        DISCONNECT,
        ORDER_IMPORT,
        ORDER_STEP,
    ];
}

/// What a sync run of `flow` did, in the seller's words, on `channel` when it has one.
pub fn describe_run(flow_name: &str, channel: Option<&str>) -> String {
    match (flow_name, channel) {
        (flow::CATALOG_READ, _) => "Read the store's catalog".to_owned(),
        (flow::CHANNEL_EXPORT, Some(c)) => format!("Export to {c}"),
        (flow::RECONCILE, Some(c)) => format!("Check the offers on {c}"),
        (flow::ORDER_IMPORT, Some(c)) => format!("Import orders from {c}"),
        (other, Some(c)) => format!("{other} ({c})"),
        (other, None) => other.to_owned(),
    }
}

/// Queues jobs. Cheap to clone.
#[derive(Clone)]
pub struct Queue {
    storage: Storage,
}

impl Queue {
    pub fn new(storage: Storage) -> Self {
        Self { storage }
    }

    /// Queues `job` for `ws` unless an equal one is already waiting. Returns whether it was
    /// queued.
    pub async fn enqueue(&self, ws: WorkspaceId, job: &Job) -> anyhow::Result<bool> {
        for row in job.new_jobs(ws) {
            if self.storage.enqueue_job(&row).await?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Queues an export to every live channel of the workspace: of the items changed since
    /// each channel's last export (`delta`), or of every item.
    pub async fn enqueue_exports(&self, ws: WorkspaceId, delta: bool) -> anyhow::Result<()> {
        self.enqueue_exports_after(ws, delta, std::time::Duration::ZERO)
            .await
    }

    /// As [`Queue::enqueue_exports`], the exports due `delay` from now: what many changes in a
    /// row ask for (a burst of orders taking stock) then waits in one queued export per
    /// channel, instead of an export per change.
    pub async fn enqueue_exports_after(
        &self,
        ws: WorkspaceId,
        delta: bool,
        delay: std::time::Duration,
    ) -> anyhow::Result<()> {
        for c in self.storage.list_channels(ws).await? {
            if c.status != domain::ChannelStatus::Live {
                continue;
            }
            for mut row in Job::channel_export(c.id, delta).new_jobs(ws) {
                row.run_at_ms += delay.as_millis() as i64;
                if self.storage.enqueue_job(&row).await?.is_some() {
                    break;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Jobs queued by the earlier release, as it stored them, still read.
    #[test]
    fn jobs_stored_by_the_earlier_release_still_read() {
        let channel = ChannelId::new();
        let shop = ShopId::new();
        let inbox = Uuid::now_v7();
        let cases = [
            (
                "token_refresh",
                json!({ "channel_id": channel }),
                Job::token_refresh(channel),
            ),
            (
                "shop_health",
                json!({ "shop_id": shop.to_string() }),
                Job::shop_health(shop),
            ),
            (
                "shop_webhook",
                json!({ "inbox_id": inbox.to_string(), "shop_id": shop.to_string() }),
                Job::shop_webhook(inbox, shop),
            ),
            (
                "catalog_read",
                json!({ "full": true }),
                Job::catalog_read(CatalogRead::Full),
            ),
            (
                "catalog_read",
                json!({ "full": false }),
                Job::catalog_read(CatalogRead::Modified),
            ),
            (
                "catalog_read",
                json!({ "changes": true }),
                Job::catalog_read(CatalogRead::Changes),
            ),
            (
                "channel_export",
                json!({ "channel_id": channel }),
                Job::channel_export(channel, false),
            ),
            (
                "channel_export",
                json!({ "channel_id": channel, "delta": true }),
                Job::channel_export(channel, true),
            ),
            (
                "import_follow",
                json!({ "channel_id": channel }),
                Job::import_follow(channel),
            ),
            (
                "reconcile",
                json!({ "channel_id": channel }),
                Job::reconcile(channel),
            ),
            ("disconnect", json!({}), Job::disconnect()),
        ];
        for (flow, payload, job) in cases {
            assert_eq!(Job::from_stored(flow, &payload), Ok(job.clone()), "{flow}");
            let (stored_flow, stored_payload) = job.split();
            assert_eq!(stored_flow, flow);
            assert_eq!(
                Job::from_stored(&stored_flow, &stored_payload),
                Ok(job),
                "{flow} round trip"
            );
        }
    }

    #[test]
    fn dedupe_keys_are_those_of_the_earlier_release() {
        let ws = WorkspaceId::new();
        let channel = ChannelId::new();
        let keys = |job: Job| -> Vec<Option<String>> {
            job.new_jobs(ws).into_iter().map(|j| j.dedupe_key).collect()
        };
        assert_eq!(
            keys(Job::catalog_read(CatalogRead::Full)),
            [
                Some(format!("catalog_read:{ws}:full:a")),
                Some(format!("catalog_read:{ws}:full:b"))
            ]
        );
        assert_eq!(
            keys(Job::channel_export(channel, true)),
            [
                Some(format!("channel_export:{channel}:delta:a")),
                Some(format!("channel_export:{channel}:delta:b"))
            ]
        );
        assert_eq!(
            keys(Job::token_refresh(channel)),
            [Some(format!("token_refresh:{channel}"))]
        );
        assert_eq!(
            keys(Job::shop_webhook(Uuid::now_v7(), ShopId::new())),
            [None]
        );
    }

    #[test]
    fn a_payload_that_no_longer_reads_is_an_error_naming_its_flow() {
        let err = Job::from_stored("channel_export", &json!({ "channel": "x" })).unwrap_err();
        assert!(err.to_string().contains("channel_export"), "{err}");
        assert!(err.to_string().contains("dead letter"), "{err}");
        let unknown = Job::from_stored("teleport", &json!({})).unwrap_err();
        assert!(unknown.to_string().contains("teleport"), "{unknown}");
    }
}
