//! Alerts: rules evaluated against deployments (time passed in, so each step is
//! exact), one grouped message per contact group, reminders, resolution, silences, two
//! replicas evaluating at once (rules); rules judged on recorded samples and counters
//! (samples); contact groups and the channels they send through (contacts); and against
//! the real engine a job that fails behind Sluice's back reaching people by email and
//! webhook, and the samples taken from it (engine).

use std::time::Duration;

use sluice_tests::engine::LocalEngine;
use sluice_tests::receivers::{self, Receivers};
use sluice_tests::{json, Client, TestApp};

mod contacts;
mod engine;
mod rules;
mod samples;

const SQL: &str = "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nCREATE TABLE b (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO b SELECT x FROM a;";

/// A project with `n` deployments started on a cluster that does not answer: they stay
/// short of RUNNING, a state that differs from the desired one.
async fn stuck_deployments(owner: &Client, n: usize) -> (String, Vec<String>) {
    let project = owner.project("analytics").await;
    let cluster = owner.unreachable_cluster("down").await;
    let job = owner.saved_sql_job(&project, "j", SQL).await;
    let mut paths = Vec::new();
    for i in 0..n {
        let d = owner
            .deployment(&project, &format!("d{i}"), &job, &cluster, 1)
            .await;
        let path = format!("/projects/{project}/deployments/{d}");
        owner
            .post(&format!("{path}/start"), json!({}))
            .await
            .expect(202);
        paths.push(path);
    }
    (project, paths)
}

async fn webhook_group(owner: &Client, project: &str, receivers: &Receivers) -> String {
    let channel = owner
        .post(
            "/account/notification-channels",
            json!({ "kind": "webhook", "name": "pager", "address": receivers.webhook_url(), "secret": receivers::WEBHOOK_SECRET }),
        )
        .await
        .expect(201)
        .id();
    owner
        .post(
            &format!("/projects/{project}/contact-groups"),
            json!({ "name": "on-call", "channel_ids": [channel] }),
        )
        .await
        .expect(201)
        .id()
}

async fn platform_cluster(owner: &Client) -> String {
    let clusters = owner.get("/clusters").await.expect(200);
    clusters
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["platform"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn later(secs: i64) -> i64 {
    (chrono::Utc::now() + chrono::Duration::seconds(secs)).timestamp_millis()
}

async fn evaluate(app: &TestApp, at: i64) -> usize {
    workers::alerts::evaluate_all(&app.state, at).await.unwrap()
}

async fn wait_status(owner: &Client, path: &str, status: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while owner.get(path).await.body["status"] != status {
        assert!(
            std::time::Instant::now() < deadline,
            "{path} never became {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A server on the real engine that reconciles and samples often, evaluates alerts only
/// when the test asks, and delivers at once.
async fn on_engine(engine: &LocalEngine, tune: impl FnOnce(&mut gateway::Config)) -> TestApp {
    TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 200;
        c.job_metrics.interval_ms = 500;
        c.alerts.interval_ms = 3_600_000;
        c.outbox.interval_ms = 50;
        tune(c);
    })
    .await
}

/// Saves `sql` as a job, deploys it on `cluster` and starts it; returns the deployment's
/// path.
async fn started(owner: &Client, project: &str, name: &str, sql: &str, cluster: &str) -> String {
    let job = owner.saved_sql_job(project, name, sql).await;
    let d = owner.deployment(project, name, &job, cluster, 1).await;
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    path
}

/// Cancels the deployment and waits until the engine's job is gone, so no job outlives
/// the test.
async fn cancelled(owner: &Client, path: &str) {
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "CANCEL" }))
        .await
        .expect(202);
    wait_status(owner, path, "CANCELLED").await;
}

/// Samples of the deployment until one satisfies `wanted`.
async fn wait_for_point(
    owner: &Client,
    path: &str,
    what: &str,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let points = owner.get(&format!("{path}/metrics")).await.expect(200).body;
        if let Some(point) = points.as_array().unwrap().iter().find(|p| wanted(p)) {
            return point.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no sample with {what}: {points}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
