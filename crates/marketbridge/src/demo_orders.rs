//! The demo's customers: every so often, on each marketplace store that has live offers and on
//! each Mirakl Connect company that has products for sale, one of them buys one or two of those
//! (1 or 2 of each) through the in-process sandbox, as a marketplace's customers would. So once
//! a seller has launched a channel, orders arrive on the Orders page on their own. Until the
//! connector has put offers live, they do nothing. They only read the sandbox's state and place
//! orders with its control calls; they never touch the connector.

use std::time::Duration;

use sandbox::Sandbox;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::bench::scramble;

/// How many lines an order has at most, and how many of each line's item it buys at most.
const MAX_LINES: u64 = 2;
const MAX_QUANTITY: i64 = 2;

/// Starts the customers: a first round `every` (give or take a fifth) after the start, then one
/// round each `every` or so, until `stop` turns true.
pub fn spawn(sandbox: Sandbox, every: Duration, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    let mut customers = Customers {
        sandbox,
        draws: uuid::Uuid::new_v4().as_u64_pair().0,
    };
    tokio::spawn(async move {
        loop {
            let pause = every.mul_f64(0.8 + 0.4 * customers.fraction());
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(pause) => customers.buy(),
            }
        }
    })
}

struct Customers {
    sandbox: Sandbox,
    /// The next draw of the customers' choices (scrambled, so well spread).
    draws: u64,
}

impl Customers {
    fn draw(&mut self, below: u64) -> u64 {
        self.draws = self.draws.wrapping_add(1);
        scramble(self.draws) % below.max(1)
    }

    fn fraction(&mut self) -> f64 {
        self.draw(1_000) as f64 / 1_000.0
    }

    /// One round: an order on each marketplace store with live offers and on each Connect
    /// company with products for sale. A refusal (an offer sold out in between) is logged and
    /// the round goes on.
    fn buy(&mut self) {
        for (instance, shop_id) in self.sandbox.marketplace_shops() {
            let live: Vec<(String, i64)> = self
                .sandbox
                .marketplace_offers(&instance, shop_id)
                .iter()
                .filter(|offer| offer["active"].as_bool() == Some(true))
                .filter_map(|offer| {
                    let sku = offer["shop_sku"].as_str()?;
                    let quantity = offer["quantity"].as_i64().filter(|q| *q > 0)?;
                    Some((sku.to_owned(), quantity))
                })
                .collect();
            let lines = self.basket(live);
            if lines.is_empty() {
                continue;
            }
            match self.sandbox.mmp_place_orders(&instance, shop_id, 1, &lines) {
                Ok(ids) => tracing::info!(
                    order = ids.join(", "),
                    marketplace = %instance,
                    store = shop_id,
                    lines = %describe(&lines),
                    "a demo customer placed an order"
                ),
                Err(error) => tracing::warn!(
                    marketplace = %instance,
                    store = shop_id,
                    %error,
                    "a demo customer could not place an order"
                ),
            }
        }
        for company in self.sandbox.connect_companies() {
            let for_sale: Vec<(String, i64)> = self
                .sandbox
                .connect_products(&company)
                .iter()
                .filter_map(for_sale)
                .collect();
            let lines = self.basket(for_sale);
            if lines.is_empty() {
                continue;
            }
            match self.sandbox.connect_place_orders(&company, 1, &lines) {
                Ok(ids) => tracing::info!(
                    order = ids.join(", "),
                    %company,
                    lines = %describe(&lines),
                    "a demo customer placed an order on Mirakl Connect"
                ),
                Err(error) => tracing::warn!(
                    %company,
                    %error,
                    "a demo customer could not place an order on Mirakl Connect"
                ),
            }
        }
    }

    /// One or two different items of `available` (id, quantity on hand), 1 or 2 of each
    /// within what is on hand; empty when nothing is.
    fn basket(&mut self, mut available: Vec<(String, i64)>) -> Vec<(String, i64)> {
        let lines = 1 + self.draw(MAX_LINES);
        let mut basket = Vec::new();
        while (basket.len() as u64) < lines && !available.is_empty() {
            let index = self.draw(available.len() as u64) as usize;
            let (id, on_hand) = available.swap_remove(index);
            let wanted = 1 + self.draw(MAX_QUANTITY as u64) as i64;
            basket.push((id, wanted.min(on_hand)));
        }
        basket
    }
}

