//! Product settings (F3): saved per workspace, overridable per channel; `domain`'s
//! `ProductSettings` and `ChannelOverrides`, kept as JSON. Overrides are a per-channel document
//! (`channel_document`).

use domain::{ChannelId, ChannelOverrides, ProductSettings, WorkspaceId};

use crate::channel_document::{ChannelDocument, from_json, to_json};
use crate::{Storage, StorageError};

impl Storage {
    /// The workspace's saved product settings, or `None` until the seller saves them.
    pub async fn product_settings(
        &self,
        ws: WorkspaceId,
    ) -> Result<Option<ProductSettings>, StorageError> {
        const SQL: &str = "SELECT data FROM product_settings WHERE workspace_id = $1";
        let json: Option<String> = on_reader!(self, |p| sqlx::query_scalar(SQL)
            .bind(ws.0)
            .fetch_optional(p)
            .await)?;
        json.map(|json| from_json("product_settings", &json))
            .transpose()
    }

    /// Saves the workspace's product settings, replacing earlier ones. `NotFound` if the
    /// workspace does not exist.
    pub async fn save_product_settings(
        &self,
        ws: WorkspaceId,
        settings: &ProductSettings,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let json = to_json("product_settings", settings)?;
        const SQL: &str = "INSERT INTO product_settings (workspace_id, data, updated_at_ms) \
             VALUES ($1, $2, $3) \
             ON CONFLICT (workspace_id) DO UPDATE SET \
               data = excluded.data, updated_at_ms = excluded.updated_at_ms";
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(&json)
            .bind(now_ms)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("product_settings_pkey"))?;
        Ok(())
    }

    /// The channel's overrides of the product settings, or `None` if it has none (or is not
    /// in the workspace).
    pub async fn channel_overrides(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Option<ChannelOverrides>, StorageError> {
        self.channel_document(ChannelDocument::Overrides, ws, channel)
            .await
    }

    /// Saves the channel's overrides, replacing earlier ones. `NotFound` if the channel is not
    /// in the workspace.
    pub async fn save_channel_overrides(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        overrides: &ChannelOverrides,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.save_channel_document(ChannelDocument::Overrides, ws, channel, overrides, now_ms)
            .await
    }
}
