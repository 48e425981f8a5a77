//! The operator's commands: `marketbridge status` and `marketbridge jobs list|retry|drop`.
//! Each is a function from the database to what it prints (text, or JSON for scripts), so the
//! tests call them in-process; `cli` only parses the flags and prints. They read and repair
//! the queue; they never migrate, decrypt or print a secret.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use domain::{JobId, WorkspaceId};
use serde_json::{Value, json};
use storage::{
    AttentionReason, AttentionSubject, DeadJob, DeadJobDrop, DeadJobRetry, DeadJobsFilter,
    FlowQueue, NeedsAttention, OldestPendingOrder, PendingOrders, SecretKey, Storage, StorageError,
};

/// How many workspaces with orders not in their shop the text of `status` lists.
const PENDING_WORKSPACES_SHOWN: usize = 5;
/// Errors are cut to this many characters in tables; `--json` has them whole.
const ERROR_WIDTH: usize = 100;

/// Opens the database an operator's command reads, without creating or migrating anything:
/// a SQLite file that does not exist is an error (a mistyped path would otherwise make an
/// empty database), and so is a schema this binary cannot read.
pub async fn open_for_operator(database_url: &str, key: SecretKey) -> anyhow::Result<Storage> {
    if let Some(path) = database_url.strip_prefix("sqlite://") {
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        if !Path::new(path).exists() {
            bail!(
                "there is no database at {path}: give the one the server uses (--database-url, \
                 --data-dir or MARKETBRIDGE_DATABASE_URL)"
            );
        }
    }
    let storage = Storage::connect(database_url, key)
        .await
        .context("opening the database")?;
    let schema = storage
        .schema_state()
        .await
        .context("reading the database's migrations")?;
    if let Some(problem) = schema.problem() {
        bail!("{problem}");
    }
    Ok(storage)
}

// ----- status ------------------------------------------------------------------------------

/// What `marketbridge status` shows.
#[derive(Debug)]
pub struct Status {
    pub now_ms: i64,
    pub engine: storage::Engine,
    pub queue: Vec<FlowQueue>,
    pub dead_jobs: i64,
    pub attention: Vec<NeedsAttention>,
    pub pending_orders: Vec<PendingOrders>,
    pub oldest_pending_order: Option<OldestPendingOrder>,
    /// Migrations applied by a newer release (this one still runs).
    pub newer_migrations: Vec<i64>,
}

pub async fn status(storage: &Storage, now_ms: i64) -> anyhow::Result<Status> {
    Ok(Status {
        now_ms,
        engine: storage.engine(),
        queue: storage.queue_counts(now_ms).await?,
        dead_jobs: storage.dead_job_count().await?,
        attention: storage.needing_attention().await?,
        pending_orders: storage.pending_orders().await?,
        oldest_pending_order: storage.oldest_pending_order().await?,
        newer_migrations: storage.schema_state().await?.unknown,
    })
}

