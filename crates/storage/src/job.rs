//! The lease job queue. A worker claims a job with a lease and commits at once (no lock held
//! while the job runs), extends the lease with heartbeats, and completes or fails it; a reaper
//! requeues jobs whose worker vanished. Failures back off exponentially and end in the dead
//! letter status after `max_attempts`. At most one job runs per (workspace, flow, lane) — a
//! job without a lane takes the whole flow's — and a dedupe key admits one live (queued or
//! running) job.

use std::sync::Arc;

use domain::{JobId, WorkspaceId};
use uuid::Uuid;

use crate::pool::Pools;
use crate::{Storage, StorageError};

/// The first retry waits this long; each further one twice as long as the one before.
pub const BACKOFF_BASE_MS: i64 = 1_000;
/// No retry waits longer than this.
pub const BACKOFF_CAP_MS: i64 = 60 * 60 * 1_000;

/// The wait before retrying a job that has failed `attempts` times:
/// `BACKOFF_BASE_MS * 2^(attempts - 1)`, at most `BACKOFF_CAP_MS`.
pub fn backoff_ms(attempts: i32) -> i64 {
    // Past 2^22 the cap has long been reached; clamping keeps the shift in range.
    let doublings = attempts.saturating_sub(1).clamp(0, 22) as u32;
    BACKOFF_BASE_MS
        .saturating_mul(1_i64 << doublings)
        .min(BACKOFF_CAP_MS)
}

domain::named_enum! {
    /// Where a job stands in the queue (the SQL of this module and the migrations use these
    /// names).
    pub enum JobStatus {
        Queued = "queued",
        Running = "running",
        Done = "done",
        /// Out of attempts: kept for inspection, never run again.
        Dead = "dead",
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    /// `None` for work that belongs to no workspace (housekeeping).
    pub workspace_id: Option<WorkspaceId>,
    pub flow: String,
    pub payload: serde_json::Value,
    /// Admits one live job per key, across workspaces: put the workspace or channel id in it.
    pub dedupe_key: Option<String>,
    /// Jobs of one workspace and flow run one at a time, or, with a lane, one at a time per
    /// lane (e.g. per order), so different lanes run side by side.
    pub lane: Option<String>,
    pub run_at_ms: i64,
    pub max_attempts: i32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub workspace_id: Option<WorkspaceId>,
    pub flow: String,
    pub payload: serde_json::Value,
    pub dedupe_key: Option<String>,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at_ms: i64,
    pub lease_until_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// What [`Storage::fail_job`] did with the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobFailure {
    /// Queued again, to run at `run_at_ms`.
    Retrying { run_at_ms: i64 },
    /// Out of attempts: moved to the dead letter status.
    Dead,
    /// The worker no longer held the lease (it expired and was reaped or claimed again);
    /// nothing was written.
    LeaseLost,
}

/// The columns of [`JobRow`], for `SELECT` and `RETURNING`.
macro_rules! job_columns {
    () => {
        "id, workspace_id, flow, payload, dedupe_key, status, attempts, max_attempts, run_at_ms, \
         lease_until_ms, last_error"
    };
}
pub(crate) use job_columns;

/// The claim, written once; `$lock` is the PostgreSQL row-locking clause.
/// $1 worker, $2 now, $3 lease end.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until_ms = $3, ",
            "attempts = attempts + 1, updated_at_ms = $2 ",
            "WHERE status = 'queued' AND id = (",
            "SELECT j.id FROM jobs j WHERE j.status = 'queued' AND j.run_at_ms <= $2 ",
            "AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.status = 'running' AND r.flow = j.flow ",
            "AND r.workspace_id IS NOT DISTINCT FROM j.workspace_id ",
            "AND r.lane IS NOT DISTINCT FROM j.lane AND r.lease_until_ms >= $2) ",
            "ORDER BY j.run_at_ms, j.id LIMIT 1 ",
            $lock,
            ") RETURNING ",
            job_columns!()
        )
    };
}

/// Queues a job; `None` back when a live job holds its dedupe key. `DO NOTHING` without a
/// target covers the partial unique index on live dedupe keys.
pub(crate) const INSERT_JOB: &str = "INSERT INTO jobs \
     (id, workspace_id, flow, payload, dedupe_key, status, attempts, max_attempts, run_at_ms, \
      created_at_ms, updated_at_ms, lane) \
     VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $8, $8, $9) \
     ON CONFLICT DO NOTHING RETURNING id";

