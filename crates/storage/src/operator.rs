//! What an operator asks of the whole database, across workspaces: the queue per flow, the
//! dead letter (list, retry, drop), the channels and shops that need someone, the orders not
//! yet in their shop, and whether the schema is the one this binary expects. Read by
//! `marketbridge status` and `marketbridge jobs`, and by `/readyz`.
//!
//! Unlike the rest of this crate these queries are not scoped by workspace: only operators'
//! commands call them, never a seller's request.

use domain::{ChannelId, ChannelStatus, JobId, OrderId, ShopHealth, ShopId, WorkspaceId};
use uuid::Uuid;

use crate::job::{JobRow, JobStatus, job_columns};
use crate::pool::{POSTGRES_MIGRATIONS, Pools, SQLITE_MIGRATIONS};
use crate::{Job, Storage, StorageError};

/// One flow's jobs in the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowQueue {
    pub flow: String,
    /// Waiting, due or not.
    pub queued: i64,
    /// Waiting and due now: work the workers have not reached yet.
    pub due: i64,
    pub running: i64,
    /// Running under a lease that has run out: their worker stopped without a word. A live
    /// worker's housekeeping queues them again; if the count stays, no worker is alive.
    pub lease_expired: i64,
    pub dead: i64,
    /// When the longest-waiting due job became due: how far behind the workers are.
    pub oldest_due_ms: Option<i64>,
}

/// Which dead jobs a command is about. Empty: all of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeadJobsFilter {
    pub flow: Option<String>,
    pub workspace_id: Option<WorkspaceId>,
}

/// A job in the dead letter, with when it got there.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadJob {
    pub job: Job,
    pub died_at_ms: i64,
}

/// What [`Storage::retry_dead_job`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadJobRetry {
    /// Queued again, due now, with all its attempts.
    Queued,
    /// A live job with the same dedupe key (the same work) is queued or running already: the
    /// dead one was dropped rather than run twice.
    CoveredByLiveJob(JobId),
    /// The job is not dead (a retry already took it, or it never died): nothing was changed.
    NotDead(JobStatus),
}

/// What [`Storage::retry_dead_jobs`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeadJobsRetried {
    /// Queued again, due now.
    pub queued: u64,
    /// Dropped because a live job, or a newer dead one being retried, does the same work.
    pub covered: u64,
}

/// What [`Storage::drop_dead_job`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadJobDrop {
    Dropped,
    /// Only dead jobs are dropped: nothing was changed.
    NotDead(JobStatus),
}

/// Why a channel or a shop needs someone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttentionReason {
    /// Mirakl refused the refresh token: only the seller can fix it, by connecting again.
    ReauthorizationNeeded,
    /// The last token renewal failed; the connector keeps trying.
    TokenRenewalFailing,
    /// A flow recorded a problem on the channel.
    ChannelError,
    /// The shop did not answer its last health check.
    ShopUnreachable,
    /// The shop refused the connector's keys.
    ShopKeysRefused,
}

impl AttentionReason {
    /// The stable name scripts read (`--json`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReauthorizationNeeded => "reauthorization_needed",
            Self::TokenRenewalFailing => "token_renewal_failing",
            Self::ChannelError => "channel_error",
            Self::ShopUnreachable => "shop_unreachable",
            Self::ShopKeysRefused => "shop_keys_refused",
        }
    }
}

/// What needs attention: a channel, or the workspace's shop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttentionSubject {
    Channel { id: ChannelId, name: String },
    Shop { id: ShopId, store_url: String },
}

/// A channel or a shop that needs someone, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedsAttention {
    pub workspace_id: WorkspaceId,
    pub subject: AttentionSubject,
    pub reason: AttentionReason,
    /// The error as recorded, when there is one.
    pub detail: Option<String>,
    /// When the subject last changed (about when the problem was recorded).
    pub since_ms: i64,
}

/// A workspace's orders that have no shop order yet and are not finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingOrders {
    pub workspace_id: WorkspaceId,
    pub not_in_shop: i64,
    /// Of those, how many wait for the seller (a failed step, an acceptance to decide).
    pub attention: i64,
    pub oldest_imported_at_ms: i64,
}

