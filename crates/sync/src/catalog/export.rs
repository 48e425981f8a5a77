//! An export to one channel: the walk through the catalog it makes, page by page, meeting each
//! item the channel should have and each it has but should no longer have; what it sends is
//! the channel kind's (`export_marketplace`, `export_connect`).

use std::collections::HashMap;

use domain::catalog::{CatalogItem, ProductSettings, is_selected};
use domain::{ChannelId, ChannelKind, ChannelStatus, ItemState, SyncRunStatus, WorkspaceId};
use storage::now_ms;

use super::{CatalogSync, EXPORT_CURSOR, PAGE, RunCounts};
use crate::job::{Step, flow};

impl CatalogSync {
    /// Sends the channel what changed. A delta export looks only at the items changed since
    /// the channel's last export ended (all of them the first time); a full one at every item.
    pub async fn export(
        &self,
        ws: WorkspaceId,
        channel_id: ChannelId,
        delta: bool,
    ) -> anyhow::Result<Step> {
        if self.disconnecting(ws).await? {
            return Ok(Step::Done);
        }
        let Some(channel) = self.storage.get_channel(ws, channel_id).await? else {
            return Ok(Step::Done);
        };
        if channel.status != ChannelStatus::Live {
            return Ok(Step::Done);
        }
        if !self.storage.workspace_settings(ws).await?.sync_products {
            // Sync Product is off: nothing is sent, and the run says so.
            let run = self
                .start_run(ws, Some(channel.id), flow::CHANNEL_EXPORT)
                .await?;
            self.finish_run(
                ws,
                run,
                SyncRunStatus::Done,
                &RunCounts::default(),
                Some("Sync Product is off: nothing was sent."),
            )
            .await?;
            return Ok(Step::Done);
        }
        let settings = self.settings_for(ws, channel.id).await?;
        let Some(token) = self.channel_token(ws, channel.id).await? else {
            return Ok(Step::Done);
        };
        // Read before the catalog: every change up to it is visible to the walk below.
        let version = self.storage.catalog_version(ws).await?;
        let scope = match delta {
            true => match self
                .storage
                .channel_cursor(ws, channel.id, EXPORT_CURSOR)
                .await?
            {
                Some(since) => Scope::ChangedSince(since),
                None => Scope::All,
            },
            false => Scope::All,
        };
        let run = self
            .start_run(ws, Some(channel.id), flow::CHANNEL_EXPORT)
            .await?;
        let result = match channel.kind {
            ChannelKind::Marketplace => {
                self.export_marketplace(ws, &channel, &settings, token.expose(), scope)
                    .await
            }
            ChannelKind::MiraklConnect => {
                self.export_connect(ws, &channel, &settings, token.expose(), scope)
                    .await
            }
        };
        if let Ok((Step::Done, _)) = &result {
            // Every change up to `version` has been looked at.
            self.storage
                .advance_channel_cursor(ws, channel.id, EXPORT_CURSOR, version)
                .await?;
        }
        match &result {
            Ok((step, counts)) => {
                let message = matches!(step, Step::RunAgainAt(_))
                    .then_some("continues at the next budget slot");
                self.finish_run(ws, run, SyncRunStatus::Done, counts, message)
                    .await?;
            }
            Err(e) => {
                self.fail_run(ws, run, e).await?;
            }
        }
        result.map(|(step, _)| step)
    }

