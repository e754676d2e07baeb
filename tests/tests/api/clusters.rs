//! Engine clusters as a resource: registration rules, health, and project defaults.

use sluice_tests::{json, TestApp};

#[tokio::test]
async fn a_cluster_is_registered_checked_and_chosen_by_a_project() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let body = |name: &str, url: &str| json!({ "name": name, "rest_url": url, "flink_version": "2.3.0", "engine_version": "1.0.0" });
    // Nothing listens on port 9: registered, but unhealthy with the reason.
    let down = owner
        .post("/clusters", body("down", "http://127.0.0.1:9"))
        .await
        .expect(201);
    assert_eq!(down.body["health"]["status"], "unhealthy");
    assert!(
        down.body["health"]["detail"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{}",
        down.body
    );
    assert_eq!(down.body["platform"], false);

    owner
        .post("/clusters", body("down", "http://127.0.0.1:9"))
        .await
        .expect_error(409, "already_exists", Some("name"));
    owner
        .post("/clusters", body("x", "ftp://host"))
        .await
        .expect_error(422, "invalid_field", Some("rest_url"));
    owner
        .post("/clusters", body("x", "not a url"))
        .await
        .expect_error(422, "invalid_field", Some("rest_url"));
    owner
        .post("/clusters", json!({ "name": "x", "rest_url": "http://h:1", "flink_version": "two", "engine_version": "1.0" }))
        .await
        .expect_error(422, "invalid_field", Some("flink_version"));

    let project = owner.project("p").await;
    let id = down.id();
    let set = owner
        .patch(
            &format!("/projects/{project}"),
            json!({ "default_cluster_id": id }),
        )
        .await
        .expect(200);
    assert_eq!(set.body["default_cluster_id"], id.as_str());
    owner
        .patch(
            &format!("/projects/{project}"),
            json!({ "default_cluster_id": "nope" }),
        )
        .await
        .expect_error(422, "invalid_field", Some("default_cluster_id"));

    // Another account sees none of it; a plain member cannot register clusters.
    let other = app.account("Other").await;
    other
        .get(&format!("/clusters/{id}"))
        .await
        .expect_error(404, "not_found", None);
    assert!(other
        .get("/clusters")
        .await
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .is_empty());
    let member = app.member(&owner, "member", None, false).await;
    member
        .post("/clusters", body("mine", "http://127.0.0.1:9"))
        .await
        .expect_error(403, "forbidden", None);

    // Removing it clears the project's default.
    owner.delete(&format!("/clusters/{id}")).await.expect(204);
    let project = owner.get(&format!("/projects/{project}")).await.expect(200);
    assert!(project.body["default_cluster_id"].is_null());
}

