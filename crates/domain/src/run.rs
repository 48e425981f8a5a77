//! How a pass of a flow (a sync run) and a Disconnect stand.

crate::named_enum! {
    /// One pass of a flow (catalog read, export, order import, …).
    pub enum SyncRunStatus {
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
}

crate::named_enum! {
    /// What happens to the catalog on the channels when disconnecting.
    pub enum DisconnectChoice {
        /// Disconnect and leave the offers active.
        Keep = "keep",
        /// Stock 0 on every channel.
        Deactivate = "deactivate",
        /// Delete the products from the channels.
        Delete = "delete",
    }
}

crate::named_enum! {
    /// A Disconnect under way, stopped by a failure, or finished.
    pub enum DisconnectStatus {
        Running = "running",
        Failed = "failed",
        Done = "done",
    }
}
