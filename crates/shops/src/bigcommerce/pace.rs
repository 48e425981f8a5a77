//! Keeping to a store's rate limit. BigCommerce gives each store one quota of requests per
//! window (150 per 30 s on the Standard and Plus plans), shared by every app and API account
//! of the store, and reports what is left on every answer (`X-Rate-Limit-Requests-Left`,
//! `X-Rate-Limit-Time-Reset-Ms`). The connector keeps, per store and per process, what the last
//! answer said, counts down its own calls, and waits for the window's reset before it would
//! spend the last few requests: so it gets no 429 in normal running and leaves room for the
//! seller's other apps.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// Requests of each window left to the store's other clients.
/// ASSUMPTION: a store runs a few other apps; three requests per window are enough for a
/// webhook-driven app's occasional call, and cost the connector 2 % of the Standard quota.
const RESERVE: u32 = 3;

#[derive(Clone, Copy, Debug)]
struct Window {
    left: u32,
    resets_at: Instant,
}

static WINDOWS: LazyLock<Mutex<HashMap<String, Window>>> = LazyLock::new(Default::default);

fn windows() -> std::sync::MutexGuard<'static, HashMap<String, Window>> {
    WINDOWS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits until a call to `store` fits its window, and counts it.
pub(super) async fn admit(store: &str) {
    loop {
        let wait = {
            let mut windows = windows();
            let now = Instant::now();
            match windows.get_mut(store) {
                Some(window) if window.resets_at > now => {
                    if window.left > RESERVE {
                        window.left -= 1;
                        None
                    } else {
                        Some(window.resets_at - now)
                    }
                }
                Some(_) => {
                    windows.remove(store);
                    None
                }
                None => None,
            }
        };
        match wait {
            None => return,
            Some(wait) => {
                tracing::debug!(
                    store,
                    wait_ms = wait.as_millis() as u64,
                    "waiting for BigCommerce's next rate window"
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Takes in what an answer says of the window: a new window replaces the one kept; within
/// the same window the lower count wins (answers to concurrent calls arrive in any order).
pub(super) fn observe(store: &str, headers: &HeaderMap) {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let (Some(left), Some(reset_ms)) = (
        number("x-rate-limit-requests-left"),
        number("x-rate-limit-time-reset-ms"),
    ) else {
        return;
    };
    let seen = Window {
        left: u32::try_from(left).unwrap_or(u32::MAX),
        resets_at: Instant::now() + Duration::from_millis(reset_ms),
    };
    let mut windows = windows();
    match windows.get_mut(store) {
        // The same window, give or take the answer's travel.
        Some(kept) if seen.resets_at <= kept.resets_at + Duration::from_millis(500) => {
            kept.left = kept.left.min(seen.left);
        }
        _ => {
            windows.insert(store.to_owned(), seen);
        }
    }
}

/// A 429: nothing is left until `wait` has passed.
pub(super) fn exhausted(store: &str, wait: Duration) {
    windows().insert(
        store.to_owned(),
        Window {
            left: 0,
            resets_at: Instant::now() + wait,
        },
    );
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(left: u32, reset_ms: u64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-requests-left", HeaderValue::from(left));
        h.insert("x-rate-limit-time-reset-ms", HeaderValue::from(reset_ms));
        h
    }

    #[tokio::test(start_paused = true)]
    async fn calls_wait_for_the_next_window_before_spending_the_reserve() {
        let store = "https://pace.test/stores/a/";
        observe(store, &headers(RESERVE + 2, 10_000));
        let start = Instant::now();
        admit(store).await;
        admit(store).await;
        assert_eq!(start.elapsed(), Duration::ZERO, "two calls fit");
        admit(store).await;
        assert!(
            start.elapsed() >= Duration::from_secs(10),
            "the third waits for the reset"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_answer_does_not_give_back_calls_already_counted() {
        let store = "https://pace.test/stores/b/";
        observe(store, &headers(10, 20_000));
        observe(store, &headers(50, 19_900));
        assert_eq!(windows()[store].left, 10);
        observe(store, &headers(150, 30_000 + 20_000));
        assert_eq!(windows()[store].left, 150, "a new window starts afresh");
    }
}
