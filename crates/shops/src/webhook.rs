//! WooCommerce's webhooks: the topics the connector registers, what a store sends to a
//! webhook's delivery URL, how to trust it, and the [`ShopEvent`] it carries.
//!
//! A delivery is a JSON POST signed with `X-WC-Webhook-Signature` = base64(HMAC-SHA256(raw body,
//! secret)). The ping a store sends when a webhook is created is different: a form-encoded
//! `webhook_id=<n>`, unsigned and without the `X-WC-Webhook-*` headers, and it must get a 200.
//! [`read_delivery`] checks all of it, in that order.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::HeaderMap;
use sha2::Sha256;

use crate::shop::{Delivery, DeliveryError, EventSubject, ShopEvent};

type HmacSha256 = Hmac<Sha256>;

/// The topics the connector registers on a store: catalog changes, and changes to orders
/// (the orders it cares about are those it created, whose creation it knows already).
pub const TOPICS: [&str; 4] = [
    "product.created",
    "product.updated",
    "product.deleted",
    "order.updated",
];

/// Reads one request to a delivery URL: the ping of a new webhook, or a signed delivery and
/// the event it carries. The body is read only for the id it names: a product event names the
/// product to read (a variation's event, its `parent_id`), an order event the order.
pub fn read_delivery(
    headers: &HeaderMap,
    body: &[u8],
    secret: &[u8],
) -> Result<Delivery, DeliveryError> {
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if is_ping(content_type, body) {
        return Ok(Delivery::Ping);
    }
    let parsed = WebhookHeaders::parse(headers).map_err(|_| DeliveryError::MissingHeaders)?;
    if !verify_signature(secret, body, &parsed.signature) {
        return Err(DeliveryError::BadSignature);
    }
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| DeliveryError::NotJson)?;
    let id = |field: &str| json.get(field).and_then(serde_json::Value::as_i64);
    let subject = match parsed.resource.as_str() {
        "product" => match (id("id"), id("parent_id").filter(|parent| *parent > 0)) {
            (_, Some(parent)) => EventSubject::Product(parent),
            (Some(id), None) => EventSubject::Product(id),
            (None, None) => EventSubject::Catalog,
        },
        "order" => id("id").map_or(EventSubject::Other, EventSubject::Order),
        _ => EventSubject::Other,
    };
    Ok(Delivery::Event(ShopEvent {
        topic: parsed.topic,
        delivery_id: parsed.delivery_id,
        subject,
    }))
}

fn mac(secret: &[u8], body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any size");
    mac.update(body);
    mac
}

/// The value of `X-WC-Webhook-Signature` for `body`: base64(HMAC-SHA256(body, secret)).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    STANDARD.encode(mac(secret, body).finalize().into_bytes())
}

/// Whether `signature_header` is the signature of `body` under `secret`. The comparison runs in
/// constant time (the `hmac` crate compares with `subtle`). A missing, empty or malformed header
/// is simply `false`.
pub fn verify_signature(secret: &[u8], body: &[u8], signature_header: &str) -> bool {
    let Ok(signature) = STANDARD.decode(signature_header.trim()) else {
        return false;
    };
    mac(secret, body).verify_slice(&signature).is_ok()
}

/// A fresh webhook secret: 32 random bytes, base64url without padding (43 characters).
pub fn new_secret() -> String {
    URL_SAFE_NO_PAD.encode(crate::random_bytes::<32>())
}

/// Whether a request to the delivery URL is the ping of a new webhook: a form-encoded body that
/// holds only `webhook_id=<number>`. WordPress may leave out the content type, so `None` is
/// accepted as well.
pub fn is_ping(content_type: Option<&str>, body: &[u8]) -> bool {
    let form_or_unknown = content_type.is_none_or(|value| {
        value.split(';').next().is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    let mut pairs = url::form_urlencoded::parse(body);
    let only_a_webhook_id = matches!(
        (pairs.next(), pairs.next()),
        (Some((key, value)), None) if key == "webhook_id" && value.parse::<i64>().is_ok()
    );
    form_or_unknown && only_a_webhook_id
}

/// The `X-WC-Webhook-*` headers of one delivery.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookHeaders {
    /// `product.updated`, `order.created`, …
    pub topic: String,
    /// `product`, `order`, …
    pub resource: String,
    /// `updated`, `created`, …
    pub event: String,
    pub webhook_id: i64,
    /// A hash of the webhook id and the current second: not unique within a second, so never
    /// the only key to deduplicate on.
    pub delivery_id: String,
    /// The site URL, with a trailing `/`.
    pub source: String,
    /// base64(HMAC-SHA256(body, secret)); check it with [`verify_signature`].
    pub signature: String,
}

/// A delivery lacked one of the `X-WC-Webhook-*` headers, or carried one that is not readable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the webhook request has no readable {name} header")]
pub struct MissingHeader {
    pub name: &'static str,
}

impl WebhookHeaders {
    pub fn parse(headers: &HeaderMap) -> Result<Self, MissingHeader> {
        let text = |name: &'static str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
                .ok_or(MissingHeader { name })
        };
        let webhook_id = text("X-WC-Webhook-ID")?
            .parse()
            .map_err(|_| MissingHeader {
                name: "X-WC-Webhook-ID",
            })?;
        Ok(Self {
            topic: text("X-WC-Webhook-Topic")?,
            resource: text("X-WC-Webhook-Resource")?,
            event: text("X-WC-Webhook-Event")?,
            webhook_id,
            delivery_id: text("X-WC-Webhook-Delivery-ID")?,
            source: text("X-WC-Webhook-Source")?,
            signature: text("X-WC-Webhook-Signature")?,
        })
    }
}

impl fmt::Debug for WebhookHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookHeaders")
            .field("topic", &self.topic)
            .field("resource", &self.resource)
            .field("event", &self.event)
            .field("webhook_id", &self.webhook_id)
            .field("delivery_id", &self.delivery_id)
            .field("source", &self.source)
            .field("signature", &"[redacted]")
            .finish()
    }
}
