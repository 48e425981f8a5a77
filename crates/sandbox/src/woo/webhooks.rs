//! `webhooks` of `wp-json/wc/v3`: list, read, create (then ping the delivery URL), update,
//! delete (permanent only: core does not trash webhooks) and batch.
//!
//! Core answers 201 whatever the ping gets back: its REST controller ignores the ping's
//! result (only the admin screen shows it), and so does the sandbox.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::Sandbox;
use crate::entropy::random_token;
use crate::woo::delivery::ping;
use crate::woo::model::{Webhook, WebhookStatus, WooStore, is_valid_topic, now};
use crate::woo::parse_id;
use crate::woo::products::force;
use crate::woo::rest::{
    Batch, Fields, Paging, QueryParams, RestError, RestResult, batch_entry, created_response,
    json_response, parse_body,
};
use crate::woo::views::webhook_json;

pub async fn list(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    RawQuery(raw): RawQuery,
) -> RestResult {
    let query = QueryParams::parse(raw.as_deref());
    let paging = Paging::from_query(&query)?;
    let status = match query.value("status") {
        None | Some("all") => None,
        Some(raw) => Some(WebhookStatus::parse(raw).ok_or_else(|| {
            RestError::invalid_param(
                "status",
                "status is not one of all, active, paused, and disabled.",
            )
        })?),
    };
    let include = query.ids("include")?;
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let mut items: Vec<&Webhook> = store
        .webhooks
        .values()
        .filter(|webhook| status.is_none_or(|status| webhook.status == status))
        .filter(|webhook| include.is_empty() || include.contains(&webhook.id))
        .collect();
    if query.value("order").unwrap_or("desc") == "desc" {
        items.reverse();
    }
    Ok(paging.respond(
        items,
        &format!("{url}/wp-json/wc/v3/webhooks"),
        &query,
        |webhook| webhook_json(webhook, &url),
    ))
}

fn invalid_id(status: StatusCode) -> RestError {
    let message = if status == StatusCode::NOT_FOUND {
        "Invalid ID."
    } else {
        "ID is invalid."
    };
    RestError::new(status, "woocommerce_rest_webhook_invalid_id", message)
}

pub async fn get_one(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
) -> RestResult {
    let id = parse_id(&id)?;
    let world = sandbox.world();
    let (store, url) = crate::woo::store(&world, &code)?;
    let webhook = store
        .webhooks
        .get(&id)
        .ok_or_else(|| invalid_id(StatusCode::BAD_REQUEST))?;
    Ok(json_response(StatusCode::OK, webhook_json(webhook, &url)))
}

pub async fn create(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let body = parse_body(&headers, &body)?;
    let fields = Fields::of(&body)?;
    let (response, webhook_id, delivery_url) = sandbox.woo_write(&code, |store, url| {
        let id = create_webhook(store, &fields)?;
        let webhook = &store.webhooks[&id];
        let response = created_response(url, "webhooks", id, webhook_json(webhook, url));
        Ok((response, id, webhook.delivery_url.clone()))
    })?;
    ping(&delivery_url, webhook_id).await;
    Ok(response)
}

pub async fn update(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let id = parse_id(&id)?;
    let body = parse_body(&headers, &body)?;
    let fields = Fields::of(&body)?;
    sandbox.woo_write(&code, |store, url| {
        update_webhook(store, id, &fields)?;
        Ok(json_response(
            StatusCode::OK,
            webhook_json(&store.webhooks[&id], url),
        ))
    })
}

