//! Typed documents kept per channel as JSON, one table each (the channel's overrides of the
//! product settings, its column mapping): read, replaced and deleted the same way, scoped by
//! the workspace. A table of their own per kind,
//! not a NULL channel in a workspace table: NULLs in unique constraints differ between engines.

use domain::{ChannelId, WorkspaceId};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::found;
use crate::{Storage, StorageError};

/// A typed value as the JSON text stored for it.
pub(crate) fn to_json(what: &str, value: &impl Serialize) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

/// A stored JSON text as its type; text this version cannot read is `Corrupt`, naming it.
pub(crate) fn from_json<T: DeserializeOwned>(what: &str, json: &str) -> Result<T, StorageError> {
    serde_json::from_str(json).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

/// Which per-channel document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChannelDocument {
    /// `channel_overrides.data`: the channel's overrides of the product settings.
    Overrides,
    /// `channel_mappings.mapping`: the channel's column mapping of P41 product imports.
    Mapping,
}

struct DocumentSql {
    select: &'static str,
    /// $1 channel, $2 workspace, $3 JSON, $4 now. Replaces the channel's document only when
    /// the channel is in the workspace.
    upsert: &'static str,
    delete: &'static str,
    pkey: &'static str,
}

/// The statements of the document in `$column` of `$table`.
macro_rules! document_sql {
    ($table:literal, $column:literal) => {
        DocumentSql {
            select: concat!(
                "SELECT ",
                $column,
                " FROM ",
                $table,
                " WHERE workspace_id = $1 AND channel_id = $2"
            ),
            upsert: concat!(
                "INSERT INTO ",
                $table,
                " (channel_id, workspace_id, ",
                $column,
                ", updated_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (channel_id) DO UPDATE SET ",
                $column,
                " = excluded.",
                $column,
                ", updated_at_ms = excluded.updated_at_ms WHERE ",
                $table,
                ".workspace_id = excluded.workspace_id"
            ),
            delete: concat!(
                "DELETE FROM ",
                $table,
                " WHERE workspace_id = $1 AND channel_id = $2"
            ),
            pkey: concat!($table, "_pkey"),
        }
    };
}

static OVERRIDES: DocumentSql = document_sql!("channel_overrides", "data");
static MAPPING: DocumentSql = document_sql!("channel_mappings", "mapping");

impl ChannelDocument {
    fn sql(self) -> &'static DocumentSql {
        match self {
            Self::Overrides => &OVERRIDES,
            Self::Mapping => &MAPPING,
        }
    }
}

impl Storage {
    /// The channel's document, or `None` if it has none (or is not in the workspace).
    pub(crate) async fn channel_document<T: DeserializeOwned>(
        &self,
        document: ChannelDocument,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Option<T>, StorageError> {
        let json: Option<String> = on_reader!(self, |p| sqlx::query_scalar(document.sql().select)
            .bind(ws.0)
            .bind(channel.0)
            .fetch_optional(p)
            .await)?;
        json.map(|json| from_json(document.sql().pkey, &json))
            .transpose()
    }

    /// Saves the channel's document, replacing an earlier one. `NotFound` if the channel is
    /// not in the workspace.
    pub(crate) async fn save_channel_document(
        &self,
        document: ChannelDocument,
        ws: WorkspaceId,
        channel: ChannelId,
        value: &impl Serialize,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let sql = document.sql();
        let json = to_json(sql.pkey, value)?;
        let rows = on_writer!(self, |p| sqlx::query(sql.upsert)
            .bind(channel.0)
            .bind(ws.0)
            .bind(&json)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write(sql.pkey))?;
        found(rows)
    }

    /// Deletes the channel's document; nothing to do if it has none, and a channel of another
    /// workspace is not touched.
    pub(crate) async fn delete_channel_document(
        &self,
        document: ChannelDocument,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<(), StorageError> {
        on_writer!(self, |p| sqlx::query(document.sql().delete)
            .bind(ws.0)
            .bind(channel.0)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }
}
