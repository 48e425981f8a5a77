//! What an export sends Mirakl Connect: `POST /products` in batches of up to
//! [`CONNECT_BATCH`], sent as the walk fills them (Connect upserts), and `DELETE /products`.

use domain::WorkspaceId;
use domain::catalog::{
    ConnectProduct, ProductSettings, RemovalPolicy, connect_product_for, connect_product_hash,
};
use mirakl::connect::ConnectError;
use storage::{Channel, now_ms};

use super::export::{Scope, Visit, Walk};
use super::{CONNECT_BATCH, CatalogSync, RunCounts, new_problem};
use crate::budgets::Operation;
use crate::job::Step;

impl CatalogSync {
    pub(super) async fn export_connect(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        settings: &ProductSettings,
        token: &str,
        scope: Scope,
    ) -> anyhow::Result<(Step, RunCounts)> {
        let now = now_ms();
        let mut upserts: Vec<(String, Vec<u8>, ConnectProduct)> = Vec::new();
        let mut deletes: Vec<String> = Vec::new();
        let mut walk = Walk::new(ws, channel.id, scope, false, settings.clone());
        let mut counts = RunCounts::default();
        loop {
            let more = self
                .walk_page(&mut walk, &mut counts, |visit, counts| match visit {
                    Visit::Wanted(item, state, _) => {
                        match connect_product_for(item, settings, now) {
                            Ok(product) => {
                                let hash = connect_product_hash(&product).0.to_vec();
                                if state.and_then(|s| s.sent_hash.as_ref()) == Some(&hash) {
                                    counts.unchanged += 1;
                                } else {
                                    upserts.push((item.sku.as_str().to_owned(), hash, product));
                                }
                                None
                            }
                            Err(problem) => new_problem(item, state, problem.to_string()),
                        }
                    }
                    Visit::Unwanted(item) => {
                        counts.removed += 1;
                        match (settings.removal, connect_product_for(item, settings, now)) {
                            (RemovalPolicy::ZeroStock, Ok(mut product)) => {
                                product.set_available_quantity(0);
                                let hash = connect_product_hash(&product).0.to_vec();
                                upserts.push((item.sku.as_str().to_owned(), hash, product));
                            }
                            _ => deletes.push(item.sku.as_str().to_owned()),
                        }
                        None
                    }
                })
                .await?;
            // Full batches go out as the walk meets them; the rest once it ends. A batch held
            // back by the budget is simply met again by the next run: nothing of it was
            // recorded sent.
            while upserts.len() >= CONNECT_BATCH || (!more && !upserts.is_empty()) {
                let batch: Vec<_> = upserts.drain(..upserts.len().min(CONNECT_BATCH)).collect();
                if let Some(at) = self
                    .upsert_connect_batch(ws, channel, token, batch, &mut counts)
                    .await?
                {
                    return Ok((Step::RunAgainAt(at), counts));
                }
            }
            while deletes.len() >= CONNECT_BATCH || (!more && !deletes.is_empty()) {
                let batch: Vec<String> =
                    deletes.drain(..deletes.len().min(CONNECT_BATCH)).collect();
                if let Some(at) = self
                    .delete_connect_batch(ws, channel, token, &batch)
                    .await?
                {
                    return Ok((Step::RunAgainAt(at), counts));
                }
            }
            if !more {
                return Ok((Step::Done, counts));
            }
        }
    }

    /// One Connect `POST /products` of up to [`CONNECT_BATCH`] products, within its budget.
    /// Connect applies it at once (202 Accepted): what it accepted is live. Returns when to
    /// come back if the budget or Connect said to wait.
    pub(super) async fn upsert_connect_batch(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        token: &str,
        batch: Vec<(String, Vec<u8>, ConnectProduct)>,
        counts: &mut RunCounts,
    ) -> anyhow::Result<Option<i64>> {
        let body: Vec<serde_json::Value> = batch
            .iter()
            .map(|(_, _, p)| serde_json::to_value(p))
            .collect::<Result<_, _>>()?;
        let op = Operation::ConnectUpsert;
        if let Some(at) = self.take_budget(ws, channel.id, op).await? {
            return Ok(Some(at));
        }
        match self.connect.upsert_products(token, &body).await {
            Ok(()) => {}
            Err(ConnectError::RateLimited { retry_after }) => {
                return Ok(Some(self.defer(ws, channel.id, op, retry_after).await?));
            }
            Err(ConnectError::Invalid {
                message, errors, ..
            }) => {
                // The whole batch was refused: attach what Connect said to each product it
                // names, or to all of them when it names none.
                let specific = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>();
                let text = if specific.is_empty() {
                    message
                } else {
                    specific.join("; ")
                };
                let errs: Vec<(String, String)> = batch
                    .into_iter()
                    .map(|(sku, _, _)| (sku, text.clone()))
                    .collect();
                counts.errors += errs.len() as u64;
                self.storage
                    .record_item_errors(ws, channel.id, &errs, now_ms())
                    .await?;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
        let sent: Vec<(String, Vec<u8>)> = batch.into_iter().map(|(s, h, _)| (s, h)).collect();
        self.storage
            .record_sent(ws, channel.id, &sent, None, now_ms())
            .await?;
        counts.sent += sent.len() as u64;
        Ok(None)
    }

    /// One Connect `DELETE /products` of up to [`CONNECT_BATCH`] SKUs, within its budget.
    pub(super) async fn delete_connect_batch(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        token: &str,
        batch: &[String],
    ) -> anyhow::Result<Option<i64>> {
        let op = Operation::ConnectDelete;
        if let Some(at) = self.take_budget(ws, channel.id, op).await? {
            return Ok(Some(at));
        }
        match self.connect.delete_products(token, batch).await {
            Ok(()) => {
                self.storage
                    .mark_removed(ws, channel.id, batch, now_ms())
                    .await?;
                Ok(None)
            }
            Err(ConnectError::RateLimited { retry_after }) => {
                Ok(Some(self.defer(ws, channel.id, op, retry_after).await?))
            }
            Err(e) => Err(e.into()),
        }
    }
}
