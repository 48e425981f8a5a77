//! Who calls the API: the workspace of the bearer token in `Authorization`, and nothing else.
//! Cookies are never read here, so a browser's session cannot be ridden into the API (no CSRF
//! to defend), and the pages never read this header, so a token opens no page.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use domain::WorkspaceId;
use storage::{ApiScope, now_ms};

use super::problem::ApiError;
use super::token::ApiTokenSecret;
use crate::AppState;

const NO_TOKEN: &str = "Send an API token as `Authorization: Bearer mb_…`. Create one on the Account page; a session cookie is not accepted here.";
const BAD_TOKEN: &str = "The token is malformed, unknown or revoked. Check that it was copied whole, or create a new one on the Account page.";

/// A request with a live token: its workspace and what it may do.
#[derive(Clone, Copy, Debug)]
pub struct ApiCaller {
    pub workspace_id: WorkspaceId,
    pub scope: ApiScope,
}

/// A caller whose token may also change things; a read-only token gets a 403.
#[derive(Clone, Copy, Debug)]
pub struct ApiWriter(pub ApiCaller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let mut sent = parts.headers.get_all(AUTHORIZATION).iter();
        let value = match (sent.next(), sent.next()) {
            (None, _) => return Err(ApiError::Unauthorized(NO_TOKEN)),
            (Some(value), None) => value,
            (Some(_), Some(_)) => return Err(ApiError::Unauthorized(BAD_TOKEN)),
        };
        let value = value
            .to_str()
            .map_err(|_| ApiError::Unauthorized(BAD_TOKEN))?;
        let (scheme, token) = value
            .trim()
            .split_once(' ')
            .ok_or(ApiError::Unauthorized(BAD_TOKEN))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::Unauthorized(BAD_TOKEN));
        }
        let secret =
            ApiTokenSecret::parse(token.trim()).ok_or(ApiError::Unauthorized(BAD_TOKEN))?;
        let token = state
            .storage()
            .use_api_token(&secret.hash(), now_ms())
            .await?
            .ok_or(ApiError::Unauthorized(BAD_TOKEN))?;
        Ok(ApiCaller {
            workspace_id: token.workspace_id,
            scope: token.scope,
        })
    }
}

impl FromRequestParts<AppState> for ApiWriter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = ApiCaller::from_request_parts(parts, state).await?;
        if !caller.scope.can_write() {
            return Err(ApiError::ReadOnlyToken);
        }
        Ok(ApiWriter(caller))
    }
}
