//! A deployment's life on the engine: start, savepoints, suspend, resume, upgrade,
//! reconciliation; listing; and starts that would lose state.

use super::{cancel, on_the_engine, wait_until, STREAM, WINDOWED};
use sluice_tests::engine::local_engine;
use sluice_tests::{json, TestApp};

// One story on one running deployment (each step starts from the state the last one left), so it reads top to bottom.
#[tokio::test]
async fn a_deployment_runs_savepoints_suspends_resumes_upgrades_and_is_reconciled() {
    let Some(engine) = local_engine() else { return };
    let app = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.reconcile_interval_ms = 300;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "windowed", WINDOWED).await;
    let created = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "clicks", "job_id": job, "cu_per_task": 0.5, "parallelism": 2 }),
        )
        .await
        .expect(201);
    assert_eq!(created.body["total_cu"], 1.0);
    assert_eq!(created.body["status"], "CREATED");
    let d = created.id();
    let path = format!("/projects/{project}/deployments/{d}");
    let flink = engine_client::EngineClient::new(&engine.rest_url).unwrap();

    // Two starts at once: one wins.
    let start = json!({ "restore_mode": "NONE" });
    let start_path = format!("{path}/start");
    let (a, b) = tokio::join!(
        owner.post(&start_path, start.clone()),
        owner.post(&start_path, start.clone())
    );
    let mut codes = [a.status.as_u16(), b.status.as_u16()];
    codes.sort();
    assert_eq!(codes, [202, 409]);
    let running = wait_until(&owner, &path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    let first_job = running["engine_job_id"].as_str().unwrap().to_owned();
    let on_engine = flink.job(&first_job).await.unwrap();
    assert_eq!(on_engine.state, engine_client::JobState::Running);
    // The typed client reads what monitoring needs from the real engine.
    assert!(flink
        .taskmanagers()
        .await
        .unwrap()
        .iter()
        .any(|t| t.slots_number > 0));
    assert!(flink
        .jobs_overview()
        .await
        .unwrap()
        .iter()
        .any(|j| j.jid == first_job && j.is_fully_running()));
    let vertex = &on_engine.vertices[0];
    let metrics = flink
        .vertex_metrics(&first_job, &vertex.id, &["numRecordsOutPerSecond"])
        .await
        .unwrap();
    assert!(
        metrics.iter().all(|m| m.id == "numRecordsOutPerSecond"),
        "{metrics:?}"
    );
    let backpressure = flink.backpressure(&first_job, &vertex.id).await.unwrap();
    assert!(
        matches!(backpressure.status.as_str(), "ok" | "deprecated"),
        "{backpressure:?}"
    );
    flink.exceptions(&first_job).await.unwrap();
    let exceptions = owner.get(&format!("{path}/exceptions")).await.expect(200);
    assert!(exceptions.body.is_array());
    assert!(matches!(
        flink.job("00000000000000000000000000000000").await,
        Err(engine_client::EngineError::JobNotFound { .. })
    ));

    // A savepoint on request.
    owner
        .post(&format!("{path}/savepoints"), json!({}))
        .await
        .expect(202);
    let savepoints = wait_until(
        &owner,
        &format!("{path}/savepoints"),
        60,
        "the savepoint and its size",
        // Its size comes from the engine's checkpoint statistics, which list it a few
        // seconds after it completes (the windowed job keeps state: never 0).
        |b| b["items"][0]["state"] == "COMPLETED" && b["items"][0]["size_bytes"].as_i64() > Some(0),
    )
    .await;
    assert_eq!(savepoints["items"][0]["origin"], "USER_REQUEST");

    // Suspend: stop with a savepoint.
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "SUSPEND" }))
        .await
        .expect(202);
    wait_until(&owner, &path, 60, "SUSPENDED", |b| {
        b["status"] == "SUSPENDED"
    })
    .await;
    let savepoints = owner.list_all(&format!("{path}/savepoints"), 10).await;
    let suspend = savepoints
        .iter()
        .find(|s| s["origin"] == "SUSPEND")
        .expect("a SUSPEND savepoint");
    assert_eq!(suspend["state"], "COMPLETED");
    // On the platform's cluster a tenant is not shown where the files lie.
    assert_eq!(suspend["location"], serde_json::Value::Null);
    let suspend_location = super::savepoint_location(&app, suspend["id"].as_str().unwrap()).await;
    // Nor in the deployment's events: they name the savepoint by its id.
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    let completed: Vec<&str> = events
        .iter()
        .filter(|e| e["kind"] == "savepoint")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        completed.iter().any(|m| m.starts_with(&format!(
            "savepoint {} completed",
            suspend["id"].as_str().unwrap()
        ))),
        "{completed:?}"
    );
    let folder = suspend_location
        .trim_start_matches("file:")
        .trim_start_matches("//");
    let folder = folder.rsplit_once('/').map_or(folder, |(dir, _)| dir);
    assert!(
        events.iter().all(|e| !e.to_string().contains(folder)),
        "a path in {events:?}"
    );
    // Starting stateless now would drop that state: refused unless asked for.
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect_error(409, "state_would_be_lost", None);

    // Resume from it, and Flink says it restored from that savepoint.
    owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_SAVEPOINT" }),
        )
        .await
        .expect(202);
    let resumed = wait_until(&owner, &path, 90, "RUNNING again", |b| {
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
        .expect("restored from a savepoint");
    assert!(restored.is_savepoint);
    assert_eq!(
        restored.external_path.trim_end_matches('/'),
        suspend_location.trim_end_matches('/')
    );

    // A stateful upgrade to version 2.
    let draft = owner
        .get(&format!("/projects/{project}/jobs/{job}"))
        .await
        .expect(200);
    let v2 = WINDOWED.replace("'rows-per-second' = '5'", "'rows-per-second' = '7'");
    owner
        .patch_if(
            &format!("/projects/{project}/jobs/{job}"),
            &draft.etag(),
            json!({ "content": { "kind": "sql", "sql": v2 } }),
        )
        .await
        .expect(200);
    owner
        .post(
            &format!("/projects/{project}/jobs/{job}/versions"),
            json!({ "message": "v2" }),
        )
        .await
        .expect(201);
    owner
        .post(&format!("{path}/upgrade"), json!({ "version": 2 }))
        .await
        .expect(202);
    let upgraded = wait_until(&owner, &path, 90, "the upgrade", |b| {
        b["job_version"] == 2 && b["status"] == "RUNNING"
    })
    .await;
    let third_job = upgraded["engine_job_id"].as_str().unwrap().to_owned();
    assert_ne!(third_job, second_job);
    assert!(flink
        .checkpoints(&third_job)
        .await
        .unwrap()
        .latest
        .restored
        .is_some_and(|r| r.is_savepoint));

    // The job is cancelled behind Sluice's back: the reconciler restarts it.
    flink.cancel(&third_job).await.unwrap();
    let restarted = wait_until(&owner, &path, 90, "a restart", |b| {
        b["status"] == "RUNNING"
            && b["engine_job_id"].is_string()
            && b["engine_job_id"] != third_job.as_str()
    })
    .await;
    assert_eq!(restarted["restart_count"], 1);
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    assert!(events.iter().any(|e| e["kind"] == "restart"), "{events:?}");

    // Sluice restarts: nothing is lost, and the next instance carries on.
    let replica = app.replica().await;
    app.stop();
    let mut owner_again = owner.clone();
    owner_again.base = replica.base.clone();
    let after = owner_again.get(&path).await.expect(200);
    assert_eq!(after.body["engine_job_id"], restarted["engine_job_id"]);
    owner_again
        .post(&format!("{path}/stop"), json!({ "mode": "CANCEL" }))
        .await
        .expect(202);
    wait_until(&owner_again, &path, 60, "CANCELLED", |b| {
        b["status"] == "CANCELLED"
    })
    .await;

    // Every stretch it ran was recorded, and none is left open.
    let intervals: Vec<(i64, Option<i64>, i64)> = sqlx::query_as(
        "select cu_milli, ended_at, started_at from run_intervals where deployment_id = $1",
    )
    .bind(&d)
    .fetch_all(&replica.state.db.pool)
    .await
    .unwrap();
    let events = owner_again.list_all(&format!("{path}/events"), 100).await;
    let timeline: Vec<String> = events
        .iter()
        .map(|e| format!("{} {} {}", e["created_at"], e["kind"], e["message"]))
        .collect();
    assert!(
        intervals.len() >= 4,
        "{intervals:?}\n{}",
        timeline.join("\n")
    );
    assert!(
        intervals
            .iter()
            .all(|(cu, ended, started)| *cu == 1000 && ended.is_some_and(|e| e >= *started)),
        "{intervals:?}"
    );

    // A savepoint is disposed of on the engine before its record goes.
    let savepoints = owner_again
        .list_all(&format!("{path}/savepoints"), 20)
        .await;
    let user = savepoints
        .iter()
        .find(|s| s["origin"] == "USER_REQUEST")
        .expect("the user's savepoint");
    let location = super::savepoint_location(&replica, user["id"].as_str().unwrap())
        .await
        .trim_start_matches("file:")
        .to_owned();
    assert!(std::path::Path::new(&location).exists(), "{location}");
    owner_again
        .delete(&format!(
            "{path}/savepoints/{}",
            user["id"].as_str().unwrap()
        ))
        .await
        .expect(204);
    assert!(
        !std::path::Path::new(&location).exists(),
        "{location} is still there"
    );
    assert_eq!(
        owner_again
            .list_all(&format!("{path}/savepoints"), 20)
            .await
            .len(),
        savepoints.len() - 1
    );
}

#[tokio::test]
async fn deployments_are_listed_by_job_and_by_status() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner.unreachable_cluster("down").await;
    let sql = "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nCREATE TABLE b (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO b SELECT x FROM a;";
    let first = owner.saved_sql_job(&project, "first", sql).await;
    let second = owner.saved_sql_job(&project, "second", sql).await;
    let a = owner.deployment(&project, "a", &first, &cluster, 1).await;
    let b = owner.deployment(&project, "b", &second, &cluster, 1).await;
    let c = owner.deployment(&project, "c", &second, &cluster, 1).await;
    owner
        .post(
            &format!("/projects/{project}/deployments/{c}/start"),
            json!({}),
        )
        .await
        .expect(202);
    let ids = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let base = format!("/projects/{project}/deployments");
    let of_second = owner
        .get(&format!("{base}?job_id={second}"))
        .await
        .expect(200);
    assert_eq!(ids(&of_second.body), vec![b.clone(), c.clone()]);
    let created = owner
        .get(&format!("{base}?status=CREATED"))
        .await
        .expect(200);
    assert_eq!(ids(&created.body), vec![a.clone(), b.clone()]);
    let both = owner
        .get(&format!("{base}?job_id={first}&status=CREATED&limit=1"))
        .await
        .expect(200);
    assert_eq!(ids(&both.body), vec![a]);
    owner
        .get(&format!("{base}?status=running"))
        .await
        .expect_error(422, "invalid_field", Some("status"));
}

