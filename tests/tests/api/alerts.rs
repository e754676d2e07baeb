//! Alerts: rules evaluated against deployments (time passed in, so each step is
//! exact), one grouped message per contact group, reminders, resolution, silences, two
//! replicas evaluating at once, and against the real engine a job that fails behind
//! Sluice's back reaching people by email and webhook.

use std::time::Duration;

use sluice_tests::engine::{local_engine, LocalEngine};
use sluice_tests::receivers::{self, Receivers};
use sluice_tests::smtp::DevSmtp;
use sluice_tests::{json, Client, TestApp};

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
    gateway::alerts::evaluate_all(&app.state, at).await.unwrap()
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

#[tokio::test]
async fn a_rule_fires_once_for_many_deployments_in_one_message_resolves_and_is_muted_by_a_silence()
{
    let receivers = Receivers::start().await;
    let app = TestApp::spawn_with(|c| {
        // Evaluated by the test at instants of its choosing; delivered by the worker.
        c.alerts.interval_ms = 3_600_000;
        c.outbox.interval_ms = 50;
        c.engine.reconcile_interval_ms = 200;
    })
    .await;
    let owner = app.account("Acme").await;
    let (project, paths) = stuck_deployments(&owner, 3).await;
    let group = webhook_group(&owner, &project, &receivers).await;
    for (body, field) in [
        (
            json!({ "name": "x", "condition": "lag", "contact_group_id": group }),
            "condition",
        ),
        (
            json!({ "name": "x", "condition": "state_mismatch", "window_secs": 0, "contact_group_id": group }),
            "window_secs",
        ),
        (
            json!({ "name": "x", "condition": "job_failed", "severity": "P9", "contact_group_id": group }),
            "severity",
        ),
        (
            json!({ "name": "x", "condition": "job_failed", "contact_group_id": "nope" }),
            "contact_group_id",
        ),
        (
            json!({ "name": "x", "condition": "job_failed", "contact_group_id": group, "repeat_secs": 5 }),
            "repeat_secs",
        ),
    ] {
        owner
            .post(&format!("/projects/{project}/alert-rules"), body)
            .await
            .expect_error(422, "invalid_field", Some(field));
    }
    let rule = owner
        .post(
            &format!("/projects/{project}/alert-rules"),
            json!({ "name": "not running", "condition": "state_mismatch", "window_secs": 60, "severity": "P0",
                    "contact_group_id": group, "repeat_secs": 600 }),
        )
        .await
        .expect(201)
        .id();

    // Not yet for a minute; then all three fire, in one message.
    assert_eq!(evaluate(&app, later(30)).await, 0);
    assert_eq!(
        evaluate(&app, later(90)).await,
        1,
        "one message for the contact group"
    );
    assert_eq!(evaluate(&app, later(91)).await, 0, "fires once");
    let got = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        got[0].subject,
        "[P0] 3 alert(s) firing in project analytics"
    );
    assert_eq!(got[0].body.matches("FIRING").count(), 3, "{}", got[0].body);
    let firing = owner
        .list_all(&format!("/projects/{project}/alerts?state=firing"), 50)
        .await;
    assert_eq!(firing.len(), 3);

    // Ten minutes on, still firing: one reminder for all three.
    assert_eq!(evaluate(&app, later(700)).await, 1);
    let got = receivers.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(
        got[1].body.matches("STILL FIRING").count(),
        3,
        "{}",
        got[1].body
    );

    // Two are stopped: as desired now, they resolve; the third stays firing.
    for path in &paths[..2] {
        owner
            .post(&format!("{path}/stop"), json!({ "mode": "SUSPEND" }))
            .await
            .expect(202);
    }
    for path in &paths[..2] {
        wait_status(&owner, path, "SUSPENDED").await;
    }
    assert_eq!(evaluate(&app, later(710)).await, 1);
    let got = receivers.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(
        got[2].subject,
        "[resolved] 2 alert(s) resolved in project analytics"
    );
    let resolved = owner
        .list_all(&format!("/projects/{project}/alerts?state=resolved"), 50)
        .await;
    assert_eq!(resolved.len(), 2);

    // A silence on the first deployment: started again, it fires unannounced; once the
    // silence is lifted, it is announced.
    let d0 = paths[0].rsplit('/').next().unwrap().to_owned();
    let silence = owner
        .post(
            &format!("/projects/{project}/silences"),
            json!({ "deployment_id": d0, "ends_at": chrono::Utc::now() + chrono::Duration::hours(2), "reason": "cluster maintenance" }),
        )
        .await
        .expect(201)
        .id();
    owner
        .post(&format!("{}/start", paths[0]), json!({}))
        .await
        .expect(202);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(evaluate(&app, later(800)).await, 0, "muted");
    let muted = owner
        .list_all(&format!("/projects/{project}/alerts?state=firing"), 50)
        .await;
    let muted = muted
        .iter()
        .find(|a| a["deployment_id"] == d0.as_str())
        .expect("recorded while muted");
    assert!(muted["notified_at"].is_null(), "{muted}");
    owner
        .delete(&format!("/projects/{project}/silences/{silence}"))
        .await
        .expect(204);
    assert_eq!(evaluate(&app, later(801)).await, 1);
    let got = receivers.wait_for(4, Duration::from_secs(10)).await;
    assert!(
        got[3].subject.contains("1 alert(s) firing"),
        "{}",
        got[3].subject
    );

    // Switched off, the rule sends nothing more.
    owner
        .patch(
            &format!("/projects/{project}/alert-rules/{rule}"),
            json!({ "enabled": false }),
        )
        .await
        .expect(204);
    assert_eq!(evaluate(&app, later(5000)).await, 0);
    assert!(owner
        .list_all(&format!("/projects/{project}/alerts?state=firing"), 50)
        .await
        .is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receivers.received().len(), 4);
    assert_eq!(receivers.duplicates(), 0);
}

