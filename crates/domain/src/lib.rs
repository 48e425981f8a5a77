//! Marketbridge's vocabulary (DESIGN §1) as types: ids, newtypes that are parsed once at the
//! edge, and the state machines of channels and tokens. This crate does no I/O and knows
//! nothing of HTTP or SQL.

pub mod account;
pub mod channel;
pub mod ids;

pub use account::{Email, EmailError, Password, PasswordError};
pub use channel::{
    ChannelEvent, ChannelKind, ChannelStatus, InstanceUrl, InstanceUrlError, MarketplaceDefinition,
    StoreId, StoreIdError, TokenState, TransitionError,
};
pub use ids::{ChannelId, JobId, UserId, WorkspaceId};