#[tokio::test]
async fn validation_reports_script_errors_at_their_line_and_column_without_an_engine() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let bad = owner
        .sql_job(&project, "bad", None, "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a WHERE (x > 1;")
        .await
        .expect(201)
        .id();
    let report = owner
        .post(
            &format!("/projects/{project}/jobs/{bad}/validate"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(report.body["valid"], false);
    assert_eq!(report.body["errors"][0]["line"], 2);
    assert_eq!(report.body["errors"][0]["column"], 37);
    assert_eq!(report.body["engine"]["status"], "skipped");

    let good = owner
        .sql_job(&project, "good", None, "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;")
        .await
        .expect(201)
        .id();
    let report = owner
        .post(
            &format!("/projects/{project}/jobs/{good}/validate"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(report.body["statements"].as_array().unwrap().len(), 2);
    assert_eq!(report.body["sources"][0]["connector"], "datagen");
    assert_eq!(report.body["sinks"][0]["name"], "b");
    // No cluster here, so the engine could not check it: not valid yet.
    assert_eq!(report.body["valid"], false);
    assert_eq!(report.body["engine"]["status"], "skipped");
}

// One story of one deployment on an unreachable cluster (reported, retried, cancelled), so it reads top to bottom.
#[tokio::test]
async fn a_deploy_to_an_unreachable_cluster_is_reported_retried_and_can_be_cancelled() {
    // A runner jar is needed to try at all; this one never reaches an engine.
    let runner = std::env::temp_dir().join(format!("runner-{}.jar", uuid::Uuid::new_v4().simple()));
    std::fs::write(&runner, sluice_tests::tiny_jar()).unwrap();
    let runner_path = runner.clone();
    let app = TestApp::spawn_with(move |c| {
        c.engine.sql_runner_jar = runner_path;
        c.engine.reconcile_interval_ms = 200;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner
        .post("/clusters", json!({ "name": "gone", "rest_url": "http://127.0.0.1:9", "flink_version": "2.3.0", "engine_version": "1.0.0" }))
        .await
        .expect(201)
        .id();
    let job = owner
        .sql_job(&project, "j", None, "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;")
        .await
        .expect(201)
        .id();
    // Deployments run saved versions, not drafts.
    owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "d", "job_id": job, "cluster_id": cluster }),
        )
        .await
        .expect_error(422, "invalid_field", Some("version"));
    owner
        .post(
            &format!("/projects/{project}/jobs/{job}/versions"),
            json!({ "message": "v1" }),
        )
        .await
        .expect(201);
    for (body, field) in [
        (
            json!({ "name": "d", "job_id": job, "cluster_id": cluster, "parallelism": 0 }),
            "parallelism",
        ),
        (
            json!({ "name": "d", "job_id": job, "cluster_id": cluster, "cu_per_task": 0.3 }),
            "cu_per_task",
        ),
        (
            json!({ "name": "d", "job_id": "nope", "cluster_id": cluster }),
            "job_id",
        ),
        (
            json!({ "name": "d", "job_id": job, "cluster_id": "nope" }),
            "cluster_id",
        ),
    ] {
        let res = owner
            .post(&format!("/projects/{project}/deployments"), body)
            .await;
        assert_eq!(res.field(), field, "{}", res.body);
    }
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "d", "job_id": job, "cluster_id": cluster }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "SOMETIMES" }),
        )
        .await
        .expect_error(422, "invalid_field", Some("restore_mode"));
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);

    // The failure is reported, not swallowed, and the start stays pending.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let reported = loop {
        let res = owner.get(&path).await.expect(200);
        if res.body["last_error"].is_string() {
            break res;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no error reported: {}",
            res.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(reported.body["status"], "STARTING");
    assert!(
        reported.body["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot take the job"),
        "{}",
        reported.body
    );
    owner
        .delete(&path)
        .await
        .expect_error(409, "deployment_active", None);
    // The job and its artifact cannot be pulled from under a deployment.
    owner
        .delete(&format!("/projects/{project}/jobs/{job}"))
        .await
        .expect(409);

    owner
        .post(&format!("{path}/stop"), json!({ "mode": "CANCEL" }))
        .await
        .expect(202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let res = owner.get(&path).await.expect(200);
        if res.body["status"] == "CANCELLED" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not cancelled: {}",
            res.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    owner
        .post(&format!("{path}/stop"), json!({}))
        .await
        .expect_error(409, "deployment_not_running", None);
    owner.delete(&path).await.expect(204);
    std::fs::remove_file(&runner).ok();
}

#[tokio::test]
async fn an_engine_versions_connectors_come_from_the_catalogue_of_its_flink_version() {
    let catalogue = std::env::temp_dir().join(format!(
        "sluice-connectors-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(catalogue.join("2.3.0")).unwrap();
    std::fs::write(
        catalogue.join("2.3.0/manifest.json"),
        json!({ "flink_version": "2.3.0", "entries": [{
            "identifiers": ["kafka", "upsert-kafka"], "kind": "connector",
            "jars": [{ "file": "k.jar", "sha256": "00ff", "bytes": 2, "maven": "org.apache.flink:k:1" }]
        }]})
        .to_string(),
    )
    .unwrap();
    let dir = catalogue.clone();
    let app = TestApp::spawn_with(move |c| c.engine.connectors_dir = dir).await;
    let owner = app.account("Acme").await;
    owner
        .get("/engine-versions/7.7.7/connectors")
        .await
        .expect_error(404, "not_found", None);
    // The platform's default engine version is known to everyone.
    let served = owner
        .get("/engine-versions/1.0.0/connectors")
        .await
        .expect(200)
        .body;
    assert_eq!(served["flink_version"], "2.3.0");
    let named = |id: &str| {
        served["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["identifier"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {id} in {served}"))
    };
    assert_eq!(
        named("upsert-kafka")["jars"][0]["maven"],
        "org.apache.flink:k:1"
    );
    assert_eq!(named("upsert-kafka")["source"], "catalogue");
    assert_eq!(named("datagen")["source"], "engine");
    assert_eq!(named("json")["kind"], "format");
    // An unscheduled version is known from the account's clusters that run it; the
    // catalogue has nothing for its Flink version, so only the engine's own are listed.
    owner
        .post(
            "/clusters",
            json!({ "name": "old", "rest_url": "http://old.invalid:9", "flink_version": "1.20.5", "engine_version": "0.9.0" }),
        )
        .await
        .expect(201);
    let old = owner
        .get("/engine-versions/0.9.0/connectors")
        .await
        .expect(200)
        .body;
    assert_eq!(old["flink_version"], "1.20.5");
    assert!(old["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["source"] == "engine"));
    // Another account's cluster says nothing about this account's versions.
    let other = app.account("Other").await;
    other
        .get("/engine-versions/0.9.0/connectors")
        .await
        .expect_error(404, "not_found", None);
    std::fs::remove_dir_all(&catalogue).ok();
}
