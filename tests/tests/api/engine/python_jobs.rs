//! A PyFlink job (a Table API script with a keyed aggregation, so it has state) on each
//! engine version Sluice runs, Flink 2.3 and Flink 1.20: the script is a Python
//! artifact, the job names it and passes it arguments; it runs only on the account's own
//! cluster, runs under the id Sluice chose, takes a savepoint, is suspended (stopped with
//! a savepoint) and resumed, and the new run restores that savepoint, as Flink itself
//! reports.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use sluice_tests::engine::local_engine;
use sluice_tests::{json, Client};

use super::{cancel, on_the_engine, wait_until};

/// Reads its rate from its arguments (`--rows-per-second`, required: the job's own
/// arguments reach the script, or it does not start), then counts rows per key.
const SCRIPT: &str = r#"import argparse

from pyflink.table import EnvironmentSettings, TableEnvironment


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows-per-second", required=True)
    rate = parser.parse_args().rows_per_second
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.execute_sql(f"""
        CREATE TABLE clicks (user_id INT, amount BIGINT) WITH (
          'connector' = 'datagen', 'rows-per-second' = '{rate}',
          'fields.user_id.min' = '1', 'fields.user_id.max' = '20')""")
    t_env.execute_sql("""
        CREATE TABLE totals (user_id INT, n BIGINT, total BIGINT)
        WITH ('connector' = 'blackhole')""")
    clicks = t_env.from_path("clicks")
    totals = clicks.group_by(clicks.user_id).select(
        clicks.user_id, clicks.amount.count, clicks.amount.sum)
    totals.execute_insert("totals")


if __name__ == "__main__":
    main()
"#;

const RULE: &str = "Python jobs run only on a cluster your account registered";

#[tokio::test]
async fn a_python_job_runs_savepoints_suspends_and_resumes_with_its_state_on_flink_2_3() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    // A Python job runs on a cluster of the account's own: the same engine, registered.
    let cluster = owner.own_cluster("own", &engine.rest_url).await;
    python_story(&owner, &cluster, &engine.rest_url).await;
}

#[tokio::test]
async fn a_python_job_runs_savepoints_suspends_and_resumes_with_its_state_on_flink_1_20() {
    let Some(engine) = local_engine() else { return };
    let Some(url_1_20) = sluice_tests::engine::flink_1_20_url() else {
        return;
    };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let cluster = owner.flink_1_20_cluster(&url_1_20).await;
    python_story(&owner, &cluster, &url_1_20).await;
}

/// The Python job's whole life on `cluster` (at `rest_url`). Should a step fail, the
/// deployment is still cancelled, so its job does not outlive the test on the shared
/// cluster.
async fn python_story(owner: &Client, cluster: &str, rest_url: &str) {
    let project = owner.project("p").await;
    let flink = engine_client::EngineClient::new(rest_url).unwrap();
    let uploaded = owner
        .upload(&project, "click_totals.py", SCRIPT.as_bytes().to_vec())
        .await
        .expect(201);
    assert_eq!(uploaded.body["kind"], "python");
    let script = uploaded.id();
    let jobs = format!("/projects/{project}/jobs");

    // The job must name a Python artifact of the project.
    owner
        .post(
            &jobs,
            json!({ "name": "totals", "content": { "kind": "python", "artifact_id": "nope" } }),
        )
        .await
        .expect_error(422, "invalid_field", Some("content.artifact_id"));

    let job = owner
        .post(
            &jobs,
            json!({ "name": "totals", "content": { "kind": "python", "artifact_id": script, "args": ["--rows-per-second", "20"] } }),
        )
        .await
        .expect(201)
        .id();
    let draft = owner.get(&format!("{jobs}/{job}")).await.expect(200);
    assert_eq!(
        draft.body["content"],
        json!({ "kind": "python", "artifact_id": script, "args": ["--rows-per-second", "20"] })
    );
    owner
        .post(
            &format!("{jobs}/{job}/versions"),
            json!({ "message": "v1" }),
        )
        .await
        .expect(201);

    // The platform's shared cluster runs no custom code: a Python job is refused there.
    let refused = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "totals", "job_id": job }),
        )
        .await
        .expect_error(422, "invalid_field", Some("cluster_id"));
    assert!(refused.message().contains(RULE), "{}", refused.body);

    let d = owner.deployment(&project, "totals", &job, cluster, 1).await;
    let path = format!("/projects/{project}/deployments/{d}");
    let story = AssertUnwindSafe(runs_savepoints_suspends_and_resumes(owner, &flink, &path))
        .catch_unwind()
        .await;
    if let Err(failure) = story {
        owner
            .post(&format!("{path}/stop"), json!({ "mode": "CANCEL" }))
            .await;
        if let Some(job_id) = owner.get(&path).await.body["engine_job_id"].as_str() {
            let _ = flink.cancel(job_id).await;
        }
        std::panic::resume_unwind(failure);
    }
}

