//! Disconnect (F6): the state of a disconnect under way, kept so a restart resumes it, the wipe
//! of a workspace's data (or of one channel's) at its end, and the receipt that survives the
//! wipe so the next page can say "disconnected".
//!
//! What the wipe keeps: the login (`users`, `workspaces`, with `onboarded_at_ms` reset so the
//! next visit starts onboarding again), the browser `sessions` (they hold only a token hash, a
//! CSRF token and the user's ids: keeping them leaves the seller signed in on the success
//! page), and `disconnect_receipts`, which it writes.

use domain::{ChannelId, DisconnectChoice, DisconnectStatus, WorkspaceId};
use uuid::Uuid;

use crate::error::found;
use crate::{Storage, StorageError};

/// The step of a disconnect just started; the later step names belong to the flow.
pub const DISCONNECT_FIRST_STEP: &str = "start";

/// A disconnect of the whole workspace (`channel_id` `None`) or of one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disconnect {
    pub workspace_id: WorkspaceId,
    pub channel_id: Option<ChannelId>,
    pub choice: DisconnectChoice,
    /// The last step reached, named by the flow (starts at [`DISCONNECT_FIRST_STEP`]).
    pub step: String,
    pub status: DisconnectStatus,
    /// Why it failed (while `Failed`).
    pub error: Option<String>,
    /// Retried with the remote steps skipped (the channel or shop could not be reached).
    pub forced: bool,
    pub started_at_ms: i64,
    pub updated_at_ms: i64,
    pub finished_at_ms: Option<i64>,
}

/// What [`Storage::delete_workspace_data`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WipeCounts {
    /// Tables that held rows of the workspace.
    pub tables: u64,
    pub rows: u64,
}

#[derive(sqlx::FromRow)]
struct DisconnectRow {
    workspace_id: Uuid,
    channel_id: Option<Uuid>,
    choice: String,
    step: String,
    status: String,
    error: Option<String>,
    forced: bool,
    started_at_ms: i64,
    updated_at_ms: i64,
    finished_at_ms: Option<i64>,
}

impl TryFrom<DisconnectRow> for Disconnect {
    type Error = StorageError;

    fn try_from(row: DisconnectRow) -> Result<Self, StorageError> {
        let corrupt = |what: &str, value: &str| {
            StorageError::Corrupt(format!(
                "disconnect of {}: {what} {value:?}",
                row.workspace_id
            ))
        };
        let choice =
            DisconnectChoice::parse(&row.choice).ok_or_else(|| corrupt("choice", &row.choice))?;
        let status =
            DisconnectStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?;
        Ok(Disconnect {
            workspace_id: WorkspaceId(row.workspace_id),
            channel_id: row.channel_id.map(ChannelId),
            choice,
            step: row.step,
            status,
            error: row.error,
            forced: row.forced,
            started_at_ms: row.started_at_ms,
            updated_at_ms: row.updated_at_ms,
            finished_at_ms: row.finished_at_ms,
        })
    }
}

/// Tables the wipe leaves alone (see the module comment); `disconnect_receipts` it writes.
const KEPT_TABLES: [&str; 4] = ["users", "workspaces", "sessions", "disconnect_receipts"];
/// Known tables that others point at, wiped last, in this order (orders point at channels).
const PARENT_TABLES: [&str; 3] = ["orders", "channels", "shops"];

/// The order the wipe tries: other tables first (children, and tables added later, which point
/// at a channel, a shop or the workspace), the known parents last. Should a later table be a
/// parent too, the retry in `delete_workspace_data` still finds an order.
fn wipe_order(mut tables: Vec<String>) -> Vec<String> {
    tables.retain(|t| !KEPT_TABLES.contains(&t.as_str()));
    tables.sort_by_key(|t| {
        let parent = PARENT_TABLES.iter().position(|p| p == t);
        (parent.is_some(), parent, t.clone())
    });
    tables
}

