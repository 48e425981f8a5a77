//! The bridge between `oauth2` and reqwest 0.13: `oauth2` 5 only ships an adapter for reqwest
//! 0.12, and its errors forget the HTTP status, which [`super::MasError`] needs.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, Ordering};

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Sends one `oauth2` request through the shared reqwest client and remembers the status of
/// the answer. Make a new one for each token call.
pub(super) struct Transport<'a> {
    http: &'a reqwest::Client,
    status: AtomicU16,
}

impl<'a> Transport<'a> {
    pub(super) fn new(http: &'a reqwest::Client) -> Self {
        Self {
            http,
            status: AtomicU16::new(0),
        }
    }

    /// The status of the response, once one arrived.
    pub(super) fn status(&self) -> Option<u16> {
        match self.status.load(Ordering::Relaxed) {
            0 => None,
            status => Some(status),
        }
    }
}

impl<'c> AsyncHttpClient<'c> for Transport<'_> {
    type Error = reqwest::Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let started = std::time::Instant::now();
            let response = self
                .http
                .execute(reqwest::Request::try_from(request)?)
                .await;
            crate::call_metrics::record(
                "mas",
                "mas.token",
                response.as_ref().ok().map(reqwest::Response::status),
                started,
            );
            let response = response?;
            let status = response.status();
            self.status.store(status.as_u16(), Ordering::Relaxed);
            let headers = response.headers().clone();
            let body = response.bytes().await?;

            let mut answer = HttpResponse::new(body.to_vec());
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            Ok(answer)
        })
    }
}
