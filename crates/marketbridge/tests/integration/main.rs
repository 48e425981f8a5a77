//! Integration tests: the real connector and the real sandbox, in this process, each test with
//! a fresh database. They drive the connector over HTTP the way a browser would.

mod accounts;
mod api;
mod authorization;
mod bigcommerce_app;
mod budgets;
mod catalog;
mod disconnect;
mod fleet;
mod hostile_input;
mod jobs;
mod metrics;
mod onboarding;
mod operator;
mod order_kills;
mod orders;
mod orders_pages;
mod product_creation;
mod product_creation_sync;
mod product_settings;
mod security;
mod shop_addresses;
mod tokens;
mod webhooks;
