//! WooCommerce's app authorization (`/wc-auth/v1/authorize`) end to end: the admin logs in,
//! approves, the store POSTs the new keys to the app's callback and sends the browser back.

mod support;

use reqwest::StatusCode;
use support::hidden_field;
use support::woo::{Receiver, Shop};

struct Flow {
    browser: reqwest::Client,
    authorize_url: String,
}

impl Flow {
    fn new(shop: &Shop, callback: &str, scope: &str) -> Self {
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let query = serde_urlencoded::to_string([
            ("app_name", "Marketbridge"),
            ("scope", scope),
            ("user_id", "workspace-42"),
            ("return_url", "https://connector.test/woo/return?step=2"),
            ("callback_url", callback),
        ])
        .unwrap();
        Self {
            browser,
            authorize_url: format!("{}/wc-auth/v1/authorize?{query}", shop.store_url),
        }
    }

    /// Follows redirects that stay on the sandbox; returns the first page or outside redirect.
    async fn follow(&self, shop: &Shop, mut response: reqwest::Response) -> reqwest::Response {
        while let Some(location) = response.headers().get("location") {
            let location = location.to_str().unwrap().to_owned();
            if !location.starts_with('/') {
                break;
            }
            response = self
                .browser
                .get(format!("{}{location}", shop.base))
                .send()
                .await
                .unwrap();
        }
        response
    }

    /// Logs in on the login page and lands on the approve page.
    async fn log_in(&self, shop: &Shop, password: &str) -> (StatusCode, String) {
        let start = self.browser.get(&self.authorize_url).send().await.unwrap();
        let login = self.follow(shop, start).await.text().await.unwrap();
        assert!(login.contains("Username or Email Address"), "{login}");
        assert!(login.contains("Log In"));
        let mut fields = vec![
            ("log".to_owned(), "shop-admin@example.com".to_owned()),
            ("pwd".to_owned(), password.to_owned()),
            (
                "csrf_token".to_owned(),
                hidden_field(&login, "csrf_token").unwrap(),
            ),
        ];
        for name in ["app_name", "scope", "user_id", "return_url", "callback_url"] {
            let value = hidden_field(&login, name).unwrap().replace("&amp;", "&");
            fields.push((name.to_owned(), value));
        }
        let posted = self
            .browser
            .post(format!("{}/wc-auth/v1/login", shop.store_url))
            .form(&fields)
            .send()
            .await
            .unwrap();
        let page = self.follow(shop, posted).await;
        (page.status(), page.text().await.unwrap())
    }

    async fn decide(&self, shop: &Shop, page: &str, decision: &str) -> reqwest::Response {
        let mut fields = vec![
            ("decision".to_owned(), decision.to_owned()),
            (
                "csrf_token".to_owned(),
                hidden_field(page, "csrf_token").unwrap(),
            ),
        ];
        for name in ["app_name", "scope", "user_id", "return_url", "callback_url"] {
            let value = hidden_field(page, name).unwrap().replace("&amp;", "&");
            fields.push((name.to_owned(), value));
        }
        self.browser
            .post(format!("{}/wc-auth/v1/access_granted", shop.store_url))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn approving_posts_the_keys_to_the_callback_and_returns_with_success() {
    let shop = Shop::start().await;
    let app = Receiver::start(200).await;
    let flow = Flow::new(&shop, &format!("{}/woo/callback", app.url), "read_write");

    let (status, wrong) = flow.log_in(&shop, "not-the-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(wrong.contains("not right"), "{wrong}");

    let (status, approve) = flow.log_in(&shop, "sandbox-shop-pass").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        approve.contains("<strong>Marketbridge</strong> would like to connect to your store"),
        "{approve}"
    );
    assert!(
        approve
            .replace("&#x2f;", "/")
            .contains("<strong>Read/Write</strong> access"),
        "{approve}"
    );
    assert!(approve.contains(">Approve<") && approve.contains(">Deny<"));

    let redirect = flow.decide(&shop, &approve, "approve").await;
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let location = redirect.headers()["location"].to_str().unwrap();
    assert_eq!(
        location,
        "https://connector.test/woo/return?step=2&success=1&user_id=workspace-42"
    );

    let posted = app.requests();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].path, "/woo/callback");
    let keys: serde_json::Value = serde_json::from_slice(&posted[0].body).unwrap();
    assert_eq!(keys["user_id"], "workspace-42");
    assert_eq!(keys["key_permissions"], "read_write");
    let consumer_key = keys["consumer_key"].as_str().unwrap();
    let consumer_secret = keys["consumer_secret"].as_str().unwrap();
    assert!(consumer_key.starts_with("ck_") && consumer_secret.starts_with("cs_"));

    let stored = shop.sandbox.woo_keys("demo-shop");
    let key = stored
        .iter()
        .find(|k| k.consumer_key == consumer_key)
        .expect("the key is kept");
    assert_eq!(key.key_id, keys["key_id"].as_i64().unwrap());
    assert!(
        key.description.starts_with("Marketbridge - API ("),
        "{}",
        key.description
    );
    let works = shop
        .http
        .get(shop.api("products"))
        .basic_auth(consumer_key, Some(consumer_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(works.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_callback_that_fails_deletes_the_key_and_shows_an_error() {
    let shop = Shop::start().await;
    let app = Receiver::start(500).await;
    let flow = Flow::new(&shop, &app.url, "read");
    let keys_before = shop.sandbox.woo_keys("demo-shop").len();
    let (_, approve) = flow.log_in(&shop, "sandbox-shop-pass").await;
    let page = flow.decide(&shop, &approve, "approve").await;
    assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
    let text = page.text().await.unwrap();
    assert!(text.contains("could not hand the new API keys"), "{text}");
    assert_eq!(app.requests().len(), 1, "the store tried once");
    assert_eq!(
        shop.sandbox.woo_keys("demo-shop").len(),
        keys_before,
        "the key was deleted"
    );
}

#[tokio::test]
async fn denying_returns_with_success_0_and_creates_nothing() {
    let shop = Shop::start().await;
    let app = Receiver::start(200).await;
    let flow = Flow::new(&shop, &app.url, "write");
    let (_, approve) = flow.log_in(&shop, "sandbox-shop-pass").await;
    let redirect = flow.decide(&shop, &approve, "deny").await;
    assert_eq!(
        redirect.headers()["location"].to_str().unwrap(),
        "https://connector.test/woo/return?step=2&success=0&user_id=workspace-42"
    );
    assert!(app.requests().is_empty());
    assert_eq!(shop.sandbox.woo_keys("demo-shop").len(), 1);
}

#[tokio::test]
async fn a_request_missing_a_parameter_gets_an_error_page() {
    let shop = Shop::start().await;
    let response = shop
        .http
        .get(format!(
            "{}/wc-auth/v1/authorize?app_name=X&scope=read&user_id=1&return_url=https://a.test/",
            shop.store_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Missing parameter callback_url")
    );
    let bad_scope = shop
        .http
        .get(format!(
            "{}/wc-auth/v1/authorize?app_name=X&scope=admin&user_id=1&return_url=https://a.test/&callback_url=https://a.test/cb",
            shop.store_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_scope.status(), StatusCode::BAD_REQUEST);
}
