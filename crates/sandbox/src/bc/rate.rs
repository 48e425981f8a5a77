//! BigCommerce's rate limit: one quota of requests per store per window (150 per 30 s on the
//! Standard and Plus plans), shared by every token of the store, reported on every answer with
//! the `X-Rate-Limit-*` headers and enforced with 429.
//!
//! The window follows the sandbox's budget scale (`Sandbox::set_budget_scale`), as Mirakl's
//! call budgets do: 1.0 is 30 s, 0.001 turns it into 30 ms, 0.0 (the default) never refuses a
//! call, and the headers show a full quota and a fresh window on every answer (a store with
//! room to spare), so a client that paces itself from them never waits against a sandbox with
//! budgets off.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};

/// The Standard and Plus plans' quota.
pub const DEFAULT_QUOTA: u32 = 150;
/// The documented window.
pub const WINDOW: Duration = Duration::from_secs(30);

/// A fixed window: the calls counted since it opened.
#[derive(Debug, Clone)]
pub struct RateWindow {
    pub quota: u32,
    opened: Option<Instant>,
    used: u32,
}

impl Default for RateWindow {
    fn default() -> Self {
        Self {
            quota: DEFAULT_QUOTA,
            opened: None,
            used: 0,
        }
    }
}

/// What the headers of one answer say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    pub quota: u32,
    pub left: u32,
    pub window: Duration,
    pub reset: Duration,
    /// Whether the call was turned away.
    pub refused: bool,
}

impl RateWindow {
    /// Counts a call at `now` under a window scaled by `scale` (0: counted, never refused).
    pub fn admit(&mut self, scale: f64, now: Instant) -> RateState {
        let enforced = scale > 0.0;
        let window = if enforced {
            Duration::try_from_secs_f64(WINDOW.as_secs_f64() * scale).unwrap_or(Duration::MAX)
        } else {
            WINDOW
        };
        let opened = match self.opened {
            Some(opened) if now.duration_since(opened) < window => opened,
            _ => {
                self.used = 0;
                self.opened = Some(now);
                now
            }
        };
        // Unenforced, every answer shows a whole window ahead with the whole quota left: a
        // fresh window each time. A client that counts its own calls down within one window
        // (as the connector does) would otherwise hold itself to the quota per 30 s.
        let reset = if enforced {
            window.saturating_sub(now.duration_since(opened))
        } else {
            window
        };
        let refused = enforced && self.used >= self.quota;
        if !refused {
            self.used = self.used.saturating_add(1);
        }
        RateState {
            quota: self.quota,
            left: if enforced {
                self.quota.saturating_sub(self.used)
            } else {
                self.quota
            },
            window,
            reset,
            refused,
        }
    }
}

impl RateState {
    pub fn write(&self, headers: &mut HeaderMap) {
        let millis =
            |d: Duration| HeaderValue::from(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        headers.insert("x-rate-limit-requests-left", HeaderValue::from(self.left));
        headers.insert("x-rate-limit-requests-quota", HeaderValue::from(self.quota));
        headers.insert("x-rate-limit-time-window-ms", millis(self.window));
        headers.insert("x-rate-limit-time-reset-ms", millis(self.reset));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_is_refused_once_spent_and_given_again_with_the_next_window() {
        let mut rate = RateWindow {
            quota: 2,
            ..RateWindow::default()
        };
        let start = Instant::now();
        assert!(!rate.admit(1.0, start).refused);
        let second = rate.admit(1.0, start);
        assert_eq!((second.refused, second.left), (false, 0));
        assert!(rate.admit(1.0, start + Duration::from_secs(1)).refused);
        assert!(!rate.admit(1.0, start + WINDOW).refused);
    }

    #[test]
    fn scale_zero_counts_but_never_refuses() {
        let mut rate = RateWindow {
            quota: 1,
            ..RateWindow::default()
        };
        let now = Instant::now();
        for _ in 0..5 {
            let state = rate.admit(0.0, now);
            assert!(!state.refused);
            assert_eq!(state.left, 1, "the quota is never spent");
            assert_eq!(state.reset, WINDOW, "each answer shows a fresh window");
        }
        let later = rate.admit(0.0, now + Duration::from_secs(10));
        assert_eq!(later.reset, WINDOW, "the window never runs down");
    }
}
