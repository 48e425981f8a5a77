//! A server that answers what a test says and records what it was asked, for the clients' own
//! tests, where an answer the emulators never give (a 500, a redirect, a web page where JSON
//! was due, a malformed body) must be put in front of a client.
//!
//! [`CannedServer::start`] answers every request with the test's own function;
//! [`CannedServer::routes`] answers by path and 404 elsewhere. Either way every request is kept
//! as a [`Recorded`], oldest first, for the test to check what the client sent. Nothing here
//! is part of the emulators: it knows no contract and checks nothing.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;

/// The largest request body the server reads.
const BODY_LIMIT: usize = 1 << 20;

/// What the server answers: a status, headers and a body.
#[derive(Clone, Debug)]
pub struct Canned {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Canned {
    /// `status` with `body` and no headers. Panics on a status outside 100–999.
    pub fn new(status: u16, body: String) -> Self {
        Self {
            status: StatusCode::from_u16(status).expect("an HTTP status"),
            headers: HeaderMap::new(),
            body,
        }
    }

    /// `body` as `application/json`.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::new(status, body.to_string()).header("content-type", "application/json")
    }

    /// `body` as a web page, `text/html; charset=utf-8`.
    pub fn html(status: u16, body: &str) -> Self {
        Self::new(status, body.to_owned()).header("content-type", "text/html; charset=utf-8")
    }

    /// Sets the header `name`, replacing one set before. Panics on a name or value HTTP refuses.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            HeaderValue::from_str(value).expect("a header value"),
        );
        self
    }

    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    /// The query string as sent, without the `?`; empty when there was none.
    pub raw_query: String,
    pub headers: HeaderMap,
    /// The body, read as UTF-8 (lossily).
    pub body: String,
}

impl Recorded {
    /// The decoded query pairs, in the order sent.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.raw_query.as_bytes())
            .into_owned()
            .collect()
    }

    /// The first query parameter `name`, decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// The header `name`. Panics on a value that is not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("a visible ASCII header"))
    }

    /// The body as JSON. Panics when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// The `application/x-www-form-urlencoded` body as a map.
    pub fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
}

type Answer = dyn Fn(&Recorded) -> Canned + Send + Sync;
type Requests = Arc<Mutex<Vec<Recorded>>>;

#[derive(Clone)]
struct Shared {
    answer: Arc<Answer>,
    requests: Requests,
}

/// A server on `127.0.0.1` that answers as the test says and records every request. It runs
/// on the test's runtime and stops with it.
pub struct CannedServer {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    requests: Requests,
}

impl CannedServer {
    /// Answers every request with `answer`, called once the request is recorded.
    pub async fn start(answer: impl Fn(&Recorded) -> Canned + Send + Sync + 'static) -> Self {
        let shared = Shared {
            answer: Arc::new(answer),
            requests: Requests::default(),
        };
        let requests = shared.requests.clone();
        let app = Router::new().fallback(respond).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let addr = listener.local_addr().expect("a bound address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base: format!("http://{addr}"),
            requests,
        }
    }

    /// Answers each path of `routes` (path → answer); any other path gets an empty 404.
    pub async fn routes(routes: impl IntoIterator<Item = (&'static str, Canned)>) -> Self {
        let routes: HashMap<&'static str, Canned> = routes.into_iter().collect();
        Self::start(move |request| {
            routes
                .get(request.path.as_str())
                .cloned()
                .unwrap_or_else(|| Canned::new(404, String::new()))
        })
        .await
    }

    /// Every request the server received, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().clone()
    }

    /// Every request that reached `path`, oldest first.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.lock()
            .iter()
            .filter(|request| request.path == path)
            .cloned()
            .collect()
    }

    /// The only request the server received. Panics unless there was exactly one.
    pub fn single_request(&self) -> Recorded {
        only(self.requests(), "requests")
    }

    /// The only request that reached `path`. Panics unless there was exactly one.
    pub fn single_request_to(&self, path: &str) -> Recorded {
        only(self.requests_to(path), &format!("requests to {path}"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Recorded>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn only(mut requests: Vec<Recorded>, what: &str) -> Recorded {
    assert_eq!(requests.len(), 1, "{what}: {requests:?}");
    requests.remove(0)
}

async fn respond(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, BODY_LIMIT).await else {
        return Canned::new(413, String::new()).into_response();
    };
    let recorded = Recorded {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(recorded.clone());
    (shared.answer)(&recorded).into_response()
}

/// An address where nothing listens: bound once, then released.
pub async fn closed_port_addr() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a local port");
    listener.local_addr().expect("a bound address")
}
