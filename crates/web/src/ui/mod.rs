//! The seller's pages, one module per area.

pub mod account;
pub mod accounts;
pub mod bigcommerce;
pub mod channels;
pub mod dashboard;
pub mod disconnect;
pub mod oauth;
pub mod onboarding;
pub mod order_settings;
pub mod orders;
pub mod product_creation;
pub mod product_settings;
pub mod products;
pub mod shop;

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::AppState;
use crate::session::Session;

/// What the page header needs: the sign-out form appears for signed-in sellers only.
pub struct Nav {
    pub csrf_for_sign_out: Option<String>,
}

impl Nav {
    pub fn for_session(session: &Session) -> Self {
        Self {
            csrf_for_sign_out: session.user.map(|_| session.csrf_token.clone()),
        }
    }

    pub fn anonymous() -> Self {
        Self {
            csrf_for_sign_out: None,
        }
    }
}

/// Renders a template into a response; a template error is a bug, logged and shown as a 500.
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    nav: Nav,
    title: String,
    message: String,
    action: Option<(String, String)>,
}

impl ErrorPage {
    pub fn new(title: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            nav: Nav::anonymous(),
            title: title.into(),
            message: message.into(),
            action: None,
        }
    }

    /// Adds a link, such as "Try again", under the message.
    pub fn with_action(mut self, href: impl Into<String>, label: impl Into<String>) -> Self {
        self.action = Some((href.into(), label.into()));
        self
    }

    pub fn with_nav(mut self, session: &Session) -> Self {
        self.nav = Nav::for_session(session);
        self
    }

    pub fn with_status(self, status: StatusCode) -> Response {
        (status, render(&self)).into_response()
    }
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        self.with_status(StatusCode::BAD_REQUEST)
    }
}

/// A Unix time in milliseconds as the seller reads it.
pub fn format_time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

pub async fn health(State(state): State<AppState>) -> Response {
    match state.storage().ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/style.css"),
    )
        .into_response()
}

pub async fn disconnect_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/disconnect.js"),
    )
        .into_response()
}

pub async fn not_found() -> Response {
    crate::WebError::NotFound.into_response()
}
