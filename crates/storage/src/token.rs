//! Channel tokens (F7), sealed at rest with the workspace and column as associated data, and
//! the refresh lease that lets one process at a time refresh a channel's tokens.

use domain::{ChannelId, ChannelStatus, WorkspaceId};
use uuid::Uuid;

use crate::crypto::{Secret, SecretColumn};
use crate::{Storage, StorageError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub access_expires_at_ms: i64,
    pub scope: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTokens {
    pub tokens: TokenSet,
    /// When a refresh last succeeded; `None` until the first refresh after an authorization.
    pub refreshed_at_ms: Option<i64>,
    pub last_refresh_error: Option<String>,
}

/// How a refresh under [`Storage::lock_token_refresh`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// New tokens. A `None` refresh token or scope keeps the stored one: a token endpoint
    /// need not send them again (RFC 6749 §6).
    Refreshed(TokenSet),
    /// The refresh failed. With `reauthorization_needed` (the grant was refused) the channel
    /// moves to `reauthorization_needed`; otherwise the next attempt may succeed.
    Failed {
        error: String,
        reauthorization_needed: bool,
    },
}

/// The statuses in which a channel holds tokens worth refreshing
/// (`ChannelStatus::is_authorized`; a unit test keeps the two in step).
const AUTHORIZED_STATUSES: [ChannelStatus; 3] = [
    ChannelStatus::AwaitingStoreId,
    ChannelStatus::ReadyToLaunch,
    ChannelStatus::Live,
];

/// Saves a channel's tokens, replacing earlier ones and clearing the refresh state.
const UPSERT_TOKENS: &str = "INSERT INTO channel_tokens \
     (channel_id, workspace_id, access_token, refresh_token, access_expires_at_ms, scope, \
      created_at_ms, updated_at_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
     ON CONFLICT (channel_id) DO UPDATE SET \
       access_token = excluded.access_token, refresh_token = excluded.refresh_token, \
       access_expires_at_ms = excluded.access_expires_at_ms, scope = excluded.scope, \
       refreshed_at_ms = NULL, last_refresh_error = NULL, lock_owner = NULL, lock_until_ms = NULL, \
       updated_at_ms = excluded.updated_at_ms \
     WHERE channel_tokens.workspace_id = excluded.workspace_id";

#[derive(sqlx::FromRow)]
struct TokenRow {
    access_token: Vec<u8>,
    refresh_token: Option<Vec<u8>>,
    access_expires_at_ms: i64,
    scope: Option<String>,
    refreshed_at_ms: Option<i64>,
    last_refresh_error: Option<String>,
}

impl Storage {
    fn open_tokens(&self, ws: WorkspaceId, row: TokenRow) -> Result<StoredTokens, StorageError> {
        let access_token =
            self.secrets
                .open_secret(ws, SecretColumn::AccessToken, &row.access_token)?;
        let refresh_token = match &row.refresh_token {
            Some(sealed) => Some(self.secrets.open_secret(
                ws,
                SecretColumn::RefreshToken,
                sealed,
            )?),
            None => None,
        };
        Ok(StoredTokens {
            tokens: TokenSet {
                access_token,
                refresh_token,
                access_expires_at_ms: row.access_expires_at_ms,
                scope: row.scope,
            },
            refreshed_at_ms: row.refreshed_at_ms,
            last_refresh_error: row.last_refresh_error,
        })
    }

    fn seal_tokens(
        &self,
        ws: WorkspaceId,
        tokens: &TokenSet,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), StorageError> {
        let access =
            self.secrets
                .seal_secret(ws, SecretColumn::AccessToken, &tokens.access_token)?;
        let refresh = match &tokens.refresh_token {
            Some(token) => Some(
                self.secrets
                    .seal_secret(ws, SecretColumn::RefreshToken, token)?,
            ),
            None => None,
        };
        Ok((access, refresh))
    }

