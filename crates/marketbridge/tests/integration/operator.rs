//! What an operator runs on call, on both engines: `marketbridge status`, `marketbridge jobs
//! list|retry|drop` (called in-process, as the binary calls them) and `/readyz`.

use clap::Parser as _;
use marketbridge::cli::{Cli, Command, JobsCommand};
use marketbridge::operator::{self, DeadJobTarget};
use serde_json::json;
use storage::{DeadJobsFilter, Engine, JobStatus, NewJob, Storage};
use test_support::{TestApp, Visitor};

fn never_runs(ws: domain::WorkspaceId, flow: &str) -> NewJob {
    NewJob {
        workspace_id: Some(ws),
        flow: flow.to_owned(),
        payload: json!({ "no": "such job" }),
        dedupe_key: None,
        lane: None,
        run_at_ms: 0,
        max_attempts: 5,
    }
}

/// Two dead jobs, as a worker leaves jobs it cannot run, and the database opened as the
/// operator's commands open it: with the database's address only (they need no secret key).
async fn app_with_dead_jobs(engine: Engine) -> (TestApp, Storage, domain::JobId, domain::JobId) {
    let app = TestApp::spawn_on(engine).await;
    app.sign_up(&Visitor::new(), "shop@example.com").await;
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let teleport = app
        .storage()
        .enqueue_job(&never_runs(ws, "teleport"))
        .await
        .unwrap()
        .unwrap();
    let export = app
        .storage()
        .enqueue_job(&never_runs(ws, "channel_export"))
        .await
        .unwrap()
        .unwrap();
    app.drain_jobs().await;
    let storage = marketbridge::cli::operator_storage(marketbridge::config::ServerArgs {
        database_url: Some(app.database_url().to_owned()),
        ..Default::default()
    })
    .await
    .expect("the operator opens the database");
    (app, storage, teleport, export)
}

async fn dead_jobs_are_seen_retried_and_dropped(engine: Engine) {
    let (_app, storage, teleport, export) = app_with_dead_jobs(engine).await;
    let now = storage::now_ms();

    let status = operator::status(&storage, now).await.unwrap();
    let text = status.to_text();
    assert!(text.contains("Dead jobs: 2"), "{text}");
    assert!(text.contains("teleport"), "{text}");
    let status = status.to_json();
    assert_eq!(status["dead_jobs"], 2, "{status}");
    let teleports: Vec<_> = status["queue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["flow"] == "teleport")
        .collect();
    assert_eq!(teleports.len(), 1, "{status}");
    assert_eq!(
        (&teleports[0]["dead"], &teleports[0]["queued"]),
        (&json!(1), &json!(0))
    );

    let all = operator::list_dead_jobs(&storage, &DeadJobsFilter::default(), 50, now)
        .await
        .unwrap();
    let text = all.to_text();
    for id in [teleport, export] {
        assert!(text.contains(&id.to_string()), "{text}");
    }
    assert!(
        text.contains("payload cannot be read"),
        "the error says why: {text}"
    );
    let only_teleports = DeadJobsFilter {
        flow: Some("teleport".to_owned()),
        ..Default::default()
    };
    let listed = operator::list_dead_jobs(&storage, &only_teleports, 50, now)
        .await
        .unwrap()
        .to_json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], teleport.to_string());

    // Retried: queued, due now, all its attempts back, and the workers told.
    let mut events = storage.job_events();
    events.borrow_and_update();
    let said = operator::retry_dead_jobs(&storage, &DeadJobTarget::One(teleport), now)
        .await
        .unwrap();
    assert!(said.contains("queued again"), "{said}");
    assert!(events.has_changed().unwrap(), "the workers are woken");
    let job = storage.get_job(teleport).await.unwrap().unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Queued, 0));
    let status = operator::status(&storage, now).await.unwrap().to_json();
    assert_eq!(status["dead_jobs"], 1, "{status}");

    let again = operator::retry_dead_jobs(&storage, &DeadJobTarget::One(teleport), now)
        .await
        .unwrap_err()
        .to_string();
    assert!(again.contains("not dead"), "{again}");
    let unknown = operator::drop_dead_jobs(&storage, &DeadJobTarget::One(domain::JobId::new()))
        .await
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("there is no job"), "{unknown}");
    let live = operator::drop_dead_jobs(&storage, &DeadJobTarget::One(teleport))
        .await
        .unwrap_err()
        .to_string();
    assert!(live.contains("only dead jobs"), "{live}");

    // Dropped, all at once.
    let said = operator::drop_dead_jobs(&storage, &DeadJobTarget::All(DeadJobsFilter::default()))
        .await
        .unwrap();
    assert_eq!(said, "1 dead job(s) dropped\n");
    assert_eq!(storage.get_job(export).await.unwrap(), None);
    let empty = operator::list_dead_jobs(&storage, &DeadJobsFilter::default(), 50, now)
        .await
        .unwrap();
    assert_eq!(empty.to_text(), "No dead jobs.\n");
    let status = operator::status(&storage, now).await.unwrap().to_text();
    assert!(status.contains("Dead jobs: none"), "{status}");
    assert!(
        storage.get_job(teleport).await.unwrap().is_some(),
        "the retried job is untouched"
    );
}

