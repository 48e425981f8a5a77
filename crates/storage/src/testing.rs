//! Fresh, migrated databases for tests (cargo feature `testing`), for this crate's conformance
//! suite and for other crates' tests: a new SQLite file, or a new PostgreSQL database on the
//! server named by `MARKETBRIDGE_TEST_POSTGRES_URL`, per call. Each has its own random key.
//!
//! Without that variable the PostgreSQL tests fail rather than pass unseen. Databases and files
//! left by earlier runs are dropped once they are an hour old.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::pool::Pools;
use crate::{Engine, SecretKey, Storage};

/// The variable that names the PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres` (its database is used to create others).
pub const POSTGRES_URL_VAR: &str = "MARKETBRIDGE_TEST_POSTGRES_URL";

/// Test databases older than this belong to finished runs.
const STALE_AFTER: Duration = Duration::from_secs(60 * 60);
/// The tests' databases are named this and a UUIDv7 (their creation time).
pub const DATABASE_PREFIX: &str = "mb_test_";

static POSTGRES_SWEPT: AtomicBool = AtomicBool::new(false);
static SQLITE_SWEPT: AtomicBool = AtomicBool::new(false);

/// The PostgreSQL admin URL for tests. Panics with instructions when the variable is unset.
pub fn test_postgres_url() -> String {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{POSTGRES_URL_VAR} is not set, so the PostgreSQL tests cannot run. \
             Start PostgreSQL and set it, e.g. {POSTGRES_URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres"
        ),
    }
}

/// The URL of a new, empty database on `engine` (a SQLite file that does not exist yet, or a
/// PostgreSQL database just created), for tests that open it more than once.
pub async fn fresh_database_url(engine: Engine) -> String {
    match engine {
        Engine::Sqlite => fresh_sqlite_url(),
        Engine::Postgres => fresh_postgres_url().await,
    }
}

/// A new, migrated database on `engine`, with a random secret key.
pub async fn fresh_storage(engine: Engine) -> Storage {
    let url = fresh_database_url(engine).await;
    let storage = Storage::connect(&url, SecretKey::generate())
        .await
        .unwrap_or_else(|err| panic!("cannot open the test database {url}: {err:?}"));
    storage
        .migrate()
        .await
        .unwrap_or_else(|err| panic!("cannot migrate the test database {url}: {err:?}"));
    storage
}

/// The pool under a [`Storage`], for tests that inspect raw rows (e.g. that a column is sealed).
pub enum RawPool<'a> {
    /// The writer connection of a SQLite database.
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

impl Storage {
    /// Makes every queued job due now: lets a test run work that waits for a backoff or a
    /// budget slot without waiting for the clock.
    pub async fn make_queued_jobs_due(&self) -> u64 {
        const SQL: &str = "UPDATE jobs SET run_at_ms = 0 WHERE status = 'queued'";
        let done = match &self.pools {
            Pools::Sqlite { writer, .. } => sqlx::query(SQL)
                .execute(writer)
                .await
                .map(|d| d.rows_affected()),
            Pools::Postgres(pool) => sqlx::query(SQL)
                .execute(pool)
                .await
                .map(|d| d.rows_affected()),
        };
        done.expect("update the test jobs")
    }

    /// Rows of `ws` in every table that has a `workspace_id` column, walking the database's
    /// own catalogue: what a test checks after a Disconnect, so a table added later cannot be
    /// forgotten.
    pub async fn rows_per_workspace_table(&self, ws: domain::WorkspaceId) -> Vec<(String, i64)> {
        let mut counts = Vec::new();
        for table in self
            .workspace_tables()
            .await
            .expect("list the workspace tables")
        {
            assert!(
                table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "table names come from the catalogue: {table}"
            );
            // The name comes from the database's catalogue, never from input.
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = $1");
            let n: Result<i64, _> = match &self.pools {
                Pools::Sqlite { writer, .. } => {
                    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .bind(ws.0)
                        .fetch_one(writer)
                        .await
                }
                Pools::Postgres(pool) => {
                    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .bind(ws.0)
                        .fetch_one(pool)
                        .await
                }
            };
            counts.push((table, n.expect("count the workspace's rows")));
        }
        counts
    }

