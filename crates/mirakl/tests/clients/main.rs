//! Integration tests of the Mirakl clients against a tiny local HTTP server.
//! One test binary (zero2prod style) so the crate links once.

mod connect;
mod connect_orders;
mod marketplace;
mod mas;
mod offers;
mod offers_file;
mod orders;
mod products;
mod sandbox;
mod support;
