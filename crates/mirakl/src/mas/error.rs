//! How MAS answers map to [`MasError`]: the one place that reads RFC 6749 error bodies.

use oauth2::RequestTokenError;
use oauth2::basic::{BasicErrorResponse, BasicErrorResponseType};

use crate::{body_excerpt, transport_failure};

/// Why a MAS call failed. No variant ever carries a token or the client secret.
#[derive(Debug, thiserror::Error)]
pub enum MasError {
    /// The code or refresh token is dead (used, expired or revoked).
    #[error(
        "Mirakl no longer accepts this authorization ({0}). Connect the channel to Mirakl again."
    )]
    InvalidGrant(String),
    /// The connector's client id or secret was refused.
    #[error(
        "Mirakl refused the connector's client ID or client secret. Check the MAS client configuration."
    )]
    InvalidClient,
    /// Any other RFC 6749 error.
    #[error("Mirakl refused the request with `{error}`{}.", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused {
        error: String,
        description: Option<String>,
    },
    /// No answer (connection refused, DNS, timeout).
    #[error("Mirakl's authentication service could not be reached ({0}). Try again later.")]
    Unreachable(String),
    /// An answer that is neither tokens nor an RFC 6749 error (5xx, HTML, a redirect, …).
    #[error(
        "Mirakl's authentication service gave an unexpected answer (HTTP {status}: {body_excerpt})."
    )]
    UnexpectedResponse { status: u16, body_excerpt: String },
}

impl MasError {
    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::UnexpectedResponse { status, .. } => *status >= 500 || *status == 429,
            // RFC 6749 §4.1.2.1 names this one for a server that is briefly overloaded.
            Self::Refused { error, .. } => error == "temporarily_unavailable",
            Self::InvalidGrant(_) | Self::InvalidClient => false,
        }
    }

    pub(super) fn from_transport(error: &reqwest::Error) -> Self {
        Self::Unreachable(transport_failure(error))
    }

    /// An RFC 6749 §5.2 error body, or whatever else an error response held.
    pub(super) fn from_error_body(status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<BasicErrorResponse>(body) {
            Ok(response) => Self::from_error_response(status, &response),
            Err(_) => Self::UnexpectedResponse {
                status,
                body_excerpt: body_excerpt(body),
            },
        }
    }

    fn from_error_response(status: u16, response: &BasicErrorResponse) -> Self {
        // A server error is a server error, whatever its body calls it.
        if status >= 500 {
            return Self::UnexpectedResponse {
                status,
                body_excerpt: response.to_string(),
            };
        }
        let description = response.error_description().cloned();
        match response.error() {
            BasicErrorResponseType::InvalidGrant => {
                Self::InvalidGrant(description.unwrap_or_else(|| "invalid_grant".to_owned()))
            }
            BasicErrorResponseType::InvalidClient => Self::InvalidClient,
            other => Self::Refused {
                error: other.as_ref().to_owned(),
                description,
            },
        }
    }

    /// `status` is the HTTP status of the answer, when one arrived.
    pub(super) fn from_token_error(
        error: RequestTokenError<reqwest::Error, BasicErrorResponse>,
        status: Option<u16>,
    ) -> Self {
        let status = status.unwrap_or_default();
        match error {
            RequestTokenError::Request(error) => Self::from_transport(&error),
            RequestTokenError::ServerResponse(response) => {
                Self::from_error_response(status, &response)
            }
            // A success body holds tokens: name the field that failed, never quote the body.
            RequestTokenError::Parse(error, _) if (200..300).contains(&status) => {
                Self::UnexpectedResponse {
                    status,
                    body_excerpt: format!(
                        "a token response that does not parse at `{}`",
                        error.path()
                    ),
                }
            }
            RequestTokenError::Parse(_, body) => Self::UnexpectedResponse {
                status,
                body_excerpt: body_excerpt(&body),
            },
            RequestTokenError::Other(message) => Self::UnexpectedResponse {
                status,
                body_excerpt: message,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6749_error_bodies_map_to_their_variants() {
        let grant = MasError::from_error_body(
            400,
            br#"{"error":"invalid_grant","error_description":"used"}"#,
        );
        assert!(
            matches!(grant, MasError::InvalidGrant(ref d) if d == "used"),
            "{grant:?}"
        );
        // Auth0-style servers answer invalid_grant with 403.
        let grant = MasError::from_error_body(403, br#"{"error":"invalid_grant"}"#);
        assert!(matches!(grant, MasError::InvalidGrant(_)), "{grant:?}");
        let scope = MasError::from_error_body(400, br#"{"error":"invalid_scope"}"#);
        assert!(
            matches!(scope, MasError::Refused { ref error, description: None } if error == "invalid_scope"),
            "{scope:?}"
        );
        let server = MasError::from_error_body(503, br#"{"error":"server_error"}"#);
        assert!(
            matches!(server, MasError::UnexpectedResponse { status: 503, .. }),
            "{server:?}"
        );
        assert!(server.is_retryable());
        assert!(!grant.is_retryable());
    }
}
