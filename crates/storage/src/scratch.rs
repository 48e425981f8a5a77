//! A PostgreSQL database of its own for one run, made on a server and dropped after: what the
//! fleet benchmark runs on, so that it never touches an operator's data. The tests' databases
//! (`testing`, behind a feature) are made the same way.

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::StorageError;

/// A database made by [`ScratchDatabase::create`]; [`ScratchDatabase::drop_now`] removes it.
#[derive(Clone, Debug)]
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    /// The new database's URL: the server's, with the new name.
    pub url: String,
}

impl ScratchDatabase {
    /// A new, empty database named `{prefix}{a UUIDv7}` on the server of `admin_url` (whose
    /// own database is only used to create the new one). `prefix` is lowercase letters, digits
    /// and `_`.
    pub async fn create(admin_url: &str, prefix: &str) -> Result<Self, StorageError> {
        debug_assert!(
            prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "a database name prefix of lowercase letters, digits and _"
        );
        // UUIDv7: the name carries its creation time, which is how stale ones are told.
        let name = format!("{prefix}{}", Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(admin_url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await?;
        let _ = admin.close().await;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            url: with_database(admin_url, &name),
            name,
        })
    }

    /// Drops the database, closing whatever connections are still open on it.
    pub async fn drop_now(self) -> Result<(), StorageError> {
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await?;
        let _ = admin.close().await;
        Ok(())
    }
}

/// `url` with its database replaced by `database` (its query string kept).
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://pg@h:5432/postgres", "mb_test_1"),
            "postgres://pg@h:5432/mb_test_1"
        );
        assert_eq!(
            with_database("postgres://pg@h:5432", "x"),
            "postgres://pg@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
    }
}
