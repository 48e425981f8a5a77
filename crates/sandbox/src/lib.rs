//! The sandbox: one axum server that emulates the outside systems Marketbridge talks to, built
//! from their published contracts, so the demo and every test run without an outside account.
//!
//! It owns the emulated Mirakl Authentication System (`/mas`), the marketplace seller API
//! (`/mmp/{instance}/api`: catalog, offers, orders), the Mirakl Connect seller API
//! (`/connect/api`: catalog, orders), WooCommerce stores (`/woo/{store}`), BigCommerce stores
//! with their app install and control panel (`/bc`), and its own pages and
//! control API (`/sandbox`). All of its state lives in memory behind one mutex; it never touches
//! the connector's storage. WooCommerce webhooks leave through a queue (`woo::delivery`).
//! Mirakl's call budgets and injected faults (answered or on the connection) are `gate`'s; the
//! dates, amounts, GTINs and shoppers several emulators share are `values`'.
//!
//! Apart from the emulators, [`canned`] is a server that answers what a test says and records
//! what it was asked, for the clients' tests of answers the emulators never give.

mod bc;
pub mod canned;
mod connect;
mod control;
mod entropy;
mod form;
mod gate;
mod jwt;
mod mail;
mod marketplace;
mod mas;
mod page;
mod seed;
pub mod tls;
mod values;
mod woo;
mod world;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn_with_state;
use tower_http::limit::RequestBodyLimitLayer;

pub use bc::app::{AppError as BcAppError, IssuedCode as BcIssuedCode};
pub use bc::delivery::HookAttempt as BcHookAttempt;
pub use bc::seed::{
    DEMO_API_TOKEN as BC_DEMO_API_TOKEN, DEMO_CLIENT_ID as BC_DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET as BC_DEMO_CLIENT_SECRET, DEMO_STORE_HASH as BC_DEMO_STORE_HASH,
};
pub use connect::order_control::ConnectControlError;
pub use gate::{FaultRates, Faults, Operation, TIMEOUT_HOLD};
pub use mail::Mail;
pub use marketplace::catalog::corrected_gtin;
pub use marketplace::control::MarketplaceControlError;
pub use seed::{DEMO_REDIRECT_URI, DEMO_SELLER_EMAIL, DEMO_SELLER_PASSWORD};
pub use woo::control::{
    WooControlError, WooKeyInfo, WooStoreCreated, WooWebhookInfo, WooWebhookStatus,
};
pub use woo::delivery::WebhookAttempt;
pub use woo::seed::{
    DEMO_ADMIN_EMAIL as WOO_DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD as WOO_DEMO_ADMIN_PASSWORD,
    DEMO_CONSUMER_KEY as WOO_DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET as WOO_DEMO_CONSUMER_SECRET,
    DEMO_STORE as WOO_DEMO_STORE,
};

use crate::bc::delivery::HookDeliveries;
use crate::form::BODY_LIMIT;
use crate::woo::delivery::Deliveries;
use crate::world::{Lifetimes, World};

/// How a sandbox is started.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Public base URL of the sandbox as the browser reaches it, e.g. `http://127.0.0.1:8090`.
    pub public_url: url::Url,
    /// Redirect URIs registered for the demo OAuth client `marketbridge-demo`: exact match,
    /// but for the port of a loopback one (RFC 8252 §7.3).
    pub redirect_uris: Vec<String>,
    /// Seed the demo users, client, marketplaces, stores and the WooCommerce store `demo-shop`.
    pub seed_demo: bool,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub code_ttl: Duration,
    /// Mirakl's call budgets (429 + `Retry-After` past the documented call frequency), scaled:
    /// 1.0 is the documented budget, 0.001 turns a minute into 60 ms, 0.0 (the default) is off.
    pub budget_scale: f64,
}