async fn runs_savepoints_suspends_and_resumes(
    owner: &Client,
    flink: &engine_client::EngineClient,
    path: &str,
) {
    // Started without state, it runs on the engine under the id Sluice chose.
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect(202);
    let running = wait_until(owner, path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    let first_job = running["engine_job_id"].as_str().unwrap().to_owned();
    let on_engine = flink.job(&first_job).await.unwrap();
    assert_eq!(on_engine.state, engine_client::JobState::Running);
    assert!(
        on_engine
            .vertices
            .iter()
            .any(|v| v.name.contains("GroupAggregate")),
        "the script's aggregation runs: {on_engine:?}"
    );
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    assert!(
        events.iter().any(
            |e| e["kind"] == "submitted" && e["message"].as_str().unwrap().contains(&first_job)
        ),
        "{events:?}"
    );

    // A savepoint on request leaves it running.
    owner
        .post(&format!("{path}/savepoints"), json!({}))
        .await
        .expect(202);
    let savepoints = wait_until(
        owner,
        &format!("{path}/savepoints"),
        60,
        "the savepoint",
        |b| b["items"][0]["state"] == "COMPLETED",
    )
    .await;
    assert_eq!(savepoints["items"][0]["origin"], "USER_REQUEST");
    assert_eq!(
        flink.job(&first_job).await.unwrap().state,
        engine_client::JobState::Running
    );

    // Suspended: stopped with a savepoint.
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "SUSPEND" }))
        .await
        .expect(202);
    wait_until(owner, path, 90, "SUSPENDED", |b| b["status"] == "SUSPENDED").await;
    let suspended = owner.list_all(&format!("{path}/savepoints"), 20).await;
    let suspend: Vec<_> = suspended
        .iter()
        .filter(|s| s["origin"] == "SUSPEND")
        .collect();
    assert_eq!(suspend.len(), 1, "{suspended:?}");
    assert_eq!(suspend[0]["state"], "COMPLETED", "{suspended:?}");
    let location = suspend[0]["location"].as_str().unwrap().to_owned();

    // Resumed from that savepoint: a new engine job, restored from it by Flink.
    owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_SAVEPOINT" }),
        )
        .await
        .expect(202);
    let resumed = wait_until(owner, path, 90, "RUNNING again", |b| {
        b["status"] == "RUNNING"
    })
    .await;
    let second_job = resumed["engine_job_id"].as_str().unwrap().to_owned();
    assert_ne!(second_job, first_job);
    let restored = flink
        .checkpoints(&second_job)
        .await
        .unwrap()
        .latest
        .restored
        .unwrap_or_else(|| panic!("job {second_job} restored from a savepoint"));
    assert!(restored.is_savepoint, "{restored:?}");
    assert_eq!(
        restored.external_path.trim_end_matches('/'),
        location.trim_end_matches('/')
    );

    cancel(owner, path).await;
}