/// The order that has waited longest for its shop order, across workspaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OldestPendingOrder {
    pub workspace_id: WorkspaceId,
    pub order_id: OrderId,
    pub channel_id: ChannelId,
    pub mirakl_order_id: String,
    pub imported_at_ms: i64,
    pub attention: Option<String>,
}

/// How the database's schema compares with the migrations embedded in this binary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaState {
    /// Embedded migrations not applied yet (version, description): run `marketbridge migrate`.
    pub missing: Vec<(i64, String)>,
    /// Migrations that were started and failed part way (versions).
    pub failed: Vec<i64>,
    /// Applied migrations whose text differs from this binary's (versions).
    pub changed: Vec<i64>,
    /// Applied migrations this binary does not know: a newer release migrated the database.
    pub unknown: Vec<i64>,
}

impl SchemaState {
    /// Whether this binary can run on the database as it is.
    pub fn is_current(&self) -> bool {
        self.problem().is_none()
    }

    /// What keeps this binary from running on the database, in words, or `None`.
    pub fn problem(&self) -> Option<String> {
        if let Some((version, description)) = self.missing.first() {
            return Some(format!(
                "the database lacks {} migration(s) of this release (first: {version} \
                 {description}): run `marketbridge migrate`",
                self.missing.len()
            ));
        }
        if let Some(version) = self.failed.first() {
            return Some(format!(
                "migration {version} failed part way: repair the database, then run \
                 `marketbridge migrate`"
            ));
        }
        self.changed.first().map(|version| {
            format!(
                "migration {version} as applied differs from this release's: the database \
                 was migrated by another build"
            )
        })
    }
}

#[derive(sqlx::FromRow)]
struct FlowQueueRow {
    flow: String,
    queued: i64,
    due: i64,
    running: i64,
    lease_expired: i64,
    dead: i64,
    oldest_due_ms: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct DeadJobRow {
    #[sqlx(flatten)]
    job: JobRow,
    updated_at_ms: i64,
}

#[derive(sqlx::FromRow)]
struct ChannelAttentionRow {
    workspace_id: Uuid,
    id: Uuid,
    name: String,
    status: String,
    last_error: Option<String>,
    last_refresh_error: Option<String>,
    updated_at_ms: i64,
}

#[derive(sqlx::FromRow)]
struct ShopAttentionRow {
    workspace_id: Uuid,
    id: Uuid,
    store_url: String,
    health: String,
    last_error: Option<String>,
    health_checked_at_ms: i64,
}

#[derive(sqlx::FromRow)]
struct PendingOrdersRow {
    workspace_id: Uuid,
    not_in_shop: i64,
    attention: i64,
    oldest_imported_at_ms: i64,
}

#[derive(sqlx::FromRow)]
struct OldestOrderRow {
    workspace_id: Uuid,
    id: Uuid,
    channel_id: Uuid,
    mirakl_order_id: String,
    created_at_ms: i64,
    attention: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AppliedMigrationRow {
    version: i64,
    success: bool,
    checksum: Vec<u8>,
}

/// The (flow, workspace) condition of the dead letter commands, on `jobs`; $1 flow, $2
/// workspace, either NULL for all.
macro_rules! dead_where {
    () => {
        "status = 'dead' AND ($1 IS NULL OR flow = $1) AND ($2 IS NULL OR workspace_id = $2)"
    };
}

impl Storage {
    /// The queue per flow, sorted by flow: jobs queued, due, running and dead. Flows with only
    /// finished jobs are left out.
    pub async fn queue_counts(&self, now_ms: i64) -> Result<Vec<FlowQueue>, StorageError> {
        const SQL: &str = "SELECT flow, \
               COUNT(CASE WHEN status = 'queued' THEN 1 END) AS queued, \
               COUNT(CASE WHEN status = 'queued' AND run_at_ms <= $1 THEN 1 END) AS due, \
               COUNT(CASE WHEN status = 'running' THEN 1 END) AS running, \
               COUNT(CASE WHEN status = 'running' AND lease_until_ms < $1 THEN 1 END) AS lease_expired, \
               COUNT(CASE WHEN status = 'dead' THEN 1 END) AS dead, \
               MIN(CASE WHEN status = 'queued' AND run_at_ms <= $1 THEN run_at_ms END) AS oldest_due_ms \
             FROM jobs WHERE status IN ('queued', 'running', 'dead') GROUP BY flow ORDER BY flow";
        let rows = on_reader!(self, |p| sqlx::query_as::<_, FlowQueueRow>(SQL)
            .bind(now_ms)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|r| FlowQueue {
                flow: r.flow,
                queued: r.queued,
                due: r.due,
                running: r.running,
                lease_expired: r.lease_expired,
                dead: r.dead,
                oldest_due_ms: r.oldest_due_ms,
            })
            .collect())
    }

