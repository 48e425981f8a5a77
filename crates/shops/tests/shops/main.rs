//! Integration tests of the shop clients: against a small local fake store, and end to end
//! against the sandbox's emulated WooCommerce store. One test binary (zero2prod style) so the
//! crate links once.

mod app_authorization;
mod bc_app;
mod sandbox;
mod support;
mod webhooks;
mod woocommerce;
