//! OAuth authorizations under way (F1): created when the seller clicks Connect, taken once when
//! Mirakl sends the browser back. Rows are found by the SHA-256 of the `state` parameter, an
//! unguessable value, and carry their workspace; the caller checks that the session and
//! workspace match before using one.

use std::fmt;

use domain::{ChannelId, WorkspaceId};
use uuid::Uuid;

use crate::crypto::{Secret, SecretColumn};
use crate::{Storage, StorageError};

#[derive(Clone, PartialEq, Eq)]
pub struct NewPendingAuthorization {
    /// SHA-256 of the `state` sent to the authorization server.
    pub state_hash: Vec<u8>,
    /// The browser session that started the authorization.
    pub session_id: Uuid,
    pub workspace_id: WorkspaceId,
    pub channel_id: ChannelId,
    /// The PKCE code verifier; sealed before it is stored, hidden from `Debug`.
    pub pkce_verifier: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

impl fmt::Debug for NewPendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewPendingAuthorization")
            .field("session_id", &self.session_id)
            .field("workspace_id", &self.workspace_id)
            .field("channel_id", &self.channel_id)
            .field("pkce_verifier", &"***")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingAuthorization {
    pub session_id: Uuid,
    pub workspace_id: WorkspaceId,
    pub channel_id: ChannelId,
    pub pkce_verifier: Secret,
    pub expires_at_ms: i64,
}

/// What taking a pending authorization found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PendingLookup {
    /// No authorization was started with this state.
    Unknown,
    /// It was taken before: a replayed or double-submitted callback.
    Replayed,
    /// Taken now; nobody can take it again. Session and expiry are for the caller to check.
    Taken(PendingAuthorization),
}

#[derive(sqlx::FromRow)]
struct TakenRow {
    session_id: Uuid,
    workspace_id: Uuid,
    channel_id: Uuid,
    pkce_verifier: Vec<u8>,
    expires_at_ms: i64,
}

impl Storage {
    /// `NotFound` if the channel is not in the workspace; `Conflict("oauth_pending_pkey")` if
    /// the state hash is already in use.
    pub async fn create_pending_authorization(
        &self,
        p: &NewPendingAuthorization,
    ) -> Result<(), StorageError> {
        const SQL: &str = "INSERT INTO oauth_pending \
             (state_hash, session_id, workspace_id, channel_id, pkce_verifier, \
              created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let sealed = self.secrets.seal(
            p.workspace_id,
            SecretColumn::PkceVerifier,
            p.pkce_verifier.as_bytes(),
        )?;
        on_writer!(self, |pool| sqlx::query(SQL)
            .bind(p.state_hash.as_slice())
            .bind(p.session_id)
            .bind(p.workspace_id.0)
            .bind(p.channel_id.0)
            .bind(sealed.as_slice())
            .bind(p.created_at_ms)
            .bind(p.expires_at_ms)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("oauth_pending_pkey"))?;
        Ok(())
    }

    /// Marks the authorization used and returns it, in one statement, so two callbacks with
    /// the same state cannot both succeed.
    pub async fn take_pending_authorization(
        &self,
        state_hash: &[u8],
        now_ms: i64,
    ) -> Result<PendingLookup, StorageError> {
        const TAKE: &str = "UPDATE oauth_pending SET used_at_ms = $2 \
             WHERE state_hash = $1 AND used_at_ms IS NULL \
             RETURNING session_id, workspace_id, channel_id, pkce_verifier, expires_at_ms";
        const EXISTS: &str = "SELECT COUNT(*) FROM oauth_pending WHERE state_hash = $1";
        let taken = on_writer!(self, |p| sqlx::query_as::<_, TakenRow>(TAKE)
            .bind(state_hash)
            .bind(now_ms)
            .fetch_optional(p)
            .await)?;
        let Some(row) = taken else {
            let known: i64 = on_writer!(self, |p| sqlx::query_scalar(EXISTS)
                .bind(state_hash)
                .fetch_one(p)
                .await)?;
            return Ok(if known > 0 {
                PendingLookup::Replayed
            } else {
                PendingLookup::Unknown
            });
        };
        let workspace_id = WorkspaceId(row.workspace_id);
        let pkce_verifier = self.secrets.open_secret(
            workspace_id,
            SecretColumn::PkceVerifier,
            &row.pkce_verifier,
        )?;
        Ok(PendingLookup::Taken(PendingAuthorization {
            session_id: row.session_id,
            workspace_id,
            channel_id: ChannelId(row.channel_id),
            pkce_verifier,
            expires_at_ms: row.expires_at_ms,
        }))
    }

    /// Removes pending authorizations that expired before `now_ms`, used or not; returns how many.
    pub async fn delete_expired_pending_authorizations(
        &self,
        now_ms: i64,
    ) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM oauth_pending WHERE expires_at_ms <= $1";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(rows)
    }
}