#[tokio::test]
async fn two_replicas_evaluating_at_once_send_one_message() {
    let receivers = Receivers::start().await;
    let app = TestApp::spawn_with(|c| {
        c.alerts.interval_ms = 3_600_000;
        c.outbox.interval_ms = 50;
    })
    .await;
    let replica = app.replica().await;
    let owner = app.account("Acme").await;
    let (project, _) = stuck_deployments(&owner, 2).await;
    let group = webhook_group(&owner, &project, &receivers).await;
    owner
        .post(
            &format!("/projects/{project}/alert-rules"),
            json!({ "name": "not running", "condition": "state_mismatch", "window_secs": 1, "contact_group_id": group }),
        )
        .await
        .expect(201);
    let at = later(60);
    let (a, b) = tokio::join!(
        gateway::alerts::evaluate_all(&app.state, at),
        gateway::alerts::evaluate_all(&replica.state, at)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "one of them sends, once");
    receivers.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receivers.received().len(), 1);
    assert_eq!(
        owner
            .list_all(&format!("/projects/{project}/alerts"), 50)
            .await
            .len(),
        2,
        "one alert per deployment"
    );
}

#[tokio::test]
async fn a_contact_group_test_send_reports_each_destination() {
    let smtp = DevSmtp::start(false).await;
    let receivers = Receivers::start().await;
    let smtp_config = smtp.smtp_config();
    let app = TestApp::spawn_with(move |c| c.delivery.smtp = smtp_config).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let channel = owner
        .post(
            "/account/notification-channels",
            json!({ "kind": "dingtalk", "name": "robot", "address": receivers.dingtalk_url(), "secret": "SECwrong" }),
        )
        .await
        .expect(201)
        .id();
    let group = owner
        .post(
            &format!("/projects/{project}/contact-groups"),
            json!({ "name": "on-call", "emails": ["Ops@Example.com"], "channel_ids": [channel] }),
        )
        .await
        .expect(201);
    assert_eq!(group.body["emails"][0], "ops@example.com");
    let results = owner
        .post(
            &format!("/projects/{project}/contact-groups/{}/test", group.id()),
            json!({}),
        )
        .await
        .expect(200);
    let results = results.body.as_array().unwrap();
    let email = results.iter().find(|r| r["channel"] == "email").unwrap();
    assert_eq!(email["delivered"], true, "{email}");
    let robot = results.iter().find(|r| r["channel"] == "dingtalk").unwrap();
    assert_eq!(robot["delivered"], false);
    assert!(
        robot["error"].as_str().unwrap().contains("310000"),
        "{robot}"
    );
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails[0].rcpt_tos, ["ops@example.com"]);
    // Another account's channel cannot be borrowed.
    let other = app.account("Other").await;
    let theirs = other
        .post(
            "/account/notification-channels",
            json!({ "kind": "sms", "name": "theirs", "address": "+8613800000001" }),
        )
        .await
        .expect(201)
        .id();
    owner
        .post(
            &format!("/projects/{project}/contact-groups"),
            json!({ "name": "borrowed", "channel_ids": [theirs] }),
        )
        .await
        .expect_error(422, "invalid_field", Some("channel_ids"));
}

