//! Trusting what arrives at a webhook's delivery URL: signatures, headers, pings.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{HeaderMap, HeaderValue};
use shops::webhook::{MissingHeader, WebhookHeaders, is_ping, new_secret, sign, verify_signature};

const BODY: &[u8] = br#"{"id":42,"name":"Blue mug"}"#;

#[test]
fn signatures_match_an_independently_computed_one() {
    // python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
    //   b"whsec-test", b"{\"id\":42,\"name\":\"Blue mug\"}", hashlib.sha256).digest()).decode())'
    let expected = "ksMkMPaIR54cMXI+99xrXkPHuweWtyWs4VaHe59JEc4=";
    assert_eq!(sign(b"whsec-test", BODY), expected);
    assert!(verify_signature(b"whsec-test", BODY, expected));
}

#[test]
fn a_good_signature_verifies() {
    let signature = sign(b"secret", BODY);
    assert!(verify_signature(b"secret", BODY, &signature));
    assert!(verify_signature(
        b"secret",
        BODY,
        &format!(" {signature}\n")
    ));
}

#[test]
fn a_tampered_body_fails() {
    let signature = sign(b"secret", BODY);
    assert!(!verify_signature(
        b"secret",
        br#"{"id":42,"name":"Red mug"}"#,
        &signature
    ));
}

#[test]
fn a_wrong_secret_fails() {
    let signature = sign(b"secret", BODY);
    assert!(!verify_signature(b"other secret", BODY, &signature));
}

#[test]
fn a_missing_or_garbage_header_fails() {
    let signature = sign(b"secret", BODY);
    assert!(!verify_signature(b"secret", BODY, ""));
    assert!(!verify_signature(b"secret", BODY, "not base64 at all!"));
    assert!(!verify_signature(b"secret", BODY, "c2hvcnQ="));
    assert!(!verify_signature(
        b"secret",
        BODY,
        &signature[..signature.len() - 4]
    ));
}

#[test]
fn a_ping_is_a_form_with_only_the_webhook_id() {
    let form = Some("application/x-www-form-urlencoded; charset=UTF-8");
    assert!(is_ping(form, b"webhook_id=17"));
    assert!(is_ping(None, b"webhook_id=17"));
    assert!(!is_ping(Some("application/json"), b"webhook_id=17"));
    assert!(!is_ping(form, BODY));
    assert!(!is_ping(form, b"webhook_id=abc"));
    assert!(!is_ping(form, b"webhook_id=17&action=delete"));
    assert!(!is_ping(form, b""));
}

#[test]
fn new_secrets_are_32_random_bytes_in_base64url() {
    let secret = new_secret();
    assert_eq!(URL_SAFE_NO_PAD.decode(&secret).unwrap().len(), 32);
    assert_ne!(secret, new_secret());
}

fn delivery_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("x-wc-webhook-topic", "product.updated"),
        ("x-wc-webhook-resource", "product"),
        ("x-wc-webhook-event", "updated"),
        ("x-wc-webhook-id", "31"),
        ("x-wc-webhook-delivery-id", "9b1e3a7c"),
        ("x-wc-webhook-source", "https://shop.example/"),
        ("x-wc-webhook-signature", "c2lnbmF0dXJl"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
}

#[test]
fn delivery_headers_parse_and_debug_hides_the_signature() {
    let parsed = WebhookHeaders::parse(&delivery_headers()).unwrap();
    assert_eq!(parsed.topic, "product.updated");
    assert_eq!(parsed.resource, "product");
    assert_eq!(parsed.event, "updated");
    assert_eq!(parsed.webhook_id, 31);
    assert_eq!(parsed.delivery_id, "9b1e3a7c");
    assert_eq!(parsed.source, "https://shop.example/");
    assert_eq!(parsed.signature, "c2lnbmF0dXJl");
    assert!(!format!("{parsed:?}").contains("c2lnbmF0dXJl"));
}

#[test]
fn a_missing_or_unreadable_header_is_named() {
    let mut headers = delivery_headers();
    headers.remove("x-wc-webhook-signature");
    assert_eq!(
        WebhookHeaders::parse(&headers),
        Err(MissingHeader {
            name: "X-WC-Webhook-Signature"
        })
    );
    let mut headers = delivery_headers();
    headers.insert("x-wc-webhook-id", HeaderValue::from_static("thirty-one"));
    assert_eq!(
        WebhookHeaders::parse(&headers).unwrap_err().name,
        "X-WC-Webhook-ID"
    );
}

/// The headers WooCommerce sends with a delivery of `topic`, signed with `secret`.
fn signed_delivery(topic: &str, secret: &[u8], body: &[u8]) -> HeaderMap {
    let (resource, event) = topic.split_once('.').unwrap();
    let mut headers = delivery_headers();
    for (name, value) in [
        ("x-wc-webhook-topic", topic.to_owned()),
        ("x-wc-webhook-resource", resource.to_owned()),
        ("x-wc-webhook-event", event.to_owned()),
        ("x-wc-webhook-signature", sign(secret, body)),
    ] {
        headers.insert(name, HeaderValue::from_str(&value).unwrap());
    }
    headers
}

#[test]
fn a_delivery_names_what_to_read_and_nothing_more() {
    use domain::ShopPlatform::WooCommerce;
    use shops::{Delivery, DeliveryError, EventSubject, read_delivery};
    let read = |topic: &str, body: &[u8]| {
        read_delivery(WooCommerce, &signed_delivery(topic, b"s", body), body, b"s")
    };
    let subject = |topic: &str, body: &[u8]| match read(topic, body) {
        Ok(Delivery::Event(event)) => event.subject,
        other => panic!("{topic}: {other:?}"),
    };
    assert_eq!(subject("product.updated", BODY), EventSubject::Product(42));
    // A variation's event names its product: that is what is read.
    assert_eq!(
        subject("product.updated", br#"{"id":43,"parent_id":42}"#),
        EventSubject::Product(42)
    );
    assert_eq!(
        subject("product.deleted", br#"{"id":42}"#),
        EventSubject::Product(42)
    );
    assert_eq!(subject("product.updated", b"{}"), EventSubject::Catalog);
    assert_eq!(
        subject("order.created", br#"{"id":9}"#),
        EventSubject::Order(9)
    );
    assert_eq!(
        subject("coupon.created", br#"{"id":9}"#),
        EventSubject::Other
    );

    let forged = signed_delivery("product.deleted", b"not-the-secret", BODY);
    assert_eq!(
        read_delivery(WooCommerce, &forged, BODY, b"s"),
        Err(DeliveryError::BadSignature)
    );
    assert_eq!(
        read_delivery(WooCommerce, &HeaderMap::new(), BODY, b"s"),
        Err(DeliveryError::MissingHeaders)
    );
    assert_eq!(
        read("product.updated", b"not json"),
        Err(DeliveryError::NotJson)
    );
    let mut ping = HeaderMap::new();
    ping.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    assert_eq!(
        read_delivery(WooCommerce, &ping, b"webhook_id=7", b"s"),
        Ok(Delivery::Ping)
    );
}
