//! What MAS has handed out and may take back: authorization codes, and grants (one per
//! exchanged code: the "family" of every refresh and access token descended from it).
//!
//! The rules, from RFC 6749 and the OAuth security best practice (RFC 9700):
//! - a code is exchanged once; a second attempt revokes every token the first one issued;
//! - a refresh token is used once and replaced by a new one; presenting a used one means it
//!   leaked, so the whole family is revoked;
//! - access tokens are JWTs, valid only while their id is in the live set.

use std::collections::HashMap;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::entropy::random_token;
use crate::jwt::{AccessClaims, TokenSigner};
use crate::world::{Grant, Lifetimes, unix_seconds};

type FamilyId = u64;

/// A code issued on Accept, waiting to be exchanged.
#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: String,
    pub grant: Grant,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub expires_at: SystemTime,
}

/// Who and what the tokens of one grant speak for.
#[derive(Debug, Clone)]
pub struct TokenSubject {
    pub sub: String,
    pub client_id: String,
    pub audience: String,
    pub scope: String,
    pub grant: Option<Grant>,
    /// ASSUMPTION: Mirakl's response carries `target_app` and `resource_owner` without
    /// documenting them. The sandbox sends the marketplace instance (or `connect`) and the
    /// user id (or the Connect company for client_credentials); empty when there is none.
    pub target_app: String,
    pub resource_owner: String,
}

/// The success body of the token endpoint, before serialization.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: Option<String>,
    pub scope: String,
    pub target_app: String,
    pub resource_owner: String,
}

