//! Drives the emulated WooCommerce store over a real socket, as a shop client would, and
//! listens as a webhook or callback receiver would.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sandbox::{Sandbox, SandboxConfig};

pub const STORE: &str = "demo-shop";
pub const KEY: &str = "ck_sandbox_demo";
pub const SECRET: &str = "cs_sandbox_demo";
/// 240 simple + 60 variable products in the demo catalog.
pub const DEMO_PRODUCTS: usize = 300;

/// A seeded sandbox served on 127.0.0.1:0.
pub struct Shop {
    pub sandbox: Sandbox,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `http://127.0.0.1:PORT/woo/demo-shop`
    pub store_url: String,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Shop {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let sandbox = Sandbox::new(SandboxConfig::new(base.parse().unwrap()));
        let router = sandbox.router();
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            store_url: format!("{base}/woo/{STORE}"),
            sandbox,
            base,
            http,
            server,
        }
    }

    /// `{store}/wp-json/wc/v3/{path}`
    pub fn api(&self, path: &str) -> String {
        format!("{}/wp-json/wc/v3/{path}", self.store_url)
    }

    /// A call with HTTP Basic and the demo key.
    pub fn call(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.api(path))
            .basic_auth(KEY, Some(SECRET))
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.call(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        let response = self.call(method, path).json(&body).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// The id of a seeded simple product that manages its stock.
    pub async fn stocked_simple_product(&self) -> serde_json::Value {
        let products = self.get_json("products?type=simple&per_page=20").await;
        products
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["manage_stock"] == true && p["stock_quantity"].as_i64().unwrap() > 5)
            .cloned()
            .expect("a stocked simple product")
    }
}

/// One-legged OAuth 1.0a query parameters for a call, signed as WooCommerce documents it.
pub fn oauth_query(
    method: &str,
    url: &str,
    params: &[(&str, &str)],
    secret: &str,
    signature_method: &str,
    timestamp: u64,
    nonce: &str,
) -> Vec<(String, String)> {
    let mut all: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    all.insert("oauth_consumer_key".into(), KEY.into());
    all.insert("oauth_timestamp".into(), timestamp.to_string());
    all.insert("oauth_nonce".into(), nonce.into());
    all.insert("oauth_signature_method".into(), signature_method.into());
    let encode = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let normalized: Vec<String> = all
        .iter()
        .map(|(k, v)| format!("{}%3D{}", encode(&encode(k)), encode(&encode(v))))
        .collect();
    let base = format!("{method}&{}&{}", encode(url), normalized.join("%26"));
    let key = format!("{secret}&");
    let signature = if signature_method == "HMAC-SHA1" {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(base.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    } else {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(base.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    };
    all.insert("oauth_signature".into(), signature);
    all.into_iter().collect()
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// What a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// An HTTP endpoint on 127.0.0.1:0 that records every POST and answers a settable status.
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Receiver {
    pub async fn start(status: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(status));
        let (log, answer) = (received.clone(), status.clone());
        let router = Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let (log, answer) = (log.clone(), answer.clone());
                async move {
                    log.lock().unwrap().push(Received {
                        path: uri.to_string(),
                        headers,
                        body,
                    });
                    StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap()
                }
            },
        );
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            url,
            received,
            status,
            server,
        }
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}
