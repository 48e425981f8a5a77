//! Channels of a workspace: where its catalog goes on Mirakl. Every statement is scoped by the
//! workspace, so another workspace's channel id finds nothing.
//! Which status may follow which is decided by `domain::ChannelStatus::apply`, not here.

use domain::{ChannelId, ChannelKind, ChannelStatus, InstanceUrl, StoreId, WorkspaceId};
use uuid::Uuid;

use crate::error::found;
use crate::{Storage, StorageError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewChannel {
    pub kind: ChannelKind,
    pub name: String,
    /// The operator's key of the marketplace (marketplace channels only).
    pub marketplace_code: Option<String>,
    pub instance_url: Option<InstanceUrl>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub kind: ChannelKind,
    pub name: String,
    pub marketplace_code: Option<String>,
    pub instance_url: Option<InstanceUrl>,
    pub status: ChannelStatus,
    pub store_id: Option<StoreId>,
    pub store_name: Option<String>,
    /// The Mirakl Connect company (Connect channels only).
    pub company: Option<String>,
    pub launched_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// The last problem worth showing the seller, if any.
    pub last_error: Option<String>,
    /// When a flow last reached the channel successfully (the Account page's "last sync").
    pub last_success_at_ms: Option<i64>,
}

/// `SELECT <every column of Channel> FROM channels WHERE <condition>`.
macro_rules! select_channels_where {
    ($condition:literal) => {
        concat!(
            "SELECT id, workspace_id, kind, name, marketplace_code, instance_url, status, store_id, ",
            "store_name, company, launched_at_ms, created_at_ms, updated_at_ms, last_error, ",
            "last_success_at_ms ",
            "FROM channels WHERE ",
            $condition
        )
    };
}

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: Uuid,
    workspace_id: Uuid,
    kind: String,
    name: String,
    marketplace_code: Option<String>,
    instance_url: Option<String>,
    status: String,
    store_id: Option<i64>,
    store_name: Option<String>,
    company: Option<String>,
    launched_at_ms: Option<i64>,
    created_at_ms: i64,
    updated_at_ms: i64,
    last_error: Option<String>,
    last_success_at_ms: Option<i64>,
}

impl TryFrom<ChannelRow> for Channel {
    type Error = StorageError;

    fn try_from(row: ChannelRow) -> Result<Self, StorageError> {
        let corrupt = |what: &str, value: &str| {
            StorageError::Corrupt(format!("channel {}: {what} {value:?}", row.id))
        };
        let kind = ChannelKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?;
        let status =
            ChannelStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?;
        let instance_url = match &row.instance_url {
            Some(url) => Some(InstanceUrl::parse(url).map_err(|_| corrupt("instance_url", url))?),
            None => None,
        };
        let store_id = match row.store_id {
            Some(n) => Some(StoreId::new(n).ok_or_else(|| corrupt("store_id", &n.to_string()))?),
            None => None,
        };
        Ok(Channel {
            id: ChannelId(row.id),
            workspace_id: WorkspaceId(row.workspace_id),
            kind,
            name: row.name,
            marketplace_code: row.marketplace_code,
            instance_url,
            status,
            store_id,
            store_name: row.store_name,
            company: row.company,
            launched_at_ms: row.launched_at_ms,
            created_at_ms: row.created_at_ms,
            updated_at_ms: row.updated_at_ms,
            last_error: row.last_error,
            last_success_at_ms: row.last_success_at_ms,
        })
    }
}

