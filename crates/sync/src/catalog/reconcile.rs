//! Reconciliation: the channel's live offers (OF21, Connect `GET /products`) are read back and
//! compared with what the rules give; whatever drifted (changed behind the connector's back,
//! or lost) is sent again by the next export.

use std::collections::HashMap;

use anyhow::Context as _;
use domain::catalog::{ConnectProduct, connect_product_for, offer_for};
use domain::{ChannelId, ChannelKind, ChannelStatus, ItemState, SyncRunStatus, WorkspaceId};
use mirakl::connect::ConnectError;
use mirakl::marketplace::{Credential, MarketplaceError};
use storage::{Channel, now_ms};

use super::{CatalogSync, PAGE, RunCounts};
use crate::budgets::Operation;
use crate::job::{Step, flow};

impl CatalogSync {
    /// Reads the channel's live offers and makes the next export re-send every item whose
    /// live price or quantity is not what the rules give (changed behind the connector's back,
    /// or lost). Returns how many were repaired.
    pub async fn reconcile(&self, ws: WorkspaceId, channel_id: ChannelId) -> anyhow::Result<Step> {
        if self.disconnecting(ws).await? {
            return Ok(Step::Done);
        }
        let Some(channel) = self.storage.get_channel(ws, channel_id).await? else {
            return Ok(Step::Done);
        };
        if channel.status != ChannelStatus::Live
            || !self.storage.workspace_settings(ws).await?.sync_products
        {
            return Ok(Step::Done);
        }
        let Some(token) = self.channel_token(ws, channel.id).await? else {
            return Ok(Step::Done);
        };
        let run = self
            .start_run(ws, Some(channel.id), flow::RECONCILE)
            .await?;
        let live = match channel.kind {
            ChannelKind::Marketplace => {
                self.live_marketplace_offers(ws, &channel, token.expose())
                    .await
            }
            ChannelKind::MiraklConnect => {
                self.live_connect_products(ws, &channel, token.expose())
                    .await
            }
        };
        let live = match live {
            Ok(Ok(live)) => live,
            Ok(Err(at)) => {
                self.finish_run(
                    ws,
                    run,
                    SyncRunStatus::Done,
                    &RunCounts::default(),
                    Some("continues at the next budget slot"),
                )
                .await?;
                return Ok(Step::RunAgainAt(at));
            }
            Err(e) => {
                self.fail_run(ws, run, &e).await?;
                return Err(e);
            }
        };
        let settings = self.settings_for(ws, channel.id).await?;
        let now = now_ms();
        let mut drifted = Vec::new();
        let mut counts = RunCounts::default();
        let mut after: Option<String> = None;
        // What the export sends: the shop's stock less what orders not yet in the shop hold.
        let held = self.storage.stock_off_sale(ws).await?;
        loop {
            let page = self
                .storage
                .catalog_page(ws, after.as_deref(), PAGE, false)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.sku.clone());
            let skus: Vec<String> = page.iter().map(|r| r.sku.clone()).collect();
            let states = self
                .storage
                .channel_items_for(ws, channel.id, &skus)
                .await?;
            for state in states
                .iter()
                .filter(|s| matches!(s.state, ItemState::Live | ItemState::Sent))
            {
                let Some(row) = page.iter().find(|r| r.sku == state.sku) else {
                    continue;
                };
                let Ok(mut item) = row.item() else {
                    continue;
                };
                if let Some(held) = held.get(&row.sku) {
                    item.stock = item.stock.less_held(*held);
                }
                counts.read += 1;
                let expected = match channel.kind {
                    ChannelKind::Marketplace => offer_for(&item, &settings, now)
                        .ok()
                        .map(|o| (o.price.to_decimal_string(), o.quantity)),
                    ChannelKind::MiraklConnect => {
                        connect_product_for(&item, &settings, now).ok().map(|p| {
                            (
                                p.standard_price_string().unwrap_or_default(),
                                p.available_quantity().unwrap_or(0),
                            )
                        })
                    }
                };
                let Some(expected) = expected else { continue };
                if live.get(&state.sku) != Some(&expected) {
                    drifted.push(state.sku.clone());
                }
            }
        }
        counts.repaired = self
            .storage
            .forget_sent_hashes(ws, channel.id, &drifted, now_ms())
            .await?;
        let message = (!drifted.is_empty()).then(|| {
            format!(
                "repaired {} offers that differed on the channel",
                drifted.len()
            )
        });
        self.finish_run(ws, run, SyncRunStatus::Done, &counts, message.as_deref())
            .await?;
        if !drifted.is_empty() {
            tracing::info!(%ws, channel = %channel.id, repaired = drifted.len(), "drift repaired");
            self.enqueue_export(ws, channel.id).await?;
        }
        Ok(Step::Done)
    }

    /// sku → (price as "19.90", quantity) of every live offer, or the time to come back.
    pub(super) async fn live_marketplace_offers(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        token: &str,
    ) -> anyhow::Result<Result<HashMap<String, (String, i64)>, i64>> {
        let instance = channel
            .instance_url
            .clone()
            .context("a marketplace channel has an instance URL")?;
        let mut live = HashMap::new();
        let mut offset = 0;
        loop {
            if let Some(at) = self
                .take_budget(ws, channel.id, Operation::OfferList)
                .await?
            {
                return Ok(Err(at));
            }
            let page = match self
                .marketplace
                .offers_page(
                    &instance,
                    Credential::Bearer(token),
                    channel.store_id,
                    offset,
                    100,
                )
                .await
            {
                Ok(p) => p,
                Err(MarketplaceError::RateLimited { retry_after }) => {
                    return Ok(Err(self
                        .defer(ws, channel.id, Operation::OfferList, retry_after)
                        .await?));
                }
                Err(e) => return Err(e.into()),
            };
            let n = page.offers.len() as u32;
            for o in page.offers {
                // The price the connector set, not a discount running now.
                let set_price = o.origin_price.as_deref().or(o.price.as_deref());
                let price = set_price
                    .and_then(|p| domain::catalog::Money::parse(p).ok())
                    .map(|m| m.to_decimal_string());
                live.insert(o.shop_sku, (price.unwrap_or_default(), o.quantity));
            }
            offset += n;
            if n == 0 || i64::from(offset) >= page.total_count {
                break;
            }
        }
        Ok(Ok(live))
    }

    pub(super) async fn live_connect_products(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        token: &str,
    ) -> anyhow::Result<Result<HashMap<String, (String, i64)>, i64>> {
        let mut live = HashMap::new();
        let mut page_token: Option<String> = None;
        loop {
            if let Some(at) = self
                .take_budget(ws, channel.id, Operation::ConnectList)
                .await?
            {
                return Ok(Err(at));
            }
            let page = match self
                .connect
                .list_products(token, 1000, page_token.as_deref())
                .await
            {
                Ok(p) => p,
                Err(ConnectError::RateLimited { retry_after }) => {
                    return Ok(Err(self
                        .defer(ws, channel.id, Operation::ConnectList, retry_after)
                        .await?));
                }
                Err(e) => return Err(e.into()),
            };
            for p in page.data {
                if let Ok(product) = serde_json::from_value::<ConnectProduct>(p) {
                    live.insert(
                        product.id.clone(),
                        (
                            product.standard_price_string().unwrap_or_default(),
                            product.available_quantity().unwrap_or(0),
                        ),
                    );
                }
            }
            match page.next_page_token {
                Some(t) => page_token = Some(t),
                None => break,
            }
        }
        Ok(Ok(live))
    }
}
