//! Against a real Flink cluster: the platform cluster's health, and validation that
//! ends in the engine's dry run.

use sluice_tests::engine::local_engine;
use sluice_tests::{json, TestApp};

const WINDOWED: &str = "CREATE TABLE clicks (
  user_id BIGINT,
  url STRING,
  ts AS PROCTIME()
) WITH ('connector' = 'datagen', 'rows-per-second' = '5');
CREATE TABLE counts (w_end TIMESTAMP(3), n BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO counts
SELECT window_end, COUNT(*) FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end;";

/// A stream with source state (datagen's) to save and restore, and a sink that keeps
/// nothing.
const STREAM: &str =
    "CREATE TABLE src (x BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '5');
CREATE TABLE snk (x BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT x FROM src;";

/// Creates a SQL job and validates it; the report.
async fn validate_new_job(
    owner: &sluice_tests::Client,
    project: &str,
    name: &str,
    sql: &str,
) -> serde_json::Value {
    let job = owner
        .sql_job(project, name, None, sql)
        .await
        .expect(201)
        .id();
    owner
        .post(
            &format!("/projects/{project}/jobs/{job}/validate"),
            json!({}),
        )
        .await
        .expect(200)
        .body
}

#[tokio::test]
async fn the_platform_cluster_is_listed_and_healthy() {
    let Some(engine) = local_engine() else { return };
    let app = TestApp::spawn_with(|c| engine.configure(c)).await;
    let owner = app.account("Acme").await;
    let clusters = owner.get("/clusters").await.expect(200);
    let local = &clusters.body[0];
    assert_eq!(local["platform"], true);
    let id = local["id"].as_str().unwrap();
    let checked = owner
        .post(&format!("/clusters/{id}/health-check"), json!({}))
        .await
        .expect(200);
    assert_eq!(
        checked.body["health"]["status"], "healthy",
        "{}",
        checked.body
    );
    assert!(checked.body["health"]["detail"]
        .as_str()
        .unwrap()
        .contains("task manager"));
}

#[tokio::test]
async fn a_good_script_gets_the_engines_plan_and_a_bad_one_its_refusal_in_place() {
    let Some(engine) = local_engine() else { return };
    let app = TestApp::spawn_with(|c| engine.configure(c)).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;

    let report = validate_new_job(&owner, &project, "windowed", WINDOWED).await;
    assert_eq!(report["valid"], true, "{}", report);
    assert_eq!(report["engine"]["status"], "planned");
    assert!(
        !report["plan"]["nodes"].as_array().unwrap().is_empty(),
        "{}",
        report
    );

    let unknown_connector = WINDOWED.replace("'blackhole'", "'nope'");
    let report = validate_new_job(&owner, &project, "bad", &unknown_connector).await;
    assert_eq!(report["valid"], false);
    assert_eq!(report["engine"]["status"], "refused");
    let error = &report["errors"][0];
    assert!(
        error["message"].as_str().unwrap().contains("'nope'"),
        "{}",
        report
    );
    assert_eq!(
        error["statement"], 2,
        "the CREATE TABLE naming 'nope': {}",
        report
    );
    assert_eq!(error["line"], 6);

    let misspelt = WINDOWED.replace("GROUP BY", "GROUPP BY");
    let report = validate_new_job(&owner, &project, "misspelt", &misspelt).await;
    assert_eq!(report["engine"]["status"], "refused", "{}", report);
    assert_eq!(report["errors"][0]["statement"], 3, "{}", report);
    assert_eq!(report["errors"][0]["line"], 9, "{}", report);
}

#[tokio::test]
async fn a_cluster_that_lost_the_runner_gets_it_again() {
    let Some(engine) = local_engine() else { return };
    let app = TestApp::spawn_with(|c| engine.configure(c)).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner
        .sql_job(&project, "windowed", None, WINDOWED)
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/jobs/{job}/validate");
    let validate = || owner.post(&path, json!({}));
    assert_eq!(validate().await.expect(200).body["valid"], true);

    // Remove every jar behind Sluice's back, as a JobManager restart would.
    let client = engine_client::EngineClient::new(&engine.rest_url).unwrap();
    let (jar_id,): (String,) = sqlx::query_as("select jar_id from engine_jars")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    client.delete_jar(&jar_id).await.unwrap();
    let report = validate().await.expect(200).body;
    assert_eq!(report["valid"], true, "{}", report);
    let (again,): (String,) = sqlx::query_as("select jar_id from engine_jars")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_ne!(again, jar_id);
}

/// A server on the test run's engine, reconciling every 300 ms.
pub(crate) async fn on_the_engine(engine: &sluice_tests::engine::LocalEngine) -> TestApp {
    TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 300;
    })
    .await
}

