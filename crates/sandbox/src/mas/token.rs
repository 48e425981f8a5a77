//! `POST /mas/oauth/token` and `POST /mas/oauth/revoke` (real: `https://auth.mirakl.net/oauth/…`):
//! client authentication, the three grants, and RFC 6749 error bodies.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use subtle::ConstantTimeEq;

use crate::Sandbox;
use crate::form::{FormError, FormFields};
use crate::mas::grants::{ExchangeError, GrantStore, IssuedTokens, Issuer, TokenSubject};
use crate::world::{Grant, GrantKind, World};

/// The RFC 6749 §5.2 error codes the sandbox answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
}

impl ErrorCode {
    fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
        }
    }
}

/// An RFC 6749 error response.
#[derive(Debug)]
pub struct OAuthError {
    code: ErrorCode,
    description: String,
    status: StatusCode,
    /// The client tried HTTP Basic: a 401 must then challenge for it (RFC 6749 §5.2).
    basic_challenge: bool,
}

impl OAuthError {
    fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        let status = match code {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            code,
            description: description.into(),
            status,
            basic_challenge: false,
        }
    }

    fn grant(error: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::InvalidGrant, error.to_string())
    }
}

impl From<FormError> for OAuthError {
    fn from(error: FormError) -> Self {
        let mut oauth = Self::new(ErrorCode::InvalidRequest, error.to_string());
        oauth.status = error.status();
        oauth
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.as_str(),
            error_description: &self.description,
        };
        let mut response = (self.status, no_store(), Json(body)).into_response();
        if self.basic_challenge && self.code == ErrorCode::InvalidClient {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="mas""#),
            );
        }
        response
    }
}

#[derive(Serialize)]
struct TokenBody {
    token_type: &'static str,
    access_token: String,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    scope: String,
    target_app: String,
    resource_owner: String,
}

impl From<IssuedTokens> for TokenBody {
    fn from(issued: IssuedTokens) -> Self {
        Self {
            token_type: "Bearer",
            access_token: issued.access_token,
            expires_in: issued.expires_in,
            refresh_token: issued.refresh_token,
            scope: issued.scope,
            target_app: issued.target_app,
            resource_owner: issued.resource_owner,
        }
    }
}

pub async fn token(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    form: Result<FormFields, FormError>,
) -> Response {
    let mut world = sandbox.world();
    world.count_call("mas.token");
    match grant_tokens(&mut world, &headers, form) {
        Ok(issued) => (no_store(), Json(TokenBody::from(issued))).into_response(),
        Err(error) => error.into_response(),
    }
}

pub async fn revoke(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    form: Result<FormFields, FormError>,
) -> Response {
    let mut world = sandbox.world();
    world.count_call("mas.revoke");
    let revoked = form.map_err(OAuthError::from).and_then(|form| {
        let client_id = authenticate_client(&world, &headers, &form)?;
        let token = form
            .get("token")
            .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "token is required."))?;
        // token_type_hint is only a hint (RFC 7009 §2.1): both kinds are looked up anyway.
        let world = &mut *world;
        world.grants.revoke_token(&world.signer, &client_id, token);
        Ok(())
    });
    match revoked {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(error) => error.into_response(),
    }
}

fn grant_tokens(
    world: &mut World,
    headers: &HeaderMap,
    form: Result<FormFields, FormError>,
) -> Result<IssuedTokens, OAuthError> {
    let form = form?;
    let client_id = authenticate_client(world, headers, &form)?;
    let required = |name: &str| {
        form.get(name).ok_or_else(|| {
            OAuthError::new(ErrorCode::InvalidRequest, format!("{name} is required."))
        })
    };
    let grant_type = required("grant_type")?;
    let (issuer, grants) = issuer_and_grants(world);
    match grant_type {
        "authorization_code" => grants
            .exchange_code(
                &issuer,
                &client_id,
                required("code")?,
                form.get("redirect_uri"),
                form.get("code_verifier"),
            )
            .map_err(|error| match error {
                ExchangeError::RedirectUriMissing | ExchangeError::VerifierUnexpected => {
                    OAuthError::new(ErrorCode::InvalidRequest, error.to_string())
                }
                other => OAuthError::grant(other),
            }),
        "refresh_token" => grants
            .refresh(&issuer, &client_id, required("refresh_token")?)
            .map_err(OAuthError::grant),
        "client_credentials" => {
            let subject =
                client_subject(world, &client_id, form.get("audience"), form.get("scope"))?;
            let (issuer, grants) = issuer_and_grants(world);
            Ok(grants.client_credentials(&issuer, &subject))
        }
        other => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!(
                "grant_type `{other}` is not supported: use authorization_code, refresh_token or \
                 client_credentials."
            ),
        )),
    }
}

