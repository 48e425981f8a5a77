//! The flows of Marketbridge, one module (or folder) each, and the background work that runs
//! them as typed [`Job`]s: F1 [`authorization`]; F2 the [`shop`] connection and the one
//! factory of shop clients; F3/F4 the [`catalog`] export and its reconciliation; F6
//! [`disconnect`]; F7 [`tokens`]; the [`store_health`] checks and the [`shop_events`] shops
//! send. F5, orders, gets an `orders/` folder beside `catalog/`. The call [`budgets`] they
//! share, the [`job`] queue and the [`worker`] that runs it live here too.
//!
//! This crate owns no SQL (that is `storage`), no HTTP route (that is `web`), and no wire
//! format of an outside system (that is `mirakl` and `shops`).

pub mod authorization;
pub mod budgets;
pub mod catalog;
pub mod disconnect;
pub mod job;
pub mod orders;
pub mod shop;
pub mod shop_events;
pub mod store_health;
pub mod tokens;
pub mod worker;

use std::time::Duration;

use mirakl::connect::ConnectClient;
use mirakl::marketplace::MarketplaceClient;
use mirakl::mas::MasClient;
use storage::Storage;
use url::Url;

use crate::budgets::Slots;

pub use authorization::Authorization;
pub use budgets::Budgets;
pub use catalog::CatalogSync;
pub use disconnect::Disconnector;
pub use job::{CatalogRead, Job, Queue, Step};
pub use orders::{OrderConfig, Orders};
pub use shop::{BigCommerceApp, BigCommerceConfig, Shops};
pub use shop_events::ShopEvents;
pub use store_health::StoreHealth;
pub use tokens::{TokenError, TokenKeeper};
pub use worker::{Worker, WorkerConfig};

/// Every flow, built once and shared by the web app (which starts them) and the worker (which
/// runs their jobs). Cheap to clone.
#[derive(Clone)]
pub struct Flows {
    pub queue: Queue,
    pub tokens: TokenKeeper,
    pub authorization: Authorization,
    pub shops: Shops,
    pub health: StoreHealth,
    pub events: ShopEvents,
    pub catalog: CatalogSync,
    pub orders: Orders,
    pub disconnect: Disconnector,
}

/// What the flows are built from.
pub struct FlowParts {
    pub storage: Storage,
    pub mas: MasClient,
    pub marketplace: MarketplaceClient,
    pub connect: ConnectClient,
    pub shop_http: shops::ShopHttp,
    /// How sellers and shops reach this connector (webhook deliveries go under it).
    pub public_url: Url,
    /// BigCommerce's API host, and the connector's app there.
    pub bigcommerce: shop::BigCommerceConfig,
    pub budgets: Budgets,
    /// Renew access tokens when they have less than this left.
    pub token_refresh_margin: Duration,
    /// How often each connected store is checked.
    pub shop_health_interval: Duration,
    /// How long a seller has to finish a Mirakl authorization once started.
    pub authorization_ttl: Duration,
    /// How often orders are polled, and how patient the order flow is with a lost answer.
    pub orders: OrderConfig,
}

impl Flows {
    pub fn new(parts: FlowParts) -> Self {
        let FlowParts {
            storage,
            mas,
            marketplace,
            connect,
            shop_http,
            public_url,
            bigcommerce,
            budgets,
            token_refresh_margin,
            shop_health_interval,
            authorization_ttl,
            orders,
        } = parts;
        let queue = Queue::new(storage.clone());
        let tokens = TokenKeeper::new(storage.clone(), mas.clone(), token_refresh_margin);
        let authorization = Authorization::new(
            storage.clone(),
            mas.clone(),
            marketplace.clone(),
            tokens.clone(),
            authorization_ttl,
        );
        let shops = Shops::new(storage.clone(), shop_http, public_url, bigcommerce);
        let health = StoreHealth::new(
            storage.clone(),
            shops.clone(),
            queue.clone(),
            shop_health_interval,
        );
        let catalog = CatalogSync::new(
            storage.clone(),
            shops.clone(),
            tokens.clone(),
            marketplace.clone(),
            connect.clone(),
            budgets,
            queue.clone(),
        );
        let orders = Orders::new(
            storage.clone(),
            shops.clone(),
            tokens.clone(),
            marketplace,
            connect,
            Slots::new(storage.clone(), budgets),
            queue.clone(),
            orders,
        );
        let events = ShopEvents::new(storage.clone(), catalog.clone(), orders.clone());
        let disconnect = Disconnector::new(
            storage,
            catalog.clone(),
            shops.clone(),
            tokens.clone(),
            mas,
            queue.clone(),
        );
        Self {
            queue,
            tokens,
            authorization,
            shops,
            health,
            events,
            catalog,
            orders,
            disconnect,
        }
    }
}
