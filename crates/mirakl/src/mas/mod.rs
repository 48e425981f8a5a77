//! The Mirakl Authentication System (MAS): OAuth 2 authorization code flow with PKCE, token
//! refresh and revocation, for marketplace stores and Mirakl Connect companies.
//!
//! The `oauth2` crate builds the authorization URL and runs the token and refresh calls over
//! [`transport::Transport`]; revocation is a plain form POST (see [`MasClient::revoke`]).
//! Client authentication goes in the request body: Mirakl documents `client_id` and
//! `client_secret` as form fields, never HTTP Basic.

mod error;
mod token;
mod transport;

use std::fmt;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, StandardRevocableToken,
    TokenUrl,
};
use reqwest::header::{ACCEPT, HeaderValue};
use url::Url;

pub use self::error::MasError;
use self::token::MasTokenResponse;
pub use self::token::TokenResponse;
use self::transport::Transport;

/// The authorize-URL parameter that sends the seller to Mirakl Connect instead of a marketplace.
///
/// ASSUMPTION: Mirakl does not publish how a partner asks MAS for a Connect (company) grant.
/// `audience` follows the practitioner use of `audience` on the token endpoint; change it here
/// once the real parameter is known.
const CONNECT_AUDIENCE: (&str, &str) = ("audience", "connect");

/// Random bytes in the `state` parameter (base64url-encoded, so 43 characters).
const STATE_BYTES: u32 = 32;

/// The connector's MAS client secret. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for ClientSecret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// Where MAS lives and who the connector is to it.
#[derive(Clone, Debug)]
pub struct MasConfig {
    /// `https://auth.mirakl.net` in production; the sandbox's `…/mas` in tests and the demo.
    /// Endpoints: `{base}/authorize`, `{base}/oauth/token`, `{base}/oauth/revoke`.
    pub base_url: Url,
    pub client_id: String,
    pub client_secret: ClientSecret,
    /// The redirect URI registered with Mirakl for this client.
    pub redirect_uri: Url,
}

/// What the seller is asked to authorize.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorizationTarget {
    /// A store on a marketplace instance.
    Marketplace,
    /// A Mirakl Connect company.
    MiraklConnect,
}

/// Where to send the seller's browser, and what to keep in the session until the callback.
#[derive(Clone)]
pub struct AuthorizationRequest {
    pub url: Url,
    /// Compare with the callback's `state` before exchanging the code.
    pub state: String,
    /// Hand back to [`MasClient::exchange_code`]; never send it to the browser.
    pub pkce_verifier: String,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("url", &self.url.as_str())
            .field("state", &self.state)
            .field("pkce_verifier", &"[redacted]")
            .finish()
    }
}

type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    MasTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,    // authorize
    EndpointNotSet, // device authorization
    EndpointNotSet, // introspection
    EndpointNotSet, // revocation: oauth2 insists on https, the sandbox is http (see `revoke`)
    EndpointSet,    // token
>;

/// A client for one MAS client id. Cheap to clone.
#[derive(Clone, Debug)]
pub struct MasClient {
    oauth: OAuthClient,
    http: reqwest::Client,
    client_id: String,
    client_secret: ClientSecret,
    redirect_uri: Url,
    revoke_url: Url,
}

impl MasClient {
    /// `http` should be [`crate::http_client`], which follows no redirects.
    pub fn new(config: MasConfig, http: reqwest::Client) -> Self {
        let oauth = oauth2::Client::new(ClientId::new(config.client_id.clone()))
            .set_client_secret(oauth2::ClientSecret::new(
                config.client_secret.expose().to_owned(),
            ))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(AuthUrl::from_url(endpoint(&config.base_url, "authorize")))
            .set_token_uri(TokenUrl::from_url(endpoint(
                &config.base_url,
                "oauth/token",
            )))
            .set_redirect_uri(RedirectUrl::from_url(config.redirect_uri.clone()));
        Self {
            oauth,
            http,
            client_id: config.client_id,
            client_secret: config.client_secret,
            redirect_uri: config.redirect_uri,
            revoke_url: endpoint(&config.base_url, "oauth/revoke"),
        }
    }

    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// A fresh authorization URL with its own `state` and PKCE (S256) verifier.
    pub fn authorization_request(&self, target: AuthorizationTarget) -> AuthorizationRequest {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .oauth
            .authorize_url(|| CsrfToken::new_random_len(STATE_BYTES))
            .set_pkce_challenge(challenge);
        if target == AuthorizationTarget::MiraklConnect {
            let (name, value) = CONNECT_AUDIENCE;
            request = request.add_extra_param(name, value);
        }
        let (url, state) = request.url();
        AuthorizationRequest {
            url,
            state: state.into_secret(),
            pkce_verifier: verifier.into_secret(),
        }
    }