/// `DELETE FROM "<table>" WHERE workspace_id = $1`. The name comes from the database's own
/// catalogue (`workspace_tables`), never from input; it is still checked to be a plain
/// identifier before it goes into the SQL text.
fn delete_rows_sql(table: &str) -> Result<String, StorageError> {
    let plain = !table.is_empty()
        && table
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !plain {
        return Err(StorageError::Corrupt(format!("table name {table:?}")));
    }
    Ok(format!("DELETE FROM \"{table}\" WHERE workspace_id = $1"))
}

fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

impl Storage {
    /// Starts (or starts again, after one failed or finished) the workspace's disconnect:
    /// running, at [`DISCONNECT_FIRST_STEP`], not forced. `Conflict("disconnect_running")` while
    /// one is running; `NotFound` if the workspace does not exist.
    pub async fn start_disconnect(
        &self,
        ws: WorkspaceId,
        channel: Option<ChannelId>,
        choice: DisconnectChoice,
        now_ms: i64,
    ) -> Result<Disconnect, StorageError> {
        // One statement decides, so two racing starts get one disconnect.
        const SQL: &str = "INSERT INTO disconnects (workspace_id, channel_id, choice, step, status, \
               error, forced, started_at_ms, updated_at_ms, finished_at_ms) \
             VALUES ($1, $2, $3, $4, $5, NULL, FALSE, $6, $6, NULL) \
             ON CONFLICT (workspace_id) DO UPDATE SET channel_id = excluded.channel_id, \
               choice = excluded.choice, step = excluded.step, status = excluded.status, \
               error = NULL, forced = FALSE, started_at_ms = excluded.started_at_ms, \
               updated_at_ms = excluded.updated_at_ms, finished_at_ms = NULL, reason = NULL \
             WHERE disconnects.status <> $5";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(channel.map(|c| c.0))
            .bind(choice.as_str())
            .bind(DISCONNECT_FIRST_STEP)
            .bind(DisconnectStatus::Running.as_str())
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("disconnect_running"))?;
        if rows == 0 {
            return Err(StorageError::Conflict("disconnect_running"));
        }
        Ok(Disconnect {
            workspace_id: ws,
            channel_id: channel,
            choice,
            step: DISCONNECT_FIRST_STEP.to_owned(),
            status: DisconnectStatus::Running,
            error: None,
            forced: false,
            started_at_ms: now_ms,
            updated_at_ms: now_ms,
            finished_at_ms: None,
        })
    }

    /// The workspace's disconnect (running, failed, or a finished channel disconnect).
    pub async fn disconnect(&self, ws: WorkspaceId) -> Result<Option<Disconnect>, StorageError> {
        const SQL: &str = "SELECT workspace_id, channel_id, choice, step, status, error, forced, \
             started_at_ms, updated_at_ms, finished_at_ms FROM disconnects WHERE workspace_id = $1";
        let row = on_reader!(self, |p| sqlx::query_as::<_, DisconnectRow>(SQL)
            .bind(ws.0)
            .fetch_optional(p)
            .await)?;
        row.map(Disconnect::try_from).transpose()
    }

    /// Records the step reached. `NotFound` if the workspace has no disconnect.
    pub async fn set_disconnect_step(
        &self,
        ws: WorkspaceId,
        step: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str =
            "UPDATE disconnects SET step = $2, updated_at_ms = $3 WHERE workspace_id = $1";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(step)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// Marks the disconnect failed at its current step. `NotFound` if there is none.
    pub async fn fail_disconnect(
        &self,
        ws: WorkspaceId,
        error: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE disconnects SET status = $2, error = $3, updated_at_ms = $4 \
             WHERE workspace_id = $1";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(DisconnectStatus::Failed.as_str())
            .bind(error)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// Puts a failed disconnect back to running from the step it reached, clearing the error;
    /// `forced` asks the flow to skip the remote steps. `NotFound` unless one has failed.
    pub async fn retry_disconnect(
        &self,
        ws: WorkspaceId,
        forced: bool,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE disconnects SET status = $2, error = NULL, forced = $3, \
               updated_at_ms = $4 WHERE workspace_id = $1 AND status = $5";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(DisconnectStatus::Running.as_str())
            .bind(forced)
            .bind(now_ms)
            .bind(DisconnectStatus::Failed.as_str())
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// Marks the disconnect done. `NotFound` if there is none (after a whole-workspace wipe the
    /// row is gone: [`Storage::disconnect_receipt`] says it finished).
    pub async fn finish_disconnect(
        &self,
        ws: WorkspaceId,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE disconnects SET status = $2, error = NULL, updated_at_ms = $3, \
               finished_at_ms = $3 WHERE workspace_id = $1";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(DisconnectStatus::Done.as_str())
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// The choice and end time of the workspace's finished whole-workspace disconnect.
    pub async fn disconnect_receipt(
        &self,
        ws: WorkspaceId,
    ) -> Result<Option<(DisconnectChoice, i64)>, StorageError> {
        Ok(self
            .disconnect_receipt_with_reason(ws)
            .await?
            .map(|(choice, at, _)| (choice, at)))
    }

    /// [`Storage::disconnect_receipt`] with the reason given when it did not come from the
    /// seller (see [`Storage::set_disconnect_reason`]).
    pub async fn disconnect_receipt_with_reason(
        &self,
        ws: WorkspaceId,
    ) -> Result<Option<(DisconnectChoice, i64, Option<String>)>, StorageError> {
        const SQL: &str = "SELECT choice, finished_at_ms, reason FROM disconnect_receipts \
             WHERE workspace_id = $1";
        let row: Option<(String, i64, Option<String>)> = on_reader!(self, |p| sqlx::query_as(SQL)
            .bind(ws.0)
            .fetch_optional(p)
            .await)?;
        row.map(|(choice, at, reason)| {
            DisconnectChoice::parse(&choice)
                .map(|c| (c, at, reason))
                .ok_or_else(|| {
                    StorageError::Corrupt(format!("disconnect receipt of {}: {choice:?}", ws.0))
                })
        })
        .transpose()
    }

    /// Says why the workspace's running disconnect happened, for the receipt its wipe
    /// writes. `NotFound` if there is none.
    pub async fn set_disconnect_reason(
        &self,
        ws: WorkspaceId,
        reason: &str,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE disconnects SET reason = $2 WHERE workspace_id = $1";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(reason)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// Forgets the receipt (once the seller has seen it, or starts onboarding again).
    /// Nothing to forget is fine.
    pub async fn clear_disconnect_receipt(&self, ws: WorkspaceId) -> Result<(), StorageError> {
        const SQL: &str = "DELETE FROM disconnect_receipts WHERE workspace_id = $1";
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Deletes all of the workspace's data in one transaction: every row with its
    /// `workspace_id` in every table that has that column (found in the database's catalogue,
    /// so a table added later is included), the workspace's jobs too, and with them this
    /// disconnect's row and the job running it (its `complete_job` then returns false). Keeps
    /// the login (`users`, the workspace, with `onboarded_at_ms` reset) and the sessions, and
    /// writes the receipt. `NotFound` if the workspace does not exist.
    pub async fn delete_workspace_data(
        &self,
        ws: WorkspaceId,
        choice: DisconnectChoice,
        now_ms: i64,
    ) -> Result<WipeCounts, StorageError> {
        const RESET_ONBOARDING: &str = "UPDATE workspaces SET onboarded_at_ms = NULL WHERE id = $1";
        const RECEIPT: &str = "INSERT INTO disconnect_receipts \
             (workspace_id, choice, finished_at_ms, reason) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workspace_id) DO UPDATE SET \
               choice = excluded.choice, finished_at_ms = excluded.finished_at_ms, \
               reason = excluded.reason";
        const REASON: &str = "SELECT reason FROM disconnects WHERE workspace_id = $1";
        let tables = wipe_order(self.workspace_tables().await?);
        let statements = tables
            .iter()
            .map(|t| delete_rows_sql(t))
            .collect::<Result<Vec<_>, _>>()?;
        let counts = in_transaction!(self, |tx| {
            let reason: Option<Option<String>> = sqlx::query_scalar(REASON)
                .bind(ws.0)
                .fetch_optional(&mut *tx)
                .await?;
            let reason = reason.flatten();
            let done = sqlx::query(RESET_ONBOARDING)
                .bind(ws.0)
                .execute(&mut *tx)
                .await?;
            found(done.rows_affected())?;
            let mut counts = WipeCounts::default();
            // Each table in a savepoint: one that others still point at (without a cascade)
            // refuses with a foreign key violation, is rolled back alone and tried again after
            // the rest. A round that deletes nothing more means no order works: give up.
            let mut pending: Vec<&String> = statements.iter().collect();
            while !pending.is_empty() {
                let tried = pending.len();
                let mut refused = Vec::new();
                let mut last_refusal = None;
                for sql in pending {
                    let mut savepoint = sqlx::Acquire::begin(&mut tx).await?;
                    // The table names come from the catalogue, checked by `delete_rows_sql`.
                    match sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                        .bind(ws.0)
                        .execute(&mut *savepoint)
                        .await
                    {
                        Ok(done) => {
                            savepoint.commit().await?;
                            if done.rows_affected() > 0 {
                                counts.tables += 1;
                                counts.rows += done.rows_affected();
                            }
                        }
                        Err(err) if is_foreign_key_violation(&err) => {
                            savepoint.rollback().await?;
                            refused.push(sql);
                            last_refusal = Some(err);
                        }
                        Err(err) => return Err(err.into()),
                    }
                }
                if let Some(err) = last_refusal.filter(|_| refused.len() == tried) {
                    return Err(err.into());
                }
                pending = refused;
            }
            sqlx::query(RECEIPT)
                .bind(ws.0)
                .bind(choice.as_str())
                .bind(now_ms)
                .bind(reason.as_deref())
                .execute(&mut *tx)
                .await?;
            counts
        });
        Ok(counts)
    }

    /// Deletes one channel with everything kept for it ([`Storage::delete_channel`]). A
    /// channel already gone is fine, so a resumed disconnect can repeat the step. Touches the
    /// disconnect's `updated_at_ms`.
    pub async fn delete_channel_data(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const TOUCH: &str = "UPDATE disconnects SET updated_at_ms = $3 \
             WHERE workspace_id = $1 AND channel_id = $2";
        match self.delete_channel(ws, channel).await {
            Ok(()) | Err(StorageError::NotFound) => {}
            Err(err) => return Err(err),
        }
        on_writer!(self, |p| sqlx::query(TOUCH)
            .bind(ws.0)
            .bind(channel.0)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{DisconnectChoice, DisconnectStatus, wipe_order};

    #[test]
    fn choices_and_statuses_round_trip_through_their_names() {
        for c in [
            DisconnectChoice::Keep,
            DisconnectChoice::Deactivate,
            DisconnectChoice::Delete,
        ] {
            assert_eq!(DisconnectChoice::parse(c.as_str()), Some(c));
        }
        for s in [
            DisconnectStatus::Running,
            DisconnectStatus::Failed,
            DisconnectStatus::Done,
        ] {
            assert_eq!(DisconnectStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(DisconnectChoice::parse("remove"), None);
        assert_eq!(DisconnectStatus::parse("ok"), None);
    }

    #[test]
    fn the_wipe_skips_the_login_and_takes_parents_last() {
        let tables = [
            "channels",
            "jobs",
            "new_table",
            "sessions",
            "shops",
            "users",
            "webhook_inbox",
        ];
        let order = wipe_order(tables.iter().map(|t| (*t).to_owned()).collect());
        assert_eq!(
            order,
            ["jobs", "new_table", "webhook_inbox", "channels", "shops"]
        );
    }
}
