use sluice_tests::{json, TestApp};

#[tokio::test]
async fn versions_snapshot_drafts_and_diff_and_roll_back() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner
        .sql_job(&project, "etl", None, "SELECT a\nFROM t\nWHERE x = 1;\n")
        .await
        .expect(201);
    let base = format!("/projects/{project}/jobs/{}", job.id());
    let v1 = owner
        .post(&format!("{base}/versions"), json!({ "message": "first" }))
        .await
        .expect(201);
    assert_eq!(v1.body["version"]["version"], 1);
    assert_eq!(v1.body["pruned_versions"], json!([]));

    let edited = owner
        .patch_if(
            &base,
            &job.etag(),
            json!({ "content": { "kind": "sql", "sql": "SELECT a, b\nFROM t\nWHERE x = 1;\n" } }),
        )
        .await
        .expect(200);
    owner
        .post(&format!("{base}/versions"), json!({ "message": "add b" }))
        .await
        .expect(201);

    let diff = owner
        .get(&format!("{base}/diff?from=1&to=2"))
        .await
        .expect(200);
    let text = diff.body["diff"].as_str().unwrap();
    assert!(
        text.contains("--- version 1") && text.contains("+++ version 2"),
        "{text}"
    );
    assert!(
        text.contains("-SELECT a\n") && text.contains("+SELECT a, b\n"),
        "{text}"
    );
    assert!(
        !text.contains("-FROM t"),
        "unchanged lines are context only: {text}"
    );
    let same = owner.get(&format!("{base}/diff?from=2")).await.expect(200);
    assert_eq!(same.body["diff"], "", "version 2 equals the draft");

    let listed = owner.get(&format!("{base}/versions")).await.expect(200);
    let numbers: Vec<i64> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(
        owner
            .get(&format!("{base}/versions/1"))
            .await
            .expect(200)
            .body["message"],
        "first"
    );

    let rolled = owner
        .post_if(
            &format!("{base}/rollback"),
            &edited.etag(),
            json!({ "version": 1 }),
        )
        .await
        .expect(200);
    assert_eq!(
        rolled.body["content"]["sql"],
        "SELECT a\nFROM t\nWHERE x = 1;\n"
    );
    assert_eq!(rolled.etag(), "\"3\"");
    // Rolling back with a stale ETag or to a missing version changes nothing.
    owner
        .post_if(
            &format!("{base}/rollback"),
            &edited.etag(),
            json!({ "version": 2 }),
        )
        .await
        .expect_error(412, "precondition_failed", None);
    let missing = owner
        .post_if(
            &format!("{base}/rollback"),
            &rolled.etag(),
            json!({ "version": 9 }),
        )
        .await
        .expect_error(404, "not_found", Some("version"));
    assert!(
        missing.message().contains("version 9 does not exist"),
        "{}",
        missing.message()
    );
    owner
        .get(&format!("{base}/versions/9"))
        .await
        .expect_error(404, "not_found", Some("version"));
    owner
        .get(&format!("{base}/diff?from=1&to=9"))
        .await
        .expect_error(404, "not_found", Some("version"));
}

#[tokio::test]
async fn only_the_newest_twenty_versions_are_kept_and_the_api_says_which_were_pruned() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner
        .sql_job(&project, "etl", None, "select 0")
        .await
        .expect(201);
    let base = format!("/projects/{project}/jobs/{}", job.id());
    let mut etag = job.etag();
    let mut pruned = Vec::new();
    for n in 1..=22 {
        let saved = owner
            .post(
                &format!("{base}/versions"),
                json!({ "message": format!("v{n}") }),
            )
            .await
            .expect(201);
        assert_eq!(saved.body["version"]["version"], n);
        pruned.extend(
            saved.body["pruned_versions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap()),
        );
        etag = owner
            .patch_if(
                &base,
                &etag,
                json!({ "content": { "kind": "sql", "sql": format!("select {n}") } }),
            )
            .await
            .expect(200)
            .etag();
    }
    assert_eq!(pruned, [1, 2]);
    let listed = owner.get(&format!("{base}/versions")).await.expect(200);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items[0]["version"], 22);
    assert_eq!(items[19]["version"], 3);
    let gone = owner.get(&format!("{base}/versions/1")).await.expect_error(
        404,
        "not_found",
        Some("version"),
    );
    assert!(gone.message().contains("3 to 22"), "{}", gone.message());
}