#[tokio::test]
async fn a_start_that_asks_for_state_it_cannot_find_is_refused_unless_empty_state_is_allowed() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "stateful", STREAM).await;
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": format!("stateful-{}", uuid::Uuid::new_v4().simple()), "job_id": job }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    let refused = owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_SAVEPOINT" }),
        )
        .await
        .expect(409);
    assert_eq!(refused.body["error"]["code"], "no_state_to_restore");
    assert_eq!(
        owner.get(&path).await.expect(200).body["desired_state"],
        "CANCELLED"
    );
    // A first start of LATEST_STATE has nothing to lose: it starts.
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    wait_until(&owner, &path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "SUSPEND" }))
        .await
        .expect(202);
    wait_until(&owner, &path, 60, "SUSPENDED", |b| {
        b["status"] == "SUSPENDED"
    })
    .await;
    // The savepoint is gone (deleted), so the state it ran with is nowhere.
    let savepoints = owner.list_all(&format!("{path}/savepoints"), 10).await;
    for s in &savepoints {
        owner
            .delete(&format!("{path}/savepoints/{}", s["id"].as_str().unwrap()))
            .await
            .expect(204);
    }
    let refused = owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_STATE" }),
        )
        .await
        .expect(409);
    assert_eq!(refused.body["error"]["code"], "no_state_to_restore");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("allow_empty_state"),
        "{}",
        refused.body
    );
    owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_STATE", "allow_empty_state": true }),
        )
        .await
        .expect(202);
    let running = wait_until(&owner, &path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    let events = owner.list_all(&format!("{path}/events"), 100).await;
    assert!(
        events.iter().any(|e| e["kind"] == "submitted"
            && e["message"].as_str().unwrap().contains("without state")
            && e["message"]
                .as_str()
                .unwrap()
                .contains(running["engine_job_id"].as_str().unwrap())),
        "{events:?}"
    );
    cancel(&owner, &path).await;
}
