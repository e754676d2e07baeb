//! Project and account roles as the product defines them, through the real API.

use sluice_tests::{json, tiny_jar, TestApp};

#[tokio::test]
async fn a_viewer_reads_but_cannot_write_and_is_told_which_role_is_needed() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner
        .sql_job(&project, "j", None, "select 1")
        .await
        .expect(201)
        .id();
    let viewer = app
        .member(&owner, "member", Some((&project, "viewer")), false)
        .await;

    viewer
        .get(&format!("/projects/{project}/jobs/{job}"))
        .await
        .expect(200);
    let refused = viewer
        .sql_job(&project, "k", None, "select 2")
        .await
        .expect_error(403, "forbidden", None);
    assert!(
        refused.message().contains("editor"),
        "{}",
        refused.message()
    );
    viewer
        .delete(&format!("/projects/{project}/jobs/{job}"))
        .await
        .expect_error(403, "forbidden", None);
    viewer
        .post(
            &format!("/projects/{project}/jobs/{job}/versions"),
            json!({ "message": "m" }),
        )
        .await
        .expect_error(403, "forbidden", None);
    // Nothing was written by the refused calls.
    assert_eq!(
        owner
            .list_all(&format!("/projects/{project}/jobs"), 50)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn an_editor_writes_drafts_but_only_an_admin_manages_connections_and_members() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let editor = app
        .member(&owner, "member", Some((&project, "editor")), false)
        .await;
    let admin = app
        .member(&owner, "member", Some((&project, "admin")), false)
        .await;
    let outsider = app.member(&owner, "member", None, false).await;

    editor.folder(&project, "f", None).await;
    editor
        .sql_job(&project, "j", None, "select 1")
        .await
        .expect(201);
    editor
        .upload(&project, "a.jar", tiny_jar())
        .await
        .expect(201);
    let connection = json!({ "name": "kafka", "kind": "kafka", "properties": { "bootstrap.servers": "k:9092" } });
    editor
        .post(
            &format!("/projects/{project}/connections"),
            connection.clone(),
        )
        .await
        .expect_error(403, "forbidden", None);
    admin
        .post(&format!("/projects/{project}/connections"), connection)
        .await
        .expect(201);

    // Members: an admin adds account members up to their own role, never owners.
    admin
        .post(
            &format!("/projects/{project}/members"),
            json!({ "user_id": outsider.user_id, "role": "owner" }),
        )
        .await
        .expect_error(403, "forbidden", None);
    editor
        .post(
            &format!("/projects/{project}/members"),
            json!({ "user_id": outsider.user_id, "role": "viewer" }),
        )
        .await
        .expect_error(403, "forbidden", None);
    // Before being added, the project does not exist for the outsider.
    outsider
        .get(&format!("/projects/{project}"))
        .await
        .expect_error(404, "not_found", None);
    assert!(outsider.list_all("/projects", 50).await.is_empty());
    admin
        .post(
            &format!("/projects/{project}/members"),
            json!({ "user_id": outsider.user_id, "role": "viewer" }),
        )
        .await
        .expect(201);
    outsider
        .get(&format!("/projects/{project}"))
        .await
        .expect(200);
    assert_eq!(outsider.list_all("/projects", 50).await.len(), 1);
    admin
        .post(
            &format!("/projects/{project}/members"),
            json!({ "user_id": "nobody", "role": "viewer" }),
        )
        .await
        .expect_error(422, "invalid_field", Some("user_id"));

    // Deleting the project takes an owner.
    admin
        .delete(&format!("/projects/{project}"))
        .await
        .expect_error(403, "forbidden", None);
    owner
        .delete(&format!("/projects/{project}"))
        .await
        .expect(204);
}

#[tokio::test]
async fn a_role_change_counts_on_the_next_request() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let bob = app
        .member(&owner, "member", Some((&project, "editor")), false)
        .await;
    bob.sql_job(&project, "a", None, "select 1")
        .await
        .expect(201);
    owner
        .patch(
            &format!("/projects/{project}/members/{}", bob.user_id),
            json!({ "role": "viewer" }),
        )
        .await
        .expect(200);
    bob.sql_job(&project, "b", None, "select 1")
        .await
        .expect_error(403, "forbidden", None);
    owner
        .delete(&format!("/projects/{project}/members/{}", bob.user_id))
        .await
        .expect(204);
    bob.get(&format!("/projects/{project}"))
        .await
        .expect_error(404, "not_found", None);
}

