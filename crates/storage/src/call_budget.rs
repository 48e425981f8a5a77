//! Call budgets (DESIGN §6): when each channel operation may next be called, in the database so
//! that every process and node shares them. Taking a budget is one statement, so of two
//! processes racing for it exactly one is granted.

use domain::{ChannelId, WorkspaceId};

use crate::error::found;
use crate::{Storage, StorageError};

/// The answer of [`Storage::take_call_budget`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetDecision {
    /// Call now; the next call waits the interval.
    Granted,
    /// Not before this time (Unix ms).
    WaitUntil(i64),
}

impl Storage {
    /// If the operation may be called at `now_ms` (never called, or its time has come), books
    /// the next call at `now_ms + interval_ms` and grants this one; otherwise says when. Atomic:
    /// of processes racing for the same budget, one is granted. `NotFound` if the channel is
    /// not in the workspace.
    pub async fn take_call_budget(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        operation: &str,
        interval_ms: i64,
        now_ms: i64,
    ) -> Result<BudgetDecision, StorageError> {
        // On PostgreSQL a racing upsert waits for the row lock and re-checks the condition
        // against the winner's new time, so it updates nothing and returns no row.
        const TAKE: &str = "INSERT INTO call_budgets \
             (workspace_id, channel_id, operation, next_allowed_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (channel_id, operation) DO UPDATE SET \
               next_allowed_at_ms = excluded.next_allowed_at_ms \
             WHERE call_budgets.next_allowed_at_ms <= $5 \
               AND call_budgets.workspace_id = excluded.workspace_id \
             RETURNING next_allowed_at_ms";
        const NEXT: &str = "SELECT next_allowed_at_ms FROM call_budgets \
             WHERE workspace_id = $1 AND channel_id = $2 AND operation = $3";
        let granted: Option<i64> = on_writer!(self, |p| sqlx::query_scalar(TAKE)
            .bind(ws.0)
            .bind(channel.0)
            .bind(operation)
            .bind(now_ms.saturating_add(interval_ms))
            .bind(now_ms)
            .fetch_optional(p)
            .await)
        .map_err(StorageError::on_write("call_budgets_pkey"))?;
        if granted.is_some() {
            return Ok(BudgetDecision::Granted);
        }
        // Times only move forward, so the booked time read now is still later than `now_ms`.
        let next: Option<i64> = on_writer!(self, |p| sqlx::query_scalar(NEXT)
            .bind(ws.0)
            .bind(channel.0)
            .bind(operation)
            .fetch_optional(p)
            .await)?;
        next.map(BudgetDecision::WaitUntil)
            .ok_or(StorageError::NotFound)
    }

    /// The channel said wait (a 429 with `Retry-After`): no call of the operation before
    /// `until_ms`. A later time already booked is kept. `NotFound` if the channel is not in
    /// the workspace.
    pub async fn defer_call_budget(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        operation: &str,
        until_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "INSERT INTO call_budgets \
             (workspace_id, channel_id, operation, next_allowed_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (channel_id, operation) DO UPDATE SET next_allowed_at_ms = CASE \
               WHEN excluded.next_allowed_at_ms > call_budgets.next_allowed_at_ms \
               THEN excluded.next_allowed_at_ms ELSE call_budgets.next_allowed_at_ms END \
             WHERE call_budgets.workspace_id = excluded.workspace_id";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .bind(operation)
            .bind(until_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("call_budgets_pkey"))?;
        found(rows)
    }
}
