//! The emulated Mirakl Authentication System (real host `https://auth.mirakl.net`): the OAuth 2
//! authorization-code flow with its seller-facing pages, the token and revocation endpoints.
//!
//! The browser side walks these steps, each a page of its own, in this order:
//! `/authorize` → sign in (`login`) → e-mailed code after a password reset (`login`) →
//! store or company selection on a first authorization (`selection`) → `consent` → back to the
//! client's redirect URI. `authorize::advance` is the one place that decides the next step.

pub mod authorize;
pub mod consent;
pub mod grants;
pub mod login;
pub mod password;
pub mod selection;
pub mod session;
pub mod token;

use axum::Router;
use axum::routing::{get, post};

use crate::Sandbox;

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/authorize", get(authorize::authorize))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::sign_out))
        .route(
            "/verify",
            get(login::show_verify).post(login::submit_verify),
        )
        .route(
            "/forgot-password",
            get(password::show_forgot).post(password::submit_forgot),
        )
        .route(
            "/reset-password",
            get(password::show_reset).post(password::submit_reset),
        )
        .route("/select", get(selection::show).post(selection::submit))
        .route("/consent", get(consent::show).post(consent::submit))
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(token::revoke))
}
