//! Rules evaluated at instants the test chooses: firing, reminders, resolution,
//! silences, replicas evaluating at once, and a rule changed while its alert fires.

use std::time::Duration;

use super::{evaluate, later, stuck_deployments, wait_status, webhook_group};
use sluice_tests::receivers::Receivers;
use sluice_tests::{json, TestApp};

// One story of one rule over time (fire, remind, resolve, silence, switch off), so it reads top to bottom.
#[tokio::test]
async fn a_rule_fires_once_for_many_deployments_in_one_message_resolves_and_is_muted_by_a_silence()
{
    let receivers = Receivers::start().await;
    let app = TestApp::spawn_with(|c| {
        // Evaluated by the test at instants of its choosing; delivered by the worker.
        c.alerts.interval_ms = 3_600_000;
        c.outbox.interval_ms = 50;
        c.engine.reconcile_interval_ms = 200;
    })
    .await;
    let owner = app.account("Acme").await;
    let (project, paths) = stuck_deployments(&owner, 3).await;
    let group = webhook_group(&owner, &project, &receivers).await;
    for (body, field) in [
        (
            json!({ "name": "x", "condition": "lag", "contact_group_id": group }),
            "condition",
        ),
        (
            json!({ "name": "x", "condition": "state_mismatch", "window_secs": 0, "contact_group_id": group }),
            "window_secs",
        ),
        (
            json!({ "name": "x", "condition": "job_failed", "severity": "P9", "contact_group_id": group }),
            "severity",
        ),
        (
            json!({ "name": "x", "condition": "job_failed", "contact_group_id": "nope" }),
            "contact_group_id",
        ),
        (
            json!({ "name": "x", "condition": "job_failed", "contact_group_id": group, "repeat_secs": 5 }),
            "repeat_secs",
        ),
    ] {
        owner
            .post(&format!("/projects/{project}/alert-rules"), body)
            .await
            .expect_error(422, "invalid_field", Some(field));
    }
    let rule = owner
        .post(
            &format!("/projects/{project}/alert-rules"),
            json!({ "name": "not running", "condition": "state_mismatch", "window_secs": 60, "severity": "P0",
                    "contact_group_id": group, "repeat_secs": 600 }),
        )
        .await
        .expect(201)
        .id();

    // Not yet for a minute; then all three fire, in one message.
    assert_eq!(evaluate(&app, later(30)).await, 0);
    assert_eq!(
        evaluate(&app, later(90)).await,
        1,
        "one message for the contact group"
    );
    assert_eq!(evaluate(&app, later(91)).await, 0, "fires once");
    let got = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        got[0].subject,
        "[P0] 3 alert(s) firing in project analytics"
    );
    assert_eq!(got[0].body.matches("FIRING").count(), 3, "{}", got[0].body);
    let firing = owner
        .list_all(&format!("/projects/{project}/alerts?state=firing"), 50)
        .await;
    assert_eq!(firing.len(), 3);

    // Ten minutes on, still firing: one reminder for all three.
    assert_eq!(evaluate(&app, later(700)).await, 1);
    let got = receivers.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(
        got[1].body.matches("STILL FIRING").count(),
        3,
        "{}",
        got[1].body
    );

    // Two are stopped: as desired now, they resolve; the third stays firing.
    for path in &paths[..2] {
        owner
            .post(&format!("{path}/stop"), json!({ "mode": "SUSPEND" }))
            .await
            .expect(202);
    }
    for path in &paths[..2] {
        wait_status(&owner, path, "SUSPENDED").await;
    }
    assert_eq!(evaluate(&app, later(710)).await, 1);
    let got = receivers.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(
        got[2].subject,
        "[resolved] 2 alert(s) resolved in project analytics"
    );
    let resolved = owner
        .list_all(&format!("/projects/{project}/alerts?state=resolved"), 50)
        .await;
    assert_eq!(resolved.len(), 2);

    // A silence on the first deployment: started again, it fires unannounced; once the
    // silence is lifted, it is announced.
    let d0 = paths[0].rsplit('/').next().unwrap().to_owned();
    let silence = owner
        .post(
            &format!("/projects/{project}/silences"),
            json!({ "deployment_id": d0, "ends_at": chrono::Utc::now() + chrono::Duration::hours(2), "reason": "cluster maintenance" }),
        )
        .await
        .expect(201)
        .id();
    owner
        .post(&format!("{}/start", paths[0]), json!({}))
        .await
        .expect(202);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(evaluate(&app, later(800)).await, 0, "muted");
    let muted = owner
        .list_all(&format!("/projects/{project}/alerts?state=firing"), 50)
        .await;
    let muted = muted
        .iter()
        .find(|a| a["deployment_id"] == d0.as_str())
        .expect("recorded while muted");
    assert!(muted["notified_at"].is_null(), "{muted}");
    owner
        .delete(&format!("/projects/{project}/silences/{silence}"))
        .await
        .expect(204);
    assert_eq!(evaluate(&app, later(801)).await, 1);
    let got = receivers.wait_for(4, Duration::from_secs(10)).await;
    assert!(
        got[3].subject.contains("1 alert(s) firing"),
        "{}",
        got[3].subject
    );

    // Switched off, the rule sends nothing more.
    owner
        .patch(
            &format!("/projects/{project}/alert-rules/{rule}"),
            json!({ "enabled": false }),
        )
        .await
        .expect(204);
    assert_eq!(evaluate(&app, later(5000)).await, 0);
    assert!(owner
        .list_all(&format!("/projects/{project}/alerts?state=firing"), 50)
        .await
        .is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receivers.received().len(), 4);
    assert_eq!(receivers.duplicates(), 0);
}