impl Status {
    /// A compact table for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Marketbridge on {}", engine_name(self.engine));
        if !self.newer_migrations.is_empty() {
            let _ = writeln!(
                out,
                "note: the database has {} migration(s) of a newer release",
                self.newer_migrations.len()
            );
        }
        let _ = writeln!(out);
        if self.queue.is_empty() {
            let _ = writeln!(out, "Queue: empty");
        } else {
            let width = self
                .queue
                .iter()
                .map(|q| q.flow.chars().count())
                .max()
                .unwrap_or(0)
                .max("total".len());
            let _ = writeln!(
                out,
                "{:<width$}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  oldest due",
                "flow", "queued", "due", "running", "expired", "dead"
            );
            let mut total = (0, 0, 0, 0, 0);
            for q in &self.queue {
                total = (
                    total.0 + q.queued,
                    total.1 + q.due,
                    total.2 + q.running,
                    total.3 + q.lease_expired,
                    total.4 + q.dead,
                );
                let oldest = q
                    .oldest_due_ms
                    .map_or("-".to_owned(), |at| age(self.now_ms - at));
                let _ = writeln!(
                    out,
                    "{:<width$}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {oldest}",
                    one_line(&q.flow, width),
                    q.queued,
                    q.due,
                    q.running,
                    q.lease_expired,
                    q.dead
                );
            }
            let _ = writeln!(
                out,
                "{:<width$}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}",
                "total", total.0, total.1, total.2, total.3, total.4
            );
            if total.3 > 0 {
                let _ = writeln!(
                    out,
                    "expired: running jobs whose worker stopped without a word; a live worker \
                     queues them again within its poll interval. If they stay, no worker runs."
                );
            }
        }
        let _ = writeln!(out);
        match self.dead_jobs {
            0 => {
                let _ = writeln!(out, "Dead jobs: none");
            }
            n => {
                let _ = writeln!(
                    out,
                    "Dead jobs: {n} (see `marketbridge jobs list`, then `jobs retry` or `jobs drop`)"
                );
            }
        }
        if self.attention.is_empty() {
            let _ = writeln!(out, "Needing attention: none");
        } else {
            let _ = writeln!(out, "Needing attention: {}", self.attention.len());
            for a in &self.attention {
                let _ = write!(
                    out,
                    "  workspace {}  {}: {}, {} ago",
                    a.workspace_id,
                    describe_subject(&a.subject),
                    describe_reason(a.reason),
                    age(self.now_ms - a.since_ms)
                );
                if let Some(detail) = &a.detail {
                    let _ = write!(out, " ({})", one_line(detail, ERROR_WIDTH));
                }
                let _ = writeln!(out);
            }
        }
        match &self.oldest_pending_order {
            None => {
                let _ = writeln!(out, "Orders not in their shop: none");
            }
            Some(oldest) => {
                let total: i64 = self.pending_orders.iter().map(|p| p.not_in_shop).sum();
                let _ = writeln!(
                    out,
                    "Orders not in their shop: {total} in {} workspace(s)",
                    self.pending_orders.len()
                );
                let _ = write!(
                    out,
                    "  oldest: {} in workspace {}, imported {} ago",
                    one_line(&oldest.mirakl_order_id, 60),
                    oldest.workspace_id,
                    age(self.now_ms - oldest.imported_at_ms)
                );
                if let Some(why) = &oldest.attention {
                    let _ = write!(
                        out,
                        ", waits for the seller: {}",
                        one_line(why, ERROR_WIDTH)
                    );
                }
                let _ = writeln!(out);
                for p in self.pending_orders.iter().take(PENDING_WORKSPACES_SHOWN) {
                    let _ = writeln!(
                        out,
                        "  workspace {}  {} not in shop ({} wait for the seller), oldest {} ago",
                        p.workspace_id,
                        p.not_in_shop,
                        p.attention,
                        age(self.now_ms - p.oldest_imported_at_ms)
                    );
                }
                if self.pending_orders.len() > PENDING_WORKSPACES_SHOWN {
                    let _ = writeln!(
                        out,
                        "  … and {} more workspace(s) (--json lists them all)",
                        self.pending_orders.len() - PENDING_WORKSPACES_SHOWN
                    );
                }
            }
        }
        out
    }

    /// Everything, for scripts; times are Unix milliseconds, ages milliseconds.
    pub fn to_json(&self) -> Value {
        json!({
            "now_ms": self.now_ms,
            "engine": engine_name(self.engine),
            "queue": self.queue.iter().map(|q| json!({
                "flow": q.flow,
                "queued": q.queued,
                "due": q.due,
                "running": q.running,
                "lease_expired": q.lease_expired,
                "dead": q.dead,
                "oldest_due_ms": q.oldest_due_ms,
                "oldest_due_age_ms": q.oldest_due_ms.map(|at| self.now_ms - at),
            })).collect::<Vec<_>>(),
            "dead_jobs": self.dead_jobs,
            "needing_attention": self.attention.iter().map(|a| {
                let (kind, id, name) = match &a.subject {
                    AttentionSubject::Channel { id, name } => ("channel", id.to_string(), name.clone()),
                    AttentionSubject::Shop { id, store_url } => ("shop", id.to_string(), store_url.clone()),
                };
                json!({
                    "workspace_id": a.workspace_id,
                    "kind": kind,
                    "id": id,
                    "name": name,
                    "reason": a.reason.as_str(),
                    "detail": a.detail,
                    "since_ms": a.since_ms,
                })
            }).collect::<Vec<_>>(),
            "pending_orders": self.pending_orders.iter().map(|p| json!({
                "workspace_id": p.workspace_id,
                "not_in_shop": p.not_in_shop,
                "attention": p.attention,
                "oldest_imported_at_ms": p.oldest_imported_at_ms,
            })).collect::<Vec<_>>(),
            "oldest_pending_order": self.oldest_pending_order.as_ref().map(|o| json!({
                "workspace_id": o.workspace_id,
                "order_id": o.order_id,
                "channel_id": o.channel_id,
                "mirakl_order_id": o.mirakl_order_id,
                "imported_at_ms": o.imported_at_ms,
                "age_ms": self.now_ms - o.imported_at_ms,
                "attention": o.attention,
            })),
            "newer_migrations": self.newer_migrations,
        })
    }
}

