//! Webhook deliveries, as core's `WC_Webhook::deliver` makes them: a POST of the resource's
//! JSON with the `X-WC-Webhook-*` headers and `X-WC-Webhook-Signature` =
//! base64(HMAC-SHA256(body, secret)); 200–302 is a success and resets the failure count,
//! anything else (an error, a timeout) counts one more failure, and more than 5 in a row
//! disable the webhook. There is no retry, as in core.
//!
//! Changes are turned into deliveries while the state is locked (`flush`), then sent one after
//! another by a tokio task on a thread of its own, started at the first delivery, so a sandbox
//! needs no runtime to be built and its deliveries never depend on the caller's runtime.
//! `settle` waits until every queued delivery has been attempted.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, mpsc};

use crate::woo::model::{Change, Event, Resource, WebhookStatus, WooStore};
use crate::woo::views::{order_json, product_json};
use crate::woo::{USER_AGENT, WEBHOOK_TIMEOUT};
use crate::world::World;

/// Core disables a webhook after more than this many consecutive failures.
const MAX_FAILURES: u32 = 5;

/// One attempt to deliver a webhook, as `Sandbox::webhook_log` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    pub webhook_id: i64,
    pub topic: String,
    pub resource_id: i64,
    pub delivery_url: String,
    /// `X-WC-Webhook-Delivery-ID`.
    pub delivery_id: String,
    /// The HTTP status the endpoint answered, if it answered.
    pub status: Option<u16>,
    /// Why nothing was answered (connection refused, timeout).
    pub error: Option<String>,
    pub at: SystemTime,
}

impl WebhookAttempt {
    /// Core's success range.
    pub fn succeeded(&self) -> bool {
        self.status
            .is_some_and(|status| (200..=302).contains(&status))
    }
}

/// A delivery ready to send.
struct Delivery {
    store: String,
    webhook_id: i64,
    topic: String,
    resource: &'static str,
    event: &'static str,
    resource_id: i64,
    url: String,
    source: String,
    secret: String,
    body: Vec<u8>,
}

#[derive(Default)]
struct Progress {
    pending: AtomicUsize,
    settled: Notify,
}

impl Progress {
    fn done(&self) {
        if self.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.settled.notify_waiters();
        }
    }
}

/// The queue of deliveries and the task that sends them.
pub struct Deliveries {
    world: Weak<Mutex<World>>,
    sender: OnceLock<mpsc::UnboundedSender<Delivery>>,
    progress: Arc<Progress>,
}

impl Deliveries {
    pub fn new(world: Weak<Mutex<World>>) -> Self {
        Self {
            world,
            sender: OnceLock::new(),
            progress: Arc::default(),
        }
    }

    /// Turns every recorded change of every store into deliveries for the active webhooks
    /// whose topic matches. Within one flush a resource fires a topic once (core skips a
    /// resource already processed in the same request).
    pub fn flush(&self, world: &mut World) {
        let public_url = world.public_url.clone();
        let mut ready = Vec::new();
        for store in world.woo.values_mut() {
            if store.changes.is_empty() {
                continue;
            }
            let mut seen = HashSet::new();
            let changes: Vec<Change> = std::mem::take(&mut store.changes)
                .into_iter()
                .filter(|change| seen.insert(*change))
                .collect();
            let url = store.url(&public_url);
            for change in changes {
                ready.extend(deliveries_for(store, &url, change));
            }
        }
        for delivery in ready {
            self.enqueue(delivery);
        }
    }

    fn enqueue(&self, delivery: Delivery) {
        self.progress.pending.fetch_add(1, Ordering::SeqCst);
        let sender = self.sender.get_or_init(|| self.start());
        if sender.send(delivery).is_err() {
            self.progress.done();
        }
    }

    fn start(&self) -> mpsc::UnboundedSender<Delivery> {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Delivery>();
        let world = self.world.clone();
        let progress = self.progress.clone();
        let spawned = std::thread::Builder::new()
            .name("woo-webhooks".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        tracing::error!(%error, "the webhook delivery runtime did not start");
                        return;
                    }
                };
                runtime.block_on(async move {
                    let client = reqwest::Client::builder()
                        .timeout(WEBHOOK_TIMEOUT)
                        .redirect(reqwest::redirect::Policy::none())
                        .user_agent(USER_AGENT)
                        .build()
                        .expect("a plain HTTP client builds");
                    while let Some(delivery) = receiver.recv().await {
                        attempt(&client, &world, delivery).await;
                        progress.done();
                    }
                });
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "the webhook delivery thread did not start");
        }
        sender
    }

    /// Returns once every delivery queued so far has been attempted.
    pub async fn settle(&self) {
        loop {
            let settled = self.progress.settled.notified();
            let mut settled = std::pin::pin!(settled);
            settled.as_mut().enable();
            if self.progress.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            settled.await;
        }
    }
}

