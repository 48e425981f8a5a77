//! Following a channel's open imports to their end: its product imports (P41, read with P42
//! and P44) and its offer imports (OF01/OF24, read with one OF04 call for all of them, then
//! OF03). Both go through one loop: each finished import's error lines are attached to their
//! SKUs, its other lines are live, and an import that failed as a whole puts its lines in
//! error with Mirakl's reason.

use std::collections::HashMap;

use domain::{InstanceUrl, WorkspaceId};
use mirakl::marketplace::{Credential, ImportId, ImportStatus, MarketplaceError};
use storage::{Channel, ChannelImport, ImportOutcome, ImportOutcomeCounts, Ledger, now_ms};
use time::OffsetDateTime;

use super::{CLOCK_SKEW_MS, CatalogSync, PRODUCT_IMPORT_KIND, PRODUCT_IMPORT_PREFIX};
use crate::budgets::Operation;
use crate::job::Step;

/// Which kind of import a group of open imports is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Products,
    Offers,
}

impl Kind {
    /// The operation whose budget paces the next look at unfinished imports.
    fn status_operation(self) -> Operation {
        match self {
            Self::Products => Operation::ProductImportStatus,
            Self::Offers => Operation::ImportList,
        }
    }

    /// The word the seller reads ("the product import …").
    fn noun(self) -> &'static str {
        match self {
            Self::Products => "product",
            Self::Offers => "offer",
        }
    }
}

/// Where one import stands, as Mirakl reported it.
struct Report {
    finished: bool,
    failed: bool,
    status: String,
    reason: Option<String>,
    has_error_report: bool,
    /// The error lines, `(sku, message)`, when they came with the status (P44 is read with
    /// P42); `None` when they are still to be read (OF03).
    errors: Option<Vec<(String, String)>>,
}

/// A budget slot to wait for, or Mirakl's Retry-After: come back then.
#[derive(Clone, Copy)]
struct Wait(i64);

/// The reports read so far, and why the reading stopped early, if it did.
type Reports = (HashMap<String, Report>, Option<Wait>);

impl CatalogSync {
    /// Follows the channel's open imports until they end: its product imports and its offer
    /// imports.
    pub async fn follow_imports(
        &self,
        ws: WorkspaceId,
        channel_id: domain::ChannelId,
    ) -> anyhow::Result<Step> {
        let Some(channel) = self.storage.get_channel(ws, channel_id).await? else {
            return Ok(Step::Done);
        };
        let Some(instance) = channel.instance_url.clone() else {
            return Ok(Step::Done);
        };
        let open = self.storage.open_imports(ws, channel.id).await?;
        if open.is_empty() {
            return Ok(Step::Done);
        }
        let Some(token) = self.channel_token(ws, channel.id).await? else {
            return Ok(Step::Done);
        };
        let credential = Credential::Bearer(token.expose());
        let (products, offers): (Vec<_>, Vec<_>) = open
            .into_iter()
            .partition(|i| i.kind == PRODUCT_IMPORT_KIND);
        let mut steps = Vec::new();
        for (kind, open) in [(Kind::Products, products), (Kind::Offers, offers)] {
            if !open.is_empty() {
                steps.push(
                    self.follow(ws, &channel, &instance, credential, kind, &open)
                        .await?,
                );
            }
        }
        Ok(steps
            .into_iter()
            .fold(Step::Done, |all, step| match (all, step) {
                (Step::Done, step) | (step, Step::Done) => step,
                (Step::RunAgainAt(a), Step::RunAgainAt(b)) => Step::RunAgainAt(a.min(b)),
            }))
    }

