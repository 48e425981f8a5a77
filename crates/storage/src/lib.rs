//! Marketbridge's storage: one interface, [`Storage`], on SQLite (the default, one file, WAL)
//! or PostgreSQL (several nodes). It owns the schema (`migrations/sqlite`,
//! `migrations/postgres`), the sealing of secrets at rest ([`crypto`]), the lease job
//! queue ([`job`]) with the operators' view of it ([`operator`]), the inbox of shop webhooks
//! ([`webhook_inbox`]), the catalog ([`catalog`]), what each channel received of it
//! ([`channel_item`]), and the products created on a marketplace with each channel's column
//! mapping ([`channel_product`], [`channel_mapping`]).
//! It knows nothing of HTTP, Mirakl or WooCommerce: it stores what they said.
//!
//! Rules kept everywhere in this crate:
//! - each SQL statement is written once, in the dialect both engines accept (`$1` binds work on
//!   SQLite too), and only where they differ is there a branch;
//! - ids are UUIDs, times are Unix milliseconds (`i64`), JSON is TEXT;
//! - every query on seller data is scoped by `workspace_id`: an id from another workspace
//!   finds nothing.

#[macro_use]
mod pool;

pub mod account;
pub mod api_token;
pub mod authorization;
mod batch;
pub mod call_budget;
pub mod catalog;
pub mod channel;
pub mod channel_cursor;
mod channel_document;
pub mod channel_import;
pub mod channel_item;
pub mod channel_mapping;
pub mod channel_product;
pub mod crypto;
pub mod disconnect;
mod error;
pub mod job;
pub mod operator;
pub mod order;
pub mod product_settings;
pub mod products_view;
pub mod scratch;
pub mod session;
pub mod shop;
pub mod shop_authorization;
pub mod shop_change;
pub mod signed_payload;
pub mod sync_run;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;
pub mod webhook_inbox;
pub mod workspace;

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use domain::WorkspaceId;

pub use account::{Account, LoginAttempt};
pub use api_token::{ApiScope, ApiToken, NewApiToken};
pub use authorization::{NewPendingAuthorization, PendingAuthorization, PendingLookup};
pub use call_budget::BudgetDecision;
pub use catalog::CatalogRow;
pub use channel::{Channel, NewChannel};
pub use channel_import::{ChannelImport, IMPORT_OPEN};
pub use channel_item::{ChannelHoldings, ChannelItem, ImportOutcome, ImportOutcomeCounts, Ledger};
pub use crypto::{CryptoError, KeyError, Secret, SecretBox, SecretColumn, SecretKey};
pub use disconnect::{DISCONNECT_FIRST_STEP, Disconnect, WipeCounts};
pub use error::StorageError;
pub use job::{Job, JobFailure, JobStatus, NewJob, backoff_ms};
pub use operator::{
    AttentionReason, AttentionSubject, DeadJob, DeadJobDrop, DeadJobRetry, DeadJobsFilter,
    DeadJobsRetried, FlowQueue, NeedsAttention, OldestPendingOrder, PendingOrders, SchemaState,
};
pub use order::{OrderCounts, OrderStep, OrderUpsert, OrdersFilter, StepReservation, StoredOrder};
pub use pool::Engine;
pub use products_view::{ProductView, ProductsFilter};
pub use session::SessionRecord;
pub use shop::{NewShop, RegisteredWebhook, Shop, ShopSecrets};
pub use shop_authorization::{
    NewPendingShopAuthorization, PendingShopAuthorization, PendingShopLookup,
};
pub use shop_change::ShopChange;
pub use sync_run::SyncRun;
pub use token::{RefreshOutcome, StoredTokens, TokenSet};
pub use webhook_inbox::{InboxEntry, IncomingWebhook, WebhookCounts, WebhookRecord};
pub use workspace::{Workspace, WorkspaceSettings};

use pool::{POSTGRES_MIGRATIONS, Pools, SQLITE_MIGRATIONS};

/// The current time as Unix milliseconds, the unit of every time in storage.
pub fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// The handle on the database. Cheap to clone: the pools and the key are shared.
#[derive(Clone)]
pub struct Storage {
    pools: Pools,
    secrets: Arc<SecretBox>,
    /// Bumped whenever this process queues a job or frees a (workspace, flow), so its workers
    /// start at once instead of at their next poll. On PostgreSQL other processes' changes
    /// bump it too (`LISTEN`, see [`crate::job`]); on SQLite they are found by polling.
    jobs_changed: Arc<tokio::sync::watch::Sender<u64>>,
    /// The task that listens for other processes' job notices, once a worker asked for
    /// [`Storage::job_events`]; it ends with the last handle.
    job_listener: Arc<std::sync::OnceLock<job::ListenerTask>>,
}

impl Storage {
    /// Opens `sqlite://path/to/file.db` (created if missing), `sqlite::memory:` or
    /// `postgres://…`. Does not migrate; call [`Storage::migrate`].
    pub async fn connect(database_url: &str, key: SecretKey) -> Result<Storage, StorageError> {
        let pools = Pools::connect(database_url).await?;
        Ok(Storage {
            pools,
            secrets: Arc::new(SecretBox::new(&key)),
            jobs_changed: Arc::new(tokio::sync::watch::Sender::new(0)),
            job_listener: Arc::new(std::sync::OnceLock::new()),
        })
    }

    /// Brings the schema up to date (embedded migrations of the engine in use).
    pub async fn migrate(&self) -> Result<(), StorageError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await?,
            Pools::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Closes every connection, once those in use come back; any later query fails with the
    /// pool closed (as `/readyz` then says).
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { reader, writer } => {
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    pub fn engine(&self) -> Engine {
        self.pools.engine()
    }

    pub async fn ping(&self) -> Result<(), StorageError> {
        const SQL: &str = "SELECT 1";
        on_reader!(self, |p| sqlx::query(SQL)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    /// Every workspace, oldest first (operators' listings and tests).
    pub async fn list_workspace_ids(&self) -> Result<Vec<WorkspaceId>, StorageError> {
        const SQL: &str = "SELECT id FROM workspaces ORDER BY created_at_ms, id";
        let ids: Vec<uuid::Uuid> =
            on_reader!(self, |p| sqlx::query_scalar(SQL).fetch_all(p).await)?;
        Ok(ids.into_iter().map(WorkspaceId).collect())
    }

    /// Folds SQLite's write-ahead log into the database file (so the file alone shows what is
    /// stored); nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), StorageError> {
        if let Pools::Sqlite { writer, .. } = &self.pools {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(writer)
                .await?;
        }
        Ok(())
    }

    /// The tables that carry a `workspace_id` column, sorted: what a workspace's data spans.
    pub async fn workspace_tables(&self) -> Result<Vec<String>, StorageError> {
        // The catalogues differ: this is the one place where the two engines need their own SQL.
        const SQLITE: &str = "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = 'workspace_id' ORDER BY m.name";
        const POSTGRES: &str = "SELECT table_name::TEXT FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'workspace_id' ORDER BY table_name";
        let tables = match &self.pools {
            Pools::Sqlite { reader, .. } => sqlx::query_scalar(SQLITE).fetch_all(reader).await?,
            Pools::Postgres(pool) => sqlx::query_scalar(POSTGRES).fetch_all(pool).await?,
        };
        Ok(tables)
    }
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("engine", &self.engine())
            .finish_non_exhaustive()
    }
}
