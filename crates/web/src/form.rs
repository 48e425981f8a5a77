//! A form extractor whose failures are pages a seller can read, instead of axum's plain-text
//! rejections.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::WebError;

pub struct Form<T>(pub T);

impl<S, T> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Form(v)),
            Err(rejection) => Err(WebError::BadRequest(format!(
                "The form could not be read ({}). Go back and send it again.",
                rejection.body_text()
            ))),
        }
    }
}
