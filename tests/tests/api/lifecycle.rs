//! Product-form lifecycle stages enforced where actions happen: orders and starts.

use chrono::{DateTime, Utc};
use lifecycle::ProductSchedule;
use sluice_tests::{json, TestApp};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn schedule(announced: &str, eom1: &str, eom2: &str, eofs: &str, eos: &str) -> ProductSchedule {
    ProductSchedule {
        announced_at: utc(announced),
        eom1: utc(eom1),
        eom2: utc(eom2),
        eofs: utc(eofs),
        eos: utc(eos),
    }
}

#[tokio::test]
async fn a_retiring_product_form_refuses_new_purchases_but_renews_and_a_retired_one_runs_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    owner
        .post("/account/balance/top-ups", json!({ "amount": "1000.00" }))
        .await
        .expect(201);
    let subscribed = owner.project("subscribed").await;
    owner
        .post(
            "/account/orders",
            json!({ "kind": "new_purchase", "project_id": subscribed, "cu": 1, "months": 1 }),
        )
        .await
        .expect(201);
    let fresh = owner.project("fresh").await;

    // A schedule with too little notice is refused by policy.
    let short = schedule(
        "2026-01-01T00:00:00Z",
        "2026-03-01T00:00:00Z",
        "2026-08-01T00:00:00Z",
        "2026-09-01T00:00:00Z",
        "2027-01-01T00:00:00Z",
    );
    let err = domain::product_forms::set_schedule(&app.state.db, "fully_managed", &short)
        .await
        .unwrap_err();
    assert!(err.message.contains("notice"), "{}", err.message);

    // In EOM1 (since 2026-06-01): no new purchase; renewals and runs go on.
    let eom1 = schedule(
        "2026-01-01T00:00:00Z",
        "2026-06-01T00:00:00Z",
        "2030-01-01T00:00:00Z",
        "2030-06-01T00:00:00Z",
        "2031-01-01T00:00:00Z",
    );
    domain::product_forms::set_schedule(&app.state.db, "fully_managed", &eom1)
        .await
        .unwrap();
    let refused = owner
        .post(
            "/account/orders",
            json!({ "kind": "new_purchase", "project_id": fresh, "cu": 1, "months": 1 }),
        )
        .await
        .expect_error(409, "lifecycle_restricted", None);
    assert!(
        refused.message().contains("EOM1") && refused.message().contains("2026-06-01"),
        "{}",
        refused.message()
    );
    owner
        .post(
            "/account/orders",
            json!({ "kind": "renew", "project_id": subscribed, "months": 1 }),
        )
        .await
        .expect(201);

    // A deployment made while the project's form still took configuration changes.
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner.saved_sql_job(&fresh, "j", "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;").await;
    let d = owner
        .post(
            &format!("/projects/{fresh}/deployments"),
            json!({ "name": "d", "job_id": job, "cluster_id": cluster }),
        )
        .await
        .expect(201)
        .id();

    // Retired (EOS): not even a start. (A form retired long ago: a published schedule
    // cannot be moved earlier, so this is another form, the project moved onto it.)
    let eos = schedule(
        "2024-01-01T00:00:00Z",
        "2024-06-01T00:00:00Z",
        "2024-08-01T00:00:00Z",
        "2024-11-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
    );
    domain::product_forms::set_schedule(&app.state.db, "legacy_shared", &eos)
        .await
        .unwrap();
    sqlx::query("update projects set product_form = 'legacy_shared' where id = $1")
        .bind(&fresh)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let refused = owner
        .post(
            &format!("/projects/{fresh}/deployments/{d}/start"),
            json!({}),
        )
        .await
        .expect_error(409, "lifecycle_restricted", None);
    assert!(refused.message().contains("EOS"), "{}", refused.message());
}

fn engine_version(label: &str, ga: &str, pulled: bool) -> lifecycle::EngineVersion {
    let ga = utc(ga);
    lifecycle::EngineVersion {
        label: label.to_owned(),
        flink_version: "2.3.0".to_owned(),
        announced_at: ga,
        ga,
        eogs: ga + chrono::Duration::days(180),
        eofs: ga + chrono::Duration::days(270),
        eos: ga + chrono::Duration::days(360),
        pulled,
    }
}