pub async fn delete(
    State(sandbox): State<Sandbox>,
    Path((code, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let id = parse_id(&id)?;
    let force = force(
        &QueryParams::parse(raw.as_deref()),
        &parse_body(&headers, &body)?,
    )?;
    sandbox.woo_write(&code, |store, url| {
        delete_webhook(store, id, force, url).map(|body| json_response(StatusCode::OK, body))
    })
}

pub async fn batch(
    State(sandbox): State<Sandbox>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> RestResult {
    let body = parse_body(&headers, &body)?;
    let batch = Batch::parse(&body)?;
    let (answer, pings) = sandbox.woo_write(&code, |store, url| {
        let mut answer = json!({});
        let mut pings = Vec::new();
        if !batch.create.is_empty() {
            answer["create"] = batch
                .create
                .iter()
                .map(|entry| {
                    let result = Fields::of(entry)
                        .and_then(|fields| create_webhook(store, &fields))
                        .map(|id| {
                            let webhook = &store.webhooks[&id];
                            pings.push((webhook.delivery_url.clone(), id));
                            webhook_json(webhook, url)
                        });
                    batch_entry(0, result)
                })
                .collect();
        }
        if !batch.update.is_empty() {
            answer["update"] = batch
                .update
                .iter()
                .map(|entry| {
                    let id = Fields::of(entry)
                        .ok()
                        .and_then(|f| f.integer("id").ok().flatten())
                        .unwrap_or(0);
                    let result = Fields::of(entry)
                        .and_then(|fields| update_webhook(store, id, &fields))
                        .map(|()| webhook_json(&store.webhooks[&id], url));
                    batch_entry(id, result)
                })
                .collect();
        }
        if !batch.delete.is_empty() {
            answer["delete"] = batch
                .delete
                .iter()
                .map(|entry| {
                    let id = Batch::delete_id(entry).unwrap_or(0);
                    batch_entry(id, delete_webhook(store, id, true, url))
                })
                .collect();
        }
        Ok((answer, pings))
    })?;
    for (delivery_url, id) in pings {
        ping(&delivery_url, id).await;
    }
    Ok(json_response(StatusCode::OK, answer))
}

fn valid_delivery_url(raw: &str) -> bool {
    url::Url::parse(raw)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

fn invalid_topic() -> RestError {
    RestError::new(
        StatusCode::BAD_REQUEST,
        "woocommerce_rest_webhook_invalid_topic",
        "Webhook topic is required and must be valid.",
    )
}

fn invalid_delivery_url() -> RestError {
    RestError::new(
        StatusCode::BAD_REQUEST,
        "woocommerce_rest_webhook_invalid_delivery_url",
        "Webhook delivery URL must be a valid URL starting with http:// or https://.",
    )
}

pub fn create_webhook(store: &mut WooStore, fields: &Fields<'_>) -> Result<i64, RestError> {
    if fields.has("id") {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_webhook_exists",
            "Cannot create existing webhook.",
        ));
    }
    let topic = fields
        .string("topic")?
        .map(|topic| topic.to_lowercase())
        .filter(|topic| is_valid_topic(topic))
        .ok_or_else(invalid_topic)?;
    let delivery_url = fields
        .string("delivery_url")?
        .filter(|url| valid_delivery_url(url))
        .ok_or_else(invalid_delivery_url)?;
    let status = match fields.string("status")? {
        None => WebhookStatus::Active,
        Some(raw) => WebhookStatus::parse(&raw).ok_or_else(invalid_status)?,
    };
    let at = now();
    let id = store.next_webhook_id();
    let name = fields
        .string("name")?
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| format!("Webhook created on {}", crate::woo::model::format_date(at)));
    let secret = fields
        .string("secret")?
        .filter(|secret| !secret.is_empty())
        .unwrap_or_else(random_token);
    store.webhooks.insert(
        id,
        Webhook {
            id,
            name,
            status,
            topic,
            delivery_url,
            secret,
            failure_count: 0,
            created: at,
            modified: at,
        },
    );
    Ok(id)
}

fn invalid_status() -> RestError {
    RestError::new(
        StatusCode::BAD_REQUEST,
        "woocommerce_rest_webhook_invalid_status",
        "Webhook status must be valid.",
    )
}

pub fn update_webhook(store: &mut WooStore, id: i64, fields: &Fields<'_>) -> Result<(), RestError> {
    let mut webhook = store
        .webhooks
        .get(&id)
        .cloned()
        .ok_or_else(|| invalid_id(StatusCode::BAD_REQUEST))?;
    if let Some(topic) = fields.string("topic")?.filter(|topic| !topic.is_empty()) {
        let topic = topic.to_lowercase();
        if !is_valid_topic(&topic) {
            return Err(RestError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_webhook_invalid_topic",
                "Webhook topic must be valid.",
            ));
        }
        webhook.topic = topic;
    }
    if let Some(url) = fields.string("delivery_url")?.filter(|url| !url.is_empty()) {
        if !valid_delivery_url(&url) {
            return Err(invalid_delivery_url());
        }
        webhook.delivery_url = url;
    }
    if let Some(secret) = fields.string("secret")?.filter(|secret| !secret.is_empty()) {
        webhook.secret = secret;
    }
    if let Some(status) = fields.string("status")?.filter(|status| !status.is_empty()) {
        let status = WebhookStatus::parse(&status.to_lowercase()).ok_or_else(invalid_status)?;
        // Reactivating starts counting failures afresh.
        if status == WebhookStatus::Active && webhook.status != WebhookStatus::Active {
            webhook.failure_count = 0;
        }
        webhook.status = status;
    }
    if let Some(name) = fields.string("name")?.filter(|name| !name.is_empty()) {
        webhook.name = name;
    }
    webhook.modified = now();
    store.webhooks.insert(id, webhook);
    Ok(())
}

pub fn delete_webhook(
    store: &mut WooStore,
    id: i64,
    force: bool,
    url: &str,
) -> Result<Value, RestError> {
    if !force {
        return Err(RestError::new(
            StatusCode::NOT_IMPLEMENTED,
            "woocommerce_rest_trash_not_supported",
            "Webhooks do not support trashing.",
        ));
    }
    let webhook = store
        .webhooks
        .remove(&id)
        .ok_or_else(|| invalid_id(StatusCode::NOT_FOUND))?;
    Ok(webhook_json(&webhook, url))
}