/// Starts the deployment at `path` without state and waits until it runs.
pub(crate) async fn run_stateless(owner: &sluice_tests::Client, path: &str) {
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect(202);
    wait_until(owner, path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
}

/// Cancels the deployment at `path` and waits until it has stopped, so no job outlives
/// the test.
pub(crate) async fn cancel(owner: &sluice_tests::Client, path: &str) {
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "CANCEL" }))
        .await
        .expect(202);
    wait_until(owner, path, 60, "CANCELLED", |b| b["status"] == "CANCELLED").await;
}

/// Polls `path` until `done` holds for its body, or fails after `secs`.
pub(crate) async fn wait_until(
    client: &sluice_tests::Client,
    path: &str,
    secs: u64,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let res = client.get(path).await.expect(200);
        if done(&res.body) {
            return res.body;
        }
        if std::time::Instant::now() >= deadline {
            // The deployment's events say what happened on the way.
            let events = match path.find("/deployments/") {
                Some(_) => {
                    client
                        .get(&format!(
                            "{}/events",
                            path.split("/savepoints").next().unwrap_or(path)
                        ))
                        .await
                        .body
                }
                None => serde_json::Value::Null,
            };
            panic!(
                "timed out waiting for {what}; last: {}\nevents: {events}",
                res.body
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn a_deployment_runs_savepoints_suspends_resumes_upgrades_and_is_reconciled() {
    let Some(engine) = local_engine() else { return };
    let app = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 300;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "windowed", WINDOWED).await;
    let created = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "clicks", "job_id": job, "cu_per_task": 0.5, "parallelism": 2 }),
        )
        .await
        .expect(201);
    assert_eq!(created.body["total_cu"], 1.0);
    assert_eq!(created.body["status"], "CREATED");
    let d = created.id();
    let path = format!("/projects/{project}/deployments/{d}");
    let flink = engine_client::EngineClient::new(&engine.rest_url).unwrap();

    // Two starts at once: one wins.
    let start = json!({ "restore_mode": "NONE" });
    let start_path = format!("{path}/start");
    let (a, b) = tokio::join!(
        owner.post(&start_path, start.clone()),
        owner.post(&start_path, start.clone())
    );
    let mut codes = [a.status.as_u16(), b.status.as_u16()];
    codes.sort();
    assert_eq!(codes, [202, 409]);
    let running = wait_until(&owner, &path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    let first_job = running["engine_job_id"].as_str().unwrap().to_owned();
    let on_engine = flink.job(&first_job).await.unwrap();
    assert_eq!(on_engine.state, engine_client::JobState::Running);
    // The typed client reads what monitoring needs from the real engine.
    assert!(flink
        .taskmanagers()
        .await
        .unwrap()
        .iter()
        .any(|t| t.slots_number > 0));
    assert!(flink
        .jobs_overview()
        .await
        .unwrap()
        .iter()
        .any(|j| j.jid == first_job && j.is_fully_running()));
    let vertex = &on_engine.vertices[0];
    let metrics = flink
        .vertex_metrics(&first_job, &vertex.id, &["numRecordsOutPerSecond"])
        .await
        .unwrap();
    assert!(
        metrics.iter().all(|m| m.id == "numRecordsOutPerSecond"),
        "{metrics:?}"
    );
    let backpressure = flink.backpressure(&first_job, &vertex.id).await.unwrap();
    assert!(
        matches!(backpressure.status.as_str(), "ok" | "deprecated"),
        "{backpressure:?}"
    );
    flink.exceptions(&first_job).await.unwrap();
    let exceptions = owner.get(&format!("{path}/exceptions")).await.expect(200);
    assert!(exceptions.body.is_array());
    assert!(matches!(
        flink.job("00000000000000000000000000000000").await,
        Err(engine_client::EngineError::JobNotFound { .. })
    ));

    // A savepoint on request.
    owner
        .post(&format!("{path}/savepoints"), json!({}))
        .await
        .expect(202);
    let savepoints = wait_until(
        &owner,
        &format!("{path}/savepoints"),
        60,
        "the savepoint",
        |b| b["items"][0]["state"] == "COMPLETED",
    )
    .await;
    assert_eq!(savepoints["items"][0]["origin"], "USER_REQUEST");

    // Suspend: stop with a savepoint.
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "SUSPEND" }))
        .await
        .expect(202);
    wait_until(&owner, &path, 60, "SUSPENDED", |b| {
        b["status"] == "SUSPENDED"
    })
    .await;
    let savepoints = owner.list_all(&format!("{path}/savepoints"), 10).await;
    let suspend = savepoints
        .iter()
        .find(|s| s["origin"] == "SUSPEND")
        .expect("a SUSPEND savepoint");
    assert_eq!(suspend["state"], "COMPLETED");
    let suspend_location = suspend["location"].as_str().unwrap().to_owned();
    // Starting stateless now would drop that state: refused unless asked for.
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect_error(409, "state_would_be_lost", None);

    // Resume from it, and Flink says it restored from that savepoint.
    owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_SAVEPOINT" }),
        )
        .await
        .expect(202);
    let resumed = wait_until(&owner, &path, 90, "RUNNING again", |b| {
        b["status"] == "RUNNING"
    })
    .await;
    let second_job = resumed["engine_job_id"].as_str().unwrap().to_owned();
    assert_ne!(second_job, first_job);
    let restored = flink
        .checkpoints(&second_job)
        .await
        .unwrap()
        .latest
        .restored
        .expect("restored from a savepoint");
    assert!(restored.is_savepoint);
    assert_eq!(
        restored.external_path.trim_end_matches('/'),
        suspend_location.trim_end_matches('/')
    );

    // A stateful upgrade to version 2.
    let draft = owner
        .get(&format!("/projects/{project}/jobs/{job}"))
        .await
        .expect(200);
    let v2 = WINDOWED.replace("'rows-per-second' = '5'", "'rows-per-second' = '7'");
    owner
        .patch_if(
            &format!("/projects/{project}/jobs/{job}"),
            &draft.etag(),
            json!({ "content": { "kind": "sql", "sql": v2 } }),
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
    owner
        .post(&format!("{path}/upgrade"), json!({ "version": 2 }))
        .await
        .expect(202);
    let upgraded = wait_until(&owner, &path, 90, "the upgrade", |b| {
        b["job_version"] == 2 && b["status"] == "RUNNING"
    })
    .await;
    let third_job = upgraded["engine_job_id"].as_str().unwrap().to_owned();
    assert_ne!(third_job, second_job);
    assert!(flink
        .checkpoints(&third_job)
        .await
        .unwrap()
        .latest
        .restored
        .is_some_and(|r| r.is_savepoint));

    // The job is cancelled behind Sluice's back: the reconciler restarts it.
    flink.cancel(&third_job).await.unwrap();
    let restarted = wait_until(&owner, &path, 90, "a restart", |b| {
        b["status"] == "RUNNING"
            && b["engine_job_id"].is_string()
            && b["engine_job_id"] != third_job.as_str()
    })
    .await;
    assert_eq!(restarted["restart_count"], 1);
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    assert!(events.iter().any(|e| e["kind"] == "restart"), "{events:?}");

    // Sluice restarts: nothing is lost, and the next instance carries on.
    let replica = app.replica().await;
    app.stop();
    let mut owner_again = owner.clone();
    owner_again.base = replica.base.clone();
    let after = owner_again.get(&path).await.expect(200);
    assert_eq!(after.body["engine_job_id"], restarted["engine_job_id"]);
    owner_again
        .post(&format!("{path}/stop"), json!({ "mode": "CANCEL" }))
        .await
        .expect(202);
    wait_until(&owner_again, &path, 60, "CANCELLED", |b| {
        b["status"] == "CANCELLED"
    })
    .await;

    // Every stretch it ran was recorded, and none is left open.
    let intervals: Vec<(i64, Option<i64>, i64)> = sqlx::query_as(
        "select cu_milli, ended_at, started_at from run_intervals where deployment_id = $1",
    )
    .bind(&d)
    .fetch_all(&replica.state.db.pool)
    .await
    .unwrap();
    let events = owner_again.list_all(&format!("{path}/events"), 100).await;
    let timeline: Vec<String> = events
        .iter()
        .map(|e| format!("{} {} {}", e["created_at"], e["kind"], e["message"]))
        .collect();
    assert!(
        intervals.len() >= 4,
        "{intervals:?}\n{}",
        timeline.join("\n")
    );
    assert!(
        intervals
            .iter()
            .all(|(cu, ended, started)| *cu == 1000 && ended.is_some_and(|e| e >= *started)),
        "{intervals:?}"
    );

    // A savepoint is disposed of on the engine before its record goes.
    let savepoints = owner_again
        .list_all(&format!("{path}/savepoints"), 20)
        .await;
    let user = savepoints
        .iter()
        .find(|s| s["origin"] == "USER_REQUEST")
        .expect("the user's savepoint");
    let location = user["location"]
        .as_str()
        .unwrap()
        .trim_start_matches("file:")
        .to_owned();
    assert!(std::path::Path::new(&location).exists(), "{location}");
    owner_again
        .delete(&format!(
            "{path}/savepoints/{}",
            user["id"].as_str().unwrap()
        ))
        .await
        .expect(204);
    assert!(
        !std::path::Path::new(&location).exists(),
        "{location} is still there"
    );
    assert_eq!(
        owner_again
            .list_all(&format!("{path}/savepoints"), 20)
            .await
            .len(),
        savepoints.len() - 1
    );
}

