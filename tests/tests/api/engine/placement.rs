//! Which cluster takes a JAR job: the platform's shared cluster runs no custom code, so
//! a JAR job is created, started and upgraded to only on a cluster the account
//! registered; SQL jobs run on either.

use super::{cancel, on_the_engine, run_stateless, STREAM};
use sluice_tests::engine::local_engine;
use sluice_tests::{json, Client};

const RULE: &str = "JAR jobs run only on a cluster your account registered";

async fn platform_cluster(owner: &Client) -> String {
    let clusters = owner.get("/clusters").await.expect(200);
    let platform = clusters
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["platform"] == true);
    platform.expect("the platform's cluster")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_jar_job_deploys_only_on_the_accounts_own_cluster_and_sql_anywhere() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let deployments = format!("/projects/{project}/deployments");
    let platform = platform_cluster(&owner).await;
    let (jar, _) = owner
        .saved_jar_job(&project, "custom", "com.example.Main")
        .await;

    // On the platform's cluster, named or by default, it is refused, and nothing is made.
    for body in [
        json!({ "name": "jar", "job_id": jar, "cluster_id": platform }),
        json!({ "name": "jar", "job_id": jar }),
    ] {
        let refused = owner.post(&deployments, body).await.expect_error(
            422,
            "invalid_field",
            Some("cluster_id"),
        );
        assert!(refused.message().contains(RULE), "{}", refused.body);
        assert!(refused.message().contains("/clusters"), "{}", refused.body);
    }
    assert!(owner.list_all(&deployments, 10).await.is_empty());

    // The same job deploys on the same engine registered as the account's own.
    let own = owner.own_cluster("own", &engine.rest_url).await;
    let on_own = owner.deployment(&project, "jar", &jar, &own, 1).await;
    let created = owner
        .get(&format!("{deployments}/{on_own}"))
        .await
        .expect(200);
    assert_eq!(created.body["cluster_id"], own.as_str());

    // A SQL job still deploys on the platform's cluster (the project's default).
    let sql = owner.saved_sql_job(&project, "sql", STREAM).await;
    let on_platform = owner
        .post(&deployments, json!({ "name": "sql", "job_id": sql }))
        .await
        .expect(201);
    assert_eq!(on_platform.body["cluster_id"], platform.as_str());
    assert_eq!(owner.list_all(&deployments, 10).await.len(), 2);

    // A JAR deployment found on the platform's cluster (made before the rule) does not
    // start, and stays as it was.
    sqlx::query("update deployments set cluster_id = $1 where id = $2")
        .bind(&platform)
        .bind(&on_own)
        .execute(&app.state.db.pool)
        .await
        .expect("moved to the platform's cluster");
    let path = format!("{deployments}/{on_own}");
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect_error(422, "invalid_field", Some("cluster_id"));
    let after = owner.get(&path).await.expect(200);
    assert_eq!(after.body["desired_state"], "CANCELLED", "{}", after.body);
    assert_eq!(after.body["status"], "CREATED");
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    assert!(events.iter().all(|e| e["kind"] != "start"), "{events:?}");
}

#[tokio::test]
async fn a_sql_deployment_on_the_platforms_cluster_is_not_upgraded_to_a_jar_version() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "stream", STREAM).await;
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": format!("stream-{}", uuid::Uuid::new_v4().simple()), "job_id": job }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    run_stateless(&owner, &path).await;

    // Version 2 of the job is a JAR.
    let artifact = owner
        .upload(&project, "app.jar", sluice_tests::tiny_jar())
        .await
        .expect(201)
        .id();
    let job_path = format!("/projects/{project}/jobs/{job}");
    let read = owner.get(&job_path).await.expect(200);
    owner
        .patch_if(
            &job_path,
            &read.etag(),
            json!({ "content": { "kind": "jar", "artifact_id": artifact, "entry_class": "com.example.Main", "args": [] } }),
        )
        .await
        .expect(200);
    owner
        .post(&format!("{job_path}/versions"), json!({ "message": "v2" }))
        .await
        .expect(201);

    let refused = owner
        .post(&format!("{path}/upgrade"), json!({ "version": 2 }))
        .await
        .expect_error(422, "invalid_field", Some("cluster_id"));
    assert!(refused.message().contains(RULE), "{}", refused.body);
    let after = owner.get(&path).await.expect(200);
    assert_eq!(after.body["job_version"], 1);
    assert!(after.body["pending_version"].is_null(), "{}", after.body);
    cancel(&owner, &path).await;
}
