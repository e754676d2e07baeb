//! Every limit holds under concurrency: 100 simultaneous creates against a parent one
//! short of its limit yield exactly one success and 99 `limit_exceeded` errors.

use futures_util::future::join_all;
use sluice_tests::{json, tiny_jar, Client, Res, TestApp};

const RACERS: usize = 100;

/// Fires all requests at once and checks: one 201, the rest 409 naming the limit.
async fn assert_exactly_one_wins(results: Vec<Res>, limit_name: &str, limit: i64) {
    let created = results.iter().filter(|r| r.status == 201).count();
    let refused: Vec<&Res> = results.iter().filter(|r| r.status == 409).collect();
    let others: Vec<String> = results
        .iter()
        .filter(|r| r.status != 201 && r.status != 409)
        .map(|r| format!("{} {}", r.status, r.body))
        .collect();
    assert!(others.is_empty(), "unexpected answers: {others:?}");
    assert_eq!(created, 1, "exactly one create may win");
    assert_eq!(refused.len(), RACERS - 1);
    for r in refused {
        assert_eq!(r.code(), "limit_exceeded", "{}", r.body);
        assert_eq!(r.field(), limit_name, "{}", r.body);
        assert_eq!(r.body["error"]["limit"], limit, "{}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_per_account_holds_under_100_concurrent_creates() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    for i in 0..19 {
        owner.project(&format!("p{i}")).await;
    }
    let results = join_all((0..RACERS).map(|i| {
        let c = owner.clone();
        async move {
            c.post("/projects", json!({ "name": format!("race{i}") }))
                .await
        }
    }))
    .await;
    assert_exactly_one_wins(results, "projects_per_account", 20).await;
    assert_eq!(owner.list_all("/projects", 200).await.len(), 20);
    assert_eq!(owner.get("/account").await.body["usage"]["projects"], 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_per_project_holds_under_100_concurrent_creates() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    for i in 0..99 {
        owner
            .sql_job(&project, &format!("j{i}"), None, "select 1")
            .await
            .expect(201);
    }
    let results = join_all((0..RACERS).map(|i| {
        let (c, p) = (owner.clone(), project.clone());
        async move { c.sql_job(&p, &format!("race{i}"), None, "select 1").await }
    }))
    .await;
    assert_exactly_one_wins(results, "jobs_per_project", 100).await;
    assert_eq!(
        owner
            .list_all(&format!("/projects/{project}/jobs"), 200)
            .await
            .len(),
        100
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_per_project_holds_under_100_concurrent_creates() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    for i in 0..99 {
        owner.folder(&project, &format!("f{i}"), None).await;
    }
    let results = join_all((0..RACERS).map(|i| {
        let (c, p) = (owner.clone(), project.clone());
        async move {
            c.post(
                &format!("/projects/{p}/folders"),
                json!({ "name": format!("race{i}") }),
            )
            .await
        }
    }))
    .await;
    assert_exactly_one_wins(results, "folders_per_project", 100).await;
    assert_eq!(
        owner
            .list_all(&format!("/projects/{project}/folders"), 200)
            .await
            .len(),
        100
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_per_folder_holds_under_100_concurrent_creates() {
    // The default plan's 100 jobs and 100 folders per project cannot fill a 500-entry
    // folder, so this plan lifts those two and keeps the folder limit at its default.
    let app = TestApp::spawn_with(|c| {
        let wide = domain::limits::Limits {
            jobs_per_project: 10_000,
            ..Default::default()
        };
        c.plans.insert("wide".into(), wide);
    })
    .await;
    let owner = app.account_on_plan("Acme", "wide").await;
    let project = owner.project("p").await;
    let folder = owner.folder(&project, "crowded", None).await;
    for i in 0..499 {
        owner
            .sql_job(&project, &format!("j{i}"), Some(&folder), "select 1")
            .await
            .expect(201);
    }
    let results = join_all((0..RACERS).map(|i| {
        let (c, p, f) = (owner.clone(), project.clone(), folder.clone());
        async move {
            // Half the racers add folders, half add jobs: both are entries.
            if i % 2 == 0 {
                c.post(
                    &format!("/projects/{p}/folders"),
                    json!({ "name": format!("race{i}"), "parent_id": f }),
                )
                .await
            } else {
                c.sql_job(&p, &format!("race{i}"), Some(&f), "select 1")
                    .await
            }
        }
    }))
    .await;
    assert_exactly_one_wins(results, "entries_per_folder", 500).await;
    let jobs = owner
        .list_all(&format!("/projects/{project}/jobs?folder_id={folder}"), 200)
        .await
        .len();
    let folders = owner
        .list_all(&format!("/projects/{project}/folders"), 200)
        .await
        .len()
        - 1;
    assert_eq!(jobs + folders, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_project_holds_under_100_concurrent_creates() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    for i in 0..49 {
        owner
            .post(
                &format!("/projects/{project}/connections"),
                json!({ "name": format!("c{i}"), "kind": "kafka" }),
            )
            .await
            .expect(201);
    }
    let results = join_all((0..RACERS).map(|i| {
        let (c, p) = (owner.clone(), project.clone());
        async move { c.post(&format!("/projects/{p}/connections"), json!({ "name": format!("race{i}"), "kind": "kafka", "secret_properties": { "password": "x" } })).await }
    }))
    .await;
    assert_exactly_one_wins(results, "connections_per_project", 50).await;
    assert_eq!(
        owner
            .list_all(&format!("/projects/{project}/connections"), 200)
            .await
            .len(),
        50
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifacts_per_project_holds_under_100_concurrent_uploads() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let jar = tiny_jar();
    for i in 0..199 {
        owner
            .upload(&project, &format!("a{i}.jar"), jar.clone())
            .await
            .expect(201);
    }
    let results = join_all((0..RACERS).map(|i| {
        let (c, p, j) = (owner.clone(), project.clone(), jar.clone());
        async move { c.upload(&p, &format!("race{i}.jar"), j).await }
    }))
    .await;
    assert_exactly_one_wins(results, "artifacts_per_project", 200).await;
    assert_eq!(
        owner
            .list_all(&format!("/projects/{project}/artifacts"), 200)
            .await
            .len(),
        200
    );
    assert_eq!(
        app.staged_uploads(),
        0,
        "refused uploads leave no staged file"
    );
    let stored = std::fs::read_dir(app.data_dir.join("artifacts").join(&project))
        .unwrap()
        .count();
    assert_eq!(stored, 200, "exactly the recorded artifacts are on disk");
}

/// A plain sequential overflow answers with the limit's name and number too.
#[tokio::test]
async fn the_21st_project_is_refused_with_the_limit_named() {
    let app = TestApp::spawn().await;
    let owner: Client = app.account("Acme").await;
    for i in 0..20 {
        owner.project(&format!("p{i}")).await;
    }
    let res = owner
        .post("/projects", json!({ "name": "one-too-many" }))
        .await
        .expect_error(409, "limit_exceeded", Some("projects_per_account"));
    assert_eq!(res.body["error"]["limit"], 20);
    assert!(res.message().contains("20"), "{}", res.message());
}
