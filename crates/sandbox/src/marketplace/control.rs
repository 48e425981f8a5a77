//! Steering and reading the emulated marketplaces, from Rust (`Sandbox::marketplace_*`,
//! `set_offer_quantity`, `offer_import_modes`, `settle_imports`) and over JSON under
//! `/sandbox/api/mmp/…`: what a test needs to check what a connector did, or to change an offer
//! behind its back as a seller in the back office would. Orders are `order_control`'s.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Sandbox;
use crate::marketplace::catalog::CatalogProduct;
use crate::marketplace::offers::shop_offers;
use crate::world::ShopApiKey;

#[derive(Debug, thiserror::Error)]
pub enum MarketplaceControlError {
    #[error("There is no marketplace '{0}' on this sandbox.")]
    UnknownInstance(String),
    #[error("Marketplace '{instance}' has no shop {shop_id}.")]
    UnknownShop { instance: String, shop_id: i64 },
    #[error("Shop {shop_id} on '{instance}' has no offer with SKU '{sku}'.")]
    UnknownOffer {
        instance: String,
        shop_id: i64,
        sku: String,
    },
    #[error("A quantity is a whole number of 0 or more; got {0}.")]
    BadQuantity(i64),
    #[error("Marketplace '{instance}' already has a shop {shop_id}.")]
    ShopExists { instance: String, shop_id: i64 },
    #[error("The API key is empty or already opens another shop.")]
    BadApiKey,
    #[error("An order needs at least one line.")]
    EmptyOrder,
    #[error("An order line's quantity is a whole number of 1 or more; got {0}.")]
    BadOrderQuantity(i64),
    #[error(
        "The offer '{sku}' is not for sale in that quantity: {available} left, {wanted} wanted."
    )]
    OutOfStock {
        sku: String,
        available: i64,
        wanted: i64,
    },
    #[error("Shop {shop_id} on '{instance}' has no offer for sale.")]
    NoLiveOffer { instance: String, shop_id: i64 },
    #[error("count is a number of orders from 1 to 1000; got {0}.")]
    BadCount(usize),
    #[error("Marketplace '{instance}' has no order '{order_id}'.")]
    UnknownOrder { instance: String, order_id: String },
    #[error("{0}")]
    OrderRefused(String),
}

impl IntoResponse for MarketplaceControlError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::BadQuantity(_)
            | Self::BadApiKey
            | Self::EmptyOrder
            | Self::BadOrderQuantity(_)
            | Self::OutOfStock { .. }
            | Self::NoLiveOffer { .. }
            | Self::BadCount(_) => StatusCode::BAD_REQUEST,
            Self::ShopExists { .. } | Self::OrderRefused(_) => StatusCode::CONFLICT,
            Self::UnknownInstance(_)
            | Self::UnknownShop { .. }
            | Self::UnknownOffer { .. }
            | Self::UnknownOrder { .. } => StatusCode::NOT_FOUND,
        };
        (status, Json(json!({ "message": self.to_string() }))).into_response()
    }
}

/// A catalog product as the control API shows it.
fn product_json(product: &CatalogProduct) -> Value {
    json!({
        "product_sku": product.sku,
        "title": product.title,
        "brand": product.brand,
        "category": product.category,
        "gtin": product.gtin,
        "shop_skus": product.shop_skus,
        "attributes": product.attributes,
    })
}

impl Sandbox {
    /// Opens one more shop on a marketplace, reached with the raw shop API key `api_key`
    /// (a copy of the demo store's account, with no offer).
    pub fn add_marketplace_shop(
        &self,
        instance: &str,
        shop_id: i64,
        name: &str,
        api_key: &str,
    ) -> Result<(), MarketplaceControlError> {
        let mut world = self.world();
        if api_key.trim().is_empty() || world.shop_api_keys.contains_key(api_key) {
            return Err(MarketplaceControlError::BadApiKey);
        }
        let marketplace = world
            .marketplaces
            .get_mut(instance)
            .ok_or_else(|| MarketplaceControlError::UnknownInstance(instance.to_owned()))?;
        if marketplace.stores.contains_key(&shop_id) {
            return Err(MarketplaceControlError::ShopExists {
                instance: instance.to_owned(),
                shop_id,
            });
        }
        marketplace
            .stores
            .insert(shop_id, crate::seed::store(shop_id, name, 0));
        world.shop_api_keys.insert(
            api_key.to_owned(),
            ShopApiKey {
                instance: instance.to_owned(),
                shop_id,
            },
        );
        Ok(())
    }

    /// One offer of a store, by the seller's SKU, as `marketplace_offers` shows it.
    pub fn marketplace_offer(&self, instance: &str, shop_id: i64, shop_sku: &str) -> Option<Value> {
        let world = self.world();
        let marketplace = world.marketplaces.get(instance)?;
        let store = marketplace.stores.get(&shop_id)?;
        let offer = store.offers.get(shop_sku)?;
        Some(crate::marketplace::offers::offer_json(
            offer,
            &marketplace.catalog,
            store.shop_id,
            &store.currency_iso_code,
        ))
    }