/// `insert_job!(executor, &NewJob, now_ms)`: runs [`INSERT_JOB`] with the job's binds on a pool
/// or an open transaction of either engine, giving `Result<Option<Uuid>, sqlx::Error>`. Written
/// once for [`Storage::enqueue_job`] and for writes that queue their job in their own
/// transaction.
macro_rules! insert_job {
    ($executor:expr, $job:expr, $now_ms:expr) => {{
        let job: &$crate::job::NewJob = $job;
        sqlx::query_scalar::<_, uuid::Uuid>($crate::job::INSERT_JOB)
            .bind(domain::JobId::new().0)
            .bind(job.workspace_id.map(|w| w.0))
            .bind(&job.flow)
            .bind(job.payload.to_string())
            .bind(job.dedupe_key.as_deref())
            .bind(job.max_attempts)
            .bind(job.run_at_ms)
            .bind($now_ms)
            .bind(job.lane.as_deref())
            .fetch_optional($executor)
            .await
    }};
}
pub(crate) use insert_job;

/// Key of the PostgreSQL advisory lock that makes claims take turns (see `claim_job`).
const CLAIM_LOCK_KEY: i64 = 0x6d62_6a6f_6273; // "mbjobs"

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: Uuid,
    workspace_id: Option<Uuid>,
    flow: String,
    payload: String,
    dedupe_key: Option<String>,
    status: String,
    attempts: i32,
    max_attempts: i32,
    run_at_ms: i64,
    lease_until_ms: Option<i64>,
    last_error: Option<String>,
}

impl TryFrom<JobRow> for Job {
    type Error = StorageError;

