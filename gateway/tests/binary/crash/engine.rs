//! Engine actions killed at each crash point (`SLUICE_FAILPOINTS`), against the real
//! engine when `SLUICE_TEST_FLINK_URL` is set.

use std::time::{Duration, Instant};

use super::Api;
use crate::harness::{free_port, setup, sigkill, Running};

/// The real engine of the test run (`scripts/test.sh` starts it), if there is one.
fn engine() -> Option<(String, String)> {
    let url = std::env::var("SLUICE_TEST_FLINK_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let runner = std::env::var("SLUICE_TEST_SQL_RUNNER")
        .ok()
        .filter(|v| !v.is_empty());
    match (url, runner) {
        (Some(url), Some(runner)) => Some((url, runner)),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI runs the engine crash tests: SLUICE_TEST_FLINK_URL and SLUICE_TEST_SQL_RUNNER must be set"
            );
            eprintln!("no local Flink cluster for this run; skipping an engine crash test");
            None
        }
    }
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    async fn post_as(&self, path: &str, body: serde_json::Value, expect: u16) -> serde_json::Value {
        let (status, answer) = self.call(reqwest::Method::POST, path, Some(body)).await;
        assert_eq!(status, expect, "POST {path}: {answer}");
        answer
    }

    /// A project `p` with the SQL job `stream` (STREAM); their ids.
    async fn project_with_stream(&self) -> (String, String) {
        let id = |v: serde_json::Value| v["id"].as_str().unwrap().to_owned();
        let project = id(self
            .post_as("/projects", serde_json::json!({ "name": "p" }), 201)
            .await);
        let job = id(self
            .post_as(
                &format!("/projects/{project}/jobs"),
                serde_json::json!({ "name": "stream", "content": { "kind": "sql", "sql": STREAM } }),
                201,
            )
            .await);
        (project, job)
    }

    async fn get(&self, path: &str) -> serde_json::Value {
        let (status, answer) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {answer}");
        answer
    }

    /// Polls the deployment until `done` holds, or fails after `timeout` with its events.
    async fn wait_for(
        &self,
        path: &str,
        what: &str,
        timeout: Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let (200, body) = self.call(reqwest::Method::GET, path, None).await {
                if done(&body) {
                    return body;
                }
                if Instant::now() >= deadline {
                    let events = self.get(&format!("{path}/events?limit=100")).await;
                    panic!("timed out waiting for {what}; last: {body}\nevents: {events}");
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The engine's jobs of a deployment (the runner names them after it) that have not ended.
async fn live_jobs(flink: &str, name: &str) -> Vec<String> {
    let overview: serde_json::Value = reqwest::get(format!("{flink}/jobs/overview"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    overview["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["name"] == name)
        .filter(|j| {
            !matches!(
                j["state"].as_str(),
                Some("FINISHED" | "CANCELED" | "FAILED")
            )
        })
        .map(|j| j["jid"].as_str().unwrap().to_owned())
        .collect()
}

/// What the engine says the job restored from.
async fn restored_from(flink: &str, job: &str) -> Option<String> {
    let checkpoints: serde_json::Value = reqwest::get(format!("{flink}/jobs/{job}/checkpoints"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    checkpoints["latest"]["restored"]["external_path"]
        .as_str()
        .map(str::to_owned)
}

/// Waits for a server armed with a failpoint to kill itself there.
async fn killed_at_failpoint(server: &mut Running, point: &str) {
    let server = &mut server.0;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(!status.success(), "the server exited by itself: {status}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server never reached failpoint {point}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const STREAM: &str =
    "CREATE TABLE src (x BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '5');
CREATE TABLE snk (x BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO snk SELECT x FROM src;";

// One story: the three crash points in turn on one deployment, each starting from the state the last left, so it reads top to bottom.
#[tokio::test]
async fn engine_actions_killed_at_each_crash_point_leave_one_job_and_every_savepoint() {
    let Some((flink, runner)) = engine() else {
        return;
    };
    let s = setup("engine").await;
    let (_, token) = s.create_account();
    let port = free_port();
    let api = Api {
        base: format!("http://127.0.0.1:{port}"),
        token,
        http: reqwest::Client::new(),
    };
    let on_engine = [
        ("SLUICE__ENGINE__DEFAULT_CLUSTER_URL", flink.as_str()),
        ("SLUICE__ENGINE__SQL_RUNNER_JAR", runner.as_str()),
        ("SLUICE__ENGINE__RECONCILE_INTERVAL_MS", "1000"),
    ];
    let armed = |point: &'static str| {
        let mut env = on_engine.to_vec();
        env.push(("SLUICE_FAILPOINTS", point));
        env
    };

    // 1. Killed after the engine accepted the submission, before Sluice recorded it.
    let mut server = Running(s.serve(port, &armed("engine.submitted")).await);
    let (project, job) = api.project_with_stream().await;
    let versions = format!("/projects/{project}/jobs/{job}/versions");
    api.post_as(&versions, serde_json::json!({ "message": "v1" }), 201)
        .await;
    let name = format!("crash-{}", uuid::Uuid::new_v4().simple());
    let d = api
        .post_as(
            &format!("/projects/{project}/deployments"),
            serde_json::json!({ "name": name, "job_id": job }),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/projects/{project}/deployments/{d}");
    api.post_as(
        &format!("{path}/start"),
        serde_json::json!({ "restore_mode": "NONE" }),
        202,
    )
    .await;
    killed_at_failpoint(&mut server, "engine.submitted").await;
    let pool = s.pool().await;
    let (recorded, intent): (String, String) =
        sqlx::query_as("select id, state from engine_jobs where deployment_id = $1")
            .bind(&d)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        intent, "INTENDED",
        "the submission was recorded before the engine was asked"
    );
    assert_eq!(
        live_jobs(&flink, &name).await,
        vec![recorded.clone()],
        "the engine took it"
    );
    let restarted = Instant::now();
    server = Running(s.serve(port, &on_engine).await);
    let running = api
        .wait_for(
            &path,
            "RUNNING after the restart",
            Duration::from_secs(60),
            |b| b["status"] == "RUNNING",
        )
        .await;
    eprintln!(
        "recovery after a SIGKILL between the engine's acceptance and its record: {} ms from the restart to RUNNING (lease {} ms, reconcile interval 1000 ms)",
        restarted.elapsed().as_millis(),
        3000
    );
    assert_eq!(running["engine_job_id"], recorded.as_str());
    assert_eq!(running["submission_pending"], false);
    assert_eq!(
        live_jobs(&flink, &name).await,
        vec![recorded.clone()],
        "still one job"
    );

    // 2. Killed after the stop's savepoint completed, before Sluice recorded it.
    sigkill(&mut server.0);
    server = Running(s.serve(port, &armed("savepoint.completed")).await);
    api.post_as(
        &format!("{path}/stop"),
        serde_json::json!({ "mode": "SUSPEND" }),
        202,
    )
    .await;
    killed_at_failpoint(&mut server, "savepoint.completed").await;
    server = Running(s.serve(port, &on_engine).await);
    api.wait_for(&path, "SUSPENDED", Duration::from_secs(60), |b| {
        b["status"] == "SUSPENDED"
    })
    .await;
    let savepoints = api.get(&format!("{path}/savepoints")).await;
    let completed: Vec<&serde_json::Value> = savepoints["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "COMPLETED")
        .collect();
    assert_eq!(
        completed.len(),
        1,
        "the stop's savepoint was recorded: {savepoints}"
    );
    // Where it lies is not shown on the platform's cluster; the record has it.
    let (suspended_at,): (String,) =
        sqlx::query_as("select location from savepoints where id = $1")
            .bind(completed[0]["id"].as_str().unwrap())
            .fetch_one(&s.pool().await)
            .await
            .unwrap();
    assert!(live_jobs(&flink, &name).await.is_empty());
    api.post_as(
        &format!("{path}/start"),
        serde_json::json!({ "restore_mode": "LATEST_STATE" }),
        202,
    )
    .await;
    let resumed = api
        .wait_for(&path, "RUNNING again", Duration::from_secs(60), |b| {
            b["status"] == "RUNNING"
        })
        .await;
    let resumed_job = resumed["engine_job_id"].as_str().unwrap().to_owned();
    assert_eq!(
        restored_from(&flink, &resumed_job).await.as_deref(),
        Some(suspended_at.as_str())
    );
    let events = api.get(&format!("{path}/events?limit=100")).await;
    assert!(
        !events.to_string().contains("no longer exists"),
        "the resume did not first try a checkpoint that was gone: {events}"
    );

    // 3. Killed during an upgrade, between the old job's stop and the new one's submission.
    sigkill(&mut server.0);
    server = Running(s.serve(port, &armed("upgrade.stopped")).await);
    let job_url = format!("{}/api/v1/projects/{project}/jobs/{job}", api.base);
    let draft = api
        .http
        .get(&job_url)
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let etag = draft.headers()["etag"].to_str().unwrap().to_owned();
    let edited = api
        .http
        .patch(&job_url)
        .bearer_auth(&api.token)
        .header("if-match", etag)
        .json(
            &serde_json::json!({ "content": { "kind": "sql", "sql": format!("-- v2\n{STREAM}") } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200, "the draft is edited");
    api.post_as(&versions, serde_json::json!({ "message": "v2" }), 201)
        .await;
    api.post_as(
        &format!("{path}/upgrade"),
        serde_json::json!({ "version": 2 }),
        202,
    )
    .await;
    killed_at_failpoint(&mut server, "upgrade.stopped").await;
    server = Running(s.serve(port, &on_engine).await);
    let upgraded = api
        .wait_for(
            &path,
            "RUNNING on version 2",
            Duration::from_secs(60),
            |b| b["status"] == "RUNNING" && b["job_version"] == 2,
        )
        .await;
    let upgraded_job = upgraded["engine_job_id"].as_str().unwrap().to_owned();
    assert_eq!(live_jobs(&flink, &name).await, vec![upgraded_job.clone()]);
    let savepoints = api.get(&format!("{path}/savepoints")).await;
    let upgrade_id = savepoints["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["origin"] == "SUSPEND_AND_UPGRADE" && s["state"] == "COMPLETED")
        .and_then(|s| s["id"].as_str())
        .unwrap_or_else(|| panic!("the upgrade's savepoint was recorded: {savepoints}"))
        .to_owned();
    let (upgrade_savepoint,): (String,) =
        sqlx::query_as("select location from savepoints where id = $1")
            .bind(&upgrade_id)
            .fetch_one(&s.pool().await)
            .await
            .unwrap();
    assert_eq!(
        restored_from(&flink, &upgraded_job).await.as_deref(),
        Some(upgrade_savepoint.as_str())
    );

    api.post_as(
        &format!("{path}/stop"),
        serde_json::json!({ "mode": "CANCEL" }),
        202,
    )
    .await;
    api.wait_for(&path, "CANCELLED", Duration::from_secs(60), |b| {
        b["status"] == "CANCELLED"
    })
    .await;
    assert!(live_jobs(&flink, &name).await.is_empty());
    sigkill(&mut server.0);
    std::fs::remove_dir_all(&s.dir).ok();
}

/// A debug run does not outlive the process that runs it: killed after the engine took
/// its job (before Sluice recorded it running), or killed mid-run, the server that
/// comes back cancels the run's engine job once the dead process's watch has lapsed.
#[tokio::test]
async fn a_debug_runs_engine_job_is_cancelled_when_sluice_comes_back_after_a_sigkill() {
    let Some((flink, runner)) = engine() else {
        return;
    };
    let s = setup("debug").await;
    let (_, token) = s.create_account();
    let port = free_port();
    let api = Api {
        base: format!("http://127.0.0.1:{port}"),
        token,
        http: reqwest::Client::new(),
    };
    let base = format!("http://127.0.0.1:{port}");
    let on_engine = [
        ("SLUICE__ENGINE__DEFAULT_CLUSTER_URL", flink.as_str()),
        ("SLUICE__ENGINE__SQL_RUNNER_JAR", runner.as_str()),
        ("SLUICE__ENGINE__RECONCILE_INTERVAL_MS", "300"),
        ("SLUICE__AUTH__PUBLIC_URL", base.as_str()),
    ];
    let mut armed = on_engine.to_vec();
    armed.push(("SLUICE_FAILPOINTS", "debug.submitted"));

    let mut server = Running(s.serve(port, &armed).await);
    let (project, job) = api.project_with_stream().await;
    let debug = format!("/projects/{project}/jobs/{job}/debug");
    // The answer never comes: the process dies once the engine has the job.
    let answer = api
        .http
        .post(format!("{}/api/v1{debug}", api.base))
        .bearer_auth(&api.token)
        .json(&serde_json::json!({}))
        .send()
        .await;
    assert!(
        answer.is_err(),
        "the server died before answering: {answer:?}"
    );
    killed_at_failpoint(&mut server, "debug.submitted").await;
    let pool = s.pool().await;
    let engine_job = |pool: sqlx::AnyPool| async move {
        let (job,): (String,) =
            sqlx::query_as("select engine_job_id from debug_runs order by started_at desc limit 1")
                .fetch_one(&pool)
                .await
                .unwrap();
        job
    };
    let first = engine_job(pool.clone()).await;
    assert!(
        !job_state(&flink, &first).await.is_terminal(),
        "the engine took the run's job"
    );

    let restarted = Instant::now();
    server = Running(s.serve(port, &on_engine).await);
    cancelled_in_engine(&flink, &first).await;
    eprintln!(
        "a debug run's job cancelled {} ms after the restart (watch lapse 900 ms, reconcile interval 300 ms)",
        restarted.elapsed().as_millis()
    );

    // Ended (its project may start another).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status,): (String,) =
            sqlx::query_as("select status from debug_runs where engine_job_id = $1")
                .bind(&first)
                .fetch_one(&pool)
                .await
                .unwrap();
        if status == "ended" {
            break;
        }
        assert!(Instant::now() < deadline, "the interrupted run did not end");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Killed while the run goes on: the same.
    let run = api.post_as(&debug, serde_json::json!({}), 202).await;
    let second = engine_job(pool.clone()).await;
    assert_ne!(second, first);
    sigkill(&mut server.0);
    let _server = Running(s.serve(port, &on_engine).await);
    cancelled_in_engine(&flink, &second).await;
    let ended = api
        .get(&format!(
            "/projects/{project}/debug-runs/{}",
            run["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (ended["status"].as_str(), ended["stop_reason"].as_str()),
        (Some("ended"), Some("interrupted")),
        "{ended}"
    );
}

#[derive(Debug, PartialEq)]
enum Seen {
    Live,
    Ended,
}

impl Seen {
    fn is_terminal(&self) -> bool {
        *self == Seen::Ended
    }
}

async fn job_state(flink: &str, job: &str) -> Seen {
    let answer = reqwest::get(format!("{flink}/jobs/{job}")).await.unwrap();
    if answer.status() == 404 {
        return Seen::Ended;
    }
    let body: serde_json::Value = answer.json().await.unwrap();
    match body["state"].as_str() {
        Some("FINISHED" | "CANCELED" | "FAILED") => Seen::Ended,
        _ => Seen::Live,
    }
}

async fn cancelled_in_engine(flink: &str, job: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !job_state(flink, job).await.is_terminal() {
        assert!(
            Instant::now() < deadline,
            "the debug run's engine job {job} still runs"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
