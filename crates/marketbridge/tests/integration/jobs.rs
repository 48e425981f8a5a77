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
