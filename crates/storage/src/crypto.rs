//! Secrets at rest: XChaCha20-Poly1305 with the workspace and the column as associated data,
//! so a sealed value copied to another workspace's row or another column fails to open.
//!
//! Stored layout: `key_id (1 byte) || nonce (24 bytes) || ciphertext with tag`. The key id
//! leaves room for rotation: a later key gets the next id and old rows stay readable.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use domain::WorkspaceId;

const NONCE_LEN: usize = 24;
/// The id written in front of every value sealed with the configured key.
const CURRENT_KEY_ID: u8 = 1;

/// The 32-byte key that seals secrets. `Debug` shows nothing of it.
#[derive(Clone)]
pub struct SecretKey(Key);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the secret key is not valid base64; generate one with `openssl rand -base64 32`")]
    NotBase64,
    #[error(
        "the secret key is {0} bytes long, it must be 32; generate one with `openssl rand -base64 32`"
    )]
    WrongLength(usize),
}

impl SecretKey {
    /// A key from its standard base64 form (as in the configuration file).
    pub fn from_base64(encoded: &str) -> Result<Self, KeyError> {
        let bytes = BASE64
            .decode(encoded.trim())
            .map_err(|_| KeyError::NotBase64)?;
        let key =
            Key::try_from(bytes.as_slice()).map_err(|_| KeyError::WrongLength(bytes.len()))?;
        Ok(Self(key))
    }

    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        Self(Key::generate())
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0.as_slice())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// A decrypted secret (a token, a PKCE verifier). `Debug` hides it; read it with
/// [`Secret::expose`] only where it leaves for the service that needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The columns that hold sealed values; the name is part of the associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretColumn {
    AccessToken,
    RefreshToken,
    PkceVerifier,
    /// A shop's REST API key (WooCommerce `ck_…`).
    ConsumerKey,
    /// A shop's REST API secret (WooCommerce `cs_…`).
    ConsumerSecret,
    /// The per-shop secret that signs its webhooks.
    WebhookSecret,
    /// A consumer key that arrived for an app authorization still under way.
    PendingConsumerKey,
    /// A consumer secret that arrived for an app authorization still under way.
    PendingConsumerSecret,
}

impl SecretColumn {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "channel_tokens.access_token",
            Self::RefreshToken => "channel_tokens.refresh_token",
            Self::PkceVerifier => "oauth_pending.pkce_verifier",
            Self::ConsumerKey => "shops.consumer_key",
            Self::ConsumerSecret => "shops.consumer_secret",
            Self::WebhookSecret => "shops.webhook_secret",
            Self::PendingConsumerKey => "shop_auth_pending.consumer_key",
            Self::PendingConsumerSecret => "shop_auth_pending.consumer_secret",
        }
    }
}

/// Sealing or opening failed: the value was altered, belongs to another workspace or column,
/// or was sealed with a key this process does not have. Deliberately says no more.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a sealed secret could not be opened (wrong key, workspace or column, or damaged data)")]
pub struct CryptoError;

/// Seals and opens secrets with the configured key.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    key_id: u8,
}

impl SecretBox {
    pub fn new(key: &SecretKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&key.0),
            key_id: CURRENT_KEY_ID,
        }
    }

    pub fn seal(
        &self,
        workspace: WorkspaceId,
        column: SecretColumn,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let nonce = XNonce::generate();
        let aad = associated_data(workspace, column);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(self.key_id);
        sealed.extend_from_slice(nonce.as_slice());
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    pub fn open(
        &self,
        workspace: WorkspaceId,
        column: SecretColumn,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let (&key_id, rest) = sealed.split_first().ok_or(CryptoError)?;
        if key_id != self.key_id || rest.len() < NONCE_LEN {
            return Err(CryptoError);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| CryptoError)?;
        let aad = associated_data(workspace, column);
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError)
    }

    pub fn seal_secret(
        &self,
        workspace: WorkspaceId,
        column: SecretColumn,
        secret: &Secret,
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal(workspace, column, secret.expose().as_bytes())
    }

    pub fn open_secret(
        &self,
        workspace: WorkspaceId,
        column: SecretColumn,
        sealed: &[u8],
    ) -> Result<Secret, CryptoError> {
        let bytes = self.open(workspace, column, sealed)?;
        String::from_utf8(bytes)
            .map(Secret)
            .map_err(|_| CryptoError)
    }
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretBox")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

fn associated_data(workspace: WorkspaceId, column: SecretColumn) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + column.as_str().len());
    aad.extend_from_slice(workspace.0.as_bytes());
    aad.extend_from_slice(column.as_str().as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "mirakl-access-token-0123456789";

    fn sealed(secrets: &SecretBox, workspace: WorkspaceId) -> Vec<u8> {
        secrets
            .seal_secret(workspace, SecretColumn::AccessToken, &Secret::new(TOKEN))
            .unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_to_the_same_value() {
        let secrets = SecretBox::new(&SecretKey::generate());
        let ws = WorkspaceId::new();
        let opened = secrets
            .open_secret(ws, SecretColumn::AccessToken, &sealed(&secrets, ws))
            .unwrap();
        assert_eq!(opened.expose(), TOKEN);
    }

    #[test]
    fn another_workspace_or_column_cannot_open_it() {
        let secrets = SecretBox::new(&SecretKey::generate());
        let ws = WorkspaceId::new();
        let value = sealed(&secrets, ws);
        assert_eq!(
            secrets.open(WorkspaceId::new(), SecretColumn::AccessToken, &value),
            Err(CryptoError)
        );
        assert_eq!(
            secrets.open(ws, SecretColumn::RefreshToken, &value),
            Err(CryptoError)
        );
    }

    #[test]
    fn a_tampered_value_or_another_key_fails() {
        let secrets = SecretBox::new(&SecretKey::generate());
        let ws = WorkspaceId::new();
        let value = sealed(&secrets, ws);
        for i in [0, 1, value.len() / 2, value.len() - 1] {
            let mut tampered = value.clone();
            tampered[i] ^= 0x01;
            assert_eq!(
                secrets.open(ws, SecretColumn::AccessToken, &tampered),
                Err(CryptoError),
                "byte {i}"
            );
        }
        assert_eq!(
            secrets.open(ws, SecretColumn::AccessToken, &value[..10]),
            Err(CryptoError)
        );
        let other = SecretBox::new(&SecretKey::generate());
        assert_eq!(
            other.open(ws, SecretColumn::AccessToken, &value),
            Err(CryptoError)
        );
    }

    #[test]
    fn the_stored_bytes_do_not_contain_the_plaintext() {
        let secrets = SecretBox::new(&SecretKey::generate());
        let value = sealed(&secrets, WorkspaceId::new());
        assert_eq!(value[0], CURRENT_KEY_ID);
        assert!(!value.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()));
        // A fresh nonce each time: sealing twice never gives the same bytes.
        assert_ne!(value, sealed(&secrets, WorkspaceId::new()));
    }

    #[test]
    fn keys_round_trip_through_base64_and_hide_in_debug() {
        let key = SecretKey::generate();
        let again = SecretKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(again.to_base64(), key.to_base64());
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
        assert_eq!(
            SecretKey::from_base64("not base64!").err(),
            Some(KeyError::NotBase64)
        );
        assert_eq!(
            SecretKey::from_base64("c2hvcnQ=").err(),
            Some(KeyError::WrongLength(5))
        );
    }
}
