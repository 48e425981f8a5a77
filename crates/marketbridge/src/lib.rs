//! The `marketbridge` binary: command line, configuration, and the wiring of storage, the
//! Mirakl clients, the web server, the workers and the sandbox. Nothing else lives here.

pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
mod demo_orders;
pub mod fleet;
pub mod metrics;
pub mod onboarding;
pub mod operator;
pub mod telemetry;
pub mod wiring;