#[tokio::test]
async fn a_jar_job_whose_entry_class_is_missing_fails_with_the_engines_reason() {
    let Some(engine) = local_engine() else { return };
    let app = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 300;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let artifact = owner
        .upload(&project, "empty.jar", sluice_tests::tiny_jar())
        .await
        .expect(201)
        .id();
    let job = owner
        .post(
            &format!("/projects/{project}/jobs"),
            json!({ "name": "jar", "content": { "kind": "jar", "artifact_id": artifact, "entry_class": "com.example.Missing", "args": [] } }),
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
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "jar", "job_id": job }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    let failed = wait_until(&owner, &path, 60, "FAILED", |b| b["status"] == "FAILED").await;
    let error = failed["last_error"].as_str().unwrap();
    assert!(error.contains("com.example.Missing"), "{error}");
    // It is not retried blindly: it stays FAILED until someone acts.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(owner.get(&path).await.expect(200).body["status"], "FAILED");
    let artifact_path = format!("/projects/{project}/artifacts/{artifact}");
    owner.delete(&artifact_path).await.expect(409);
}

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

#[tokio::test]
async fn flink_1_20_validates_runs_and_suspends_through_the_same_runner() {
    let Some(engine) = local_engine() else { return };
    let Some(url_1_20) = std::env::var("SLUICE_TEST_FLINK_1_20_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("no Flink 1.20 cluster for this run (SLUICE_TEST_FLINK_1_20_URL); skipping");
        return;
    };
    let app = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 200;
    })
    .await;
    let owner = app.account("Acme").await;
    let cluster = owner
        .post("/clusters", json!({ "name": "old", "rest_url": url_1_20, "flink_version": "1.20.5", "engine_version": "0.9.0" }))
        .await
        .expect(201);
    assert_eq!(
        cluster.body["health"]["status"], "healthy",
        "{}",
        cluster.body
    );
    assert!(cluster.body["health"]["detail"]
        .as_str()
        .unwrap()
        .contains("Flink 1.20"));
    let cluster = cluster.id();
    let project = owner.project("p").await;
    let job = owner
        .sql_job(&project, "w", None, WINDOWED)
        .await
        .expect(201)
        .id();
    let report = owner
        .post(
            &format!("/projects/{project}/jobs/{job}/validate"),
            json!({ "cluster_id": cluster }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["valid"], true, "{}", report);
    owner
        .post(
            &format!("/projects/{project}/jobs/{job}/versions"),
            json!({ "message": "v1" }),
        )
        .await
        .expect(201);
    let d = owner.deployment(&project, "old", &job, &cluster, 1).await;
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    wait_until(&owner, &path, 90, "RUNNING on 1.20", |b| {
        b["status"] == "RUNNING"
    })
    .await;
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "SUSPEND" }))
        .await
        .expect(202);
    wait_until(&owner, &path, 60, "SUSPENDED on 1.20", |b| {
        b["status"] == "SUSPENDED"
    })
    .await;
    let savepoints = owner.list_all(&format!("{path}/savepoints"), 10).await;
    assert!(
        savepoints
            .iter()
            .any(|s| s["origin"] == "SUSPEND" && s["state"] == "COMPLETED"),
        "{savepoints:?}"
    );
}