fn engine_name(engine: storage::Engine) -> &'static str {
    match engine {
        storage::Engine::Sqlite => "SQLite",
        storage::Engine::Postgres => "PostgreSQL",
    }
}

fn describe_subject(subject: &AttentionSubject) -> String {
    match subject {
        AttentionSubject::Channel { id, name } => {
            format!("channel {:?} ({id})", one_line(name, 60))
        }
        AttentionSubject::Shop { store_url, .. } => format!("shop {}", one_line(store_url, 80)),
    }
}

fn describe_reason(reason: AttentionReason) -> &'static str {
    match reason {
        AttentionReason::ReauthorizationNeeded => {
            "Mirakl refused its token; the seller must connect it again"
        }
        AttentionReason::TokenRenewalFailing => "token renewal failing, still retried",
        AttentionReason::ChannelError => "a flow recorded a problem",
        AttentionReason::ShopUnreachable => "the shop does not answer",
        AttentionReason::ShopKeysRefused => "the shop refuses the connector's keys",
    }
}

// ----- jobs --------------------------------------------------------------------------------

/// The dead jobs `marketbridge jobs list` shows.
#[derive(Debug)]
pub struct DeadJobList {
    pub now_ms: i64,
    pub jobs: Vec<DeadJob>,
    /// The most that were asked for: when reached, there may be more.
    pub limit: u32,
}

pub async fn list_dead_jobs(
    storage: &Storage,
    filter: &DeadJobsFilter,
    limit: u32,
    now_ms: i64,
) -> anyhow::Result<DeadJobList> {
    let jobs = storage
        .dead_jobs(filter, i64::from(limit))
        .await
        .map_err(filter_error)?;
    Ok(DeadJobList {
        now_ms,
        jobs,
        limit,
    })
}

impl DeadJobList {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.jobs.is_empty() {
            let _ = writeln!(out, "No dead jobs.");
            return out;
        }
        let flow_width = self
            .jobs
            .iter()
            .map(|d| d.job.flow.chars().count().min(30))
            .max()
            .unwrap_or(0)
            .max("flow".len());
        let _ = writeln!(
            out,
            "{:<36}  {:<flow_width$}  {:<36}  {:>8}  {:>8}  last error",
            "job", "flow", "workspace", "attempts", "dead for"
        );
        for d in &self.jobs {
            let job = &d.job;
            let _ = writeln!(
                out,
                "{:<36}  {:<flow_width$}  {:<36}  {:>8}  {:>8}  {}",
                job.id,
                one_line(&job.flow, 30),
                job.workspace_id.map_or("-".to_owned(), |w| w.to_string()),
                format!("{}/{}", job.attempts, job.max_attempts),
                age(self.now_ms - d.died_at_ms),
                job.last_error
                    .as_deref()
                    .map_or("-".to_owned(), |e| one_line(e, ERROR_WIDTH)),
            );
        }
        if self.jobs.len() >= self.limit as usize {
            let _ = writeln!(
                out,
                "(the {} most recent; --limit shows more)",
                self.jobs.len()
            );
        }
        out
    }

    pub fn to_json(&self) -> Value {
        Value::Array(
            self.jobs
                .iter()
                .map(|d| {
                    let job = &d.job;
                    json!({
                        "id": job.id,
                        "flow": job.flow,
                        "workspace_id": job.workspace_id,
                        "attempts": job.attempts,
                        "max_attempts": job.max_attempts,
                        "dedupe_key": job.dedupe_key,
                        "payload": job.payload,
                        "last_error": job.last_error,
                        "died_at_ms": d.died_at_ms,
                    })
                })
                .collect(),
        )
    }
}

