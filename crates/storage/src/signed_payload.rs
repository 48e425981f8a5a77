//! Signed payloads used once: a BigCommerce load callback's `signed_payload_jwt` signs its
//! bearer in, so each is taken at most once ([`Storage::use_signed_payload`]). Not workspace
//! data: a payload is taken before anyone knows whose workspace it opens.

use crate::{Storage, StorageError};

/// How long a used payload's id is kept: BigCommerce's payloads live minutes, the sandbox's a
/// day; two days outlives both.
pub const USED_PAYLOAD_KEPT_MS: i64 = 2 * 24 * 3600 * 1000;

impl Storage {
    /// Takes the payload whose `jti` hashes to `jti_hash`: true the first time, false for
    /// every replay, whichever node or request races. Drops the ids older than
    /// [`USED_PAYLOAD_KEPT_MS`] on the way.
    pub async fn use_signed_payload(
        &self,
        jti_hash: &[u8],
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        const PRUNE: &str = "DELETE FROM used_signed_payloads WHERE used_at_ms < $1";
        const TAKE: &str = "INSERT INTO used_signed_payloads (jti_hash, used_at_ms) \
             VALUES ($1, $2) ON CONFLICT (jti_hash) DO NOTHING";
        on_writer!(self, |p| sqlx::query(PRUNE)
            .bind(now_ms - USED_PAYLOAD_KEPT_MS)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        let rows = on_writer!(self, |p| sqlx::query(TAKE)
            .bind(jti_hash)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(rows == 1)
    }
}
