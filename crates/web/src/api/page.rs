//! What every list shares: query strings checked at the edge, `limit` (1 to 200), and an
//! opaque cursor. A cursor is the base64url of the last item's key, tagged by the list it
//! belongs to; a client only passes back the `next_cursor` it was given.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use url::form_urlencoded;

use super::problem::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;
/// No cursor of ours is longer (a SKU is at most a few hundred bytes).
const MAX_CURSOR_CHARS: usize = 2048;

/// A query string, each field checked by [`domain::check_field`] (no control characters, no
/// overlong values) before it is deserialized; any failure is a 400 problem.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or_default();
        form_urlencoded::parse(raw.as_bytes())
            .try_for_each(|(name, value)| domain::check_field(&name, &value))
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        serde_urlencoded::from_str(raw)
            .map(ApiQuery)
            .map_err(|e| ApiError::BadRequest(format!("The query string could not be read: {e}.")))
    }
}

/// The page size asked for: 50 when not given, refused outside 1–200.
pub fn limit(sent: Option<u32>) -> Result<i64, ApiError> {
    match sent.map(i64::from) {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::BadRequest(format!(
            "limit is a number from 1 to {MAX_LIMIT}."
        ))),
    }
}

/// The cursor for the item with this key, in the list tagged `tag`.
pub fn cursor(tag: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{tag}:{key}"))
}

/// The key a cursor of the list `tag` holds; a cursor that is not one is a 400.
pub fn cursor_key(tag: &str, sent: &str) -> Result<String, ApiError> {
    let refused = || {
        ApiError::BadRequest(
            "The cursor is not valid here: pass back the next_cursor of the previous page, with the same filters.".to_owned(),
        )
    };
    if sent.len() > MAX_CURSOR_CHARS {
        return Err(refused());
    }
    let bytes = URL_SAFE_NO_PAD.decode(sent).map_err(|_| refused())?;
    let text = String::from_utf8(bytes).map_err(|_| refused())?;
    let key = text
        .strip_prefix(tag)
        .and_then(|rest| rest.strip_prefix(':'))
        .ok_or_else(refused)?;
    domain::check_field("cursor", key).map_err(|_| refused())?;
    Ok(key.to_owned())
}

/// A `(time in ms, uuid)` key, as orders and sync runs are ordered.
pub fn time_and_id(tag: &str, sent: &str) -> Result<(i64, uuid::Uuid), ApiError> {
    let key = cursor_key(tag, sent)?;
    key.split_once('_')
        .and_then(|(ms, id)| Some((ms.parse().ok()?, id.parse().ok()?)))
        .ok_or_else(|| {
            ApiError::BadRequest(
                "The cursor is not valid here: pass back the next_cursor of the previous page, with the same filters.".to_owned(),
            )
        })
}

/// A Unix time in milliseconds as RFC 3339 (`2026-12-07T05:00:00Z`).
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_comes_back_only_to_its_own_list() {
        let c = cursor("p", "SKU-1");
        assert_eq!(cursor_key("p", &c).unwrap(), "SKU-1");
        assert!(cursor_key("o", &c).is_err());
        assert!(cursor_key("p", "not base64!").is_err());
        assert!(cursor_key("p", &URL_SAFE_NO_PAD.encode("p:a\0b")).is_err());
        assert!(cursor_key("p", &"A".repeat(5000)).is_err());
        let t = cursor("o", &format!("12_{}", uuid::Uuid::nil()));
        assert_eq!(time_and_id("o", &t).unwrap(), (12, uuid::Uuid::nil()));
        assert!(time_and_id("o", &cursor("o", "12")).is_err());
    }

    #[test]
    fn a_limit_is_from_1_to_200() {
        assert_eq!(limit(None).unwrap(), 50);
        assert_eq!(limit(Some(200)).unwrap(), 200);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(201)).is_err());
    }

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
