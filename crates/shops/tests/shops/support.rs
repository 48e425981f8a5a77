//! A local fake WooCommerce store: every request is recorded and answered by the test's own
//! function, and [`check_oauth`] re-checks OAuth 1.0a signatures the way the store does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

/// What the fake answers.
pub struct Canned {
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Canned {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::new(status, body.to_string())
            .header("content-type", "application/json; charset=UTF-8")
    }

    /// A wc/v3 list page with its total headers.
    pub fn list(items: serde_json::Value, total: u64, total_pages: u32) -> Self {
        Self::json(200, items)
            .header("x-wp-total", &total.to_string())
            .header("x-wp-totalpages", &total_pages.to_string())
    }

    /// WooCommerce's error body.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            json!({"code": code, "message": message, "data": {"status": status}}),
        )
    }

    pub fn html(status: u16, body: &str) -> Self {
        Self::new(status, body.to_owned()).header("content-type", "text/html; charset=UTF-8")
    }

    pub fn new(status: u16, body: String) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap(),
            headers: Vec::new(),
            body,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, as sent.
    pub raw_query: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Recorded {
    /// The decoded query pairs, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.raw_query.as_bytes())
            .into_owned()
            .collect()
    }

    pub fn query(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

type Answer = dyn Fn(&Recorded) -> Canned + Send + Sync;

#[derive(Clone)]
struct Shared {
    answer: Arc<Answer>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

pub struct FakeStore {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeStore {
    pub async fn start(answer: impl Fn(&Recorded) -> Canned + Send + Sync + 'static) -> Self {
        let shared = Shared {
            answer: Arc::new(answer),
            requests: Arc::default(),
        };
        let requests = shared.requests.clone();
        let app = Router::new().fallback(respond).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://{addr}"),
            requests,
        }
    }

    /// Every request, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn single_request(&self) -> Recorded {
        let mut requests = self.requests();
        assert_eq!(requests.len(), 1, "requests: {requests:?}");
        requests.remove(0)
    }
}

async fn respond(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    shared.requests.lock().unwrap().push(recorded.clone());
    let canned = (shared.answer)(&recorded);
    let mut response = Response::new(Body::from(canned.body));
    *response.status_mut() = canned.status;
    for (name, value) in canned.headers {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

/// Checks a request's one-legged OAuth 1.0a query as WooCommerce does, written apart from the
/// client's code: the four parameters, a fresh timestamp, HMAC-SHA256 over the method, the
/// address (`base` + path) and every query parameter but the signature.
pub fn check_oauth(
    request: &Recorded,
    base: &str,
    consumer_key: &str,
    secret: &str,
) -> Result<(), String> {
    let pairs = request.query_pairs();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .ok_or(format!("{name} is missing"))
    };
    if get("oauth_consumer_key")? != consumer_key {
        return Err("Consumer key is invalid.".to_owned());
    }
    if get("oauth_signature_method")? != "HMAC-SHA256" {
        return Err("Invalid signature method.".to_owned());
    }
    if get("oauth_version").is_ok() {
        return Err("oauth_version is not sent by WooCommerce's clients.".to_owned());
    }
    let nonce = get("oauth_nonce")?;
    if nonce.len() != 32 || !nonce.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("unexpected nonce {nonce}"));
    }
    let timestamp: u64 = get("oauth_timestamp")?
        .parse()
        .map_err(|_| "bad timestamp")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now.abs_diff(timestamp) > 15 * 60 {
        return Err("Invalid timestamp.".to_owned());
    }
    let signature = get("oauth_signature")?;

    let mut signed: Vec<String> = pairs
        .iter()
        .filter(|(key, _)| key != "oauth_signature")
        .map(|(key, value)| format!("{}={}", rfc3986(key), rfc3986(value)))
        .collect();
    signed.sort();
    let address = format!("{base}{}", request.path);
    let string_to_sign = format!(
        "{}&{}&{}",
        request.method,
        rfc3986(&address),
        rfc3986(&signed.join("&"))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    if STANDARD.encode(mac.finalize().into_bytes()) == signature {
        Ok(())
    } else {
        Err("Invalid signature - provided signature does not match.".to_owned())
    }
}

/// Percent-encodes all but `A-Z a-z 0-9 - . _ ~`.
fn rfc3986(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The 401 a store gives a request whose OAuth check failed.
pub fn oauth_refusal(reason: &str) -> Canned {
    Canned::error(401, "woocommerce_rest_authentication_error", reason)
}

/// The shop client's HTTP as `demo` has it: the test stores live on 127.0.0.1 over plain http.
pub fn shop_http() -> shops::ShopHttp {
    shops::ShopHttp::new(shops::AddressPolicy::AllowPrivate)
}

/// An HTTP client like the application's: no redirects, short timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

/// An address where nothing listens: bound once, then released.
pub async fn closed_port_addr() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}
