//! Running it as a service: metrics in Prometheus' text format on a listen address of their
//! own, and JSON logs that carry a request id and the workspace and no secret.
//!
//! The metrics recorder is the process's, so these tests look for families, labels and
//! counts above zero, never for exact totals.

use std::collections::BTreeSet;
use std::sync::Arc;

use clap::Parser as _;
use marketbridge::cli::{Cli, Command};
use prometheus_parse::{Scrape, Value};
use test_support::{Engine, LogCapture, TestApp, Visitor};

use crate::catalog::launch;
use crate::webhooks::delivery_of;

/// The scrape of `/metrics` at `addr`, read by a parser of the text format.
async fn scrape(addr: std::net::SocketAddr) -> Scrape {
    let response = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap()
}

/// The label sets of `family`'s samples whose value is of the kind `is_kind` accepts, with
/// a positive count (a counter's value, a histogram's `+Inf` bucket).
fn observed(
    scrape: &Scrape,
    family: &str,
    is_kind: fn(&Value) -> bool,
) -> Vec<std::collections::BTreeMap<String, String>> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == family && is_kind(&s.value))
        .filter(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) => *v > 0.0,
            Value::Histogram(buckets) => buckets.iter().any(|b| b.count > 0.0),
            _ => false,
        })
        .map(|s| {
            s.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .collect()
}

/// The label sets of the gauge `family`'s samples, whatever their value (a count read from
/// storage is often 0).
fn gauges(scrape: &Scrape, family: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == family && gauge(&s.value))
        .map(|s| {
            s.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .collect()
}

fn counter(v: &Value) -> bool {
    matches!(v, Value::Counter(_))
}

fn histogram(v: &Value) -> bool {
    matches!(v, Value::Histogram(_))
}

fn gauge(v: &Value) -> bool {
    matches!(v, Value::Gauge(_))
}

fn label_values(
    samples: &[std::collections::BTreeMap<String, String>],
    label: &str,
) -> BTreeSet<String> {
    samples
        .iter()
        .filter_map(|s| s.get(label).cloned())
        .collect()
}

#[tokio::test]
async fn a_scrape_has_every_family_after_a_launch_and_a_webhook() {
    let app = TestApp::spawn_with_budgets(Engine::Sqlite, 0.01).await;
    // A sampler, as the wiring registers those that read storage: it runs at each scrape.
    let mut connector = app.connector().clone();
    connector.samplers.push(Arc::new(|| async {
        metrics::gauge!("marketbridge_test_sampled").set(1.0);
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = marketbridge::wiring::spawn_metrics_server(listener, &connector)
        .await
        .unwrap();

    let s = launch(&app).await;
    app.run_until_idle().await;
    let (url, secret) = app.shop_webhook(s.ws).await;
    let product = app
        .storage()
        .catalog_page(s.ws, None, 1, false)
        .await
        .unwrap()
        .remove(0)
        .shop_product_id;
    let body = format!(r#"{{"id":{product}}}"#);
    let answer = delivery_of("product.updated", &url, &secret, &body, "metrics-1")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    app.run_until_idle().await;
    // The launch's calls are spaced by the jobs themselves, so whether one waited is chance;
    // two P41 slots asked for at once (9 s apart at this scale) are a wait for sure.
    let catalog = &app.connector().flows.catalog;
    for _ in 0..2 {
        catalog
            .take_budget_for(s.ws, s.marketplace, sync::budgets::Operation::ProductImport)
            .await
            .unwrap();
    }

    let scrape = scrape(server.addr).await;

    let jobs = observed(&scrape, "marketbridge_jobs_started_total", counter);
    let flows = label_values(&jobs, "flow");
    assert!(flows.len() >= 3, "job runs by flow: {flows:?}");
    let durations = observed(&scrape, "marketbridge_jobs_duration_seconds", histogram);
    assert!(
        label_values(&durations, "outcome").contains("done"),
        "{durations:?}"
    );
    assert!(!label_values(&durations, "flow").is_empty());

    let calls = observed(&scrape, "marketbridge_mirakl_calls_total", counter);
    let operations = label_values(&calls, "operation");
    for op in ["OF01", "OF04", "connect.products.post", "mas.token"] {
        assert!(operations.contains(op), "{op} not in {operations:?}");
    }
    assert!(
        label_values(&calls, "status")
            .iter()
            .all(|s| s == "error" || (s.len() == 3 && s.chars().all(|c| c.is_ascii_digit()))),
        "statuses are HTTP codes: {calls:?}"
    );
    assert_eq!(
        label_values(&calls, "api"),
        BTreeSet::from(["connect", "marketplace", "mas"].map(String::from))
    );
    assert!(
        !observed(
            &scrape,
            "marketbridge_mirakl_call_duration_seconds",
            histogram
        )
        .is_empty()
    );

    let waits = observed(&scrape, "marketbridge_budget_wait_seconds", histogram);
    assert!(
        waits
            .iter()
            .any(|l| l.get("cause").map(String::as_str) == Some("budget")
                && l.get("operation").map(String::as_str) == Some("P41")),
        "the second P41 slot was waited for: {waits:?}"
    );

    let shop_calls = observed(&scrape, "marketbridge_shop_calls_total", counter);
    assert!(
        label_values(&shop_calls, "platform").contains("woocommerce"),
        "{shop_calls:?}"
    );

    let received = observed(&scrape, "marketbridge_webhooks_received_total", counter);
    assert!(
        received
            .iter()
            .any(|l| l.get("receipt").map(String::as_str) == Some("recorded")
                && l.get("platform").map(String::as_str) == Some("woocommerce")),
        "{received:?}"
    );
    let lag = observed(&scrape, "marketbridge_webhook_lag_seconds", histogram);
    assert!(label_values(&lag, "subject").contains("product"), "{lag:?}");

    assert!(!observed(&scrape, "marketbridge_test_sampled", gauge).is_empty());
    // The gauges read from storage at each scrape.
    let jobs = gauges(&scrape, "marketbridge_jobs");
    assert_eq!(
        label_values(&jobs, "state"),
        BTreeSet::from(["dead", "queued", "running"].map(String::from)),
        "{jobs:?}"
    );
    assert!(
        label_values(&jobs, "flow").contains("order_step"),
        "every flow, with or without jobs: {jobs:?}"
    );
    for family in [
        "marketbridge_oldest_order_not_in_shop_age_seconds",
        "marketbridge_catalog_items_in_error",
    ] {
        assert_eq!(gauges(&scrape, family).len(), 1, "{family}");
    }
    let expiries = observed(
        &scrape,
        "marketbridge_token_expiry_timestamp_seconds",
        gauge,
    );
    let channels = label_values(&expiries, "channel");
    for channel in [s.connect, s.marketplace] {
        assert!(channels.contains(&channel.to_string()), "{expiries:?}");
    }
    let expiry = scrape
        .samples
        .iter()
        .find(|x| {
            x.metric == "marketbridge_token_expiry_timestamp_seconds"
                && x.labels.get("channel") == Some(&s.connect.to_string())
        })
        .unwrap();
    let prometheus_parse::Value::Gauge(at) = expiry.value else {
        panic!("a gauge")
    };
    assert!(
        at > storage::now_ms() as f64 / 1000.0,
        "the token of a channel just launched has not expired: {at}"
    );
    for family in [
        "marketbridge_jobs_duration_seconds",
        "marketbridge_mirakl_calls_total",
        "marketbridge_budget_wait_seconds",
        "marketbridge_webhook_lag_seconds",
    ] {
        assert!(
            scrape.docs.get(family).is_some_and(|help| !help.is_empty()),
            "{family} has a help text"
        );
    }
    // Bounded labels: no workspace, shop or order id anywhere.
    let ids = [
        s.ws.to_string(),
        s.connect.to_string(),
        s.marketplace.to_string(),
    ];
    // (Token expiry is per channel, as an operator alerts per channel.)
    for sample in scrape
        .samples
        .iter()
        .filter(|x| x.metric != "marketbridge_token_expiry_timestamp_seconds")
    {
        for (_, value) in sample.labels.iter() {
            assert!(!ids.contains(value), "{} has an id label", sample.metric);
        }
    }
    server.stop().await;
}

#[test]
fn metrics_listen_is_accepted_by_serve_worker_and_demo() {
    let addr: std::net::SocketAddr = "127.0.0.1:9464".parse().unwrap();
    for command in ["serve", "worker"] {
        let cli = Cli::try_parse_from([
            "marketbridge",
            command,
            "--metrics-listen",
            "127.0.0.1:9464",
        ])
        .unwrap();
        let (Command::Serve { server, .. } | Command::Worker { server }) = cli.command else {
            panic!("{command} parsed as another command");
        };
        assert_eq!(server.metrics_listen, Some(addr), "{command}");
    }
    let cli = Cli::try_parse_from(["marketbridge", "demo", "--metrics-listen", "127.0.0.1:9464"])
        .unwrap();
    let Command::Demo { metrics_listen, .. } = cli.command else {
        panic!("demo parsed as another command");
    };
    assert_eq!(metrics_listen, Some(addr));
    assert!(
        Cli::try_parse_from([
            "marketbridge",
            "serve",
            "--metrics-listen",
            "not-an-address"
        ])
        .is_err()
    );
}

/// The JSON lines of a journey: every line an object; each line logged while serving one of
/// the connector's requests carries its request id, and each line of a job the job's id and
/// workspace; the signed-in pages' lines carry the workspace; no line holds a secret.
#[test]
fn json_logs_carry_request_ids_and_workspaces_and_no_secret() {
    let capture = LogCapture::new();
    let subscriber = marketbridge::telemetry::subscriber(
        marketbridge::telemetry::LogFormat::Json,
        tracing_subscriber::EnvFilter::new("debug"),
        capture.clone(),
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (secrets, echoed) = runtime.block_on(async {
        let app = TestApp::spawn().await;
        let v = Visitor::new();
        app.onboarded(&v, "json@example.com").await;
        app.settle().await;
        let ws = app.storage().list_workspace_ids().await.unwrap()[0];
        let (url, webhook_secret) = app.shop_webhook(ws).await;
        delivery_of(
            "product.updated",
            &url,
            &webhook_secret,
            r#"{"id":1}"#,
            "json-1",
        )
        .send()
        .await
        .unwrap();
        app.settle().await;
        // A request id the caller gives comes back, and is the one logged.
        let answer = reqwest::Client::new()
            .get(app.url("/healthz"))
            .header("x-request-id", "caller-chosen-id")
            .send()
            .await
            .unwrap();
        let echoed = answer.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let channel = app.storage().list_channels(ws).await.unwrap()[0].id;
        let tokens = app
            .storage()
            .load_tokens(ws, channel)
            .await
            .unwrap()
            .unwrap()
            .tokens;
        let shop = app.storage().get_shop(ws).await.unwrap().unwrap();
        let sealed = app.storage().shop_secrets(ws, shop.id).await.unwrap();
        let secrets = vec![
            tokens.access_token.expose().to_owned(),
            tokens.refresh_token.unwrap().expose().to_owned(),
            sealed.consumer_key.expose().to_owned(),
            sealed.consumer_secret.expose().to_owned(),
            webhook_secret,
            "sandbox-client-secret".to_owned(),
            test_support::flows::SELLER_PASSWORD.to_owned(),
            test_support::flows::MAS_PASSWORD.to_owned(),
        ];
        (secrets, echoed)
    });
    drop(runtime);
    let logs = capture.contents();
    assert_eq!(echoed, "caller-chosen-id");

    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let in_span = |line: &serde_json::Value, name: &str| -> Option<serde_json::Value> {
        line["spans"]
            .as_array()?
            .iter()
            .find(|span| span["name"] == name)
            .cloned()
    };
    let mut requests = 0;
    let mut with_workspace = 0;
    let mut jobs = 0;
    for line in &lines {
        assert!(line["level"].is_string(), "{line}");
        if let Some(span) = in_span(line, "request") {
            requests += 1;
            assert!(
                span["request_id"].as_str().is_some_and(|id| !id.is_empty()),
                "a request's line without its id: {line}"
            );
            with_workspace += usize::from(span["workspace"].is_string());
        }
        if let Some(span) = in_span(line, "job") {
            jobs += 1;
            assert!(span["request_id"].is_string(), "{line}");
            assert!(span["workspace"].is_string(), "{line}");
        }
    }
    assert!(requests > 0 && jobs > 0, "requests {requests}, jobs {jobs}");
    assert!(with_workspace > 0, "no request line carries the workspace");
    assert!(
        lines.iter().any(|line| in_span(line, "request")
            .is_some_and(|span| span["request_id"] == "caller-chosen-id")),
        "the caller's request id is the one logged"
    );
    for secret in secrets {
        let probe = &secret[secret.len().saturating_sub(16)..];
        if let Some(line) = logs.lines().find(|l| l.contains(probe)) {
            panic!("a secret ending in …{probe} is in the logs:\n{line}");
        }
    }
}
