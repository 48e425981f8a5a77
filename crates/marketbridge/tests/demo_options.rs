//! `marketbridge demo --connected` and `--sandbox URL` (issue 14 item 9): the demo seller
//! onboarded over HTTP once and reused after, and the demo wired to a sandbox started as a plain
//! `marketbridge sandbox` is, surviving a restart of the connector. The demos listen on port 0
//! and keep their data in a temporary directory.
//!
//! No customers buy on their own (`orders_every` zero) and nothing waits on the clock: the tests
//! run the connector's jobs themselves, with the sandbox's imports and webhooks settled, until
//! what they check holds, bounded by a number of passes.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use domain::ChannelKind;
use marketbridge::demo::{Demo, DemoOptions, DemoSandbox, SELLER_EMAIL, SELLER_PASSWORD};
use marketbridge::onboarding::{Outcome, SellerWorkspace};
use marketbridge::wiring::{RunningServer, bind, spawn_server};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};
use test_support::Visitor;
use url::Url;

const ANY_PORT: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
const MARKETPLACE: &str = "demo-marketplace";
const STORE_ID: i64 = 2001;
/// How many passes of the connector's work a test runs at most before it gives up.
const PASSES: usize = 200;

/// A directory of its own, removed when dropped.
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("marketbridge-demo-{}", uuid::Uuid::new_v4()));
        Self(path)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options(data_dir: &DataDir, sandbox: DemoSandbox, orders_every: Duration) -> DemoOptions {
    DemoOptions {
        data_dir: data_dir.0.clone(),
        connector_listen: ANY_PORT,
        sandbox,
        orders_every,
        connected: true,
    }
}

/// A sandbox as `marketbridge sandbox` starts it without a flag, served on port 0.
async fn plain_sandbox() -> (Sandbox, Url, RunningServer) {
    let listener = bind(ANY_PORT).await.unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let sandbox = Sandbox::new(SandboxConfig::new(url.clone()));
    let server = spawn_server(listener, sandbox.router()).await.unwrap();
    (sandbox, url, server)
}

/// Runs the demo connector's work until `done` holds, as `TestApp::settle` does: each pass
/// settles the sandbox's imports and webhooks, then runs every due job; when none was due, a
/// job the demo's own worker holds is waited for (by its job events, not by the clock), or,
/// with none running, the queued jobs are made due at once. Fails after `PASSES` passes.
async fn work_until(demo: &Demo, sandbox: &Sandbox, what: &str, mut done: impl FnMut() -> bool) {
    let storage = &demo.connector.storage;
    let mut events = storage.job_events();
    for _ in 0..PASSES {
        if done() {
            return;
        }
        sandbox.settle_imports();
        sandbox.settle_webhooks().await;
        // Seen before looking, so a job ending from here on wakes the wait below.
        events.borrow_and_update();
        if demo.connector.worker.tick().await.expect("worker pass") > 0 {
            continue;
        }
        let running = storage
            .unfinished_jobs()
            .await
            .iter()
            .any(|job| job.status == storage::JobStatus::Running);
        if running {
            events.changed().await.expect("the storage's job events");
        } else {
            storage.make_queued_jobs_due().await;
        }
    }
    assert!(
        done(),
        "{what} after {PASSES} passes of the connector's work"
    );
}

/// Whether the store has an offer live on the marketplace.
fn offers_live(sandbox: &Sandbox) -> bool {
    sandbox
        .marketplace_offers(MARKETPLACE, STORE_ID)
        .iter()
        .any(|offer| offer["active"] == true)
}