/// What signing a token needs from the sandbox.
pub struct Issuer<'a> {
    pub signer: &'a TokenSigner,
    /// The `iss` claim: the MAS base URL on the sandbox.
    pub url: String,
    pub lifetimes: Lifetimes,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExchangeError {
    #[error("The authorization code is unknown or was issued to another client.")]
    UnknownCode,
    #[error("The authorization code was already used; every token issued from it is now revoked.")]
    CodeReplayed,
    #[error("The authorization code has expired; start the authorization again.")]
    CodeExpired,
    #[error("redirect_uri is required: the authorization request sent one.")]
    RedirectUriMissing,
    #[error("redirect_uri differs from the one sent to /authorize.")]
    RedirectUriMismatch,
    #[error("code_verifier is required: the authorization request sent a code_challenge.")]
    VerifierMissing,
    #[error("code_verifier does not match the code_challenge.")]
    VerifierMismatch,
    #[error("code_verifier was sent but the authorization request had no code_challenge.")]
    VerifierUnexpected,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RefreshError {
    #[error("The refresh token is unknown or was issued to another client.")]
    Unknown,
    #[error("The refresh token was already used; the whole grant is now revoked. Authorize again.")]
    Replayed,
    #[error("The refresh token has expired. Authorize again.")]
    Expired,
    #[error("The grant was revoked. Authorize again.")]
    Revoked,
}

struct CodeRecord {
    code: AuthorizationCode,
    /// Set at the first exchange attempt, successful or not: a code is worth one attempt.
    redeemed: bool,
    family: Option<FamilyId>,
}

struct Family {
    subject: TokenSubject,
    revoked: bool,
}

struct RefreshRecord {
    family: FamilyId,
    expires_at: SystemTime,
    used: bool,
}

struct LiveAccess {
    family: Option<FamilyId>,
    client_id: String,
    expires_at: SystemTime,
}

#[derive(Default)]
pub struct GrantStore {
    codes: HashMap<String, CodeRecord>,
    families: HashMap<FamilyId, Family>,
    refresh_tokens: HashMap<String, RefreshRecord>,
    live_access: HashMap<String, LiveAccess>,
    next_family: FamilyId,
}

impl GrantStore {
    pub fn add_code(&mut self, value: String, code: AuthorizationCode) {
        let now = SystemTime::now();
        // Expired codes nobody exchanged can go; exchanged ones stay to catch a replay.
        self.codes
            .retain(|_, record| record.redeemed || record.code.expires_at > now);
        self.codes.insert(
            value,
            CodeRecord {
                code,
                redeemed: false,
                family: None,
            },
        );
    }

    /// The `authorization_code` grant.
    pub fn exchange_code(
        &mut self,
        issuer: &Issuer<'_>,
        client_id: &str,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<IssuedTokens, ExchangeError> {
        let now = SystemTime::now();
        let Some(record) = self
            .codes
            .get_mut(code)
            .filter(|record| record.code.client_id == client_id)
        else {
            return Err(ExchangeError::UnknownCode);
        };
        if record.redeemed {
            if let Some(family) = record.family {
                self.revoke_family(family);
            }
            return Err(ExchangeError::CodeReplayed);
        }
        record.redeemed = true;
        let code_data = record.code.clone();
        if now >= code_data.expires_at {
            return Err(ExchangeError::CodeExpired);
        }
        match redirect_uri {
            None => return Err(ExchangeError::RedirectUriMissing),
            Some(uri) if uri != code_data.redirect_uri => {
                return Err(ExchangeError::RedirectUriMismatch);
            }
            Some(_) => {}
        }
        match (&code_data.code_challenge, code_verifier) {
            (None, None) => {}
            (None, Some(_)) => return Err(ExchangeError::VerifierUnexpected),
            (Some(_), None) => return Err(ExchangeError::VerifierMissing),
            (Some(challenge), Some(verifier)) => {
                if !pkce_matches(challenge, verifier) {
                    return Err(ExchangeError::VerifierMismatch);
                }
            }
        }

        let subject = TokenSubject::for_user(issuer, &code_data);
        let family = self.next_family;
        self.next_family += 1;
        self.families.insert(
            family,
            Family {
                subject: subject.clone(),
                revoked: false,
            },
        );
        if let Some(record) = self.codes.get_mut(code) {
            record.family = Some(family);
        }
        Ok(self.issue(issuer, &subject, Some(family)))
    }

    /// The `refresh_token` grant: the presented token dies, a new one takes its place.
    pub fn refresh(
        &mut self,
        issuer: &Issuer<'_>,
        client_id: &str,
        refresh_token: &str,
    ) -> Result<IssuedTokens, RefreshError> {
        let now = SystemTime::now();
        self.refresh_tokens
            .retain(|_, record| record.expires_at > now || record.used);
        let Some(record) = self.refresh_tokens.get_mut(refresh_token) else {
            return Err(RefreshError::Unknown);
        };
        let family_id = record.family;
        let Some(family) = self
            .families
            .get(&family_id)
            .filter(|family| family.subject.client_id == client_id)
        else {
            return Err(RefreshError::Unknown);
        };
        if family.revoked {
            return Err(RefreshError::Revoked);
        }
        if record.used {
            self.revoke_family(family_id);
            return Err(RefreshError::Replayed);
        }
        if now >= record.expires_at {
            return Err(RefreshError::Expired);
        }
        record.used = true;
        let subject = family.subject.clone();
        Ok(self.issue(issuer, &subject, Some(family_id)))
    }

    /// The `client_credentials` grant: an access token alone, for the client itself.
    pub fn client_credentials(
        &mut self,
        issuer: &Issuer<'_>,
        subject: &TokenSubject,
    ) -> IssuedTokens {
        self.issue(issuer, subject, None)
    }

    /// RFC 7009 revocation by a client of one of its tokens. A refresh token takes its whole
    /// grant with it; an access token goes alone. Unknown tokens are ignored.
    pub fn revoke_token(&mut self, signer: &TokenSigner, client_id: &str, token: &str) {
        if let Some(family) = self.refresh_tokens.get(token).map(|record| record.family) {
            if self
                .families
                .get(&family)
                .is_some_and(|family| family.subject.client_id == client_id)
            {
                self.revoke_family(family);
            }
            return;
        }
        // The signature is checked but not the expiry: revoking an expired token is harmless.
        let claims = signer.verify(token, 0);
        if let Ok(claims) = claims
            && claims.client_id == client_id
        {
            self.live_access.remove(&claims.jti);
        }
    }

    /// Withdraws every grant, code and token of a client.
    pub fn revoke_client(&mut self, client_id: &str) {
        for record in self.codes.values_mut() {
            if record.code.client_id == client_id {
                record.redeemed = true;
            }
        }
        let families: Vec<FamilyId> = self
            .families
            .iter()
            .filter(|(_, family)| family.subject.client_id == client_id)
            .map(|(id, _)| *id)
            .collect();
        for family in families {
            self.revoke_family(family);
        }
        self.live_access
            .retain(|_, access| access.client_id != client_id);
    }

    /// Whether an access token (by its `jti`) was neither revoked nor expired.
    pub fn is_live(&self, jti: &str) -> bool {
        self.live_access
            .get(jti)
            .is_some_and(|access| access.expires_at > SystemTime::now())
    }

    /// Grants (exchanged codes) not revoked.
    pub fn live_grant_count(&self) -> usize {
        self.families
            .values()
            .filter(|family| !family.revoked)
            .count()
    }

    fn revoke_family(&mut self, id: FamilyId) {
        if let Some(family) = self.families.get_mut(&id) {
            family.revoked = true;
        }
        self.live_access
            .retain(|_, access| access.family != Some(id));
    }

    fn issue(
        &mut self,
        issuer: &Issuer<'_>,
        subject: &TokenSubject,
        family: Option<FamilyId>,
    ) -> IssuedTokens {
        let now = SystemTime::now();
        self.live_access.retain(|_, access| access.expires_at > now);
        let expires_at = now + issuer.lifetimes.access;
        let jti = random_token();
        let (mirakl_instance, mirakl_shop_ids, mirakl_company_id) = match &subject.grant {
            Some(Grant::MarketplaceStore { instance, shop_id }) => {
                (Some(instance.clone()), vec![*shop_id], None)
            }
            Some(Grant::ConnectCompany { company_id }) => {
                (None, Vec::new(), Some(company_id.clone()))
            }
            None => (None, Vec::new(), None),
        };
        let access_token = issuer.signer.sign(&AccessClaims {
            iss: issuer.url.clone(),
            sub: subject.sub.clone(),
            aud: subject.audience.clone(),
            exp: unix_seconds(expires_at),
            iat: unix_seconds(now),
            jti: jti.clone(),
            client_id: subject.client_id.clone(),
            scope: subject.scope.clone(),
            mirakl_instance,
            mirakl_shop_ids,
            mirakl_company_id,
        });
        self.live_access.insert(
            jti,
            LiveAccess {
                family,
                client_id: subject.client_id.clone(),
                expires_at,
            },
        );
        let refresh_token = family.map(|family| {
            let token = random_token();
            self.refresh_tokens.insert(
                token.clone(),
                RefreshRecord {
                    family,
                    expires_at: now + issuer.lifetimes.refresh,
                    used: false,
                },
            );
            token
        });
        IssuedTokens {
            access_token,
            expires_in: issuer.lifetimes.access.as_secs(),
            refresh_token,
            scope: subject.scope.clone(),
            target_app: subject.target_app.clone(),
            resource_owner: subject.resource_owner.clone(),
        }
    }
}

impl TokenSubject {
    /// The subject of the tokens a seller's authorization code yields.
    fn for_user(issuer: &Issuer<'_>, code: &AuthorizationCode) -> Self {
        let (audience, target_app, default_scope) = match &code.grant {
            Grant::MarketplaceStore { instance, .. } => (
                issuer.resource_url(&format!("/mmp/{instance}")),
                instance.clone(),
                "marketplace-seller",
            ),
            Grant::ConnectCompany { .. } => (
                issuer.resource_url("/connect/api"),
                "connect".to_owned(),
                "connect-seller",
            ),
        };
        Self {
            sub: code.user_id.clone(),
            client_id: code.client_id.clone(),
            audience,
            scope: if code.scope.is_empty() {
                default_scope.to_owned()
            } else {
                code.scope.clone()
            },
            grant: Some(code.grant.clone()),
            target_app,
            resource_owner: code.user_id.clone(),
        }
    }
}

impl Issuer<'_> {
    /// A URL on the sandbox next to MAS (the issuer URL ends in `/mas`).
    pub fn resource_url(&self, path: &str) -> String {
        format!("{}{path}", self.url.trim_end_matches("/mas"))
    }
}

/// RFC 7636 S256: the challenge is the base64url SHA-256 of the verifier, which is 43 to 128
/// unreserved characters.
fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    well_formed && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifier_matches_its_challenge() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(challenge, verifier));
        assert!(!pkce_matches(
            challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"
        ));
        assert!(!pkce_matches(challenge, "short"));
    }
}