#[tokio::test]
async fn engine_versions_past_end_of_service_or_pulled_take_no_deployments_and_running_ones_stop() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner.saved_sql_job(&project, "j", "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;").await;
    // One address runs one engine version: each cluster at an address of its own (all
    // closed ports).
    let cluster = |name: &str, version: &str| json!({ "name": name, "rest_url": format!("http://{name}.invalid:9"), "flink_version": "2.3.0", "engine_version": version });
    // 1.0.1 runs now; 1.0.2 is pulled; 0.9.0 reached its end of service last year.
    domain::product_forms::set_engine_version(
        &app.state.db,
        &engine_version("1.0.1", "2026-10-01T00:00:00Z", false),
    )
    .await
    .unwrap();
    domain::product_forms::set_engine_version(
        &app.state.db,
        &engine_version("1.0.2", "2026-10-01T00:00:00Z", true),
    )
    .await
    .unwrap();
    domain::product_forms::set_engine_version(
        &app.state.db,
        &engine_version("0.9.0", "2024-01-01T00:00:00Z", false),
    )
    .await
    .unwrap();
    let mut too_soon = engine_version("1.0.3", "2026-10-01T00:00:00Z", false);
    too_soon.eos = too_soon.eofs;
    assert!(
        domain::product_forms::set_engine_version(&app.state.db, &too_soon)
            .await
            .is_err()
    );

    let current = owner
        .post("/clusters", cluster("current", "1.0.1"))
        .await
        .expect(201)
        .id();
    let pulled = owner
        .post("/clusters", cluster("pulled", "1.0.2"))
        .await
        .expect(201)
        .id();
    let retired = owner
        .post("/clusters", cluster("retired", "0.9.0"))
        .await
        .expect(201)
        .id();
    let deployments = format!("/projects/{project}/deployments");
    let deploy = |name: &str, cluster: &str| {
        owner.post(
            &deployments,
            json!({ "name": name, "job_id": job, "cluster_id": cluster }),
        )
    };
    deploy("on-pulled", &pulled)
        .await
        .expect_error(409, "engine_version_pulled", None);
    deploy("on-retired", &retired)
        .await
        .expect_error(409, "engine_end_of_service", None);
    let d = deploy("ok", &current).await.expect(201).id();
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);

    // The day 1.0.1 reaches its end of service, what runs on it is stopped with a savepoint.
    let eos = engine_version("1.0.1", "2026-10-01T00:00:00Z", false).eos;
    assert_eq!(
        domain::product_forms::stop_at_end_of_service(
            &app.state,
            eos - chrono::Duration::seconds(1)
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        domain::product_forms::stop_at_end_of_service(&app.state, eos)
            .await
            .unwrap(),
        1
    );
    let stopped = owner.get(&path).await.expect(200);
    assert_eq!(stopped.body["desired_state"], "SUSPENDED");
    // Once 1.0.1 is pulled (its schedule kept: milestones never move earlier), the
    // account's impact report lists the deployment with what to do and by when.
    let pulled_now = engine_version("1.0.1", "2026-10-01T00:00:00Z", true);
    domain::product_forms::set_engine_version(&app.state.db, &pulled_now)
        .await
        .unwrap();
    let impact = owner.get("/account/lifecycle-impact").await.expect(200);
    let item = impact
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["deployment_id"] == d.as_str())
        .cloned();
    assert!(item.is_some(), "{}", impact.body);
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    assert!(
        events.iter().any(|e| e["kind"] == "end_of_service"),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_schedule_reaches_the_owners_and_admins_of_affected_accounts_in_their_inbox() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    owner.project("p").await;
    let admin = app.member(&owner, "admin", None, false).await;
    let member = app.member(&owner, "member", None, false).await;
    let unaffected = app.account("NoProjects").await;
    let s = schedule(
        "2026-01-01T00:00:00Z",
        "2026-06-01T00:00:00Z",
        "2030-01-01T00:00:00Z",
        "2030-06-01T00:00:00Z",
        "2031-01-01T00:00:00Z",
    );
    domain::product_forms::set_schedule(&app.state.db, "fully_managed", &s)
        .await
        .unwrap();

    for reader in [&owner, &admin] {
        let inbox = reader.get("/notices").await.expect(200);
        assert_eq!(inbox.body["unread"], 1, "{}", inbox.body);
        let body = inbox.body["items"][0]["body"].as_str().unwrap();
        assert!(
            body.contains("2026-06-01") && body.contains("2031-01-01"),
            "{body}"
        );
    }
    assert_eq!(member.get("/notices").await.expect(200).body["unread"], 0);
    assert_eq!(
        unaffected.get("/notices").await.expect(200).body["unread"],
        0
    );

    let id = owner.get("/notices").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin
        .post(&format!("/notices/{id}/read"), json!({}))
        .await
        .expect_error(404, "not_found", None);
    owner
        .post(&format!("/notices/{id}/read"), json!({}))
        .await
        .expect(204);
    assert_eq!(owner.get("/notices").await.expect(200).body["unread"], 0);
    assert_eq!(
        admin.get("/notices").await.expect(200).body["unread"],
        1,
        "each person reads their own"
    );
}

