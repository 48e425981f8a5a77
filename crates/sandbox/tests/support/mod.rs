//! Drives a sandbox in-process, as a browser and as an OAuth client would.
#![allow(dead_code)] // each test file uses its own part of the kit

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sandbox::{Sandbox, SandboxConfig};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

pub const CLIENT_ID: &str = "marketbridge-demo";
pub const CLIENT_SECRET: &str = "sandbox-client-secret";
/// The connector's callback; its own query must survive the round trip.
pub const CALLBACK: &str = "https://connector.test/oauth/mirakl/callback?tenant=7";
pub const EMAIL: &str = "seller@example.com";
pub const PASSWORD: &str = "sandbox-seller-pass";
pub const SHOP_API_KEY: &str = "sandbox-shop-api-key";
pub const PUBLIC_URL: &str = "http://sandbox.test:8090";
pub const CONNECT_COMPANY: &str = "demo-company";
/// A GTIN no marketplace catalog knows.
pub const UNKNOWN_EAN: &str = "0000000000017";

pub struct TestSandbox {
    pub sandbox: Sandbox,
    router: Router,
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get(header::LOCATION)
            .map(|value| value.to_str().unwrap().to_owned())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf_token(&self) -> String {
        hidden_field(&self.body, "csrf_token")
            .unwrap_or_else(|| panic!("no CSRF token on the page: {}", self.body))
    }

    /// The query of a redirect back to the client's callback.
    pub fn callback_params(&self) -> HashMap<String, String> {
        let location = self.location().expect("a redirect to the callback");
        assert!(
            location.starts_with("https://connector.test/oauth/mirakl/callback?tenant=7&"),
            "the redirect must go to the registered URI, query kept: {location}"
        );
        url::Url::parse(&location)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }
}

pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

impl TestSandbox {
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// A sandbox with the demo data and a configuration changed by `configure`.
    pub fn start_with(configure: impl FnOnce(&mut SandboxConfig)) -> Self {
        let mut config = SandboxConfig::new(url::Url::parse(PUBLIC_URL).unwrap());
        config.redirect_uris = vec![CALLBACK.to_owned()];
        configure(&mut config);
        let sandbox = Sandbox::new(config);
        let router = sandbox.router();
        Self { sandbox, router }
    }

