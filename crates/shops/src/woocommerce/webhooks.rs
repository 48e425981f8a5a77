//! The store's webhooks as the wc/v3 API lists and creates them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::wire;

/// A webhook registered in the store. The store never returns its secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Webhook {
    #[serde(deserialize_with = "wire::id")]
    pub id: i64,
    #[serde(deserialize_with = "wire::text")]
    pub name: String,
    /// `product.updated`, `order.created`, …
    #[serde(deserialize_with = "wire::text")]
    pub topic: String,
    #[serde(deserialize_with = "wire::text")]
    pub delivery_url: String,
    /// `active`, `paused`, or `disabled` (the store gave up after repeated failed deliveries).
    #[serde(deserialize_with = "wire::text")]
    pub status: String,
}

/// A webhook to create. The store signs each delivery with `secret` (see [`crate::webhook`]);
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct NewWebhook {
    pub name: String,
    pub topic: String,
    /// Must answer 200 to the ping the store sends on creation.
    pub delivery_url: String,
    pub secret: String,
}

impl fmt::Debug for NewWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewWebhook")
            .field("name", &self.name)
            .field("topic", &self.topic)
            .field("delivery_url", &self.delivery_url)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// The body of `POST webhooks`: the new webhook, created active.
#[derive(Serialize)]
pub(super) struct CreateWebhook<'a> {
    #[serde(flatten)]
    pub new: &'a NewWebhook,
    pub status: &'static str,
}