#[tokio::test]
async fn the_last_project_owner_stays() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    // The creator is the project's owner.
    let members = owner
        .list_all(&format!("/projects/{project}/members"), 10)
        .await;
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["role"], "owner");
    owner
        .patch(
            &format!("/projects/{project}/members/{}", owner.user_id),
            json!({ "role": "viewer" }),
        )
        .await
        .expect_error(409, "last_owner", None);
    owner
        .delete(&format!("/projects/{project}/members/{}", owner.user_id))
        .await
        .expect_error(409, "last_owner", None);
}

#[tokio::test]
async fn a_narrowed_token_acts_only_on_its_project_and_within_its_role() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let p1 = owner.project("p1").await;
    let p2 = owner.project("p2").await;
    let created = owner
        .post(
            "/tokens",
            json!({ "name": "ci", "project_id": p1, "role": "viewer" }),
        )
        .await
        .expect(201);
    assert_eq!(created.body["token"]["role"], "viewer");
    let mut ci = owner.clone();
    ci.token = created.body["secret"].as_str().unwrap().to_owned();

    ci.get(&format!("/projects/{p1}/jobs")).await.expect(200);
    ci.sql_job(&p1, "x", None, "select 1")
        .await
        .expect_error(403, "forbidden", None);
    ci.get(&format!("/projects/{p2}"))
        .await
        .expect_error(404, "not_found", None);
    let listed = ci.list_all("/projects", 50).await;
    assert_eq!(listed.len(), 1);
    ci.post("/projects", json!({ "name": "p3" }))
        .await
        .expect_error(403, "forbidden", None);
    ci.post("/tokens", json!({ "name": "more" }))
        .await
        .expect_error(403, "forbidden", None);

    // Nobody issues a token above their own role.
    let viewer = app
        .member(&owner, "member", Some((&p1, "viewer")), false)
        .await;
    viewer
        .post(
            "/tokens",
            json!({ "name": "t", "project_id": p1, "role": "editor" }),
        )
        .await
        .expect_error(403, "forbidden", None);
    viewer
        .post(
            "/tokens",
            json!({ "name": "t", "project_id": p2, "role": "viewer" }),
        )
        .await
        .expect_error(404, "not_found", Some("project_id"));
}

#[tokio::test]
async fn a_billing_manager_has_no_project_powers() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let billing = app.member(&owner, "billing_manager", None, false).await;
    billing.get("/account").await.expect(200);
    billing
        .get(&format!("/projects/{project}"))
        .await
        .expect_error(404, "not_found", None);
    billing
        .post("/projects", json!({ "name": "q" }))
        .await
        .expect_error(403, "forbidden", None);
    billing
        .get("/account/audit")
        .await
        .expect_error(403, "forbidden", None);
}

#[tokio::test]
async fn a_role_change_on_one_replica_counts_on_the_next_request_to_another() {
    let first = TestApp::spawn().await;
    let second = first.replica().await;
    let owner = first.account("Acme").await;
    let project = owner.project("p").await;
    let bob_on_first = first
        .member(&owner, "member", Some((&project, "editor")), false)
        .await;
    let mut bob_on_second = bob_on_first.clone();
    bob_on_second.base = second.base.clone();

    bob_on_second
        .sql_job(&project, "a", None, "select 1")
        .await
        .expect(201);
    owner
        .patch(
            &format!("/projects/{project}/members/{}", bob_on_first.user_id),
            json!({ "role": "viewer" }),
        )
        .await
        .expect(200);
    bob_on_second
        .sql_job(&project, "b", None, "select 1")
        .await
        .expect_error(403, "forbidden", None);
    bob_on_second
        .get(&format!("/projects/{project}/jobs"))
        .await
        .expect(200);
    let mut owner_on_second = owner.clone();
    owner_on_second.base = second.base.clone();
    owner_on_second
        .delete(&format!("/account/members/{}", bob_on_first.user_id))
        .await
        .expect(204);
    bob_on_first
        .get("/account")
        .await
        .expect_error(401, "unauthorized", None);
}

/// The console shows and hides actions by the caller's effective role in the project.
#[tokio::test]
async fn a_project_says_what_role_the_caller_has_in_it() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let path = format!("/projects/{project}");
    assert_eq!(owner.get(&path).await.expect(200).body["my_role"], "owner");
    let viewer = app
        .member(&owner, "member", Some((&project, "viewer")), false)
        .await;
    assert_eq!(
        viewer.get(&path).await.expect(200).body["my_role"],
        "viewer"
    );
    let editor = app
        .member(&owner, "member", Some((&project, "editor")), false)
        .await;
    assert_eq!(
        editor.get(&path).await.expect(200).body["my_role"],
        "editor"
    );
    // An account admin acts as the owner of every project.
    let admin = app.member(&owner, "admin", None, false).await;
    assert_eq!(admin.get(&path).await.expect(200).body["my_role"], "owner");
}
