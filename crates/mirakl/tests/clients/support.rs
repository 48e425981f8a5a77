//! A local HTTP server that answers canned responses by path and records every request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// What the server answers on one path.
#[derive(Clone)]
pub struct Canned {
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Canned {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::new(status, body.to_string()).header("content-type", "application/json")
    }

    pub fn html(status: u16, body: &str) -> Self {
        Self::new(status, body.to_owned()).header("content-type", "text/html; charset=utf-8")
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

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

impl Recorded {
    /// The `application/x-www-form-urlencoded` body as a map.
    pub fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    pub fn query_pairs(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or_default().as_bytes())
            .into_owned()
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The JSON body.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// An import upload (OF01, P41): asserts its `file` part is `csv` sent as `file_name`,
    /// `text/csv`; the other fields, by name.
    pub async fn csv_upload(&self, file_name: &str, csv: &[u8]) -> HashMap<String, String> {
        let mut fields = HashMap::new();
        let mut files = 0;
        for part in self.multipart().await {
            if part.name == "file" {
                files += 1;
                assert_eq!(part.file_name.as_deref(), Some(file_name));
                assert_eq!(part.content_type.as_deref(), Some("text/csv"));
                assert_eq!(part.text.as_bytes(), csv);
            } else {
                fields.insert(part.name, part.text);
            }
        }
        assert_eq!(files, 1, "one file part");
        fields
    }

    /// The `multipart/form-data` body, read the way a server reads it.
    pub async fn multipart(&self) -> Vec<FormPart> {
        let mut request = Request::new(Body::from(self.body.clone()));
        *request.headers_mut() = self.headers.clone();
        let mut multipart = Multipart::from_request(request, &()).await.unwrap();
        let mut parts = Vec::new();
        while let Some(field) = multipart.next_field().await.unwrap() {
            parts.push(FormPart {
                name: field.name().unwrap().to_owned(),
                file_name: field.file_name().map(str::to_owned),
                content_type: field.content_type().map(str::to_owned),
                text: field.text().await.unwrap(),
            });
        }
        parts
    }
}

/// One field of a `multipart/form-data` body.
#[derive(Clone, Debug)]
pub struct FormPart {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub text: String,
}

#[derive(Clone, Default)]
struct Shared {
    routes: HashMap<String, Canned>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

pub struct FakeServer {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeServer {
    /// Serves `routes` (path → answer); any other path gets 404.
    pub async fn start(routes: impl IntoIterator<Item = (&'static str, Canned)>) -> Self {
        let shared = Shared {
            routes: routes
                .into_iter()
                .map(|(path, canned)| (path.to_owned(), canned))
                .collect(),
            requests: Arc::default(),
        };
        let requests = shared.requests.clone();
        let app = Router::new().fallback(answer).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://{addr}"),
            requests,
        }
    }

    /// Every request the server received, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Every request that reached `path`, oldest first.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// The only request that reached `path`.
    pub fn single_request_to(&self, path: &str) -> Recorded {
        let mut requests = self.requests_to(path);
        assert_eq!(requests.len(), 1, "requests to {path}: {requests:?}");
        requests.remove(0)
    }
}

async fn answer(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap();
    let path = parts.uri.path().to_owned();
    shared.requests.lock().unwrap().push(Recorded {
        method: parts.method,
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let Some(canned) = shared.routes.get(&path).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
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

/// An address where nothing listens: bound once, then released.
pub async fn closed_port_addr() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// An HTTP-date (IMF-fixdate) `seconds` from now, as a `Retry-After` header may carry.
pub fn http_date_in(seconds: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
        .format(format)
        .unwrap()
}