/// Runs `scripts/flink.sh` with these arguments.
async fn flink_sh(args: &[&str]) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/flink.sh");
    let out = tokio::process::Command::new("bash")
        .arg(script)
        .args(args)
        .output()
        .await
        .expect("flink.sh runs");
    assert!(
        out.status.success(),
        "flink.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_job_lost_in_a_cluster_restart_is_resubmitted_from_its_latest_state() {
    let Some(engine) = local_engine() else { return };
    // A cluster of its own, since this test restarts it.
    let (port, rpc) = ("8083", "6125");
    flink_sh(&[
        "start",
        "2.3.0",
        "--rest-port",
        port,
        "--rpc-port",
        rpc,
        "--name",
        "restart-test",
    ])
    .await;
    let app = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 300;
    })
    .await;
    let owner = app.account("Acme").await;
    let cluster = owner
        .post(
            "/clusters",
            json!({ "name": "restarting", "rest_url": format!("http://127.0.0.1:{port}"), "flink_version": "2.3.0", "engine_version": "1.0.0" }),
        )
        .await
        .expect(201)
        .id();
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "w", WINDOWED).await;
    let d = owner
        .deployment(&project, "survivor", &job, &cluster, 1)
        .await;
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    let running = wait_until(&owner, &path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    let before = running["engine_job_id"].as_str().unwrap().to_owned();
    owner
        .post(&format!("{path}/savepoints"), json!({}))
        .await
        .expect(202);
    wait_until(
        &owner,
        &format!("{path}/savepoints"),
        60,
        "a savepoint",
        |b| b["items"][0]["state"] == "COMPLETED",
    )
    .await;

    // The whole cluster goes down and comes back empty.
    flink_sh(&["stop", "--name", "restart-test"]).await;
    flink_sh(&[
        "start",
        "2.3.0",
        "--rest-port",
        port,
        "--rpc-port",
        rpc,
        "--name",
        "restart-test",
    ])
    .await;
    let after = wait_until(&owner, &path, 120, "a resubmission", |b| {
        b["status"] == "RUNNING"
            && b["engine_job_id"].is_string()
            && b["engine_job_id"] != before.as_str()
    })
    .await;
    let flink = engine_client::EngineClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
    let job_id = after["engine_job_id"].as_str().unwrap();
    let restored = flink.checkpoints(job_id).await.unwrap().latest.restored;
    assert!(
        restored.is_some(),
        "resubmitted from its latest state, not from scratch"
    );
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    assert!(events.iter().any(|e| e["kind"] == "restart"), "{events:?}");
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "CANCEL" }))
        .await
        .expect(202);
    wait_until(&owner, &path, 60, "CANCELLED", |b| {
        b["status"] == "CANCELLED"
    })
    .await;
    flink_sh(&["stop", "--name", "restart-test"]).await;
}

