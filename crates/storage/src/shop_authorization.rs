//! WooCommerce app authorizations under way (F2). The connector sends the seller to the
//! store's `/wc-auth/v1/authorize` with a random token in the callback URL; the store POSTs the
//! new keys to that callback server-to-server ([`Storage::attach_shop_keys`]), then sends the
//! browser back, which takes the row once ([`Storage::take_pending_shop_authorization`]).
//! Rows are found by the SHA-256 of the token and carry their workspace; the keys are sealed
//! with it. The caller checks the session and the expiry before using a taken row.

use domain::WorkspaceId;
use uuid::Uuid;

use crate::crypto::{Secret, SecretColumn};
use crate::{Storage, StorageError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPendingShopAuthorization {
    /// SHA-256 of the token in the callback and return URLs.
    pub token_hash: Vec<u8>,
    /// The browser session that started the authorization.
    pub session_id: Uuid,
    pub workspace_id: WorkspaceId,
    pub store_url: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingShopAuthorization {
    pub session_id: Uuid,
    pub workspace_id: WorkspaceId,
    pub store_url: String,
    pub expires_at_ms: i64,
    /// Consumer key, consumer secret and their permissions, if the store sent them.
    pub keys: Option<(Secret, Secret, String)>,
}

/// What taking a pending shop authorization found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PendingShopLookup {
    /// No authorization was started with this token.
    Unknown,
    /// It was taken before: a replayed or double-submitted return.
    Replayed,
    /// Taken now; nobody can take it again. Session and expiry are for the caller to check.
    Taken(PendingShopAuthorization),
}

#[derive(sqlx::FromRow)]
struct TakenRow {
    session_id: Uuid,
    workspace_id: Uuid,
    store_url: String,
    expires_at_ms: i64,
    consumer_key: Option<Vec<u8>>,
    consumer_secret: Option<Vec<u8>>,
    key_permissions: Option<String>,
}

impl Storage {
    /// `NotFound` if the workspace does not exist; `Conflict("shop_auth_pending_pkey")` if the
    /// token hash is already in use.
    pub async fn create_pending_shop_authorization(
        &self,
        p: &NewPendingShopAuthorization,
    ) -> Result<(), StorageError> {
        const SQL: &str = "INSERT INTO shop_auth_pending \
             (token_hash, session_id, workspace_id, store_url, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)";
        on_writer!(self, |pool| sqlx::query(SQL)
            .bind(p.token_hash.as_slice())
            .bind(p.session_id)
            .bind(p.workspace_id.0)
            .bind(&p.store_url)
            .bind(p.created_at_ms)
            .bind(p.expires_at_ms)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("shop_auth_pending_pkey"))?;
        Ok(())
    }

    /// The store's server-to-server callback: attach the keys once. Returns false (and stores
    /// nothing) when the token is unknown, expired, already has keys, or already used.
    pub async fn attach_shop_keys(
        &self,
        token_hash: &[u8],
        consumer_key: &Secret,
        consumer_secret: &Secret,
        key_permissions: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        // The workspace is needed to seal the keys; the UPDATE alone decides whether they are
        // stored, in one statement, so two callbacks cannot both attach theirs.
        const WORKSPACE: &str = "SELECT workspace_id FROM shop_auth_pending WHERE token_hash = $1";
        const ATTACH: &str = "UPDATE shop_auth_pending SET \
               consumer_key = $3, consumer_secret = $4, key_permissions = $5, keys_at_ms = $6 \
             WHERE token_hash = $1 AND workspace_id = $2 AND consumer_key IS NULL \
               AND used_at_ms IS NULL AND expires_at_ms > $6";
        let workspace: Option<Uuid> = on_reader!(self, |p| sqlx::query_scalar(WORKSPACE)
            .bind(token_hash)
            .fetch_optional(p)
            .await)?;
        let Some(workspace) = workspace.map(WorkspaceId) else {
            return Ok(false);
        };
        let key =
            self.secrets
                .seal_secret(workspace, SecretColumn::PendingConsumerKey, consumer_key)?;
        let secret = self.secrets.seal_secret(
            workspace,
            SecretColumn::PendingConsumerSecret,
            consumer_secret,
        )?;
        let rows = on_writer!(self, |p| sqlx::query(ATTACH)
            .bind(token_hash)
            .bind(workspace.0)
            .bind(key.as_slice())
            .bind(secret.as_slice())
            .bind(key_permissions)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(rows > 0)
    }

    /// The browser's return: marks it used (once) and returns it with the keys if they
    /// arrived. One statement, so two returns with the same token cannot both take it.
    pub async fn take_pending_shop_authorization(
        &self,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<PendingShopLookup, StorageError> {
        const TAKE: &str = "UPDATE shop_auth_pending SET used_at_ms = $2 \
             WHERE token_hash = $1 AND used_at_ms IS NULL \
             RETURNING session_id, workspace_id, store_url, expires_at_ms, \
               consumer_key, consumer_secret, key_permissions";
        const EXISTS: &str = "SELECT COUNT(*) FROM shop_auth_pending WHERE token_hash = $1";
        let taken = on_writer!(self, |p| sqlx::query_as::<_, TakenRow>(TAKE)
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(p)
            .await)?;
        let Some(row) = taken else {
            let known: i64 = on_writer!(self, |p| sqlx::query_scalar(EXISTS)
                .bind(token_hash)
                .fetch_one(p)
                .await)?;
            return Ok(if known > 0 {
                PendingShopLookup::Replayed
            } else {
                PendingShopLookup::Unknown
            });
        };
        let workspace_id = WorkspaceId(row.workspace_id);
        let keys = match (row.consumer_key, row.consumer_secret, row.key_permissions) {
            (Some(key), Some(secret), Some(permissions)) => Some((
                self.secrets
                    .open_secret(workspace_id, SecretColumn::PendingConsumerKey, &key)?,
                self.secrets.open_secret(
                    workspace_id,
                    SecretColumn::PendingConsumerSecret,
                    &secret,
                )?,
                permissions,
            )),
            (None, None, None) => None,
            _ => {
                return Err(StorageError::Corrupt(format!(
                    "pending shop authorization of workspace {workspace_id}: keys half stored"
                )));
            }
        };
        Ok(PendingShopLookup::Taken(PendingShopAuthorization {
            session_id: row.session_id,
            workspace_id,
            store_url: row.store_url,
            expires_at_ms: row.expires_at_ms,
            keys,
        }))
    }

    /// Removes pending shop authorizations that expired at or before `before_ms`, used or
    /// not; returns how many.
    pub async fn delete_expired_pending_shop_authorizations(
        &self,
        before_ms: i64,
    ) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM shop_auth_pending WHERE expires_at_ms <= $1";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(before_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(rows)
    }
}