    /// The one loop over open imports of one kind.
    async fn follow(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        kind: Kind,
        open: &[ChannelImport],
    ) -> anyhow::Result<Step> {
        let (mut reports, wait) = match kind {
            Kind::Products => {
                self.product_reports(ws, channel, instance, credential, open)
                    .await?
            }
            Kind::Offers => {
                self.offer_reports(ws, channel, instance, credential, open)
                    .await?
            }
        };
        let mut unfinished = false;
        for import in open {
            let report = match reports.remove(&import.import_id) {
                Some(report) if report.finished => report,
                // Not read: the reading waits for a budget slot.
                None if let Some(Wait(at)) = wait => return Ok(Step::RunAgainAt(at)),
                // Still running, or not listed yet: the next look tells.
                _ => {
                    unfinished = true;
                    continue;
                }
            };
            let errors = match report.errors.clone() {
                Some(errors) => errors,
                None if report.has_error_report => {
                    match self
                        .offer_errors(ws, channel, instance, credential, import)
                        .await?
                    {
                        Ok(errors) => errors,
                        Err(Wait(at)) => return Ok(Step::RunAgainAt(at)),
                    }
                }
                None => Vec::new(),
            };
            let outcome = self
                .record_outcome(ws, channel, kind, import, &report, &errors)
                .await?;
            self.storage
                .finish_import(ws, channel.id, &import.import_id, &report.status, now_ms())
                .await?;
            tracing::info!(%ws, channel = %channel.id, import = %import.import_id, kind = kind.noun(), live = outcome.live, errors = outcome.errors, "import finished");
            // A delta export would not look at items whose product just became live. After a
            // failed import none did; sending its products again at once could repeat a
            // failure forever, so they wait for the next full export.
            if kind == Kind::Products && !report.failed {
                self.enqueue_export(ws, channel.id).await?;
            }
        }
        if unfinished {
            // Look again at the next slot.
            return Ok(Step::RunAgainAt(
                now_ms() + self.budgets.interval_ms(kind.status_operation()),
            ));
        }
        Ok(Step::Done)
    }

    /// Records a finished import's lines: in error with their message, the others live; or,
    /// for an import that failed as a whole, every line not named in its report in error with
    /// the reason.
    async fn record_outcome(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        kind: Kind,
        import: &ChannelImport,
        report: &Report,
        errors: &[(String, String)],
    ) -> anyhow::Result<ImportOutcomeCounts> {
        let ledger = match kind {
            Kind::Products => Ledger::Products,
            Kind::Offers => Ledger::Items,
        };
        let message;
        let outcome = if report.failed {
            let why = report
                .reason
                .as_deref()
                .map_or(String::new(), |r| format!(": {r}"));
            message = format!(
                "The marketplace did not integrate the {} import {} ({}{why}). It is sent \
                 again with the next full export (Sync now starts one).",
                kind.noun(),
                import.import_id,
                report.status
            );
            ImportOutcome::Failed(&message)
        } else {
            ImportOutcome::Finished
        };
        let counts = self
            .storage
            .record_import_outcome(
                ledger,
                ws,
                channel.id,
                &import.import_id,
                errors,
                outcome,
                now_ms(),
            )
            .await?;
        Ok(counts)
    }

    /// One P42 call per product import (each in its budget slot), with its P44 error report
    /// once it finished.
    async fn product_reports(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        open: &[ChannelImport],
    ) -> anyhow::Result<Reports> {
        let mapping = self.mapping_for(ws, channel.id).await?;
        let sku_column = mapping.as_ref().and_then(|m| m.sku_column());
        let op = Operation::ProductImportStatus;
        let mut reports = HashMap::new();
        for import in open {
            let id = ImportId::from(
                import
                    .import_id
                    .strip_prefix(PRODUCT_IMPORT_PREFIX)
                    .unwrap_or(&import.import_id)
                    .to_owned(),
            );
            if let Some(at) = self.take_budget(ws, channel.id, op).await? {
                return Ok((reports, Some(Wait(at))));
            }
            // ASSUMPTION: without a mapping (deleted meanwhile) the report's SKUs cannot be
            // read; the import's products are then taken as integrated (or as failed with the
            // import), and a refused one's offer comes back refused from its own import.
            let read = async {
                let status = self
                    .marketplace
                    .product_import(instance, credential, channel.store_id, &id)
                    .await?;
                let lines = match sku_column {
                    Some(column) if status.is_finished() && status.has_error_report => {
                        self.marketplace
                            .product_import_errors(
                                instance,
                                credential,
                                channel.store_id,
                                &id,
                                column,
                            )
                            .await?
                    }
                    _ => Vec::new(),
                };
                Ok::<_, MarketplaceError>((status, lines))
            };
            let (status, lines) = match read.await {
                Ok(read) => read,
                Err(MarketplaceError::RateLimited { retry_after }) => {
                    let at = self.defer(ws, channel.id, op, retry_after).await?;
                    return Ok((reports, Some(Wait(at))));
                }
                Err(e) => return Err(e.into()),
            };
            reports.insert(
                import.import_id.clone(),
                Report {
                    finished: status.is_finished(),
                    failed: status.failed(),
                    status: status.status.as_str().to_owned(),
                    reason: status.reason_status.clone(),
                    has_error_report: status.has_error_report,
                    errors: Some(
                        lines
                            .into_iter()
                            .filter_map(|l| l.sku.map(|sku| (sku, l.message)))
                            .collect(),
                    ),
                },
            );
        }
        Ok((reports, None))
    }