/// Which dead jobs `retry` and `drop` act on: one by id, or all those matching a filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeadJobTarget {
    One(JobId),
    All(DeadJobsFilter),
}

/// `marketbridge jobs retry`: the jobs queued again, due now. Errors when the one job named
/// does not exist or is not dead.
pub async fn retry_dead_jobs(
    storage: &Storage,
    target: &DeadJobTarget,
    now_ms: i64,
) -> anyhow::Result<String> {
    match target {
        DeadJobTarget::One(id) => match storage.retry_dead_job(*id, now_ms).await {
            Ok(DeadJobRetry::Queued) => Ok(format!("job {id} queued again, due now\n")),
            Ok(DeadJobRetry::CoveredByLiveJob(live)) => Ok(format!(
                "job {id} dropped instead: job {live} with the same dedupe key is queued or \
                 running and does the same work\n"
            )),
            Ok(DeadJobRetry::NotDead(status)) => {
                bail!("job {id} is {status}, not dead: nothing to retry")
            }
            Err(StorageError::NotFound) => bail!("there is no job {id}"),
            Err(StorageError::Conflict(_)) => bail!(
                "job {id} was not retried: a job with the same dedupe key was queued meanwhile; \
                 run the command again"
            ),
            Err(e) => Err(e.into()),
        },
        DeadJobTarget::All(filter) => {
            let done = match storage.retry_dead_jobs(filter, now_ms).await {
                Err(StorageError::Conflict(_)) => bail!(
                    "nothing was retried: a job with the same dedupe key as a dead one was \
                     queued meanwhile; run the command again"
                ),
                other => other.map_err(filter_error)?,
            };
            let mut out = format!(
                "{} dead job(s){} queued again, due now",
                done.queued,
                describe_filter(filter)
            );
            if done.covered > 0 {
                let _ = write!(
                    out,
                    "; {} dropped instead, their work being queued or running already (same \
                     dedupe key)",
                    done.covered
                );
            }
            out.push('\n');
            Ok(out)
        }
    }
}

/// `marketbridge jobs drop`: the dead jobs deleted. Errors when the one job named does not
/// exist or is not dead.
pub async fn drop_dead_jobs(storage: &Storage, target: &DeadJobTarget) -> anyhow::Result<String> {
    match target {
        DeadJobTarget::One(id) => match storage.drop_dead_job(*id).await {
            Ok(DeadJobDrop::Dropped) => Ok(format!("job {id} dropped\n")),
            Ok(DeadJobDrop::NotDead(status)) => {
                bail!("job {id} is {status}, not dead: only dead jobs are dropped")
            }
            Err(StorageError::NotFound) => bail!("there is no job {id}"),
            Err(e) => Err(e.into()),
        },
        DeadJobTarget::All(filter) => {
            let dropped = storage.drop_dead_jobs(filter).await.map_err(filter_error)?;
            Ok(format!(
                "{dropped} dead job(s){} dropped\n",
                describe_filter(filter)
            ))
        }
    }
}

fn describe_filter(filter: &DeadJobsFilter) -> String {
    let mut out = String::new();
    if let Some(flow) = &filter.flow {
        let _ = write!(out, " of flow {:?}", one_line(flow, 60));
    }
    if let Some(ws) = filter.workspace_id {
        let _ = write!(out, " of workspace {ws}");
    }
    out
}

/// A filter the database cannot even compare (a NUL in the flow name) matches nothing the
/// operator meant: say so rather than "database error".
fn filter_error(e: StorageError) -> anyhow::Error {
    match e {
        StorageError::InvalidText => {
            anyhow::anyhow!("the --flow given holds a NUL character: no flow is named so")
        }
        other => other.into(),
    }
}

