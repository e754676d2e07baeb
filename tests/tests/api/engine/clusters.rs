//! Clusters beside the platform's: Flink 1.20, a cluster that restarts empty, an
//! engine version reaching its end of service, and the Flink version read from the
//! engine rather than taken from the registration.

use super::{wait_until, WINDOWED};
use sluice_tests::engine::local_engine;
use sluice_tests::{json, TestApp};

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
    // The engine as the account's own cluster, as engine version 7.0.0.
    let app = with_engine_as_own_cluster(&engine).await;
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
    domain::product_forms::set_engine_version(&app.state.db, &version)
        .await
        .unwrap();
    let before = version.eos - chrono::Duration::seconds(1);
    assert_eq!(
        domain::product_forms::stop_at_end_of_service(&app.state, before)
            .await
            .unwrap(),
        0,
        "a second before EOS nothing stops"
    );
    // On the EOS date (time passed in, as the reconciler's clock would read it):
    assert_eq!(
        domain::product_forms::stop_at_end_of_service(&app.state, version.eos)
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

/// A server whose platform cluster is elsewhere (a closed port), so the local engine can
/// be the account's own under a label of its choosing: one address runs one engine
/// version.
async fn with_engine_as_own_cluster(engine: &sluice_tests::engine::LocalEngine) -> TestApp {
    TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.default_cluster_url = "http://127.0.0.1:9".to_owned();
        c.engine.reconcile_interval_ms = 200;
    })
    .await
}

/// Operators' schedule of `label` as Flink `flink_version` (dates far from now).
async fn scheduled(app: &TestApp, label: &str, flink_version: &str) {
    sqlx::query(
        "insert into engine_versions (label, flink_version, announced_at, ga, eogs, eofs, eos, updated_at)
         values ($1, $2, 0, 0, 4102444800000, 4102444800000, 4102444800000, 0)",
    )
    .bind(label)
    .bind(flink_version)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_clusters_flink_version_is_read_from_the_engine_and_its_label_must_be_one_scheduled_for_it(
) {
    let Some(engine) = local_engine() else { return };
    let app = with_engine_as_own_cluster(&engine).await;
    scheduled(&app, "1.0.0", "2.3.0").await;
    scheduled(&app, "0.9.0", "1.20.5").await;
    let owner = app.account("Acme").await;
    let register = |body: serde_json::Value| {
        let owner = &owner;
        async move { owner.post("/clusters", body).await }
    };
    // What the registration says is checked against what the engine says.
    register(json!({ "name": "c", "rest_url": engine.rest_url, "flink_version": "1.20.5", "engine_version": "1.0.0" }))
        .await
        .expect_error(422, "invalid_field", Some("flink_version"))
        .assert_message_contains("runs Flink 2.3.0, not 1.20.5");
    // A label of another Flink, or none scheduled while some are: another lifecycle.
    register(json!({ "name": "c", "rest_url": engine.rest_url, "engine_version": "0.9.0" }))
        .await
        .expect_error(422, "invalid_field", Some("engine_version"))
        .assert_message_contains(
            "engine version 0.9.0 is Flink 1.20.5; the cluster runs Flink 2.3.0",
        );
    register(json!({ "name": "c", "rest_url": engine.rest_url, "engine_version": "5.5.5" }))
        .await
        .expect_error(422, "invalid_field", Some("engine_version"))
        .assert_message_contains(
            "Flink 2.3.0 is engine version 1.0.0: name one of them, not 5.5.5",
        );
    // The platform's address under another label than the platform's.
    register(json!({ "name": "c", "rest_url": "http://127.0.0.1:9", "flink_version": "2.3.0", "engine_version": "7.7.7" }))
        .await
        .expect_error(409, "already_exists", Some("rest_url"))
        .assert_message_contains("cluster `local` is registered at http://127.0.0.1:9 as engine version 1.0.0");
    // Without flink_version: read from the engine.
    let cluster =
        register(json!({ "name": "c", "rest_url": engine.rest_url, "engine_version": "1.0.0" }))
            .await
            .expect(201);
    assert_eq!(cluster.body["flink_version"], "2.3.0");
    assert_eq!(
        cluster.body["health"]["status"], "healthy",
        "{}",
        cluster.body
    );
    let cluster = cluster.id();
    // The same address under another label would follow another lifecycle.
    register(json!({ "name": "d", "rest_url": engine.rest_url, "engine_version": "7.7.7" }))
        .await
        .expect_error(409, "already_exists", Some("rest_url"))
        .assert_message_contains("as engine version 1.0.0");

    // Registered as 1.20.5 behind Sluice's back (as if the cluster had been replaced):
    // the health check says so and a start is refused before anything runs.
    sqlx::query("update engine_clusters set flink_version = '1.20.5', engine_version = '0.9.0' where id = $1")
        .bind(&cluster)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let checked = owner
        .post(&format!("/clusters/{cluster}/health-check"), json!({}))
        .await
        .expect(200);
    assert_eq!(checked.body["health"]["status"], "unhealthy");
    assert!(
        checked.body["health"]["detail"]
            .as_str()
            .unwrap()
            .starts_with("runs Flink 2.3.0, but is registered as Flink 1.20.5"),
        "{}",
        checked.body
    );
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "w", WINDOWED).await;
    let d = owner.deployment(&project, "d", &job, &cluster, 1).await;
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    let failed = wait_until(&owner, &path, 30, "FAILED", |b| b["status"] == "FAILED").await;
    assert!(
        failed["last_error"]
            .as_str()
            .unwrap()
            .starts_with("the cluster runs Flink 2.3.0, but is registered as Flink 1.20.5 (engine version 0.9.0)"),
        "{failed}"
    );
    assert!(
        failed["engine_job_id"].is_null(),
        "nothing submitted: {failed}"
    );
}
