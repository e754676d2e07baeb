use sluice_tests::{api, etag, json, some, sql, tiny_jar, Expect, TestApp};

fn jar(artifact_id: &str, entry_class: &str, args: &[&str]) -> api::JobContent {
    api::JobContent::Jar {
        artifact_id: artifact_id.to_owned(),
        entry_class: entry_class.to_owned(),
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

#[tokio::test]
async fn sql_and_jar_drafts_are_created_and_read_back() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let api = owner.api();
    let project = owner.project("p").await;
    let create = |name: &str, content: api::JobContent| {
        api.create_job()
            .project_id(&project)
            .body_map(|b| b.name(name).content(content))
            .send()
    };
    let script = "CREATE TABLE src (id INT) WITH ('connector' = 'datagen');\nINSERT INTO sink SELECT * FROM src;";
    let job = create("etl", sql(script)).await.expect_status(201);
    assert_eq!(etag(&job), "\"1\"");
    let got = api
        .get_job()
        .project_id(&project)
        .job_id(&job.id)
        .send()
        .await
        .expect_status(200);
    assert_eq!(got.content, sql(script));
    assert_eq!(etag(&got), "\"1\"");

    // Artifacts are uploaded by hand: the typed client has no multipart operations.
    let artifact = owner
        .upload(&project, "app.jar", tiny_jar())
        .await
        .expect(201)
        .id();
    let content = jar(&artifact, "com.example.Main", &["--in", "x y"]);
    let created = create("jar", content.clone()).await.expect_status(201);
    assert_eq!(created.content, content);
    create("bad", jar(&artifact, "not a class", &[]))
        .await
        .expect_error(422, "invalid_field", Some("content.entry_class"));
    create("bad", jar("nope", "a.B", &[])).await.expect_error(
        422,
        "invalid_field",
        Some("content.artifact_id"),
    );
    let py = owner
        .upload(&project, "udf.py", b"def f(): pass\n".to_vec())
        .await
        .expect(201)
        .id();
    create("bad", jar(&py, "a.B", &[])).await.expect_error(
        422,
        "invalid_field",
        Some("content.artifact_id"),
    );
    // A Python job names a Python artifact, not a JAR.
    owner
        .post(
            &format!("/projects/{project}/jobs"),
            json!({ "name": "bad", "content": { "kind": "python", "artifact_id": artifact } }),
        )
        .await
        .expect_error(422, "invalid_field", Some("content.artifact_id"));
    // A kind the document does not have is sent by hand.
    owner
        .post(
            &format!("/projects/{project}/jobs"),
            json!({ "name": "bad", "content": { "kind": "scala", "sql": "x" } }),
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
    let api = owner.api();
    let project = owner.project("p").await;
    let f1 = owner.folder(&project, "f1", None).await;
    let f2 = owner.folder(&project, "f2", None).await;
    let create_etl_in = |folder: &str, script: &str| {
        api.create_job()
            .project_id(&project)
            .body_map(|b| {
                b.name("etl")
                    .folder_id(Some(folder.to_owned()))
                    .content(sql(script))
            })
            .send()
    };
    let job = create_etl_in(&f1, "select 1").await.expect_status(201);
    create_etl_in(&f1, "select 2")
        .await
        .expect_error(409, "already_exists", Some("name"));
    let twin = create_etl_in(&f2, "select 2").await.expect_status(201);

    let update = |etag: &str| {
        api.update_job()
            .project_id(&project)
            .job_id(&job.id)
            .if_match(etag)
    };
    update(&etag(&job))
        .body_map(|b| b.folder_id(Some(f2.clone())))
        .send()
        .await
        .expect_error(409, "already_exists", Some("name"));
    let moved = update(&etag(&job))
        .body_map(|b| b.folder_id(Some(f2.clone())).name(some("etl-old")))
        .send()
        .await
        .expect_status(200);
    assert_eq!(moved.folder_id.as_deref(), Some(f2.as_str()));
    // An explicit null (the move to the root) is sent by hand: the typed client leaves
    // absent fields out.
    let path = format!("/projects/{project}/jobs/{}", job.id);
    let to_root = owner
        .patch_if(&path, &etag(&moved), json!({ "folder_id": null }))
        .await
        .expect(200);
    assert!(to_root.body["folder_id"].is_null());

    let in_f2 = owner
        .list_all(&format!("/projects/{project}/jobs?folder_id={f2}"), 50)
        .await;
    assert_eq!(in_f2.len(), 1);
    assert_eq!(in_f2[0]["id"], twin.id.as_str());
    api.delete_job()
        .project_id(&project)
        .job_id(&job.id)
        .send()
        .await
        .expect_status(204);
    api.get_job()
        .project_id(&project)
        .job_id(&job.id)
        .send()
        .await
        .expect_error(404, "not_found", None);
}

#[tokio::test]
async fn a_job_in_a_folder_of_another_project_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let api = owner.api();
    let p1 = owner.project("p1").await;
    let p2 = owner.project("p2").await;
    let foreign = owner.folder(&p2, "f", None).await;
    api.create_job()
        .project_id(&p1)
        .body_map(|b| {
            b.name("etl")
                .folder_id(Some(foreign.clone()))
                .content(sql("select 1"))
        })
        .send()
        .await
        .expect_error(422, "invalid_field", Some("folder_id"));
    let job = api
        .create_job()
        .project_id(&p1)
        .body_map(|b| b.name("etl").content(sql("select 1")))
        .send()
        .await
        .expect_status(201);
    api.update_job()
        .project_id(&p1)
        .job_id(&job.id)
        .if_match(etag(&job))
        .body_map(|b| b.folder_id(Some(foreign)))
        .send()
        .await
        .expect_error(422, "invalid_field", Some("folder_id"));
}

#[tokio::test]
async fn a_stale_edit_gets_412_and_an_edit_without_if_match_gets_428() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let api = owner.api();
    let project = owner.project("p").await;
    let job = api
        .create_job()
        .project_id(&project)
        .body_map(|b| b.name("etl").content(sql("select 1")))
        .send()
        .await
        .expect_status(201);
    let path = format!("/projects/{project}/jobs/{}", job.id);
    let first_read = etag(&job);
    let edit = |etag: &str, script: &str| {
        api.update_job()
            .project_id(&project)
            .job_id(&job.id)
            .if_match(etag)
            .body_map(|b| b.content(Some(sql(script))))
            .send()
    };

    // Two editors read revision 1; the first one saves.
    let saved = edit(&first_read, "select 2").await.expect_status(200);
    assert_eq!(etag(&saved), "\"2\"");
    // The second one's write, based on revision 1, is refused and changes nothing.
    edit(&first_read, "select 3")
        .await
        .expect_error(412, "precondition_failed", Some("If-Match"));
    // Sent by hand: the typed client always sends the If-Match the document requires.
    owner
        .patch(
            &path,
            json!({ "content": { "kind": "sql", "sql": "select 3" } }),
        )
        .await
        .expect_error(428, "precondition_required", Some("If-Match"));
    let now = api
        .get_job()
        .project_id(&project)
        .job_id(&job.id)
        .send()
        .await
        .expect_status(200);
    assert_eq!(now.content, sql("select 2"));
    assert_eq!(now.revision, 2);
    // A stale delete is refused too (sent by hand: the document gives the delete no
    // If-Match parameter).
    let stale_delete = sluice_tests::Client::send(
        owner
            .request(reqwest::Method::DELETE, &path)
            .header("if-match", first_read),
    )
    .await;
    assert_eq!(stale_delete.status, 412);
}

/// A job its deployments run cannot be deleted from under them: the refusal names them.
#[tokio::test]
async fn a_job_with_deployments_is_not_deleted_and_the_refusal_names_them() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "orders", "CREATE TABLE s (x INT) WITH ('connector' = 'datagen');\nCREATE TABLE k (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO k SELECT x FROM s;").await;
    let cluster = owner
        .post(
            "/clusters",
            json!({ "name": "k", "rest_url": "http://127.0.0.1:9", "flink_version": "2.3.0", "engine_version": "1.0.0" }),
        )
        .await
        .expect(201)
        .id();
    owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "orders-prod", "job_id": job, "cluster_id": cluster }),
        )
        .await
        .expect(201);
    let refused = owner
        .delete(&format!("/projects/{project}/jobs/{job}"))
        .await
        .expect(409)
        .body;
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("1 deployment: `orders-prod` (CREATED)")
            && message.contains("delete it first"),
        "{message}"
    );
    owner
        .get(&format!("/projects/{project}/jobs/{job}"))
        .await
        .expect(200);
}