#[tokio::test]
async fn only_platform_operators_set_lifecycles_and_their_changes_are_audited() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let operator = app.account("Platform").await;
    let email: (String,) = sqlx::query_as("select email from users where id = $1")
        .bind(&operator.user_id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    gateway::admin::grant_operator(&app.state.db, &email.0)
        .await
        .unwrap();
    // Announced now (Sluice's clock): EOM1 in 2030.
    let form = json!({ "eom1": "2030-01-01T00:00:00Z", "eom2": "2030-02-01T00:00:00Z",
                       "eofs": "2030-06-01T00:00:00Z", "eos": "2031-01-01T00:00:00Z" });
    owner
        .put("/platform/product-forms/fully_managed", form.clone())
        .await
        .expect_error(403, "forbidden", None);
    operator
        .put("/platform/product-forms/fully_managed", form.clone())
        .await
        .expect(204);
    let mut earlier = form.clone();
    earlier["eom1"] = json!("2029-12-01T00:00:00Z");
    operator
        .put("/platform/product-forms/fully_managed", earlier)
        .await
        .expect_error(422, "invalid_field", Some("eom1"));
    let audit = operator
        .list_all("/account/audit?action=set_product_form", 10)
        .await;
    assert_eq!(
        audit.len(),
        2,
        "success and failure both recorded: {audit:?}"
    );
    assert_eq!(
        audit.iter().filter(|e| e["outcome"] == "success").count(),
        1
    );
    // The refused attempt is on record too, in the account it came from.
    let denied = owner
        .list_all("/account/audit?action=set_product_form", 10)
        .await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["outcome"], "denied");

    let engine = json!({ "flink_version": "2.3.0", "ga": "2026-01-01T00:00:00Z",
                         "eogs": "2029-07-01T00:00:00Z", "eofs": "2029-10-01T00:00:00Z", "eos": "2030-01-01T00:00:00Z" });
    operator
        .put("/platform/engine-versions/1.0.1", engine.clone())
        .await
        .expect(204);
    operator
        .put("/platform/engine-versions/latest", engine)
        .await
        .expect_error(422, "invalid_field", Some("label"));
    let impact = operator
        .get("/platform/engine-versions/1.0.1/impact")
        .await
        .expect(200);
    assert_eq!(impact.body["deployments"].as_array().unwrap().len(), 0);
    owner
        .get("/platform/engine-versions/1.0.1/impact")
        .await
        .expect_error(403, "forbidden", None);

    // The product form's impact: every project of it across accounts, with the stage
    // now and the next milestone. (EOM1 since June 2026: a schedule recorded in January,
    // the clock's instant passed in as it was then.)
    let in_eom1 = schedule(
        "2026-01-01T00:00:00Z",
        "2026-06-01T00:00:00Z",
        "2030-01-01T00:00:00Z",
        "2030-06-01T00:00:00Z",
        "2031-01-01T00:00:00Z",
    );
    domain::product_forms::set_schedule(&app.state.db, "semi_managed", &in_eom1)
        .await
        .unwrap();
    let project = owner.project("on the form").await;
    sqlx::query("update projects set product_form = 'semi_managed' where id = $1")
        .bind(&project)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let impact = operator
        .get("/platform/product-forms/semi_managed/impact")
        .await
        .expect(200);
    assert_eq!(impact.body["stage"], "EOM1");
    assert_eq!(impact.body["next_milestone"], "EOM2");
    assert_eq!(impact.body["by"], "2031-01-01T00:00:00Z");
    let projects = impact.body["projects"].as_array().unwrap();
    assert!(
        projects
            .iter()
            .any(|p| p["project_id"] == project.as_str()
                && p["account_id"] == owner.account_id.as_str()),
        "{}",
        impact.body
    );
    operator
        .get("/platform/product-forms/legacy_exclusive/impact")
        .await
        .expect_error(404, "not_found", None);
    owner
        .get("/platform/product-forms/fully_managed/impact")
        .await
        .expect_error(403, "forbidden", None);
}
