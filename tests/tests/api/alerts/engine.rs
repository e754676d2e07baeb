//! Against the real engine: a job that fails behind Sluice's back, job metrics sampled
//! for charts, a job the engine keeps restarting, source lag read in turns, and a real
//! Kafka source's own lag firing and resolving its rule.

use std::time::Duration;

use super::{
    cancelled, evaluate, later, on_engine, platform_cluster, started, wait_for_point, wait_status,
    webhook_group, SQL,
};
use sluice_tests::engine::local_engine;
use sluice_tests::kafka::local_kafka;
use sluice_tests::receivers::{self, Receivers};
use sluice_tests::smtp::DevSmtp;
use sluice_tests::{json, TestApp};

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
        workers::alerts::evaluate_all(&app.state, chrono::Utc::now().timestamp_millis())
            .await
            .unwrap(),
        1
    );
    let fired = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert!(fired[0].body.contains("records/s"), "{}", fired[0].body);
    cancelled(&owner, &path).await;
}

#[tokio::test]
async fn a_job_chained_from_source_to_sink_in_one_task_shows_its_throughput() {
    let Some(engine) = local_engine() else { return };
    let app = on_engine(&engine, |c| c.job_metrics.interval_ms = 300).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    // At parallelism 1 the engine chains all three operators into one task: no record
    // crosses the network, so the vertex counters stay at 0.
    let sql = "CREATE TABLE a (x INT) WITH ('connector' = 'datagen', 'rows-per-second' = '20');\nCREATE TABLE b (x INT) WITH ('connector' = 'print');\nINSERT INTO b SELECT x FROM a WHERE x IS NOT NULL;";
    let cluster = platform_cluster(&owner).await;
    let path = started(&owner, &project, "chained", sql, &cluster).await;
    wait_status(&owner, &path, "RUNNING").await;
    let job_id = owner.get(&path).await.body["engine_job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let job: serde_json::Value = reqwest::get(format!("{}/jobs/{job_id}", engine.rest_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        job["vertices"].as_array().unwrap().len(),
        1,
        "one task: {job}"
    );

    let point = wait_for_point(&owner, &path, "records in and out", |p| {
        p["records_in_per_sec"].as_f64().unwrap() > 0.0
            && p["records_out_per_sec"].as_f64().unwrap() > 0.0
    })
    .await;
    // The engine's own meters (a moving average over its last minute): never more than
    // the 20 rows a second the source makes.
    for rate in ["records_in_per_sec", "records_out_per_sec"] {
        let rate = point[rate].as_f64().unwrap();
        assert!(rate <= 21.0, "{point}");
    }
    assert_eq!(point["throughput_reported"], true);
    cancelled(&owner, &path).await;
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
async fn sources_without_lag_are_listed_again_every_few_turns_and_never_read() {
    let Some(engine) = local_engine() else { return };
    let silent = sluice_tests::engine::LagReportingEngine::silent(&engine.rest_url).await;
    let app = on_engine(&engine, |c| {
        c.job_metrics.interval_ms = 100;
        c.job_metrics.lag_every = 2;
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

/// A Kafka source's own lag metric, read from the engine as it reports it: records
/// written five minutes ago arrive all at once (an input that was stopped and then
/// floods in), the source emits them five minutes late, `lag_high` fires; fresh records
/// follow, the job has caught up, and the alert resolves.
#[tokio::test]
async fn a_kafka_sources_own_lag_fires_lag_high_and_resolves_once_it_catches_up() {
    let (Some(engine), Some(kafka)) = (local_engine(), local_kafka().await) else {
        return;
    };
    let receivers = Receivers::start().await;
    let app = on_engine(&engine, |c| {
        c.job_metrics.interval_ms = 300;
        c.job_metrics.lag_every = 2;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let group = webhook_group(&owner, &project, &receivers).await;
    let cluster = platform_cluster(&owner).await;
    let topic = kafka.topic("clicks").await;
    let bootstrap = &kafka.bootstrap;
    let sql = format!(
        "CREATE TABLE clicks (n INT) WITH ('connector' = 'kafka', 'topic' = '{topic}',
  'properties.bootstrap.servers' = '{bootstrap}', 'properties.group.id' = 'lag',
  'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
CREATE TABLE seen (n INT) WITH ('connector' = 'blackhole');
INSERT INTO seen SELECT n FROM clicks;"
    );
    let path = started(&owner, &project, "clicks", &sql, &cluster).await;
    wait_status(&owner, &path, "RUNNING").await;
    owner
        .post(
            &format!("/projects/{project}/alert-rules"),
            json!({ "name": "late", "condition": "lag_high", "threshold": 60_000, "window_secs": 2,
                    "severity": "P2", "contact_group_id": group }),
        )
        .await
        .expect(201);

    let values: Vec<String> = (0..200).map(|n| format!(r#"{{"n": {n}}}"#)).collect();
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    let five_minutes_ago = chrono::Utc::now() - chrono::Duration::minutes(5);
    kafka.produce_at(&topic, &values, five_minutes_ago).await;
    let late = wait_for_point(&owner, &path, "the source's lag", |p| {
        p["source_lag_ms"]
            .as_f64()
            .is_some_and(|lag| lag > 290_000.0)
    })
    .await;
    assert!(
        late["source_lag_ms"].as_f64().unwrap() < 400_000.0,
        "{late}"
    );
    // Samples come every 300 ms; on a busy machine a window may take longer to fill.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while evaluate(&app, chrono::Utc::now().timestamp_millis()).await == 0 {
        assert!(std::time::Instant::now() < deadline, "lag_high never fired");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let fired = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert!(
        fired[0].body.contains("lagged over 60000 ms"),
        "{}",
        fired[0].body
    );

    // Caught up: fresh records, emitted as they come.
    kafka.produce(&topic, &values[..20]).await;
    wait_for_point(&owner, &path, "no lag", |p| {
        p["source_lag_ms"]
            .as_f64()
            .is_some_and(|lag| lag < 60_000.0)
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        evaluate(&app, chrono::Utc::now().timestamp_millis()).await;
        let alerts = owner
            .list_all(&format!("/projects/{project}/alerts"), 10)
            .await;
        if alerts.first().is_some_and(|a| a["state"] == "resolved") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lag_high never resolved: {alerts:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let told = receivers.wait_for(2, Duration::from_secs(10)).await;
    assert!(
        told[1].subject.starts_with("[resolved]"),
        "{}",
        told[1].subject
    );
    cancelled(&owner, &path).await;
}
