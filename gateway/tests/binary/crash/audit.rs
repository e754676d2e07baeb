//! The server killed during concurrent creates.

use std::time::Duration;

use super::Api;
use crate::harness::{free_port, setup, sigkill, wait_until};

/// The server killed while 50 jobs are being created at once, ten times over: every
/// job that committed has the audit row of its creation (filed inside the same
/// transaction), and the requests cut off mid-way left nothing else behind.
#[tokio::test]
async fn a_server_killed_during_concurrent_creates_keeps_the_audit_row_of_every_committed_change() {
    const ROUNDS: usize = 10;
    const CREATES: usize = 50;
    let s = setup("audit").await;
    let (_account, token) = s.create_account();
    let env = [("SLUICE__PLANS__STANDARD__PROJECTS_PER_ACCOUNT", "1000")];
    let pool = s.pool().await;
    let http = reqwest::Client::new();
    let id = |v: serde_json::Value| v["id"].as_str().unwrap().to_owned();
    let mut interrupted_rounds = 0;
    for round in 0..ROUNDS {
        let port = free_port();
        let mut server = s.serve(port, &env).await;
        let api = Api {
            base: format!("http://127.0.0.1:{port}"),
            token: token.clone(),
            http: http.clone(),
        };
        let mut projects = Vec::new();
        for i in 0..CREATES {
            projects.push(id(api
                .post(
                    "/projects",
                    serde_json::json!({ "name": format!("r{round}-{i}") }),
                )
                .await));
        }
        let creates: Vec<_> = projects
            .iter()
            .map(|p| {
                let request = http
                    .post(format!("{}/api/v1/projects/{p}/jobs", api.base))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({ "name": "j", "content": { "kind": "sql", "sql": "select 1" } }));
                tokio::spawn(async move { request.send().await.map(|r| r.status()) })
            })
            .collect();
        // Kill as soon as the first of them has committed, while the rest are in flight.
        let round_prefix = format!("r{round}-%");
        wait_until("a first job of the round", Duration::from_secs(30), || {
            let pool = pool.clone();
            let round_prefix = round_prefix.clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(
                    "select count(*) from jobs j join projects p on p.id = j.project_id where p.name like $1",
                )
                .bind(round_prefix)
                .fetch_one(&pool)
                .await
                .unwrap();
                n > 0
            }
        })
        .await;
        sigkill(&mut server);
        let mut answered = 0;
        for create in creates {
            if matches!(create.await.unwrap(), Ok(status) if status.is_success()) {
                answered += 1;
            }
        }
        if answered < CREATES {
            interrupted_rounds += 1;
        }
    }
    assert!(
        interrupted_rounds > 0,
        "no round was cut off mid-way: the kill came too late to test anything"
    );
    let jobs: Vec<(String, i64)> = sqlx::query_as(
        "select j.project_id, (select count(*) from audit_log a
                                where a.project_id = j.project_id and a.action = 'create_job'
                                  and a.outcome = 'success')
           from jobs j",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!jobs.is_empty());
    let missing: Vec<&String> = jobs
        .iter()
        .filter(|(_, rows)| *rows == 0)
        .map(|(p, _)| p)
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} committed jobs have no audit row (projects {missing:?})",
        missing.len(),
        jobs.len()
    );
    // Each committed creation has exactly one row; none claims a job that is not there.
    let (claimed,): (i64,) = sqlx::query_as(
        "select count(*) from audit_log where action = 'create_job' and outcome = 'success'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(claimed, jobs.len() as i64);
}
