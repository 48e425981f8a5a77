//! Errors of the JSON API as `application/problem+json` (RFC 9457): a `type` that links to the
//! docs page, a `title`, the `status` and a `detail` that says what to do. Internal failures
//! are logged with their cause and answered with an opaque problem.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem report (RFC 9457).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A link to where this kind of problem is explained.
    #[serde(rename = "type")]
    pub kind: String,
    /// The kind of problem, the same for every occurrence.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What happened this time, and what to do about it.
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, or one that is malformed, unknown or revoked.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// A read-only token on a route that changes something.
    #[error("this token may only read")]
    ReadOnlyToken,
    /// Not there, or in another workspace (never told apart).
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The action does not fit the resource's state now.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::ReadOnlyToken => StatusCode::FORBIDDEN,
            Self::NotFound | Self::Storage(storage::StorageError::NotFound) => {
                StatusCode::NOT_FOUND
            }
            Self::BadRequest(_) | Self::Storage(storage::StorageError::InvalidText) => {
                StatusCode::BAD_REQUEST
            }
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Storage(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem(&self) -> Problem {
        let (slug, title, detail) = match self {
            Self::Unauthorized(why) => ("unauthorized", "Authentication required", (*why).to_owned()),
            Self::ReadOnlyToken => (
                "read-only-token",
                "This token may only read",
                "This route changes something, and the token was created with read-only access. Create a token with \"Read and write\" access on the Account page.".to_owned(),
            ),
            Self::NotFound | Self::Storage(storage::StorageError::NotFound) => (
                "not-found",
                "Not found",
                "There is no such resource in this token's workspace.".to_owned(),
            ),
            Self::BadRequest(why) => ("bad-request", "The request could not be read", why.clone()),
            Self::Storage(storage::StorageError::InvalidText) => (
                "bad-request",
                "The request could not be read",
                "It holds a character that cannot be stored (a NUL byte).".to_owned(),
            ),
            Self::Conflict(why) => ("conflict", "Not possible now", why.clone()),
            Self::Storage(_) | Self::Internal(_) => {
                tracing::error!(error = ?self, "API request failed");
                (
                    "internal",
                    "Something went wrong on our side",
                    "Nothing was changed. Try again in a moment; if it keeps happening, tell your operator.".to_owned(),
                )
            }
        };
        Problem {
            kind: problem_type(slug),
            title: title.to_owned(),
            status: self.status().as_u16(),
            detail,
        }
    }
}

/// Where a kind of problem is explained: its entry on the docs page.
fn problem_type(slug: &str) -> String {
    format!("/api/v1/docs#problem-{slug}")
}

/// The kinds of problem, with what each means: listed on the docs page.
pub const PROBLEM_KINDS: [(&str, u16, &str); 7] = [
    (
        "bad-request",
        400,
        "A query parameter, the cursor or a path is not valid.",
    ),
    (
        "unauthorized",
        401,
        "No token was sent as `Authorization: Bearer mb_…`, or it is malformed, unknown or revoked. A session cookie alone is never accepted.",
    ),
    (
        "read-only-token",
        403,
        "A read-only token was sent to a route that changes something.",
    ),
    (
        "not-found",
        404,
        "No such resource in the token's workspace (another workspace's ids are not found either).",
    ),
    (
        "conflict",
        409,
        "The action does not fit the resource's state now, e.g. accepting an order that no longer waits for a decision.",
    ),
    (
        "http",
        0,
        "Any other HTTP error (405, 413, …): the title is the status's reason.",
    ),
    (
        "internal",
        500,
        "Something failed on the server; nothing was changed.",
    ),
];

fn problem_response(status: StatusCode, problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).expect("a problem serializes");
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"marketbridge\""),
        );
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        problem_response(self.status(), &self.problem())
    }
}

/// Turns every error answer of the API that is not a problem yet (axum's 405, the body limit's
/// 413, an unknown path's 404) into one, so clients read one shape of error.
pub async fn every_error_is_a_problem(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let problem = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound.problem(),
        _ => Problem {
            kind: problem_type("http"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: match status {
                StatusCode::METHOD_NOT_ALLOWED => {
                    "This route does not take this method; the Allow header lists those it takes."
                        .to_owned()
                }
                StatusCode::PAYLOAD_TOO_LARGE => {
                    "The request body is larger than the API accepts.".to_owned()
                }
                _ => "The request could not be served.".to_owned(),
            },
        },
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut answer = problem_response(status, &problem);
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    answer
}
