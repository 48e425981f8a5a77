//! Marketbridge's vocabulary (DESIGN §1) as types: ids, newtypes that are parsed once at the
//! edge, the state machines of channels and tokens, and the catalog with its rules. This crate
//! does no I/O and knows nothing of HTTP or SQL.

mod named;

pub mod account;
pub mod catalog;
pub mod channel;
pub mod ids;
pub mod input;
pub mod order;
pub mod run;
pub mod shop;

pub use account::{Email, EmailError, Password, PasswordError};
pub use catalog::{
    CatalogItem, Category, ChannelOverrides, ConnectProduct, ContentHash, Currency, Discount,
    FieldError, FieldSource, Gtin, GtinError, ItemState, Money, MoneyError, Offer, OfferProblem,
    PriceRule, ProductIdType, ProductSettings, Removal, RemovalPolicy, Rounding, Selection, Sku,
    SkuError, Stock, StockRule, StockStatus, channel_price, channel_quantity, connect_product_for,
    connect_product_hash, is_selected, offer_for, offer_hash, removal_offer,
};
pub use channel::{
    ChannelEvent, ChannelKind, ChannelStatus, InstanceUrl, InstanceUrlError, MarketplaceDefinition,
    StoreId, StoreIdError, TokenState, TransitionError,
};
pub use ids::{ChannelId, JobId, OrderId, ShopId, UserId, WorkspaceId};
pub use input::{InputError, check_field};
pub use run::{DisconnectChoice, DisconnectStatus, SyncRunStatus};
pub use shop::{ShopConnection, ShopHealth, ShopPlatform};
