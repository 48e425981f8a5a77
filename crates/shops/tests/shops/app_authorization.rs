//! The WooCommerce app authorization: the address the seller is sent to, and the keys the store
//! posts back.

use shops::woocommerce::{AppAuthorization, AppKeys, Scope, StoreUrl, app_authorization_url};
use url::Url;

#[test]
fn the_authorization_url_carries_the_five_parameters() {
    let store = StoreUrl::parse("https://example.com/shop/").unwrap();
    let return_url = Url::parse("https://connector.example/onboarding/shop?step=2").unwrap();
    let callback_url = Url::parse("https://connector.example/callbacks/woocommerce/keys").unwrap();

    let url = app_authorization_url(
        &store,
        &AppAuthorization {
            app_name: "Marketbridge",
            scope: Scope::ReadWrite,
            user_id: "ws_42:conn_7",
            return_url: &return_url,
            callback_url: &callback_url,
        },
    );

    assert_eq!(
        url.as_str().split('?').next(),
        Some("https://example.com/shop/wc-auth/v1/authorize")
    );
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let expected: Vec<(String, String)> = [
        ("app_name", "Marketbridge"),
        ("scope", "read_write"),
        ("user_id", "ws_42:conn_7"),
        (
            "return_url",
            "https://connector.example/onboarding/shop?step=2",
        ),
        (
            "callback_url",
            "https://connector.example/callbacks/woocommerce/keys",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(params, expected);
}

#[test]
fn scopes_have_woocommerces_names() {
    assert_eq!(Scope::Read.as_str(), "read");
    assert_eq!(Scope::Write.as_str(), "write");
    assert_eq!(Scope::ReadWrite.as_str(), "read_write");
}

#[test]
fn app_keys_accept_a_numeric_or_a_string_user_id() {
    let as_string: AppKeys = serde_json::from_str(
        r#"{"key_id":12,"user_id":"ws_42","consumer_key":"ck_abc1234567","consumer_secret":"cs_topsecret","key_permissions":"read_write"}"#,
    )
    .unwrap();
    assert_eq!(as_string.user_id, "ws_42");
    assert_eq!(as_string.key_id, 12);
    assert_eq!(as_string.consumer_secret, "cs_topsecret");
    assert_eq!(as_string.key_permissions, "read_write");

    let as_number: AppKeys = serde_json::from_str(
        r#"{"key_id":"13","user_id":42,"consumer_key":"ck_abc1234567","consumer_secret":"cs_topsecret","key_permissions":"read"}"#,
    )
    .unwrap();
    assert_eq!(as_number.user_id, "42");
    assert_eq!(as_number.key_id, 13);

    let without_id = serde_json::from_str::<AppKeys>(
        r#"{"user_id":42,"consumer_key":"ck_a","consumer_secret":"cs_b","key_permissions":"read"}"#,
    );
    assert!(without_id.is_err());
}

#[test]
fn debug_of_app_keys_never_shows_the_secret_or_the_whole_key() {
    let keys: AppKeys = serde_json::from_str(
        r#"{"key_id":12,"user_id":"ws_42","consumer_key":"ck_0123456789abcdef","consumer_secret":"cs_topsecret","key_permissions":"read_write"}"#,
    )
    .unwrap();
    let shown = format!("{keys:?}");
    assert!(!shown.contains("cs_topsecret"), "{shown}");
    assert!(!shown.contains("ck_0123456789abcdef"), "{shown}");
    assert!(
        shown.contains("9abcdef") && shown.contains("ws_42"),
        "{shown}"
    );
}
