//! F5, orders: each live channel is polled for the orders Mirakl changed (OR11, Connect
//! `/v2/orders`), as soon as its call budget allows; each new or changed order is stored and
//! then advanced one step at a time: accepted (stock checked line by line), created in the shop
//! once Mirakl shows its address, shipped back with its tracking, cancelled or refunded on the
//! side that did not start it.
//!
//! Exactly once: every effect of an order on Mirakl or the shop is reserved in storage before
//! it is attempted (`Storage::reserve_order_step`). A step reserved and not done — a crash, a
//! lost answer — is first looked up at its destination (the shop's orders created since the
//! reservation, Mirakl's order state) before anything is sent again. Outside input is a hint:
//! a shop webhook only names the order to look at.
//!
//! `import` polls; `process` advances one order; `remote` speaks to Mirakl for either kind of
//! channel; `mirakl_order` turns Mirakl's orders into the domain's.

mod import;
mod mirakl_order;
mod packages;
mod process;
mod remote;
mod settings;

use std::time::Duration;

use domain::{ChannelId, ChannelStatus, OrderId, WorkspaceId};
use mirakl::connect::ConnectClient;
use mirakl::marketplace::MarketplaceClient;
use storage::{Storage, now_ms};

use crate::budgets::Slots;
use crate::job::{Job, Queue};
use crate::shop::Shops;
use crate::tokens::TokenKeeper;

/// How often orders are polled and how patient the flow is with a lost answer.
#[derive(Clone, Debug)]
pub struct OrderConfig {
    /// Each channel is polled at most this often; its OR11 (or Connect) budget may make it
    /// rarer. Mirakl recommends every five minutes and allows one call a minute.
    pub poll_interval: Duration,
    /// Each poll asks again for the orders changed this long before the last one seen:
    /// Mirakl's update dates are not guaranteed to arrive in order.
    pub overlap: Duration,
    /// A shop order whose creation got no answer is looked for only once this long has passed
    /// since it was attempted: a request the shop was still working on must have landed.
    /// ASSUMPTION: the shop answers within the HTTP client's timeout (30 s) or never.
    pub in_doubt_after: Duration,
    /// The first poll of a channel looks this far back.
    pub first_look_back: Duration,
    /// How long Mirakl waits for an order's acceptance before refusing it, to show each
    /// waiting order's deadline. ASSUMPTION: neither OR11 nor Connect's orders carry the
    /// deadline, and each operator sets its own delay, which the connector cannot read; 24
    /// hours by default, configurable per deployment.
    pub acceptance_window: Duration,
    /// How often the shop orders the shop changed are read back (one call when none did), in
    /// case a webhook was lost (WooCommerce gives up on a failing one): a shipment made in the
    /// shop reaches Mirakl within this, webhook or not.
    pub shop_check_interval: Duration,
}

impl Default for OrderConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(60),
            overlap: Duration::from_secs(5 * 60),
            in_doubt_after: Duration::from_secs(60),
            first_look_back: Duration::from_secs(24 * 3600),
            acceptance_window: Duration::from_secs(24 * 3600),
            shop_check_interval: Duration::from_secs(2 * 60),
        }
    }
}

/// The orders flow. Cheap to clone.
#[derive(Clone)]
pub struct Orders {
    storage: Storage,
    shops: Shops,
    tokens: TokenKeeper,
    marketplace: MarketplaceClient,
    connect: ConnectClient,
    slots: Slots,
    queue: Queue,
    config: OrderConfig,
    /// When due polls were last looked for (housekeeping runs often; this looks once a second
    /// at most).
    scheduled_at_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

/// A time as the seller reads it in a message, e.g. `2026-12-06 14:00 UTC`.
fn format_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| "soon".to_owned())
}

/// The channel cursor that holds the newest Mirakl update date an import has stored.
const UPDATED_CURSOR: &str = "orders";
/// The channel cursor that holds when the channel's orders were last polled.
const POLLED_CURSOR: &str = "orders_polled";
/// The channel cursor that holds when the shop's changed orders were last read back.
const SHOP_LOOKED_CURSOR: &str = "orders_shop_looked";
/// The channel cursor that holds the newest change of a shop order seen (the shop's clock).
const SHOP_CHANGED_CURSOR: &str = "orders_shop_changed";

impl Orders {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        storage: Storage,
        shops: Shops,
        tokens: TokenKeeper,
        marketplace: MarketplaceClient,
        connect: ConnectClient,
        slots: Slots,
        queue: Queue,
        config: OrderConfig,
    ) -> Self {
        Self {
            storage,
            shops,
            tokens,
            marketplace,
            connect,
            slots,
            queue,
            config,
            scheduled_at_ms: Default::default(),
        }
    }

    /// Queues a poll of every live channel whose orders are due (import on, polled longer
    /// than `poll_interval` ago). Returns how many.
    pub async fn schedule_due(&self) -> anyhow::Result<usize> {
        use std::sync::atomic::Ordering;
        let now = now_ms();
        if now - self.scheduled_at_ms.load(Ordering::Relaxed) < 1000 {
            return Ok(0);
        }
        self.scheduled_at_ms.store(now, Ordering::Relaxed);
        let interval = self.config.poll_interval.as_millis() as i64;
        let mut queued = 0;
        for ws in self.storage.list_workspace_ids().await? {
            if !self.storage.workspace_settings(ws).await?.import_orders {
                continue;
            }
            for channel in self.storage.list_channels(ws).await? {
                if channel.status != ChannelStatus::Live {
                    continue;
                }
                let polled = self
                    .storage
                    .channel_cursor(ws, channel.id, POLLED_CURSOR)
                    .await?;
                if polled.is_none_or(|at| now - at >= interval)
                    && self
                        .queue
                        .enqueue(ws, &Job::order_import(channel.id))
                        .await?
                {
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }

    /// Queues a poll of the channel now (Sync now, a test).
    pub async fn poll_now(&self, ws: WorkspaceId, channel: ChannelId) -> anyhow::Result<()> {
        self.queue.enqueue(ws, &Job::order_import(channel)).await?;
        Ok(())
    }

    /// Queues the next step of one order.
    pub async fn advance(&self, ws: WorkspaceId, order: OrderId) -> anyhow::Result<()> {
        self.queue
            .enqueue(ws, &Job::order_step(order, false))
            .await?;
        Ok(())
    }

    /// A shop event named a shop order: if it is one of ours, its order looks at it. Only a
    /// hint: what the shop answers for the order is what counts.
    pub async fn shop_order_changed(
        &self,
        ws: WorkspaceId,
        shop_order_id: i64,
    ) -> anyhow::Result<()> {
        if let Some(order) = self.storage.order_by_shop_order(ws, shop_order_id).await? {
            self.queue
                .enqueue(ws, &Job::order_step(order.id, true))
                .await?;
        }
        Ok(())
    }
}