/// Splits the world into the signing context and the grant store, borrowed together.
fn issuer_and_grants(world: &mut World) -> (Issuer<'_>, &mut GrantStore) {
    let url = world.url("/mas");
    (
        Issuer {
            signer: &world.signer,
            url,
            lifetimes: world.lifetimes,
        },
        &mut world.grants,
    )
}

/// ASSUMPTION: for client_credentials, practitioners send `audience=<Connect company id>` to get
/// a token for the Connect seller API. The sandbox grants that company when the audience names
/// one; any other audience is put in `aud` as given and grants nothing.
fn client_subject(
    world: &mut World,
    client_id: &str,
    audience: Option<&str>,
    scope: Option<&str>,
) -> Result<TokenSubject, OAuthError> {
    let company = audience.and_then(|id| world.companies.get(id)).cloned();
    let serves_connect = world
        .clients
        .get(client_id)
        .is_some_and(|client| client.kinds.contains(&GrantKind::Connect));
    if company.is_some() && !serves_connect {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "This client is not registered for Mirakl Connect sellers.",
        ));
    }
    let resource_owner = company.as_ref().map(|c| c.id.clone()).unwrap_or_default();
    let (audience, target_app) = match (&company, audience) {
        (Some(_), _) => (world.url("/connect/api"), "connect".to_owned()),
        (None, Some(audience)) => (audience.to_owned(), String::new()),
        (None, None) => (world.url("/mas"), String::new()),
    };
    Ok(TokenSubject {
        sub: client_id.to_owned(),
        client_id: client_id.to_owned(),
        audience,
        scope: scope.unwrap_or_default().to_owned(),
        grant: company.map(|company| Grant::ConnectCompany {
            company_id: company.id,
        }),
        target_app,
        resource_owner,
    })
}

/// The client's id, once its credentials check out. They come in the form body
/// (`client_id` + `client_secret`, as Mirakl documents) or in HTTP Basic (RFC 6749 §2.3.1);
/// both at once must agree.
fn authenticate_client(
    world: &World,
    headers: &HeaderMap,
    form: &FormFields,
) -> Result<String, OAuthError> {
    let basic = basic_credentials(headers)?;
    let (body_id, body_secret) = (form.get("client_id"), form.get("client_secret"));
    let used_basic = basic.is_some();
    let (client_id, secret) = match basic {
        Some((id, secret)) => {
            let disagrees = body_id.is_some_and(|body| body != id)
                || body_secret.is_some_and(|body| body != secret);
            if disagrees {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "The client credentials in the Authorization header and in the body differ; \
                     send them one way only.",
                ));
            }
            (id, secret)
        }
        None => match (body_id, body_secret) {
            (Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
            _ => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidClient,
                    "Client authentication is required: send client_id and client_secret.",
                ));
            }
        },
    };
    let authenticated = world
        .clients
        .get(&client_id)
        .is_some_and(|client| bool::from(client.secret.as_bytes().ct_eq(secret.as_bytes())));
    if !authenticated {
        let mut error = OAuthError::new(
            ErrorCode::InvalidClient,
            "Client authentication failed: unknown client_id or wrong client_secret.",
        );
        error.basic_challenge = used_basic;
        return Err(error);
    }
    Ok(client_id)
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))`, if the request has one.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        let mut error = OAuthError::new(
            ErrorCode::InvalidClient,
            "The Authorization header is not valid HTTP Basic client authentication.",
        );
        error.basic_challenge = true;
        error
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    Ok(Some((
        form_decode(id).ok_or_else(malformed)?,
        form_decode(secret).ok_or_else(malformed)?,
    )))
}

/// Decodes one `application/x-www-form-urlencoded` component, as RFC 6749 §2.3.1 encodes Basic
/// credentials: `+` is a space and `%XX` a byte.
fn form_decode(component: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(component.len());
    let mut input = component.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = char::from(input.next()?).to_digit(16)?;
                let low = char::from(input.next()?).to_digit(16)?;
                bytes.push(u8::try_from(high * 16 + low).ok()?);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_components_are_form_decoded() {
        assert_eq!(form_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(form_decode("plain-id").as_deref(), Some("plain-id"));
        assert_eq!(form_decode("bad%zz"), None);
        assert_eq!(form_decode("cut%4"), None);
    }
}