    /// Trades the code from the authorization callback for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<TokenResponse, MasError> {
        let transport = Transport::new(&self.http);
        let result = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&transport)
            .await;
        result
            .map(TokenResponse::from)
            .map_err(|error| MasError::from_token_error(error, transport.status()))
    }

    /// Trades a refresh token for a new access token (and, when MAS rotates them, a new
    /// refresh token: store whichever comes back).
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, MasError> {
        let transport = Transport::new(&self.http);
        let refresh_token = RefreshToken::new(refresh_token.to_owned());
        let result = self
            .oauth
            .exchange_refresh_token(&refresh_token)
            .request_async(&transport)
            .await;
        result
            .map(TokenResponse::from)
            .map_err(|error| MasError::from_token_error(error, transport.status()))
    }

    /// Asks MAS to revoke a token (RFC 7009): a form POST of `token`, `client_id` and
    /// `client_secret` to `{base}/oauth/revoke`.
    ///
    /// ASSUMPTION: Mirakl documents no revocation endpoint; this is the RFC 7009 shape that
    /// Auth0-style servers use. A 404 there means "not supported": the call succeeds with a
    /// debug log, because the caller deletes its copy of the tokens either way and the token
    /// then simply expires. Written by hand because `oauth2` refuses revocation URLs that are
    /// not https, and the sandbox is served over http.
    pub async fn revoke(&self, token: &str) -> Result<(), MasError> {
        let form = [
            ("token", token),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
        ];
        let started = std::time::Instant::now();
        let response = self
            .http
            .post(self.revoke_url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .form(&form)
            .send()
            .await;
        crate::call_metrics::record(
            "mas",
            "mas.revoke",
            response.as_ref().ok().map(reqwest::Response::status),
            started,
        );
        let response = response.map_err(|error| MasError::from_transport(&error))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if status == reqwest::StatusCode::NOT_FOUND {
            tracing::debug!(url = %self.revoke_url, "MAS has no revocation endpoint; the token stays valid until it expires");
            return Ok(());
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| MasError::from_transport(&error))?;
        Err(MasError::from_error_body(status.as_u16(), &body))
    }
}

/// `{base}/{path}`, whether or not the base ends with a slash.
fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}/{}", url.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_join_under_the_base_path() {
        let sandbox = Url::parse("http://127.0.0.1:8090/mas").unwrap();
        assert_eq!(
            endpoint(&sandbox, "oauth/token").as_str(),
            "http://127.0.0.1:8090/mas/oauth/token"
        );
        let production = Url::parse("https://auth.mirakl.net").unwrap();
        assert_eq!(
            endpoint(&production, "authorize").as_str(),
            "https://auth.mirakl.net/authorize"
        );
        let trailing = Url::parse("https://auth.mirakl.net/").unwrap();
        assert_eq!(
            endpoint(&trailing, "oauth/revoke").as_str(),
            "https://auth.mirakl.net/oauth/revoke"
        );
    }

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn token_calls_can_run_on_a_multithreaded_runtime() {
        let client = MasClient::new(
            MasConfig {
                base_url: Url::parse("http://127.0.0.1:9/mas").unwrap(),
                client_id: "id".into(),
                client_secret: ClientSecret::new("secret"),
                redirect_uri: Url::parse("http://127.0.0.1:9/callback").unwrap(),
            },
            crate::http_client(),
        );
        assert_send(&client.exchange_code("code", "verifier"));
        assert_send(&client.refresh("refresh"));
        assert_send(&client.revoke("token"));
    }
}
