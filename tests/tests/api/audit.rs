//! The audit log records every mutation attempt with who, what, outcome and request id.

use sluice_tests::TestApp;

#[tokio::test]
async fn mutations_are_recorded_with_actor_outcome_and_request_id() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let viewer = app
        .member(&owner, "member", Some((&project, "viewer")), false)
        .await;
    let created = owner
        .sql_job(&project, "j", None, "select 1")
        .await
        .expect(201);
    let request_id = created.headers["x-request-id"].to_str().unwrap().to_owned();
    viewer
        .sql_job(&project, "k", None, "select 1")
        .await
        .expect(403);
    owner
        .get(&format!("/projects/{project}/jobs"))
        .await
        .expect(200);
    // A cost preview is a question, not a change.
    owner
        .post(
            &format!("/projects/{project}/deployments/cost-preview"),
            sluice_tests::json!({ "parallelism": 1 }),
        )
        .await
        .expect(200);

    let entries = owner.list_all("/account/audit", 2).await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // Newest first; reads (a cost preview among them) are not recorded.
    assert_eq!(actions, ["create_job", "create_job", "create_project"]);
    assert_eq!(entries[0]["outcome"], "denied");
    assert_eq!(entries[0]["actor_user_id"], viewer.user_id.as_str());
    assert_eq!(entries[0]["status"], 403);
    assert_eq!(entries[1]["outcome"], "success");
    assert_eq!(entries[1]["request_id"], request_id.as_str());
    assert_eq!(entries[1]["project_id"], project.as_str());
    assert!(entries[1]["actor_credential"]
        .as_str()
        .unwrap()
        .starts_with("token:"));

    let denied = owner.list_all("/account/audit?outcome=denied", 10).await;
    assert_eq!(denied.len(), 1);
    // Only owners and admins read it; another account sees none of it.
    viewer
        .get("/account/audit")
        .await
        .expect_error(403, "forbidden", None);
    let other = app.account("Other").await;
    assert!(other.list_all("/account/audit", 10).await.is_empty());
    // There is no way to change it.
    owner.delete("/account/audit").await.expect(405);
}

#[tokio::test]
async fn the_audit_log_is_filtered_by_time() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    owner.project("before").await;
    let entries = owner.list_all("/account/audit", 10).await;
    let first: chrono::DateTime<chrono::Utc> =
        entries[0]["created_at"].as_str().unwrap().parse().unwrap();
    let cut = first + chrono::Duration::milliseconds(1);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    owner.project("after").await;
    let q = |t: chrono::DateTime<chrono::Utc>| {
        t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            .replace('+', "%2B")
    };
    let later = owner
        .list_all(&format!("/account/audit?from={}", q(cut)), 10)
        .await;
    assert_eq!(later.len(), 1, "{later:?}");
    assert!(later[0]["path"].as_str().unwrap().ends_with("/projects"));
    let earlier = owner
        .list_all(&format!("/account/audit?to={}", q(cut)), 10)
        .await;
    assert_eq!(earlier.len(), 1, "only the first project: {earlier:?}");
    assert_eq!(earlier[0]["id"], entries[0]["id"]);
    owner
        .get(&format!("/account/audit?from={}&to={}", q(cut), q(first)))
        .await
        .expect_error(422, "invalid_field", Some("from"));
}
