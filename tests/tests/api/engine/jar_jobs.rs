//! A streaming JAR job (`tests/java/streaming-counter`: numbers counted per key in
//! keyed state) on each engine version Sluice runs, Flink 2.3 and Flink 1.20: it runs,
//! takes a savepoint, is upgraded to a new version from one, suspended and resumed, and
//! every new run restores the savepoint it was meant to, as Flink itself reports, and
//! carries on counting from the counts found in it (the job's `carriedOver` gauge).

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use sluice_tests::engine::local_engine;
use sluice_tests::java::compiled_jar;
use sluice_tests::{json, Client};

use super::{cancel, on_the_engine, wait_until};

const ENTRY_CLASS: &str = "com.acme.jobs.StreamingCounter";

#[tokio::test]
async fn a_streaming_jar_job_savepoints_upgrades_and_resumes_with_its_state_on_flink_2_3() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    // A JAR job runs on a cluster of the account's own: the same engine, registered.
    let cluster = owner.own_cluster("own", &engine.rest_url).await;
    stateful_story(&owner, &cluster, &engine.rest_url).await;
}

#[tokio::test]
async fn a_streaming_jar_job_savepoints_upgrades_and_resumes_with_its_state_on_flink_1_20() {
    let Some(engine) = local_engine() else { return };
    let Some(url_1_20) = sluice_tests::engine::flink_1_20_url() else {
        return;
    };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let cluster = owner.flink_1_20_cluster(&url_1_20).await;
    stateful_story(&owner, &cluster, &url_1_20).await;
}

/// The JAR job's whole life on `cluster` (at `rest_url`). Should a step fail, the
/// deployment is still cancelled, so its job does not outlive the test on the shared
/// cluster.
async fn stateful_story(owner: &Client, cluster: &str, rest_url: &str) {
    let project = owner.project("p").await;
    let flink = engine_client::EngineClient::new(rest_url).unwrap();
    let artifact = owner
        .upload(
            &project,
            "streaming-counter.jar",
            compiled_jar("streaming-counter"),
        )
        .await
        .expect(201)
        .id();
    let job = owner
        .post(
            &format!("/projects/{project}/jobs"),
            json!({ "name": "counter", "content": { "kind": "jar", "artifact_id": artifact, "entry_class": ENTRY_CLASS, "args": [] } }),
        )
        .await
        .expect(201)
        .id();
    owner
        .post(
            &format!("/projects/{project}/jobs/{job}/versions"),
            json!({ "message": "v1" }),
        )
        .await
        .expect(201);
    let d = owner
        .deployment(&project, "counter", &job, cluster, 1)
        .await;
    let path = format!("/projects/{project}/deployments/{d}");

    let story = AssertUnwindSafe(runs_savepoints_upgrades_and_resumes(
        owner, &flink, &project, &job, &artifact, &path,
    ))
    .catch_unwind()
    .await;
    if let Err(failure) = story {
        owner
            .post(&format!("{path}/stop"), json!({ "mode": "CANCEL" }))
            .await;
        if let Some(job_id) = owner.get(&path).await.body["engine_job_id"].as_str() {
            let _ = flink.cancel(job_id).await;
        }
        std::panic::resume_unwind(failure);
    }
}