#[tokio::test]
async fn on_its_end_of_service_date_a_running_job_on_the_engine_version_is_stopped_with_a_savepoint(
) {
    let Some(engine) = local_engine() else { return };
    let app = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 200;
    })
    .await;
    let owner = app.account("Acme").await;
    // The account's own registration of the cluster, as running engine version 7.0.0.
    let cluster = owner
        .post("/clusters", json!({ "name": "seven", "rest_url": engine.rest_url, "flink_version": "2.3.0", "engine_version": "7.0.0" }))
        .await
        .expect(201)
        .id();
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "w", WINDOWED).await;
    let d = owner
        .deployment(&project, "on seven", &job, &cluster, 1)
        .await;
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    wait_until(&owner, &path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;

    // 7.0.0 retires on a published schedule; its EOS is still ahead.
    let day = |s: &str| -> chrono::DateTime<chrono::Utc> { s.parse().unwrap() };
    let version = lifecycle::EngineVersion {
        label: "7.0.0".to_owned(),
        flink_version: "2.3.0".to_owned(),
        announced_at: day("2026-01-01T00:00:00Z"),
        ga: day("2026-01-01T00:00:00Z"),
        eogs: day("2026-07-01T00:00:00Z"),
        eofs: day("2026-10-01T00:00:00Z"),
        eos: day("2027-03-01T00:00:00Z"),
        pulled: false,
    };
    gateway::product_forms::set_engine_version(&app.state.db, &version)
        .await
        .unwrap();
    let before = version.eos - chrono::Duration::seconds(1);
    assert_eq!(
        gateway::product_forms::stop_at_end_of_service(&app.state, before)
            .await
            .unwrap(),
        0,
        "a second before EOS nothing stops"
    );
    // On the EOS date (time passed in, as the reconciler's clock would read it):
    assert_eq!(
        gateway::product_forms::stop_at_end_of_service(&app.state, version.eos)
            .await
            .unwrap(),
        1
    );
    wait_until(&owner, &path, 60, "SUSPENDED", |b| {
        b["status"] == "SUSPENDED"
    })
    .await;
    let savepoints = owner.list_all(&format!("{path}/savepoints"), 10).await;
    assert!(
        savepoints
            .iter()
            .any(|s| s["origin"] == "SUSPEND" && s["state"] == "COMPLETED"),
        "stopped with a savepoint on the real engine: {savepoints:?}"
    );
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "end_of_service"
                && e["message"].as_str().unwrap().contains("7.0.0")),
        "{events:?}"
    );
    // The owner was told when the schedule was set, in the inbox.
    let inbox = owner.get("/notices").await.expect(200);
    assert!(
        inbox.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "engine_version_schedule"),
        "{}",
        inbox.body
    );
}