    fn try_from(row: JobRow) -> Result<Self, StorageError> {
        let status = JobStatus::parse(&row.status).ok_or_else(|| {
            StorageError::Corrupt(format!("job {}: status {:?}", row.id, row.status))
        })?;
        let payload = serde_json::from_str(&row.payload).map_err(|err| {
            StorageError::Corrupt(format!("job {}: payload is not JSON ({err})", row.id))
        })?;
        Ok(Job {
            id: JobId(row.id),
            workspace_id: row.workspace_id.map(WorkspaceId),
            flow: row.flow,
            payload,
            dedupe_key: row.dedupe_key,
            status,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            run_at_ms: row.run_at_ms,
            lease_until_ms: row.lease_until_ms,
            last_error: row.last_error,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttemptsRow {
    attempts: i32,
    max_attempts: i32,
}

impl Storage {
    /// Changes whenever a job is queued, or finished, released or failed (which may free its
    /// (workspace, flow) for a waiting job): a worker waits on it between polls. By this
    /// process, and on PostgreSQL by any process on the database too: the first call starts
    /// listening for their notices (a notice lost while the listener reconnects only costs the
    /// worker its next poll).
    pub fn job_events(&self) -> tokio::sync::watch::Receiver<u64> {
        if let Pools::Postgres(pool) = &self.pools {
            self.job_listener.get_or_init(|| {
                ListenerTask(tokio::spawn(listen_for_jobs(
                    pool.clone(),
                    Arc::downgrade(&self.jobs_changed),
                )))
            });
        }
        self.jobs_changed.subscribe()
    }

    /// Wakes this process's workers, and on PostgreSQL every other process's.
    pub(crate) async fn jobs_changed(&self) {
        bump(&self.jobs_changed);
        if let Pools::Postgres(pool) = &self.pools {
            // The change is committed: a notice sent now cannot arrive before it is visible.
            if let Err(e) = sqlx::query("SELECT pg_notify($1, '')")
                .bind(JOBS_CHANNEL)
                .execute(pool)
                .await
            {
                tracing::warn!(error = %e, "could not notify the other processes of a job change");
            }
        }
    }

    /// When the next queued job is due (it may be due already and wait for its flow's turn).
    pub async fn next_job_due_ms(&self) -> Result<Option<i64>, StorageError> {
        const SQL: &str = "SELECT MIN(run_at_ms) FROM jobs WHERE status = 'queued'";
        Ok(on_reader!(self, |p| sqlx::query_scalar::<_, Option<i64>>(
            SQL
        )
        .fetch_one(p)
        .await)?)
    }

    /// Queues a job. `None` when a live job with the same dedupe key exists already;
    /// `NotFound` if the workspace does not exist.
    pub async fn enqueue_job(&self, job: &NewJob) -> Result<Option<JobId>, StorageError> {
        let id = on_writer!(self, |p| insert_job!(p, job, crate::now_ms()))
            .map_err(StorageError::on_write("jobs_live_dedupe_key"))?;
        if id.is_some() {
            self.jobs_changed().await;
        }
        Ok(id.map(JobId))
    }

    /// Claims the oldest due queued job whose (workspace, flow) has no job running under an
    /// unexpired lease: status running, lease until `now_ms + lease_ms`, one more attempt.
    /// Committed before it returns, so the worker holds no lock while the job runs.
    pub async fn claim_job(
        &self,
        worker: Uuid,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Job>, StorageError> {
        const CLAIM_SQLITE: &str = claim_sql!("");
        const CLAIM_POSTGRES: &str = claim_sql!("FOR UPDATE OF j SKIP LOCKED");
        const TAKE_TURN: &str = "SELECT pg_advisory_xact_lock($1)";
        let lease_until = now_ms.saturating_add(lease_ms);
        let row = match &self.pools {
            // One statement on the single writer connection: SQLite runs it alone.
            Pools::Sqlite { writer, .. } => {
                sqlx::query_as::<_, JobRow>(CLAIM_SQLITE)
                    .bind(worker)
                    .bind(now_ms)
                    .bind(lease_until)
                    .fetch_optional(writer)
                    .await?
            }
            // SKIP LOCKED alone stops two workers from taking the same row, but two concurrent
            // claims would not see each other's uncommitted running job and could start two
            // jobs of one (workspace, flow). Claims therefore take turns on an advisory lock,
            // held until commit; each claim is one short statement.
            Pools::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(TAKE_TURN)
                    .bind(CLAIM_LOCK_KEY)
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query_as::<_, JobRow>(CLAIM_POSTGRES)
                    .bind(worker)
                    .bind(now_ms)
                    .bind(lease_until)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                row
            }
        };
        row.map(Job::try_from).transpose()
    }

    /// Extends the lease; false if `worker` no longer holds it.
    pub async fn heartbeat_job(
        &self,
        id: JobId,
        worker: Uuid,
        lease_until_ms: i64,
    ) -> Result<bool, StorageError> {
        const SQL: &str = "UPDATE jobs SET lease_until_ms = $3 \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(id.0)
            .bind(worker)
            .bind(lease_until_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(rows > 0)
    }

    /// Marks the job done; false if `worker` no longer holds its lease.
    pub async fn complete_job(
        &self,
        id: JobId,
        worker: Uuid,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        const SQL: &str = "UPDATE jobs SET status = 'done', lease_until_ms = NULL, last_error = NULL, \
             updated_at_ms = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'running'";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(id.0)
            .bind(worker)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        self.jobs_changed().await;
        Ok(rows > 0)
    }

    /// Puts a running job back in the queue to run at `run_at_ms`, without counting an
    /// attempt: it waits for something (a call budget, an import still running), it did not
    /// fail. False if `worker` no longer holds its lease.
    pub async fn release_job(
        &self,
        id: JobId,
        worker: Uuid,
        run_at_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        const SQL: &str = "UPDATE jobs SET status = 'queued', run_at_ms = $3, lease_until_ms = NULL, \
             lease_owner = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
             updated_at_ms = $4 WHERE id = $1 AND lease_owner = $2 AND status = 'running'";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(id.0)
            .bind(worker)
            .bind(run_at_ms)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        self.jobs_changed().await;
        Ok(rows > 0)
    }

    /// Puts every job `worker` still runs back in the queue, due at `now_ms`, without counting
    /// the attempt: what a worker does as it stops, so that another node takes its jobs at
    /// once instead of after their leases expire. Returns how many.
    pub async fn release_worker_leases(
        &self,
        worker: Uuid,
        now_ms: i64,
    ) -> Result<u64, StorageError> {
        const SQL: &str = "UPDATE jobs SET status = 'queued', run_at_ms = $2, lease_until_ms = NULL, \
             lease_owner = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
             updated_at_ms = $2 WHERE lease_owner = $1 AND status = 'running'";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(worker)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        if rows > 0 {
            self.jobs_changed().await;
        }
        Ok(rows)
    }

    /// Records the failure and queues the job again after [`backoff_ms`], or moves it to the
    /// dead letter status when it has used all its attempts.
    pub async fn fail_job(
        &self,
        id: JobId,
        worker: Uuid,
        error: &str,
        now_ms: i64,
    ) -> Result<JobFailure, StorageError> {
        const ATTEMPTS: &str = "SELECT attempts, max_attempts FROM jobs \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'";
        // `attempts = $3` guards against a reap and a new claim between the two statements.
        const FAIL: &str = "UPDATE jobs SET \
               status = $4, run_at_ms = COALESCE($5, run_at_ms), last_error = $6, \
             lease_until_ms = NULL, updated_at_ms = $7 \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running' AND attempts = $3";
        let failure = in_transaction!(self, |tx| {
            let row = sqlx::query_as::<_, AttemptsRow>(ATTEMPTS)
                .bind(id.0)
                .bind(worker)
                .fetch_optional(&mut *tx)
                .await?;
            match row {
                None => JobFailure::LeaseLost,
                Some(AttemptsRow {
                    attempts,
                    max_attempts,
                }) => {
                    let failure = if attempts >= max_attempts {
                        JobFailure::Dead
                    } else {
                        JobFailure::Retrying {
                            run_at_ms: now_ms.saturating_add(backoff_ms(attempts)),
                        }
                    };
                    let (status, run_at) = match failure {
                        JobFailure::Retrying { run_at_ms } => (JobStatus::Queued, Some(run_at_ms)),
                        _ => (JobStatus::Dead, None),
                    };
                    let done = sqlx::query(FAIL)
                        .bind(id.0)
                        .bind(worker)
                        .bind(attempts)
                        .bind(status.as_str())
                        .bind(run_at)
                        .bind(error)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() > 0 {
                        failure
                    } else {
                        JobFailure::LeaseLost
                    }
                }
            }
        });
        self.jobs_changed().await;
        Ok(failure)
    }

    /// Moves a running job of this worker's straight to the dead letter status with `error`:
    /// a job that can never run (its payload no longer reads). Retrying it would only fail
    /// again. Returns false when the worker no longer held its lease.
    pub async fn bury_job(
        &self,
        id: JobId,
        worker: Uuid,
        error: &str,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        const SQL: &str = "UPDATE jobs SET status = 'dead', last_error = $3, \
             lease_until_ms = NULL, updated_at_ms = $4 \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(id.0)
            .bind(worker)
            .bind(error)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        self.jobs_changed().await;
        Ok(rows > 0)
    }

    /// Running jobs whose lease expired before `now_ms` (their worker stopped heartbeating) go
    /// back to the queue, or to the dead letter status if out of attempts. Returns how many.
    pub async fn reap_expired_leases(&self, now_ms: i64) -> Result<u64, StorageError> {
        const SQL: &str = "UPDATE jobs SET \
               status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
               lease_until_ms = NULL, last_error = $2, updated_at_ms = $1 \
             WHERE status = 'running' AND lease_until_ms < $1";
        const LEASE_EXPIRED: &str = "lease expired: the worker stopped before finishing the job";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(now_ms)
            .bind(LEASE_EXPIRED)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(rows)
    }

    pub async fn get_job(&self, id: JobId) -> Result<Option<Job>, StorageError> {
        const SQL: &str = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1");
        let row = on_reader!(self, |p| sqlx::query_as::<_, JobRow>(SQL)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.map(Job::try_from).transpose()
    }
}

/// The PostgreSQL channel job changes are announced on.
const JOBS_CHANNEL: &str = "marketbridge_jobs";

fn bump(events: &tokio::sync::watch::Sender<u64>) {
    events.send_modify(|n| *n = n.wrapping_add(1));
}

/// The listener's task, stopped when the last [`Storage`] handle goes.
pub(crate) struct ListenerTask(tokio::task::JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Bumps `events` for every job notice on the database, until `events` is gone. A lost
/// connection is opened again after a pause; meanwhile workers find jobs by polling.
async fn listen_for_jobs(
    pool: sqlx::PgPool,
    events: std::sync::Weak<tokio::sync::watch::Sender<u64>>,
) {
    const PAUSE: std::time::Duration = std::time::Duration::from_secs(5);
    loop {
        let listening = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(JOBS_CHANNEL).await?;
            // Whatever changed while no one listened is found by the next claim.
            if let Some(events) = events.upgrade() {
                bump(&events);
            }
            loop {
                listener.recv().await?;
                let Some(events) = events.upgrade() else {
                    return Ok::<_, sqlx::Error>(());
                };
                bump(&events);
            }
        };
        match listening.await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "lost the job notices of other processes; polling until they are back");
            }
        }
        tokio::time::sleep(PAUSE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_an_hour() {
        assert_eq!(backoff_ms(1), 1_000);
        assert_eq!(backoff_ms(2), 2_000);
        assert_eq!(backoff_ms(3), 4_000);
        assert_eq!(backoff_ms(12), 2_048_000);
        assert_eq!(backoff_ms(13), BACKOFF_CAP_MS);
        assert_eq!(backoff_ms(i32::MAX), BACKOFF_CAP_MS);
        assert_eq!(backoff_ms(0), 1_000);
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Dead,
        ] {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobStatus::parse("paused"), None);
    }
}
