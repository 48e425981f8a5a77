//! What can go wrong while serving a page, and how each failure reaches the seller: a clear
//! page for what they can act on, an opaque one (with the cause in the log) for the rest.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::ui::ErrorPage;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("page not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("the form was not sent from this site or has expired")]
    Csrf,
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::Storage(storage::StorageError::NotFound) => StatusCode::NOT_FOUND,
            Self::Storage(storage::StorageError::InvalidText) => StatusCode::BAD_REQUEST,
            Self::Storage(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (title, message) = match &self {
            Self::NotFound | Self::Storage(storage::StorageError::NotFound) => (
                "Page not found",
                "There is nothing here. It may have been removed, or the link is wrong.".to_owned(),
            ),
            Self::BadRequest(why) => ("That request could not be read", why.clone()),
            Self::Storage(storage::StorageError::InvalidText) => (
                "That request could not be read",
                "It holds a character that cannot be stored (a NUL byte). Remove it and send it again; nothing was changed.".to_owned(),
            ),
            Self::Csrf => (
                "This form has expired",
                "For your security the form could not be accepted. Go back, reload the page and send it again.".to_owned(),
            ),
            Self::Storage(_) | Self::Internal(_) => {
                tracing::error!(error = ?self, "request failed");
                (
                    "Something went wrong on our side",
                    "Nothing was changed. Try again in a moment; if it keeps happening, tell your operator.".to_owned(),
                )
            }
        };
        ErrorPage::new(title, message).with_status(status)
    }
}

impl From<domain::InputError> for WebError {
    fn from(error: domain::InputError) -> Self {
        Self::BadRequest(error.to_string())
    }
}
