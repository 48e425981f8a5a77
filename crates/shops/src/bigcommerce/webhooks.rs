//! BigCommerce's webhooks ("hooks"): the scopes the connector registers, and reading what a
//! store sends to a hook's destination.
//!
//! BigCommerce does not sign its deliveries. A hook carries the custom `headers` it was
//! registered with, so the connector registers each hook with a secret header of this shop's
//! own ([`SECRET_HEADER`]) and refuses a delivery without it (compared in constant time). The
//! body is light, `{scope, store_id, data: {type, id, …}, hash, created_at, producer}`: only a
//! hint of what to read again.

use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

use super::client::BcClient;
use super::error::BcError;
use crate::shop::{Delivery, DeliveryError, EventSubject, ShopEvent};

/// The header each of the connector's hooks carries, with the shop's webhook secret.
pub const SECRET_HEADER: &str = "X-Marketbridge-Secret";

/// The scopes the connector registers: catalog changes (a variant's, and stock, included) and
/// changes to orders and their shipments.
pub const SCOPES: [&str; 4] = [
    "store/product/*",
    "store/sku/*",
    "store/order/*",
    "store/shipment/*",
];

/// A hook of the store's, as BigCommerce lists it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Hook {
    pub id: i64,
    pub scope: String,
    pub destination: String,
    pub is_active: bool,
}

impl BcClient {
    /// Registers the connector's hooks to `destination`, carrying `secret` in
    /// [`SECRET_HEADER`], after removing the hooks any earlier connection left there (a
    /// reconnect), so the store never delivers twice.
    pub async fn register_hooks(
        &self,
        destination: &str,
        secret: &str,
    ) -> Result<Vec<Hook>, BcError> {
        for old in self.hooks().await? {
            if old.destination == destination {
                self.delete_hook(old.id).await?;
            }
        }
        let mut made = Vec::new();
        for scope in SCOPES {
            let body = json!({
                "scope": scope,
                "destination": destination,
                "is_active": true,
                "headers": { SECRET_HEADER: secret },
            });
            let hook: Hook = self
                .call(Method::POST, "v3/hooks", &[], Some(&body))
                .await?
                .data("hook")?;
            made.push(hook);
        }
        Ok(made)
    }

    /// Every hook of the store's.
    pub async fn hooks(&self) -> Result<Vec<Hook>, BcError> {
        let mut all = Vec::new();
        for page in 1..=20u32 {
            let query = [("page", page.to_string()), ("limit", "250".to_owned())];
            let (hooks, total_pages, _) = self
                .call(Method::GET, "v3/hooks", &query, None)
                .await?
                .page::<Hook>("hooks")?;
            all.extend(hooks);
            if page >= total_pages {
                break;
            }
        }
        Ok(all)
    }

