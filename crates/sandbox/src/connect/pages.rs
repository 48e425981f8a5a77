//! Seek pagination as Connect's lists answer it (`GET /products`, `GET /v2/orders`): a page
//! starts after or before the sort key of an item, named by an opaque `page_token`, and the
//! answer carries `next_page_token` and `previous_page_token` while there is more that way.

use std::ops::Range;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::connect::ConnectError;

/// Where a page starts: after or before an item's sort key. Tokens are opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PageToken {
    After(String),
    Before(String),
}

impl PageToken {
    fn encode(&self) -> String {
        let raw = match self {
            PageToken::After(key) => format!("after:{key}"),
            PageToken::Before(key) => format!("before:{key}"),
        };
        URL_SAFE_NO_PAD.encode(raw)
    }

    fn decode(token: &str) -> Option<Self> {
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token.trim()).ok()?).ok()?;
        if let Some(key) = raw.strip_prefix("after:") {
            return Some(PageToken::After(key.to_owned()));
        }
        raw.strip_prefix("before:")
            .map(|key| PageToken::Before(key.to_owned()))
    }
}

/// One page of a list whose items have the sort `keys`, ascending and unique.
pub struct Page {
    pub items: Range<usize>,
    next: Option<String>,
    previous: Option<String>,
}

impl Page {
    /// A list's `limit`: `default` when absent, else a whole number from 1 to `max`.
    pub fn limit(raw: Option<&str>, default: usize, max: usize) -> Result<usize, ConnectError> {
        match raw {
            None => Ok(default),
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|limit| (1..=max).contains(limit))
                .ok_or_else(|| {
                    ConnectError::invalid_field(
                        "limit",
                        &format!("must be a whole number from 1 to {max}"),
                    )
                }),
        }
    }

    /// The page `page_token` (absent or empty: the first) names, of at most `limit` items.
    pub fn of(
        keys: &[String],
        page_token: Option<&str>,
        limit: usize,
    ) -> Result<Self, ConnectError> {
        let token = match page_token.filter(|token| !token.is_empty()) {
            None => None,
            Some(raw) => Some(PageToken::decode(raw).ok_or_else(|| {
                ConnectError::invalid_field("page_token", "is not a page token this API issued")
            })?),
        };
        let (start, end) = match &token {
            None => (0, limit.min(keys.len())),
            Some(PageToken::After(key)) => {
                let start = keys.partition_point(|known| known.as_str() <= key.as_str());
                (start, (start + limit).min(keys.len()))
            }
            Some(PageToken::Before(key)) => {
                let end = keys.partition_point(|known| known.as_str() < key.as_str());
                (end.saturating_sub(limit), end)
            }
        };
        let some = end > start;
        Ok(Self {
            items: start..end,
            next: (some && end < keys.len())
                .then(|| PageToken::After(keys[end - 1].clone()).encode()),
            previous: (some && start > 0).then(|| PageToken::Before(keys[start].clone()).encode()),
        })
    }

    /// The answer `{data, next_page_token?, previous_page_token?}`.
    pub fn body(&self, data: Vec<Value>) -> Value {
        let mut body = json!({ "data": data });
        if let Some(token) = &self.next {
            body["next_page_token"] = json!(token);
        }
        if let Some(token) = &self.previous {
            body["previous_page_token"] = json!(token);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip() {
        let token = PageToken::After("a/b c".into());
        assert_eq!(PageToken::decode(&token.encode()), Some(token));
        assert_eq!(PageToken::decode("not a token"), None);
    }

    #[test]
    fn pages_go_forward_and_back() {
        let keys: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let first = Page::of(&keys, None, 2).unwrap();
        assert_eq!(first.items, 0..2);
        assert!(first.previous.is_none());
        let second = Page::of(&keys, first.next.as_deref(), 2).unwrap();
        assert_eq!(second.items, 2..4);
        let back = Page::of(&keys, second.previous.as_deref(), 2).unwrap();
        assert_eq!(back.items, 0..2);
        let last = Page::of(&keys, second.next.as_deref(), 2).unwrap();
        assert_eq!((last.items, last.next), (4..5, None));
    }
}