    /// A shop's offers as OF21 shows them, by SKU; empty for an unknown marketplace or shop.
    pub fn marketplace_offers(&self, instance: &str, shop_id: i64) -> Vec<Value> {
        let world = self.world();
        world
            .marketplaces
            .get(instance)
            .and_then(|marketplace| {
                let store = marketplace.stores.get(&shop_id)?;
                Some(shop_offers(&marketplace.catalog, store))
            })
            .unwrap_or_default()
    }

    /// The operator's catalog of a marketplace: `product_sku`, `title`, `brand`, `category`,
    /// `gtin`, `shop_skus` (shop id → the SKU its P41 import gave), `attributes`.
    pub fn marketplace_products(&self, instance: &str) -> Vec<Value> {
        let world = self.world();
        world
            .marketplaces
            .get(instance)
            .map(|marketplace| marketplace.catalog.products().map(product_json).collect())
            .unwrap_or_default()
    }

    /// Sets an offer's quantity, as the seller would in the marketplace's back office, so a
    /// reconciliation test sees a change the connector did not make.
    ///
    /// # Panics
    /// When the marketplace, the shop or the offer does not exist, or the quantity is negative:
    /// a test asked for something impossible.
    pub fn set_offer_quantity(&self, instance: &str, shop_id: i64, sku: &str, quantity: i64) {
        self.try_set_offer_quantity(instance, shop_id, sku, quantity)
            .unwrap_or_else(|error| panic!("{error}"));
    }

    fn try_set_offer_quantity(
        &self,
        instance: &str,
        shop_id: i64,
        sku: &str,
        quantity: i64,
    ) -> Result<Value, MarketplaceControlError> {
        if quantity < 0 {
            return Err(MarketplaceControlError::BadQuantity(quantity));
        }
        let mut world = self.world();
        let marketplace = world
            .marketplaces
            .get_mut(instance)
            .ok_or_else(|| MarketplaceControlError::UnknownInstance(instance.to_owned()))?;
        let store = marketplace.stores.get_mut(&shop_id).ok_or_else(|| {
            MarketplaceControlError::UnknownShop {
                instance: instance.to_owned(),
                shop_id,
            }
        })?;
        let offer =
            store
                .offers
                .get_mut(sku)
                .ok_or_else(|| MarketplaceControlError::UnknownOffer {
                    instance: instance.to_owned(),
                    shop_id,
                    sku: sku.to_owned(),
                })?;
        offer.terms.quantity = quantity;
        Ok(crate::marketplace::offers::offer_json(
            offer,
            &marketplace.catalog,
            shop_id,
            &store.currency_iso_code,
        ))
    }

    /// The `import_mode` of every OF01 call a marketplace received (refused ones too), oldest
    /// first: a test asserts `REPLACE` is not among them.
    pub fn offer_import_modes(&self, instance: &str) -> Vec<String> {
        self.world()
            .marketplaces
            .get(instance)
            .map(|marketplace| marketplace.import_modes.clone())
            .unwrap_or_default()
    }

    /// Makes the next offer or product import a shop sends to `instance` fail as a whole:
    /// its status ends `FAILED` with `reason` as `reason_status`, and nothing of it is applied.
    /// Each call fails one import.
    ///
    /// # Panics
    /// When the marketplace does not exist.
    pub fn fail_next_import(&self, instance: &str, reason: &str) {
        self.try_fail_next_import(instance, reason)
            .unwrap_or_else(|error| panic!("{error}"));
    }

    fn try_fail_next_import(
        &self,
        instance: &str,
        reason: &str,
    ) -> Result<(), MarketplaceControlError> {
        self.world()
            .marketplaces
            .get_mut(instance)
            .ok_or_else(|| MarketplaceControlError::UnknownInstance(instance.to_owned()))?
            .failing_imports
            .push_back(reason.to_owned());
        Ok(())
    }

    /// Completes every offer and product import in progress on every marketplace, as if the
    /// marketplace had all the time it needed (products first, then offers, each oldest first).
    pub fn settle_imports(&self) {
        for marketplace in self.world().marketplaces.values_mut() {
            marketplace.settle();
        }
    }
}

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/sandbox/api/mmp/{instance}/shops", post(add_shop))
        .route(
            "/sandbox/api/mmp/{instance}/shops/{shop_id}/offers",
            get(list_offers),
        )
        .route(
            "/sandbox/api/mmp/{instance}/shops/{shop_id}/offers/{sku}/quantity",
            post(set_quantity),
        )
        .route(
            "/sandbox/api/mmp/{instance}/import-modes",
            get(import_modes),
        )
        .route("/sandbox/api/mmp/{instance}/products", get(list_products))
        .route(
            "/sandbox/api/mmp/{instance}/imports/fail-next",
            post(fail_next_import),
        )
        .route("/sandbox/api/imports/settle", post(settle))
        .merge(crate::marketplace::order_control::router())
}

