//! Replicas acting on the same deployments: one job per running deployment, also
//! behind a slow engine that fails some answers.

use super::{cancel, wait_until, STREAM, WINDOWED};
use sluice_tests::engine::local_engine;
use sluice_tests::{json, TestApp};

#[tokio::test]
async fn two_replicas_start_a_deployment_once() {
    let Some(engine) = local_engine() else { return };
    let first = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 100;
    })
    .await;
    let second = first.replica().await;
    let owner = first.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "once", WINDOWED).await;
    let name = format!("once-{}", uuid::Uuid::new_v4().simple());
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": name, "job_id": job }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    let running = wait_until(&owner, &path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    // Both reconcilers kept working on it for a while; still exactly one engine job.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let flink = engine_client::EngineClient::new(&engine.rest_url).unwrap();
    let mine: Vec<_> = flink
        .jobs_overview()
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.name == name && !j.state.is_terminal())
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(running["engine_job_id"], mine[0].jid.as_str());
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    assert_eq!(
        events.iter().filter(|e| e["kind"] == "submitted").count(),
        1,
        "{events:?}"
    );
    let mut on_second = owner.clone();
    on_second.base = second.base.clone();
    on_second
        .post(&format!("{path}/stop"), json!({ "mode": "CANCEL" }))
        .await
        .expect(202);
    wait_until(&owner, &path, 60, "CANCELLED", |b| {
        b["status"] == "CANCELLED"
    })
    .await;
}

/// The engine's jobs named `name` (the runner names a job after its deployment) that
/// have not ended, as Flink itself lists them.
async fn live_jobs(flink: &engine_client::EngineClient, name: &str) -> Vec<String> {
    flink
        .jobs_overview()
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.name == name && !j.state.is_terminal())
        .map(|j| j.jid)
        .collect()
}

// One story: ten rounds of operations, each checked against the state the last left, so it reads top to bottom.
#[tokio::test]
async fn two_replicas_behind_a_slow_failing_engine_keep_one_job_per_running_deployment() {
    let Some(engine) = local_engine() else { return };
    let proxy = sluice_tests::engine::SlowFaultyEngine::start(&engine.rest_url).await;
    let first = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.default_cluster_url = proxy.url.clone();
        c.engine.reconcile_interval_ms = 300;
        c.engine.lease_ms = 1000;
    })
    .await;
    let second = first.replica().await;
    let owner = first.account("Acme").await;
    let mut on_second = owner.clone();
    on_second.base = second.base.clone();
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "flaky", STREAM).await;
    let mut deployments = Vec::new();
    for i in 0..2 {
        let name = format!("flaky-{i}-{}", uuid::Uuid::new_v4().simple());
        let id = owner
            .post(
                &format!("/projects/{project}/deployments"),
                json!({ "name": name, "job_id": job }),
            )
            .await
            .expect(201)
            .id();
        deployments.push((format!("/projects/{project}/deployments/{id}"), name));
    }
    // Version 2 (the same stream, so either restores from the other's savepoints).
    let job_path = format!("/projects/{project}/jobs/{job}");
    let etag = owner.get(&job_path).await.expect(200).etag();
    owner
        .patch_if(
            &job_path,
            &etag,
            json!({ "content": { "kind": "sql", "sql": format!("-- v2\n{STREAM}") } }),
        )
        .await
        .expect(200);
    owner
        .post(
            &format!("/projects/{project}/jobs/{job}/versions"),
            json!({ "message": "v2" }),
        )
        .await
        .expect(201);
    let start = |mode: &str| {
        (
            "start",
            json!({ "restore_mode": mode, "allow_empty_state": true }),
        )
    };
    let suspend = ("stop", json!({ "mode": "SUSPEND" }));
    let kill = ("stop", json!({ "mode": "CANCEL" }));
    let upgrade = |v: i64| ("upgrade", json!({ "version": v }));
    // Ten rounds of an operation on each of two deployments (two, so the cluster's
    // slots are left for the tests running beside this one), through alternating
    // replicas; after each round, what each should have become (status, and the
    // version it runs).
    let rounds = [
        [start("NONE"), start("NONE")],
        [upgrade(2), suspend.clone()],
        [suspend.clone(), start("LATEST_STATE")],
        [start("LATEST_STATE"), upgrade(2)],
        [kill.clone(), suspend.clone()],
        [start("NONE"), start("LATEST_STATE")],
        [upgrade(1), kill.clone()],
        [suspend.clone(), start("NONE")],
        [start("LATEST_STATE"), upgrade(1)],
        [kill.clone(), kill.clone()],
    ];
    let expected: [[(&str, i64); 2]; 10] = [
        [("RUNNING", 1), ("RUNNING", 1)],
        [("RUNNING", 2), ("SUSPENDED", 0)],
        [("SUSPENDED", 0), ("RUNNING", 1)],
        [("RUNNING", 2), ("RUNNING", 2)],
        [("CANCELLED", 0), ("SUSPENDED", 0)],
        [("RUNNING", 2), ("RUNNING", 2)],
        [("RUNNING", 1), ("CANCELLED", 0)],
        [("SUSPENDED", 0), ("RUNNING", 2)],
        [("RUNNING", 1), ("RUNNING", 1)],
        [("CANCELLED", 0), ("CANCELLED", 0)],
    ];
    let flink = engine_client::EngineClient::new(&engine.rest_url).unwrap();
    for (round, (ops, wanted)) in rounds.iter().zip(expected).enumerate() {
        for (i, ((action, body), (path, _))) in ops.iter().zip(&deployments).enumerate() {
            let via = if (round + i) % 2 == 0 {
                &owner
            } else {
                &on_second
            };
            via.post(&format!("{path}/{action}"), body.clone())
                .await
                .expect(202);
        }
        for ((path, name), (status, version)) in deployments.iter().zip(wanted) {
            let settled = wait_until(&owner, path, 120, status, |b| {
                b["status"] == status
                    && b["pending_version"].is_null()
                    && b["submission_pending"] == false
                    && (status != "RUNNING" || b["job_version"] == version)
            })
            .await;
            let live = live_jobs(&flink, name).await;
            if status == "RUNNING" {
                assert_eq!(
                    live,
                    vec![settled["engine_job_id"].as_str().unwrap().to_owned()],
                    "round {round}: exactly the deployment's own job runs"
                );
            } else {
                assert!(
                    live.is_empty(),
                    "round {round}: {name} is {status} yet runs {live:?}"
                );
            }
        }
    }
    assert!(
        proxy.faults.load(std::sync::atomic::Ordering::SeqCst) >= 3,
        "the proxy failed some submissions and stops"
    );
    for (path, _) in &deployments {
        if owner.get(path).await.expect(200).body["status"] == "RUNNING" {
            cancel(&owner, path).await;
        }
    }
}
