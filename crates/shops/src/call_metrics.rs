//! What the connector's calls to shops' APIs are counted by: the platform and the HTTP status,
//! or `error` when no answer came. No store address: the label stays bounded. The binary
//! describes and exports these.

use std::time::Instant;

/// Counter: calls to shops' APIs, by `platform` and `status`.
pub const CALLS: &str = "marketbridge_shop_calls_total";
/// Histogram: how long shops took to answer, by `platform`.
pub const CALL_DURATION: &str = "marketbridge_shop_call_duration_seconds";

/// Records one call to a `platform` shop that started at `started`.
pub(crate) fn record(
    platform: &'static str,
    answer: Result<&reqwest::Response, &reqwest::Error>,
    started: Instant,
) {
    let status = answer.map_or_else(|_| "error".to_owned(), |r| r.status().as_u16().to_string());
    metrics::counter!(CALLS, "platform" => platform, "status" => status).increment(1);
    metrics::histogram!(CALL_DURATION, "platform" => platform)
        .record(started.elapsed().as_secs_f64());
}