#[tokio::test]
async fn a_job_cancelled_behind_sluices_back_fires_a_failed_alert_by_email_and_webhook_and_resolves_after_recovery(
) {
    let Some(engine) = local_engine() else { return };
    let smtp = DevSmtp::start(false).await;
    let receivers = Receivers::start().await;
    let smtp_config = smtp.smtp_config();
    let app = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.delivery.smtp = smtp_config;
        c.engine.reconcile_interval_ms = 200;
        // No restarts: a job that dies is FAILED at once.
        c.engine.max_restarts = 0;
        c.alerts.interval_ms = 200;
        c.outbox.interval_ms = 50;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let channel = owner
        .post(
            "/account/notification-channels",
            json!({ "kind": "webhook", "name": "pager", "address": receivers.webhook_url(), "secret": receivers::WEBHOOK_SECRET }),
        )
        .await
        .expect(201)
        .id();
    let group = owner
        .post(
            &format!("/projects/{project}/contact-groups"),
            json!({ "name": "on-call", "emails": ["ops@example.com"], "channel_ids": [channel] }),
        )
        .await
        .expect(201)
        .id();
    owner
        .post(
            &format!("/projects/{project}/alert-rules"),
            json!({ "name": "job failed", "condition": "job_failed", "severity": "P0", "contact_group_id": group }),
        )
        .await
        .expect(201);
    let job = owner.saved_sql_job(&project, "j", SQL).await;
    let cluster = platform_cluster(&owner).await;
    let d = owner.deployment(&project, "d", &job, &cluster, 1).await;
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let job_id = loop {
        let body = owner.get(&path).await.body;
        if body["status"] == "RUNNING" {
            break body["engine_job_id"].as_str().unwrap().to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "RUNNING: {body}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };

    // Cancelled on the engine, not through Sluice.
    let behind_its_back = reqwest::Client::new()
        .patch(format!("{}/jobs/{job_id}?mode=cancel", engine.rest_url))
        .send()
        .await
        .unwrap();
    assert!(behind_its_back.status().is_success());
    let fired = receivers.wait_for(1, Duration::from_secs(60)).await;
    assert!(
        fired[0].subject.starts_with("[P0] 1 alert(s) firing"),
        "{}",
        fired[0].subject
    );
    assert!(
        fired[0].body.contains("FIRING") && fired[0].body.contains("FAILED"),
        "{}",
        fired[0].body
    );
    let mails = smtp.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(mails[0].rcpt_tos, ["ops@example.com"]);
    assert!(mails[0].header("Subject").unwrap().starts_with("[P0]"));

    // Started again (a failed deployment may be), it recovers; the alert resolves and
    // people are told.
    owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_STATE" }),
        )
        .await
        .expect(202);
    let resolved = receivers.wait_for(2, Duration::from_secs(90)).await;
    assert!(
        resolved[1].subject.starts_with("[resolved]"),
        "{}",
        resolved[1].subject
    );
    let history = owner
        .list_all(&format!("/projects/{project}/alerts"), 10)
        .await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["state"], "resolved");
    cancelled(&owner, &path).await;
}