impl SandboxConfig {
    /// The defaults: demo data seeded, the callback of `marketbridge demo`'s connector
    /// ([`DEMO_REDIRECT_URI`]) as the redirect URI, access tokens of 3599 s (the lifetime
    /// Mirakl's documented token response shows), refresh tokens of 30 days, codes of 10
    /// minutes, call budgets off.
    pub fn new(public_url: url::Url) -> Self {
        Self {
            public_url,
            redirect_uris: vec![DEMO_REDIRECT_URI.to_owned()],
            seed_demo: true,
            access_token_ttl: Duration::from_secs(3599),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            code_ttl: Duration::from_secs(600),
            budget_scale: 0.0,
        }
    }
}

/// A running sandbox's shared state; cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    world: Arc<Mutex<World>>,
    deliveries: Arc<Deliveries>,
    bc_hooks: Arc<HookDeliveries>,
}

impl Sandbox {
    /// # Panics
    /// When `config.budget_scale` is negative or not a number.
    pub fn new(config: SandboxConfig) -> Sandbox {
        if let Some(problem) = gate::scale_problem(config.budget_scale) {
            panic!("{problem}");
        }
        let lifetimes = Lifetimes {
            access: config.access_token_ttl,
            refresh: config.refresh_token_ttl,
            code: config.code_ttl,
        };
        let mut world = World::new(config.public_url, lifetimes, config.budget_scale);
        if config.seed_demo {
            let shop = woo::seed::demo(&world.public_url);
            seed::demo(&mut world, &config.redirect_uris, &shop);
            let bc_store = bc::seed::demo(&shop);
            world.bc.stores.insert(bc_store.hash.clone(), bc_store);
            world.woo.insert(shop.code.clone(), shop);
        }
        // The demo app is registered even on an empty sandbox: it is the connector's.
        let app = bc::seed::demo_app();
        world.bc.apps.insert(app.client_id.clone(), app);
        let world = Arc::new(Mutex::new(world));
        // The delivery task holds the state weakly, so dropping the sandbox ends it.
        let deliveries = Arc::new(Deliveries::new(Arc::downgrade(&world)));
        let bc_hooks = Arc::new(HookDeliveries::new(Arc::downgrade(&world)));
        Sandbox {
            world,
            deliveries,
            bc_hooks,
        }
    }

