use sluice_tests::{etag, some, sql, Expect, TestApp};

#[tokio::test]
async fn versions_snapshot_drafts_and_diff_and_roll_back() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let api = owner.api();
    let project = owner.project("p").await;
    let job = api
        .create_job()
        .project_id(&project)
        .body_map(|b| {
            b.name("etl")
                .content(sql("SELECT a\nFROM t\nWHERE x = 1;\n"))
        })
        .send()
        .await
        .expect_status(201);
    let save = |message: &str| {
        api.save_version()
            .project_id(&project)
            .job_id(&job.id)
            .body_map(|b| b.message(some(message)))
            .send()
    };
    let diff = |from: i64, to: Option<i64>| {
        let diff = api
            .diff_versions()
            .project_id(&project)
            .job_id(&job.id)
            .from(from);
        match to {
            Some(to) => diff.to(to),
            None => diff,
        }
        .send()
    };
    let get_version = |version: i64| {
        api.get_version()
            .project_id(&project)
            .job_id(&job.id)
            .version(version)
            .send()
    };
    let rollback = |etag: &str, version: i64| {
        api.rollback()
            .project_id(&project)
            .job_id(&job.id)
            .if_match(etag)
            .body_map(|b| b.version(version))
            .send()
    };
    let v1 = save("first").await.expect_status(201);
    assert_eq!(v1.version.version, 1);
    assert_eq!(v1.pruned_versions, Vec::<i64>::new());

    let edited = api
        .update_job()
        .project_id(&project)
        .job_id(&job.id)
        .if_match(etag(&job))
        .body_map(|b| b.content(Some(sql("SELECT a, b\nFROM t\nWHERE x = 1;\n"))))
        .send()
        .await
        .expect_status(200);
    save("add b").await.expect_status(201);

    let diff_1_2 = diff(1, Some(2)).await.expect_status(200);
    let text = &diff_1_2.diff;
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
    let same = diff(2, None).await.expect_status(200);
    assert_eq!(same.diff, "", "version 2 equals the draft");

    let listed = api
        .list_versions()
        .project_id(&project)
        .job_id(&job.id)
        .send()
        .await
        .expect_status(200);
    let numbers: Vec<i64> = listed.items.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(get_version(1).await.expect_status(200).message, "first");

    let rolled = rollback(&etag(&edited), 1).await.expect_status(200);
    assert_eq!(rolled.content, sql("SELECT a\nFROM t\nWHERE x = 1;\n"));
    assert_eq!(etag(&rolled), "\"3\"");
    // Rolling back with a stale ETag or to a missing version changes nothing.
    rollback(&etag(&edited), 2)
        .await
        .expect_error(412, "precondition_failed", None);
    let missing = rollback(&etag(&rolled), 9)
        .await
        .expect_error(404, "not_found", Some("version"));
    assert!(
        missing.message.contains("version 9 does not exist"),
        "{}",
        missing.message
    );
    get_version(9)
        .await
        .expect_error(404, "not_found", Some("version"));
    diff(1, Some(9))
        .await
        .expect_error(404, "not_found", Some("version"));
}

#[tokio::test]
async fn only_the_newest_twenty_versions_are_kept_and_the_api_says_which_were_pruned() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let api = owner.api();
    let project = owner.project("p").await;
    let job = api
        .create_job()
        .project_id(&project)
        .body_map(|b| b.name("etl").content(sql("select 0")))
        .send()
        .await
        .expect_status(201);
    let mut revision = etag(&job);
    let mut pruned = Vec::new();
    for n in 1..=22 {
        let saved = api
            .save_version()
            .project_id(&project)
            .job_id(&job.id)
            .body_map(|b| b.message(some(&format!("v{n}"))))
            .send()
            .await
            .expect_status(201);
        assert_eq!(saved.version.version, n);
        pruned.extend(saved.pruned_versions.iter().copied());
        revision = etag(
            &api.update_job()
                .project_id(&project)
                .job_id(&job.id)
                .if_match(&revision)
                .body_map(|b| b.content(Some(sql(&format!("select {n}")))))
                .send()
                .await
                .expect_status(200),
        );
    }
    assert_eq!(pruned, [1, 2]);
    let listed = api
        .list_versions()
        .project_id(&project)
        .job_id(&job.id)
        .send()
        .await
        .expect_status(200);
    let items = &listed.items;
    assert_eq!(items.len(), 20);
    assert_eq!(items[0].version, 22);
    assert_eq!(items[19].version, 3);
    let gone = api
        .get_version()
        .project_id(&project)
        .job_id(&job.id)
        .version(1)
        .send()
        .await
        .expect_error(404, "not_found", Some("version"));
    assert!(gone.message.contains("3 to 22"), "{}", gone.message);
}
