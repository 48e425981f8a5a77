//! What each channel last received of each SKU and where it stands (F4): the content hash of
//! the last send (so only what changed is sent again), the import that carried it, and the
//! state the Products page shows. Writes that add rows answer `NotFound` for a channel of
//! another workspace; updates of listed SKUs there simply find nothing.
//!
//! How a row moves:
//! - [`Storage::record_sent`]: `sent` (waiting for its import) or `live` (applied at once);
//! - [`Storage::record_import_outcome`] (in [`Ledger::Items`]): the import's `sent` rows
//!   become `live` or `error`; those of an import that failed as a whole become `error`, to be
//!   sent again;
//! - [`Storage::record_item_errors`]: `error` before sending (no price, no GTIN);
//! - [`Storage::forget_sent_hashes`]: `waiting`, to be sent again;
//! - [`Storage::mark_removed`]: `removed` from the channel.
//!
//! A catalog item without a row has never been sent: it is waiting.
//!
//! The products created on a marketplace by P41 ([`crate::channel_product`]) keep a ledger of
//! the same shape and life in a table of their own; both run on the one implementation here,
//! whose statements are written once for either table (`Ledger`).

use std::collections::HashMap;

use domain::{ChannelId, ItemState, WorkspaceId};

use crate::batch::{BATCH_ROWS, Batch, last_of_each, sku_chunks};
use crate::{Storage, StorageError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelItem {
    pub sku: String,
    /// The content hash of what the channel last received; `None` when it must be sent again.
    pub sent_hash: Option<Vec<u8>>,
    pub state: ItemState,
    pub error: Option<String>,
    /// The channel's import that carried the last send, if it came in one.
    pub import_id: Option<String>,
    pub sent_at_ms: Option<i64>,
    /// When the channel last accepted it.
    pub live_at_ms: Option<i64>,
    pub updated_at_ms: i64,
}

/// What a channel holds of the catalog ([`Storage::channel_holdings`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ChannelHoldings {
    /// Sellable SKUs: simple products and variations, one offer (or Connect product) each.
    pub skus: i64,
    /// The shop products they come from.
    pub products: i64,
}

/// What [`Storage::record_import_outcome`] did
/// with the import's rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ImportOutcomeCounts {
    pub live: u64,
    pub errors: u64,
}

#[derive(sqlx::FromRow)]
struct ChannelItemRow {
    sku: String,
    sent_hash: Option<Vec<u8>>,
    state: String,
    error: Option<String>,
    import_id: Option<String>,
    sent_at_ms: Option<i64>,
    live_at_ms: Option<i64>,
    updated_at_ms: i64,
}

impl ChannelItemRow {
    fn read(self, ledger: Ledger) -> Result<ChannelItem, StorageError> {
        let state = ItemState::parse(&self.state)
            .filter(|state| ledger.states().contains(state))
            .ok_or_else(|| {
                let table = ledger.sql().table;
                StorageError::Corrupt(format!("{table} {}: state {:?}", self.sku, self.state))
            })?;
        Ok(ChannelItem {
            sku: self.sku,
            sent_hash: self.sent_hash,
            state,
            error: self.error,
            import_id: self.import_id,
            sent_at_ms: self.sent_at_ms,
            live_at_ms: self.live_at_ms,
            updated_at_ms: self.updated_at_ms,
        })
    }
}

/// How an import ended, for the rows its error report does not name.
#[derive(Clone, Copy, Debug)]
pub enum ImportOutcome<'a> {
    /// They were integrated: `live`.
    Finished,
    /// The import failed as a whole, for this reason: `error`, to be sent again.
    Failed(&'a str),
}

/// The per-channel, per-SKU ledgers that share this module's statements: one table each, the
/// same columns and the same life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ledger {
    /// `channel_items`: the offers (or Mirakl Connect products) each channel received.
    Items,
    /// `channel_products`: the products created on a marketplace by P41 (see
    /// [`crate::channel_product`]).
    Products,
}