    /// Every emulated system under its path prefix, with the body size limits applied (the
    /// WooCommerce stores take bigger bodies, as PHP does).
    pub fn router(&self) -> Router {
        Router::new()
            .nest("/mas", mas::router())
            .merge(control::router())
            .merge(woo::control::router())
            .merge(marketplace::control::router())
            .merge(connect::control_router())
            .merge(bc::control::router())
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
            // The Mirakl APIs take files and catalogs of megabytes: limits of their own.
            .nest("/mmp", marketplace::router())
            .nest("/connect/api", connect::router())
            .merge(woo::router(self.clone()))
            .merge(bc::router(self.clone()))
            .layer(from_fn_with_state(self.clone(), woo::guard))
            .layer(from_fn_with_state(self.clone(), gate::connection_faults))
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

    /// Revokes one token of a client, as its RFC 7009 revocation would: an access token goes
    /// alone, a refresh token takes its whole grant with it.
    pub fn revoke_token(&self, client_id: &str, token: &str) {
        let mut world = self.world();
        let world = &mut *world;
        world.grants.revoke_token(&world.signer, client_id, token);
    }

    /// Scales Mirakl's call budgets from now on: 1.0 is the documented budget, 0.001 turns a
    /// minute into 60 ms, 0.0 switches budgets off.
    ///
    /// # Panics
    /// When `scale` is negative or not a number.
    pub fn set_budget_scale(&self, scale: f64) {
        if let Some(problem) = gate::scale_problem(scale) {
            panic!("{problem}");
        }
        self.world().gate.set_scale(scale);
    }

    /// Injects faults, replacing the ones set before: into the catalog and order calls
    /// (Connect products and orders, OF01, OF02, OF03, OF04, OF21, OF24, P41, P42, P44, OR11,
    /// OR21, OR23, OR24, OR28, OR29, ST01) a share answered 500 and a share answered 429 with
    /// `Retry-After: 1`; into those and every WooCommerce and BigCommerce REST call, a share
    /// that times out
    /// (not applied, never answered) and a share whose answer is lost (applied, connection
    /// closed). The choice of calls restarts from a fixed seed, so the same calls fail on every
    /// run. Takes a [`FaultRates`], or the older [`Faults`] (no connection fault);
    /// `FaultRates::default()` switches them all off.
    ///
    /// # Panics
    /// When a rate is outside 0–1 or they add up to more than 1.
    pub fn set_faults(&self, faults: impl Into<FaultRates>) {
        let faults = faults.into();
        if let Some(problem) = faults.problem() {
            panic!("{problem}");
        }
        self.world().gate.set_faults(faults);
    }

    /// How long a call hit by the timeout fault holds its connection before closing it
    /// unanswered ([`gate::TIMEOUT_HOLD`] by default, longer than a client's usual timeout). A
    /// test whose connector gives up sooner, or that cannot wait, shortens it: the call is still
    /// not applied and never answered.
    pub fn set_timeout_hold(&self, hold: Duration) {
        self.world().gate.timeout_hold = hold;
    }

    /// Loses the answer to the next call counted under `counter` (as [`Sandbox::call_count`]
    /// names it, e.g. `"mmp.or21"`; for WooCommerce, optionally after its method, e.g.
    /// `"POST woo.rest.orders"`): the call is applied, then its connection closed without a
    /// byte, as when a network drops the answer after the other side acted. Planned losses add
    /// up; they are used whatever `set_faults` says.
    pub fn lose_next_answer(&self, counter: &str) {
        *self
            .world()
            .lost_answers
            .entry(counter.to_owned())
            .or_default() += 1;
    }

    /// How long the customer's debit takes once an order is accepted, on every marketplace
    /// (WAITING_DEBIT_PAYMENT, then SHIPPING) and on Connect (AWAITING_PAYMENT, then
    /// AWAITING_SHIPMENT); 0, the default, debits at the next read. It applies to the orders
    /// already waiting: shortening it moves them along at their next read.
    pub fn set_debit_delay(&self, delay: Duration) {
        self.world().order_delays.debit = delay;
    }

    /// How long an order waits for the seller's decision before the platform refuses it (3
    /// days by default); like the debit delay, it applies to the orders already waiting, so
    /// `Duration::ZERO` refuses them at their next read.
    pub fn set_acceptance_delay(&self, delay: Duration) {
        self.world().order_delays.acceptance = delay;
    }

    /// How many requests an endpoint has received, e.g. `"mas.token"`, `"mmp.a01"`,
    /// `"mmp.of01"`, `"mmp.or11"`, `"connect.products.post"`, `"connect.orders.accept"`,
    /// `"woo.rest"` (every WooCommerce REST call) or `"woo.rest.products"`, `"bc.rest"` (every
    /// BigCommerce REST call, answered or not) or `"bc.rest.orders"`, `"bc.rate_limited"` (see
    /// `Operation::counter` for every Mirakl operation's).
    ///
    /// Calls turned away because their caller spent its budget (see `set_budget_scale`) are
    /// counted too: `"budget.exceeded"` for every operation, and
    /// `"budget.exceeded.<endpoint>"` for one, e.g. `"budget.exceeded.mmp.of01"` or
    /// `"budget.exceeded.connect.products.post"`. Injected faults (`set_faults`) are not.
    pub fn call_count(&self, endpoint: &str) -> u64 {
        self.world().calls.get(endpoint).copied().unwrap_or(0)
    }

    /// The state, locked. A handler that panicked while holding the lock leaves the state as it
    /// was at that point, which is still consistent enough for an emulator, so poisoning is ignored.
    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
