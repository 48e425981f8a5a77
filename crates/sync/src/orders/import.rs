//! Polling one channel for the orders Mirakl changed: one page per call slot, each order stored
//! (new, or what changed) and queued for its next step; the cursor moves only once every page
//! it covers is stored, so an order is never skipped. A poll waits for the slot of each page
//! after the first, so that one with many pages ends instead of starting over at each slot.

use domain::{ChannelId, ChannelStatus, SyncRunStatus, WorkspaceId};
use storage::{Channel, OrderUpsert, now_ms};
use time::OffsetDateTime;

use super::remote::{Failure, Next, Remote};
use super::{Orders, POLLED_CURSOR, SHOP_CHANGED_CURSOR, SHOP_LOOKED_CURSOR, UPDATED_CURSOR};
use crate::job::{Step, flow};
use crate::tokens::{TokenError, TokenRefused};

/// How many times in a row a page that failed in a way that may pass is asked again within
/// one poll, each time in its own budget slot.
const PAGE_RETRIES: usize = 2;

/// What a poll did, as the dashboard shows it.
#[derive(Debug, Default, serde::Serialize)]
struct ImportCounts {
    read: u64,
    new: u64,
    changed: u64,
}

fn at(ms: i64) -> anyhow::Result<OffsetDateTime> {
    Ok(OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(ms) * 1_000_000,
    )?)
}

impl Orders {
    /// Polls the channel's orders.
    pub async fn import(&self, ws: WorkspaceId, channel_id: ChannelId) -> anyhow::Result<Step> {
        if !self.storage.workspace_settings(ws).await?.import_orders {
            return Ok(Step::Done);
        }
        let Some(channel) = self.storage.get_channel(ws, channel_id).await? else {
            return Ok(Step::Done);
        };
        if channel.status != ChannelStatus::Live {
            return Ok(Step::Done);
        }
        let token = match self.tokens.access_token(ws, channel.id).await {
            Ok(t) => t,
            // The channel waits for its seller to reconnect; its flows are paused meanwhile.
            Err(TokenError::ReauthorizationNeeded | TokenError::NotAuthorized) => {
                return Ok(Step::Done);
            }
            Err(e) => return Err(e.into()),
        };
        let Some(remote) = Remote::new(self, &channel, token.expose().to_owned()) else {
            return Ok(Step::Done);
        };
        let now = now_ms();
        self.storage
            .advance_channel_cursor(ws, channel.id, POLLED_CURSOR, now)
            .await?;
        let newest = self
            .storage
            .channel_cursor(ws, channel.id, UPDATED_CURSOR)
            .await?;
        let since = match newest {
            Some(seen) => seen - self.config.overlap.as_millis() as i64,
            None => {
                channel.launched_at_ms.unwrap_or(now)
                    - self.config.first_look_back.as_millis() as i64
            }
        };
        let mut counts = ImportCounts::default();
        let mut newest = newest.unwrap_or(0);
        let mut next: Option<Next> = None;
        let mut failed_in_a_row = 0;
        let op = remote.list_operation();
        loop {
            if let Some(at) = self.slots.take(ws, channel.id, op).await? {
                if next.is_some() {
                    // Part way through the pages: stopping here would start the next poll
                    // from its first page again, and with more than a page of orders since the
                    // cursor no poll would ever reach the last one. So the job waits for the
                    // slot and goes on from where it is.
                    let wait = u64::try_from(at - now_ms()).unwrap_or(0);
                    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                    continue;
                }
                self.record_run(
                    ws,
                    channel.id,
                    now,
                    &counts,
                    Ok(Some("continues at the next budget slot")),
                )
                .await?;
                return Ok(Step::RunAgainAt(at));
            }
            let page = match remote.page(Some(at(since)?), next.as_ref()).await {
                Ok(page) => {
                    failed_in_a_row = 0;
                    page
                }
                // A read changes nothing: a page that failed in a way that may pass is asked
                // again in the next slot (twice at most), so one failed call does not restart
                // a long import from its cursor.
                Err(Failure::Retryable(why)) if failed_in_a_row < PAGE_RETRIES => {
                    failed_in_a_row += 1;
                    tracing::debug!(%why, "order page failed; asking again");
                    continue;
                }
                Err(Failure::RateLimited(retry_after)) => {
                    let at = self.slots.defer(ws, channel.id, op, retry_after).await?;
                    self.record_run(
                        ws,
                        channel.id,
                        now,
                        &counts,
                        Ok(Some("continues at the next budget slot")),
                    )
                    .await?;
                    return Ok(Step::RunAgainAt(at));
                }
                Err(Failure::Retryable(why) | Failure::Refused(why)) => {
                    self.record_run(ws, channel.id, now, &counts, Err(&why))
                        .await?;
                    anyhow::bail!("reading {}'s orders: {why}", channel.name);
                }
                Err(Failure::TokenRefused) => {
                    let why = TokenRefused.to_string();
                    self.record_run(ws, channel.id, now, &counts, Err(&why))
                        .await?;
                    return Err(TokenRefused.into());
                }
            };
            for order in &page.orders {
                counts.read += 1;
                newest = newest.max(order.updated_at_ms);
                let stored = self
                    .storage
                    .upsert_order(ws, channel.id, order, now_ms())
                    .await?;
                match stored {
                    OrderUpsert::New(id) => {
                        counts.new += 1;
                        let message = format!("Imported from {} ({})", channel.name, order.state);
                        self.storage
                            .add_order_event(ws, id, &message, now_ms())
                            .await?;
                    }
                    OrderUpsert::Changed { id, state_changed } => {
                        counts.changed += 1;
                        if state_changed {
                            let message = format!("Mirakl: {}", order.state);
                            self.storage
                                .add_order_event(ws, id, &message, now_ms())
                                .await?;
                        }
                    }
                    OrderUpsert::Unchanged(_) => continue,
                }
                self.advance(ws, stored.id()).await?;
            }
            match page.next {
                Some(n) => next = Some(n),
                None => break,
            }
        }
        // Every order up to `newest` is stored: the next poll starts from it (less the
        // overlap).
        if newest > 0 {
            self.storage
                .advance_channel_cursor(ws, channel.id, UPDATED_CURSOR, newest)
                .await?;
        }
        self.check_shop_orders(ws, &channel).await?;
        // Orders left owing a step (their job gave up, a process stopped) go on too.
        for id in self.storage.orders_to_resume(ws, channel.id).await? {
            self.advance(ws, id).await?;
        }
        self.record_run(ws, channel.id, now, &counts, Ok(None))
            .await?;
        if counts.new > 0 {
            tracing::info!(%ws, channel = %channel.id, new = counts.new, changed = counts.changed, "orders imported");
        }
        Ok(Step::Done)
    }

