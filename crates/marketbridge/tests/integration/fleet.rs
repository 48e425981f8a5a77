//! Many nodes, proven: processes of this binary on one PostgreSQL database (`serve
//! --no-workers` for the pages and webhooks, `worker`s for the jobs) against one sandbox.
//! While catalogs export and orders come in on two workers, one is SIGKILLed holding jobs,
//! and its supervisor starts it again. Then every job has run to its end
//! (those the killed worker held once more, and no other twice), no offer, product or shop
//! order is missing or made twice, and the sandbox saw no Mirakl call budget exceeded.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use domain::JobId;
use marketbridge::fleet::{Fleet, FleetOptions, MARKETPLACE, Seller};
use storage::JobStatus;
use sync::{Budgets, OrderConfig};
use uuid::Uuid;

const SELLERS: usize = 3;
/// The demo store's size: about 120 of its items go live on the marketplace.
const PRODUCTS: u64 = 300;
const ORDERS: usize = 30;
/// Enough stock in the shop for every order.
const STOCK: i64 = 100_000;
/// Beyond this a wait is taken for stuck and the test fails.
const LIMIT: Duration = Duration::from_secs(300);

/// Waits (looking every 50 ms) until `done`, or fails the test after [`LIMIT`].
async fn until(what: &str, done: impl AsyncFnMut() -> bool) {
    assert!(eventually(done).await, "{what}: not within {LIMIT:?}");
}