fn deliveries_for(store: &WooStore, url: &str, change: Change) -> Vec<Delivery> {
    let listeners: Vec<_> = store
        .webhooks
        .values()
        .filter(|webhook| webhook.listens_to(&change))
        .collect();
    if listeners.is_empty() {
        return Vec::new();
    }
    let body = match (change.event, change.resource) {
        (Event::Deleted, _) => Some(serde_json::json!({ "id": change.id })),
        (_, Resource::Product) => store
            .products
            .get(&change.id)
            .map(|product| product_json(store, product, url)),
        (_, Resource::Order) => store
            .orders
            .get(&change.id)
            .map(|order| order_json(store, order, url)),
    };
    let Some(body) = body else {
        return Vec::new();
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    listeners
        .into_iter()
        .map(|webhook| Delivery {
            store: store.code.clone(),
            webhook_id: webhook.id,
            topic: webhook.topic.clone(),
            resource: change.resource.as_str(),
            event: change.event.as_str(),
            resource_id: change.id,
            url: webhook.delivery_url.clone(),
            source: format!("{url}/"),
            secret: webhook.secret.clone(),
            body: body.clone(),
        })
        .collect()
}

/// base64(HMAC-SHA256(body, secret)), the `X-WC-Webhook-Signature`.
pub fn signature(body: &[u8], secret: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Core hashes the webhook id with the current second, so two deliveries of one webhook in
/// the same second share an id.
fn delivery_id(webhook_id: i64, at: SystemTime) -> String {
    let second = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let digest = Sha256::digest(format!("{webhook_id}{second}").as_bytes());
    digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

async fn attempt(client: &reqwest::Client, world: &Weak<Mutex<World>>, delivery: Delivery) {
    // A webhook disabled, paused or deleted since the change was queued sends nothing.
    let still_active = world.upgrade().is_some_and(|world| {
        let world = world.lock().unwrap_or_else(PoisonError::into_inner);
        world
            .woo
            .get(&delivery.store)
            .and_then(|store| store.webhooks.get(&delivery.webhook_id))
            .is_some_and(|webhook| webhook.status == WebhookStatus::Active)
    });
    if !still_active {
        return;
    }
    let at = SystemTime::now();
    let delivery_id = delivery_id(delivery.webhook_id, at);
    let sent = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("x-wc-webhook-source", &delivery.source)
        .header("x-wc-webhook-topic", &delivery.topic)
        .header("x-wc-webhook-resource", delivery.resource)
        .header("x-wc-webhook-event", delivery.event)
        .header(
            "x-wc-webhook-signature",
            signature(&delivery.body, &delivery.secret),
        )
        .header("x-wc-webhook-id", delivery.webhook_id.to_string())
        .header("x-wc-webhook-delivery-id", &delivery_id)
        .body(delivery.body)
        .send()
        .await;
    let (status, error) = match sent {
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(error) => (None, Some(describe(&error))),
    };
    let record = WebhookAttempt {
        webhook_id: delivery.webhook_id,
        topic: delivery.topic,
        resource_id: delivery.resource_id,
        delivery_url: delivery.url,
        delivery_id,
        status,
        error,
        at,
    };
    let Some(world) = world.upgrade() else {
        return;
    };
    let mut world = world.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(store) = world.woo.get_mut(&delivery.store) else {
        return;
    };
    if let Some(webhook) = store.webhooks.get_mut(&delivery.webhook_id) {
        if record.succeeded() {
            webhook.failure_count = 0;
        } else {
            webhook.failure_count += 1;
            if webhook.failure_count > MAX_FAILURES {
                webhook.status = WebhookStatus::Disabled;
            }
        }
    }
    store.webhook_log.push(record);
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!(
            "Operation timed out after {} seconds",
            WEBHOOK_TIMEOUT.as_secs()
        )
    } else if error.is_connect() {
        "Could not connect to the delivery URL (connection refused or unreachable)".to_owned()
    } else {
        error.to_string()
    }
}

/// The ping core sends when a webhook is created: `webhook_id=<id>`, form-encoded, unsigned.
/// Core ignores the outcome on the REST path; the sandbox logs it.
pub async fn ping(delivery_url: &str, webhook_id: i64) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!(%error, "no HTTP client for the webhook ping");
            return;
        }
    };
    let answer = client
        .post(delivery_url)
        .form(&[("webhook_id", webhook_id.to_string())])
        .send()
        .await;
    match answer {
        Ok(response) if response.status() == reqwest::StatusCode::OK => {}
        Ok(response) => tracing::info!(
            webhook_id,
            status = response.status().as_u16(),
            "the webhook ping was not answered with 200 (core keeps the webhook all the same)"
        ),
        Err(error) => tracing::info!(webhook_id, %error, "the webhook ping could not be delivered"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_repeat_within_a_second_only() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            delivery_id(3, at),
            delivery_id(3, at + Duration::from_millis(500))
        );
        assert_ne!(
            delivery_id(3, at),
            delivery_id(3, at + Duration::from_secs(1))
        );
        assert_ne!(delivery_id(3, at), delivery_id(4, at));
    }
}
