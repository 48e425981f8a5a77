//! Incoming shop webhooks: the size limit is the router's, everything else is the flow's
//! (`sync::shop_events`: signature, parsing, storing once with its job). The answer comes at
//! once; the work happens in the job. WooCommerce counts anything but 2xx–302 as a failure and
//! disables a webhook after more than five in a row, and BigCommerce deactivates a hook that
//! fails for 48 hours, so only a delivery we will never accept is refused.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::ShopId;
use sync::shop_events::Receipt;

use crate::AppState;

/// Larger than a form: a product with many variations and images is a big document.
pub const MAX_WEBHOOK_BYTES: usize = 2 * 1024 * 1024;

fn refuse(status: StatusCode, why: String) -> Response {
    tracing::warn!(%status, %why, "webhook delivery refused");
    (status, why).into_response()
}

/// One delivery to a shop's URL, read by the rules of the shop's platform (WooCommerce signs
/// its bodies; BigCommerce hooks carry the shop's secret header).
pub async fn receive(
    State(state): State<AppState>,
    Path(shop_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(shop_id) = shop_id.parse::<ShopId>() else {
        return refuse(StatusCode::NOT_FOUND, "unknown shop".to_owned());
    };
    match state.flows().events.receive(shop_id, &headers, &body).await {
        Ok(Receipt::UnknownShop) => refuse(StatusCode::NOT_FOUND, "unknown shop".to_owned()),
        Ok(Receipt::Pong) => (StatusCode::OK, "pong").into_response(),
        Ok(Receipt::Refused(
            why @ (shops::DeliveryError::NotJson | shops::DeliveryError::Malformed(_)),
        )) => refuse(StatusCode::BAD_REQUEST, why.to_string()),
        Ok(Receipt::Refused(why)) => refuse(StatusCode::UNAUTHORIZED, why.to_string()),
        Ok(Receipt::Recorded(_)) => (StatusCode::OK, "recorded").into_response(),
        Ok(Receipt::Duplicate) => (StatusCode::OK, "duplicate").into_response(),
        Err(e) => crate::WebError::Internal(e).into_response(),
    }
}
