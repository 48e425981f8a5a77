//! A channel's named positions in time, e.g. how far its exports have looked at the catalog's
//! changes. A position only moves forward.

use domain::{ChannelId, WorkspaceId};

use crate::error::found;
use crate::{Storage, StorageError};

impl Storage {
    /// The position `name` of the channel, if it was ever set.
    pub async fn channel_cursor(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        name: &str,
    ) -> Result<Option<i64>, StorageError> {
        const SQL: &str = "SELECT position FROM channel_cursors \
             WHERE workspace_id = $1 AND channel_id = $2 AND name = $3";
        Ok(on_reader!(self, |p| sqlx::query_scalar(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .bind(name)
            .fetch_optional(p)
            .await)?)
    }

    /// Moves the position `name` to `position`, unless it is further already. `NotFound` if the
    /// channel is not in the workspace.
    pub async fn advance_channel_cursor(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        name: &str,
        position: i64,
    ) -> Result<(), StorageError> {
        // The SELECT scopes the write to the workspace: a foreign channel inserts nothing.
        const SQL: &str = "INSERT INTO channel_cursors (workspace_id, channel_id, name, position) \
             SELECT workspace_id, id, $3, $4 FROM channels WHERE workspace_id = $1 AND id = $2 \
             ON CONFLICT (channel_id, name) DO UPDATE SET position = excluded.position \
             WHERE channel_cursors.position < excluded.position";
        const EXISTS: &str = "SELECT COUNT(*) FROM channels WHERE workspace_id = $1 AND id = $2";
        let rows = on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .bind(name)
            .bind(position)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))
        .map_err(StorageError::on_write("channel_cursors_pkey"))?;
        if rows == 0 {
            // Nothing written: the position was further already, or the channel is not ours.
            let n: i64 = on_reader!(self, |p| sqlx::query_scalar(EXISTS)
                .bind(ws.0)
                .bind(channel.0)
                .fetch_one(p)
                .await)?;
            return found(n as u64);
        }
        Ok(())
    }

    /// Forgets the position `name`: the next look starts from the beginning.
    pub async fn reset_channel_cursor(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        name: &str,
    ) -> Result<(), StorageError> {
        const SQL: &str = "DELETE FROM channel_cursors \
             WHERE workspace_id = $1 AND channel_id = $2 AND name = $3";
        on_writer!(self, |p| sqlx::query(SQL)
            .bind(ws.0)
            .bind(channel.0)
            .bind(name)
            .execute(p)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }
}