#[tokio::test]
async fn deployments_are_listed_by_job_and_by_status() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner.unreachable_cluster("down").await;
    let sql = "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nCREATE TABLE b (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO b SELECT x FROM a;";
    let first = owner.saved_sql_job(&project, "first", sql).await;
    let second = owner.saved_sql_job(&project, "second", sql).await;
    let a = owner.deployment(&project, "a", &first, &cluster, 1).await;
    let b = owner.deployment(&project, "b", &second, &cluster, 1).await;
    let c = owner.deployment(&project, "c", &second, &cluster, 1).await;
    owner
        .post(
            &format!("/projects/{project}/deployments/{c}/start"),
            json!({}),
        )
        .await
        .expect(202);
    let ids = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let base = format!("/projects/{project}/deployments");
    let of_second = owner
        .get(&format!("{base}?job_id={second}"))
        .await
        .expect(200);
    assert_eq!(ids(&of_second.body), vec![b.clone(), c.clone()]);
    let created = owner
        .get(&format!("{base}?status=CREATED"))
        .await
        .expect(200);
    assert_eq!(ids(&created.body), vec![a.clone(), b.clone()]);
    let both = owner
        .get(&format!("{base}?job_id={first}&status=CREATED&limit=1"))
        .await
        .expect(200);
    assert_eq!(ids(&both.body), vec![a]);
    owner
        .get(&format!("{base}?status=running"))
        .await
        .expect_error(422, "invalid_field", Some("status"));
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

