//! The flows that run with nobody watching, as jobs over the Mirakl clients and storage.
//! Today: F7, keeping every channel's access token fresh, and the
//! shops' health checks and webhook deliveries. This crate owns no SQL (that is
//! `storage`) and no HTTP routes (that is `web`).

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
