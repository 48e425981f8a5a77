//! Placing and steering marketplace orders, from Rust (`Sandbox::mmp_*`) and over JSON under
//! `/sandbox/api/mmp/{instance}/…`: a customer's purchase on a store's live offers, a
//! customer's cancellation, and what OR11 would show of an order now.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Sandbox;
use crate::marketplace::control::MarketplaceControlError;
use crate::marketplace::orders::{Order, OrderError, Step, order_json};
use crate::values::clock::now;
use crate::world::{Marketplace, World};

/// At most this many orders per call.
const MAX_ORDERS: usize = 1000;

/// A marketplace with its orders caught up to now.
fn caught_up<'w>(
    world: &'w mut World,
    instance: &str,
) -> Result<&'w mut Marketplace, MarketplaceControlError> {
    let delays = world.order_delays;
    let marketplace = world
        .marketplaces
        .get_mut(instance)
        .ok_or_else(|| MarketplaceControlError::UnknownInstance(instance.to_owned()))?;
    marketplace.catch_up_orders(delays, now());
    Ok(marketplace)
}

impl Marketplace {
    /// Places `count` orders on a shop, all or none: each of `lines` (offer SKU, quantity), or
    /// when `lines` is empty one to three live offers at random, 1 or 2 of each.
    fn place_orders(
        &mut self,
        shop_id: i64,
        count: usize,
        lines: &[(String, i64)],
    ) -> Result<Vec<String>, MarketplaceControlError> {
        if !(1..=MAX_ORDERS).contains(&count) {
            return Err(MarketplaceControlError::BadCount(count));
        }
        let store =
            self.stores
                .get(&shop_id)
                .ok_or_else(|| MarketplaceControlError::UnknownShop {
                    instance: self.instance.clone(),
                    shop_id,
                })?;
        // What a failure half-way through puts back.
        let before = (
            store.offers.clone(),
            store.orders_count,
            self.next_order_number,
            self.order_entropy.clone(),
        );
        let at = now();
        let mut placed = Vec::with_capacity(count);
        for _ in 0..count {
            let attempt = if lines.is_empty() {
                self.random_lines(shop_id, at)
                    .and_then(|lines| self.place_order(shop_id, &lines, at))
            } else {
                self.place_order(shop_id, lines, at)
            };
            match attempt {
                Ok(order_id) => placed.push(order_id),
                Err(error) => {
                    for order_id in &placed {
                        self.orders.remove(order_id);
                    }
                    let store = self.stores.get_mut(&shop_id).expect("checked above");
                    (store.offers, store.orders_count) = (before.0, before.1);
                    (self.next_order_number, self.order_entropy) = (before.2, before.3);
                    return Err(error);
                }
            }
        }
        Ok(placed)
    }
}

fn sorted(mut orders: Vec<&Order>) -> Vec<Value> {
    orders.sort_by(|a, b| {
        a.created
            .cmp(&b.created)
            .then_with(|| a.order_id.cmp(&b.order_id))
    });
    orders.into_iter().map(order_json).collect()
}

impl Sandbox {
    /// Places `count` orders on a shop's live offers, as customers buying on the marketplace
    /// would: each of `lines` (offer SKU, quantity), or when `lines` is empty one to three live
    /// offers at random, 1 or 2 of each within their quantity. The offers' quantities go down.
    /// All the orders are placed, or none. Their ids, oldest first.
    pub fn mmp_place_orders(
        &self,
        instance: &str,
        shop_id: i64,
        count: usize,
        lines: &[(String, i64)],
    ) -> Result<Vec<String>, MarketplaceControlError> {
        let mut world = self.world();
        caught_up(&mut world, instance)?.place_orders(shop_id, count, lines)
    }

    /// An order as OR11 shows it now (its deadline and debit caught up); `None` when the
    /// marketplace or the order does not exist.
    pub fn mmp_order(&self, instance: &str, order_id: &str) -> Option<Value> {
        let mut world = self.world();
        let marketplace = caught_up(&mut world, instance).ok()?;
        marketplace.orders.get(order_id).map(order_json)
    }

