//! The catalog (DESIGN §1, F3/F4): catalog items read from the shop, the seller's product
//! settings, the rules that turn an item into what each channel receives (a marketplace
//! offer, a Mirakl Connect product, or the P41 line that creates a product on a marketplace
//! through the channel's column mapping), and the content hashes that tell what changed.
//!
//! Pure: no I/O, no clock (callers pass `now_ms`), nothing shop- or HTTP-specific. The shop
//! clients map their products into [`CatalogItem`]; the Mirakl clients send [`Offer`]s and
//! [`ConnectProduct`]s as they are.

mod connect;
mod hash;
mod item;
mod item_state;
mod mapping;
mod money;
mod offer;
mod rules;
mod settings;
mod text;

pub use connect::{
    ConnectAttribute, ConnectCategory, ConnectDiscountPrice, ConnectGtin, ConnectImage,
    ConnectMoney, ConnectProduct, ConnectQuantity, ConnectStandardPrice, ConnectStockUpdate,
    DEFAULT_LOCALE, LocalizedText, connect_product_for, connect_zero_stock, utc_timestamp,
};
pub use hash::{
    ContentHash, ContentHashError, connect_product_hash, offer_hash, product_line_hash,
};
pub use item::{CatalogItem, Category, Gtin, GtinError, Sku, SkuError, Stock, StockStatus};
pub use item_state::ItemState;
pub use mapping::{
    ColumnSource, MappingError, MarketplaceAttribute, MarketplaceCategory, ProductLine,
    ProductMapping, ProductProblem, columns, product_line_for,
};
pub use money::{Currency, CurrencyError, Money, MoneyError};
pub use offer::{
    OFFER_DESCRIPTION_MAX_CHARS, Offer, OfferProblem, Removal, field_value, find_gtin, offer_for,
    removal_offer,
};
pub use rules::{Discount, MAX_QUANTITY, channel_price, channel_quantity, is_selected};
pub use settings::{
    ChannelOverrides, FieldError, FieldSource, PriceRule, ProductIdType, ProductSettings,
    RemovalPolicy, Rounding, Selection, StockRule,
};
pub use text::{plain_text, truncate_chars};
