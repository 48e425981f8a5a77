//! `webhooks` of `wp-json/wc/v3`: list, read, create (then ping the delivery URL), update,
//! delete (permanent only: core does not trash webhooks) and batch.
//!
//! Core answers 201 whatever the ping gets back: its REST controller ignores the ping's
//! result (only the admin screen shows it), and so does the sandbox.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::Value;

use crate::entropy::random_token;
use crate::values::clock::now;
use crate::woo::model::{Webhook, WebhookStatus, WooStore, is_valid_topic};
use crate::woo::resource::{InStore, ListQuery, RestResource};
use crate::woo::rest::{Fields, QueryParams, RestError};
use crate::woo::views::webhook_json;

/// `webhooks`.
pub struct Webhooks;

impl RestResource for Webhooks {
    const ROUTE: &'static str = "webhooks";
    type Scope = InStore;
    type Filter = WebhookFilter;

    fn items(store: &WooStore, _: InStore) -> &BTreeMap<i64, Webhook> {
        &store.webhooks
    }

    fn unknown_id() -> RestError {
        invalid_id(StatusCode::BAD_REQUEST)
    }

    fn create(store: &mut WooStore, _: InStore, fields: &Fields<'_>) -> Result<i64, RestError> {
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
            .unwrap_or_else(|| {
                format!("Webhook created on {}", crate::woo::model::format_date(at))
            });
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

    fn update(
        store: &mut WooStore,
        _: InStore,
        id: i64,
        fields: &Fields<'_>,
    ) -> Result<(), RestError> {
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

    fn delete(
        store: &mut WooStore,
        _: InStore,
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

    fn render(_: &WooStore, webhook: &Webhook, url: &str) -> Value {
        webhook_json(webhook, url)
    }

    /// Core pings a new webhook's delivery URL.
    fn ping_url(store: &WooStore, id: i64) -> Option<String> {
        store
            .webhooks
            .get(&id)
            .map(|webhook| webhook.delivery_url.clone())
    }
}

/// The filters of `GET /webhooks`.
pub struct WebhookFilter {
    status: Option<WebhookStatus>,
    include: Vec<i64>,
}

impl ListQuery for WebhookFilter {
    type Item = Webhook;

    fn from_query(query: &QueryParams) -> Result<Self, RestError> {
        Ok(Self {
            status: query.parsed(
                "status",
                Some("all"),
                WebhookStatus::parse,
                "status is not one of all, active, paused, and disabled.",
            )?,
            include: query.ids("include")?,
        })
    }

    fn admits(&self, webhook: &Webhook) -> bool {
        self.status.is_none_or(|status| webhook.status == status)
            && (self.include.is_empty() || self.include.contains(&webhook.id))
    }

    /// Oldest first, or newest first (`order`, default desc).
    fn sort(
        &self,
        items: &mut [&Webhook],
        _: &WooStore,
        query: &QueryParams,
    ) -> Result<(), RestError> {
        if query.value("order").unwrap_or("desc") == "desc" {
            items.reverse();
        }
        Ok(())
    }
}

fn invalid_id(status: StatusCode) -> RestError {
    let message = if status == StatusCode::NOT_FOUND {
        "Invalid ID."
    } else {
        "ID is invalid."
    };
    RestError::new(status, "woocommerce_rest_webhook_invalid_id", message)
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

fn invalid_status() -> RestError {
    RestError::new(
        StatusCode::BAD_REQUEST,
        "woocommerce_rest_webhook_invalid_status",
        "Webhook status must be valid.",
    )
}
