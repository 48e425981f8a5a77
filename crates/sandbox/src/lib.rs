//! The sandbox: one axum server that emulates the outside systems Marketbridge talks to, built
//! from their published contracts, so the demo and every test run without an outside account.
//!
//! It owns the emulated Mirakl Authentication System (`/mas`), the marketplace seller API
//! (`/mmp/{instance}/api`), and its own pages and control API (`/sandbox`). All of its state
//! lives in memory behind one mutex; it never touches the connector's storage.

mod control;
mod entropy;
mod form;
mod jwt;
mod mail;
mod marketplace;
mod mas;
mod page;
mod seed;
mod world;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;

pub use mail::Mail;

use crate::form::BODY_LIMIT;
use crate::world::{Lifetimes, World};

/// How a sandbox is started.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Public base URL of the sandbox as the browser reaches it, e.g. `http://127.0.0.1:8090`.
    pub public_url: url::Url,
    /// Redirect URIs registered for the demo OAuth client `marketbridge-demo` (exact match).
    pub redirect_uris: Vec<String>,
    /// Seed the demo users, client, marketplaces and stores.
    pub seed_demo: bool,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub code_ttl: Duration,
}

impl SandboxConfig {
    /// The defaults: demo data seeded, no redirect URI, access tokens of 3599 s (the lifetime
    /// Mirakl's documented token response shows), refresh tokens of 30 days, codes of 10 minutes.
    pub fn new(public_url: url::Url) -> Self {
        Self {
            public_url,
            redirect_uris: Vec::new(),
            seed_demo: true,
            access_token_ttl: Duration::from_secs(3599),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            code_ttl: Duration::from_secs(600),
        }
    }
}

/// A running sandbox's shared state; cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    world: Arc<Mutex<World>>,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Sandbox {
        let lifetimes = Lifetimes {
            access: config.access_token_ttl,
            refresh: config.refresh_token_ttl,
            code: config.code_ttl,
        };
        let mut world = World::new(config.public_url, lifetimes);
        if config.seed_demo {
            seed::demo(&mut world, &config.redirect_uris);
        }
        Sandbox {
            world: Arc::new(Mutex::new(world)),
        }
    }

    /// Every emulated system under its path prefix, with the body size limit applied.
    pub fn router(&self) -> Router {
        Router::new()
            .nest("/mas", mas::router())
            .nest("/mmp", marketplace::router())
            .merge(control::router())
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
            .with_state(self.clone())
    }

    /// Every e-mail the sandbox has sent, oldest first.
    pub fn mailbox(&self) -> Vec<Mail> {
        self.world().mailbox.clone()
    }

    /// Registers one more redirect URI for a client (tests add their port-0 callback).
    pub fn add_redirect_uri(&self, client_id: &str, uri: &str) {
        let mut world = self.world();
        if let Some(client) = world.clients.get_mut(client_id)
            && !client.redirect_uris.iter().any(|known| known == uri)
        {
            client.redirect_uris.push(uri.to_owned());
        }
    }

    /// Lifetimes of the tokens issued from now on.
    pub fn set_token_lifetimes(&self, access: Duration, refresh: Duration) {
        let mut world = self.world();
        world.lifetimes.access = access;
        world.lifetimes.refresh = refresh;
    }

    /// Withdraws every grant of a client, as a seller revoking the app in Mirakl would: codes not
    /// yet exchanged, refresh tokens and access tokens all stop working.
    pub fn revoke_all_grants(&self, client_id: &str) {
        self.world().grants.revoke_client(client_id);
    }

    /// How many requests an endpoint has received, e.g. `"mas.token"` or `"mmp.a01"`.
    pub fn call_count(&self, endpoint: &str) -> u64 {
        self.world().calls.get(endpoint).copied().unwrap_or(0)
    }

    /// The state, locked. A handler that panicked while holding the lock leaves the state as it
    /// was at that point, which is still consistent enough for an emulator, so poisoning is ignored.
    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