/// A ledger's statements, each written once in `ledger_sql!` for both tables.
struct LedgerSql {
    /// The table's name, for messages.
    table: &'static str,
    /// The primary key's name, for [`StorageError::Conflict`].
    pkey: &'static str,
    /// $3 and $4 the first and last SKU of the chunk (see `batch`).
    rows_for: Batch,
    /// $3 the SKU after which the page starts, $4 its size.
    page: &'static str,
    /// $3 state, $4 import id, $5 now, $6 now when live at once (else NULL, keeping the last
    /// time).
    upsert_sent: Batch,
    /// $3 error state, $4 now. The last send's times stay: the channel may still show it.
    upsert_errors: Batch,
    /// Puts listed rows in state $3 at $4 without their hash: `waiting` (sent again next time)
    /// or `removed` (sent in full if the item comes back). $5 and $6 bound the chunk's SKUs.
    set_state_unsent: Batch,
    /// One import row named in the error report: $3 SKU, $4 error, $5 message, $6 now, $7
    /// import, $8 sent, $9 live.
    import_error: &'static str,
    /// The import's other rows: $3 import, $4 live, $5 now, $6 sent. `live_at_ms` is kept when
    /// the row is live already: a repeated call, not a new success.
    import_live: &'static str,
    /// The other rows of an import that failed as a whole: $3 import, $4 error, $5 message,
    /// $6 now, $7 sent. They lose their hash, so the next export sends them again.
    import_failed: &'static str,
    state_counts: &'static str,
}

/// The statements of the ledger in `$table`.
macro_rules! ledger_sql {
    ($table:literal) => {
        LedgerSql {
            table: $table,
            pkey: concat!($table, "_pkey"),
            rows_for: Batch {
                head: concat!(
                    "SELECT sku, sent_hash, state, error, import_id, sent_at_ms, live_at_ms, \
                     updated_at_ms FROM ",
                    $table,
                    " WHERE workspace_id = $1 AND channel_id = $2 AND sku BETWEEN $3 AND $4 \
                     AND sku IN ("
                ),
                row: "?",
                tail: ") ORDER BY sku",
                fixed: 4,
            },
            page: concat!(
                "SELECT sku, sent_hash, state, error, import_id, sent_at_ms, live_at_ms, \
                 updated_at_ms FROM ",
                $table,
                " WHERE workspace_id = $1 AND channel_id = $2 AND sku > $3 ORDER BY sku LIMIT $4"
            ),
            upsert_sent: Batch {
                head: concat!(
                    "INSERT INTO ",
                    $table,
                    " (workspace_id, channel_id, sku, sent_hash, state, error, import_id, \
                     sent_at_ms, live_at_ms, updated_at_ms) VALUES "
                ),
                row: "($1, $2, ?, ?, $3, NULL, $4, $5, $6, $5)",
                tail: concat!(
                    " ON CONFLICT (channel_id, sku) DO UPDATE SET \
                     sent_hash = excluded.sent_hash, state = excluded.state, error = NULL, \
                     import_id = excluded.import_id, sent_at_ms = excluded.sent_at_ms, \
                     live_at_ms = COALESCE(excluded.live_at_ms, ",
                    $table,
                    ".live_at_ms), updated_at_ms = excluded.updated_at_ms WHERE ",
                    $table,
                    ".workspace_id = excluded.workspace_id"
                ),
                fixed: 6,
            },
            upsert_errors: Batch {
                head: concat!(
                    "INSERT INTO ",
                    $table,
                    " (workspace_id, channel_id, sku, sent_hash, state, error, import_id, \
                     sent_at_ms, live_at_ms, updated_at_ms) VALUES "
                ),
                row: "($1, $2, ?, NULL, $3, ?, NULL, NULL, NULL, $4)",
                tail: concat!(
                    " ON CONFLICT (channel_id, sku) DO UPDATE SET \
                     sent_hash = NULL, state = excluded.state, error = excluded.error, \
                     import_id = NULL, updated_at_ms = excluded.updated_at_ms WHERE ",
                    $table,
                    ".workspace_id = excluded.workspace_id"
                ),
                fixed: 4,
            },
            set_state_unsent: Batch {
                head: concat!(
                    "UPDATE ",
                    $table,
                    " SET sent_hash = NULL, state = $3, error = NULL, import_id = NULL, \
                     updated_at_ms = $4 WHERE workspace_id = $1 AND channel_id = $2 \
                     AND sku BETWEEN $5 AND $6 AND sku IN ("
                ),
                row: "?",
                tail: ")",
                fixed: 6,
            },
            import_error: concat!(
                "UPDATE ",
                $table,
                " SET state = $4, error = $5, updated_at_ms = $6 \
                 WHERE workspace_id = $1 AND channel_id = $2 AND sku = $3 AND import_id = $7 \
                 AND state IN ($4, $8, $9)"
            ),
            import_live: concat!(
                "UPDATE ",
                $table,
                " SET state = $4, error = NULL, \
                 live_at_ms = CASE WHEN state = $4 THEN live_at_ms ELSE $5 END, \
                 updated_at_ms = $5 \
                 WHERE workspace_id = $1 AND channel_id = $2 AND import_id = $3 \
                 AND state IN ($4, $6)"
            ),
            import_failed: concat!(
                "UPDATE ",
                $table,
                " SET state = $4, error = $5, sent_hash = NULL, updated_at_ms = $6 \
                 WHERE workspace_id = $1 AND channel_id = $2 AND import_id = $3 AND state = $7"
            ),
            state_counts: concat!(
                "SELECT state, COUNT(*) FROM ",
                $table,
                " WHERE workspace_id = $1 AND channel_id = $2 GROUP BY state"
            ),
        }
    };
}

