//! The demo's customers: every so often, on each marketplace store that has live offers and on
//! each Mirakl Connect company that has products for sale, one of them buys one to three of
//! those (1 or 2 of each, the sandbox's pick), as a marketplace's customers would. So once a
//! seller has launched a channel, orders arrive on the Orders page on their own. Until the
//! connector has put offers live, they buy nothing. They use the sandbox's HTTP control API
//! only (`/sandbox/api/…`), so they work alike with the demo's own sandbox and with one already
//! running; they never touch the connector.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

use crate::bench::scramble;

/// Starts the customers of the sandbox at `sandbox_url`: a first round `every` (give or take a
/// fifth) after the start, then one round each `every` or so, until `stop` turns true.
pub fn spawn(sandbox_url: Url, every: Duration, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    let mut customers = Customers::new(sandbox_url, uuid::Uuid::new_v4().as_u64_pair().0);
    tokio::spawn(async move {
        loop {
            let pause = every.mul_f64(0.8 + 0.4 * customers.fraction());
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(pause) => {}
            }
            // A round cut short by the stop: an order is placed whole or not at all.
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return,
                _ = customers.buy() => {}
            }
        }
    })
}

/// Where an order was placed: `demo-marketplace/2001` or the Connect company's id.
type Placed = (String, String);

struct Customers {
    http: reqwest::Client,
    sandbox_url: Url,
    /// The next draw of the pauses between rounds (scrambled, so well spread).
    draws: u64,
}

impl Customers {
    fn new(sandbox_url: Url, draws: u64) -> Self {
        Self {
            http: mirakl::http_client(),
            sandbox_url,
            draws,
        }
    }

    fn fraction(&mut self) -> f64 {
        self.draws = self.draws.wrapping_add(1);
        (scramble(self.draws) % 1_000) as f64 / 1_000.0
    }

