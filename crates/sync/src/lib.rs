//! The flows that run with nobody watching, as jobs over the Mirakl clients and storage.
//! F3/F4, the catalog export to every channel and its reconciliation; F7, keeping every
//! channel's access token fresh; the shops' health checks and webhook deliveries; the
//! disconnect clean-up; the call budgets they share and the worker that runs them. This crate
//! owns no SQL (that is `storage`) and no HTTP routes (that is `web`).

pub mod budgets;
pub mod catalog;
pub mod disconnect;
pub mod shops;
pub mod tokens;
pub mod worker;

pub use budgets::Budgets;
pub use catalog::CatalogSync;
pub use disconnect::Disconnector;
pub use shops::ShopKeeper;
pub use tokens::{TokenError, TokenKeeper};
pub use worker::{Worker, WorkerConfig};
