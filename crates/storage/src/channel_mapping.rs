//! Each marketplace channel's column mapping: where each marketplace attribute of a P41 product
//! import is read on a catalog item: `domain`'s `ProductMapping`, kept as JSON
//! (`channel_document`).

use domain::catalog::ProductMapping;
use domain::{ChannelId, WorkspaceId};

use crate::channel_document::ChannelDocument;
use crate::{Storage, StorageError};

impl Storage {
    /// The channel's column mapping, or `None` if it has none (or is not in the workspace).
    pub async fn channel_mapping(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Option<ProductMapping>, StorageError> {
        self.channel_document(ChannelDocument::Mapping, ws, channel)
            .await
    }

    /// Saves the channel's column mapping, replacing an earlier one. `NotFound` if the channel
    /// is not in the workspace.
    pub async fn save_channel_mapping(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        mapping: &ProductMapping,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.save_channel_document(ChannelDocument::Mapping, ws, channel, mapping, now_ms)
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
