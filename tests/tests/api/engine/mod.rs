//! Against a real Flink cluster: the platform cluster's health and validation that
//! ends in the engine's dry run (validation), a deployment's life on the engine
//! (lifecycle, failures), replicas and a slow failing engine (replicas), other clusters
//! and engine versions (clusters), jobs running for no deployment (orphans), and which
//! cluster takes a JAR job (placement).

use sluice_tests::{json, TestApp};

mod clusters;
mod corpus;
mod debug;
mod failures;
mod jar_jobs;
mod lifecycle;
mod orphans;
mod placement;
mod python_jobs;
mod replicas;
mod validation;

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

/// A server on the test run's engine, reconciling every 300 ms.
pub(crate) async fn on_the_engine(engine: &sluice_tests::engine::LocalEngine) -> TestApp {
    TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 300;
    })
    .await
}

/// Where a savepoint lies, as Sluice recorded it (the API shows it only on a cluster of
/// the account's own).
pub(crate) async fn savepoint_location(app: &TestApp, id: &str) -> String {
    let (location,): (String,) = sqlx::query_as("select location from savepoints where id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    location
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
