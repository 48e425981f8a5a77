//! Each marketplace channel's column mapping: where each marketplace attribute of a P41 product
//! import is read on a catalog item. JSON text whose shape is `domain`'s `ProductMapping`;
//! storage keeps it as given (`channel_document`).

use domain::{ChannelId, WorkspaceId};

use crate::channel_document::ChannelDocument;
use crate::{Storage, StorageError};

impl Storage {
    /// The channel's column mapping (JSON), or `None` if it has none (or is not in the
    /// workspace).
    pub async fn channel_mapping(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Option<String>, StorageError> {
        self.channel_document(ChannelDocument::Mapping, ws, channel)
            .await
    }

    /// Saves the channel's column mapping (JSON), replacing an earlier one. `NotFound` if the
    /// channel is not in the workspace.
    pub async fn save_channel_mapping(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        json: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.save_channel_document(ChannelDocument::Mapping, ws, channel, json, now_ms)
            .await
    }

    /// Forgets the channel's column mapping. Nothing to do if it has none; a channel of another
    /// workspace is not touched.
    pub async fn delete_channel_mapping(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<(), StorageError> {
        self.delete_channel_document(ChannelDocument::Mapping, ws, channel)
            .await
    }
}