    /// Removes a hook; one already gone counts as removed.
    pub async fn delete_hook(&self, id: i64) -> Result<(), BcError> {
        match self
            .call(Method::DELETE, &format!("v3/hooks/{id}"), &[], None)
            .await
        {
            Ok(_) | Err(BcError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Reads one delivery: its secret header checked, then the scope and the id it names. A
/// variant's or a stock event names its product (what is read); a shipment's, its order.
/// The topic kept is the scope without `store/`, dots for slashes, with a `sku` event under
/// `product.` so it routes as a product's (`store/sku/updated` → `product.sku.updated`).
pub fn read_delivery(
    headers: &HeaderMap,
    body: &[u8],
    secret: &[u8],
) -> Result<Delivery, DeliveryError> {
    let given = headers
        .get(SECRET_HEADER)
        .ok_or(DeliveryError::MissingHeaders)?
        .as_bytes();
    if !same(given, secret) {
        return Err(DeliveryError::BadSignature);
    }
    let json: Value = serde_json::from_slice(body).map_err(|_| DeliveryError::NotJson)?;
    let scope = json
        .get("scope")
        .and_then(Value::as_str)
        .ok_or(DeliveryError::Malformed("no scope"))?;
    if !plain(scope) {
        return Err(DeliveryError::Malformed("the scope is not a scope"));
    }
    let data = json.get("data").cloned().unwrap_or(Value::Null);
    let id = |value: Option<&Value>| value.and_then(Value::as_i64).filter(|id| *id > 0);
    let mut parts = scope.strip_prefix("store/").unwrap_or(scope).split('/');
    let resource = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let (topic, subject) = match resource {
        "product" => (
            format!("product.{}", rest.join(".")),
            id(data.get("id")).map_or(EventSubject::Catalog, EventSubject::Product),
        ),
        "sku" => {
            let product = id(data.pointer("/sku/product_id"))
                .or_else(|| id(data.pointer("/inventory/product_id")));
            (
                format!("product.sku.{}", rest.join(".")),
                product.map_or(EventSubject::Catalog, EventSubject::Product),
            )
        }
        "order" => (
            format!("order.{}", rest.join(".")),
            id(data.get("id")).map_or(EventSubject::Other, EventSubject::Order),
        ),
        "shipment" => (
            format!("order.shipment.{}", rest.join(".")),
            id(data.get("orderId"))
                .or_else(|| id(data.get("order_id")))
                .map_or(EventSubject::Other, EventSubject::Order),
        ),
        other => (format!("{other}.{}", rest.join(".")), EventSubject::Other),
    };
    // Every delivery is its own: BigCommerce's `hash` is the SHA-1 of `data` alone, the same
    // for every event about one product, and `created_at` has whole seconds, so two changes to
    // a product in one second would look like one redelivery and the second would be lost. A
    // redelivery recorded twice costs one more read of what it names, nothing else.
    let hash = json
        .get("hash")
        .and_then(Value::as_str)
        .filter(|hash| plain(hash))
        .unwrap_or("-");
    let unique: String = crate::random_bytes::<8>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let delivery_id = format!("{hash}:{unique}");
    Ok(Delivery::Event(ShopEvent {
        topic,
        delivery_id,
        subject,
    }))
}

/// The longest scope or delivery hash read: BigCommerce's are well under 100 characters.
const MAX_NAME_CHARS: usize = 200;

/// Printable ASCII of a sane length: what a scope or a hash is, and all that is kept of them.
fn plain(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_NAME_CHARS && text.bytes().all(|b| b.is_ascii_graphic())
}

/// Constant-time equality of two byte strings: both are hashed under one key first, so the
/// comparison takes the same time whatever their lengths.
fn same(given: &[u8], expected: &[u8]) -> bool {
    let tag = |bytes: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"marketbridge-bc-hook-secret")
            .expect("HMAC takes a key of any size");
        mac.update(bytes);
        mac
    };
    let expected = tag(expected).finalize().into_bytes();
    tag(given).verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn with_secret(secret: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(SECRET_HEADER, HeaderValue::from_str(secret).unwrap());
        headers
    }

    fn event(headers: &HeaderMap, body: Value) -> Result<ShopEvent, DeliveryError> {
        match read_delivery(headers, body.to_string().as_bytes(), b"s3cret")? {
            Delivery::Event(event) => Ok(event),
            Delivery::Ping => panic!("BigCommerce sends no ping"),
        }
    }

    #[test]
    fn deliveries_name_what_to_read_again() {
        let h = with_secret("s3cret");
        let product = event(
            &h,
            json!({"scope": "store/product/updated", "hash": "h1",
            "data": {"type": "product", "id": 7}}),
        )
        .unwrap();
        assert_eq!(
            (product.topic.as_str(), product.subject),
            ("product.updated", EventSubject::Product(7))
        );
        assert!(
            product.delivery_id.starts_with("h1:"),
            "{}",
            product.delivery_id
        );
        let again = event(
            &h,
            json!({"scope": "store/product/updated", "hash": "h1",
            "data": {"type": "product", "id": 7}}),
        )
        .unwrap();
        assert_ne!(
            again.delivery_id, product.delivery_id,
            "each delivery is its own"
        );
        let sku = event(
            &h,
            json!({"scope": "store/sku/inventory/updated", "hash": "h2",
            "data": {"type": "sku", "id": 9, "inventory": {"product_id": 7, "variant_id": 9}}}),
        )
        .unwrap();
        assert_eq!(
            (sku.topic.as_str(), sku.subject),
            ("product.sku.inventory.updated", EventSubject::Product(7))
        );
        let order = event(
            &h,
            json!({"scope": "store/order/updated", "hash": "h3",
            "data": {"type": "order", "id": 100}}),
        )
        .unwrap();
        assert_eq!(order.subject, EventSubject::Order(100));
        let shipment = event(
            &h,
            json!({"scope": "store/shipment/created", "hash": "h4",
            "data": {"type": "shipment", "id": 5, "orderId": 100}}),
        )
        .unwrap();
        assert_eq!(shipment.subject, EventSubject::Order(100));
    }

    #[test]
    fn a_delivery_without_the_secret_header_or_with_another_is_refused() {
        let body = json!({"scope": "store/product/updated", "data": {"id": 7}});
        assert_eq!(
            event(&HeaderMap::new(), body.clone()),
            Err(DeliveryError::MissingHeaders)
        );
        assert_eq!(
            event(&with_secret("guess"), body.clone()),
            Err(DeliveryError::BadSignature)
        );
        assert_eq!(
            event(&with_secret("s3cret!"), body),
            Err(DeliveryError::BadSignature)
        );
        assert_eq!(
            read_delivery(&with_secret("s3cret"), b"not json", b"s3cret"),
            Err(DeliveryError::NotJson)
        );
        let h = with_secret("s3cret");
        for scope in ["store/product/\\u0000", "store/\\u001b[2J", ""] {
            let body = format!(r#"{{"scope": "{scope}", "data": {{"id": 7}}}}"#);
            assert!(
                matches!(
                    read_delivery(&h, body.as_bytes(), b"s3cret"),
                    Err(DeliveryError::Malformed(_))
                ),
                "{scope}"
            );
        }
        let long = json!({"scope": "store/product/updated".repeat(20), "data": {"id": 7}});
        assert!(matches!(event(&h, long), Err(DeliveryError::Malformed(_))));
        // A hash that is no hash is not kept as the delivery's id.
        let odd = event(
            &h,
            json!({"scope": "store/product/updated", "hash": "a\u{0}b",
            "created_at": 5, "data": {"id": 7}}),
        )
        .unwrap();
        assert!(
            odd.delivery_id.bytes().all(|b| b.is_ascii_graphic()),
            "{:?}",
            odd.delivery_id
        );
    }
}