#[tokio::test]
async fn two_replicas_evaluating_at_once_send_one_message() {
    let receivers = Receivers::start().await;
    let app = TestApp::spawn_with(|c| {
        c.alerts.interval_ms = 3_600_000;
        c.outbox.interval_ms = 50;
    })
    .await;
    let replica = app.replica().await;
    let owner = app.account("Acme").await;
    let (project, _) = stuck_deployments(&owner, 2).await;
    let group = webhook_group(&owner, &project, &receivers).await;
    owner
        .post(
            &format!("/projects/{project}/alert-rules"),
            json!({ "name": "not running", "condition": "state_mismatch", "window_secs": 1, "contact_group_id": group }),
        )
        .await
        .expect(201);
    let at = later(60);
    let (a, b) = tokio::join!(
        workers::alerts::evaluate_all(&app.state, at),
        workers::alerts::evaluate_all(&replica.state, at)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "one of them sends, once");
    receivers.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receivers.received().len(), 1);
    assert_eq!(
        owner
            .list_all(&format!("/projects/{project}/alerts"), 50)
            .await
            .len(),
        2,
        "one alert per deployment"
    );
}

#[tokio::test]
async fn a_rule_is_changed_as_checked_as_a_new_one_and_its_firing_alert_ends_with_the_old_terms() {
    let receivers = Receivers::start().await;
    let app = TestApp::spawn_with(|c| {
        c.alerts.interval_ms = 3_600_000;
        c.outbox.interval_ms = 50;
    })
    .await;
    let owner = app.account("Acme").await;
    let (project, _paths) = stuck_deployments(&owner, 1).await;
    let group = webhook_group(&owner, &project, &receivers).await;
    let rule = owner
        .post(
            &format!("/projects/{project}/alert-rules"),
            json!({ "name": "stuck", "condition": "state_mismatch", "window_secs": 1, "contact_group_id": group }),
        )
        .await
        .expect(201)
        .id();
    assert_eq!(evaluate(&app, later(5)).await, 1);
    let rules = format!("/projects/{project}/alert-rules");
    let path = format!("{rules}/{rule}");

    // Out of its condition's range, or another project's group: refused, nothing changed.
    owner
        .patch(&path, json!({ "window_secs": 0 }))
        .await
        .expect_error(422, "invalid_field", Some("window_secs"));
    let other_project = owner.project("other").await;
    let other_group = owner
        .post(
            &format!("/projects/{other_project}/contact-groups"),
            json!({ "name": "theirs", "emails": ["them@example.com"] }),
        )
        .await
        .expect(201)
        .id();
    owner
        .patch(&path, json!({ "contact_group_id": other_group }))
        .await
        .expect_error(422, "invalid_field", Some("contact_group_id"));
    owner
        .patch(&path, json!({ "condition": "restarts" }))
        .await
        .expect(422);

    // Told differently, judged the same (the console sends every field): still firing.
    owner
        .patch(
            &path,
            json!({ "name": "stuck", "window_secs": 1, "severity": "P2", "repeat_secs": 0 }),
        )
        .await
        .expect(204);
    let alerts = owner
        .list_all(&format!("/projects/{project}/alerts"), 10)
        .await;
    assert_eq!(alerts[0]["state"], "firing", "{alerts:?}");

    owner
        .patch(
            &path,
            json!({ "window_secs": 600, "severity": "P0", "name": "stuck long" }),
        )
        .await
        .expect(204);
    let listed = owner.get(&rules).await.expect(200).body;
    assert_eq!(listed[0]["name"], "stuck long");
    assert_eq!(listed[0]["window_secs"], 600);
    assert_eq!(listed[0]["severity"], "P0");
    assert_eq!(listed[0]["condition"], "state_mismatch");
    // The alert fired under the old terms ended with them, unannounced.
    let alerts = owner
        .list_all(&format!("/projects/{project}/alerts"), 10)
        .await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["state"], "resolved");
    assert_eq!(evaluate(&app, later(5)).await, 0, "stuck 5 s is not 600");
    let delivered = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(delivered.len(), 1, "only the first firing was sent");
}