impl Storage {
    /// A new channel, awaiting authorization. `NotFound` if the workspace does not exist.
    pub async fn create_channel(
        &self,
        ws: WorkspaceId,
        new: &NewChannel,
        now_ms: i64,
    ) -> Result<Channel, StorageError> {
        const SQL: &str = "INSERT INTO channels \
             (id, workspace_id, kind, name, marketplace_code, instance_url, status, \
              created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";
        let channel = Channel {
            id: ChannelId::new(),
            workspace_id: ws,
            kind: new.kind,
            name: new.name.clone(),
            marketplace_code: new.marketplace_code.clone(),
            instance_url: new.instance_url.clone(),
            status: ChannelStatus::AwaitingAuthorization,
            store_id: None,
            store_name: None,
            company: None,
            launched_at_ms: None,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            last_error: None,
            last_success_at_ms: None,
        };
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(channel.id.0)
            .bind(ws.0)
            .bind(channel.kind.as_str())
            .bind(&channel.name)
            .bind(channel.marketplace_code.as_deref())
            .bind(channel.instance_url.as_ref().map(InstanceUrl::as_str))
            .bind(channel.status.as_str())
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("channels_pkey"))?;
        Ok(channel)
    }

    /// The workspace's channels, oldest first.
    pub async fn list_channels(&self, ws: WorkspaceId) -> Result<Vec<Channel>, StorageError> {
        const SQL: &str = select_channels_where!("workspace_id = $1 ORDER BY created_at_ms, id");
        let rows = on_reader!(self, |p| sqlx::query_as::<_, ChannelRow>(SQL)
            .bind(ws.0)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(Channel::try_from).collect()
    }

    pub async fn get_channel(
        &self,
        ws: WorkspaceId,
        id: ChannelId,
    ) -> Result<Option<Channel>, StorageError> {
        const SQL: &str = select_channels_where!("workspace_id = $1 AND id = $2");
        let row = on_reader!(self, |p| sqlx::query_as::<_, ChannelRow>(SQL)
            .bind(ws.0)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.map(Channel::try_from).transpose()
    }

    pub async fn update_channel_status(
        &self,
        ws: WorkspaceId,
        id: ChannelId,
        status: ChannelStatus,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE channels SET status = $3, updated_at_ms = $4 \
             WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(id.0)
            .bind(status.as_str())
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// Records the verified Mirakl store of a marketplace channel, with the status it leads to.
    pub async fn set_channel_store(
        &self,
        ws: WorkspaceId,
        id: ChannelId,
        store_id: StoreId,
        store_name: &str,
        status: ChannelStatus,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE channels SET \
               store_id = $3, store_name = $4, status = $5, updated_at_ms = $6 \
             WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(id.0)
            .bind(store_id.get())
            .bind(store_name)
            .bind(status.as_str())
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    pub async fn set_channel_company(
        &self,
        ws: WorkspaceId,
        id: ChannelId,
        company: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE channels SET company = $3, updated_at_ms = $4 \
             WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(id.0)
            .bind(company)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// Sets the channel live. The first launch time is kept if it was launched before.
    pub async fn launch_channel(
        &self,
        ws: WorkspaceId,
        id: ChannelId,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE channels SET status = $3, launched_at_ms = COALESCE(launched_at_ms, $4), \
             updated_at_ms = $4 WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(id.0)
            .bind(ChannelStatus::Live.as_str())
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// Records (or with `None` clears) the problem shown on the channel.
    pub async fn set_channel_error(
        &self,
        ws: WorkspaceId,
        id: ChannelId,
        error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE channels SET last_error = $3, updated_at_ms = $4 \
             WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(id.0)
            .bind(error)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// Records that a flow reached the channel successfully at `now_ms`.
    pub async fn record_channel_success(
        &self,
        ws: WorkspaceId,
        id: ChannelId,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        const SQL: &str = "UPDATE channels SET last_success_at_ms = $3, updated_at_ms = $3 \
             WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(id.0)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        found(rows)
    }

    /// Deletes the channel with everything kept for it, in one transaction: tokens, pending
    /// authorizations, item and product states, call budgets, followed imports, setting
    /// overrides, the column mapping and sync runs.
    pub async fn delete_channel(&self, ws: WorkspaceId, id: ChannelId) -> Result<(), StorageError> {
        // The foreign keys cascade too; the explicit deletes keep the rule visible here.
        const DELETE_CHANNEL_ROWS: [&str; 9] = [
            "DELETE FROM channel_tokens WHERE workspace_id = $1 AND channel_id = $2",
            "DELETE FROM oauth_pending WHERE workspace_id = $1 AND channel_id = $2",
            "DELETE FROM channel_items WHERE workspace_id = $1 AND channel_id = $2",
            "DELETE FROM channel_products WHERE workspace_id = $1 AND channel_id = $2",
            "DELETE FROM channel_mappings WHERE workspace_id = $1 AND channel_id = $2",
            "DELETE FROM call_budgets WHERE workspace_id = $1 AND channel_id = $2",
            "DELETE FROM channel_imports WHERE workspace_id = $1 AND channel_id = $2",
            "DELETE FROM channel_overrides WHERE workspace_id = $1 AND channel_id = $2",
            "DELETE FROM sync_runs WHERE workspace_id = $1 AND channel_id = $2",
        ];
        const DELETE_CHANNEL: &str = "DELETE FROM channels WHERE workspace_id = $1 AND id = $2";
        in_transaction!(self, |tx| {
            for sql in DELETE_CHANNEL_ROWS {
                sqlx::query(sql)
                    .bind(ws.0)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
            }
            let done = sqlx::query(DELETE_CHANNEL)
                .bind(ws.0)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            found(done.rows_affected())?;
        });
        Ok(())
    }
}