async fn runs_savepoints_upgrades_and_resumes(
    owner: &Client,
    flink: &engine_client::EngineClient,
    project: &str,
    job: &str,
    artifact: &str,
    path: &str,
) {
    // Started without state, it runs, and its own checkpoints (every 2 s) complete: every
    // operator of the job is up and acknowledging.
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect(202);
    let running = wait_until(owner, path, 60, "RUNNING", |b| b["status"] == "RUNNING").await;
    let first_job = running["engine_job_id"].as_str().unwrap().to_owned();
    let on_engine = flink.job(&first_job).await.unwrap();
    assert_eq!(on_engine.state, engine_client::JobState::Running);
    let first = checkpointed(flink, &first_job).await;
    assert!(first.latest.restored.is_none(), "started without state");
    let none = carried_over(flink, &first_job, "any", |_| true).await;
    assert_eq!(none, 0.0, "an empty start finds no counts");

    // A savepoint on request.
    owner
        .post(&format!("{path}/savepoints"), json!({}))
        .await
        .expect(202);
    let savepoints = wait_until(
        owner,
        &format!("{path}/savepoints"),
        30,
        "the savepoint",
        |b| b["items"][0]["state"] == "COMPLETED",
    )
    .await;
    assert_eq!(savepoints["items"][0]["origin"], "USER_REQUEST");
    assert_eq!(
        flink.job(&first_job).await.unwrap().state,
        engine_client::JobState::Running,
        "a savepoint on request leaves the job running"
    );

    // Version 2 runs the same JAR with another argument (a shorter pause per number).
    let job_path = format!("/projects/{project}/jobs/{job}");
    let draft = owner.get(&job_path).await.expect(200);
    owner
        .patch_if(
            &job_path,
            &draft.etag(),
            json!({ "content": { "kind": "jar", "artifact_id": artifact, "entry_class": ENTRY_CLASS, "args": ["2"] } }),
        )
        .await
        .expect(200);
    owner
        .post(&format!("{job_path}/versions"), json!({ "message": "v2" }))
        .await
        .expect(201);

    // A stateful upgrade: stopped with a savepoint, version 2 restores from it.
    owner
        .post(&format!("{path}/upgrade"), json!({ "version": 2 }))
        .await
        .expect(202);
    let upgraded = wait_until(owner, path, 60, "the upgrade", |b| {
        b["job_version"] == 2 && b["status"] == "RUNNING"
    })
    .await;
    let second_job = upgraded["engine_job_id"].as_str().unwrap().to_owned();
    assert_ne!(second_job, first_job);
    let upgrade_savepoint = completed_savepoint(owner, path, "SUSPEND_AND_UPGRADE").await;
    restored_from(flink, &second_job, &upgrade_savepoint).await;
    let after_upgrade = carried_over(flink, &second_job, "counts of version 1", |c| c > 0.0).await;
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "upgrade" && e["message"].as_str().unwrap().contains("1 -> 2")),
        "{events:?}"
    );

    // Suspended: stopped with a savepoint.
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "SUSPEND" }))
        .await
        .expect(202);
    wait_until(owner, path, 60, "SUSPENDED", |b| b["status"] == "SUSPENDED").await;
    let suspend_savepoint = completed_savepoint(owner, path, "SUSPEND").await;

    // Resumed from that savepoint, still at version 2.
    owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_SAVEPOINT" }),
        )
        .await
        .expect(202);
    let resumed = wait_until(owner, path, 60, "RUNNING again", |b| {
        b["status"] == "RUNNING"
    })
    .await;
    assert_eq!(resumed["job_version"], 2);
    let third_job = resumed["engine_job_id"].as_str().unwrap().to_owned();
    assert_ne!(third_job, second_job);
    restored_from(flink, &third_job, &suspend_savepoint).await;
    // What both earlier runs counted, so at least what the second run found.
    carried_over(
        flink,
        &third_job,
        &format!("at least the {after_upgrade} counts the upgrade carried over"),
        |c| c >= after_upgrade,
    )
    .await;

    cancel(owner, path).await;
}

/// Waits (up to 30 s) until the engine job has completed a checkpoint of its own; its
/// checkpoint statistics then.
async fn checkpointed(
    flink: &engine_client::EngineClient,
    job_id: &str,
) -> engine_client::Checkpoints {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let checkpoints = flink.checkpoints(job_id).await.unwrap();
        if checkpoints.counts.completed >= 1 {
            return checkpoints;
        }
        assert!(
            Instant::now() < deadline,
            "job {job_id} completed no checkpoint: {checkpoints:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The `carriedOver` gauge of the job's `counts` operator (the counts its run found in
/// the state it started with), once it reports one for which `enough` holds (up to 30
/// s: the engine's REST API refreshes operator metrics every few seconds).
async fn carried_over(
    flink: &engine_client::EngineClient,
    job_id: &str,
    what: &str,
    enough: impl Fn(f64) -> bool,
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    let detail = flink.job(job_id).await.unwrap();
    let counts = detail
        .vertices
        .iter()
        .find(|v| v.name.starts_with("counts"))
        .unwrap_or_else(|| panic!("a counts vertex: {detail:?}"));
    let mut last = None;
    loop {
        let names = flink.vertex_metric_names(job_id, &counts.id).await.unwrap();
        if let Some(name) = names.iter().find(|n| n.ends_with(".carriedOver")) {
            let metrics = flink
                .vertex_metrics(job_id, &counts.id, &[name])
                .await
                .unwrap();
            last = metrics.first().and_then(|m| m.max);
            if let Some(value) = last.filter(|v| enough(*v)) {
                return value;
            }
        }
        assert!(
            Instant::now() < deadline,
            "job {job_id} reported no carriedOver of {what} (last: {last:?})"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The location of the deployment's completed savepoint of this origin (exactly one).
async fn completed_savepoint(owner: &Client, path: &str, origin: &str) -> String {
    let savepoints = owner.list_all(&format!("{path}/savepoints"), 20).await;
    let of_origin: Vec<_> = savepoints
        .iter()
        .filter(|s| s["origin"] == origin)
        .collect();
    assert_eq!(of_origin.len(), 1, "one {origin} savepoint: {savepoints:?}");
    assert_eq!(of_origin[0]["state"], "COMPLETED", "{savepoints:?}");
    of_origin[0]["location"].as_str().unwrap().to_owned()
}

/// Flink says the engine job restored its state from the savepoint at `location` (and,
/// since Sluice never allows non-restored state, every operator's state in it found its
/// operator by uid).
async fn restored_from(flink: &engine_client::EngineClient, job_id: &str, location: &str) {
    let restored = flink
        .checkpoints(job_id)
        .await
        .unwrap()
        .latest
        .restored
        .unwrap_or_else(|| panic!("job {job_id} restored from a savepoint"));
    assert!(restored.is_savepoint, "{restored:?}");
    assert_eq!(
        restored.external_path.trim_end_matches('/'),
        location.trim_end_matches('/')
    );
}
