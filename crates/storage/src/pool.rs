//! Connections to SQLite or PostgreSQL, and the macros that run one query text on either.
//!
//! Every statement is written once; the macros below expand the same body for each pool type,
//! so `sqlx` binds and decodes with the concrete driver (no `Any`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::StorageError;

/// Which database a [`crate::Storage`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// How long a SQLite connection waits for another process's write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections to a SQLite file; WAL lets them read while the writer writes.
const SQLITE_READERS: u32 = 8;
const POSTGRES_MAX_CONNECTIONS: u32 = 10;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Clone, Debug)]
pub(crate) enum Pools {
    /// All writes go through `writer`, a pool of one connection: writers queue in the process
    /// instead of meeting `SQLITE_BUSY` when a read lock has to become a write lock. Reads use
    /// `reader` (`query_only`, so a write sent there by mistake fails loudly). For an in-memory
    /// database both are the same single connection.
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
    },
    Postgres(PgPool),
}

/// `on_reader!(storage, |p| body)`: runs `body` with `p` bound to the pool for reads.
macro_rules! on_reader {
    ($storage:expr, |$p:ident| $body:expr) => {
        match &$storage.pools {
            $crate::pool::Pools::Sqlite { reader: $p, .. } => $body,
            $crate::pool::Pools::Postgres($p) => $body,
        }
    };
}

/// `on_writer!(storage, |p| body)`: runs `body` with `p` bound to the pool for single-statement
/// writes (each statement commits on its own).
macro_rules! on_writer {
    ($storage:expr, |$p:ident| $body:expr) => {
        match &$storage.pools {
            $crate::pool::Pools::Sqlite { writer: $p, .. } => $body,
            $crate::pool::Pools::Postgres($p) => $body,
        }
    };
}

/// `in_transaction!(storage, |tx| body)`: runs `body` in one write transaction and commits it.
/// Leaving early (`?` or `return`) drops the transaction, which rolls it back.
macro_rules! in_transaction {
    ($storage:expr, |$tx:ident| $body:expr) => {
        match &$storage.pools {
            $crate::pool::Pools::Sqlite { writer, .. } => {
                // IMMEDIATE takes the write lock up front, so another process cannot make the
                // transaction fail half way when its first write upgrades the lock.
                let mut $tx = writer.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::pool::Pools::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

impl Pools {
    pub(crate) async fn connect(database_url: &str) -> Result<Self, StorageError> {
        if database_url.starts_with("sqlite:") {
            connect_sqlite(database_url).await
        } else if database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://")
        {
            let pool = PgPoolOptions::new()
                .max_connections(POSTGRES_MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect(database_url)
                .await?;
            Ok(Self::Postgres(pool))
        } else {
            // Only the scheme: the rest of a URL may hold a password.
            let scheme = database_url
                .split_once(':')
                .map_or("no scheme", |(scheme, _)| scheme);
            Err(StorageError::InvalidUrl(scheme.to_owned()))
        }
    }

    pub(crate) fn engine(&self) -> Engine {
        match self {
            Self::Sqlite { .. } => Engine::Sqlite,
            Self::Postgres(_) => Engine::Postgres,
        }
    }
}

async fn connect_sqlite(database_url: &str) -> Result<Pools, StorageError> {
    let options = SqliteConnectOptions::from_str(database_url)?
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        .synchronous(SqliteSynchronous::Normal);

    if database_url.contains(":memory:") || database_url.contains("mode=memory") {
        // An in-memory database lives as long as its connection: keep exactly one, forever.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        return Ok(Pools::Sqlite {
            reader: pool.clone(),
            writer: pool,
        });
    }

    // The writer connects first: it creates the file and switches it to WAL for everyone.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(
            options
                .clone()
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal),
        )
        .await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(SQLITE_READERS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.pragma("query_only", "ON"))
        .await?;
    Ok(Pools::Sqlite { reader, writer })
}