    /// Dead jobs matching `filter`, the most recently dead first, at most `limit`.
    pub async fn dead_jobs(
        &self,
        filter: &DeadJobsFilter,
        limit: i64,
    ) -> Result<Vec<DeadJob>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            job_columns!(),
            ", updated_at_ms FROM jobs WHERE ",
            dead_where!(),
            " ORDER BY updated_at_ms DESC, id LIMIT $3"
        );
        let rows = on_reader!(self, |p| sqlx::query_as::<_, DeadJobRow>(SQL)
            .bind(filter.flow.as_deref())
            .bind(filter.workspace_id.map(|w| w.0))
            .bind(limit.max(0))
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|row| {
                Ok(DeadJob {
                    job: Job::try_from(row.job)?,
                    died_at_ms: row.updated_at_ms,
                })
            })
            .collect()
    }

    /// Every job in `status`, oldest first (by id, UUIDv7), at most `limit`: what a test or a
    /// benchmark of many nodes checks (the jobs a killed node held, the jobs run twice).
    pub async fn jobs_in_status(
        &self,
        status: JobStatus,
        limit: i64,
    ) -> Result<Vec<Job>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE status = $1 ORDER BY id LIMIT $2"
        );
        let rows = on_reader!(self, |p| sqlx::query_as::<_, JobRow>(SQL)
            .bind(status.as_str())
            .bind(limit.max(0))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(Job::try_from).collect()
    }

    /// The running jobs, each with the worker that holds its lease, oldest first: which jobs a
    /// node held when it died.
    pub async fn running_job_owners(&self) -> Result<Vec<(JobId, Uuid)>, StorageError> {
        const SQL: &str = "SELECT id, lease_owner FROM jobs \
             WHERE status = 'running' AND lease_owner IS NOT NULL ORDER BY id";
        let rows = on_reader!(self, |p| sqlx::query_as::<_, (Uuid, Uuid)>(SQL)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, owner)| (JobId(id), owner))
            .collect())
    }

    /// How many jobs are dead, in all.
    pub async fn dead_job_count(&self) -> Result<i64, StorageError> {
        const SQL: &str = "SELECT COUNT(*) FROM jobs WHERE status = 'dead'";
        Ok(on_reader!(self, |p| sqlx::query_scalar::<_, i64>(SQL)
            .fetch_one(p)
            .await)?)
    }

    /// Queues a dead job again, due at `now_ms`, with all its attempts, and wakes the workers.
    /// When a live job holds its dedupe key the dead one is dropped instead: that job does
    /// the same work, and two live jobs of one key are what the key forbids. `NotFound` if
    /// there is no such job.
    pub async fn retry_dead_job(
        &self,
        id: JobId,
        now_ms: i64,
    ) -> Result<DeadJobRetry, StorageError> {
        const FIND: &str = "SELECT status, dedupe_key FROM jobs WHERE id = $1";
        const LIVE_TWIN: &str = "SELECT id FROM jobs WHERE dedupe_key = $1 \
             AND status IN ('queued', 'running') LIMIT 1";
        const DROP: &str = "DELETE FROM jobs WHERE id = $1 AND status = 'dead'";
        const QUEUE: &str = "UPDATE jobs SET status = 'queued', attempts = 0, run_at_ms = $2, \
             lease_owner = NULL, lease_until_ms = NULL, updated_at_ms = $2 \
             WHERE id = $1 AND status = 'dead'";
        let retry = in_transaction!(self, |tx| {
            let found: Option<(String, Option<String>)> = sqlx::query_as(FIND)
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((status, dedupe_key)) = found else {
                return Err(StorageError::NotFound);
            };
            let status = JobStatus::parse(&status)
                .ok_or_else(|| StorageError::Corrupt(format!("job {id}: status {status:?}")))?;
            if status != JobStatus::Dead {
                return Ok(DeadJobRetry::NotDead(status));
            }
            let twin: Option<Uuid> = match &dedupe_key {
                Some(key) => {
                    sqlx::query_scalar(LIVE_TWIN)
                        .bind(key)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                None => None,
            };
            match twin {
                Some(live) => {
                    sqlx::query(DROP).bind(id.0).execute(&mut *tx).await?;
                    DeadJobRetry::CoveredByLiveJob(JobId(live))
                }
                None => {
                    sqlx::query(QUEUE)
                        .bind(id.0)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await
                        // A twin queued since the look above (PostgreSQL): say so, change nothing.
                        .map_err(StorageError::on_write("jobs_live_dedupe_key"))?;
                    DeadJobRetry::Queued
                }
            }
        });
        if retry == DeadJobRetry::Queued {
            self.jobs_changed().await;
        }
        Ok(retry)
    }

    /// Queues every dead job matching `filter` again, as [`Storage::retry_dead_job`] does
    /// one, in one transaction. Of dead jobs sharing a dedupe key only the most recently dead
    /// is queued; the others, and those whose key a live job holds, are dropped.
    pub async fn retry_dead_jobs(
        &self,
        filter: &DeadJobsFilter,
        now_ms: i64,
    ) -> Result<DeadJobsRetried, StorageError> {
        const DROP_COVERED_BY_LIVE: &str = concat!(
            "DELETE FROM jobs WHERE ",
            dead_where!(),
            " AND dedupe_key IS NOT NULL AND EXISTS (SELECT 1 FROM jobs l ",
            "WHERE l.dedupe_key = jobs.dedupe_key AND l.status IN ('queued', 'running'))"
        );
        // Keeps the newest dead job of each key among those this retry queues.
        const DROP_OLDER_TWINS: &str = concat!(
            "DELETE FROM jobs WHERE ",
            dead_where!(),
            " AND dedupe_key IS NOT NULL AND EXISTS (SELECT 1 FROM jobs d ",
            "WHERE d.dedupe_key = jobs.dedupe_key AND d.status = 'dead' ",
            "AND ($1 IS NULL OR d.flow = $1) AND ($2 IS NULL OR d.workspace_id = $2) ",
            "AND (d.updated_at_ms > jobs.updated_at_ms ",
            "OR (d.updated_at_ms = jobs.updated_at_ms AND d.id > jobs.id)))"
        );
        const QUEUE: &str = concat!(
            "UPDATE jobs SET status = 'queued', attempts = 0, run_at_ms = $3, ",
            "lease_owner = NULL, lease_until_ms = NULL, updated_at_ms = $3 WHERE ",
            dead_where!()
        );
        let flow = filter.flow.as_deref();
        let workspace = filter.workspace_id.map(|w| w.0);
        let retried = in_transaction!(self, |tx| {
            let mut covered = 0;
            for sql in [DROP_COVERED_BY_LIVE, DROP_OLDER_TWINS] {
                covered += sqlx::query(sql)
                    .bind(flow)
                    .bind(workspace)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            let queued = sqlx::query(QUEUE)
                .bind(flow)
                .bind(workspace)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(StorageError::on_write("jobs_live_dedupe_key"))?
                .rows_affected();
            DeadJobsRetried { queued, covered }
        });
        if retried.queued > 0 {
            self.jobs_changed().await;
        }
        Ok(retried)
    }

    /// Deletes a dead job. `NotFound` if there is no such job; a job that is not dead is left
    /// as it is.
    pub async fn drop_dead_job(&self, id: JobId) -> Result<DeadJobDrop, StorageError> {
        const STATUS: &str = "SELECT status FROM jobs WHERE id = $1";
        const DROP: &str = "DELETE FROM jobs WHERE id = $1 AND status = 'dead'";
        let dropped = in_transaction!(self, |tx| {
            let status: Option<String> = sqlx::query_scalar(STATUS)
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(status) = status else {
                return Err(StorageError::NotFound);
            };
            match JobStatus::parse(&status) {
                Some(JobStatus::Dead) => {
                    sqlx::query(DROP).bind(id.0).execute(&mut *tx).await?;
                    DeadJobDrop::Dropped
                }
                Some(other) => DeadJobDrop::NotDead(other),
                None => {
                    return Err(StorageError::Corrupt(format!(
                        "job {id}: status {status:?}"
                    )));
                }
            }
        });
        Ok(dropped)
    }

    /// Deletes every dead job matching `filter`. Returns how many.
    pub async fn drop_dead_jobs(&self, filter: &DeadJobsFilter) -> Result<u64, StorageError> {
        const SQL: &str = concat!("DELETE FROM jobs WHERE ", dead_where!());
        Ok(on_writer!(self, |p| sqlx::query(SQL)
            .bind(filter.flow.as_deref())
            .bind(filter.workspace_id.map(|w| w.0))
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?)
    }

    /// Every channel and shop that needs someone, by workspace: channels first (the most
    /// pressing reason of each), then shops.
    pub async fn needing_attention(&self) -> Result<Vec<NeedsAttention>, StorageError> {
        const CHANNELS: &str = "SELECT c.workspace_id, c.id, c.name, c.status, c.last_error, \
               t.last_refresh_error, c.updated_at_ms \
             FROM channels c LEFT JOIN channel_tokens t \
               ON t.workspace_id = c.workspace_id AND t.channel_id = c.id \
             WHERE c.status = $1 OR c.last_error IS NOT NULL OR t.last_refresh_error IS NOT NULL \
             ORDER BY c.workspace_id, c.name, c.id";
        const SHOPS: &str = "SELECT workspace_id, id, store_url, health, last_error, \
               health_checked_at_ms FROM shops WHERE health <> $1 ORDER BY workspace_id, id";
        let channels = on_reader!(self, |p| sqlx::query_as::<_, ChannelAttentionRow>(CHANNELS)
            .bind(ChannelStatus::ReauthorizationNeeded.as_str())
            .fetch_all(p)
            .await)?;
        let shops = on_reader!(self, |p| sqlx::query_as::<_, ShopAttentionRow>(SHOPS)
            .bind(ShopHealth::Ok.as_str())
            .fetch_all(p)
            .await)?;
        let mut out = Vec::with_capacity(channels.len() + shops.len());
        for c in channels {
            let (reason, detail) = if c.status == ChannelStatus::ReauthorizationNeeded.as_str() {
                (
                    AttentionReason::ReauthorizationNeeded,
                    c.last_refresh_error.or(c.last_error),
                )
            } else if let Some(error) = c.last_refresh_error {
                (AttentionReason::TokenRenewalFailing, Some(error))
            } else {
                (AttentionReason::ChannelError, c.last_error)
            };
            out.push(NeedsAttention {
                workspace_id: WorkspaceId(c.workspace_id),
                subject: AttentionSubject::Channel {
                    id: ChannelId(c.id),
                    name: c.name,
                },
                reason,
                detail,
                since_ms: c.updated_at_ms,
            });
        }
        for s in shops {
            let reason = match ShopHealth::parse(&s.health) {
                Some(ShopHealth::KeysRefused) => AttentionReason::ShopKeysRefused,
                Some(ShopHealth::Unreachable) => AttentionReason::ShopUnreachable,
                Some(ShopHealth::Ok) | None => {
                    return Err(StorageError::Corrupt(format!(
                        "shop {}: health {:?}",
                        s.id, s.health
                    )));
                }
            };
            out.push(NeedsAttention {
                workspace_id: WorkspaceId(s.workspace_id),
                subject: AttentionSubject::Shop {
                    id: ShopId(s.id),
                    store_url: s.store_url,
                },
                reason,
                detail: s.last_error,
                since_ms: s.health_checked_at_ms,
            });
        }
        Ok(out)
    }

    /// Per workspace, the open orders with no shop order yet, the longest-waiting workspace
    /// first. Workspaces with none are left out.
    pub async fn pending_orders(&self) -> Result<Vec<PendingOrders>, StorageError> {
        const SQL: &str = "SELECT workspace_id, COUNT(*) AS not_in_shop, \
               COUNT(attention) AS attention, MIN(created_at_ms) AS oldest_imported_at_ms \
             FROM orders WHERE finished_at_ms IS NULL AND shop_order_id IS NULL \
             GROUP BY workspace_id ORDER BY MIN(created_at_ms), workspace_id";
        let rows = on_reader!(self, |p| sqlx::query_as::<_, PendingOrdersRow>(SQL)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|r| PendingOrders {
                workspace_id: WorkspaceId(r.workspace_id),
                not_in_shop: r.not_in_shop,
                attention: r.attention,
                oldest_imported_at_ms: r.oldest_imported_at_ms,
            })
            .collect())
    }

    /// The open order that has waited longest for its shop order, across workspaces.
    pub async fn oldest_pending_order(&self) -> Result<Option<OldestPendingOrder>, StorageError> {
        const SQL: &str = "SELECT workspace_id, id, channel_id, mirakl_order_id, created_at_ms, \
               attention FROM orders WHERE finished_at_ms IS NULL AND shop_order_id IS NULL \
             ORDER BY created_at_ms, id LIMIT 1";
        let row = on_reader!(self, |p| sqlx::query_as::<_, OldestOrderRow>(SQL)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|r| OldestPendingOrder {
            workspace_id: WorkspaceId(r.workspace_id),
            order_id: OrderId(r.id),
            channel_id: ChannelId(r.channel_id),
            mirakl_order_id: r.mirakl_order_id,
            imported_at_ms: r.created_at_ms,
            attention: r.attention,
        }))
    }

    /// When each channel's Mirakl access token expires, by channel, soonest first.
    pub async fn token_expiries(&self) -> Result<Vec<(ChannelId, i64)>, StorageError> {
        const SQL: &str = "SELECT channel_id, access_expires_at_ms FROM channel_tokens \
             ORDER BY access_expires_at_ms, channel_id";
        let rows = on_reader!(self, |p| sqlx::query_as::<_, (Uuid, i64)>(SQL)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(channel, at)| (ChannelId(channel), at))
            .collect())
    }

    /// Catalog items in error on their channel (refused by Mirakl, or not sendable), across
    /// workspaces.
    pub async fn catalog_items_in_error(&self) -> Result<i64, StorageError> {
        const SQL: &str = "SELECT COUNT(*) FROM channel_items WHERE state = 'error'";
        Ok(on_reader!(self, |p| sqlx::query_scalar::<_, i64>(SQL)
            .fetch_one(p)
            .await)?)
    }

    /// The database's migrations against this binary's: what `/readyz` and `status` check.
    /// A database never migrated has every migration missing. Changes nothing.
    pub async fn schema_state(&self) -> Result<SchemaState, StorageError> {
        // The catalogues differ: whether the migrations table exists is asked of each.
        const SQLITE_HAS_TABLE: &str = "SELECT COUNT(*) > 0 FROM sqlite_master \
             WHERE type = 'table' AND name = '_sqlx_migrations'";
        const POSTGRES_HAS_TABLE: &str = "SELECT to_regclass('_sqlx_migrations') IS NOT NULL";
        const APPLIED: &str = "SELECT version, success, checksum FROM _sqlx_migrations";
        let (has_table, migrator) = match &self.pools {
            Pools::Sqlite { reader, .. } => (
                sqlx::query_scalar::<_, bool>(SQLITE_HAS_TABLE)
                    .fetch_one(reader)
                    .await?,
                &SQLITE_MIGRATIONS,
            ),
            Pools::Postgres(pool) => (
                sqlx::query_scalar::<_, bool>(POSTGRES_HAS_TABLE)
                    .fetch_one(pool)
                    .await?,
                &POSTGRES_MIGRATIONS,
            ),
        };
        let applied = if has_table {
            on_reader!(self, |p| sqlx::query_as::<_, AppliedMigrationRow>(APPLIED)
                .fetch_all(p)
                .await)?
        } else {
            Vec::new()
        };
        let embedded: Vec<_> = migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .collect();
        let mut state = SchemaState::default();
        for m in &embedded {
            match applied.iter().find(|a| a.version == m.version) {
                None => state.missing.push((m.version, m.description.to_string())),
                Some(a) if !a.success => state.failed.push(m.version),
                Some(a) if a.checksum.as_slice() != &*m.checksum => state.changed.push(m.version),
                Some(_) => {}
            }
        }
        state.unknown = applied
            .iter()
            .map(|a| a.version)
            .filter(|v| !embedded.iter().any(|m| m.version == *v))
            .collect();
        Ok(state)
    }
}
