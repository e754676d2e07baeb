use sluice_tests::{json, some, tiny_jar, Expect, TestApp};

#[tokio::test]
async fn projects_are_created_read_renamed_listed_and_deleted() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let api = owner.api();
    let created = api
        .create_project()
        .body_map(|b| b.name("orders").description(some("order pipeline")))
        .send()
        .await
        .expect_status(201);
    let id = &created.id;
    let get = || api.get_project().project_id(id).send();
    let got = get().await.expect_status(200);
    assert_eq!(got.name, "orders");
    assert_eq!(got.description, "order pipeline");
    assert_eq!(got.usage.jobs, 0);
    assert_eq!(got.limits.jobs_per_project, 100);

    let renamed = api
        .update_project()
        .project_id(id)
        .body_map(|b| b.name(some("orders-v2")))
        .send()
        .await
        .expect_status(200);
    assert_eq!(renamed.name, "orders-v2");
    assert_eq!(renamed.description, "order pipeline");

    owner.project("second").await;
    owner.project("third").await;
    let all = owner.list_all("/projects", 2).await;
    let names: Vec<&str> = all.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["orders-v2", "second", "third"]);

    let delete = || api.delete_project().project_id(id).send();
    delete().await.expect_status(204);
    get().await.expect_error(404, "not_found", None);
    delete().await.expect_error(404, "not_found", None);
}

#[tokio::test]
async fn bad_project_names_are_refused_and_nothing_is_created() {
    // Sent by hand: the typed client checks names against the document before sending.
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    for bad in [
        "",
        "   ",
        "tab\tinside",
        "bell\u{7}",
        &"x".repeat(129),
        " padded",
    ] {
        owner
            .post("/projects", json!({ "name": bad }))
            .await
            .expect_error(422, "invalid_field", Some("name"));
    }
    owner
        .post(
            "/projects",
            json!({ "name": "ok", "description": "d".repeat(2001) }),
        )
        .await
        .expect_error(422, "invalid_field", Some("description"));
    assert_eq!(owner.get("/account").await.body["usage"]["projects"], 0);
    owner.project("taken").await;
    owner
        .post("/projects", json!({ "name": "taken" }))
        .await
        .expect_error(409, "already_exists", Some("name"));
    let other = owner.project("other").await;
    owner
        .patch(&format!("/projects/{other}"), json!({ "name": "taken" }))
        .await
        .expect_error(409, "already_exists", Some("name"));
}

#[tokio::test]
async fn a_deleted_projects_children_are_gone_with_it() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("doomed").await;
    let folder = owner.folder(&project, "f", None).await;
    let job = owner
        .sql_job(&project, "j", Some(&folder), "select 1")
        .await
        .expect(201)
        .id();
    owner
        .post(
            &format!("/projects/{project}/jobs/{job}/versions"),
            json!({ "message": "v1" }),
        )
        .await
        .expect(201);
    let connection = owner
        .post(
            &format!("/projects/{project}/connections"),
            json!({ "name": "k", "kind": "kafka" }),
        )
        .await
        .expect(201)
        .id();
    let artifact = owner
        .upload(&project, "udf.jar", tiny_jar())
        .await
        .expect(201)
        .id();
    let artifact_file = app
        .data_dir
        .join("artifacts")
        .join(&project)
        .join(&artifact);
    assert!(artifact_file.exists());

    owner
        .delete(&format!("/projects/{project}"))
        .await
        .expect(204);
    owner
        .get(&format!("/projects/{project}/folders/{folder}"))
        .await
        .expect_error(404, "not_found", None);
    owner
        .get(&format!("/projects/{project}/jobs/{job}"))
        .await
        .expect_error(404, "not_found", None);
    owner
        .get(&format!("/projects/{project}/jobs/{job}/versions/1"))
        .await
        .expect_error(404, "not_found", None);
    owner
        .get(&format!("/projects/{project}/connections/{connection}"))
        .await
        .expect_error(404, "not_found", None);
    owner
        .get(&format!("/projects/{project}/artifacts/{artifact}/content"))
        .await
        .expect_error(404, "not_found", None);
    owner
        .sql_job(&project, "again", None, "select 1")
        .await
        .expect_error(404, "not_found", None);
    assert!(
        !artifact_file.exists(),
        "a deleted project's files are removed"
    );
}
