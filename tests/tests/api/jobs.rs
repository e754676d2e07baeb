use sluice_tests::{json, tiny_jar, TestApp};

#[tokio::test]
async fn sql_and_jar_drafts_are_created_and_read_back() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let sql = "CREATE TABLE src (id INT) WITH ('connector' = 'datagen');\nINSERT INTO sink SELECT * FROM src;";
    let job = owner.sql_job(&project, "etl", None, sql).await.expect(201);
    assert_eq!(job.etag(), "\"1\"");
    let got = owner
        .get(&format!("/projects/{project}/jobs/{}", job.id()))
        .await
        .expect(200);
    assert_eq!(got.body["content"], json!({ "kind": "sql", "sql": sql }));
    assert_eq!(got.etag(), "\"1\"");

    let artifact = owner
        .upload(&project, "app.jar", tiny_jar())
        .await
        .expect(201)
        .id();
    let jar = owner
        .post(
            &format!("/projects/{project}/jobs"),
            json!({ "name": "jar", "content": { "kind": "jar", "artifact_id": artifact, "entry_class": "com.example.Main", "args": ["--in", "x y"] } }),
        )
        .await
        .expect(201);
    assert_eq!(jar.body["content"]["args"], json!(["--in", "x y"]));
    owner
        .post(&format!("/projects/{project}/jobs"), json!({ "name": "bad", "content": { "kind": "jar", "artifact_id": artifact, "entry_class": "not a class" } }))
        .await
        .expect_error(422, "invalid_field", Some("content.entry_class"));
    owner
        .post(&format!("/projects/{project}/jobs"), json!({ "name": "bad", "content": { "kind": "jar", "artifact_id": "nope", "entry_class": "a.B" } }))
        .await
        .expect_error(422, "invalid_field", Some("content.artifact_id"));
    let py = owner
        .upload(&project, "udf.py", b"def f(): pass\n".to_vec())
        .await
        .expect(201)
        .id();
    owner
        .post(&format!("/projects/{project}/jobs"), json!({ "name": "bad", "content": { "kind": "jar", "artifact_id": py, "entry_class": "a.B" } }))
        .await
        .expect_error(422, "invalid_field", Some("content.artifact_id"));
    owner
        .post(
            &format!("/projects/{project}/jobs"),
            json!({ "name": "bad", "content": { "kind": "python", "sql": "x" } }),
        )
        .await
        .expect_error(422, "invalid_field", Some("content.kind"));
    assert_eq!(
        owner
            .list_all(&format!("/projects/{project}/jobs"), 50)
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn job_names_are_unique_within_a_folder_and_jobs_move_between_folders() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let f1 = owner.folder(&project, "f1", None).await;
    let f2 = owner.folder(&project, "f2", None).await;
    let job = owner
        .sql_job(&project, "etl", Some(&f1), "select 1")
        .await
        .expect(201);
    owner
        .sql_job(&project, "etl", Some(&f1), "select 2")
        .await
        .expect_error(409, "already_exists", Some("name"));
    let twin = owner
        .sql_job(&project, "etl", Some(&f2), "select 2")
        .await
        .expect(201);

    let path = format!("/projects/{project}/jobs/{}", job.id());
    owner
        .patch_if(&path, &job.etag(), json!({ "folder_id": f2 }))
        .await
        .expect_error(409, "already_exists", Some("name"));
    let moved = owner
        .patch_if(
            &path,
            &job.etag(),
            json!({ "folder_id": f2, "name": "etl-old" }),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["folder_id"], f2.as_str());
    let to_root = owner
        .patch_if(&path, &moved.etag(), json!({ "folder_id": null }))
        .await
        .expect(200);
    assert!(to_root.body["folder_id"].is_null());

    let in_f2 = owner
        .list_all(&format!("/projects/{project}/jobs?folder_id={f2}"), 50)
        .await;
    assert_eq!(in_f2.len(), 1);
    assert_eq!(in_f2[0]["id"], twin.id().as_str());
    owner.delete(&path).await.expect(204);
    owner.get(&path).await.expect_error(404, "not_found", None);
}

#[tokio::test]
async fn a_job_in_a_folder_of_another_project_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let p1 = owner.project("p1").await;
    let p2 = owner.project("p2").await;
    let foreign = owner.folder(&p2, "f", None).await;
    owner
        .sql_job(&p1, "etl", Some(&foreign), "select 1")
        .await
        .expect_error(422, "invalid_field", Some("folder_id"));
    let job = owner
        .sql_job(&p1, "etl", None, "select 1")
        .await
        .expect(201);
    owner
        .patch_if(
            &format!("/projects/{p1}/jobs/{}", job.id()),
            &job.etag(),
            json!({ "folder_id": foreign }),
        )
        .await
        .expect_error(422, "invalid_field", Some("folder_id"));
}

#[tokio::test]
async fn a_stale_edit_gets_412_and_an_edit_without_if_match_gets_428() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner
        .sql_job(&project, "etl", None, "select 1")
        .await
        .expect(201);
    let path = format!("/projects/{project}/jobs/{}", job.id());
    let first_read = job.etag();

    // Two editors read revision 1; the first one saves.
    let saved = owner
        .patch_if(
            &path,
            &first_read,
            json!({ "content": { "kind": "sql", "sql": "select 2" } }),
        )
        .await
        .expect(200);
    assert_eq!(saved.etag(), "\"2\"");
    // The second one's write, based on revision 1, is refused and changes nothing.
    owner
        .patch_if(
            &path,
            &first_read,
            json!({ "content": { "kind": "sql", "sql": "select 3" } }),
        )
        .await
        .expect_error(412, "precondition_failed", Some("If-Match"));
    owner
        .patch(
            &path,
            json!({ "content": { "kind": "sql", "sql": "select 3" } }),
        )
        .await
        .expect_error(428, "precondition_required", Some("If-Match"));
    let now = owner.get(&path).await.expect(200);
    assert_eq!(now.body["content"]["sql"], "select 2");
    assert_eq!(now.body["revision"], 2);
    // A stale delete is refused too.
    let stale_delete = sluice_tests::Client::send(
        owner
            .request(reqwest::Method::DELETE, &path)
            .header("if-match", first_read),
    )
    .await;
    assert_eq!(stale_delete.status, 412);
}
