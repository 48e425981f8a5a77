//! Connector accounts: a workspace and its user, and the throttle on password checks.
//! Password hashing is the caller's; this module stores the PHC string as given.

use domain::{Email, UserId, WorkspaceId};
use uuid::Uuid;

use crate::{Storage, StorageError};

/// Password checks (each counted as failed until it succeeds) within [`FAILURE_WINDOW_MS`]
/// that lock the account.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// How far back failed sign-ins count towards the lock.
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// How long a locked account refuses sign-ins.
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub email: String,
    /// The password hash in PHC string form.
    pub password_hash: String,
    pub failed_logins: i64,
    pub locked_until_ms: Option<i64>,
}

/// The answer to a request to check one password against an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginAttempt {
    /// The check may happen; it already counts as a failure until
    /// [`Storage::clear_failed_logins`] releases it. `locks` says whether this attempt used
    /// up the window's last one, so that failing it locks the account.
    Reserved { attempt: i64, locks: bool },
    /// No check may happen before this time.
    Locked { until_ms: i64 },
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: Uuid,
    workspace_id: Uuid,
    email: String,
    password_hash: String,
    failed_logins: i64,
    locked_until_ms: Option<i64>,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        Account {
            user_id: UserId(row.id),
            workspace_id: WorkspaceId(row.workspace_id),
            email: row.email,
            password_hash: row.password_hash,
            failed_logins: row.failed_logins,
            locked_until_ms: row.locked_until_ms,
        }
    }
}

#[derive(sqlx::FromRow)]
struct LockRow {
    failed_logins: i64,
    first_failed_at_ms: Option<i64>,
    locked_until_ms: Option<i64>,
}

impl Storage {
    /// Creates a workspace and its first user in one transaction.
    /// `Conflict("users_email")` if the e-mail address is taken.
    pub async fn create_account(
        &self,
        email: &Email,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<Account, StorageError> {
        const INSERT_WORKSPACE: &str = "INSERT INTO workspaces (id, created_at_ms) VALUES ($1, $2)";
        const INSERT_USER: &str = "INSERT INTO users \
             (id, workspace_id, email, password_hash, failed_logins, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, 0, $5, $5)";
        let workspace_id = WorkspaceId::new();
        let user_id = UserId::new();
        in_transaction!(self, |tx| {
            sqlx::query(INSERT_WORKSPACE)
                .bind(workspace_id.0)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT_USER)
                .bind(user_id.0)
                .bind(workspace_id.0)
                .bind(email.as_str())
                .bind(password_hash)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(StorageError::on_write("users_email"))?;
        });
        Ok(Account {
            user_id,
            workspace_id,
            email: email.as_str().to_owned(),
            password_hash: password_hash.to_owned(),
            failed_logins: 0,
            locked_until_ms: None,
        })
    }

    pub async fn find_account_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<Account>, StorageError> {
        const SQL: &str = "SELECT id, workspace_id, email, password_hash, failed_logins, locked_until_ms \
             FROM users WHERE email = $1";
        let row = on_reader!(self, |p| sqlx::query_as::<_, AccountRow>(SQL)
            .bind(email.as_str())
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Account::from))
    }

    /// The workspace's first user: the one who created it.
    pub async fn workspace_owner(&self, ws: WorkspaceId) -> Result<Option<Account>, StorageError> {
        const SQL: &str = "SELECT id, workspace_id, email, password_hash, failed_logins, locked_until_ms \
             FROM users WHERE workspace_id = $1 ORDER BY created_at_ms, id LIMIT 1";
        let row = on_reader!(self, |p| sqlx::query_as::<_, AccountRow>(SQL)
            .bind(ws.0)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(Account::from))
    }

    /// Reserves one password check for the account, before the password is looked at, so
    /// that concurrent sign-ins cannot check more than [`MAX_FAILED_LOGINS`] passwords per
    /// [`FAILURE_WINDOW_MS`], however many arrive at once. One conditional UPDATE counts the
    /// attempt as a failure, and refuses once the window's attempts are used up or a lock
    /// runs; the attempt that reaches the limit sets the lock. A successful check releases
    /// the count with [`Storage::clear_failed_logins`]. Attempts older than the window start
    /// the count again.
    pub async fn reserve_login_attempt(
        &self,
        user: UserId,
        now_ms: i64,
    ) -> Result<LoginAttempt, StorageError> {
        // Every SET expression and the WHERE see the old row, hence the repeated "is the
        // window over?" test ($2 is the window's start).
        const RESERVE: &str = "UPDATE users SET \
               failed_logins = CASE WHEN first_failed_at_ms IS NULL OR first_failed_at_ms <= $2 \
                   THEN 1 ELSE failed_logins + 1 END, \
               first_failed_at_ms = CASE WHEN first_failed_at_ms IS NULL OR first_failed_at_ms <= $2 \
                   THEN $3 ELSE first_failed_at_ms END, \
               locked_until_ms = CASE \
                   WHEN (CASE WHEN first_failed_at_ms IS NULL OR first_failed_at_ms <= $2 \
                         THEN 1 ELSE failed_logins + 1 END) >= $4 THEN $5 \
                   ELSE NULL END, \
               updated_at_ms = $3 \
             WHERE id = $1 \
               AND (locked_until_ms IS NULL OR locked_until_ms <= $3) \
               AND (first_failed_at_ms IS NULL OR first_failed_at_ms <= $2 OR failed_logins < $4) \
             RETURNING failed_logins";
        const LOCK: &str =
            "SELECT failed_logins, first_failed_at_ms, locked_until_ms FROM users WHERE id = $1";
        let window_start = now_ms.saturating_sub(FAILURE_WINDOW_MS);
        let locked_until = now_ms.saturating_add(LOCKOUT_MS);
        let reserved: Option<i64> = on_writer!(self, |p| sqlx::query_scalar(RESERVE)
            .bind(user.0)
            .bind(window_start)
            .bind(now_ms)
            .bind(MAX_FAILED_LOGINS)
            .bind(locked_until)
            .fetch_optional(p)
            .await)?;
        if let Some(attempt) = reserved {
            return Ok(LoginAttempt::Reserved {
                attempt,
                locks: attempt >= MAX_FAILED_LOGINS,
            });
        }
        let row = on_writer!(self, |p| sqlx::query_as::<_, LockRow>(LOCK)
            .bind(user.0)
            .fetch_optional(p)
            .await)?
        .ok_or(StorageError::NotFound)?;
        // Refused: a lock runs, or (should a lock have been lifted by hand) the window's
        // attempts are used up until the window ends.
        let until_ms = row
            .locked_until_ms
            .filter(|until| *until > now_ms)
            .or_else(|| {
                row.first_failed_at_ms
                    .filter(|_| row.failed_logins >= MAX_FAILED_LOGINS)
                    .map(|first| first + FAILURE_WINDOW_MS)
            })
            .unwrap_or(now_ms);
        Ok(LoginAttempt::Locked { until_ms })
    }

    /// Forgets failed sign-ins and lifts a lock (after a successful sign-in).
    pub async fn clear_failed_logins(&self, user: UserId) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE users SET \
               failed_logins = 0, first_failed_at_ms = NULL, locked_until_ms = NULL \
             WHERE id = $1";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(user.0)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        if rows == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }
}