    /// A request with an optional `Authorization` and an optional JSON body.
    pub async fn json(
        &self,
        method: Method,
        uri: &str,
        authorization: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> TestResponse {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::ACCEPT, "application/json");
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    /// A Bearer value for the Connect company `demo-company` (client_credentials with
    /// `audience`).
    pub async fn connect_bearer(&self) -> String {
        let response = self
            .token(&[
                ("grant_type", "client_credentials"),
                ("audience", CONNECT_COMPANY),
            ])
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        format!(
            "Bearer {}",
            response.json()["access_token"].as_str().unwrap()
        )
    }

    /// A multipart/form-data POST, as OF01 and P41 take: text fields, then the file.
    pub async fn upload(
        &self,
        uri: &str,
        authorization: &str,
        fields: &[(&str, &str)],
        file: Option<&str>,
    ) -> TestResponse {
        const BOUNDARY: &str = "sandbox-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        if let Some(file) = file {
            body.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"import.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n"
            ));
        }
        body.push_str(&format!("--{BOUNDARY}--\r\n"));
        let request = Request::post(uri)
            .header(header::AUTHORIZATION, authorization)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// OF01 on demo-marketplace with the demo shop key.
    pub async fn of01(&self, mode: &str, file: &str) -> TestResponse {
        self.upload(
            "/mmp/demo-marketplace/api/offers/imports",
            SHOP_API_KEY,
            &[("import_mode", mode)],
            Some(file),
        )
        .await
    }

    /// A GET on demo-marketplace with the demo shop key; `path` follows `/api`.
    pub async fn mmp_get(&self, path: &str) -> TestResponse {
        self.json(
            Method::GET,
            &format!("/mmp/demo-marketplace/api{path}"),
            Some(SHOP_API_KEY),
            None,
        )
        .await
    }

    /// A call on demo-marketplace with the demo shop key; `path` follows `/api`.
    pub async fn mmp(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> TestResponse {
        self.json(
            method,
            &format!("/mmp/demo-marketplace/api{path}"),
            Some(SHOP_API_KEY),
            body,
        )
        .await
    }

    /// Offers `(shop SKU, quantity)` at 10.00 on demo-marketplace's store 2001, on products of
    /// its catalog, imported with OF24 and settled.
    pub async fn stock_offers(&self, offers: &[(&str, i64)]) {
        self.stock_offers_with(SHOP_API_KEY, "demo-marketplace", offers)
            .await;
    }

    /// `stock_offers` with another shop's key, on another marketplace.
    pub async fn stock_offers_with(&self, key: &str, instance: &str, offers: &[(&str, i64)]) {
        let gtins: Vec<String> = self
            .sandbox
            .marketplace_products(instance)
            .iter()
            .filter_map(|product| product["gtin"].as_str().map(str::to_owned))
            .take(offers.len())
            .collect();
        let lines: Vec<serde_json::Value> = offers
            .iter()
            .zip(&gtins)
            .map(|((sku, quantity), gtin)| {
                serde_json::json!({
                    "shop_sku": sku,
                    "product_id": gtin,
                    "product_id_type": "EAN",
                    "price": "10.00",
                    "quantity": quantity,
                    "state_code": "11",
                })
            })
            .collect();
        let created = self
            .json(
                Method::POST,
                &format!("/mmp/{instance}/api/offers"),
                Some(key),
                Some(&serde_json::json!({ "offers": lines })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        self.sandbox.settle_imports();
    }

    /// Polls OF02 until the import is done (each poll moves it one step); its last answer.
    pub async fn poll_until_done(&self, import_id: u64) -> serde_json::Value {
        for _ in 0..5 {
            let status = self.mmp_get(&format!("/offers/imports/{import_id}")).await;
            assert_eq!(status.status, StatusCode::OK, "{}", status.body);
            let status = status.json();
            if matches!(status["status"].as_str(), Some("COMPLETE" | "FAILED")) {
                return status;
            }
        }
        panic!("import {import_id} still not done after 5 polls");
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub fn browser(&self) -> Browser<'_> {
        Browser {
            sandbox: self,
            cookies: HashMap::new(),
        }
    }

    /// A token endpoint call with the client authenticated in the body.
    pub async fn token(&self, fields: &[(&str, &str)]) -> TestResponse {
        let mut fields = fields.to_vec();
        fields.push(("client_id", CLIENT_ID));
        fields.push(("client_secret", CLIENT_SECRET));
        self.send(form_request("/mas/oauth/token", &fields, None))
            .await
    }

    pub async fn exchange_code(&self, code: &str, verifier: &str) -> TestResponse {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier),
        ])
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> TestResponse {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// A01 on an instance, with an optional `Authorization` value and `shop_id`.
    pub async fn a01(
        &self,
        instance: &str,
        authorization: Option<&str>,
        shop_id: Option<&str>,
    ) -> TestResponse {
        let mut uri = format!("/mmp/{instance}/api/account");
        if let Some(shop_id) = shop_id {
            uri.push_str(&format!("?shop_id={shop_id}"));
        }
        let mut request = Request::get(uri).header(header::ACCEPT, "application/json");
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Signs in, picks Demo Store on Demo Marketplace (first time) and accepts; returns the code
    /// and the PKCE verifier.
    pub async fn authorized_code(&self) -> (String, String) {
        let pkce = Pkce::new();
        let mut browser = self.browser();
        let page = browser.authorize(&pkce.params("state-1")).await;
        let page = browser.sign_in(&page, EMAIL, PASSWORD).await;
        let page = if page.body.contains("Choose your store") {
            browser
                .submit(
                    &page,
                    "/mas/select",
                    &[("marketplace", "demo-marketplace"), ("store", "2001")],
                )
                .await
        } else {
            page
        };
        let redirect = browser.accept(&page).await;
        let params = redirect.callback_params();
        (params["code"].clone(), pkce.verifier)
    }

    /// Tokens from a fresh authorization: the token endpoint's JSON answer.
    pub async fn authorized_tokens(&self) -> serde_json::Value {
        let (code, verifier) = self.authorized_code().await;
        let response = self.exchange_code(&code, &verifier).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        response.json()
    }
}

pub fn form_request(uri: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> Request<Body> {
    let mut request =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request
        .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap()
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// The claims of a JWT, read without checking the signature.
pub fn jwt_claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Self {
        let verifier = format!("verifier-{}", "x".repeat(50));
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }

    /// The authorize parameters of a PKCE marketplace authorization.
    pub fn params<'a>(&'a self, state: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("state", state),
            ("code_challenge", self.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]
    }
}

/// A browser: keeps the sandbox's cookies and follows redirects inside the sandbox.
pub struct Browser<'a> {
    sandbox: &'a TestSandbox,
    cookies: HashMap<String, String>,
}

impl Browser<'_> {
    pub async fn get(&mut self, uri: &str) -> TestResponse {
        let request = Request::get(uri)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        let response = self.sandbox.send(request).await;
        self.keep_cookies(&response);
        response
    }

    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> TestResponse {
        let cookie = self.cookie_header();
        let response = self
            .sandbox
            .send(form_request(uri, fields, Some(&cookie)))
            .await;
        self.keep_cookies(&response);
        response
    }

    /// Follows redirects that stay on the sandbox; stops at a page or a redirect elsewhere.
    pub async fn follow(&mut self, mut response: TestResponse) -> TestResponse {
        while let Some(location) = response.location().filter(|l| l.starts_with('/')) {
            response = self.get(&location).await;
        }
        response
    }

    /// `GET /mas/authorize` with these parameters, redirects followed.
    pub async fn authorize(&mut self, params: &[(&str, &str)]) -> TestResponse {
        let query = serde_urlencoded::to_string(params).unwrap();
        let response = self.get(&format!("/mas/authorize?{query}")).await;
        self.follow(response).await
    }

    /// Posts a form of `page` with its CSRF token, redirects followed.
    pub async fn submit(
        &mut self,
        page: &TestResponse,
        action: &str,
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let csrf = page.csrf_token();
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", &csrf));
        let response = self.post(action, &fields).await;
        self.follow(response).await
    }

    pub async fn sign_in(
        &mut self,
        page: &TestResponse,
        email: &str,
        password: &str,
    ) -> TestResponse {
        assert!(
            page.body.contains("Sign in"),
            "expected the login page: {}",
            page.body
        );
        self.submit(
            page,
            "/mas/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Presses Accept on the consent page; returns the redirect to the client.
    pub async fn accept(&mut self, page: &TestResponse) -> TestResponse {
        assert!(
            page.body.contains("Accept"),
            "expected the consent page: {}",
            page.body
        );
        self.submit(page, "/mas/consent", &[("decision", "accept")])
            .await
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, response: &TestResponse) {
        for value in response.headers.get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.insert(name.to_owned(), value.to_owned());
        }
    }
}

pub mod woo;