    /// Saves the tokens of a new authorization, replacing any earlier ones. Clears the last
    /// refresh error and any refresh lease, so a refresh still running with the old tokens
    /// cannot overwrite these (its finish returns false). `NotFound` if the channel is not in
    /// the workspace.
    pub async fn store_tokens(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        tokens: &TokenSet,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = UPSERT_TOKENS;
        let (access, refresh) = self.seal_tokens(ws, tokens)?;
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(channel.0)
            .bind(ws.0)
            .bind(access.as_slice())
            .bind(refresh.as_deref())
            .bind(tokens.access_expires_at_ms)
            .bind(tokens.scope.as_deref())
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("channel_tokens_pkey"))?;
        if rows == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    /// The end of a successful authorization (F1), in one transaction: the new tokens, the
    /// channel's next status, the Connect company when there is one, and no stale error. Either
    /// all of it is saved or none of it, so a failure leaves no half-authorized channel.
    pub async fn authorize_channel(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        tokens: &TokenSet,
        status: ChannelStatus,
        company: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const CHANNEL: &str = "UPDATE channels SET status = $3, company = COALESCE($4, company), \
             last_error = NULL, updated_at_ms = $5 WHERE workspace_id = $1 AND id = $2";
        let (access, refresh) = self.seal_tokens(ws, tokens)?;
        in_transaction!(self, |tx| {
            let updated = sqlx::query(CHANNEL)
                .bind(ws.0)
                .bind(channel.0)
                .bind(status.as_str())
                .bind(company)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if updated == 0 {
                return Err(StorageError::NotFound);
            }
            sqlx::query(UPSERT_TOKENS)
                .bind(channel.0)
                .bind(ws.0)
                .bind(access.as_slice())
                .bind(refresh.as_deref())
                .bind(tokens.access_expires_at_ms)
                .bind(tokens.scope.as_deref())
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(StorageError::on_write("channel_tokens_pkey"))?;
        });
        Ok(())
    }

