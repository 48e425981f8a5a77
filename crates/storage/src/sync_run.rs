//! Sync runs: one pass of a flow (catalog export, order import, …) with its counts and outcome,
//! for the dashboard.

use domain::{ChannelId, SyncRunStatus, WorkspaceId};
use uuid::Uuid;

use crate::error::found;
use crate::{Storage, StorageError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRun {
    pub id: Uuid,
    /// `None` for a flow of the whole workspace (e.g. reading the shop's catalog).
    pub channel_id: Option<ChannelId>,
    pub flow: String,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub status: SyncRunStatus,
    /// The run's counts as JSON (`{}` while it runs).
    pub counts: String,
    /// What went wrong, or anything worth telling the seller.
    pub message: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SyncRunRow {
    id: Uuid,
    channel_id: Option<Uuid>,
    flow: String,
    started_at_ms: i64,
    finished_at_ms: Option<i64>,
    status: String,
    counts: String,
    message: Option<String>,
}

impl TryFrom<SyncRunRow> for SyncRun {
    type Error = StorageError;

    fn try_from(row: SyncRunRow) -> Result<Self, StorageError> {
        let status = SyncRunStatus::parse(&row.status).ok_or_else(|| {
            StorageError::Corrupt(format!("sync run {}: status {:?}", row.id, row.status))
        })?;
        Ok(SyncRun {
            id: row.id,
            channel_id: row.channel_id.map(ChannelId),
            flow: row.flow,
            started_at_ms: row.started_at_ms,
            finished_at_ms: row.finished_at_ms,
            status,
            counts: row.counts,
            message: row.message,
        })
    }
}

impl Storage {
    /// Starts a run of `flow`, `running` with empty counts; returns its id. `NotFound` if the
    /// workspace, or the channel when one is given, is not found.
    pub async fn start_sync_run(
        &self,
        ws: WorkspaceId,
        channel: Option<ChannelId>,
        flow: &str,
        now_ms: i64,
    ) -> Result<Uuid, StorageError> {
        const SQL: &str = "INSERT INTO sync_runs \
             (id, workspace_id, channel_id, flow, started_at_ms, status, counts) \
             VALUES ($1, $2, $3, $4, $5, $6, '{}')";
        let id = Uuid::now_v7();
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(id)
            .bind(ws.0)
            .bind(channel.map(|c| c.0))
            .bind(flow)
            .bind(now_ms)
            .bind(SyncRunStatus::Running.as_str())
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("sync_runs_pkey"))?;
        Ok(id)
    }

    /// Ends the run with its status, counts (JSON) and message. `NotFound` if the run is not in
    /// the workspace.
    pub async fn finish_sync_run(
        &self,
        ws: WorkspaceId,
        id: Uuid,
        status: SyncRunStatus,
        counts_json: &str,
        message: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE sync_runs SET status = $3, counts = $4, message = $5, \
               finished_at_ms = $6 WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(id)
            .bind(status.as_str())
            .bind(counts_json)
            .bind(message)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// The workspace's latest `limit` runs, newest first.
    pub async fn recent_sync_runs(
        &self,
        ws: WorkspaceId,
        limit: i64,
    ) -> Result<Vec<SyncRun>, StorageError> {
        const SQL: &str = "SELECT id, channel_id, flow, started_at_ms, finished_at_ms, status, \
             counts, message FROM sync_runs WHERE workspace_id = $1 \
             ORDER BY started_at_ms DESC, id DESC LIMIT $2";
        let rows = on_reader!(self, |p| sqlx::query_as::<_, SyncRunRow>(SQL)
            .bind(ws.0)
            .bind(limit.max(0))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(SyncRun::try_from).collect()
    }

    /// A page of the workspace's runs, newest first: the `limit` runs started before
    /// `before` (a run's `(started_at_ms, id)`), or the newest when `None`.
    pub async fn sync_runs_page(
        &self,
        ws: WorkspaceId,
        before: Option<(i64, Uuid)>,
        limit: i64,
    ) -> Result<Vec<SyncRun>, StorageError> {
        const SQL: &str = "SELECT id, channel_id, flow, started_at_ms, finished_at_ms, status, \
             counts, message FROM sync_runs WHERE workspace_id = $1 \
               AND ($2 IS NULL OR started_at_ms < $2 OR (started_at_ms = $2 AND id < $3)) \
             ORDER BY started_at_ms DESC, id DESC LIMIT $4";
        let (before_ms, before_id) = match before {
            Some((ms, id)) => (Some(ms), id),
            None => (None, Uuid::nil()),
        };
        let rows = on_reader!(self, |p| sqlx::query_as::<_, SyncRunRow>(SQL)
            .bind(ws.0)
            .bind(before_ms)
            .bind(before_id)
            .bind(limit.max(0))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(SyncRun::try_from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::SyncRunStatus;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in [
            SyncRunStatus::Running,
            SyncRunStatus::Done,
            SyncRunStatus::Failed,
        ] {
            assert_eq!(SyncRunStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(SyncRunStatus::parse("ok"), None);
    }
}