/// A Connect product's id and stock when it can be bought: a standard price and some stock.
fn for_sale(product: &Value) -> Option<(String, i64)> {
    if product["standard_prices"][0]["price"]["amount"].is_null() {
        return None;
    }
    let stock: i64 = product["quantities"]
        .as_array()?
        .iter()
        .filter_map(|quantity| quantity["available_quantity"].as_i64())
        .sum();
    let id = product["id"].as_str()?;
    (stock > 0).then(|| (id.to_owned(), stock))
}

/// `2 × SKU-1, 1 × SKU-2`.
fn describe(lines: &[(String, i64)]) -> String {
    lines
        .iter()
        .map(|(id, quantity)| format!("{quantity} × {id}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::setup::{BenchEnv, COMPANY, MARKETPLACE, STORE_ID};

    fn customers() -> Customers {
        let sandbox = Sandbox::new(sandbox::SandboxConfig::new(
            url::Url::parse("http://127.0.0.1:1").unwrap(),
        ));
        Customers { sandbox, draws: 7 }
    }

    #[test]
    fn a_basket_holds_one_or_two_items_within_what_is_on_hand() {
        let mut customers = customers();
        for _ in 0..200 {
            let basket = customers.basket(vec![("A".into(), 1), ("B".into(), 5), ("C".into(), 9)]);
            assert!((1..=2).contains(&basket.len()), "{basket:?}");
            assert!(
                basket
                    .iter()
                    .all(|(id, q)| *q >= 1 && (id != "A" || *q == 1))
            );
            assert!(basket.iter().all(|(_, q)| *q <= MAX_QUANTITY));
            if let [a, b] = &basket[..] {
                assert_ne!(a.0, b.0);
            }
        }
        assert!(customers.basket(Vec::new()).is_empty());
    }

    #[test]
    fn nobody_buys_before_the_connector_has_put_offers_live() {
        let mut customers = customers();
        customers.buy();
        for (instance, shop_id) in customers.sandbox.marketplace_shops() {
            assert!(customers.sandbox.mmp_orders(&instance, shop_id).is_empty());
        }
        assert!(!customers.sandbox.marketplace_shops().is_empty());
        for company in customers.sandbox.connect_companies() {
            assert!(customers.sandbox.connect_orders(&company).is_empty());
        }
    }

    #[test]
    fn a_connect_product_is_for_sale_with_a_price_and_stock() {
        let product = serde_json::json!({
            "id": "SKU-1",
            "standard_prices": [{"price": {"amount": 12.5, "currency": "EUR"}}],
            "quantities": [{"available_quantity": 3}],
        });
        assert_eq!(for_sale(&product), Some(("SKU-1".to_owned(), 3)));
        let sold_out = serde_json::json!({
            "id": "SKU-2",
            "standard_prices": [{"price": {"amount": 12.5, "currency": "EUR"}}],
            "quantities": [{"available_quantity": 0}],
        });
        assert_eq!(for_sale(&sold_out), None);
        assert_eq!(for_sale(&serde_json::json!({"id": "SKU-3"})), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn customers_buy_one_or_two_live_items_on_each_channel_that_has_them() {
        let env = BenchEnv::start(sync::Budgets::off(), Duration::from_millis(20))
            .await
            .unwrap();
        let store = env.create_store(60).unwrap();
        let ws = env.onboard(&store).await.unwrap();
        env.run_until_settled(&ws, Duration::from_secs(300))
            .await
            .unwrap();
        let mut customers = Customers {
            sandbox: env.sandbox.clone(),
            draws: 1,
        };
        customers.buy();
        customers.buy();

        let orders = env.sandbox.mmp_orders(MARKETPLACE, STORE_ID);
        assert_eq!(orders.len(), 2, "one order a round on the live store");
        for order in &orders {
            let lines = order["order_lines"].as_array().unwrap();
            assert!((1..=2).contains(&lines.len()), "{order}");
            for line in lines {
                let quantity = line["quantity"].as_i64().unwrap();
                assert!((1..=MAX_QUANTITY).contains(&quantity), "{line}");
            }
        }
        assert_eq!(env.sandbox.connect_orders(COMPANY).len(), 2);
        // The second marketplace has no offer of this seller: nobody buys there.
        assert!(
            env.sandbox
                .mmp_orders("second-marketplace", 3001)
                .is_empty()
        );
        env.stop().await;
    }

    #[tokio::test]
    async fn the_customers_stop_with_the_demo() {
        let (stop, stopped) = watch::channel(false);
        let customers = spawn(customers().sandbox, Duration::from_secs(3600), stopped);
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), customers)
            .await
            .expect("the customers stopped")
            .unwrap();
    }
}