    pub async fn load_tokens(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Option<StoredTokens>, StorageError> {
        const SQL: &str = "SELECT access_token, refresh_token, access_expires_at_ms, scope, \
             refreshed_at_ms, last_refresh_error \
             FROM channel_tokens WHERE workspace_id = $1 AND channel_id = $2";
        let row = on_reader!(self, |p| sqlx::query_as::<_, TokenRow>(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .fetch_optional(p)
            .await)?;
        row.map(|row| self.open_tokens(ws, row)).transpose()
    }

    /// Channels, across workspaces, whose access token expires before `before_ms` and that
    /// can be refreshed: a refresh token is present, the channel is authorized and no lease
    /// outlasts `before_ms`. Soonest expiry first. [`Storage::lock_token_refresh`] has the
    /// final word on the lease.
    pub async fn channels_due_for_refresh(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<(WorkspaceId, ChannelId)>, StorageError> {
        const SQL: &str = "SELECT t.workspace_id, t.channel_id FROM channel_tokens t \
             JOIN channels c ON c.workspace_id = t.workspace_id AND c.id = t.channel_id \
             WHERE t.access_expires_at_ms < $1 AND t.refresh_token IS NOT NULL \
               AND c.status IN ($2, $3, $4) \
               AND (t.lock_until_ms IS NULL OR t.lock_until_ms < $1) \
             ORDER BY t.access_expires_at_ms, t.channel_id LIMIT $5";
        let [s1, s2, s3] = AUTHORIZED_STATUSES.map(ChannelStatus::as_str);
        let rows: Vec<(Uuid, Uuid)> = on_reader!(self, |p| sqlx::query_as(SQL)
            .bind(before_ms)
            .bind(s1)
            .bind(s2)
            .bind(s3)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(ws, channel)| (WorkspaceId(ws), ChannelId(channel)))
            .collect())
    }

    /// Takes the refresh lease on the channel's tokens for `lease_ms` and returns them, or
    /// `None` if another owner holds an unexpired lease (or there are no tokens). One
    /// statement, so across processes only one refresh runs per channel.
    pub async fn lock_token_refresh(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        owner: Uuid,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<StoredTokens>, StorageError> {
        const SQL: &str = "UPDATE channel_tokens SET lock_owner = $3, lock_until_ms = $5 \
             WHERE workspace_id = $1 AND channel_id = $2 AND (lock_until_ms IS NULL OR lock_until_ms < $4) \
             RETURNING access_token, refresh_token, access_expires_at_ms, scope, \
               refreshed_at_ms, last_refresh_error";
        let row = on_writer!(self, |p| sqlx::query_as::<_, TokenRow>(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .bind(owner)
            .bind(now_ms)
            .bind(now_ms.saturating_add(lease_ms))
            .fetch_optional(p)
            .await)?;
        row.map(|row| self.open_tokens(ws, row)).transpose()
    }

    /// Records how the refresh ended and releases the lease. Returns false, writing nothing,
    /// if `owner` no longer holds the lease (it was taken over after expiring, or the channel
    /// was authorized again meanwhile).
    pub async fn finish_token_refresh(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        owner: Uuid,
        outcome: RefreshOutcome,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        const REFRESHED: &str = "UPDATE channel_tokens SET \
               access_token = $4, refresh_token = COALESCE($5, refresh_token), access_expires_at_ms = $6, \
               scope = COALESCE($7, scope), refreshed_at_ms = $8, last_refresh_error = NULL, \
               lock_owner = NULL, lock_until_ms = NULL, updated_at_ms = $8 \
             WHERE workspace_id = $1 AND channel_id = $2 AND lock_owner = $3";
        const FAILED: &str = "UPDATE channel_tokens SET last_refresh_error = $4, \
               lock_owner = NULL, lock_until_ms = NULL, updated_at_ms = $5 \
             WHERE workspace_id = $1 AND channel_id = $2 AND lock_owner = $3";
        const NEEDS_REAUTHORIZATION: &str = "UPDATE channels SET status = $3, updated_at_ms = $4 \
             WHERE workspace_id = $1 AND id = $2";
        match outcome {
            RefreshOutcome::Refreshed(tokens) => {
                let (access, refresh) = self.seal_tokens(ws, &tokens)?;
                let rows = on_writer!(self, |p| sqlx::query(REFRESHED)
                    .bind(ws.0)
                    .bind(channel.0)
                    .bind(owner)
                    .bind(access.as_slice())
                    .bind(refresh.as_deref())
                    .bind(tokens.access_expires_at_ms)
                    .bind(tokens.scope.as_deref())
                    .bind(now_ms)
                    .execute(p)
                    .await
                    .map(|done| done.rows_affected()))?;
                Ok(rows > 0)
            }
            RefreshOutcome::Failed {
                error,
                reauthorization_needed,
            } => Ok(in_transaction!(self, |tx| {
                let done = sqlx::query(FAILED)
                    .bind(ws.0)
                    .bind(channel.0)
                    .bind(owner)
                    .bind(&error)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                let held = done.rows_affected() > 0;
                if held && reauthorization_needed {
                    sqlx::query(NEEDS_REAUTHORIZATION)
                        .bind(ws.0)
                        .bind(channel.0)
                        .bind(ChannelStatus::ReauthorizationNeeded.as_str())
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                }
                held
            })),
        }
    }

    /// Mirakl refused the channel's access token (401) in work begun at `since_ms`: unless the
    /// tokens changed since (renewed, or a new authorization), the access token is taken for
    /// expired, so that the next refresh is due at once. Returns whether it was.
    pub async fn expire_access_token(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        since_ms: i64,
    ) -> Result<bool, StorageError> {
        const SQL: &str = "UPDATE channel_tokens SET access_expires_at_ms = 0 \
             WHERE workspace_id = $1 AND channel_id = $2 AND updated_at_ms <= $3";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .bind(since_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(rows > 0)
    }

    /// Forgets the channel's tokens (a no-op if there are none).
    pub async fn delete_tokens(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<(), StorageError> {
        const SQL: &str = "DELETE FROM channel_tokens WHERE workspace_id = $1 AND channel_id = $2";
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshable_statuses_are_the_authorized_ones() {
        let all = [
            ChannelStatus::AwaitingAuthorization,
            ChannelStatus::AwaitingStoreId,
            ChannelStatus::ReadyToLaunch,
            ChannelStatus::Live,
            ChannelStatus::ReauthorizationNeeded,
        ];
        for status in all {
            // A new status fails to compile here until it is added to `all` above.
            match status {
                ChannelStatus::AwaitingAuthorization
                | ChannelStatus::AwaitingStoreId
                | ChannelStatus::ReadyToLaunch
                | ChannelStatus::Live
                | ChannelStatus::ReauthorizationNeeded => {}
            }
            assert_eq!(
                AUTHORIZED_STATUSES.contains(&status),
                status.is_authorized(),
                "{status:?}"
            );
        }
    }
}