    /// Reads the walk's next page of the catalog and calls `visit` for each item the channel
    /// should have (`Wanted`) and each it has but should no longer have (`Unwanted`),
    /// recording the problems `visit` returns. Returns false once the catalog is walked: the
    /// export sends what a page gave before reading the next, so a run holds one page and one
    /// batch, however large the catalog.
    pub(super) async fn walk_page<F>(
        &self,
        walk: &mut Walk,
        counts: &mut RunCounts,
        mut visit: F,
    ) -> anyhow::Result<bool>
    where
        F: FnMut(Visit<'_>, &mut RunCounts) -> Option<(String, String)>,
    {
        let (ws, channel) = (walk.ws, walk.channel);
        let page = match walk.scope {
            Scope::All => {
                self.storage
                    .catalog_page(ws, walk.after.as_deref(), PAGE, true)
                    .await?
            }
            Scope::ChangedSince(since) => {
                self.storage
                    .catalog_changed_page(ws, since, walk.after.as_deref(), PAGE)
                    .await?
            }
        };
        let Some(last) = page.last() else {
            return Ok(false);
        };
        walk.after = Some(last.sku.clone());
        let skus: Vec<String> = page.iter().map(|r| r.sku.clone()).collect();
        let states: HashMap<String, storage::ChannelItem> = self
            .storage
            .channel_items_for(ws, channel, &skus)
            .await?
            .into_iter()
            .map(|c| (c.sku.clone(), c))
            .collect();
        let product_states: HashMap<String, storage::ChannelItem> = if walk.products {
            self.storage
                .channel_products_for(ws, channel, &skus)
                .await?
                .into_iter()
                .map(|c| (c.sku.clone(), c))
                .collect()
        } else {
            HashMap::new()
        };
        // What orders hold (accepted, or waiting for their acceptance) and the shop does not
        // count yet is not for sale: a channel gets the shop's stock less the holds (stamped
        // items go out again as they change, `Storage::hold_stock`).
        let held = self.storage.stock_off_sale(ws).await?;
        let mut problems = Vec::new();
        for row in &page {
            let item = match row.item() {
                Ok(mut i) => {
                    if let Some(held) = held.get(&row.sku) {
                        i.stock = i.stock.less_held(*held);
                    }
                    i
                }
                Err(e) => {
                    problems.push((
                        row.sku.clone(),
                        format!("Marketbridge could not read this item ({e})."),
                    ));
                    continue;
                }
            };
            let state = states.get(&row.sku);
            if row.deleted_at_ms.is_none() && is_selected(&item, &walk.settings) {
                counts.read += 1;
                let product = product_states.get(&row.sku);
                if let Some(problem) = visit(Visit::Wanted(&item, state, product), counts) {
                    problems.push(problem);
                }
            } else if let Some(state) = state
                && state.state != ItemState::Removed
            {
                visit(Visit::Unwanted(&item), counts);
            }
        }
        if !problems.is_empty() {
            counts.problems += problems.len() as u64;
            self.storage
                .record_item_errors(ws, channel, &problems, now_ms())
                .await?;
        }
        Ok(true)
    }
}

/// Which catalog items an export looks at.
#[derive(Clone, Copy, Debug)]
pub(super) enum Scope {
    All,
    /// Those changed after this catalog version (deleted ones included).
    ChangedSince(i64),
}

/// One catalog item as [`CatalogSync::walk_page`] meets it.
pub(super) enum Visit<'a> {
    /// The channel should have it; its offer's state on the channel so far, if any, and its
    /// product's (when the walk reads products).
    Wanted(
        &'a CatalogItem,
        Option<&'a storage::ChannelItem>,
        Option<&'a storage::ChannelItem>,
    ),
    /// The channel has it but should not any more (deleted, unpublished, deselected).
    Unwanted(&'a CatalogItem),
}

/// Where an export's walk through the catalog stands (see [`CatalogSync::walk_page`]).
pub(super) struct Walk {
    ws: WorkspaceId,
    channel: ChannelId,
    scope: Scope,
    /// Whether each wanted item comes with its product's state too.
    products: bool,
    settings: ProductSettings,
    /// The last SKU read.
    after: Option<String>,
}

impl Walk {
    pub(super) fn new(
        ws: WorkspaceId,
        channel: ChannelId,
        scope: Scope,
        products: bool,
        settings: ProductSettings,
    ) -> Self {
        Self {
            ws,
            channel,
            scope,
            products,
            settings,
            after: None,
        }
    }
}