/// Whether `done` comes true within [`LIMIT`] (looked at every 50 ms).
async fn eventually(mut done: impl AsyncFnMut() -> bool) -> bool {
    let started = Instant::now();
    while !done().await {
        if started.elapsed() > LIMIT {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

async fn jobs(fleet: &Fleet, status: JobStatus) -> Vec<storage::Job> {
    fleet.storage.jobs_in_status(status, 100_000).await.unwrap()
}

/// The running jobs and the workers holding them.
async fn owners(fleet: &Fleet) -> Vec<(JobId, Uuid)> {
    fleet.storage.running_job_owners().await.unwrap()
}

/// The first worker (its id as a lease owner) seen holding a job that is none of `known`.
async fn newcomer_owner(fleet: &Fleet, known: &HashSet<Uuid>) -> Uuid {
    let mut found = None;
    until("a new worker holds a job", async || {
        found = owners(fleet)
            .await
            .into_iter()
            .map(|(_, owner)| owner)
            .find(|owner| !known.contains(owner));
        found.is_some()
    })
    .await;
    found.expect("seen above")
}

/// Sets the shop stock of every item live on the seller's marketplace store to [`STOCK`] and
/// waits until the offers show it.
async fn stock_up(fleet: &Fleet, seller: &Seller) {
    let offered = fleet.offered_skus(seller);
    let rows = fleet
        .storage
        .catalog_page(seller.workspace.id, None, 100_000, false)
        .await
        .unwrap();
    for row in rows
        .iter()
        .filter(|r| offered.contains(&r.sku) && r.item().unwrap().stock.managed)
    {
        fleet.sandbox.woo_set_stock(
            &seller.store,
            row.shop_variation_id.unwrap_or(row.shop_product_id),
            STOCK,
        );
    }
    until("the offers show the new stock", async || {
        let offers = fleet
            .sandbox
            .marketplace_offers(MARKETPLACE, seller.shop_id);
        offers.iter().all(|o| {
            let managed = rows
                .iter()
                .find(|r| o["shop_sku"] == r.sku.as_str())
                .is_some_and(|r| r.item().unwrap().stock.managed);
            !managed || o["quantity"] == STOCK
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_on_postgres_run_every_job_once_through_a_sigkill() {
    let mut fleet = Fleet::start(FleetOptions {
        admin_url: storage::testing::test_postgres_url(),
        database_prefix: storage::testing::DATABASE_PREFIX,
        binary: env!("CARGO_BIN_EXE_marketbridge").into(),
        // Mirakl's budgets on both sides, a minute lasting 0.6 s.
        budgets: Budgets::scaled(0.01),
        orders: OrderConfig {
            poll_interval: Duration::from_secs(1),
            in_doubt_after: Duration::ZERO,
            ..OrderConfig::default()
        },
        concurrency: 4,
        // A killed worker's jobs run elsewhere 3 s after its last heartbeat.
        lease_seconds: 3,
    })
    .await
    .expect("the fleet starts");

    // The first seller's catalog goes live, with stock for every order.
    let mut worker = fleet.start_worker().unwrap();
    let first = fleet.add_seller(0, PRODUCTS).await.unwrap();
    until("the first seller's export", async || {
        fleet.settled(&first).await.unwrap()
    })
    .await;
    stock_up(&fleet, &first).await;

    // Two more sellers' exports and the first seller's orders, at once. The first worker's
    // jobs are told by their lease owner while it still runs alone; a second worker joins.
    let mut sellers = vec![first.clone()];
    for n in 1..SELLERS {
        sellers.push(fleet.add_seller(n, PRODUCTS).await.unwrap());
    }
    let placed = fleet
        .sandbox
        .mmp_place_orders(MARKETPLACE, first.shop_id, ORDERS, &[])
        .expect("orders placed");
    let mut victim = newcomer_owner(&fleet, &HashSet::new()).await;
    fleet.start_worker().unwrap();
    let second = newcomer_owner(&fleet, &HashSet::from([victim])).await;

    // Both at work, the first is SIGKILLed while it holds jobs (should it have none at that
    // moment, its supervisor starts it again, and it is killed again later).
    let mut known = HashSet::from([victim, second]);
    let mut held: HashSet<JobId> = HashSet::new();
    for _ in 0..10 {
        until("the worker to kill holds a job", async || {
            owners(&fleet).await.iter().any(|(_, o)| *o == victim)
        })
        .await;
        fleet.kill_worker(worker).unwrap();
        held = owners(&fleet)
            .await
            .into_iter()
            .filter(|(_, o)| *o == victim)
            .map(|(id, _)| id)
            .collect();
        if !held.is_empty() {
            break;
        }
        worker = fleet.start_worker().unwrap();
        victim = newcomer_owner(&fleet, &known).await;
        known.insert(victim);
    }
    assert!(
        !held.is_empty(),
        "the worker was never killed holding a job"
    );
    // Its supervisor starts it again: two workers, as before.
    fleet.start_worker().unwrap();
    assert_eq!(fleet.running_workers().len(), 2);

    for seller in &sellers[1..] {
        until("the later sellers' exports", async || {
            fleet.settled(seller).await.unwrap()
        })
        .await;
    }
    until("every order in the shop and accepted", async || {
        let made = fleet.shop_orders_per_mirakl_order(&first);
        placed.iter().all(|id| made.contains_key(id))
            && placed.iter().all(|id| {
                fleet.sandbox.mmp_order(MARKETPLACE, id).unwrap()["order_state"] == "SHIPPING"
            })
    })
    .await;
    until(
        "the jobs the killed worker held have run to their end",
        async || {
            let done: HashSet<JobId> = jobs(&fleet, JobStatus::Done)
                .await
                .into_iter()
                .map(|j| j.id)
                .collect();
            held.is_subset(&done)
        },
    )
    .await;

    // Every job once: none dead, and none but those cut by the kill run a second time.
    assert!(jobs(&fleet, JobStatus::Dead).await.is_empty());
    let done = jobs(&fleet, JobStatus::Done).await;
    let again: Vec<(JobId, &str, i32)> = done
        .iter()
        .filter(|j| j.attempts > 1)
        .map(|j| (j.id, j.flow.as_str(), j.attempts))
        .collect();
    assert!(
        again.iter().all(|(id, _, _)| held.contains(id)),
        "jobs run more than once that the killed worker did not hold: {again:?} (held {held:?})"
    );
    for id in &held {
        let job = done.iter().find(|j| j.id == *id).unwrap();
        assert_eq!(job.attempts, 2, "{} ({})", job.id, job.flow);
    }

    // Nothing lost, nothing twice: every item on Connect, every offer the connector counts
    // live on the marketplace and no other, each order once in the shop, accepted once. The
    // orders' stock changes are exported again first: until then an offer may be on its way.
    // The stock the orders took is exported while they come in, so an offer can be on its
    // way again for a moment: every seller is looked at until all are whole at once, and a
    // loss or a double, which never mends, fails after the limit with what was seen.
    fleet.sandbox.settle_webhooks().await;
    let mut seen = Vec::new();
    let whole = eventually(async || {
        seen.clear();
        for seller in &sellers {
            let settled = fleet.settled(seller).await.unwrap();
            let tally = fleet.tally(seller).await.unwrap();
            seen.push((seller.n, settled, tally));
        }
        seen.iter()
            .all(|(_, settled, tally)| *settled && tally.complete())
    })
    .await;
    assert!(whole, "(seller, settled, tally): {seen:?}");
    for (n, _, tally) in &seen {
        assert!(tally.marketplace_offers > 50, "seller {n}: {tally:?}");
    }
    let made = fleet.shop_orders_per_mirakl_order(&first);
    let twice: Vec<_> = made.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "orders made more than once: {twice:?}");
    assert_eq!(made.len(), ORDERS);
    assert_eq!(fleet.sandbox.call_count("mmp.or21.repeated"), 0);

    // Three processes shared Mirakl's budgets: the sandbox saw none exceeded.
    assert!(fleet.sandbox.call_count("mmp.of01") > 0);
    assert_eq!(fleet.sandbox.call_count("budget.exceeded"), 0);

    fleet.stop().await.unwrap();
}
