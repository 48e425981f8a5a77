//! Typed ids, so a channel id can never be passed where a workspace id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id (UUIDv7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// One seller account in Marketbridge; every row of seller data belongs to exactly one.
    WorkspaceId
);
id_type!(
    /// A person who signs in to Marketbridge.
    UserId
);
id_type!(
    /// A Mirakl destination of a workspace: its Mirakl Connect account or one marketplace store.
    ChannelId
);
id_type!(
    /// A unit of background work in the job queue.
    JobId
);
id_type!(
    /// The seller's shop, connected to a workspace.
    ShopId
);
id_type!(
    /// A Mirakl order as the connector keeps it (Mirakl's own id is a string of its own).
    OrderId
);