/// Parses a job id given on the command line, saying what a job id looks like.
pub fn parse_job_id(text: &str) -> Result<JobId, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "{:?} is not a job id: job ids are UUIDs, as `marketbridge jobs list` shows them",
            one_line(text, 60)
        )
    })
}

/// Parses a workspace id given on the command line.
pub fn parse_workspace_id(text: &str) -> Result<WorkspaceId, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "{:?} is not a workspace id: workspace ids are UUIDs, as `marketbridge status` shows them",
            one_line(text, 60)
        )
    })
}

// ----- words -------------------------------------------------------------------------------

/// An age in the largest two units: "45s", "12m 5s", "3h 12m", "2d 4h". A negative one (a
/// clock ahead of this one) reads as "0s".
pub fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m) = (s / 86_400, s / 3600 % 24, s / 60 % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {}s", s % 60),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// `text` on one line, without control characters (an error stored from a shop's answer
/// must not move the operator's cursor or colour the terminal), cut to `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() > max {
        let cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_their_two_largest_units() {
        assert_eq!(age(-5_000), "0s");
        assert_eq!(age(45_000), "45s");
        assert_eq!(age(12 * 60_000 + 5_000), "12m 5s");
        assert_eq!(age(3 * 3_600_000 + 12 * 60_000), "3h 12m");
        assert_eq!(age(2 * 86_400_000 + 4 * 3_600_000), "2d 4h");
    }

    #[test]
    fn stored_text_cannot_reach_the_terminal_raw() {
        assert_eq!(one_line("a\u{1b}[31mred\nnext", 100), "a [31mred next");
        assert_eq!(one_line("abcdef", 4), "abc…");
    }

    #[test]
    fn status_shows_the_queue_and_the_oldest_order_with_its_age_and_workspace() {
        let ws = WorkspaceId::new();
        let now = 10 * 3_600_000;
        let status = Status {
            now_ms: now,
            engine: storage::Engine::Postgres,
            queue: vec![FlowQueue {
                flow: "order_step".to_owned(),
                queued: 3,
                due: 2,
                running: 1,
                lease_expired: 0,
                dead: 0,
                oldest_due_ms: Some(now - 45_000),
            }],
            dead_jobs: 0,
            attention: Vec::new(),
            pending_orders: vec![PendingOrders {
                workspace_id: ws,
                not_in_shop: 4,
                attention: 1,
                oldest_imported_at_ms: now - (3 * 3_600_000 + 12 * 60_000),
            }],
            oldest_pending_order: Some(OldestPendingOrder {
                workspace_id: ws,
                order_id: domain::OrderId::new(),
                channel_id: domain::ChannelId::new(),
                mirakl_order_id: "ORDER-7\u{1b}[2J".to_owned(),
                imported_at_ms: now - (3 * 3_600_000 + 12 * 60_000),
                attention: None,
            }),
            newer_migrations: Vec::new(),
        };
        let text = status.to_text();
        assert!(text.contains("Marketbridge on PostgreSQL"), "{text}");
        assert!(
            text.lines().any(|l| l.starts_with("order_step")
                && l.split_whitespace().collect::<Vec<_>>()
                    == ["order_step", "3", "2", "1", "0", "0", "45s"]),
            "{text}"
        );
        assert!(text.contains("Dead jobs: none"), "{text}");
        assert!(
            text.contains(&format!(
                "oldest: ORDER-7 [2J in workspace {ws}, imported 3h 12m ago"
            )),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "no escape reaches the terminal");
        let json = status.to_json();
        assert_eq!(
            json["oldest_pending_order"]["age_ms"],
            3 * 3_600_000 + 12 * 60_000
        );
        assert_eq!(json["queue"][0]["oldest_due_age_ms"], 45_000);
    }

    #[test]
    fn a_bad_job_id_says_what_one_looks_like() {
        let error = parse_job_id("42; DROP TABLE jobs").unwrap_err();
        assert!(error.contains("not a job id"), "{error}");
        assert!(parse_job_id(" 0190a4a8-6c4e-7f55-8d55-0a9c1b2c3d4e ").is_ok());
    }
}