    /// Records the poll as a sync run, for the dashboard, when it read something or failed:
    /// a poll a minute that finds nothing is not news.
    async fn record_run(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        started_at_ms: i64,
        counts: &ImportCounts,
        outcome: Result<Option<&str>, &str>,
    ) -> anyhow::Result<()> {
        let (status, message) = match outcome {
            Ok(message) if counts.read > 0 => (SyncRunStatus::Done, message),
            Ok(_) => return Ok(()),
            Err(why) => (SyncRunStatus::Failed, Some(why)),
        };
        let run = self
            .storage
            .start_sync_run(ws, Some(channel), flow::ORDER_IMPORT, started_at_ms)
            .await?;
        let counts = serde_json::to_string(counts)?;
        self.storage
            .finish_sync_run(ws, run, status, &counts, message, now_ms())
            .await?;
        Ok(())
    }

    /// Reads back the shop orders the shop changed since the last look (at most every
    /// `shop_check_interval`), and takes each of this channel's that the shop changed (status,
    /// a refund not yet sent) a step: the webhook is only the fast path. The cursor is the
    /// shop's own clock (the newest change seen), less a second, so no change is missed.
    async fn check_shop_orders(&self, ws: WorkspaceId, channel: &Channel) -> anyhow::Result<()> {
        const PAGES_PER_LOOK: u32 = 10;
        let now = now_ms();
        let interval = self.config.shop_check_interval.as_millis() as i64;
        let looked = self
            .storage
            .channel_cursor(ws, channel.id, SHOP_LOOKED_CURSOR)
            .await?;
        if looked.is_some_and(|at| now - at < interval) {
            return Ok(());
        }
        let Some((_, client)) = self.shops.connected(ws).await? else {
            return Ok(());
        };
        let seen = self
            .storage
            .channel_cursor(ws, channel.id, SHOP_CHANGED_CURSOR)
            .await?;
        let since = match seen {
            Some(ms) => ms - 1_000,
            None => channel.launched_at_ms.unwrap_or(now) - 60_000,
        };
        let tracking_key = self.settings(ws).await?.tracking_meta_key;
        let changed = match client
            .orders_changed_since(at(since)?, tracking_key.as_deref(), PAGES_PER_LOOK)
            .await
        {
            Ok(changed) => changed,
            // The store is down: the next poll looks again; the orders wait meanwhile.
            Err(e) => {
                tracing::info!(%ws, error = %e.seller_message(), "shop orders not checked");
                return Ok(());
            }
        };
        let mut newest = seen.unwrap_or(0);
        for shop in &changed {
            if let Some(modified) = shop.modified_at {
                newest = newest.max((modified.unix_timestamp_nanos() / 1_000_000) as i64);
            }
            let Some(order) = self.storage.order_by_shop_order(ws, shop.id).await? else {
                continue;
            };
            if order.channel_id != channel.id || order.finished_at_ms.is_some() {
                continue;
            }
            let mut differs = order.shop_status.as_deref() != Some(shop.status.as_str());
            for (refund_id, _, _) in &shop.refunds {
                let done = self
                    .storage
                    .order_step(ws, order.id, &format!("refund:{refund_id}"))
                    .await?
                    .is_some_and(|s| s.done_at_ms.is_some());
                differs |= !done;
            }
            if differs {
                self.shop_order_changed(ws, shop.id).await?;
            }
        }
        if newest > 0 {
            self.storage
                .advance_channel_cursor(ws, channel.id, SHOP_CHANGED_CURSOR, newest)
                .await?;
        }
        self.storage
            .advance_channel_cursor(ws, channel.id, SHOP_LOOKED_CURSOR, now)
            .await?;
        Ok(())
    }
}
