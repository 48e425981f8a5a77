//! Reading `application/x-www-form-urlencoded` bodies, the format of every HTML form and of the
//! OAuth endpoints, with the sandbox's body size limit.

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::page;

/// The largest request body any sandbox route accepts.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("The request body is larger than 64 KiB.")]
    TooLarge,
    #[error("The request must be sent as application/x-www-form-urlencoded.")]
    WrongContentType,
    #[error("The form body is not valid UTF-8 form encoding.")]
    Malformed,
    #[error("The field `{0}` was sent more than once.")]
    Repeated(String),
}

impl FormError {
    pub fn status(&self) -> StatusCode {
        match self {
            FormError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            FormError::WrongContentType | FormError::Malformed | FormError::Repeated(_) => {
                StatusCode::BAD_REQUEST
            }
        }
    }
}

impl IntoResponse for FormError {
    fn into_response(self) -> Response {
        page::error(
            self.status(),
            "The form could not be read",
            &format!("{self} Go back and send the form again."),
        )
    }
}

/// The fields of a decoded form; a field may appear once only (RFC 6749 §3.2 asks the same of
/// OAuth requests, and a repeated field in an HTML form is a tampered form).
#[derive(Debug, Default)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub fn parse(bytes: &[u8]) -> Result<Self, FormError> {
        std::str::from_utf8(bytes).map_err(|_| FormError::Malformed)?;
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(bytes).map_err(|_| FormError::Malformed)?;
        for (index, (name, _)) in fields.iter().enumerate() {
            if fields[..index].iter().any(|(earlier, _)| earlier == name) {
                return Err(FormError::Repeated(name.clone()));
            }
        }
        Ok(Self(fields))
    }

    /// A field's value; an empty value counts as absent, as RFC 6749 §3.1 asks.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(field, value)| field == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }
}

impl<S: Send + Sync> FromRequest<S> for FormFields {
    type Rejection = FormError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                mime.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(FormError::WrongContentType);
        }
        // The only way reading an in-memory or streamed body fails in practice is the limit
        // (a broken connection gets no answer anyway).
        let bytes = axum::body::to_bytes(request.into_body(), BODY_LIMIT)
            .await
            .map_err(|_| FormError::TooLarge)?;
        Self::parse(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_and_empty_values_count_as_absent() {
        let form = FormFields::parse(b"email=a%40b.c&password=&x=1+2").unwrap();
        assert_eq!(form.get("email"), Some("a@b.c"));
        assert_eq!(form.get("password"), None);
        assert_eq!(form.get("x"), Some("1 2"));
    }

    #[test]
    fn a_repeated_field_is_refused() {
        let error = FormFields::parse(b"code=a&code=b").unwrap_err();
        assert!(matches!(error, FormError::Repeated(name) if name == "code"));
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(matches!(
            FormFields::parse(&[b'a', b'=', 0xff]),
            Err(FormError::Malformed)
        ));
    }
}
