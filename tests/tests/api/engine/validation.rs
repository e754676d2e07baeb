//! The platform cluster's health, and validation that ends in the engine's dry run.

use super::WINDOWED;
use sluice_tests::engine::local_engine;
use sluice_tests::{json, TestApp};

/// Creates a SQL job and validates it; the report.
async fn validate_new_job(
    owner: &sluice_tests::Client,
    project: &str,
    name: &str,
    sql: &str,
) -> serde_json::Value {
    let job = owner
        .sql_job(project, name, None, sql)
        .await
        .expect(201)
        .id();
    owner
        .post(
            &format!("/projects/{project}/jobs/{job}/validate"),
            json!({}),
        )
        .await
        .expect(200)
        .body
}

#[tokio::test]
async fn the_platform_cluster_is_listed_and_healthy() {
    let Some(engine) = local_engine() else { return };
    let app = TestApp::spawn_with(|c| engine.configure(c)).await;
    let owner = app.account("Acme").await;
    let clusters = owner.get("/clusters").await.expect(200);
    let local = &clusters.body[0];
    assert_eq!(local["platform"], true);
    let id = local["id"].as_str().unwrap();
    let checked = owner
        .post(&format!("/clusters/{id}/health-check"), json!({}))
        .await
        .expect(200);
    assert_eq!(
        checked.body["health"]["status"], "healthy",
        "{}",
        checked.body
    );
    assert!(checked.body["health"]["detail"]
        .as_str()
        .unwrap()
        .contains("task manager"));
}

#[tokio::test]
async fn a_good_script_gets_the_engines_plan_and_a_bad_one_its_refusal_in_place() {
    let Some(engine) = local_engine() else { return };
    let app = TestApp::spawn_with(|c| engine.configure(c)).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;

    let report = validate_new_job(&owner, &project, "windowed", WINDOWED).await;
    assert_eq!(report["valid"], true, "{}", report);
    assert_eq!(report["engine"]["status"], "planned");
    assert!(
        !report["plan"]["nodes"].as_array().unwrap().is_empty(),
        "{}",
        report
    );

    let unknown_connector = WINDOWED.replace("'blackhole'", "'nope'");
    let report = validate_new_job(&owner, &project, "bad", &unknown_connector).await;
    assert_eq!(report["valid"], false);
    assert_eq!(report["engine"]["status"], "refused");
    let error = &report["errors"][0];
    assert!(
        error["message"].as_str().unwrap().contains("'nope'"),
        "{}",
        report
    );
    assert_eq!(
        error["statement"], 2,
        "the CREATE TABLE naming 'nope': {}",
        report
    );
    assert_eq!(error["line"], 6);

    let misspelt = WINDOWED.replace("GROUP BY", "GROUPP BY");
    let report = validate_new_job(&owner, &project, "misspelt", &misspelt).await;
    assert_eq!(report["engine"]["status"], "refused", "{}", report);
    assert_eq!(report["errors"][0]["statement"], 3, "{}", report);
    assert_eq!(report["errors"][0]["line"], 9, "{}", report);
}

#[tokio::test]
async fn a_cluster_that_lost_the_runner_gets_it_again() {
    let Some(engine) = local_engine() else { return };
    let app = TestApp::spawn_with(|c| engine.configure(c)).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner
        .sql_job(&project, "windowed", None, WINDOWED)
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/jobs/{job}/validate");
    let validate = || owner.post(&path, json!({}));
    assert_eq!(validate().await.expect(200).body["valid"], true);

    // Remove every jar behind Sluice's back, as a JobManager restart would.
    let client = engine_client::EngineClient::new(&engine.rest_url).unwrap();
    let (jar_id,): (String,) = sqlx::query_as("select jar_id from engine_jars")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    client.delete_jar(&jar_id).await.unwrap();
    let report = validate().await.expect(200).body;
    assert_eq!(report["valid"], true, "{}", report);
    let (again,): (String,) = sqlx::query_as("select jar_id from engine_jars")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_ne!(again, jar_id);
}

/// A connector or format the engine does not have is marked at the option that names it
/// in the DDL, not at the INSERT that uses it, with what the catalogue offers instead.
#[tokio::test]
async fn an_unknown_connector_or_format_is_marked_at_its_option() {
    let Some(engine) = local_engine() else { return };
    let app = TestApp::spawn_with(|c| engine.configure(c)).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    for (name, sql, line, column, named) in [
        (
            "connector",
            "CREATE TABLE src (x BIGINT) WITH ('connector' = 'datagen');\nCREATE TABLE snk (x BIGINT) WITH (\n  'connector' = 'blackhol');\nINSERT INTO snk SELECT x FROM src;",
            3,
            17,
            "blackhol",
        ),
        (
            "format",
            "CREATE TABLE src (x BIGINT) WITH ('connector' = 'datagen');\nCREATE TABLE snk (x BIGINT) WITH ('connector' = 'filesystem', 'path' = '/tmp/x',\n    'format' = 'jsn');\nINSERT INTO snk SELECT x FROM src;",
            3,
            16,
            "jsn",
        ),
    ] {
        let report = validate_new_job(&owner, &project, name, sql).await;
        assert_eq!(report["valid"], false, "{report}");
        let error = &report["errors"][0];
        assert_eq!((error["line"].as_u64(), error["column"].as_u64()), (Some(line), Some(column)), "{report}");
        assert_eq!(error["statement"], 2, "{report}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(named), "{message}");
        // What the engine version's catalogue has instead.
        let hint = error["hint"].as_str().unwrap();
        assert!(hint.contains("catalogue"), "{hint}");
        assert!(hint.contains(if name == "format" { "json" } else { "datagen" }), "{hint}");
    }
}
