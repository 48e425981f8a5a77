//! Incoming shop webhooks. A delivery is checked (signature in constant time, size, JSON),
//! stored once with its processing job in one transaction, and answered at once; the work
//! happens in the job. WooCommerce counts anything but 2xx–302 as a failure and disables a
//! webhook after more than five in a row, so only a delivery we will never accept is refused.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header::CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use shops::webhook::{WebhookHeaders, is_ping, verify_signature};
use storage::{IncomingWebhook, ShopId, WebhookRecord, now_ms};

use crate::AppState;

/// The flow name of the job that processes a stored delivery.
pub use sync::shops::SHOP_WEBHOOK_FLOW;

/// Larger than a form: a product with many variations and images is a big document.
pub const MAX_WEBHOOK_BYTES: usize = 2 * 1024 * 1024;

fn refuse(status: StatusCode, why: &'static str) -> Response {
    tracing::warn!(%status, why, "webhook delivery refused");
    (status, why).into_response()
}

pub async fn woocommerce(
    State(state): State<AppState>,
    Path(shop_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(shop_id) = shop_id.parse::<ShopId>() else {
        return refuse(StatusCode::NOT_FOUND, "unknown shop");
    };
    // The webhook URL names the shop; nothing else identifies the workspace here.
    let shop = match state.storage().find_shop(shop_id).await {
        Ok(Some(shop)) => shop,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, "unknown shop"),
        Err(e) => return crate::WebError::from(e).into_response(),
    };
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    // WooCommerce pings a new webhook, unsigned, and wants a 200 before it keeps it.
    if is_ping(content_type, &body) {
        return (StatusCode::OK, "pong").into_response();
    }
    let parsed = match WebhookHeaders::parse(&headers) {
        Ok(h) => h,
        Err(_) => return refuse(StatusCode::UNAUTHORIZED, "missing X-WC-Webhook headers"),
    };
    let secrets = match state
        .storage()
        .shop_secrets(shop.workspace_id, shop.id)
        .await
    {
        Ok(s) => s,
        Err(e) => return crate::WebError::from(e).into_response(),
    };
    if !verify_signature(
        secrets.webhook_secret.expose().as_bytes(),
        &body,
        &parsed.signature,
    ) {
        return refuse(StatusCode::UNAUTHORIZED, "bad signature");
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "the body is not JSON");
    };
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return refuse(StatusCode::BAD_REQUEST, "the body is not UTF-8");
    };
    let incoming = IncomingWebhook {
        topic: parsed.topic.clone(),
        resource_id: json.get("id").and_then(serde_json::Value::as_i64),
        delivery_id: parsed.delivery_id.clone(),
        body_sha256: Sha256::digest(&body).to_vec(),
        body: text,
    };
    match state
        .storage()
        .record_incoming_webhook(
            shop.workspace_id,
            shop.id,
            &incoming,
            SHOP_WEBHOOK_FLOW,
            now_ms(),
        )
        .await
    {
        Ok(WebhookRecord::Recorded(id)) => {
            tracing::info!(shop = %shop.id, topic = %parsed.topic, inbox = %id, "webhook recorded");
            (StatusCode::OK, "recorded").into_response()
        }
        Ok(WebhookRecord::Duplicate) => {
            tracing::info!(shop = %shop.id, topic = %parsed.topic, "duplicate webhook ignored");
            (StatusCode::OK, "duplicate").into_response()
        }
        Err(e) => crate::WebError::from(e).into_response(),
    }
}
