//! The job queue as the worker runs it: jobs stored by the earlier release still run, and a
//! stored job that no longer reads goes to the dead letter with a message that names it.

use serde_json::json;
use storage::{JobStatus, NewJob};
use test_support::{TestApp, Visitor};

fn stored(ws: domain::WorkspaceId, flow: &str, payload: serde_json::Value) -> NewJob {
    NewJob {
        workspace_id: Some(ws),
        flow: flow.to_owned(),
        payload,
        dedupe_key: None,
        lane: None,
        run_at_ms: 0,
        max_attempts: 10,
    }
}

#[tokio::test]
async fn a_job_that_no_longer_reads_is_dead_lettered_naming_its_flow() {
    let app = TestApp::spawn().await;
    app.sign_up(&Visitor::new(), "shop@example.com").await;
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let unreadable = app
        .storage()
        .enqueue_job(&stored(ws, "channel_export", json!({ "channel": "gone" })))
        .await
        .unwrap()
        .unwrap();
    let unknown = app
        .storage()
        .enqueue_job(&stored(ws, "teleport", json!({})))
        .await
        .unwrap()
        .unwrap();
    app.drain_jobs().await;
    for (id, flow) in [(unreadable, "channel_export"), (unknown, "teleport")] {
        let job = app.storage().get_job(id).await.unwrap().unwrap();
        assert_eq!((job.status, job.attempts), (JobStatus::Dead, 1), "{flow}");
        let error = job.last_error.unwrap();
        assert!(error.contains(flow), "{error}");
        assert!(error.contains("dead letter"), "{error}");
    }
}

#[tokio::test]
async fn a_read_queued_as_the_earlier_release_stored_it_still_runs() {
    let app = TestApp::spawn().await;
    app.onboarded(&Visitor::new(), "shop@example.com").await;
    app.settle().await;
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let runs_before = app.storage().recent_sync_runs(ws, 100).await.unwrap().len();
    let id = app
        .storage()
        .enqueue_job(&stored(ws, "catalog_read", json!({ "full": true })))
        .await
        .unwrap()
        .unwrap();
    app.settle().await;
    let job = app.storage().get_job(id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Done);
    let runs = app.storage().recent_sync_runs(ws, 100).await.unwrap();
    assert!(
        runs.len() > runs_before && runs.iter().any(|r| r.flow == "catalog_read"),
        "the read ran and the exports followed it"
    );
}

/// A job that runs longer than its lease keeps it: the worker renews it while the job runs, so
/// the reaper does not hand a long job (a poll paging through a thousand orders) to a second
/// worker while the first is still at it.
#[tokio::test]
async fn a_job_running_past_its_lease_keeps_it() {
    let app = TestApp::spawn().await;
    app.sign_up(&Visitor::new(), "shop@example.com").await;
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let storage = app.storage().clone();
    let id = storage
        .enqueue_job(&stored(ws, "teleport", json!({})))
        .await
        .unwrap()
        .unwrap();
    let worker = uuid::Uuid::now_v7();
    let lease = std::time::Duration::from_millis(300);
    let claimed = storage
        .claim_job(worker, storage::now_ms(), lease.as_millis() as i64)
        .await
        .unwrap()
        .expect("the job claimed");
    assert_eq!(claimed.id, id);
    let first_lease = claimed.lease_until_ms.unwrap();

    // The work: wait until the lease it was claimed with has run out, then see whether the
    // reaper would take the job from it at that moment.
    let work = async {
        // (Bounded, so that a worker that never renews fails here rather than hangs.)
        for _ in 0..3000 {
            let lease_now = storage
                .get_job(id)
                .await
                .unwrap()
                .unwrap()
                .lease_until_ms
                .unwrap();
            if lease_now > first_lease {
                return storage.reap_expired_leases(first_lease + 1).await.unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the lease was never renewed");
    };
    let reaped = sync::worker::holding_lease(&storage, id, worker, lease, work).await;

    assert_eq!(reaped, 0, "the renewed lease outlasts the first");
    let job = storage.get_job(id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Running);
    assert!(
        storage
            .complete_job(id, worker, storage::now_ms())
            .await
            .unwrap()
    );
}

/// SIGTERM on a node: its worker claims nothing more, gives the job under way its grace
/// period, then stops it and hands it back to the queue, due at once and with the attempt not
/// counted, so another node runs it without waiting for the lease to expire.
#[tokio::test]
async fn a_stopping_worker_hands_back_a_job_that_does_not_end() {
    use std::sync::Arc;
    use tokio::sync::{Notify, watch};

    /// Tells when the job's body is dropped: the worker stopped it.
    struct Stopped(Arc<Notify>);
    impl Drop for Stopped {
        fn drop(&mut self) {
            self.0.notify_one();
        }
    }

    let app = TestApp::spawn().await;
    app.sign_up(&Visitor::new(), "shop@example.com").await;
    let ws = app.storage().list_workspace_ids().await.unwrap()[0];
    let storage = app.storage().clone();
    let id = storage
        .enqueue_job(&stored(ws, "teleport", json!({})))
        .await
        .unwrap()
        .unwrap();
    let worker = sync::Worker::new(
        storage.clone(),
        app.connector().flows.clone(),
        sync::WorkerConfig {
            shutdown_grace: std::time::Duration::from_millis(100),
            ..sync::WorkerConfig::default()
        },
    );
    let (started, stopped) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let (stop, shutdown) = watch::channel(false);
    let body = {
        let (started, stopped) = (started.clone(), stopped.clone());
        move |job: storage::Job| {
            let guard = Stopped(stopped.clone());
            if job.id == id {
                started.notify_one();
            }
            async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }
        }
    };
    let running = tokio::spawn(worker.run_jobs_with(shutdown, body));

    started.notified().await;
    assert_eq!(
        storage.get_job(id).await.unwrap().unwrap().status,
        JobStatus::Running
    );
    stop.send_replace(true);
    // A bound that turns a worker that never returns into a failure, not a measure of speed.
    tokio::time::timeout(std::time::Duration::from_secs(60), running)
        .await
        .expect("the worker returned after its grace period")
        .expect("the worker did not panic");
    stopped.notified().await;

    let job = storage.get_job(id).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.attempts, job.lease_until_ms),
        (JobStatus::Queued, 0, None),
        "queued again, its lease gone, the attempt not counted"
    );
    let next = storage
        .claim_job(uuid::Uuid::now_v7(), storage::now_ms(), 60_000)
        .await
        .unwrap()
        .expect("another worker takes it at once");
    assert_eq!(next.id, id);
}
