//! Hook deliveries, as BigCommerce makes them: a POST of the light payload (`scope`,
//! `store_id`, `data {type, id, …}`, `hash`, `created_at`, `producer`) with the hook's own
//! `headers`, unsigned (the headers are how an app tells a delivery from a forgery). A 2xx is a
//! success; anything else is retried on BigCommerce's schedule (1, 3, 5, 10, 15 and 30
//! minutes, then 1, 2, 6, 14 and 24 hours), and a hook whose last retry fails, about 48 hours
//! after the event, is deactivated (`is_active: false`).
//!
//! The schedule is multiplied by the sandbox's retry scale (`Sandbox::bc_set_hook_retry_scale`;
//! 1.0 by default, 0.0 retries at once), so a test sees a whole retry window in no time.
//! Events are turned into deliveries while the state is locked (`flush`), then each delivery
//! runs as its own task (so a hook waiting for a retry holds up no other) on a thread of its
//! own, as the WooCommerce deliveries do; `settle` waits until every delivery has succeeded or
//! been given up. Deliveries may therefore arrive out of order, as BigCommerce's may.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use serde_json::json;
use sha1::{Digest, Sha1};
use tokio::sync::{Notify, mpsc};

use crate::bc::model::BcStore;
use crate::world::World;

/// The waits before each retry, as BigCommerce documents them.
pub const RETRY_SCHEDULE: [Duration; 11] = [
    Duration::from_secs(60),
    Duration::from_secs(3 * 60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(15 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(3600),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(6 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(24 * 3600),
];

/// How long a delivery may take before it counts as failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// One attempt to deliver a hook's event, as `Sandbox::bc_hook_attempts` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookAttempt {
    pub hook_id: i64,
    pub scope: String,
    pub destination: String,
    /// 1 for the first try, 2 for the first retry, …
    pub attempt: u32,
    /// The HTTP status the destination answered, if it answered.
    pub status: Option<u16>,
    /// Why nothing was answered.
    pub error: Option<String>,
    pub at: SystemTime,
}

impl HookAttempt {
    pub fn succeeded(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

struct Delivery {
    store: String,
    hook_id: i64,
    scope: String,
    destination: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Sent even though the hook is gone by then: `store/app/uninstalled`, whose hooks the
    /// uninstall removes.
    last_word: bool,
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

pub struct HookDeliveries {
    world: Weak<Mutex<World>>,
    sender: OnceLock<mpsc::UnboundedSender<Delivery>>,
    progress: Arc<Progress>,
}

impl HookDeliveries {
    pub fn new(world: Weak<Mutex<World>>) -> Self {
        Self {
            world,
            sender: OnceLock::new(),
            progress: Arc::default(),
        }
    }

    /// Turns every store's pending events into deliveries for the active hooks listening.
    pub fn flush(&self, world: &mut World) {
        let mut ready = Vec::new();
        for store in world.bc.stores.values_mut() {
            for event in std::mem::take(&mut store.events) {
                ready.extend(deliveries_for(store, event.scope, &event.data));
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
            .name("bc-hooks".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        tracing::error!(%error, "the hook delivery runtime did not start");
                        return;
                    }
                };
                runtime.block_on(async move {
                    let client = reqwest::Client::builder()
                        .timeout(DELIVERY_TIMEOUT)
                        .redirect(reqwest::redirect::Policy::none())
                        .build()
                        .expect("a plain HTTP client builds");
                    while let Some(delivery) = receiver.recv().await {
                        let (client, world, progress) =
                            (client.clone(), world.clone(), progress.clone());
                        tokio::spawn(async move {
                            deliver(&client, &world, delivery).await;
                            progress.done();
                        });
                    }
                });
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "the hook delivery thread did not start");
        }
        sender
    }

    /// Returns once every delivery queued so far has succeeded or been given up.
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

fn deliveries_for(store: &BcStore, scope: &'static str, data: &serde_json::Value) -> Vec<Delivery> {
    let created_at = crate::values::clock::now().unix_timestamp();
    let data_json = serde_json::to_vec(data).unwrap_or_default();
    let hash: String = Sha1::digest(&data_json)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let body = serde_json::to_vec(&json!({
        "scope": scope,
        "store_id": store.store_id.to_string(),
        "data": data,
        "hash": hash,
        "created_at": created_at,
        "producer": format!("stores/{}", store.hash),
    }))
    .unwrap_or_default();
    store
        .hooks
        .values()
        .filter(|hook| hook.listens_to(scope))
        // Only the app uninstalled hears of its own uninstall.
        .filter(|hook| {
            scope != "store/app/uninstalled" || hook.client_id.as_deref() == data["id"].as_str()
        })
        .map(|hook| Delivery {
            store: store.hash.clone(),
            hook_id: hook.id,
            scope: scope.to_owned(),
            destination: hook.destination.clone(),
            headers: hook
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            body: body.clone(),
            last_word: scope == "store/app/uninstalled",
        })
        .collect()
}

/// Tries, then retries on the schedule, until a success, the hook's end, or the window's end
/// (which deactivates the hook).
async fn deliver(client: &reqwest::Client, world: &Weak<Mutex<World>>, delivery: Delivery) {
    let mut attempt = 1;
    loop {
        if !delivery.last_word && !hook_active(world, &delivery) {
            return;
        }
        let succeeded = send(client, world, &delivery, attempt).await;
        if succeeded {
            return;
        }
        let Some(wait) = RETRY_SCHEDULE.get(attempt as usize - 1) else {
            deactivate(world, &delivery);
            return;
        };
        let Some(scale) = world.upgrade().map(|world| {
            let world = world.lock().unwrap_or_else(PoisonError::into_inner);
            world.bc.retry_scale
        }) else {
            return;
        };
        if delivery.last_word {
            // Its hook is gone: nothing to retry for.
            return;
        }
        tokio::time::sleep(
            Duration::try_from_secs_f64(wait.as_secs_f64() * scale).unwrap_or(*wait),
        )
        .await;
        attempt += 1;
    }
}

fn hook_active(world: &Weak<Mutex<World>>, delivery: &Delivery) -> bool {
    world.upgrade().is_some_and(|world| {
        let world = world.lock().unwrap_or_else(PoisonError::into_inner);
        world
            .bc
            .stores
            .get(&delivery.store)
            .and_then(|store| store.hooks.get(&delivery.hook_id))
            .is_some_and(|hook| hook.is_active)
    })
}

fn deactivate(world: &Weak<Mutex<World>>, delivery: &Delivery) {
    let Some(world) = world.upgrade() else {
        return;
    };
    let mut world = world.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(hook) = world
        .bc
        .stores
        .get_mut(&delivery.store)
        .and_then(|store| store.hooks.get_mut(&delivery.hook_id))
    {
        tracing::info!(hook_id = hook.id, "hook deactivated after its retry window");
        hook.is_active = false;
        hook.updated_at = crate::values::clock::now();
    }
}

async fn send(
    client: &reqwest::Client,
    world: &Weak<Mutex<World>>,
    delivery: &Delivery,
    attempt: u32,
) -> bool {
    let mut request = client
        .post(&delivery.destination)
        .header("content-type", "application/json")
        .body(delivery.body.clone());
    for (name, value) in &delivery.headers {
        request = request.header(name, value);
    }
    let at = SystemTime::now();
    let (status, error) = match request.send().await {
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(error) => (None, Some(error.to_string())),
    };
    let record = HookAttempt {
        hook_id: delivery.hook_id,
        scope: delivery.scope.clone(),
        destination: delivery.destination.clone(),
        attempt,
        status,
        error,
        at,
    };
    let succeeded = record.succeeded();
    if let Some(world) = world.upgrade() {
        let mut world = world.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(store) = world.bc.stores.get_mut(&delivery.store) {
            store.hook_log.push(record);
        }
    }
    succeeded
}