static CHANNEL_ITEMS: LedgerSql = ledger_sql!("channel_items");
static CHANNEL_PRODUCTS: LedgerSql = ledger_sql!("channel_products");

impl Ledger {
    fn sql(self) -> &'static LedgerSql {
        match self {
            Self::Items => &CHANNEL_ITEMS,
            Self::Products => &CHANNEL_PRODUCTS,
        }
    }

    /// The states its rows take, in the order counts are listed.
    fn states(self) -> &'static [ItemState] {
        match self {
            Self::Items => ItemState::ALL,
            Self::Products => ItemState::PRODUCT_STATES,
        }
    }
}

/// Proves the channel is in the workspace before rows are added to it: an upsert alone would
/// quietly skip a foreign channel's existing rows while failing on its new ones.
const CHANNEL_IN_WORKSPACE: &str =
    "SELECT COUNT(*) FROM channels WHERE workspace_id = $1 AND id = $2";

/// One message per SKU, in the order the SKUs first appear; several messages for one SKU (an
/// error report may have a line per problem) are joined with "; ".
fn messages_by_sku(errors: &[(String, String)]) -> Vec<(&str, String)> {
    let mut merged: Vec<(&str, String)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (sku, message) in errors {
        match index.get(sku.as_str()) {
            Some(&i) => {
                merged[i].1.push_str("; ");
                merged[i].1.push_str(message);
            }
            None => {
                index.insert(sku, merged.len());
                merged.push((sku, message.clone()));
            }
        }
    }
    merged
}

impl Storage {
    /// The channel's rows for these SKUs (a page of catalog items, typically up to 1,000), in
    /// SKU order. SKUs without a row are left out: they are waiting.
    pub async fn channel_items_for(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        skus: &[String],
    ) -> Result<Vec<ChannelItem>, StorageError> {
        self.ledger_rows_for(Ledger::Items, ws, channel, skus).await
    }

