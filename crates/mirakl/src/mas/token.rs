//! What MAS answers to a token or refresh request.

use std::fmt;
use std::time::Duration;

use oauth2::basic::BasicTokenType;
use oauth2::{ExtraTokenFields, StandardTokenResponse, TokenResponse as _};
use serde::{Deserialize, Serialize};

/// Tokens from MAS. Its `Debug` never shows the tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<Duration>,
    /// Space-separated, as sent.
    pub scope: Option<String>,
    /// Mirakl-specific; meaning undocumented. An empty string is read as absent.
    pub target_app: Option<String>,
    /// Mirakl-specific; probably the user or company that granted access. An empty string is
    /// read as absent.
    pub resource_owner: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("target_app", &self.target_app)
            .field("resource_owner", &self.resource_owner)
            .finish()
    }
}

/// The fields MAS adds to the RFC 6749 token response.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(super) struct MiraklTokenFields {
    #[serde(default)]
    target_app: Option<String>,
    #[serde(default)]
    resource_owner: Option<String>,
}

impl ExtraTokenFields for MiraklTokenFields {}

pub(super) type MasTokenResponse = StandardTokenResponse<MiraklTokenFields, BasicTokenType>;

impl From<MasTokenResponse> for TokenResponse {
    fn from(response: MasTokenResponse) -> Self {
        let scope = response.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        });
        let extra = response.extra_fields().clone();
        Self {
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            expires_in: response.expires_in(),
            scope,
            target_app: extra.target_app.filter(|s| !s.is_empty()),
            resource_owner: extra.resource_owner.filter(|s| !s.is_empty()),
        }
    }
}