/// One round of a demo customer on the store, over the sandbox's HTTP control API as the
/// demo's customers buy: the store's live offers read from `sandbox/api/state`, then one order
/// of them placed. The order's id.
async fn customer_buys(sandbox_url: &Url) -> String {
    let http = mirakl::http_client();
    let state: Value = http
        .get(sandbox_url.join("sandbox/api/state").unwrap())
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .unwrap()
        .json()
        .await
        .unwrap();
    let live = state["offers"].as_array().into_iter().flatten().any(|m| {
        m["instance"] == MARKETPLACE
            && m["shops"].as_array().into_iter().flatten().any(|shop| {
                shop["shop_id"] == STORE_ID && shop["active_offers"].as_u64().unwrap_or(0) > 0
            })
    });
    assert!(live, "the sandbox's state shows store 2001's live offers");
    let url = sandbox_url
        .join(&format!("sandbox/api/mmp/{MARKETPLACE}/orders"))
        .unwrap();
    let response = http
        .post(url)
        .json(&json!({ "shop_id": STORE_ID, "count": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let answer: Value = response.json().await.unwrap();
    answer["order_ids"][0].as_str().unwrap().to_owned()
}

/// The seller's workspace: Connect and Demo Marketplace live, the demo store connected.
fn assert_onboarded(workspace: &SellerWorkspace, sandbox_url: &Url) {
    assert!(
        workspace.live(ChannelKind::MiraklConnect).is_some(),
        "{workspace:?}"
    );
    assert!(
        workspace.live(ChannelKind::Marketplace).is_some(),
        "{workspace:?}"
    );
    let shop = workspace.shop.as_ref().expect("a store connected");
    assert_eq!(
        shop.store_url,
        format!("{}woo/demo-shop", sandbox_url.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connected_onboards_the_demo_seller_once_and_reuses_the_account_after() {
    let data_dir = DataDir::new();
    let demo = Demo::start(options(
        &data_dir,
        DemoSandbox::Own(ANY_PORT),
        Duration::ZERO,
    ))
    .await
    .unwrap();
    let (outcome, workspace) = demo.seller.clone().expect("--connected onboards");
    assert!(matches!(outcome, Outcome::Onboarded(_)), "{outcome:?}");
    assert_onboarded(&workspace, &demo.sandbox_url);
    let banner = demo.banner();
    assert!(
        banner.contains(&format!("{SELLER_EMAIL} / {SELLER_PASSWORD}")),
        "{banner}"
    );

    let (again, workspace_again) = demo.connect_seller().await.unwrap();
    assert_eq!(again, Outcome::AlreadyThere(outcome.workspace()));
    assert_onboarded(&workspace_again, &demo.sandbox_url);
    let storage = &demo.connector.storage;
    assert_eq!(storage.list_workspace_ids().await.unwrap().len(), 1);
    assert_eq!(
        storage
            .list_channels(outcome.workspace())
            .await
            .unwrap()
            .len(),
        2
    );

    // The seller signs in with the printed login and finds the channels.
    let visitor = Visitor::new();
    let page = visitor
        .get(demo.connector_url.join("/sign-in").unwrap().as_str())
        .await;
    let page = visitor
        .submit(&page.form(
            "Sign in",
            &[("Email", SELLER_EMAIL), ("Password", SELLER_PASSWORD)],
        ))
        .await;
    assert_ne!(page.url.path(), "/sign-in", "{}", page.text());
    page.expect_text("Demo Marketplace");
    demo.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_on_a_plain_running_sandbox_sells_and_restarts_where_it_was() {
    let (sandbox, sandbox_url, sandbox_server) = plain_sandbox().await;
    let data_dir = DataDir::new();
    let running = || DemoSandbox::Running(sandbox_url.clone());

    // The authorizations on MAS went through: the sandbox took the demo's callback.
    let demo = Demo::start(options(&data_dir, running(), Duration::ZERO))
        .await
        .unwrap();
    let (outcome, workspace) = demo.seller.clone().unwrap();
    assert!(matches!(outcome, Outcome::Onboarded(_)));
    assert_onboarded(&workspace, &sandbox_url);
    assert_eq!(demo.sandbox_url, sandbox_url);

    // Once the connector has put the offers live, a customer buys over the control API.
    work_until(&demo, &sandbox, "store 2001's offers live", || {
        offers_live(&sandbox)
    })
    .await;
    assert!(sandbox.mmp_orders(MARKETPLACE, STORE_ID).is_empty());
    let bought = customer_buys(&sandbox_url).await;
    let orders = sandbox.mmp_orders(MARKETPLACE, STORE_ID);
    assert_eq!(orders.len(), 1, "a customer's order on store 2001");
    assert_eq!(orders[0]["order_id"], bought.as_str());
    demo.stop().await;

    // Started again on the same data dir: the seller as they were, and the tokens kept in
    // storage still open Mirakl, whose state the sandbox kept.
    let demo = Demo::start(options(&data_dir, running(), Duration::ZERO))
        .await
        .unwrap();
    let (again, workspace) = demo.seller.clone().unwrap();
    assert_eq!(again, Outcome::AlreadyThere(outcome.workspace()));
    assert_onboarded(&workspace, &sandbox_url);
    assert!(
        demo.banner().contains("From an earlier start"),
        "{}",
        demo.banner()
    );
    assert_eq!(
        demo.connector
            .storage
            .list_workspace_ids()
            .await
            .unwrap()
            .len(),
        1
    );

    let order = sandbox
        .mmp_place_orders(MARKETPLACE, STORE_ID, 1, &[])
        .unwrap()
        .remove(0);
    let marketplace = workspace
        .live(ChannelKind::Marketplace)
        .expect("the marketplace channel live");
    demo.connector
        .flows
        .orders
        .poll_now(workspace.id, marketplace)
        .await
        .unwrap();
    let state = || sandbox.mmp_order(MARKETPLACE, &order).unwrap()["order_state"].clone();
    work_until(
        &demo,
        &sandbox,
        "the restarted connector accepting the order",
        || state() != "WAITING_ACCEPTANCE",
    )
    .await;
    assert_ne!(state(), "REFUSED", "accepted, not refused");
    demo.stop().await;
    sandbox_server.stop().await;
}