#[tokio::test]
async fn dead_jobs_are_seen_retried_and_dropped_on_sqlite() {
    dead_jobs_are_seen_retried_and_dropped(Engine::Sqlite).await;
}

#[tokio::test]
async fn dead_jobs_are_seen_retried_and_dropped_on_postgres() {
    dead_jobs_are_seen_retried_and_dropped(Engine::Postgres).await;
}

async fn a_channel_that_needs_its_seller_shows_in_status(engine: Engine) {
    let app = TestApp::spawn_on(engine).await;
    app.sign_up(&Visitor::new(), "shop@example.com").await;
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let channel = app
        .storage()
        .create_channel(
            ws,
            &storage::NewChannel {
                kind: domain::ChannelKind::MiraklConnect,
                name: "Mirakl Connect".to_owned(),
                marketplace_code: None,
                instance_url: None,
            },
            storage::now_ms(),
        )
        .await
        .unwrap();
    app.storage()
        .update_channel_status(
            ws,
            channel.id,
            domain::ChannelStatus::ReauthorizationNeeded,
            storage::now_ms(),
        )
        .await
        .unwrap();
    let storage = operator::open_for_operator(app.database_url(), app.secret_key().clone())
        .await
        .unwrap();
    let status = operator::status(&storage, storage::now_ms()).await.unwrap();
    let text = status.to_text();
    assert!(text.contains("Needing attention: 1"), "{text}");
    assert!(text.contains(&ws.to_string()), "{text}");
    assert!(text.contains("connect it again"), "{text}");
    assert!(text.contains("Orders not in their shop: none"), "{text}");
    let json = status.to_json();
    assert_eq!(
        json["needing_attention"][0]["reason"], "reauthorization_needed",
        "{json}"
    );
    assert_eq!(json["needing_attention"][0]["id"], channel.id.to_string());
}