    /// How many jobs wait in the queue (due or not).
    pub async fn queued_jobs(&self) -> i64 {
        const SQL: &str = "SELECT COUNT(*) FROM jobs WHERE status = 'queued'";
        let n: Result<i64, _> = match &self.pools {
            Pools::Sqlite { writer, .. } => sqlx::query_scalar(SQL).fetch_one(writer).await,
            Pools::Postgres(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await,
        };
        n.expect("count the test jobs")
    }

    /// The jobs not finished yet: queued (due or not) or running, soonest first. Done and
    /// dead jobs are not in it.
    pub async fn unfinished_jobs(&self) -> Vec<crate::Job> {
        const SQL: &str = "SELECT id FROM jobs WHERE status IN ('queued', 'running') \
             ORDER BY run_at_ms, id";
        let ids: Result<Vec<Uuid>, _> = match &self.pools {
            Pools::Sqlite { writer, .. } => sqlx::query_scalar(SQL).fetch_all(writer).await,
            Pools::Postgres(pool) => sqlx::query_scalar(SQL).fetch_all(pool).await,
        };
        let mut jobs = Vec::new();
        for id in ids.expect("list the unfinished test jobs") {
            // A job that ended meanwhile is no longer unfinished.
            let job = self.get_job(domain::JobId(id)).await;
            jobs.extend(job.expect("read an unfinished test job").filter(|job| {
                matches!(
                    job.status,
                    crate::JobStatus::Queued | crate::JobStatus::Running
                )
            }));
        }
        jobs
    }

    pub fn raw_pool(&self) -> RawPool<'_> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => RawPool::Sqlite(writer),
            Pools::Postgres(pool) => RawPool::Postgres(pool),
        }
    }
}

fn fresh_sqlite_url() -> String {
    let dir = std::env::temp_dir().join("marketbridge-storage-tests");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
    if !SQLITE_SWEPT.swap(true, Ordering::SeqCst) {
        remove_stale_files(&dir);
    }
    let path: PathBuf = dir.join(format!("{}.db", Uuid::now_v7().simple()));
    format!("sqlite://{}", path.display())
}

fn remove_stale_files(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let modified = entry.metadata().and_then(|m| m.modified()).ok();
        let age = modified.and_then(|m| SystemTime::now().duration_since(m).ok());
        if age.is_some_and(|age| age > STALE_AFTER) {
            // Best effort: a file another process still uses is simply left for the next sweep.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

async fn fresh_postgres_url() -> String {
    let admin_url = test_postgres_url();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|err| panic!("cannot connect to {POSTGRES_URL_VAR} ({admin_url}): {err}"));
    if !POSTGRES_SWEPT.swap(true, Ordering::SeqCst) {
        drop_stale_databases(&mut admin).await;
    }
    let _ = admin.close().await;
    // Named by its creation time (UUIDv7), which is how stale databases are found.
    crate::scratch::ScratchDatabase::create(&admin_url, DATABASE_PREFIX)
        .await
        .unwrap_or_else(|err| panic!("cannot create a test database on {admin_url}: {err:?}"))
        .url
}

async fn drop_stale_databases(admin: &mut PgConnection) {
    const LIST: &str = "SELECT datname::TEXT FROM pg_database WHERE datname LIKE 'mb\\_test\\_%'";
    let Ok(names) = sqlx::query_scalar::<_, String>(LIST)
        .fetch_all(&mut *admin)
        .await
    else {
        return;
    };
    for name in names {
        let created = name
            .strip_prefix(DATABASE_PREFIX)
            .and_then(|id| Uuid::parse_str(id).ok())
            .and_then(|id| id.get_timestamp())
            .map(|ts| {
                let (secs, nanos) = ts.to_unix();
                SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
            });
        let stale = created
            .and_then(|at| SystemTime::now().duration_since(at).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if stale {
            // Best effort: a database still in use refuses to go and waits for the next sweep.
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name}"
            )))
            .execute(&mut *admin)
            .await;
        }
    }
}