fn known_shop(
    sandbox: &Sandbox,
    instance: &str,
    shop_id: i64,
) -> Result<(), MarketplaceControlError> {
    let world = sandbox.world();
    let marketplace = world
        .marketplaces
        .get(instance)
        .ok_or_else(|| MarketplaceControlError::UnknownInstance(instance.to_owned()))?;
    if marketplace.stores.contains_key(&shop_id) {
        Ok(())
    } else {
        Err(MarketplaceControlError::UnknownShop {
            instance: instance.to_owned(),
            shop_id,
        })
    }
}

#[derive(Deserialize)]
struct NewShop {
    shop_id: i64,
    name: String,
    api_key: String,
}

async fn add_shop(
    State(sandbox): State<Sandbox>,
    Path(instance): Path<String>,
    Json(request): Json<NewShop>,
) -> Result<(StatusCode, Json<Value>), MarketplaceControlError> {
    sandbox.add_marketplace_shop(&instance, request.shop_id, &request.name, &request.api_key)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "instance": instance, "shop_id": request.shop_id, "name": request.name })),
    ))
}

async fn list_offers(
    State(sandbox): State<Sandbox>,
    Path((instance, shop_id)): Path<(String, i64)>,
) -> Result<Json<Vec<Value>>, MarketplaceControlError> {
    known_shop(&sandbox, &instance, shop_id)?;
    Ok(Json(sandbox.marketplace_offers(&instance, shop_id)))
}

#[derive(Deserialize)]
struct Quantity {
    quantity: i64,
}

async fn set_quantity(
    State(sandbox): State<Sandbox>,
    Path((instance, shop_id, sku)): Path<(String, i64, String)>,
    Json(request): Json<Quantity>,
) -> Result<Json<Value>, MarketplaceControlError> {
    sandbox
        .try_set_offer_quantity(&instance, shop_id, &sku, request.quantity)
        .map(Json)
}

async fn import_modes(
    State(sandbox): State<Sandbox>,
    Path(instance): Path<String>,
) -> Result<Json<Vec<String>>, MarketplaceControlError> {
    if !sandbox.world().marketplaces.contains_key(&instance) {
        return Err(MarketplaceControlError::UnknownInstance(instance));
    }
    Ok(Json(sandbox.offer_import_modes(&instance)))
}

async fn list_products(
    State(sandbox): State<Sandbox>,
    Path(instance): Path<String>,
) -> Result<Json<Vec<Value>>, MarketplaceControlError> {
    if !sandbox.world().marketplaces.contains_key(&instance) {
        return Err(MarketplaceControlError::UnknownInstance(instance));
    }
    Ok(Json(sandbox.marketplace_products(&instance)))
}

#[derive(Deserialize)]
struct Failure {
    reason: String,
}

async fn fail_next_import(
    State(sandbox): State<Sandbox>,
    Path(instance): Path<String>,
    Json(request): Json<Failure>,
) -> Result<Json<Value>, MarketplaceControlError> {
    sandbox.try_fail_next_import(&instance, &request.reason)?;
    Ok(Json(
        json!({ "instance": instance, "reason": request.reason }),
    ))
}

async fn settle(State(sandbox): State<Sandbox>) -> Json<Value> {
    sandbox.settle_imports();
    Json(json!({ "settled": true }))
}

/// The marketplaces' part of `/sandbox/api/state`: per shop, its offers and imports.
pub fn state_view(world: &crate::world::World) -> Vec<Value> {
    world
        .marketplaces
        .values()
        .map(|marketplace| {
            let shops: Vec<Value> = marketplace
                .stores
                .values()
                .map(|store| {
                    let imports = |done: bool| {
                        marketplace
                            .offer_imports
                            .values()
                            .filter(|import| {
                                import.shop_id == store.shop_id && import.status.is_done() == done
                            })
                            .count()
                    };
                    json!({
                        "shop_id": store.shop_id,
                        "offers": store.offers.len(),
                        "active_offers": store.offers.values().filter(|o| o.terms.quantity > 0).count(),
                        "offer_imports_in_progress": imports(false),
                        "offer_imports_done": imports(true),
                        "orders": marketplace.orders.values().filter(|o| o.shop_id == store.shop_id).count(),
                    })
                })
                .collect();
            json!({
                "instance": marketplace.instance,
                "catalog_products": marketplace.catalog.len(),
                "product_imports": marketplace.product_imports.len(),
                "shops": shops,
                "import_modes": marketplace.import_modes,
            })
        })
        .collect()
}
