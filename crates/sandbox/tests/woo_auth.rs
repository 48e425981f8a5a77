//! REST authentication as WooCommerce does it: key and secret (Basic or query) and one-legged
//! OAuth 1.0a over plain HTTP, with its timestamp window and nonce replay check.

mod support;

use reqwest::StatusCode;
use support::woo::{KEY, SECRET, Shop, oauth_query, unix_now};

async fn code_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn basic_auth_and_query_keys_open_the_api() {
    let shop = Shop::start().await;
    let basic = shop
        .http
        .get(shop.api("products"))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    let query = shop
        .http
        .get(shop.api("products"))
        .query(&[("consumer_key", KEY), ("consumer_secret", SECRET)])
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), StatusCode::OK);
    assert!(shop.sandbox.call_count("woo.rest") >= 2);
    assert!(shop.sandbox.call_count("woo.rest.products") >= 2);
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_refused_with_401() {
    let shop = Shop::start().await;
    let anonymous = shop.http.get(shop.api("products")).send().await.unwrap();
    assert_eq!(
        code_of(anonymous).await,
        (
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_cannot_view".into()
        )
    );
    let anonymous_write = shop
        .http
        .post(shop.api("orders"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        code_of(anonymous_write).await,
        (
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_cannot_create".into()
        )
    );

    let wrong_secret = shop
        .http
        .get(shop.api("products"))
        .basic_auth(KEY, Some("cs_wrong"))
        .send()
        .await
        .unwrap();
    assert!(wrong_secret.headers().contains_key("www-authenticate"));
    assert_eq!(
        code_of(wrong_secret).await,
        (
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_error".into()
        )
    );
    // An unknown key is no user at all, as in core.
    let unknown = shop
        .http
        .get(shop.api("products"))
        .basic_auth("ck_nobody", Some("cs_x"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        code_of(unknown).await,
        (
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_cannot_view".into()
        )
    );

    shop.sandbox.woo_revoke_key("demo-shop", KEY);
    let revoked = shop
        .http
        .get(shop.api("products"))
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn oauth_signed_with_sha1_or_sha256_passes() {
    let shop = Shop::start().await;
    let url = shop.api("products");
    for (method, nonce) in [("HMAC-SHA1", "nonce-sha1"), ("HMAC-SHA256", "nonce-sha256")] {
        let query = oauth_query(
            "GET",
            &url,
            &[("per_page", "5"), ("search", "a b")],
            SECRET,
            method,
            unix_now(),
            nonce,
        );
        let response = shop.http.get(&url).query(&query).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{method}: {}",
            response.text().await.unwrap()
        );
        let products: Vec<serde_json::Value> = response.json().await.unwrap();
        assert!(products.len() <= 5);
    }
    // A POST signs its query only, never the JSON body.
    let orders = shop.api("orders");
    let query = oauth_query(
        "POST",
        &orders,
        &[],
        SECRET,
        "HMAC-SHA256",
        unix_now(),
        "nonce-post",
    );
    let response = shop
        .http
        .post(&orders)
        .query(&query)
        .json(&serde_json::json!({ "line_items": [{ "sku": "DEMO-0002", "quantity": 1 }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_wrong_signature_an_old_timestamp_and_a_reused_nonce_fail() {
    let shop = Shop::start().await;
    let url = shop.api("products");

    let wrong = oauth_query(
        "GET",
        &url,
        &[],
        "cs_not_the_secret",
        "HMAC-SHA256",
        unix_now(),
        "n1",
    );
    let response = shop.http.get(&url).query(&wrong).send().await.unwrap();
    assert_eq!(
        code_of(response).await,
        (
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_error".into()
        )
    );

    let signed_for_other_path = oauth_query(
        "GET",
        &shop.api("orders"),
        &[],
        SECRET,
        "HMAC-SHA256",
        unix_now(),
        "n2",
    );
    let response = shop
        .http
        .get(&url)
        .query(&signed_for_other_path)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let old = oauth_query(
        "GET",
        &url,
        &[],
        SECRET,
        "HMAC-SHA256",
        unix_now() - 16 * 60,
        "n3",
    );
    let response = shop.http.get(&url).query(&old).send().await.unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Invalid timestamp.");

    let fresh = oauth_query("GET", &url, &[], SECRET, "HMAC-SHA1", unix_now(), "n4");
    let first = shop.http.get(&url).query(&fresh).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let replay = shop.http.get(&url).query(&fresh).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = replay.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Invalid nonce - nonce has already been used."
    );

    let mut incomplete = oauth_query("GET", &url, &[], SECRET, "HMAC-SHA1", unix_now(), "n5");
    incomplete.retain(|(name, _)| name != "oauth_nonce");
    let response = shop.http.get(&url).query(&incomplete).send().await.unwrap();
    assert_eq!(
        code_of(response).await,
        (
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_missing_parameter".into()
        )
    );
}