    /// The status of every open offer import from OF04, one call (a page) per budget slot:
    /// OF02 would take a call, and a slot, per import — a backlog when a change goes out every
    /// minute.
    async fn offer_reports(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        open: &[ChannelImport],
    ) -> anyhow::Result<Reports> {
        let Some(oldest) = open.iter().map(|i| i.created_at_ms).min() else {
            return Ok((HashMap::new(), None));
        };
        // ASSUMPTION: clocks may differ by up to a minute; an older import listed too is
        // simply ignored.
        let since = OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(oldest - CLOCK_SKEW_MS) * 1_000_000,
        )?;
        let op = Operation::ImportList;
        let mut reports = HashMap::new();
        let mut page_token: Option<String> = None;
        loop {
            if let Some(at) = self.take_budget(ws, channel.id, op).await? {
                return Ok((reports, Some(Wait(at))));
            }
            let page = match self
                .marketplace
                .offer_imports(
                    instance,
                    credential,
                    channel.store_id,
                    since,
                    page_token.as_deref(),
                )
                .await
            {
                Ok(page) => page,
                Err(MarketplaceError::RateLimited { retry_after }) => {
                    let at = self.defer(ws, channel.id, op, retry_after).await?;
                    return Ok((reports, Some(Wait(at))));
                }
                Err(e) => return Err(e.into()),
            };
            reports.extend(page.imports.into_iter().map(|i| {
                let report = Report {
                    finished: i.is_finished(),
                    failed: i.status == ImportStatus::Failed,
                    status: i.status.as_str().to_owned(),
                    reason: i.reason_status.clone(),
                    has_error_report: i.has_error_report,
                    errors: None,
                };
                (i.import_id.as_str().to_owned(), report)
            }));
            match page.next_page_token {
                Some(next) if !open.iter().all(|i| reports.contains_key(&i.import_id)) => {
                    page_token = Some(next)
                }
                _ => return Ok((reports, None)),
            }
        }
    }

    /// A finished offer import's error report (OF03), line by line, in its budget slot.
    async fn offer_errors(
        &self,
        ws: WorkspaceId,
        channel: &Channel,
        instance: &InstanceUrl,
        credential: Credential<'_>,
        import: &ChannelImport,
    ) -> anyhow::Result<Result<Vec<(String, String)>, Wait>> {
        let op = Operation::ImportErrors;
        if let Some(at) = self.take_budget(ws, channel.id, op).await? {
            return Ok(Err(Wait(at)));
        }
        let id = ImportId::from(import.import_id.clone());
        match self
            .marketplace
            .offer_import_errors(instance, credential, channel.store_id, &id)
            .await
        {
            Ok(lines) => Ok(Ok(lines
                .into_iter()
                .filter_map(|l| l.sku.map(|sku| (sku, l.message)))
                .collect())),
            Err(MarketplaceError::RateLimited { retry_after }) => Ok(Err(Wait(
                self.defer(ws, channel.id, op, retry_after).await?,
            ))),
            Err(e) => Err(e.into()),
        }
    }
}