/// Runs the SQL runner's program by hand on the engine, under `job_id` if given (the
/// engine's own id otherwise); the job id.
async fn run_by_hand(
    engine: &sluice_tests::engine::LocalEngine,
    name: &str,
    job_id: Option<String>,
) -> String {
    let flink = engine_client::EngineClient::new(&engine.rest_url).unwrap();
    let jar = flink
        .upload_jar("by-hand.jar", std::fs::read(&engine.runner_jar).unwrap())
        .await
        .unwrap();
    let statements: Vec<String> = engine_client::script::analyze(STREAM)
        .unwrap()
        .statements
        .into_iter()
        .map(|s| s.text)
        .collect();
    let mut program = gateway::engine::runner::program(&statements, Some(name), Some(1), None);
    program.job_id = job_id;
    flink.run_jar(&jar, &program).await.unwrap()
}

#[tokio::test]
async fn a_job_started_by_hand_under_the_installations_ids_is_reported_then_cancelled_after_the_grace(
) {
    let Some(engine) = local_engine() else { return };
    const GRACE_MS: u64 = 8_000;
    let app = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 300;
        c.engine.orphan_grace_ms = GRACE_MS;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "managed", STREAM).await;
    let name = format!("managed-{}", uuid::Uuid::new_v4().simple());
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": name, "job_id": job }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    run_stateless(&owner, &path).await;
    let managed = owner.get(&path).await.expect(200).body["engine_job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The installation's prefix: "511ce0" and its 8-digit tag.
    let prefix = &managed[..14];
    let orphan = format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..18]
    );
    let started = std::time::Instant::now();
    run_by_hand(&engine, "by-hand", Some(orphan.clone())).await;
    // Someone else's job on the same cluster (the engine chose its id): not Sluice's.
    let foreign = run_by_hand(&engine, "someone-else", None).await;

    let flink = engine_client::EngineClient::new(&engine.rest_url).unwrap();
    let state_of = |id: String| {
        let flink = flink.clone();
        async move {
            flink
                .jobs_overview()
                .await
                .unwrap()
                .into_iter()
                .find(|j| j.jid == id)
                .map(|j| j.state)
        }
    };
    // Reported while it runs: the operators' gauge counts it.
    let metrics = format!("{}/metrics", app.base);
    let mut reported = false;
    while !reported && started.elapsed() < std::time::Duration::from_millis(GRACE_MS) {
        let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
        reported = text
            .lines()
            .any(|l| l.starts_with("sluice_engine_orphan_jobs{") && l.ends_with(" 1"));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(reported, "the orphan was counted before its grace ran out");
    assert!(
        !state_of(orphan.clone()).await.unwrap().is_terminal(),
        "not cancelled before the grace"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !state_of(orphan.clone()).await.unwrap().is_terminal() {
        assert!(
            std::time::Instant::now() < deadline,
            "the orphan was cancelled after the grace"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(GRACE_MS - 1_000),
        "cancelled only once the grace ran out ({:?})",
        started.elapsed()
    );
    assert_eq!(
        state_of(orphan).await,
        Some(engine_client::JobState::Canceled)
    );
    // The deployment's own job and the foreign one run on.
    assert_eq!(
        state_of(managed).await,
        Some(engine_client::JobState::Running)
    );
    assert_eq!(
        state_of(foreign.clone()).await,
        Some(engine_client::JobState::Running)
    );
    flink.cancel(&foreign).await.unwrap();
    cancel(&owner, &path).await;
}

#[tokio::test]
async fn restarts_the_engine_makes_by_itself_are_counted_with_their_cause() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    // Every record divides by zero: each task attempt fails, and the engine's restart
    // strategy restarts the job again and again.
    let failing =
        "CREATE TABLE src (x BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '5');
CREATE TABLE snk (y BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT 1 / (x - x) FROM src;";
    let job = owner.saved_sql_job(&project, "failing", failing).await;
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": format!("failing-{}", uuid::Uuid::new_v4().simple()), "job_id": job }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect(202);
    let seen = wait_until(&owner, &path, 90, "an engine restart", |b| {
        b["engine_restarts"].as_i64().unwrap_or(0) >= 1
    })
    .await;
    let failure = seen["last_engine_failure"].as_str().unwrap_or_default();
    assert!(failure.contains("by zero"), "the deepest cause: {failure}");
    assert_eq!(seen["restart_count"], 0, "Sluice itself restarted nothing");
    let events = owner.list_all(&format!("{path}/events"), 100).await;
    let restart = events
        .iter()
        .find(|e| e["kind"] == "engine_restart")
        .unwrap_or_else(|| panic!("an engine_restart event: {events:?}"));
    assert!(
        restart["message"].as_str().unwrap().contains("by zero"),
        "{restart}"
    );
    cancel(&owner, &path).await;
}

#[tokio::test]
async fn a_start_that_asks_for_state_it_cannot_find_is_refused_unless_empty_state_is_allowed() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "stateful", STREAM).await;
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": format!("stateful-{}", uuid::Uuid::new_v4().simple()), "job_id": job }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    let refused = owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_SAVEPOINT" }),
        )
        .await
        .expect(409);
    assert_eq!(refused.body["error"]["code"], "no_state_to_restore");
    assert_eq!(
        owner.get(&path).await.expect(200).body["desired_state"],
        "CANCELLED"
    );
    // A first start of LATEST_STATE has nothing to lose: it starts.
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    wait_until(&owner, &path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "SUSPEND" }))
        .await
        .expect(202);
    wait_until(&owner, &path, 60, "SUSPENDED", |b| {
        b["status"] == "SUSPENDED"
    })
    .await;
    // The savepoint is gone (deleted), so the state it ran with is nowhere.
    let savepoints = owner.list_all(&format!("{path}/savepoints"), 10).await;
    for s in &savepoints {
        owner
            .delete(&format!("{path}/savepoints/{}", s["id"].as_str().unwrap()))
            .await
            .expect(204);
    }
    let refused = owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_STATE" }),
        )
        .await
        .expect(409);
    assert_eq!(refused.body["error"]["code"], "no_state_to_restore");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allow_empty_state"),
        "{}",
        refused.body
    );
    owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_STATE", "allow_empty_state": true }),
        )
        .await
        .expect(202);
    let running = wait_until(&owner, &path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    let events = owner.list_all(&format!("{path}/events"), 100).await;
    assert!(
        events.iter().any(|e| e["kind"] == "submitted"
            && e["message"].as_str().unwrap().contains("without state")
            && e["message"]
                .as_str()
                .unwrap()
                .contains(running["engine_job_id"].as_str().unwrap())),
        "{events:?}"
    );
    cancel(&owner, &path).await;
}
