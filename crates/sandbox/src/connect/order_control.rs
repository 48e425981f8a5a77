//! Placing and reading Mirakl Connect orders, from Rust (`Sandbox::connect_*`) and over JSON
//! under `/sandbox/api/connect/…`: the orders a company's channels would bring, bought from
//! its Connect catalog.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::Sandbox;
use crate::connect::orders::{Awaiting, ConnectLine, ConnectOrder, order_json, orders_json};
use crate::values::clock::now;
use crate::values::customer::{Customer, basket};
use crate::values::money::Money;
use crate::world::{Company, World};

/// At most this many orders per call.
const MAX_ORDERS: usize = 1000;
/// What a line ships for, whatever its quantity.
const LINE_SHIPPING: Money = Money(490);

#[derive(Debug, thiserror::Error)]
pub enum ConnectControlError {
    #[error("There is no Connect company '{0}' on this sandbox.")]
    UnknownCompany(String),
    #[error("There is no Connect order '{0}' on this sandbox.")]
    UnknownOrder(String),
    #[error("Company '{company}' has no product '{product_id}' in its Connect catalog.")]
    UnknownProduct { company: String, product_id: String },
    #[error(
        "The product '{product_id}' is not for sale in that quantity: it needs a standard price \
         and {wanted} in stock ({available} declared)."
    )]
    OutOfStock {
        product_id: String,
        available: i64,
        wanted: i64,
    },
    #[error("Company '{0}' has no product for sale: one needs a standard price and stock.")]
    NothingForSale(String),
    #[error("An order needs at least one line, each of a quantity of 1 or more.")]
    BadLines,
    #[error("count is a number of orders from 1 to 1000; got {0}.")]
    BadCount(usize),
}

impl IntoResponse for ConnectControlError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::UnknownCompany(_) | Self::UnknownOrder(_) | Self::UnknownProduct { .. } => {
                StatusCode::NOT_FOUND
            }
            Self::OutOfStock { .. }
            | Self::NothingForSale(_)
            | Self::BadLines
            | Self::BadCount(_) => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({ "message": self.to_string() }))).into_response()
    }
}

/// A catalog product as an order line sees it: its title, standard price and declared stock.
fn for_sale(product: &Map<String, Value>) -> Option<(String, Money, String, i64)> {
    let price = product.get("standard_prices")?.get(0)?.get("price")?;
    let amount = Money::from_json(price.get("amount")?)?;
    let currency = price.get("currency")?.as_str()?.to_owned();
    let stock: i64 = product
        .get("quantities")?
        .as_array()?
        .iter()
        .filter_map(|quantity| quantity.get("available_quantity")?.as_i64())
        .sum();
    let title = product
        .get("titles")
        .and_then(|titles| titles.get(0)?.get("value")?.as_str())
        .or_else(|| product.get("id")?.as_str())?
        .to_owned();
    Some((title, amount, currency, stock))
}

impl Company {
    /// Places one order of `(product id, quantity)` lines from the catalog. ASSUMPTION: the
    /// catalog's quantities are the seller's declaration, which Connect does not lower itself.
    fn place_order(
        &mut self,
        lines: &[(String, i64)],
        now: OffsetDateTime,
    ) -> Result<String, ConnectControlError> {
        if lines.is_empty() || lines.iter().any(|(_, quantity)| *quantity < 1) {
            return Err(ConnectControlError::BadLines);
        }
        let mut priced = Vec::with_capacity(lines.len());
        for (product_id, quantity) in lines {
            let product = self.products.get(product_id).ok_or_else(|| {
                ConnectControlError::UnknownProduct {
                    company: self.id.clone(),
                    product_id: product_id.clone(),
                }
            })?;
            match for_sale(product) {
                Some((title, price, currency, stock)) if stock >= *quantity => {
                    priced.push((product_id.clone(), *quantity, title, price, currency));
                }
                other => {
                    return Err(ConnectControlError::OutOfStock {
                        product_id: product_id.clone(),
                        available: other.map_or(0, |(_, _, _, stock)| stock),
                        wanted: *quantity,
                    });
                }
            }
        }
        self.next_order_number += 1;
        let number = self.next_order_number;
        let channel_order_id = format!("{}-A", 300_000 + number);
        let id = format!("0001_{channel_order_id}");
        let currency = priced[0].4.clone();
        let order_lines = priced
            .into_iter()
            .zip(1..)
            .map(
                |((product_id, quantity, title, price, _), index)| ConnectLine {
                    id: format!("{id}-{index}"),
                    channel_order_line_id: format!("{channel_order_id}-{index}"),
                    product_id,
                    title,
                    ordered: quantity,
                    unit_price: price,
                    shipping_price: LINE_SHIPPING,
                    closed: None,
                    shipped: 0,
                    adjustments: Vec::new(),
                },
            )
            .collect();
        let customer = Customer::draw(&mut self.order_entropy, number);
        self.orders.insert(
            id.clone(),
            ConnectOrder {
                id: id.clone(),
                channel_order_id,
                awaiting: Awaiting::Acceptance,
                created: now,
                updated: now,
                accepted: None,
                debited: None,
                currency,
                customer,
                lines: order_lines,
                carrier: None,
            },
        );
        Ok(id)
    }

