//! What the connector's calls to Mirakl are counted by: the API, the operation (Mirakl's own
//! code, such as OR11 or OF01, never a path with an id in it, so the label stays bounded) and
//! the HTTP status or `error` when no answer came. The binary describes and exports these.

use std::time::Instant;

use reqwest::Method;

/// Counter: calls to Mirakl, by `api`, `operation` and `status`.
pub const CALLS: &str = "marketbridge_mirakl_calls_total";
/// Histogram: how long Mirakl took to answer, by `api` and `operation`.
pub const CALL_DURATION: &str = "marketbridge_mirakl_call_duration_seconds";

/// Records one call that started at `started`: its status, or `error` with no answer.
pub(crate) fn record(
    api: &'static str,
    operation: &'static str,
    status: Option<reqwest::StatusCode>,
    started: Instant,
) {
    let status = status.map_or_else(|| "error".to_owned(), |s| s.as_u16().to_string());
    metrics::counter!(CALLS, "api" => api, "operation" => operation, "status" => status)
        .increment(1);
    metrics::histogram!(CALL_DURATION, "api" => api, "operation" => operation)
        .record(started.elapsed().as_secs_f64());
}

/// The marketplace seller API's code for `method /api/{segments}`; `other` for a call this
/// table does not know yet.
pub(crate) fn marketplace_operation(method: &Method, segments: &[&str]) -> &'static str {
    match (method.as_str(), segments) {
        ("GET", ["account"]) => "A01",
        ("POST", ["offers", "imports"]) => "OF01",
        ("GET", ["offers", "imports", _]) => "OF02",
        ("GET", ["offers", "imports", _, "error_report"]) => "OF03",
        ("GET", ["offers", "imports"]) => "OF04",
        ("GET", ["offers"]) => "OF21",
        ("POST", ["offers"]) => "OF24",
        ("GET", ["offers", "states"]) => "OF61",
        ("GET", ["orders"]) => "OR11",
        ("PUT", ["orders", "refund"]) => "OR28",
        ("PUT", ["orders", _, "accept"]) => "OR21",
        ("PUT", ["orders", _, "tracking"]) => "OR23",
        ("PUT", ["orders", _, "ship"]) => "OR24",
        ("PUT", ["orders", _, "cancel"]) => "OR29",
        ("POST", ["shipments"]) => "ST01",
        ("GET", ["shipping", "carriers"]) => "SH21",
        ("GET", ["hierarchies"]) => "H11",
        ("GET", ["products", "attributes"]) => "PM11",
        ("GET", ["values_lists"]) => "VL11",
        ("POST", ["products", "imports"]) => "P41",
        ("GET", ["products", "imports", _]) => "P42",
        ("GET", ["products", "imports", _, "error_report"]) => "P44",
        _ => "other",
    }
}

/// The Connect seller API's call `method /{segments}`, named as the call budgets name it
/// (`connect.products.post`); `other` for a call this table does not know yet.
pub(crate) fn connect_operation(method: &Method, segments: &[&str]) -> &'static str {
    match (method.as_str(), segments) {
        ("POST", ["products"]) => "connect.products.post",
        ("GET", ["products"]) => "connect.products.get",
        ("DELETE", ["products"]) => "connect.products.delete",
        ("GET", ["v2", "orders"]) => "connect.orders.get",
        ("GET", ["v2", "orders", "actions", _]) => "connect.orders.action.get",
        ("PUT", ["v2", "orders", _, "accept"]) => "connect.orders.accept",
        ("POST", ["v2", "orders", _, "shipments"]) => "connect.orders.shipments",
        ("POST", ["v2", "orders", _, "cancel"]) => "connect.orders.cancel",
        ("POST", ["v2", "orders", _, "refund"]) => "connect.orders.refund",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_mirakls_codes_whatever_the_ids() {
        assert_eq!(
            marketplace_operation(&Method::PUT, &["orders", "ORDER-42-A", "accept"]),
            "OR21"
        );
        assert_eq!(
            marketplace_operation(&Method::GET, &["offers", "imports", "7"]),
            "OF02"
        );
        assert_eq!(marketplace_operation(&Method::GET, &["orders"]), "OR11");
        assert_eq!(marketplace_operation(&Method::GET, &["nothing"]), "other");
        assert_eq!(
            connect_operation(&Method::POST, &["v2", "orders", "o-1", "refund"]),
            "connect.orders.refund"
        );
    }
}
