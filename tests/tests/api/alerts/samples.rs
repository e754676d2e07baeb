//! Rules judged on samples and counters the test records: backpressure, checkpoints,
//! an orphaned engine job and the engine's own restarts.

use std::time::Duration;

use super::{evaluate, webhook_group, SQL};
use sluice_tests::receivers::Receivers;
use sluice_tests::{json, TestApp};

// One story of three rules over the same samples (fire, partly resolve, resolve), so it reads top to bottom.
#[tokio::test]
async fn backpressure_failed_checkpoints_and_no_checkpoint_fire_from_the_samples_and_resolve() {
    let receivers = Receivers::start().await;
    let app = TestApp::spawn_with(|c| {
        // Nothing observes the engine here: the samples and counters are the test's.
        c.engine.reconcile_interval_ms = 3_600_000;
        c.alerts.interval_ms = 3_600_000;
        c.job_metrics.interval_ms = 1_000;
        c.outbox.interval_ms = 50;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("analytics").await;
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner.saved_sql_job(&project, "j", SQL).await;
    let d = owner.deployment(&project, "d", &job, &cluster, 2).await;
    let group = webhook_group(&owner, &project, &receivers).await;
    for rule in [
        json!({ "name": "backpressure", "condition": "backpressure_high", "threshold": 50, "window_secs": 10, "contact_group_id": group }),
        json!({ "name": "checkpoints failing", "condition": "checkpoint_failures", "threshold": 1, "window_secs": 60, "contact_group_id": group }),
        json!({ "name": "no checkpoint", "condition": "no_checkpoint", "window_secs": 30, "contact_group_id": group }),
    ] {
        owner
            .post(&format!("/projects/{project}/alert-rules"), rule)
            .await
            .expect(201);
    }
    // Running for two minutes, its last checkpoint a minute ago.
    let now = chrono::Utc::now().timestamp_millis();
    let pool = &app.state.db.pool;
    sqlx::query("update deployments set desired_state = 'RUNNING', status = 'RUNNING', last_checkpoint_at = $1 where id = $2")
        .bind(now - 60_000)
        .bind(&d)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("insert into deployment_events (id, deployment_id, kind, message, created_at) values ($1, $2, 'status', 'STARTING -> RUNNING', $3)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&d)
        .bind(now - 120_000)
        .execute(pool)
        .await
        .unwrap();
    let sample = |at: i64, backpressure: f64, failed: i64| {
        let d = d.clone();
        async move {
            sqlx::query(
                "insert into deployment_metrics (deployment_id, at, resolution, records_in, records_out, backpressured_ms, busy_ms,
                     records_in_per_sec, records_out_per_sec, backpressure_ratio, busy_ratio, checkpoints_completed, checkpoints_failed)
                 values ($1, $2, 0, 0, 0, 0, 0, 100.0, 100.0, $3, 0.5, 10, $4)",
            )
            .bind(&d)
            .bind(at)
            .bind(backpressure)
            .bind(failed)
            .execute(pool)
            .await
            .unwrap();
        }
    };
    // A sample a second for the last 12 s: 80% backpressured, 3 checkpoints failing;
    // every fourth second a lag turn instead, one of them just inside the window's start
    // (the first sample in the window comes 2 s after it).
    for (i, failed) in (0..12).zip([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]) {
        if i % 4 != 2 {
            sample(now - (11 - i) * 1000, 0.8, failed).await;
        }
    }
    assert_eq!(evaluate(&app, now).await, 1, "one message for the three");
    let got = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        got[0].subject,
        "[P1] 3 alert(s) firing in project analytics"
    );
    for words in [
        "backpressured at least 50%",
        "3 checkpoint(s) failed",
        "no checkpoint completed",
    ] {
        assert!(got[0].body.contains(words), "{words}: {}", got[0].body);
    }

    // Backpressure eases and a checkpoint completes: those two resolve; the failures
    // counted in the last minute keep theirs firing.
    sample(now + 1_000, 0.2, 3).await;
    sqlx::query("update deployments set last_checkpoint_at = $1 where id = $2")
        .bind(now + 1_000)
        .bind(&d)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(evaluate(&app, now + 1_500).await, 1);
    let got = receivers.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(
        got[1].subject,
        "[resolved] 2 alert(s) resolved in project analytics"
    );
    let firing = owner
        .list_all(&format!("/projects/{project}/alerts?state=firing"), 10)
        .await;
    assert_eq!(firing.len(), 1);
    assert!(firing[0]["summary"]
        .as_str()
        .unwrap()
        .contains("checkpoint(s) failed"));
    // Ten minutes on, with no samples since: the failures fall out of their minute and
    // resolve, no checkpoint for ten minutes fires again, and backpressure, whose window
    // no sample covers, fires nothing.
    assert_eq!(evaluate(&app, now + 600_000).await, 1);
    let got = receivers.wait_for(3, Duration::from_secs(10)).await;
    assert!(
        got[2].body.contains("RESOLVED checkpoints failing"),
        "{}",
        got[2].body
    );
    assert!(
        got[2].body.contains("FIRING no checkpoint"),
        "{}",
        got[2].body
    );
    assert!(!got[2].body.contains("backpressure"), "{}", got[2].body);
}

#[tokio::test]
async fn an_orphaned_engine_job_and_the_engines_own_restarts_fire_their_rules() {
    let receivers = Receivers::start().await;
    let app = TestApp::spawn_with(|c| {
        // Nothing observes the engine here: the orphan and the restarts are the test's.
        c.engine.reconcile_interval_ms = 3_600_000;
        c.alerts.interval_ms = 3_600_000;
        c.outbox.interval_ms = 50;
    })
    .await;
    let owner = app.account("Acme").await;
    let project = owner.project("analytics").await;
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner.saved_sql_job(&project, "j", SQL).await;
    let d = owner.deployment(&project, "d", &job, &cluster, 1).await;
    let group = webhook_group(&owner, &project, &receivers).await;
    for rule in [
        json!({ "name": "orphan", "condition": "orphan_job", "contact_group_id": group }),
        json!({ "name": "flapping", "condition": "restarts", "threshold": 1, "window_secs": 600, "contact_group_id": group }),
    ] {
        owner
            .post(&format!("/projects/{project}/alert-rules"), rule)
            .await
            .expect(201);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let pool = &app.state.db.pool;
    // An earlier job of the deployment, reported as still running for no deployment.
    sqlx::query(
        "insert into engine_orphans (cluster_id, engine_job_id, deployment_id, job_name, first_seen_at, reported_at)
         values ($1, '511ce0aa', $2, 'd', $3, $3)",
    )
    .bind(&cluster)
    .bind(&d)
    .bind(now - 10_000)
    .execute(pool)
    .await
    .unwrap();
    // Two restarts by the engine's restart strategy: more than the threshold of one.
    for ago in [60_000, 30_000] {
        sqlx::query("insert into deployment_events (id, deployment_id, kind, message, created_at) values ($1, $2, 'engine_restart', 'the engine restarted job x by itself', $3)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&d)
            .bind(now - ago)
            .execute(pool)
            .await
            .unwrap();
    }
    assert_eq!(evaluate(&app, now).await, 1, "one message for the two");
    let got = receivers.wait_for(1, Duration::from_secs(10)).await;
    for words in [
        "earlier engine job 511ce0aa still runs",
        "restarted 2 times",
    ] {
        assert!(got[0].body.contains(words), "{words}: {}", got[0].body);
    }
    // Cancelled after its grace: the orphan alert resolves.
    sqlx::query("update engine_orphans set cancelled_at = $1")
        .bind(now + 1_000)
        .execute(pool)
        .await
        .unwrap();
    evaluate(&app, now + 2_000).await;
    let got = receivers.wait_for(2, Duration::from_secs(10)).await;
    assert!(got[1].body.contains("RESOLVED orphan"), "{}", got[1].body);
    assert!(
        !got[1].body.contains("RESOLVED flapping"),
        "{}",
        got[1].body
    );
}