    /// One to three products for sale at random, 1 or 2 of each within stock.
    fn random_lines(&mut self) -> Result<Vec<(String, i64)>, ConnectControlError> {
        let available: Vec<(String, i64)> = self
            .products
            .iter()
            .filter_map(|(id, product)| {
                let (_, _, _, stock) = for_sale(product)?;
                (stock > 0).then(|| (id.clone(), stock))
            })
            .collect();
        if available.is_empty() {
            return Err(ConnectControlError::NothingForSale(self.id.clone()));
        }
        Ok(basket(&mut self.order_entropy, available))
    }
}

/// A company with its orders caught up to now.
fn caught_up<'w>(
    world: &'w mut World,
    company: &str,
) -> Result<&'w mut Company, ConnectControlError> {
    let delays = world.order_delays;
    let found = world
        .companies
        .get_mut(company)
        .ok_or_else(|| ConnectControlError::UnknownCompany(company.to_owned()))?;
    found.catch_up_orders(delays, now());
    Ok(found)
}

impl Sandbox {
    /// Places `count` orders on a company's Connect catalog, as its channels' customers would:
    /// each of `lines` (product id, quantity), or when `lines` is empty one to three products
    /// for sale (a standard price and stock) at random, 1 or 2 of each within stock. All the
    /// orders are placed, or none. Their ids, oldest first.
    pub fn connect_place_orders(
        &self,
        company: &str,
        count: usize,
        lines: &[(String, i64)],
    ) -> Result<Vec<String>, ConnectControlError> {
        if !(1..=MAX_ORDERS).contains(&count) {
            return Err(ConnectControlError::BadCount(count));
        }
        let mut world = self.world();
        let company = caught_up(&mut world, company)?;
        let at = now();
        let mut placed = Vec::with_capacity(count);
        for _ in 0..count {
            let attempt = if lines.is_empty() {
                company
                    .random_lines()
                    .and_then(|lines| company.place_order(&lines, at))
            } else {
                company.place_order(lines, at)
            };
            // Only the first order can fail: the catalog does not change in between.
            placed.push(attempt?);
        }
        Ok(placed)
    }

    /// A Connect order as `GET /v2/orders` shows it now, whichever company it belongs to.
    pub fn connect_order(&self, order_id: &str) -> Option<Value> {
        let mut world = self.world();
        let delays = world.order_delays;
        let at = now();
        world.companies.values_mut().find_map(|company| {
            company.catch_up_orders(delays, at);
            let order = company.orders.get(order_id)?;
            Some(order_json(order, &company.name))
        })
    }

    /// A company's Connect orders as `GET /v2/orders` shows them now, oldest first.
    pub fn connect_orders(&self, company: &str) -> Vec<Value> {
        let mut world = self.world();
        caught_up(&mut world, company)
            .map(|company| orders_json(company))
            .unwrap_or_default()
    }
}

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/sandbox/api/connect/orders", post(place_orders))
        .route("/sandbox/api/connect/orders/{order_id}", get(read_order))
        .route("/sandbox/api/connect/{company}/orders", get(list_orders))
}

#[derive(Deserialize)]
struct NewLine {
    product_id: String,
    quantity: i64,
}

#[derive(Deserialize)]
struct NewOrders {
    company: String,
    #[serde(default = "one")]
    count: usize,
    #[serde(default)]
    lines: Vec<NewLine>,
}

fn one() -> usize {
    1
}

/// `POST /sandbox/api/connect/orders {company, count?, lines?: [{product_id, quantity}]}` →
/// 201 `{order_ids}`.
async fn place_orders(
    State(sandbox): State<Sandbox>,
    Json(request): Json<NewOrders>,
) -> Result<(StatusCode, Json<Value>), ConnectControlError> {
    let lines: Vec<(String, i64)> = request
        .lines
        .into_iter()
        .map(|line| (line.product_id, line.quantity))
        .collect();
    let order_ids = sandbox.connect_place_orders(&request.company, request.count, &lines)?;
    Ok((StatusCode::CREATED, Json(json!({ "order_ids": order_ids }))))
}

async fn read_order(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
) -> Result<Json<Value>, ConnectControlError> {
    sandbox
        .connect_order(&order_id)
        .map(Json)
        .ok_or(ConnectControlError::UnknownOrder(order_id))
}

async fn list_orders(
    State(sandbox): State<Sandbox>,
    Path(company): Path<String>,
) -> Result<Json<Vec<Value>>, ConnectControlError> {
    let mut world = sandbox.world();
    Ok(Json(orders_json(caught_up(&mut world, &company)?)))
}
