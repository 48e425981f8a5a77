//! Where each SKU's product creation stands on a marketplace that knows products by the
//! seller's SKU (P41 product import): the content hash of the product line last sent, the
//! import that carried it, and its state (`waiting`, `sent`, `live`, `error`). The same shape
//! and life as the offers of [`crate::channel_item`], in the table `channel_products`, on the
//! same implementation; rows are [`ChannelItem`]s in [`ItemState::PRODUCT_STATES`].
//!
//! How a row moves:
//! - [`Storage::record_products_sent`]: `sent`, waiting for its P41 import;
//! - [`Storage::record_import_outcome`] (in [`crate::Ledger::Products`]): the import's `sent`
//!   rows become `live` or `error`; those of an import that failed as a whole become `error`,
//!   to be sent again;
//! - [`Storage::record_product_errors`]: `error` before sending (a required value missing);
//! - [`Storage::forget_product_hashes`]: `waiting`, to be sent again.
//!
//! A catalog item without a row has never been sent: its product is waiting.

use domain::{ChannelId, ItemState, WorkspaceId};

use crate::channel_item::Ledger;
use crate::{ChannelItem, Storage, StorageError};

impl Storage {
    /// The channel's product rows for these SKUs, in SKU order. SKUs without a row are left
    /// out: they are waiting.
    pub async fn channel_products_for(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        skus: &[String],
    ) -> Result<Vec<ChannelItem>, StorageError> {
        self.ledger_rows_for(Ledger::Products, ws, channel, skus)
            .await
    }

    /// Records that these products (SKU, content hash of the line) went out in the P41 import
    /// `import_id`, in one transaction: they are `sent` until its result comes back
    /// ([`Storage::record_import_outcome`]). Any earlier error is cleared. If a SKU is
    /// listed twice the last one wins. `NotFound` if the channel is not in the workspace.
    pub async fn record_products_sent(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        products: &[(String, Vec<u8>)],
        import_id: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.ledger_record_sent(
            Ledger::Products,
            ws,
            channel,
            products,
            Some(import_id),
            now_ms,
        )
        .await
    }

    /// Problems found before sending (a required value missing, a value not in a list), in one
    /// transaction: the products become `error` with their message (several for one SKU are
    /// joined with "; ") and lose their hash, so they are sent once fixed. `NotFound` if the
    /// channel is not in the workspace.
    pub async fn record_product_errors(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        errors: &[(String, String)],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.ledger_errors(Ledger::Products, ws, channel, errors, now_ms)
            .await
    }

    /// These products go back to `waiting` without a hash, so the next export sends them
    /// again (the marketplace lost them, or the mapping changed what they should be). Returns
    /// how many rows changed.
    pub async fn forget_product_hashes(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
        skus: &[String],
        now_ms: i64,
    ) -> Result<u64, StorageError> {
        self.ledger_set_unsent(
            Ledger::Products,
            ws,
            channel,
            skus,
            ItemState::Waiting,
            now_ms,
        )
        .await
    }

    /// How many of the channel's product rows are in each state, every state of
    /// [`ItemState::PRODUCT_STATES`] listed in that order, even at zero.
    pub async fn product_state_counts(
        &self,
        ws: WorkspaceId,
        channel: ChannelId,
    ) -> Result<Vec<(ItemState, i64)>, StorageError> {
        self.ledger_state_counts(Ledger::Products, ws, channel)
            .await
    }
}
