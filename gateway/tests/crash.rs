//! The background workers survive SIGKILL: the real `sluice` binary is killed in the
//! middle of a metering pass or an outbox batch, started again over the same database,
//! and every CU-millisecond is billed exactly once and every message arrives, none
//! twice once the receiver drops repeats by idempotency key.
//!
//! Runs on SQLite, or on PostgreSQL with `SLUICE_TEST_DATABASE=postgres` (a fresh
//! database on `SLUICE_TEST_POSTGRES_URL`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use sqlx::{AnyPool, Connection};

const HOUR_MS: i64 = 3_600_000;

struct Setup {
    dir: PathBuf,
    database_url: String,
}

async fn setup(label: &str) -> Setup {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "sluice-crash-{label}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = if std::env::var("SLUICE_TEST_DATABASE").as_deref() == Ok("postgres") {
        let server = std::env::var("SLUICE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
        let name = format!("sluice_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
            .await
            .unwrap();
        sqlx::Executor::execute(&mut admin, format!("create database {name}").as_str())
            .await
            .unwrap();
        format!("{server}/{name}")
    } else {
        format!("sqlite://{}/sluice.db", dir.display())
    };
    Setup { dir, database_url }
}

impl Setup {
    fn sluice(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
        cmd.env("SLUICE__DATA_DIR", &self.dir)
            .env("SLUICE_CONFIG", self.dir.join("sluice.toml"))
            .env("SLUICE__DATABASE__URL", &self.database_url)
            .env(
                "SLUICE__SECRETS__ENCRYPTION_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            )
            .env("RUST_LOG", "warn");
        cmd
    }

    /// Creates an account; returns (account id, owner token).
    fn create_account(&self) -> (String, String) {
        let out = self
            .sluice()
            .args([
                "admin",
                "create-account",
                "--name",
                "Acme",
                "--owner-email",
                "ann@example.com",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        let account = stderr
            .split_whitespace()
            .skip_while(|w| *w != "account")
            .nth(1)
            .unwrap()
            .to_owned();
        (
            account,
            String::from_utf8(out.stdout).unwrap().trim().to_owned(),
        )
    }

    async fn serve(&self, port: u16, env: &[(&str, &str)]) -> Child {
        let mut cmd = self.sluice();
        cmd.env("SLUICE__LISTEN", format!("127.0.0.1:{port}"))
            .arg("serve")
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "server did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        child
    }

    async fn pool(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::any::AnyPoolOptions::new()
            .max_connections(2)
            .connect(&self.database_url)
            .await
            .unwrap()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sigkill(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL on Unix: no shutdown path runs
    child.wait().unwrap();
}

async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A deterministic generator, so a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn metering_killed_mid_pass_bills_every_cu_millisecond_exactly_once() {
    let s = setup("metering").await;
    let (account, _token) = s.create_account();
    let pool = s.pool().await;
    // Projects created 12 days ago on an hour boundary, each with closed run
    // intervals of random length and CU: about 5,800 hours to rate, more than one
    // pass writes (48 hours per project per pass).
    let now = chrono::Utc::now().timestamp_millis();
    let origin = (now / HOUR_MS - 12 * 24) * HOUR_MS;
    let mut rng = Lcg(20261201);
    let mut ledger: HashMap<String, i128> = HashMap::new();
    for p in 0..20 {
        let project = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "insert into projects (id, account_id, name, description, created_at, updated_at) values ($1, $2, $3, '', $4, $4)",
        )
        .bind(&project)
        .bind(&account)
        .bind(format!("p{p}"))
        .bind(origin)
        .execute(&pool)
        .await
        .unwrap();
        let mut t = origin + rng.next(HOUR_MS as u64) as i64;
        let mut exact = 0_i128;
        // Runs of up to 20 hours with gaps of up to 10, to 11 days in.
        while t < origin + 11 * 24 * HOUR_MS {
            let length = 1_000 + rng.next(20 * HOUR_MS as u64) as i64;
            let cu_milli = 250 * (1 + rng.next(16) as i64);
            sqlx::query(
                "insert into run_intervals (id, deployment_id, project_id, account_id, cu_milli, started_at, ended_at)
                 values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(format!("d-{p}"))
            .bind(&project)
            .bind(&account)
            .bind(cu_milli)
            .bind(t)
            .bind(t + length)
            .execute(&pool)
            .await
            .unwrap();
            exact += i128::from(length) * i128::from(cu_milli);
            t += length + rng.next(10 * HOUR_MS as u64) as i64;
        }
        ledger.insert(project, exact);
    }
    let env = [
        ("SLUICE__BILLING__INTERVAL_SECS", "1"),
        ("SLUICE__BILLING__SETTLE_DELAY_SECS", "0"),
        // Exact rating, so the bill can be compared with the ledger to the millisecond.
        ("SLUICE__BILLING__GRANULARITY", "second"),
    ];
    let hours = || async {
        let (n,): (i64,) = sqlx::query_as("select count(*) from payg_hours")
            .fetch_one(&pool)
            .await
            .unwrap();
        n
    };
    let mut server = s.serve(free_port(), &env).await;
    wait_until(
        "the first pass to write",
        Duration::from_secs(60),
        || async { hours().await > 0 },
    )
    .await;
    sigkill(&mut server);
    let written = hours().await;
    let expected_at_least =
        20 * (chrono::Utc::now().timestamp_millis() / HOUR_MS - origin / HOUR_MS);
    assert!(
        written < expected_at_least,
        "the kill came mid-run ({written} of {expected_at_least} hours written)"
    );

    // Started again (twice at once: two replicas over one database) it finishes the work.
    let (port_a, port_b) = (free_port(), free_port());
    let mut a = s.serve(port_a, &env).await;
    let mut b = s.serve(port_b, &env).await;
    wait_until(
        "every hour to be rated",
        Duration::from_secs(240),
        || async { hours().await >= expected_at_least },
    )
    .await;
    sigkill(&mut a);
    sigkill(&mut b);

    let rows: Vec<(String, i64, i64, String)> = sqlx::query_as(
        "select project_id, window_start, window_end, cu_millis from payg_hours order by project_id, window_start",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut billed: HashMap<String, i128> = HashMap::new();
    let mut previous_end: HashMap<String, i64> = HashMap::new();
    for (project, start, end, cu_millis) in rows {
        // Contiguous, non-overlapping hours from the project's creation: no hour twice, none lost.
        let expected_start = previous_end.get(&project).copied().unwrap_or(origin);
        assert_eq!(start, expected_start, "hours of {project} are contiguous");
        assert_eq!(end - start, HOUR_MS);
        previous_end.insert(project.clone(), end);
        *billed.entry(project).or_default() += cu_millis.parse::<i128>().unwrap();
    }
    assert_eq!(billed.len(), ledger.len());
    for (project, exact) in &ledger {
        assert_eq!(
            billed.get(project),
            Some(exact),
            "project {project}: billed CU-milliseconds equal the interval ledger"
        );
    }
    std::fs::remove_dir_all(&s.dir).ok();
}

/// A webhook receiver that checks signatures and counts every key it is sent.
#[derive(Clone, Default)]
struct Receiver {
    keys: Arc<Mutex<HashMap<String, usize>>>,
}

impl Receiver {
    async fn start(secret: &'static str, delay: Duration) -> (Self, u16) {
        let receiver = Self::default();
        let keys = receiver.keys.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let keys = keys.clone();
                async move {
                    tokio::time::sleep(delay).await;
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    let timestamp: i64 = header("x-sluice-timestamp").parse().unwrap_or(0);
                    let expected = format!(
                        "v1={}",
                        delivery::webhook::signature(secret, timestamp, &body)
                    );
                    if header("x-sluice-signature") != expected {
                        return StatusCode::UNAUTHORIZED;
                    }
                    *keys
                        .lock()
                        .unwrap()
                        .entry(header("idempotency-key"))
                        .or_default() += 1;
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, port)
    }

    fn distinct(&self) -> usize {
        self.keys.lock().unwrap().len()
    }

    fn total(&self) -> usize {
        self.keys.lock().unwrap().values().sum()
    }
}

#[tokio::test]
async fn the_outbox_killed_mid_batch_delivers_every_message_and_none_twice_after_deduplication() {
    let s = setup("outbox").await;
    let (account, token) = s.create_account();
    let secret = "a-webhook-secret-of-some-length";
    let (receiver, hook_port) = Receiver::start(secret, Duration::from_millis(40)).await;

    // The account's webhook channel, registered through the API.
    let port = free_port();
    let mut server = s.serve(port, &[]).await;
    let created = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{port}/api/v1/account/notification-channels"
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "kind": "webhook", "name": "ops", "address": format!("http://127.0.0.1:{hook_port}/hook"), "secret": secret
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    sigkill(&mut server);

    // 40 notices queued while no server runs: each a webhook message (and an email,
    // which fails for want of an SMTP server and is not counted here).
    const NOTICES: usize = 40;
    for i in 0..NOTICES {
        let out = s
            .sluice()
            .args([
                "admin",
                "announce",
                "--account-id",
                &account,
                "--subject",
                &format!("maintenance {i}"),
                "--body",
                "the platform restarts at noon",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let env = [
        ("SLUICE__OUTBOX__INTERVAL_MS", "100"),
        ("SLUICE__OUTBOX__BATCH_SIZE", "10"),
        ("SLUICE__OUTBOX__CONCURRENCY", "2"),
        // A dead worker's lease runs out quickly, so the test need not wait a minute.
        ("SLUICE__OUTBOX__LEASE_MS", "3000"),
    ];
    let mut server = s.serve(free_port(), &env).await;
    wait_until("some deliveries", Duration::from_secs(30), || async {
        receiver.distinct() >= 8
    })
    .await;
    sigkill(&mut server);
    assert!(
        receiver.distinct() < NOTICES,
        "the kill came mid-run ({} of {NOTICES} delivered)",
        receiver.distinct()
    );

    let mut a = s.serve(free_port(), &env).await;
    let mut b = s.serve(free_port(), &env).await;
    wait_until("every message", Duration::from_secs(60), || async {
        receiver.distinct() >= NOTICES
    })
    .await;
    let pool = s.pool().await;
    wait_until("the outbox to settle", Duration::from_secs(30), || async {
        let (pending,): (i64,) = sqlx::query_as(
            "select count(*) from outbox where channel = 'webhook' and status <> 'sent'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pending == 0
    })
    .await;
    sigkill(&mut a);
    sigkill(&mut b);

    let keys: Vec<(String,)> =
        sqlx::query_as("select idempotency_key from outbox where channel = 'webhook'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(keys.len(), NOTICES);
    let received = receiver.keys.lock().unwrap().clone();
    for (key,) in &keys {
        assert!(received.contains_key(key), "{key} arrived");
    }
    assert_eq!(
        received.len(),
        NOTICES,
        "nothing arrived that was not queued"
    );
    // Only messages in flight when the worker died may come twice: at most one batch.
    let repeats = receiver.total() - NOTICES;
    assert!(
        repeats <= 10,
        "{repeats} repeats; at most the batch in flight"
    );
    std::fs::remove_dir_all(&s.dir).ok();
}

/// An API client of one running server.
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let res = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }
}

#[tokio::test]
async fn alert_evaluation_killed_mid_pass_sends_every_projects_alert_once() {
    let s = setup("alerts").await;
    let (_account, token) = s.create_account();
    let secret = "a-webhook-secret-of-some-length";
    let (receiver, hook_port) = Receiver::start(secret, Duration::ZERO).await;
    // Enough projects that one evaluation pass outlasts the test's reaction to its first
    // commit, even on a busy machine (at 60 a pass could finish before the kill landed).
    const PROJECTS: usize = 200;
    let many = [
        ("SLUICE__PLANS__STANDARD__PROJECTS_PER_ACCOUNT", "250"),
        // Set up first, with nothing evaluated or delivered yet.
        ("SLUICE__ALERTS__INTERVAL_MS", "3600000"),
        ("SLUICE__OUTBOX__INTERVAL_MS", "3600000"),
    ];
    let port = free_port();
    let mut server = s.serve(port, &many).await;
    let api = Api {
        base: format!("http://127.0.0.1:{port}"),
        token,
        http: reqwest::Client::new(),
    };
    let channel = api
        .post(
            "/account/notification-channels",
            serde_json::json!({ "kind": "webhook", "name": "pager", "address": format!("http://127.0.0.1:{hook_port}/hook"), "secret": secret }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cluster = api
        .post(
            "/clusters",
            serde_json::json!({ "name": "down", "rest_url": "http://127.0.0.1:9", "flink_version": "2.3.0", "engine_version": "1.0.0" }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sql = "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nCREATE TABLE b (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO b SELECT x FROM a;";
    for i in 0..PROJECTS {
        let id = |v: serde_json::Value| v["id"].as_str().unwrap().to_owned();
        let p = id(api
            .post("/projects", serde_json::json!({ "name": format!("p{i}") }))
            .await);
        let job = id(api
            .post(
                &format!("/projects/{p}/jobs"),
                serde_json::json!({ "name": "j", "content": { "kind": "sql", "sql": sql } }),
            )
            .await);
        api.post(
            &format!("/projects/{p}/jobs/{job}/versions"),
            serde_json::json!({ "message": "v1" }),
        )
        .await;
        let d = id(api
            .post(
                &format!("/projects/{p}/deployments"),
                serde_json::json!({ "name": "d", "job_id": job, "cluster_id": cluster }),
            )
            .await);
        api.post(
            &format!("/projects/{p}/deployments/{d}/start"),
            serde_json::json!({}),
        )
        .await;
        let group = id(api
            .post(
                &format!("/projects/{p}/contact-groups"),
                serde_json::json!({ "name": "g", "channel_ids": [channel] }),
            )
            .await);
        api.post(
            &format!("/projects/{p}/alert-rules"),
            serde_json::json!({ "name": "not running", "condition": "state_mismatch", "window_secs": 1, "contact_group_id": group }),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    sigkill(&mut server);

    // Evaluating, with nothing delivered: killed once the first alerts are committed.
    let pool = s.pool().await;
    let queued = || async {
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from outbox where source_kind = 'alert'")
                .fetch_one(&pool)
                .await
                .unwrap();
        n as usize
    };
    let evaluating = [
        ("SLUICE__ALERTS__INTERVAL_MS", "50"),
        ("SLUICE__OUTBOX__INTERVAL_MS", "3600000"),
    ];
    let mut server = s.serve(free_port(), &evaluating).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while queued().await == 0 {
        assert!(Instant::now() < deadline, "no alert evaluated");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    sigkill(&mut server);
    let at_kill = queued().await;
    assert!(
        at_kill < PROJECTS,
        "the kill came mid-pass ({at_kill} of {PROJECTS})"
    );

    // Started again: the rest are evaluated, and every project's message is sent once.
    let mut server = s
        .serve(
            free_port(),
            &[
                ("SLUICE__ALERTS__INTERVAL_MS", "50"),
                ("SLUICE__OUTBOX__INTERVAL_MS", "50"),
            ],
        )
        .await;
    wait_until("every project's alert", Duration::from_secs(60), || async {
        receiver.distinct() >= PROJECTS
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    sigkill(&mut server);
    assert_eq!(
        queued().await,
        PROJECTS,
        "one message per project's contact group"
    );
    assert_eq!(receiver.total(), PROJECTS, "none twice");
    let (firing,): (i64,) = sqlx::query_as("select count(*) from alerts where state = 'firing'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(firing as usize, PROJECTS, "one alert per deployment");
    std::fs::remove_dir_all(&s.dir).ok();
}

/// The server killed while 50 jobs are being created at once, ten times over: every
/// job that committed has the audit row of its creation (filed inside the same
/// transaction), and the requests cut off mid-way left nothing else behind.
#[tokio::test]
async fn a_server_killed_during_concurrent_creates_keeps_the_audit_row_of_every_committed_change() {
    const ROUNDS: usize = 10;
    const CREATES: usize = 50;
    let s = setup("audit").await;
    let (_account, token) = s.create_account();
    let env = [("SLUICE__PLANS__STANDARD__PROJECTS_PER_ACCOUNT", "1000")];
    let pool = s.pool().await;
    let http = reqwest::Client::new();
    let id = |v: serde_json::Value| v["id"].as_str().unwrap().to_owned();
    let mut interrupted_rounds = 0;
    for round in 0..ROUNDS {
        let port = free_port();
        let mut server = s.serve(port, &env).await;
        let api = Api {
            base: format!("http://127.0.0.1:{port}"),
            token: token.clone(),
            http: http.clone(),
        };
        let mut projects = Vec::new();
        for i in 0..CREATES {
            projects.push(id(api
                .post(
                    "/projects",
                    serde_json::json!({ "name": format!("r{round}-{i}") }),
                )
                .await));
        }
        let creates: Vec<_> = projects
            .iter()
            .map(|p| {
                let request = http
                    .post(format!("{}/api/v1/projects/{p}/jobs", api.base))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({ "name": "j", "content": { "kind": "sql", "sql": "select 1" } }));
                tokio::spawn(async move { request.send().await.map(|r| r.status()) })
            })
            .collect();
        // Kill as soon as the first of them has committed, while the rest are in flight.
        let round_prefix = format!("r{round}-%");
        wait_until("a first job of the round", Duration::from_secs(30), || {
            let pool = pool.clone();
            let round_prefix = round_prefix.clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(
                    "select count(*) from jobs j join projects p on p.id = j.project_id where p.name like $1",
                )
                .bind(round_prefix)
                .fetch_one(&pool)
                .await
                .unwrap();
                n > 0
            }
        })
        .await;
        sigkill(&mut server);
        let mut answered = 0;
        for create in creates {
            if matches!(create.await.unwrap(), Ok(status) if status.is_success()) {
                answered += 1;
            }
        }
        if answered < CREATES {
            interrupted_rounds += 1;
        }
    }
    assert!(
        interrupted_rounds > 0,
        "no round was cut off mid-way: the kill came too late to test anything"
    );
    let jobs: Vec<(String, i64)> = sqlx::query_as(
        "select j.project_id, (select count(*) from audit_log a
                                where a.project_id = j.project_id and a.action = 'create_job'
                                  and a.outcome = 'success')
           from jobs j",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!jobs.is_empty());
    let missing: Vec<&String> = jobs
        .iter()
        .filter(|(_, rows)| *rows == 0)
        .map(|(p, _)| p)
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} committed jobs have no audit row (projects {missing:?})",
        missing.len(),
        jobs.len()
    );
    // Each committed creation has exactly one row; none claims a job that is not there.
    let (claimed,): (i64,) = sqlx::query_as(
        "select count(*) from audit_log where action = 'create_job' and outcome = 'success'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(claimed, jobs.len() as i64);
}

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

/// A server process that is killed when the test ends, passed or not: a server left
/// running would go on submitting to the shared engine.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
    let project = api
        .post_as("/projects", serde_json::json!({ "name": "p" }), 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let job = api
        .post_as(
            &format!("/projects/{project}/jobs"),
            serde_json::json!({ "name": "stream", "content": { "kind": "sql", "sql": STREAM } }),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
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
    let suspended_at = completed[0]["location"].as_str().unwrap().to_owned();
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
    let upgrade_savepoint = savepoints["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["origin"] == "SUSPEND_AND_UPGRADE" && s["state"] == "COMPLETED")
        .and_then(|s| s["location"].as_str())
        .unwrap_or_else(|| panic!("the upgrade's savepoint was recorded: {savepoints}"))
        .to_owned();
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