    /// A shop's orders as OR11 shows them now, oldest first.
    pub fn mmp_orders(&self, instance: &str, shop_id: i64) -> Vec<Value> {
        let mut world = self.world();
        let Ok(marketplace) = caught_up(&mut world, instance) else {
            return Vec::new();
        };
        sorted(
            marketplace
                .orders
                .values()
                .filter(|order| order.shop_id == shop_id)
                .collect(),
        )
    }

    /// Cancels an order not shipped yet, as its customer (or the operator) would: CANCELED,
    /// its quantities back on the offers.
    pub fn mmp_cancel_order(
        &self,
        instance: &str,
        order_id: &str,
    ) -> Result<(), MarketplaceControlError> {
        let mut world = self.world();
        let marketplace = caught_up(&mut world, instance)?;
        let shop_id = marketplace
            .orders
            .get(order_id)
            .map(|order| order.shop_id)
            .ok_or_else(|| MarketplaceControlError::UnknownOrder {
                instance: instance.to_owned(),
                order_id: order_id.to_owned(),
            })?;
        marketplace
            .cancel_order(shop_id, order_id, Step::CustomerCancel, now())
            .map_err(|error: OrderError| MarketplaceControlError::OrderRefused(error.to_string()))
    }
}

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/sandbox/api/mmp/{instance}/orders", post(place_orders))
        .route(
            "/sandbox/api/mmp/{instance}/orders/{order_id}",
            get(read_order),
        )
        .route(
            "/sandbox/api/mmp/{instance}/orders/{order_id}/cancel",
            post(cancel_order),
        )
        .route(
            "/sandbox/api/mmp/{instance}/shops/{shop_id}/orders",
            get(list_orders),
        )
}

#[derive(Deserialize)]
struct NewLine {
    offer_sku: String,
    quantity: i64,
}

#[derive(Deserialize)]
struct NewOrders {
    shop_id: i64,
    #[serde(default = "one")]
    count: usize,
    #[serde(default)]
    lines: Vec<NewLine>,
}

fn one() -> usize {
    1
}

/// `POST /sandbox/api/mmp/{instance}/orders {shop_id, count?, lines?: [{offer_sku, quantity}]}`
/// → 201 `{order_ids}`.
async fn place_orders(
    State(sandbox): State<Sandbox>,
    Path(instance): Path<String>,
    Json(request): Json<NewOrders>,
) -> Result<(StatusCode, Json<Value>), MarketplaceControlError> {
    let lines: Vec<(String, i64)> = request
        .lines
        .into_iter()
        .map(|line| (line.offer_sku, line.quantity))
        .collect();
    let order_ids = sandbox.mmp_place_orders(&instance, request.shop_id, request.count, &lines)?;
    Ok((StatusCode::CREATED, Json(json!({ "order_ids": order_ids }))))
}

async fn read_order(
    State(sandbox): State<Sandbox>,
    Path((instance, order_id)): Path<(String, String)>,
) -> Result<Json<Value>, MarketplaceControlError> {
    sandbox
        .mmp_order(&instance, &order_id)
        .map(Json)
        .ok_or(MarketplaceControlError::UnknownOrder { instance, order_id })
}

async fn cancel_order(
    State(sandbox): State<Sandbox>,
    Path((instance, order_id)): Path<(String, String)>,
) -> Result<Json<Value>, MarketplaceControlError> {
    sandbox.mmp_cancel_order(&instance, &order_id)?;
    read_order(State(sandbox), Path((instance, order_id))).await
}

async fn list_orders(
    State(sandbox): State<Sandbox>,
    Path((instance, shop_id)): Path<(String, i64)>,
) -> Result<Json<Vec<Value>>, MarketplaceControlError> {
    let mut world = sandbox.world();
    let marketplace = caught_up(&mut world, &instance)?;
    if !marketplace.stores.contains_key(&shop_id) {
        return Err(MarketplaceControlError::UnknownShop { instance, shop_id });
    }
    Ok(Json(sorted(
        marketplace
            .orders
            .values()
            .filter(|order| order.shop_id == shop_id)
            .collect(),
    )))
}
