//! The WooCommerce REST API (wc/v3) of one store, its app authorization, and the address a
//! seller types for it.
//!
//! Requests authenticate as WooCommerce's official clients do, with [`Credentials`]:
//! HTTP Basic on `https://` stores, one-legged OAuth 1.0a (HMAC-SHA256) in the query string on
//! plain `http://` ones. Redirects are never followed: they become [`WooError::Redirected`],
//! naming the address to connect instead.

mod app_auth;
mod auth;
mod catalog;
mod client;
mod error;
pub mod normalize;
mod orders;
mod store_url;
mod webhooks;
mod wire;

pub use app_auth::{AppAuthorization, AppKeys, Scope, app_authorization_url};
pub use auth::{ConsumerSecret, Credentials};
pub use catalog::{
    Attribute, Image, ManageStock, MetaData, Page, Product, ProductQuery, StoreSummary, Term,
    Variation, VariationAttribute,
};
pub use client::WooClient;
pub use error::WooError;
pub use normalize::{NormalizeProblem, NormalizeProblemKind, catalog_items};
pub use orders::{
    MIRAKL_CHANNEL_META, MIRAKL_ORDER_META, NewWooLine, NewWooOrder, TRACKING_ITEMS_META,
    TrackedItem, Tracking, WooAddress, WooLineItem, WooOrder, WooRefundSummary,
};
pub use store_url::{StoreUrl, StoreUrlError};
pub use webhooks::{NewWebhook, Webhook};
