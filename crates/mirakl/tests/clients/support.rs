//! What the Mirakl clients' tests add to [`sandbox::canned`]'s recording server: reading an
//! import upload as Mirakl does, and HTTP-dates for `Retry-After`.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};

pub use sandbox::canned::{Canned, CannedServer, Recorded, closed_port_addr};

/// A request's `multipart/form-data` body, as the marketplace reads an import (OF01, P41).
pub trait Upload {
    /// An import upload: asserts its `file` part is `csv` sent as `file_name`, `text/csv`; the
    /// other fields, by name.
    async fn csv_upload(&self, file_name: &str, csv: &[u8]) -> HashMap<String, String>;

    /// The `multipart/form-data` body, read the way a server reads it.
    async fn multipart(&self) -> Vec<FormPart>;
}

impl Upload for Recorded {
    async fn csv_upload(&self, file_name: &str, csv: &[u8]) -> HashMap<String, String> {
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

    async fn multipart(&self) -> Vec<FormPart> {
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

/// An HTTP-date (IMF-fixdate) `seconds` from now, as a `Retry-After` header may carry.
pub fn http_date_in(seconds: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
        .format(format)
        .unwrap()
}
