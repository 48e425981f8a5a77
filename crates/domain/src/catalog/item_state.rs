//! Where a catalog item (or a product created on a marketplace) stands on one channel.

crate::named_enum! {
    /// Where an item stands on a channel; the names are the words the Products page shows.
    pub enum ItemState {
        /// Not sent yet, or to be sent again.
        Waiting = "waiting",
        /// Sent in an import whose result has not come back.
        Sent = "sent",
        /// Accepted by the channel.
        Live = "live",
        /// Refused, by the channel or before sending; the row's error says why.
        Error = "error",
        /// Taken off the channel.
        Removed = "removed",
    }
}

impl ItemState {
    /// The states of a product created on a marketplace: it is never removed by this
    /// connector.
    pub const PRODUCT_STATES: &'static [ItemState] =
        &[Self::Waiting, Self::Sent, Self::Live, Self::Error];
}