#[tokio::test]
async fn job_metrics_are_sampled_from_the_engine_for_charts_and_a_stopped_input_fires_its_alert() {
    let Some(engine) = local_engine() else { return };
    let receivers = Receivers::start().await;
    let app = on_engine(&engine, |_| {}).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let group = webhook_group(&owner, &project, &receivers).await;
    // 5 rows a second: far below the rule's 1,000.
    let sql = "CREATE TABLE a (x INT) WITH ('connector' = 'datagen', 'rows-per-second' = '5');\nCREATE TABLE b (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO b SELECT x FROM a;";
    let cluster = platform_cluster(&owner).await;
    let path = started(&owner, &project, "slow", sql, &cluster).await;
    wait_status(&owner, &path, "RUNNING").await;
    owner
        .post(
            &format!("/projects/{project}/alert-rules"),
            json!({ "name": "input stopped", "condition": "input_stopped", "threshold": 1000, "window_secs": 3,
                    "severity": "P1", "contact_group_id": group }),
        )
        .await
        .expect(201);

    // Flink publishes its counters every few seconds: wait for rates that show them, and
    // for samples covering more than the rule's window.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let points = loop {
        let points = owner.get(&format!("{path}/metrics")).await.expect(200).body;
        let flowing = points.as_array().unwrap().iter().any(|p| {
            p["records_in_per_sec"].as_f64().unwrap() > 0.0
                && p["records_out_per_sec"].as_f64().unwrap() > 0.0
        });
        if flowing && points.as_array().unwrap().len() >= 10 {
            break points;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no throughput sampled: {points}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let points = points.as_array().unwrap();
    let first: chrono::DateTime<chrono::Utc> = points[0]["at"].as_str().unwrap().parse().unwrap();
    let last: chrono::DateTime<chrono::Utc> = points[points.len() - 1]["at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let per_interval = (last - first).num_milliseconds() as f64 / (points.len() - 1) as f64;
    assert!(
        (400.0..1500.0).contains(&per_interval),
        "one sample per 500 ms interval: {per_interval} ms"
    );
    for p in points {
        let in_rate = p["records_in_per_sec"].as_f64().unwrap();
        assert!((0.0..100.0).contains(&in_rate), "about 5 rows/s: {p}");
        assert!((0.0..=1.0).contains(&p["backpressure_ratio"].as_f64().unwrap()));
        assert_eq!(p["resolution_secs"], 0);
    }

    // Sampled throughout the last 3 s below 1,000 records/s: the alert fires.
    assert_eq!(
        gateway::alerts::evaluate_all(&app.state, chrono::Utc::now().timestamp_millis())
            .await
            .unwrap(),
        1
    );
    let fired = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert!(fired[0].body.contains("records/s"), "{}", fired[0].body);
    cancelled(&owner, &path).await;
}

#[tokio::test]
async fn backpressure_failed_checkpoints_and_no_checkpoint_fire_from_the_samples_and_resolve() {
    let receivers = Receivers::start().await;
    let app = TestApp::spawn_with(|c| {
        // Nothing observes the engine here: the samples and counters are the test's.
        c.engine.reconcile_interval_ms = 3_600_000;
        c.alerts.interval_ms = 3_600_000;
        c.job_metrics.interval_ms = 1_000;
        c.outbox.interval_ms = 50;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("analytics").await;
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner.saved_sql_job(&project, "j", SQL).await;
    let d = owner.deployment(&project, "d", &job, &cluster, 2).await;
    let group = webhook_group(&owner, &project, &receivers).await;
    for rule in [
        json!({ "name": "backpressure", "condition": "backpressure_high", "threshold": 50, "window_secs": 10, "contact_group_id": group }),
        json!({ "name": "checkpoints failing", "condition": "checkpoint_failures", "threshold": 1, "window_secs": 60, "contact_group_id": group }),
        json!({ "name": "no checkpoint", "condition": "no_checkpoint", "window_secs": 30, "contact_group_id": group }),
    ] {
        owner
            .post(&format!("/projects/{project}/alert-rules"), rule)
            .await
            .expect(201);
    }
    // Running for two minutes, its last checkpoint a minute ago.
    let now = chrono::Utc::now().timestamp_millis();
    let pool = &app.state.db.pool;
    sqlx::query("update deployments set desired_state = 'RUNNING', status = 'RUNNING', last_checkpoint_at = $1 where id = $2")
        .bind(now - 60_000)
        .bind(&d)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("insert into deployment_events (id, deployment_id, kind, message, created_at) values ($1, $2, 'status', 'STARTING -> RUNNING', $3)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&d)
        .bind(now - 120_000)
        .execute(pool)
        .await
        .unwrap();
    let sample = |at: i64, backpressure: f64, failed: i64| {
        let d = d.clone();
        async move {
            sqlx::query(
                "insert into deployment_metrics (deployment_id, at, resolution, records_in, records_out, backpressured_ms, busy_ms,
                     records_in_per_sec, records_out_per_sec, backpressure_ratio, busy_ratio, checkpoints_completed, checkpoints_failed)
                 values ($1, $2, 0, 0, 0, 0, 0, 100.0, 100.0, $3, 0.5, 10, $4)",
            )
            .bind(&d)
            .bind(at)
            .bind(backpressure)
            .bind(failed)
            .execute(pool)
            .await
            .unwrap();
        }
    };
    // A sample a second for the last 12 s: 80% backpressured, 3 checkpoints failing;
    // every fourth second a lag turn instead, one of them just inside the window's start
    // (the first sample in the window comes 2 s after it).
    for (i, failed) in (0..12).zip([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]) {
        if i % 4 != 2 {
            sample(now - (11 - i) * 1000, 0.8, failed).await;
        }
    }
    assert_eq!(evaluate(&app, now).await, 1, "one message for the three");
    let got = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        got[0].subject,
        "[P1] 3 alert(s) firing in project analytics"
    );
    for words in [
        "backpressured at least 50%",
        "3 checkpoint(s) failed",
        "no checkpoint completed",
    ] {
        assert!(got[0].body.contains(words), "{words}: {}", got[0].body);
    }

    // Backpressure eases and a checkpoint completes: those two resolve; the failures
    // counted in the last minute keep theirs firing.
    sample(now + 1_000, 0.2, 3).await;
    sqlx::query("update deployments set last_checkpoint_at = $1 where id = $2")
        .bind(now + 1_000)
        .bind(&d)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(evaluate(&app, now + 1_500).await, 1);
    let got = receivers.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(
        got[1].subject,
        "[resolved] 2 alert(s) resolved in project analytics"
    );
    let firing = owner
        .list_all(&format!("/projects/{project}/alerts?state=firing"), 10)
        .await;
    assert_eq!(firing.len(), 1);
    assert!(firing[0]["summary"]
        .as_str()
        .unwrap()
        .contains("checkpoint(s) failed"));
    // Ten minutes on, with no samples since: the failures fall out of their minute and
    // resolve, no checkpoint for ten minutes fires again, and backpressure, whose window
    // no sample covers, fires nothing.
    assert_eq!(evaluate(&app, now + 600_000).await, 1);
    let got = receivers.wait_for(3, Duration::from_secs(10)).await;
    assert!(
        got[2].body.contains("RESOLVED checkpoints failing"),
        "{}",
        got[2].body
    );
    assert!(
        got[2].body.contains("FIRING no checkpoint"),
        "{}",
        got[2].body
    );
    assert!(!got[2].body.contains("backpressure"), "{}", got[2].body);
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

#[tokio::test]
async fn a_job_the_engine_keeps_restarting_fires_job_failed_and_resolves_once_stopped() {
    let Some(engine) = local_engine() else { return };
    let receivers = Receivers::start().await;
    let app = on_engine(&engine, |_| {}).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let group = webhook_group(&owner, &project, &receivers).await;
    // Every row fails its cast at run time; the engine restarts the job every 20 s.
    let sql = "SET 'restart-strategy.type' = 'fixed-delay';\nSET 'restart-strategy.fixed-delay.attempts' = '100';\nSET 'restart-strategy.fixed-delay.delay' = '20 s';\n\
               CREATE TABLE a (n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '5');\nCREATE TABLE b (n INT) WITH ('connector' = 'blackhole');\n\
               INSERT INTO b SELECT CAST(CONCAT(CAST(n AS STRING), 'x') AS INT) FROM a;";
    owner
        .post(&format!("/projects/{project}/alert-rules"),
            json!({ "name": "job down", "condition": "job_failed", "severity": "P0", "contact_group_id": group }))
        .await
        .expect(201);
    let cluster = platform_cluster(&owner).await;
    let path = started(&owner, &project, "bad-cast", sql, &cluster).await;

    let point = wait_for_point(&owner, &path, "RESTARTING", |p| {
        p["engine_state"] == "RESTARTING"
    })
    .await;
    let at: chrono::DateTime<chrono::Utc> = point["at"].as_str().unwrap().parse().unwrap();
    // Evaluated just after the sample: it is the latest one then.
    assert_eq!(evaluate(&app, at.timestamp_millis() + 1).await, 1);
    let fired = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert!(fired[0].body.contains("RESTARTING"), "{}", fired[0].body);
    assert!(fired[0].body.contains("[P0] FIRING"), "{}", fired[0].body);

    cancelled(&owner, &path).await;
    // Not meant to run any more: resolved.
    assert_eq!(evaluate(&app, later(1)).await, 1);
    let messages = receivers.wait_for(2, Duration::from_secs(10)).await;
    assert!(
        messages[1].body.contains("RESOLVED"),
        "{}",
        messages[1].body
    );
}

#[tokio::test]
async fn source_lag_is_read_in_turns_with_one_request_per_interval_and_fires_lag_alerts() {
    let Some(engine) = local_engine() else { return };
    let lagging =
        sluice_tests::engine::LagReportingEngine::start(&engine.rest_url, 90_000.0, 5_000.0).await;
    let receivers = Receivers::start().await;
    let app = on_engine(&engine, |c| {
        c.job_metrics.interval_ms = 300;
        c.job_metrics.lag_every = 2;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let group = webhook_group(&owner, &project, &receivers).await;
    let cluster = owner
        .post(
            "/clusters",
            json!({ "name": "kafka-fed", "rest_url": lagging.url, "flink_version": "2.3.0", "engine_version": "1.0.0" }),
        )
        .await
        .expect(201)
        .id();
    let sql = "CREATE TABLE a (x INT) WITH ('connector' = 'datagen', 'rows-per-second' = '5');\nCREATE TABLE b (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO b SELECT x FROM a;";
    let path = started(&owner, &project, "orders", sql, &cluster).await;
    wait_status(&owner, &path, "RUNNING").await;
    for (name, condition, threshold) in [
        ("lagging", "lag_high", 60_000),
        ("backlog", "pending_records_high", 1_000),
    ] {
        owner
            .post(&format!("/projects/{project}/alert-rules"),
                json!({ "name": name, "condition": condition, "threshold": threshold, "window_secs": 2,
                        "severity": "P2", "contact_group_id": group }))
            .await
            .expect(201);
    }

    let point = wait_for_point(&owner, &path, "source lag", |p| {
        p["source_lag_ms"] == 90_000.0
    })
    .await;
    assert_eq!(point["pending_records"], 5_000.0, "{point}");
    assert_eq!(point["engine_state"], "RUNNING", "{point}");
    // Listed once, then read on every other turn.
    assert_eq!(
        lagging.listings.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert!(lagging.reads.load(std::sync::atomic::Ordering::SeqCst) >= 1);

    // Lagging throughout the window: both rules fire, in one message.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while evaluate(&app, chrono::Utc::now().timestamp_millis()).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the lag rules never fired"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let fired = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert!(
        fired[0].body.contains("lagged over 60000 ms"),
        "{}",
        fired[0].body
    );
    assert!(
        fired[0].body.contains("over 1000 records waited"),
        "{}",
        fired[0].body
    );

    // One request per job per interval: samples plus lag reads over the time they took.
    let points = owner.get(&format!("{path}/metrics")).await.expect(200).body;
    let points = points.as_array().unwrap();
    let first: chrono::DateTime<chrono::Utc> = points[0]["at"].as_str().unwrap().parse().unwrap();
    let span_ms = (chrono::Utc::now() - first).num_milliseconds() as f64;
    let requests = points.len()
        + lagging.reads.load(std::sync::atomic::Ordering::SeqCst)
        + lagging.listings.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        requests as f64 <= span_ms / 300.0 * 1.1 + 2.0,
        "{requests} engine requests for the samples over {span_ms} ms at 300 ms"
    );

    cancelled(&owner, &path).await;
}

#[tokio::test]
async fn a_rule_is_changed_as_checked_as_a_new_one_and_its_firing_alert_ends_with_the_old_terms() {
    let receivers = Receivers::start().await;
    let app = TestApp::spawn_with(|c| {
        c.alerts.interval_ms = 3_600_000;
        c.outbox.interval_ms = 50;
    })
    .await;
    let owner = app.account("Acme").await;
    let (project, _paths) = stuck_deployments(&owner, 1).await;
    let group = webhook_group(&owner, &project, &receivers).await;
    let rule = owner
        .post(
            &format!("/projects/{project}/alert-rules"),
            json!({ "name": "stuck", "condition": "state_mismatch", "window_secs": 1, "contact_group_id": group }),
        )
        .await
        .expect(201)
        .id();
    assert_eq!(evaluate(&app, later(5)).await, 1);
    let rules = format!("/projects/{project}/alert-rules");
    let path = format!("{rules}/{rule}");

    // Out of its condition's range, or another project's group: refused, nothing changed.
    owner
        .patch(&path, json!({ "window_secs": 0 }))
        .await
        .expect_error(422, "invalid_field", Some("window_secs"));
    let other_project = owner.project("other").await;
    let other_group = owner
        .post(
            &format!("/projects/{other_project}/contact-groups"),
            json!({ "name": "theirs", "emails": ["them@example.com"] }),
        )
        .await
        .expect(201)
        .id();
    owner
        .patch(&path, json!({ "contact_group_id": other_group }))
        .await
        .expect_error(422, "invalid_field", Some("contact_group_id"));
    owner
        .patch(&path, json!({ "condition": "restarts" }))
        .await
        .expect(422);

    // Told differently, judged the same (the console sends every field): still firing.
    owner
        .patch(
            &path,
            json!({ "name": "stuck", "window_secs": 1, "severity": "P2", "repeat_secs": 0 }),
        )
        .await
        .expect(204);
    let alerts = owner
        .list_all(&format!("/projects/{project}/alerts"), 10)
        .await;
    assert_eq!(alerts[0]["state"], "firing", "{alerts:?}");

    owner
        .patch(
            &path,
            json!({ "window_secs": 600, "severity": "P0", "name": "stuck long" }),
        )
        .await
        .expect(204);
    let listed = owner.get(&rules).await.expect(200).body;
    assert_eq!(listed[0]["name"], "stuck long");
    assert_eq!(listed[0]["window_secs"], 600);
    assert_eq!(listed[0]["severity"], "P0");
    assert_eq!(listed[0]["condition"], "state_mismatch");
    // The alert fired under the old terms ended with them, unannounced.
    let alerts = owner
        .list_all(&format!("/projects/{project}/alerts"), 10)
        .await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["state"], "resolved");
    assert_eq!(evaluate(&app, later(5)).await, 0, "stuck 5 s is not 600");
    let delivered = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(delivered.len(), 1, "only the first firing was sent");
}

#[tokio::test]
async fn sources_without_lag_are_listed_again_every_few_turns_and_never_read() {
    let Some(engine) = local_engine() else { return };
    let silent = sluice_tests::engine::LagReportingEngine::silent(&engine.rest_url).await;
    let app = on_engine(&engine, |c| {
        c.job_metrics.interval_ms = 100;
        c.job_metrics.lag_every = 1;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner
        .post(
            "/clusters",
            json!({ "name": "datagen-fed", "rest_url": silent.url, "flink_version": "2.3.0", "engine_version": "1.0.0" }),
        )
        .await
        .expect(201)
        .id();
    let path = started(&owner, &project, "quiet", SQL, &cluster).await;
    wait_status(&owner, &path, "RUNNING").await;
    // Every turn is a lag turn: the first lists the source (nothing), the next ten
    // read the job, then it is listed again.
    let listings = || silent.listings.load(std::sync::atomic::Ordering::SeqCst);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while listings() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "listed {} time(s)",
            listings()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(silent.reads.load(std::sync::atomic::Ordering::SeqCst), 0);
    // Samples went on meanwhile, without lag.
    let points = owner.get(&format!("{path}/metrics")).await.expect(200).body;
    let points = points.as_array().unwrap();
    assert!(points.len() >= 5, "{points:?}");
    assert!(points.iter().all(|p| p["source_lag_ms"].is_null()));
    cancelled(&owner, &path).await;
}

#[tokio::test]
async fn the_projects_people_see_the_accounts_channels_by_name_without_their_addresses() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let channel = owner
        .post(
            "/account/notification-channels",
            json!({ "kind": "webhook", "name": "pager", "address": "https://hooks.example.com/secret-path", "secret": "a-signing-secret-of-some-length" }),
        )
        .await
        .expect(201)
        .id();
    let admin = app
        .member(&owner, "member", Some((&project, "admin")), false)
        .await;
    // The account's own list is for account admins.
    admin
        .get("/account/notification-channels")
        .await
        .expect_error(403, "forbidden", None);
    let choices = admin
        .get(&format!("/projects/{project}/channel-choices"))
        .await
        .expect(200);
    assert_eq!(
        choices.body,
        json!([{ "id": channel, "kind": "webhook", "name": "pager" }])
    );
    assert!(!choices.body.to_string().contains("hooks.example.com"));
    // With it, a project admin makes a group that sends through the channel.
    admin
        .post(
            &format!("/projects/{project}/contact-groups"),
            json!({ "name": "on-call", "channel_ids": [channel] }),
        )
        .await
        .expect(201);
    // A viewer sees where the project's groups send, by name.
    let viewer = app
        .member(&owner, "member", Some((&project, "viewer")), false)
        .await;
    let seen = viewer
        .get(&format!("/projects/{project}/channel-choices"))
        .await
        .expect(200);
    assert_eq!(seen.body, choices.body);
}

#[tokio::test]
async fn a_contact_group_is_replaced_as_checked_as_a_new_one() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let groups = format!("/projects/{project}/contact-groups");
    let create = |name: &str| json!({ "name": name, "emails": ["ops@example.com"] });
    let group = owner
        .post(&groups, create("on-call"))
        .await
        .expect(201)
        .id();
    owner.post(&groups, create("leads")).await.expect(201);
    let path = format!("{groups}/{group}");

    owner
        .put(
            &path,
            json!({ "name": "on-call", "emails": ["not an address"] }),
        )
        .await
        .expect_error(422, "invalid_field", Some("emails"));
    owner
        .put(
            &path,
            json!({ "name": "leads", "emails": ["x@example.com"] }),
        )
        .await
        .expect_error(409, "already_exists", Some("name"));
    let other = owner.project("other").await;
    owner
        .put(
            &format!("/projects/{other}/contact-groups/{group}"),
            json!({ "name": "on-call", "emails": ["x@example.com"] }),
        )
        .await
        .expect(404);

    let replaced = owner
        .put(
            &path,
            json!({ "name": "night shift", "emails": ["b@example.com", "a@example.com", "a@example.com"] }),
        )
        .await
        .expect(200);
    assert_eq!(replaced.body["name"], "night shift");
    assert_eq!(
        replaced.body["emails"],
        json!(["a@example.com", "b@example.com"])
    );
    let listed = owner.get(&groups).await.expect(200).body;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["leads", "night shift"]);
}

#[tokio::test]
async fn an_orphaned_engine_job_and_the_engines_own_restarts_fire_their_rules() {
    let receivers = Receivers::start().await;
    let app = TestApp::spawn_with(|c| {
        // Nothing observes the engine here: the orphan and the restarts are the test's.
        c.engine.reconcile_interval_ms = 3_600_000;
        c.alerts.interval_ms = 3_600_000;
        c.outbox.interval_ms = 50;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("analytics").await;
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner.saved_sql_job(&project, "j", SQL).await;
    let d = owner.deployment(&project, "d", &job, &cluster, 1).await;
    let group = webhook_group(&owner, &project, &receivers).await;
    for rule in [
        json!({ "name": "orphan", "condition": "orphan_job", "contact_group_id": group }),
        json!({ "name": "flapping", "condition": "restarts", "threshold": 1, "window_secs": 600, "contact_group_id": group }),
    ] {
        owner
            .post(&format!("/projects/{project}/alert-rules"), rule)
            .await
            .expect(201);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let pool = &app.state.db.pool;
    // An earlier job of the deployment, reported as still running for no deployment.
    sqlx::query(
        "insert into engine_orphans (cluster_id, engine_job_id, deployment_id, job_name, first_seen_at, reported_at)
         values ($1, '511ce0aa', $2, 'd', $3, $3)",
    )
    .bind(&cluster)
    .bind(&d)
    .bind(now - 10_000)
    .execute(pool)
    .await
    .unwrap();
    // Two restarts by the engine's restart strategy: more than the threshold of one.
    for ago in [60_000, 30_000] {
        sqlx::query("insert into deployment_events (id, deployment_id, kind, message, created_at) values ($1, $2, 'engine_restart', 'the engine restarted job x by itself', $3)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&d)
            .bind(now - ago)
            .execute(pool)
            .await
            .unwrap();
    }
    assert_eq!(evaluate(&app, now).await, 1, "one message for the two");
    let got = receivers.wait_for(1, Duration::from_secs(10)).await;
    for words in [
        "earlier engine job 511ce0aa still runs",
        "restarted 2 times",
    ] {
        assert!(got[0].body.contains(words), "{words}: {}", got[0].body);
    }
    // Cancelled after its grace: the orphan alert resolves.
    sqlx::query("update engine_orphans set cancelled_at = $1")
        .bind(now + 1_000)
        .execute(pool)
        .await
        .unwrap();
    evaluate(&app, now + 2_000).await;
    let got = receivers.wait_for(2, Duration::from_secs(10)).await;
    assert!(got[1].body.contains("RESOLVED orphan"), "{}", got[1].body);
    assert!(
        !got[1].body.contains("RESOLVED flapping"),
        "{}",
        got[1].body
    );
}
