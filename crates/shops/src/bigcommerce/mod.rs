//! BigCommerce: a store's REST API ([`BcClient`]: the v3 catalog, v2 orders and shipments, v3
//! hooks), paced to the store's rate limit ([`pace`]), the app install and its signed callbacks
//! ([`app`]), and what a hook delivers ([`webhooks`]).

pub mod app;
pub mod catalog;
mod client;
mod error;
pub mod orders;
mod pace;
pub mod webhooks;

pub use app::StoreHash;
pub use catalog::{BcProduct, Names};
pub use client::{API_ROOT, AccessToken, BcClient, StoreApi, StoreApiError};
pub use error::BcError;
