//! The access tokens MAS issues: JSON Web Tokens signed with HS256 under a key drawn when the
//! sandbox starts. Only what the sandbox needs: one algorithm, one claim set, expiry checked here
//! and revocation checked by the caller against the live token ids.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::entropy::random_bytes;

type HmacSha256 = Hmac<Sha256>;

/// The claims of a MAS access token. The `mirakl_*` claims are the sandbox's own names for what
/// the seller granted: the real token's claims are not published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The user who authorized, or the client itself for client_credentials.
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    pub iat: u64,
    pub jti: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirakl_instance: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mirakl_shop_ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirakl_company_id: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is not signed with HS256")]
    UnsupportedAlgorithm,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// Signs and verifies access tokens with one secret key.
pub struct TokenSigner {
    key: [u8; 32],
}

impl TokenSigner {
    pub fn random() -> Self {
        Self {
            key: random_bytes::<32>(),
        }
    }

    pub fn sign(&self, claims: &AccessClaims) -> String {
        sign_hs256(&self.key, claims)
    }

    /// The claims of a token signed by this key and not expired at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Result<AccessClaims, JwtError> {
        let mut parts = token.split('.');
        let (Some(header_part), Some(payload_part), Some(signature_part), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header: Header = decode_json(header_part)?;
        // Refusing anything but HS256 closes the "alg: none" and algorithm-confusion tricks.
        if header.alg != "HS256" {
            return Err(JwtError::UnsupportedAlgorithm);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature_part)
            .map_err(|_| JwtError::Malformed)?;
        let signing_input = &token[..header_part.len() + 1 + payload_part.len()];
        self.mac(signing_input)
            .verify_slice(&signature)
            .map_err(|_| JwtError::BadSignature)?;
        let claims: AccessClaims = decode_json(payload_part)?;
        if claims.exp <= now {
            return Err(JwtError::Expired);
        }
        Ok(claims)
    }

    fn mac(&self, signing_input: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes a key of any size");
        mac.update(signing_input.as_bytes());
        mac
    }
}

/// A JWT of `claims` signed with HS256 under `key`: MAS's access tokens, and BigCommerce's
/// signed payloads (under an app's client secret).
pub fn sign_hs256(key: &[u8], claims: &impl Serialize) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload =
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("JWT claims always serialize"));
    let signing_input = format!("{header}.{payload}");
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any size");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> AccessClaims {
        AccessClaims {
            iss: "http://sandbox/mas".into(),
            sub: "user".into(),
            aud: "http://sandbox/mmp/demo".into(),
            exp,
            iat: 100,
            jti: "jti-1".into(),
            client_id: "client".into(),
            scope: String::new(),
            mirakl_instance: Some("demo".into()),
            mirakl_shop_ids: vec![2001],
            mirakl_company_id: None,
        }
    }

    #[test]
    fn a_signed_token_verifies_to_its_claims() {
        let signer = TokenSigner::random();
        let token = signer.sign(&claims(1_000));
        assert_eq!(signer.verify(&token, 999), Ok(claims(1_000)));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let signer = TokenSigner::random();
        let token = signer.sign(&claims(1_000));
        assert_eq!(signer.verify(&token, 1_000), Err(JwtError::Expired));
    }

    #[test]
    fn a_token_from_another_key_is_refused() {
        let token = TokenSigner::random().sign(&claims(1_000));
        assert_eq!(
            TokenSigner::random().verify(&token, 1),
            Err(JwtError::BadSignature)
        );
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let signer = TokenSigner::random();
        let token = signer.sign(&claims(1_000));
        let mut forged = claims(1_000);
        forged.mirakl_shop_ids = vec![3001];
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(signer.verify(&tampered, 1), Err(JwtError::BadSignature));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let signer = TokenSigner::random();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(1_000)).unwrap());
        assert_eq!(
            signer.verify(&format!("{header}.{payload}."), 1),
            Err(JwtError::UnsupportedAlgorithm)
        );
        assert_eq!(signer.verify("not-a-jwt", 1), Err(JwtError::Malformed));
    }
}
