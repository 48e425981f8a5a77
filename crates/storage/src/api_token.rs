//! Tokens for the JSON API, one workspace each. The token itself is shown to the seller once
//! and never stored: this table holds its SHA-256 (found by that hash, so no comparison of
//! secrets happens here), a few leading characters to tell tokens apart, a name, an access
//! scope, and when it was created, last used and revoked.

use domain::WorkspaceId;
use uuid::Uuid;

use crate::error::found;
use crate::{Storage, StorageError};

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApiScope {
    /// Read every resource; every action is refused.
    Read,
    /// Read, and act: sync now, accept, refuse, retry.
    ReadWrite,
}

impl ApiScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read_write",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "read" => Some(Self::Read),
            "read_write" => Some(Self::ReadWrite),
            _ => None,
        }
    }

    pub fn can_write(self) -> bool {
        self == Self::ReadWrite
    }
}

/// A token as the Account page lists it (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: Uuid,
    pub workspace_id: WorkspaceId,
    /// The token's first characters (`mb_AbCd1234`), not a secret.
    pub display_prefix: String,
    pub name: String,
    pub scope: ApiScope,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

/// What [`Storage::create_api_token`] stores.
#[derive(Clone, Copy, Debug)]
pub struct NewApiToken<'a> {
    /// SHA-256 of the whole token.
    pub token_hash: &'a [u8],
    pub display_prefix: &'a str,
    pub name: &'a str,
    pub scope: ApiScope,
}

/// How long a token's "last used" may lag: it is written at most once a minute, so a busy
/// integration does not turn every read into a write.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

#[derive(sqlx::FromRow)]
struct ApiTokenRow {
    id: Uuid,
    workspace_id: Uuid,
    display_prefix: String,
    name: String,
    scope: String,
    created_at_ms: i64,
    last_used_at_ms: Option<i64>,
    revoked_at_ms: Option<i64>,
}

impl TryFrom<ApiTokenRow> for ApiToken {
    type Error = StorageError;

    fn try_from(row: ApiTokenRow) -> Result<Self, StorageError> {
        let scope = ApiScope::parse(&row.scope).ok_or_else(|| {
            StorageError::Corrupt(format!("api token {}: scope {:?}", row.id, row.scope))
        })?;
        Ok(ApiToken {
            id: row.id,
            workspace_id: WorkspaceId(row.workspace_id),
            display_prefix: row.display_prefix,
            name: row.name,
            scope,
            created_at_ms: row.created_at_ms,
            last_used_at_ms: row.last_used_at_ms,
            revoked_at_ms: row.revoked_at_ms,
        })
    }
}

/// `SELECT <every column of ApiToken> FROM api_tokens WHERE <condition>`.
macro_rules! select_api_tokens_where {
    ($condition:literal) => {
        concat!(
            "SELECT id, workspace_id, display_prefix, name, scope, created_at_ms, ",
            "last_used_at_ms, revoked_at_ms FROM api_tokens WHERE ",
            $condition
        )
    };
}

impl Storage {
    /// Stores a new token of the workspace. `NotFound` if the workspace does not exist,
    /// `Conflict("api_tokens_token_hash")` if the hash is already in use.
    pub async fn create_api_token(
        &self,
        ws: WorkspaceId,
        token: NewApiToken<'_>,
        now_ms: i64,
    ) -> Result<ApiToken, StorageError> {
        const SQL: &str = "INSERT INTO api_tokens (id, workspace_id, token_hash, display_prefix, \
               name, scope, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let stored = ApiToken {
            id: Uuid::now_v7(),
            workspace_id: ws,
            display_prefix: token.display_prefix.to_owned(),
            name: token.name.to_owned(),
            scope: token.scope,
            created_at_ms: now_ms,
            last_used_at_ms: None,
            revoked_at_ms: None,
        };
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(stored.id)
            .bind(ws.0)
            .bind(token.token_hash)
            .bind(token.display_prefix)
            .bind(token.name)
            .bind(token.scope.as_str())
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("api_tokens_token_hash"))?;
        Ok(stored)
    }

    /// The workspace's tokens, revoked ones included, newest first.
    pub async fn api_tokens(&self, ws: WorkspaceId) -> Result<Vec<ApiToken>, StorageError> {
        const SQL: &str =
            select_api_tokens_where!("workspace_id = $1 ORDER BY created_at_ms DESC, id DESC");
        let rows = on_reader!(self, |p| sqlx::query_as::<_, ApiTokenRow>(SQL)
            .bind(ws.0)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(ApiToken::try_from).collect()
    }

    /// Revokes the token from now on (again: nothing changes). `NotFound` if it is not a
    /// token of this workspace.
    pub async fn revoke_api_token(
        &self,
        ws: WorkspaceId,
        id: Uuid,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE api_tokens SET revoked_at_ms = COALESCE(revoked_at_ms, $3) \
             WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(id)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// The live (not revoked) token with this hash, marked as used now; `None` if there is
    /// none.
    pub async fn use_api_token(
        &self,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<ApiToken>, StorageError> {
        const TOUCH: &str = "UPDATE api_tokens SET last_used_at_ms = $2 \
             WHERE token_hash = $1 AND revoked_at_ms IS NULL \
               AND (last_used_at_ms IS NULL OR last_used_at_ms <= $3)";
        const SQL: &str = select_api_tokens_where!("token_hash = $1 AND revoked_at_ms IS NULL");
        let row = on_reader!(self, |p| sqlx::query_as::<_, ApiTokenRow>(SQL)
            .bind(token_hash)
            .fetch_optional(p)
            .await)?;
        let Some(mut token) = row.map(ApiToken::try_from).transpose()? else {
            return Ok(None);
        };
        if token
            .last_used_at_ms
            .is_none_or(|last| last <= now_ms - LAST_USED_GRANULARITY_MS)
        {
            on_writer!(self, |p| sqlx::query(TOUCH)
                .bind(token_hash)
                .bind(now_ms)
                .bind(now_ms - LAST_USED_GRANULARITY_MS)
                .execute(p)
                .await
                .map(|done| done.rows_affected()))?;
            token.last_used_at_ms = Some(now_ms);
        }
        Ok(Some(token))
    }
}

#[cfg(test)]
mod tests {
    use super::ApiScope;

    #[test]
    fn scopes_round_trip_through_their_names() {
        for s in [ApiScope::Read, ApiScope::ReadWrite] {
            assert_eq!(ApiScope::parse(s.as_str()), Some(s));
        }
        assert_eq!(ApiScope::parse("write"), None);
        assert!(!ApiScope::Read.can_write());
        assert!(ApiScope::ReadWrite.can_write());
    }
}
