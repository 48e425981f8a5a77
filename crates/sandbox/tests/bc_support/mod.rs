//! Drives the emulated BigCommerce store `demo-bc` over a real socket, as an app would, and
//! listens as a hook destination or an app's callback would.
#![allow(dead_code)] // each test file uses its own part of the kit

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use sandbox::{Sandbox, SandboxConfig};

pub const HASH: &str = "demo-bc";
pub const TOKEN: &str = "sandbox-bc-token";
pub const CLIENT_ID: &str = "sandbox-bc-client";
pub const CLIENT_SECRET: &str = "sandbox-bc-secret";

/// A seeded sandbox served on 127.0.0.1:0.
pub struct Store {
    pub sandbox: Sandbox,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Store {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Store {
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
            sandbox,
            base,
            http,
            server,
        }
    }

    /// `{base}/bc/stores/demo-bc/{path}`, `path` starting with `v2/` or `v3/`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/bc/stores/{HASH}/{path}", self.base)
    }

    /// A call with the demo store's token.
    pub fn call(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.api(path))
            .header("x-auth-token", TOKEN)
            .header("accept", "application/json")
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
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// The first seeded product that tracks its own stock with more than 5 in stock.
    pub async fn stocked_product(&self) -> serde_json::Value {
        let page = self.get_json("v3/catalog/products?limit=50").await;
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["inventory_tracking"] == "product" && p["inventory_level"].as_i64().unwrap() > 5
            })
            .cloned()
            .expect("a stocked product")
    }
}

/// What a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// An HTTP endpoint on 127.0.0.1:0 that records every request and answers a settable status.
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    /// Statuses answered first, one a request, before `status`.
    queued: Arc<Mutex<VecDeque<u16>>>,
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
        let queued: Arc<Mutex<VecDeque<u16>>> = Arc::default();
        let (log, answer, first) = (received.clone(), status.clone(), queued.clone());
        let router = Router::new().fallback(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: HeaderMap,
                  body: Bytes| {
                let (log, answer, first) = (log.clone(), answer.clone(), first.clone());
                async move {
                    let queued = first.lock().unwrap().pop_front();
                    log.lock().unwrap().push(Received {
                        method: method.to_string(),
                        path: uri.to_string(),
                        headers,
                        body,
                    });
                    let status = queued.unwrap_or_else(|| answer.load(Ordering::SeqCst));
                    StatusCode::from_u16(status).unwrap()
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
            queued,
            server,
        }
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Answers these statuses to the next requests, then `status` again.
    pub fn first_answer(&self, statuses: &[u16]) {
        self.queued.lock().unwrap().extend(statuses);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}