    /// Up to `limit` of the channel's rows after `after_sku` (from the first without it), in
    /// SKU order: for reconciliation, which walks everything the channel was sent.
    pub async fn channel_items_page(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        after_sku: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ChannelItem>, StorageError> {
        let ledger = Ledger::Items;
        // SKUs are never empty, so '' comes before the first one.
        let rows = on_reader!(self, |p| sqlx::query_as::<_, ChannelItemRow>(
            ledger.sql().page
        )
        .bind(ws.0)
        .bind(channel.0)
        .bind(after_sku.unwrap_or(""))
        .bind(limit.max(0))
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(|row| row.read(ledger)).collect()
    }

    /// Records that the channel received these items (SKU, content hash), in one transaction:
    /// with an `import_id` they are `sent` until the import's result comes back
    /// ([`Storage::record_import_outcome`]); without one the channel applied them at once
    /// (Mirakl Connect) and they are `live`. Any earlier error is cleared. If a SKU is listed
    /// twice the last one wins. `NotFound` if the channel is not in the workspace.
    pub async fn record_sent(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        items: &[(String, Vec<u8>)],
        import_id: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.ledger_record_sent(Ledger::Items, ws, channel, items, import_id, now_ms)
            .await
    }

    /// Errors found before sending (no price, no GTIN), in one transaction: the items become
    /// `error` with their message (several for one SKU are joined with "; ") and lose their hash,
    /// so they are sent once fixed. `NotFound` if the channel is not in the workspace.
    pub async fn record_item_errors(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        errors: &[(String, String)],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.ledger_errors(Ledger::Items, ws, channel, errors, now_ms)
            .await
    }

    /// Reconciliation found the channel differs from what was sent: these items go back to
    /// `waiting` without a hash, so the next export sends them again. Returns how many rows
    /// changed (SKUs without a row are waiting already).
    pub async fn forget_sent_hashes(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        skus: &[String],
        now_ms: i64,
    ) -> Result<u64, StorageError> {
        self.ledger_set_unsent(Ledger::Items, ws, channel, skus, ItemState::Waiting, now_ms)
            .await
    }

    /// These items were taken off the channel (deleted there, or the catalog item is gone).
    /// SKUs without a row are skipped: the channel never had them.
    pub async fn mark_removed(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        skus: &[String],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.ledger_set_unsent(Ledger::Items, ws, channel, skus, ItemState::Removed, now_ms)
            .await?;
        Ok(())
    }

    /// How many of the channel's rows are in each state, every state listed (in
    /// [`ItemState::ALL`] order) even at zero. Catalog items without a row are not counted
    /// here: they are waiting too (see [`Storage::catalog_count`]).
    pub async fn item_state_counts(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Vec<(ItemState, i64)>, StorageError> {
        self.ledger_state_counts(Ledger::Items, ws, channel).await
    }

    /// What the channel holds of the catalog now (rows `sent` or `live`): its SKUs, and the
    /// shop products they come from, a variable product's variations counting once. A SKU
    /// whose catalog item is gone counts as a product of its own.
    pub async fn channel_holdings(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<ChannelHoldings, StorageError> {
        const SQL: &str = "SELECT COUNT(*), \
             COUNT(DISTINCT c.shop_product_id) + COUNT(CASE WHEN c.sku IS NULL THEN 1 END) \
             FROM channel_items i \
             LEFT JOIN catalog_items c ON c.workspace_id = i.workspace_id AND c.sku = i.sku \
             WHERE i.workspace_id = $1 AND i.channel_id = $2 AND i.state IN ($3, $4)";
        let (skus, products) = on_reader!(self, |p| sqlx::query_as::<_, (i64, i64)>(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .bind(ItemState::Sent.as_str())
            .bind(ItemState::Live.as_str())
            .fetch_one(p)
            .await)?;
        Ok(ChannelHoldings { skus, products })
    }

    // ------------------------------------------------ one implementation for every ledger

    /// [`Storage::channel_items_for`] in `ledger`.
    pub(crate) async fn ledger_rows_for(
        &self,
        ledger: Ledger,
        ws: WorkspaceId,
        channel: ChannelId,
        skus: &[String],
    ) -> Result<Vec<ChannelItem>, StorageError> {
        let mut items = Vec::with_capacity(skus.len());
        for chunk in sku_chunks(skus) {
            let sql = ledger.sql().rows_for.sql(chunk.len());
            let rows = on_reader!(self, |p| {
                let mut query = sqlx::query_as::<_, ChannelItemRow>(sql)
                    .bind(ws.0)
                    .bind(channel.0)
                    .bind(chunk[0])
                    .bind(chunk[chunk.len() - 1]);
                for sku in &chunk {
                    query = query.bind(*sku);
                }
                query.fetch_all(p).await
            })?;
            for row in rows {
                items.push(row.read(ledger)?);
            }
        }
        Ok(items)
    }

    /// [`Storage::record_sent`] in `ledger`.
    pub(crate) async fn ledger_record_sent(
        &self,
        ledger: Ledger,
        ws: WorkspaceId,
        channel: ChannelId,
        items: &[(String, Vec<u8>)],
        import_id: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let items = last_of_each(items, |(sku, _)| sku);
        if items.is_empty() {
            return Ok(());
        }
        let (state, live_at) = match import_id {
            Some(_) => (ItemState::Sent, None),
            None => (ItemState::Live, Some(now_ms)),
        };
        let sql = ledger.sql();
        in_transaction!(self, |tx| {
            let channels: i64 = sqlx::query_scalar(CHANNEL_IN_WORKSPACE)
                .bind(ws.0)
                .bind(channel.0)
                .fetch_one(&mut *tx)
                .await?;
            if channels == 0 {
                return Err(StorageError::NotFound);
            }
            for chunk in items.chunks(BATCH_ROWS) {
                let mut upsert = sqlx::query(sql.upsert_sent.sql(chunk.len()))
                    .bind(ws.0)
                    .bind(channel.0)
                    .bind(state.as_str())
                    .bind(import_id)
                    .bind(now_ms)
                    .bind(live_at);
                for (sku, hash) in chunk {
                    upsert = upsert.bind(sku).bind(hash.as_slice());
                }
                upsert
                    .execute(&mut *tx)
                    .await
                    .map_err(StorageError::on_write(sql.pkey))?;
            }
        });
        Ok(())
    }

    /// The result of an import on `ledger` (offers: OF02/OF04 finished, OF03 read; products
    /// created by P41: P42 finished, P44 read), in one transaction: the import's rows named in
    /// `errors` (SKU, message) become `error` with their message. With
    /// [`ImportOutcome::Finished`] the import's other rows become `live`; their hash is kept
    /// (the same content would fail again; [`Storage::forget_sent_hashes`] sends it anyway).
    /// With [`ImportOutcome::Failed`] (the import failed as a whole) its other `sent` rows
    /// become `error` with that reason, without their hash, so the next export sends them
    /// again. Only rows whose last send is still that import's are touched, so recording the
    /// same result twice changes nothing and a SKU sent again since is left alone.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_import_outcome(
        &self,
        ledger: Ledger,
        ws: WorkspaceId,
        channel: ChannelId,
        import_id: &str,
        errors: &[(String, String)],
        outcome: ImportOutcome<'_>,
        now_ms: i64,
    ) -> Result<ImportOutcomeCounts, StorageError> {
        // One row per statement, the statement prepared once and reused: each SKU has its own
        // message, and a join with a `VALUES` list is planned as a scan of the channel's rows
        // (SQLite walks the import's index; PostgreSQL does so while its statistics are stale).
        let sql = ledger.sql();
        let errors = messages_by_sku(errors);
        Ok(in_transaction!(self, |tx| {
            let mut counts = ImportOutcomeCounts::default();
            for (sku, message) in &errors {
                counts.errors += sqlx::query(sql.import_error)
                    .bind(ws.0)
                    .bind(channel.0)
                    .bind(*sku)
                    .bind(ItemState::Error.as_str())
                    .bind(message)
                    .bind(now_ms)
                    .bind(import_id)
                    .bind(ItemState::Sent.as_str())
                    .bind(ItemState::Live.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            match outcome {
                ImportOutcome::Finished => {
                    counts.live = sqlx::query(sql.import_live)
                        .bind(ws.0)
                        .bind(channel.0)
                        .bind(import_id)
                        .bind(ItemState::Live.as_str())
                        .bind(now_ms)
                        .bind(ItemState::Sent.as_str())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                ImportOutcome::Failed(message) => {
                    counts.errors += sqlx::query(sql.import_failed)
                        .bind(ws.0)
                        .bind(channel.0)
                        .bind(import_id)
                        .bind(ItemState::Error.as_str())
                        .bind(message)
                        .bind(now_ms)
                        .bind(ItemState::Sent.as_str())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
            }
            counts
        }))
    }

    /// [`Storage::record_item_errors`] in `ledger`.
    pub(crate) async fn ledger_errors(
        &self,
        ledger: Ledger,
        ws: WorkspaceId,
        channel: ChannelId,
        errors: &[(String, String)],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let errors = messages_by_sku(errors);
        if errors.is_empty() {
            return Ok(());
        }
        let sql = ledger.sql();
        in_transaction!(self, |tx| {
            let channels: i64 = sqlx::query_scalar(CHANNEL_IN_WORKSPACE)
                .bind(ws.0)
                .bind(channel.0)
                .fetch_one(&mut *tx)
                .await?;
            if channels == 0 {
                return Err(StorageError::NotFound);
            }
            for chunk in errors.chunks(BATCH_ROWS) {
                let mut upsert = sqlx::query(sql.upsert_errors.sql(chunk.len()))
                    .bind(ws.0)
                    .bind(channel.0)
                    .bind(ItemState::Error.as_str())
                    .bind(now_ms);
                for (sku, message) in chunk {
                    upsert = upsert.bind(*sku).bind(message);
                }
                upsert
                    .execute(&mut *tx)
                    .await
                    .map_err(StorageError::on_write(sql.pkey))?;
            }
        });
        Ok(())
    }

    /// Puts the listed rows of `ledger` in `state` without their hash, in one transaction;
    /// returns the rows changed.
    pub(crate) async fn ledger_set_unsent(
        &self,
        ledger: Ledger,
        ws: WorkspaceId,
        channel: ChannelId,
        skus: &[String],
        state: ItemState,
        now_ms: i64,
    ) -> Result<u64, StorageError> {
        let chunks = sku_chunks(skus);
        if chunks.is_empty() {
            return Ok(0);
        }
        let sql = ledger.sql();
        Ok(in_transaction!(self, |tx| {
            let mut changed = 0;
            for chunk in &chunks {
                let mut query = sqlx::query(sql.set_state_unsent.sql(chunk.len()))
                    .bind(ws.0)
                    .bind(channel.0)
                    .bind(state.as_str())
                    .bind(now_ms)
                    .bind(chunk[0])
                    .bind(chunk[chunk.len() - 1]);
                for sku in chunk {
                    query = query.bind(*sku);
                }
                changed += query.execute(&mut *tx).await?.rows_affected();
            }
            changed
        }))
    }

    /// How many of the channel's rows of `ledger` are in each of its states, every state
    /// listed (in the ledger's order) even at zero.
    pub(crate) async fn ledger_state_counts(
        &self,
        ledger: Ledger,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Vec<(ItemState, i64)>, StorageError> {
        let rows: Vec<(String, i64)> =
            on_reader!(self, |p| sqlx::query_as(ledger.sql().state_counts)
                .bind(ws.0)
                .bind(channel.0)
                .fetch_all(p)
                .await)?;
        let states = ledger.states();
        let mut counts: Vec<(ItemState, i64)> = states.iter().map(|s| (*s, 0)).collect();
        for (state, count) in rows {
            let position = ItemState::parse(&state)
                .and_then(|parsed| states.iter().position(|s| *s == parsed))
                .ok_or_else(|| {
                    StorageError::Corrupt(format!(
                        "{} of channel {channel}: state {state:?}",
                        ledger.sql().table
                    ))
                })?;
            counts[position].1 = count;
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_names() {
        for (i, state) in ItemState::ALL.iter().copied().enumerate() {
            assert_eq!(ItemState::parse(state.as_str()), Some(state));
            assert_eq!(state as usize, i, "ALL is in declaration order");
        }
        assert_eq!(ItemState::parse("pending"), None);
    }

    #[test]
    fn messages_of_one_sku_are_joined() {
        let errors = [
            ("a".to_owned(), "no price".to_owned()),
            ("b".to_owned(), "no GTIN".to_owned()),
            ("a".to_owned(), "no stock".to_owned()),
        ];
        assert_eq!(
            messages_by_sku(&errors),
            [
                ("a", "no price; no stock".to_owned()),
                ("b", "no GTIN".to_owned())
            ]
        );
    }
}
