//! What the engine refuses or does by itself: a jar job that cannot start, a SQL job
//! the engine refuses (said with its place in the script), and restarts by the
//! engine's own restart strategy.

use super::{cancel, on_the_engine, wait_until};
use sluice_tests::engine::local_engine;
use sluice_tests::{json, TestApp};

/// Saved without validation, a script the engine refuses fails its deployment with the
/// engine's words at the script's line and column, as validation would have said.
#[tokio::test]
async fn a_sql_job_the_engine_refuses_fails_saying_where_in_the_script() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let sql = "CREATE TABLE src (x BIGINT) WITH ('connector' = 'datagen');
CREATE TABLE snk (x STRING) WITH ('connector' = 'blackhole');
INSERT INTO snk
SELECT UPPER(x) FROM src;";
    let job = owner.saved_sql_job(&project, "bad", sql).await;
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "bad", "job_id": job }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect(202);
    let failed = wait_until(&owner, &path, 60, "FAILED", |b| b["status"] == "FAILED").await;
    let error = failed["last_error"].as_str().unwrap();
    assert!(
        error.contains("at line 4, column 8") && error.contains("UPPER"),
        "{error}"
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
    // A JAR job runs on a cluster of the account's own: the same engine, registered.
    let cluster = owner.own_cluster("own", &engine.rest_url).await;
    let (job, artifact) = owner
        .saved_jar_job(&project, "jar", "com.example.Missing")
        .await;
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "jar", "job_id": job, "cluster_id": cluster }),
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