    /// One round: an order on each marketplace store with live offers and on each Connect
    /// company with products, as the sandbox's state shows them. A refusal (nothing left for
    /// sale in between) or a sandbox out of reach is logged and the round goes on. The orders
    /// placed, by where.
    async fn buy(&self) -> Vec<Placed> {
        let state = match self.state().await {
            Ok(state) => state,
            Err(error) => {
                tracing::warn!(%error, "the demo customers could not read the sandbox's state");
                return Vec::new();
            }
        };
        let mut placed = Vec::new();
        let live_shops = state["offers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|m| {
                let instance = m["instance"].as_str().unwrap_or_default().to_owned();
                m["shops"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|shop| shop["active_offers"].as_u64().unwrap_or(0) > 0)
                    .filter_map(move |shop| Some((instance.clone(), shop["shop_id"].as_i64()?)))
            });
        for (instance, shop_id) in live_shops.collect::<Vec<_>>() {
            let path = format!("sandbox/api/mmp/{instance}/orders");
            let body = json!({ "shop_id": shop_id, "count": 1 });
            let place = format!("{instance}/{shop_id}");
            placed.extend(self.place(&path, body, place).await);
        }
        let companies = state["companies"].as_array().into_iter().flatten();
        let with_products = companies
            .filter(|company| company["connect_products"].as_u64().unwrap_or(0) > 0)
            .filter_map(|company| company["id"].as_str().map(str::to_owned));
        for company in with_products.collect::<Vec<_>>() {
            let body = json!({ "company": company, "count": 1 });
            placed.extend(
                self.place("sandbox/api/connect/orders", body, company)
                    .await,
            );
        }
        placed
    }

    async fn state(&self) -> anyhow::Result<Value> {
        let url = self.sandbox_url.join("sandbox/api/state")?;
        let response = self.http.get(url).send().await?.error_for_status()?;
        Ok(response.json().await?)
    }

    /// Asks the sandbox for one order of live items picked at random: `Some` with where and
    /// the order's id once placed; `None` when nothing is for sale (400) or it failed.
    async fn place(&self, path: &str, body: Value, place: String) -> Option<Placed> {
        let answer = match self.sandbox_url.join(path) {
            Ok(url) => self.http.post(url).json(&body).send().await,
            Err(error) => {
                tracing::warn!(%error, path, "a demo customer found no sandbox address");
                return None;
            }
        };
        let (status, answer) = match answer {
            Ok(response) => (
                response.status(),
                response.json::<Value>().await.unwrap_or_default(),
            ),
            Err(error) => {
                tracing::warn!(%error, %place, "a demo customer could not reach the sandbox");
                return None;
            }
        };
        let message = answer["message"].as_str().unwrap_or_default();
        match status {
            reqwest::StatusCode::CREATED => {
                let order = answer["order_ids"][0].as_str()?.to_owned();
                tracing::info!(%order, %place, "a demo customer placed an order");
                Some((place, order))
            }
            // Sold out since the state was read: nothing to buy this round.
            reqwest::StatusCode::BAD_REQUEST => {
                tracing::debug!(%place, message, "nothing for a demo customer to buy");
                None
            }
            _ => {
                tracing::warn!(%place, %status, message, "a demo customer could not place an order");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};

    use sandbox::{Sandbox, SandboxConfig};

    use super::*;
    use crate::bench::setup::{BenchEnv, COMPANY, MARKETPLACE, STORE_ID};
    use crate::wiring::{RunningServer, bind, spawn_server};

    /// `sandbox` served on a port of its own, and customers of it.
    async fn customers_of(sandbox: &Sandbox) -> (Customers, RunningServer) {
        let listener = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let server = spawn_server(listener, sandbox.router()).await.unwrap();
        (Customers::new(url, 7), server)
    }

    fn plain_sandbox() -> Sandbox {
        Sandbox::new(SandboxConfig::new(
            Url::parse("http://127.0.0.1:1").unwrap(),
        ))
    }

    #[tokio::test]
    async fn nobody_buys_before_the_connector_has_put_offers_live() {
        let sandbox = plain_sandbox();
        let (customers, server) = customers_of(&sandbox).await;
        assert_eq!(customers.buy().await, Vec::new());
        assert!(!sandbox.marketplace_shops().is_empty());
        for (instance, shop_id) in sandbox.marketplace_shops() {
            assert!(sandbox.mmp_orders(&instance, shop_id).is_empty());
        }
        for company in sandbox.connect_companies() {
            assert!(sandbox.connect_orders(&company).is_empty());
        }
        server.stop().await;
    }

    #[tokio::test]
    async fn a_round_without_a_sandbox_places_nothing_and_does_not_fail() {
        let customers = Customers::new(Url::parse("http://127.0.0.1:1").unwrap(), 7);
        assert_eq!(customers.buy().await, Vec::new());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn customers_buy_on_each_channel_that_has_live_products() {
        let env = BenchEnv::start(sync::Budgets::off(), Duration::from_millis(20))
            .await
            .unwrap();
        let store = env.create_store(60).unwrap();
        let ws = env.onboard(&store).await.unwrap();
        env.run_until_settled(&ws, Duration::from_secs(300))
            .await
            .unwrap();
        let (customers, server) = customers_of(&env.sandbox).await;
        let first = customers.buy().await;
        let second = customers.buy().await;

        let live_store = format!("{MARKETPLACE}/{STORE_ID}");
        for round in [&first, &second] {
            let places: Vec<&str> = round.iter().map(|(place, _)| place.as_str()).collect();
            assert_eq!(places, [live_store.as_str(), COMPANY], "{round:?}");
        }
        let orders = env.sandbox.mmp_orders(MARKETPLACE, STORE_ID);
        assert_eq!(orders.len(), 2, "one order a round on the live store");
        for order in &orders {
            for line in order["order_lines"].as_array().unwrap() {
                let quantity = line["quantity"].as_i64().unwrap();
                assert!((1..=2).contains(&quantity), "{line}");
            }
        }
        assert_eq!(env.sandbox.connect_orders(COMPANY).len(), 2);
        // The second marketplace has no offer of this seller: nobody buys there.
        assert!(
            env.sandbox
                .mmp_orders("second-marketplace", 3001)
                .is_empty()
        );
        server.stop().await;
        env.stop().await;
    }

    #[tokio::test]
    async fn the_customers_stop_with_the_demo() {
        let (stop, stopped) = watch::channel(false);
        let url = Url::parse("http://127.0.0.1:1").unwrap();
        let customers = spawn(url, Duration::from_secs(3600), stopped);
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), customers)
            .await
            .expect("the customers stopped")
            .unwrap();
    }
}
