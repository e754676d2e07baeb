//! A token of account A can neither see nor change anything of account B; asking for
//! B's objects answers 404 (not 403), so their existence is not disclosed either.

use sluice_tests::{json, tiny_jar, TestApp};

// One story: another account's objects, each tried in turn, so it reads top to bottom.
#[tokio::test]
async fn another_accounts_objects_are_invisible_and_untouchable() {
    let app = TestApp::spawn().await;
    let alice = app.account("Alice Inc").await;
    let mallory = app.account("Mallory Ltd").await;

    let project = alice.project("secret-project").await;
    let folder = alice.folder(&project, "f", None).await;
    let job = alice
        .sql_job(&project, "j", Some(&folder), "select 1")
        .await
        .expect(201);
    let job_id = job.id();
    alice
        .post(
            &format!("/projects/{project}/jobs/{job_id}/versions"),
            json!({ "message": "v1" }),
        )
        .await
        .expect(201);
    let connection = alice
        .post(
            &format!("/projects/{project}/connections"),
            json!({ "name": "db", "kind": "mysql", "secret_properties": { "password": "p" } }),
        )
        .await
        .expect(201)
        .id();
    let artifact = alice
        .upload(&project, "a.jar", tiny_jar())
        .await
        .expect(201)
        .id();
    let tokens = alice.get("/tokens").await.expect(200);
    let alice_token = tokens.body["items"][0]["id"].as_str().unwrap().to_owned();
    let members = alice.get("/account/members").await.expect(200);
    let alice_user = members.body["items"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let p = format!("/projects/{project}");
    let reads = [
        p.clone(),
        format!("{p}/folders"),
        format!("{p}/folders/{folder}"),
        format!("{p}/jobs"),
        format!("{p}/jobs/{job_id}"),
        format!("{p}/jobs/{job_id}/versions"),
        format!("{p}/jobs/{job_id}/versions/1"),
        format!("{p}/jobs/{job_id}/diff?from=1"),
        format!("{p}/connections"),
        format!("{p}/connections/{connection}"),
        format!("{p}/artifacts"),
        format!("{p}/artifacts/{artifact}"),
        format!("{p}/artifacts/{artifact}/content"),
    ];
    for path in &reads {
        mallory.get(path).await.expect_error(404, "not_found", None);
    }
    let etag = job.etag();
    mallory
        .patch(&p, json!({ "name": "pwned" }))
        .await
        .expect_error(404, "not_found", None);
    mallory
        .post(&format!("{p}/folders"), json!({ "name": "x" }))
        .await
        .expect_error(404, "not_found", None);
    mallory
        .patch(&format!("{p}/folders/{folder}"), json!({ "name": "x" }))
        .await
        .expect_error(404, "not_found", None);
    mallory
        .sql_job(&project, "x", None, "select 1")
        .await
        .expect_error(404, "not_found", None);
    mallory
        .patch_if(&format!("{p}/jobs/{job_id}"), &etag, json!({ "name": "x" }))
        .await
        .expect_error(404, "not_found", None);
    mallory
        .post(
            &format!("{p}/jobs/{job_id}/versions"),
            json!({ "message": "x" }),
        )
        .await
        .expect_error(404, "not_found", None);
    mallory
        .post_if(
            &format!("{p}/jobs/{job_id}/rollback"),
            &etag,
            json!({ "version": 1 }),
        )
        .await
        .expect_error(404, "not_found", None);
    mallory
        .post(
            &format!("{p}/connections"),
            json!({ "name": "x", "kind": "kafka" }),
        )
        .await
        .expect_error(404, "not_found", None);
    mallory
        .patch(
            &format!("{p}/connections/{connection}"),
            json!({ "name": "x" }),
        )
        .await
        .expect_error(404, "not_found", None);
    mallory
        .upload(&project, "x.jar", tiny_jar())
        .await
        .expect_error(404, "not_found", None);
    for path in [
        format!("{p}/jobs/{job_id}"),
        format!("{p}/folders/{folder}"),
        format!("{p}/connections/{connection}"),
        format!("{p}/artifacts/{artifact}"),
        format!("/tokens/{alice_token}"),
        format!("/account/members/{alice_user}"),
        p.clone(),
    ] {
        mallory
            .delete(&path)
            .await
            .expect_error(404, "not_found", None);
    }

    // Mallory cannot borrow Alice's folder or artifact for a project of her own either.
    let own = mallory.project("own").await;
    mallory
        .sql_job(&own, "x", Some(&folder), "select 1")
        .await
        .expect_error(422, "invalid_field", Some("folder_id"));
    mallory
        .post(&format!("/projects/{own}/jobs"), json!({ "name": "x", "content": { "kind": "jar", "artifact_id": artifact, "entry_class": "a.B" } }))
        .await
        .expect_error(422, "invalid_field", Some("content.artifact_id"));
    assert_eq!(mallory.list_all("/projects", 50).await.len(), 1);

    // And nothing of Alice's changed.
    let after = alice.get(&format!("{p}/jobs/{job_id}")).await.expect(200);
    assert_eq!(after.body["name"], "j");
    assert_eq!(after.etag(), etag);
    assert_eq!(
        alice.get(&p).await.expect(200).body["name"],
        "secret-project"
    );
    alice.get("/account").await.expect(200);
    assert_eq!(alice.list_all("/tokens", 50).await.len(), 1);
}
