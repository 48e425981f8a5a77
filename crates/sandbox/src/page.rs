//! HTML pages: rendering askama templates with the headers every sandbox page carries, and the
//! shared error and message pages. The templates live in `templates/`, on one layout.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// A link shown under a message.
#[derive(Debug, Clone)]
pub struct Link {
    pub href: String,
    pub label: String,
}

impl Link {
    pub fn new(href: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            href: href.into(),
            label: label.into(),
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub title: String,
    pub paragraphs: Vec<String>,
    pub link: Option<Link>,
    pub is_error: bool,
}

/// A page rendered with `status`. Pages are never cached (they carry CSRF tokens and codes) and
/// never framed (the consent page must not be clickjacked).
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            response
        }
        Err(error) => {
            tracing::error!(%error, "a sandbox page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The sandbox could not render this page.",
            )
                .into_response()
        }
    }
}

/// An error page: what happened and what to do next, never a redirect.
pub fn error(status: StatusCode, title: &str, message: &str) -> Response {
    render(
        status,
        &MessagePage {
            title: title.to_owned(),
            paragraphs: vec![message.to_owned()],
            link: None,
            is_error: true,
        },
    )
}

/// A plain message page with one link onwards.
pub fn message(title: &str, paragraphs: Vec<String>, link: Option<Link>) -> Response {
    render(
        StatusCode::OK,
        &MessagePage {
            title: title.to_owned(),
            paragraphs,
            link,
            is_error: false,
        },
    )
}

/// An error page with a link to the way out.
pub fn error_with_link(status: StatusCode, title: &str, message: &str, link: Link) -> Response {
    render(
        status,
        &MessagePage {
            title: title.to_owned(),
            paragraphs: vec![message.to_owned()],
            link: Some(link),
            is_error: true,
        },
    )
}

/// A `303 See Other` to a sandbox page, the answer to a form or a step of a flow.
pub fn see_other(path: &str) -> Response {
    axum::response::Redirect::to(path).into_response()
}