#[tokio::test]
async fn a_channel_that_needs_its_seller_shows_in_status_on_sqlite() {
    a_channel_that_needs_its_seller_shows_in_status(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_channel_that_needs_its_seller_shows_in_status_on_postgres() {
    a_channel_that_needs_its_seller_shows_in_status(Engine::Postgres).await;
}

/// The connector's web app on `storage` as it is (not migrated here), on a port of its own.
/// No call leaves it: the sandbox addresses only fill the settings.
async fn serve(storage: Storage) -> (url::Url, marketbridge::wiring::RunningServer) {
    use marketbridge::wiring;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let connector = wiring::build_connector(
        storage,
        wiring::ConnectorOptions {
            public_url: url.clone(),
            mas: wiring::sandbox_mas_config(&url, url.join("/oauth/mirakl/callback").unwrap()),
            marketplaces: Vec::new(),
            worker: sync::WorkerConfig::default(),
            token_refresh_margin: wiring::TOKEN_REFRESH_MARGIN,
            shop_health_interval: wiring::SHOP_HEALTH_INTERVAL,
            connect_url: wiring::sandbox_connect_url(&url),
            bigcommerce: wiring::sandbox_bigcommerce(&url),
            budgets: sync::Budgets::scaled(0.0),
            shop_http: shops::ShopHttp::new(shops::AddressPolicy::AllowPrivate),
            orders: sync::OrderConfig::default(),
        },
    );
    let server = wiring::spawn_server(listener, connector.app.clone())
        .await
        .unwrap();
    (url, server)
}

async fn ready_only_when_the_database_answers_with_every_migration(engine: Engine) {
    let database_url = storage::testing::fresh_database_url(engine).await;
    let key = storage::SecretKey::generate();
    let storage = Storage::connect(&database_url, key.clone()).await.unwrap();
    let (url, server) = serve(storage.clone()).await;
    let readyz = || {
        let url = url.join("/readyz").unwrap();
        async move {
            let answer = reqwest::get(url).await.unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        }
    };

    let (status, body) = readyz().await;
    assert_eq!(status, 503, "not migrated yet: {body}");
    assert!(body.contains("marketbridge migrate"), "{body}");
    let refused = operator::open_for_operator(&database_url, key.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("marketbridge migrate"), "{refused}");

    storage.migrate().await.unwrap();
    assert_eq!(readyz().await, (200, "ready".to_owned()));

    storage.close().await;
    let (status, body) = readyz().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body, "not ready: the database does not answer");
    server.stop().await;
}

#[tokio::test]
async fn ready_only_when_the_database_answers_with_every_migration_on_sqlite() {
    ready_only_when_the_database_answers_with_every_migration(Engine::Sqlite).await;
}

#[tokio::test]
async fn ready_only_when_the_database_answers_with_every_migration_on_postgres() {
    ready_only_when_the_database_answers_with_every_migration(Engine::Postgres).await;
}

#[tokio::test]
async fn a_missing_sqlite_file_is_not_created_by_an_operator_command() {
    let path = std::env::temp_dir().join(format!("mb-no-such-{}.db", uuid::Uuid::now_v7()));
    let url = format!("sqlite://{}", path.display());
    let error = operator::open_for_operator(&url, storage::SecretKey::generate())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("there is no database"), "{error}");
    assert!(!path.exists());
}

#[test]
fn dropping_or_retrying_every_dead_job_takes_an_explicit_all() {
    let parse = |args: &[&str]| {
        Cli::try_parse_from(std::iter::once("marketbridge").chain(args.iter().copied()))
    };
    for refused in [
        &["jobs", "drop"][..],
        &["jobs", "retry"],
        &["jobs", "drop", "--flow", "order_step"],
        &[
            "jobs",
            "retry",
            "0190a4a8-6c4e-7f55-8d55-0a9c1b2c3d4e",
            "--all",
        ],
        &["jobs", "list", "--limit", "0"],
    ] {
        assert!(parse(refused).is_err(), "{refused:?} must be refused");
    }
    let error = parse(&["jobs", "retry", "42; DROP TABLE jobs"])
        .unwrap_err()
        .to_string();
    assert!(error.contains("not a job id"), "{error}");

    let Ok(Cli {
        command: Command::Jobs {
            command: JobsCommand::Drop { target, .. },
        },
    }) = parse(&["jobs", "drop", "--all", "--flow", "order_step"])
    else {
        panic!("jobs drop --all --flow parses");
    };
    assert!(target.all);
    assert_eq!(target.flow.as_deref(), Some("order_step"));
    assert!(parse(&["status", "--json"]).is_ok());
}
