//! Browser sessions, kept on the server. The cookie holds a random token; this table holds only
//! its SHA-256, so a copy of the database does not let anyone sign in.

use domain::{UserId, WorkspaceId};
use uuid::Uuid;

use crate::{Storage, StorageError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: Uuid,
    /// `None` before sign-in (a session exists from the first page, for its CSRF token).
    pub user_id: Option<UserId>,
    pub workspace_id: Option<WorkspaceId>,
    pub csrf_token: String,
    pub expires_at_ms: i64,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: Uuid,
    user_id: Option<Uuid>,
    workspace_id: Option<Uuid>,
    csrf_token: String,
    expires_at_ms: i64,
}

impl From<SessionRow> for SessionRecord {
    fn from(row: SessionRow) -> Self {
        SessionRecord {
            id: row.id,
            user_id: row.user_id.map(UserId),
            workspace_id: row.workspace_id.map(WorkspaceId),
            csrf_token: row.csrf_token,
            expires_at_ms: row.expires_at_ms,
        }
    }
}

impl Storage {
    /// `Conflict("sessions_token_hash")` if the hash is already in use.
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        csrf_token: &str,
        user: Option<(UserId, WorkspaceId)>,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<SessionRecord, StorageError> {
        const SQL: &str = "INSERT INTO sessions \
             (id, token_hash, csrf_token, user_id, workspace_id, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let record = SessionRecord {
            id: Uuid::now_v7(),
            user_id: user.map(|(u, _)| u),
            workspace_id: user.map(|(_, w)| w),
            csrf_token: csrf_token.to_owned(),
            expires_at_ms,
        };
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(record.id)
            .bind(token_hash)
            .bind(csrf_token)
            .bind(record.user_id.map(|u| u.0))
            .bind(record.workspace_id.map(|w| w.0))
            .bind(now_ms)
            .bind(expires_at_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("sessions_token_hash"))?;
        Ok(record)
    }

    /// The session for this token hash, or `None` if there is none or it has expired.
    pub async fn find_session(
        &self,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<SessionRecord>, StorageError> {
        const SQL: &str = "SELECT id, user_id, workspace_id, csrf_token, expires_at_ms \
             FROM sessions WHERE token_hash = $1 AND expires_at_ms > $2";
        let row = on_reader!(self, |p| sqlx::query_as::<_, SessionRow>(SQL)
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(SessionRecord::from))
    }

    /// Signs out: forgets the session (a no-op if it is already gone).
    pub async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StorageError> {
        const SQL: &str = "DELETE FROM sessions WHERE token_hash = $1";
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(token_hash)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub async fn delete_expired_sessions(&self, now_ms: i64) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM sessions WHERE expires_at_ms <= $1";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(rows)
    }
}
