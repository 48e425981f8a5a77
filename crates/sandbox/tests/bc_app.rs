//! Installing an app on the emulated BigCommerce store: the single-use code exchange, the
//! signed payload, and the control panel's Install, Open and Uninstall.

mod bc_support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bc_support::{CLIENT_ID, CLIENT_SECRET, HASH, Receiver, Store};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The claims of an HS256 JWT whose signature checks out under `secret`.
fn verified_claims(jwt: &str, secret: &str) -> Value {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
        .expect("signed with the client secret");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn install_code(store: &Store) -> Value {
    let response = store
        .http
        .post(format!(
            "{}/sandbox/api/bc/stores/{HASH}/install-code",
            store.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn grant(code: &Value, redirect_uri: &str) -> Value {
    json!({
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": code["code"],
        "scope": code["scope"],
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
        "context": code["context"],
    })
}

#[tokio::test]
async fn a_code_is_exchanged_once_for_a_token_that_opens_the_api() {
    let store = Store::start().await;
    let code = install_code(&store).await;
    assert_eq!(code["context"], format!("stores/{HASH}"));
    let token_url = format!("{}/bc/login/oauth2/token", store.base);
    let redirect = "http://localhost:8080/bigcommerce/auth";

    let exchanged = store
        .http
        .post(&token_url)
        .json(&grant(&code, redirect))
        .send()
        .await
        .unwrap();
    assert_eq!(exchanged.status(), StatusCode::OK);
    let token: Value = exchanged.json().await.unwrap();
    assert_eq!(token["context"], format!("stores/{HASH}"));
    assert_eq!(token["scope"], code["scope"]);
    assert_eq!(token["user"]["email"], "bc-owner@example.com");
    assert!(token["owner"]["id"].is_number());
    assert!(token["account_uuid"].is_string());
    let access_token = token["access_token"].as_str().unwrap();
    let products = store
        .http
        .get(store.api("v3/catalog/products?limit=1"))
        .header("x-auth-token", access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(products.status(), StatusCode::OK);
    assert!(store.sandbox.bc_app_installed(HASH, CLIENT_ID));

    let replayed = store
        .http
        .post(&token_url)
        .json(&grant(&code, redirect))
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    let refusal: Value = replayed.json().await.unwrap();
    assert_eq!(refusal["error"], "invalid_grant");

    // The official Python client sends the grant form-encoded; a wrong redirect_uri uses the
    // code up all the same.
    let code = install_code(&store).await;
    let wrong = store
        .http
        .post(&token_url)
        .json(&grant(&code, "http://elsewhere.test/auth"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let code = install_code(&store).await;
    let form: Vec<(String, String)> = grant(&code, redirect)
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let by_form = store
        .http
        .post(&token_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(by_form.status(), StatusCode::OK);
    let second: Value = by_form.json().await.unwrap();
    let old = store
        .http
        .get(store.api("v3/catalog/products?limit=1"))
        .header("x-auth-token", access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "installing again replaces the token"
    );
    assert_ne!(second["access_token"], token["access_token"]);

    let code = install_code(&store).await;
    let mut bad_secret = grant(&code, redirect);
    bad_secret["client_secret"] = json!("guess");
    let refused = store
        .http
        .post(&token_url)
        .json(&bad_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let garbage = store
        .http
        .post(&token_url)
        .header("content-type", "application/json")
        .body("{\"grant_type\":")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_signed_payload_verifies_with_the_client_secret() {
    let store = Store::start().await;
    let response = store
        .http
        .get(format!(
            "{}/sandbox/api/bc/stores/{HASH}/signed-payload",
            store.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let jwt = body["signed_payload_jwt"].as_str().unwrap();
    let claims = verified_claims(jwt, CLIENT_SECRET);
    assert_eq!(claims["iss"], "bc");
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["sub"], format!("stores/{HASH}"));
    assert_eq!(claims["user"]["email"], "bc-owner@example.com");
    assert_eq!(claims["owner"]["email"], "bc-owner@example.com");
    assert_eq!(claims["url"], "/");
    assert!(claims["jti"].is_string());
    let (iat, nbf, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["nbf"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert!(nbf <= iat && exp == iat + 24 * 3600);
    assert_eq!(
        query(body["load_url"].as_str().unwrap())["signed_payload_jwt"],
        jwt
    );
    let other = store.sandbox.bc_signed_payload(HASH, CLIENT_ID).unwrap();
    assert_ne!(
        verified_claims(&other, CLIENT_SECRET)["jti"],
        claims["jti"],
        "each is fresh"
    );

    let unknown = store
        .http
        .get(format!(
            "{}/sandbox/api/bc/stores/nope/signed-payload",
            store.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_control_panel_installs_opens_and_uninstalls_the_app() {
    let store = Store::start().await;
    let app = Receiver::start(200).await;
    let auth = format!("{}/bigcommerce/auth", app.url);
    let set = store
        .http
        .post(format!(
            "{}/sandbox/api/bc/apps/{CLIENT_ID}/callbacks",
            store.base
        ))
        .json(&json!({
            "auth_callback": auth,
            "load_callback": format!("{}/bigcommerce/load", app.url),
            "uninstall_callback": format!("{}/bigcommerce/uninstall", app.url),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);

    let page = store
        .http
        .get(format!("{}/bc/manage/{HASH}", store.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("My Apps") && html.contains("Marketbridge") && html.contains(">Install<"),
        "{html}"
    );

    let installed = store
        .http
        .post(format!(
            "{}/bc/manage/{HASH}/apps/{CLIENT_ID}/install",
            store.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(installed.status(), StatusCode::SEE_OTHER);
    let location = installed.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&auth), "{location}");
    let params = query(&location);
    assert_eq!(params["context"], format!("stores/{HASH}"));
    assert!(params["scope"].contains("store_v2_orders"));
    let exchanged = store
        .http
        .post(format!("{}/bc/login/oauth2/token", store.base))
        .json(&json!({
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": params["code"],
            "scope": params["scope"], "grant_type": "authorization_code",
            "redirect_uri": auth, "context": params["context"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(exchanged.status(), StatusCode::OK);
    let token: Value = exchanged.json().await.unwrap();
    let access_token = token["access_token"].as_str().unwrap().to_owned();

    let html = store
        .http
        .get(format!("{}/bc/manage/{HASH}", store.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Installed") && html.contains("Uninstall"),
        "{html}"
    );
    let opened = store
        .http
        .get(format!(
            "{}/bc/manage/{HASH}/apps/{CLIENT_ID}/load",
            store.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    let load = opened.headers()["location"].to_str().unwrap().to_owned();
    assert!(load.starts_with(&format!("{}/bigcommerce/load?", app.url)));
    verified_claims(&query(&load)["signed_payload_jwt"], CLIENT_SECRET);

    // The app listens for its own uninstall; another hook of the store's API account does not
    // hear of it.
    let hooks = Receiver::start(200).await;
    for (token, path) in [
        (access_token.as_str(), "/app"),
        (bc_support::TOKEN, "/store"),
    ] {
        let created = store
            .http
            .post(store.api("v3/hooks"))
            .header("x-auth-token", token)
            .json(&json!({ "scope": "store/app/uninstalled", "destination": format!("{}{path}", hooks.url), "headers": { "x-app": "1" } }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::OK);
    }
    let uninstalled = store
        .http
        .post(format!(
            "{}/bc/manage/{HASH}/apps/{CLIENT_ID}/uninstall",
            store.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(uninstalled.status(), StatusCode::SEE_OTHER);
    store.sandbox.settle_bc_hooks().await;

    let callback = app
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/bigcommerce/uninstall"))
        .expect("the uninstall callback was called");
    assert_eq!(callback.method, "GET");
    let claims = verified_claims(
        &query(&format!("http://x{}", callback.path))["signed_payload_jwt"],
        CLIENT_SECRET,
    );
    assert_eq!(claims["sub"], format!("stores/{HASH}"));
    let heard: Vec<_> = hooks.requests();
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0].path, "/app");
    assert_eq!(heard[0].json()["scope"], "store/app/uninstalled");
    assert_eq!(heard[0].headers["x-app"], "1");

    let refused = store
        .http
        .get(store.api("v3/catalog/products?limit=1"))
        .header("x-auth-token", &access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(!store.sandbox.bc_app_installed(HASH, CLIENT_ID));
    assert_eq!(
        store.sandbox.bc_hooks(HASH).len(),
        1,
        "the app's hooks are gone"
    );
    let not_installed = store
        .http
        .get(format!(
            "{}/bc/manage/{HASH}/apps/{CLIENT_ID}/load",
            store.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(not_installed.status(), StatusCode::CONFLICT);
}
