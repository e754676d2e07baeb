//! Alert evaluation killed mid-pass.

use std::time::{Duration, Instant};

use super::{Api, Receiver};
use crate::harness::{free_port, setup, sigkill, wait_until};

// One story: set up, killed mid-pass, started again over the same database, so it reads top to bottom.
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
