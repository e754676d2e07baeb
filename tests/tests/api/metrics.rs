//! Sluice's own metrics: `/metrics` parses as the Prometheus text format and counts
//! requests under their route templates, background passes and the outbox; on a
//! listener of its own when configured.

use sluice_tests::TestApp;

/// One sample as the Prometheus client's parser read it.
struct Sample {
    name: String,
    labels: serde_json::Map<String, serde_json::Value>,
    value: f64,
}

/// Fetches `/metrics` and parses it with the Prometheus client's own parser
/// (`scripts/test-tools`), which refuses what a scraper would.
async fn scrape(url: &str) -> Vec<Sample> {
    let res = reqwest::get(url).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".engine/test-tools/bin/python");
    assert!(
        python.is_file(),
        "run scripts/test-tools/install.sh (scripts/test.sh does)"
    );
    let mut child = std::process::Command::new(python)
        .arg(root.join("scripts/test-tools/parse_metrics.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused the exposition: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            Sample {
                name: v["name"].as_str().unwrap().to_owned(),
                labels: v["labels"].as_object().unwrap().clone(),
                value: v["value"].as_f64().unwrap(),
            }
        })
        .collect()
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).and_then(|x| x.as_str()) == Some(*v))
        })
        .map(|s| s.value)
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_report_workers_and_the_outbox() {
    let app = TestApp::spawn_with(|c| c.engine.reconcile_interval_ms = 100).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    for _ in 0..3 {
        owner.get(&format!("/projects/{project}")).await.expect(200);
    }
    owner.get("/projects/nope").await.expect(404);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let scrape = scrape(&format!("{}/metrics", app.base)).await;
    let route = "/api/v1/projects/{project_id}";
    assert_eq!(
        value(
            &scrape,
            "sluice_http_requests_total",
            &[("route", route), ("method", "GET"), ("status", "200")]
        ),
        Some(3.0),
        "counted under the template, never the raw path"
    );
    assert_eq!(
        value(
            &scrape,
            "sluice_http_requests_total",
            &[("route", route), ("status", "404")]
        ),
        Some(1.0)
    );
    assert!(!scrape.iter().any(|s| s
        .labels
        .values()
        .any(|v| v.as_str().unwrap_or("").contains(&project))));
    assert!(
        value(
            &scrape,
            "sluice_http_request_duration_seconds_count",
            &[("route", route)]
        )
        .unwrap()
            >= 4.0
    );
    assert!(
        value(
            &scrape,
            "sluice_worker_pass_duration_seconds_count",
            &[("worker", "reconcile")]
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        value(
            &scrape,
            "sluice_worker_last_success_timestamp_seconds",
            &[("worker", "reconcile")]
        )
        .unwrap()
            > 0.0
    );
    assert_eq!(
        value(
            &scrape,
            "sluice_outbox_messages",
            &[("channel", "webhook"), ("status", "pending")]
        ),
        Some(0.0)
    );
    assert!(value(&scrape, "sluice_db_pool_connections", &[("state", "idle")]).is_some());
}

#[tokio::test]
async fn on_a_listener_of_their_own_metrics_leave_the_api_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::spawn_with(move |c| c.metrics.listen = format!("127.0.0.1:{port}")).await;
    let on_api = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert_eq!(on_api.status(), 404);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .is_err()
    {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let scrape = scrape(&format!("http://127.0.0.1:{port}/metrics")).await;
    assert!(scrape
        .iter()
        .any(|s| s.name == "sluice_db_pool_connections"));
}

#[tokio::test]
async fn old_job_samples_are_averaged_into_coarser_points_and_dropped_past_the_retention() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner
        .saved_sql_job(&project, "j", "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;")
        .await;
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            sluice_tests::json!({ "name": "d", "job_id": job, "cluster_id": cluster }),
        )
        .await
        .expect(201)
        .id();
    let now = chrono::Utc::now().timestamp_millis();
    let bucket = (now - 2 * 3_600_000) / 300_000 * 300_000;
    let insert = |at: i64, resolution: i64, rate: f64| {
        let (pool, d) = (app.state.db.pool.clone(), d.clone());
        async move {
            sqlx::query(
                "insert into deployment_metrics (deployment_id, at, resolution, records_in, records_out, backpressured_ms, busy_ms,
                     records_in_per_sec, records_out_per_sec, backpressure_ratio, busy_ratio, checkpoints_completed, checkpoints_failed)
                 values ($1, $2, $3, 0, 0, 0, 0, $4, $4, 0.5, 0.25, 1, 0)",
            )
            .bind(&d)
            .bind(at)
            .bind(resolution)
            .bind(rate)
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    // Ten raw samples two hours ago, 10 to 100 records/s; one ten minutes ago; one
    // averaged point from eight days ago.
    for i in 0..10 {
        insert(bucket + i * 30_000, 0, 10.0 * (i + 1) as f64).await;
    }
    insert(now - 600_000, 0, 7.0).await;
    insert(now - 8 * 86_400_000, 300, 1.0).await;
    for _ in 0..2 {
        workers::job_metrics::compact(&app.state, now)
            .await
            .unwrap();
    }
    let points = owner
        .get(&format!(
            "/projects/{project}/deployments/{d}/metrics?from={}",
            (chrono::Utc::now() - chrono::Duration::days(10))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ))
        .await
        .expect(200)
        .body;
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 2, "{points:?}");
    assert_eq!(points[0]["resolution_secs"], 300);
    assert_eq!(
        points[0]["records_in_per_sec"], 55.0,
        "the bucket's average"
    );
    assert_eq!(points[1]["resolution_secs"], 0, "recent samples stay raw");
    assert_eq!(points[1]["records_in_per_sec"], 7.0);
    owner
        .get(&format!("/projects/{project}/deployments/{d}/metrics?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z"))
        .await
        .expect_error(422, "invalid_field", Some("from"));
}
