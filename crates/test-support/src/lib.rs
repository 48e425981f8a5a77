//! What the integration and browser tests stand on: [`TestApp`] starts the real connector and
//! the real sandbox in this process on port 0 with a fresh database, and [`Browser`] drives
//! headless Chromium through chromedriver by the labels a seller reads.

mod app;
mod browser;
pub mod flows;
mod logs;
pub mod visitor;

pub use app::TestApp;
pub use browser::Browser;
pub use flows::ShopKind;
pub use logs::LogCapture;
pub use storage::Engine;
pub use visitor::{FormSubmission, Page, Visitor};