#[tokio::test]
async fn a_python_job_without_a_driver_for_the_clusters_version_fails_saying_so() {
    let Some(engine) = local_engine() else { return };
    // A server with no PyFlink driver at all (none configured, and no engine venv under
    // the test's working directory).
    let app = sluice_tests::TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.flink_python_jars.clear();
        c.engine.reconcile_interval_ms = 300;
    })
    .await;
    let owner = app.account("Acme").await;
    let cluster = owner.own_cluster("own", &engine.rest_url).await;
    let project = owner.project("p").await;
    let script = owner
        .upload(&project, "click_totals.py", SCRIPT.as_bytes().to_vec())
        .await
        .expect(201)
        .id();
    let job = owner
        .post(
            &format!("/projects/{project}/jobs"),
            json!({ "name": "totals", "content": { "kind": "python", "artifact_id": script, "args": ["--rows-per-second", "1"] } }),
        )
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
    let d = owner
        .deployment(&project, "totals", &job, &cluster, 1)
        .await;
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect(202);
    let failed = wait_until(&owner, &path, 60, "FAILED", |b| b["status"] == "FAILED").await;
    let reason = failed["last_error"].as_str().unwrap();
    assert!(
        reason.contains("no PyFlink driver for Flink") && reason.contains("flink_python_jars"),
        "{reason}"
    );
}

/// Validation runs the script to the job graph on the engine: a good script gets its
/// plan, a broken one the error at the script's line its traceback names, and the
/// platform's cluster is not asked (it runs no custom code).
#[tokio::test]
async fn a_python_job_is_validated_by_the_engines_dry_run() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let jobs = format!("/projects/{project}/jobs");
    let python_job = |name: &'static str, source: String| {
        let (owner, project, jobs) = (&owner, &project, &jobs);
        async move {
            let script = owner
                .upload(project, &format!("{name}.py"), source.into_bytes())
                .await
                .expect(201)
                .id();
            owner
                .post(
                    jobs,
                    json!({ "name": name, "content": { "kind": "python", "artifact_id": script, "args": ["--rows-per-second", "5"] } }),
                )
                .await
                .expect(201)
                .id()
        }
    };
    let good = python_job("good", SCRIPT.to_owned()).await;
    // The same script with a typo in its sink's DDL.
    let broken_source = SCRIPT.replacen("CREATE TABLE totals", "CREATE TABL totals", 1);
    assert!(broken_source.contains("CREATE TABL totals"));
    let broken = python_job("broken", broken_source.clone()).await;

    let platform = owner.get("/clusters").await.expect(200).body;
    let platform = platform
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["platform"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let on_platform = owner
        .post(
            &format!("{jobs}/{good}/validate"),
            json!({ "cluster_id": platform }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(on_platform["valid"], false);
    assert_eq!(on_platform["engine"]["status"], "skipped");
    assert!(on_platform["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains(RULE));

    let cluster = owner.own_cluster("own", &engine.rest_url).await;
    let report = owner
        .post(
            &format!("{jobs}/{good}/validate"),
            json!({ "cluster_id": cluster }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["engine"]["status"], "planned", "{report}");
    assert!(
        report["plan"]["nodes"]
            .as_array()
            .is_some_and(|n| !n.is_empty()),
        "{report}"
    );

    let report = owner
        .post(
            &format!("{jobs}/{broken}/validate"),
            json!({ "cluster_id": cluster }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["valid"], false, "{report}");
    assert_eq!(report["engine"]["status"], "refused", "{report}");
    let error = &report["errors"][0];
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("TABL"), "the engine's words: {message}");
    // The execute_sql call holding the typo: the traceback's line of the script.
    let call_line = broken_source
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("t_env.execute_sql("))
        .map(|(i, _)| i as u64 + 1)
        .nth(1)
        .unwrap();
    assert_eq!(error["line"], call_line, "{report}");
}
