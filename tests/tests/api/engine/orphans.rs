//! Jobs under the installation's ids that run for no deployment.

use super::{cancel, run_stateless, STREAM};
use sluice_tests::engine::local_engine;
use sluice_tests::{json, TestApp};

/// Runs the SQL runner's program by hand on the engine, under `job_id` if given (the
/// engine's own id otherwise); the job id.
async fn run_by_hand(
    engine: &sluice_tests::engine::LocalEngine,
    name: &str,
    job_id: Option<String>,
) -> String {
    let flink = engine_client::EngineClient::new(&engine.rest_url).unwrap();
    let jar = flink
        .upload_jar("by-hand.jar", std::fs::read(&engine.runner_jar).unwrap())
        .await
        .unwrap();
    let statements: Vec<String> = engine_client::script::analyze(STREAM)
        .unwrap()
        .statements
        .into_iter()
        .map(|s| s.text)
        .collect();
    let mut program = domain::engine::runner::program(
        &statements,
        &Default::default(),
        Some(name),
        Some(1),
        None,
    );
    program.job_id = job_id;
    flink.run_jar(&jar, &program).await.unwrap()
}

#[tokio::test]
async fn a_job_started_by_hand_under_the_installations_ids_is_reported_then_cancelled_after_the_grace(
) {
    let Some(engine) = local_engine() else { return };
    const GRACE_MS: u64 = 8_000;
    let app = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 300;
        c.engine.orphan_grace_ms = GRACE_MS;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "managed", STREAM).await;
    let name = format!("managed-{}", uuid::Uuid::new_v4().simple());
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": name, "job_id": job }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    run_stateless(&owner, &path).await;
    let managed = owner.get(&path).await.expect(200).body["engine_job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The installation's prefix: "511ce0" and its 8-digit tag.
    let prefix = &managed[..14];
    let orphan = format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..18]
    );
    let started = std::time::Instant::now();
    run_by_hand(&engine, "by-hand", Some(orphan.clone())).await;
    // Someone else's job on the same cluster (the engine chose its id): not Sluice's.
    let foreign = run_by_hand(&engine, "someone-else", None).await;

    let flink = engine_client::EngineClient::new(&engine.rest_url).unwrap();
    let state_of = |id: String| {
        let flink = flink.clone();
        async move {
            flink
                .jobs_overview()
                .await
                .unwrap()
                .into_iter()
                .find(|j| j.jid == id)
                .map(|j| j.state)
        }
    };
    // Reported while it runs: the operators' gauge counts it.
    let metrics = format!("{}/metrics", app.base);
    let mut reported = false;
    while !reported && started.elapsed() < std::time::Duration::from_millis(GRACE_MS) {
        let text = reqwest::get(&metrics).await.unwrap().text().await.unwrap();
        reported = text
            .lines()
            .any(|l| l.starts_with("sluice_engine_orphan_jobs{") && l.ends_with(" 1"));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(reported, "the orphan was counted before its grace ran out");
    assert!(
        !state_of(orphan.clone()).await.unwrap().is_terminal(),
        "not cancelled before the grace"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !state_of(orphan.clone()).await.unwrap().is_terminal() {
        assert!(
            std::time::Instant::now() < deadline,
            "the orphan was cancelled after the grace"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(GRACE_MS - 1_000),
        "cancelled only once the grace ran out ({:?})",
        started.elapsed()
    );
    assert_eq!(
        state_of(orphan).await,
        Some(engine_client::JobState::Canceled)
    );
    // The deployment's own job and the foreign one run on.
    assert_eq!(
        state_of(managed).await,
        Some(engine_client::JobState::Running)
    );
    assert_eq!(
        state_of(foreign.clone()).await,
        Some(engine_client::JobState::Running)
    );
    flink.cancel(&foreign).await.unwrap();
    cancel(&owner, &path).await;
}
