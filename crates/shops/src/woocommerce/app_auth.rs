//! WooCommerce's app authorization (`{store}/wc-auth/v1/authorize`): instead of pasting keys,
//! the seller approves Marketbridge in the store's admin. The store then POSTs the new keys as
//! JSON to `callback_url` (which must answer 200, or the store deletes the keys again) and sends
//! the browser to `return_url?success=1&user_id=…` (`success=0` on denial).

use std::fmt;

use serde::Deserialize;
use url::Url;

use super::StoreUrl;
use super::wire;

/// What the keys may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Read,
    Write,
    ReadWrite,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::ReadWrite => "read_write",
        }
    }
}

/// The five parameters of an authorization request; the store requires all of them.
#[derive(Clone, Copy, Debug)]
pub struct AppAuthorization<'a> {
    /// Shown to the seller on the approve page and in the key's description.
    pub app_name: &'a str,
    pub scope: Scope,
    /// Our own reference, echoed back in the callback and on the return URL: use it to find the
    /// pending connection again.
    pub user_id: &'a str,
    /// Where the browser goes afterwards.
    pub return_url: &'a Url,
    /// Where the store POSTs the keys. A real store insists on `https://`.
    pub callback_url: &'a Url,
}

/// The address to send the seller's browser to.
pub fn app_authorization_url(store: &StoreUrl, request: &AppAuthorization<'_>) -> Url {
    let mut url = store.join("wc-auth/v1/authorize");
    url.query_pairs_mut()
        .append_pair("app_name", request.app_name)
        .append_pair("scope", request.scope.as_str())
        .append_pair("user_id", request.user_id)
        .append_pair("return_url", request.return_url.as_str())
        .append_pair("callback_url", request.callback_url.as_str());
    url
}

/// The JSON the store POSTs to `callback_url`. `Debug` never shows the secret, and only the end
/// of the key.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct AppKeys {
    #[serde(deserialize_with = "key_id")]
    pub key_id: i64,
    /// Our `user_id`, as a string even when the store sends it as a number.
    #[serde(deserialize_with = "wire::text")]
    pub user_id: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    /// `read`, `write` or `read_write`.
    pub key_permissions: String,
}

/// A key id must be there: without it the keys could not be revoked later.
fn key_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    wire::integer(deserializer)?.ok_or_else(|| serde::de::Error::custom("key_id is not a number"))
}

impl fmt::Debug for AppKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppKeys")
            .field("key_id", &self.key_id)
            .field("user_id", &self.user_id)
            .field(
                "consumer_key",
                &super::auth::truncated_key(&self.consumer_key),
            )
            .field("consumer_secret", &"[redacted]")
            .field("key_permissions", &self.key_permissions)
            .finish()
    }
}
