//! The one error type of the storage interface.

use std::fmt;

use crate::crypto::CryptoError;

#[derive(thiserror::Error)]
pub enum StorageError {
    /// The row does not exist, or belongs to another workspace (the two are never told apart).
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the name says which (e.g. `users_email`).
    #[error("already exists ({0})")]
    Conflict(&'static str),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// PostgreSQL refused a text it cannot store (a NUL byte). Input is checked for this at
    /// the edge; this is the net below that check, so such a text is the caller's error
    /// (a 400), never a failure of the database.
    #[error("a text holds a character the database cannot store (NUL)")]
    InvalidText,
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "unsupported database URL ({0}); use sqlite://path/to/file.db, sqlite::memory: or postgres://…"
    )]
    InvalidUrl(String),
    /// A stored value this version cannot read (an unknown status, broken JSON).
    #[error("the database holds a value this version cannot read: {0}")]
    Corrupt(String),
}

/// SQLSTATE 22021 `character_not_in_repertoire`: what PostgreSQL answers to a NUL in a text.
const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";

impl From<sqlx::Error> for StorageError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db)
                if db.code().as_deref() == Some(CHARACTER_NOT_IN_REPERTOIRE) =>
            {
                Self::InvalidText
            }
            _ => Self::Database(err),
        }
    }
}

impl StorageError {
    /// Turns a unique violation into [`StorageError::Conflict`] with `name`, and a foreign
    /// key violation (a parent row missing, or in another workspace) into `NotFound`.
    pub(crate) fn on_write(name: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(name),
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => Self::NotFound,
            _ => Self::from(err),
        }
    }
}

/// `NotFound` when a scoped UPDATE or DELETE touched no row: the row is not in the workspace.
pub(crate) fn found(rows_affected: u64) -> Result<(), StorageError> {
    if rows_affected == 0 {
        Err(StorageError::NotFound)
    } else {
        Ok(())
    }
}

/// `Debug` walks the cause chain, so a log line shows the driver's message too.
impl fmt::Debug for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        let mut cause = std::error::Error::source(self);
        while let Some(err) = cause {
            write!(f, "\n  caused by: {err}")?;
            cause = err.source();
        }
        Ok(())
    }
}
