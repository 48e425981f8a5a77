//! Imports sent to a channel (OF01 and OF24 offer imports, P41 product imports) that must be
//! followed to the end (OF02/P42) and their error reports read, even across restarts.

use domain::{ChannelId, WorkspaceId};

use crate::error::found;
use crate::{Storage, StorageError};

/// The status of an import until it finishes; then it is the channel's final word.
pub const IMPORT_OPEN: &str = "open";

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ChannelImport {
    /// The channel's id of the import.
    pub import_id: String,
    /// The API call that created it, e.g. `OF01`, `OF24`, `P41`.
    pub kind: String,
    /// [`IMPORT_OPEN`], then the channel's final status (e.g. `COMPLETE`, `FAILED`).
    pub status: String,
    /// Lines (offers, products) sent in it.
    pub lines: i32,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

impl Storage {
    /// Records an import the channel accepted, to follow until it finishes. `NotFound` if the
    /// channel is not in the workspace; `Conflict("channel_imports_pkey")` if it is recorded
    /// already.
    pub async fn record_import(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        import_id: &str,
        kind: &str,
        lines: i32,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "INSERT INTO channel_imports \
             (workspace_id, channel_id, import_id, kind, status, lines, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)";
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .bind(import_id)
            .bind(kind)
            .bind(IMPORT_OPEN)
            .bind(lines)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("channel_imports_pkey"))?;
        Ok(())
    }

    /// The channel's imports not finished yet, oldest first.
    pub async fn open_imports(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Vec<ChannelImport>, StorageError> {
        const SQL: &str = "SELECT import_id, kind, status, lines, created_at_ms, finished_at_ms \
             FROM channel_imports \
             WHERE workspace_id = $1 AND channel_id = $2 AND finished_at_ms IS NULL \
             ORDER BY created_at_ms, import_id";
        Ok(on_reader!(self, |p| sqlx::query_as::<_, ChannelImport>(
            SQL
        )
        .bind(ws.0)
        .bind(channel.0)
        .fetch_all(p)
        .await)?)
    }

    /// Records how the import ended (the channel's final status). Finishing it again only
    /// updates the status: the first finish time is kept. `NotFound` if the import is not
    /// recorded for this channel of the workspace.
    pub async fn finish_import(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        import_id: &str,
        status: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE channel_imports SET status = $4, \
               finished_at_ms = COALESCE(finished_at_ms, $5) \
             WHERE workspace_id = $1 AND channel_id = $2 AND import_id = $3";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .bind(import_id)
            .bind(status)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }
}
