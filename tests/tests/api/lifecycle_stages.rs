//! What a product form's stage forbids, where it happens (items 7, 8 and 9): a new
//! project is a new purchase (refused from EOM1), a deployment that adds CU to a
//! pay-as-you-go project is a scale-out (refused from EOM2), creating or resizing a
//! deployment is a configuration change (refused from EOFS), and at EOS what runs is
//! stopped with a savepoint and the owners told.

use chrono::{DateTime, Utc};
use lifecycle::ProductSchedule;
use sluice_tests::{json, Client, TestApp};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A schedule recorded at `announced` (the clock's instant as it was then: each stage
/// is reached by a schedule published long enough ago).
fn schedule(announced: &str, eom1: &str, eom2: &str, eofs: &str, eos: &str) -> ProductSchedule {
    ProductSchedule {
        announced_at: utc(announced),
        eom1: utc(eom1),
        eom2: utc(eom2),
        eofs: utc(eofs),
        eos: utc(eos),
    }
}

/// Publishes `s` for product form `form` and moves `projects` onto it (a published
/// schedule never moves earlier, so each stage is its own form).
async fn on_form(app: &TestApp, form: &str, s: &ProductSchedule, projects: &[&str]) {
    domain::product_forms::set_schedule(&app.state.db, form, s)
        .await
        .unwrap();
    for project in projects {
        sqlx::query("update projects set product_form = $1 where id = $2")
            .bind(form)
            .bind(project)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
    }
}

const SQL: &str =
    "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;";

async fn subscribed(owner: &Client, name: &str) -> String {
    let project = owner.project(name).await;
    owner
        .post(
            "/account/orders",
            json!({ "kind": "new_purchase", "project_id": project, "cu": 4, "months": 1 }),
        )
        .await
        .expect(201);
    project
}

#[tokio::test]
async fn a_form_past_eom1_takes_no_new_project_and_past_eom2_no_deployment_adding_pay_as_you_go_cu()
{
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    owner
        .post("/account/balance/top-ups", json!({ "amount": "1000.00" }))
        .await
        .expect(201);
    let payg = owner.project("payg").await;
    let prepaid = subscribed(&owner, "prepaid").await;
    let cluster = owner.unreachable_cluster("k").await;
    let payg_job = owner.saved_sql_job(&payg, "j", SQL).await;
    let prepaid_job = owner.saved_sql_job(&prepaid, "j", SQL).await;

    // fully_managed (every new project's form) in EOM1 since 2026-06-01.
    let eom1 = schedule(
        "2026-01-01T00:00:00Z",
        "2026-06-01T00:00:00Z",
        "2030-01-01T00:00:00Z",
        "2030-06-01T00:00:00Z",
        "2031-01-01T00:00:00Z",
    );
    on_form(&app, "fully_managed", &eom1, &[]).await;
    // A new project is a new pay-as-you-go purchase: refused, with the stage, since
    // when and what to do instead.
    let refused = owner
        .post("/projects", json!({ "name": "another" }))
        .await
        .expect_error(409, "lifecycle_restricted", None);
    let said = refused.message();
    assert!(
        said.contains("EOM1")
            && said.contains("2026-06-01")
            && said.contains("new_purchase")
            && said.contains("successor"),
        "{said}"
    );
    // EOM1 still allows scaling out: a new deployment of a pay-as-you-go project.
    let deployments = |project: &str| format!("/projects/{project}/deployments");
    owner
        .post(
            &deployments(&payg),
            json!({ "name": "in-eom1", "job_id": payg_job, "cluster_id": cluster }),
        )
        .await
        .expect(201);

    // EOM2 since 2026-06-01: a deployment adding CU to a pay-as-you-go project is a
    // scale-out, refused; a subscription's deployments run within CU already bought.
    let eom2 = schedule(
        "2025-06-01T00:00:00Z",
        "2025-10-01T00:00:00Z",
        "2026-06-01T00:00:00Z",
        "2030-01-01T00:00:00Z",
        "2031-01-01T00:00:00Z",
    );
    on_form(&app, "semi_managed", &eom2, &[&payg, &prepaid]).await;
    let refused = owner
        .post(
            &deployments(&payg),
            json!({ "name": "in-eom2", "job_id": payg_job, "cluster_id": cluster, "parallelism": 2 }),
        )
        .await
        .expect_error(409, "lifecycle_restricted", None);
    let said = refused.message();
    assert!(
        said.contains("EOM2") && said.contains("2026-06-01") && said.contains("scale_out"),
        "{said}"
    );
    owner
        .post(
            &deployments(&prepaid),
            json!({ "name": "in-eom2", "job_id": prepaid_job, "cluster_id": cluster }),
        )
        .await
        .expect(201);
}

#[tokio::test]
async fn no_deployment_is_created_on_a_form_past_eofs() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    owner
        .post("/account/balance/top-ups", json!({ "amount": "1000.00" }))
        .await
        .expect(201);
    let prepaid = subscribed(&owner, "prepaid").await;
    let payg = owner.project("payg").await;
    let cluster = owner.unreachable_cluster("k").await;
    let prepaid_job = owner.saved_sql_job(&prepaid, "j", SQL).await;
    let payg_job = owner.saved_sql_job(&payg, "j", SQL).await;
    let eofs = schedule(
        "2025-01-01T00:00:00Z",
        "2025-05-01T00:00:00Z",
        "2025-07-01T00:00:00Z",
        "2026-06-01T00:00:00Z",
        "2031-01-01T00:00:00Z",
    );
    on_form(&app, "legacy_exclusive", &eofs, &[&prepaid, &payg]).await;
    // Creating a deployment sets its size, cluster and engine version: a configuration
    // change, refused from EOFS on, whatever the billing model.
    for (project, job) in [(&prepaid, &prepaid_job), (&payg, &payg_job)] {
        let refused = owner
            .post(
                &format!("/projects/{project}/deployments"),
                json!({ "name": "d", "job_id": job, "cluster_id": cluster }),
            )
            .await
            .expect_error(409, "lifecycle_restricted", None);
        let said = refused.message();
        assert!(
            said.contains("EOFS")
                && said.contains("2026-06-01")
                && said.contains("configuration_change"),
            "{said}"
        );
    }
}

#[tokio::test]
async fn at_a_forms_end_of_service_what_runs_on_it_stops_with_a_savepoint_and_the_owners_are_told()
{
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let admin = app.member(&owner, "admin", None, false).await;
    let member = app.member(&owner, "member", None, false).await;
    let retiring = owner.project("retiring").await;
    let other = app.account("Elsewhere").await;
    let staying = other.project("staying").await;

    let start = |client: &Client, project: &str| {
        let (client, project) = (client.clone(), project.to_owned());
        async move {
            let cluster = client.unreachable_cluster("k").await;
            let job = client.saved_sql_job(&project, "j", SQL).await;
            let path = format!("/projects/{project}/deployments");
            let d = client
                .post(
                    &path,
                    json!({ "name": "d", "job_id": job, "cluster_id": cluster }),
                )
                .await
                .expect(201)
                .id();
            client
                .post(&format!("{path}/{d}/start"), json!({}))
                .await
                .expect(202);
            format!("{path}/{d}")
        }
    };
    let running = start(&owner, &retiring).await;
    let elsewhere = start(&other, &staying).await;

    // `legacy_shared` is published now with its EOS 16 months ahead; the retiring
    // project is on it, the other account's on a form with no schedule.
    let now = Utc::now();
    let s = ProductSchedule {
        announced_at: now,
        eom1: lifecycle::add_months(now, 4),
        eom2: lifecycle::add_months(now, 6),
        eofs: lifecycle::add_months(now, 8),
        eos: lifecycle::add_months(now, 16),
    };
    on_form(&app, "legacy_shared", &s, &[&retiring]).await;
    let unread = |client: &Client| {
        let client = client.clone();
        async move {
            client.get("/notices").await.expect(200).body["unread"]
                .as_i64()
                .unwrap()
        }
    };
    let (owner_before, admin_before, member_before) = (
        unread(&owner).await,
        unread(&admin).await,
        unread(&member).await,
    );

    // A second before EOS nothing stops; at EOS (the clock passed in moved there) the
    // form's running deployment is stopped with a savepoint, and only that one.
    let one_second = chrono::Duration::seconds(1);
    assert_eq!(
        domain::product_forms::stop_retired_forms(&app.state, s.eos - one_second)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        domain::product_forms::stop_retired_forms(&app.state, s.eos)
            .await
            .unwrap(),
        1
    );
    let stopped = owner.get(&running).await.expect(200);
    assert_eq!(
        stopped.body["desired_state"], "SUSPENDED",
        "{}",
        stopped.body
    );
    assert_eq!(
        other.get(&elsewhere).await.expect(200).body["desired_state"],
        "RUNNING"
    );
    // The deployment's events say why.
    let events = owner.list_all(&format!("{running}/events"), 50).await;
    let why = events
        .iter()
        .find(|e| e["kind"] == "end_of_service")
        .unwrap_or_else(|| panic!("no end_of_service event: {events:?}"));
    let message = why["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("legacy_shared") && message.contains("savepoint"),
        "{why}"
    );
    // Owners and admins are told in their inbox; members are not.
    assert_eq!(unread(&owner).await, owner_before + 1);
    assert_eq!(unread(&admin).await, admin_before + 1);
    assert_eq!(unread(&member).await, member_before);
    let inbox = owner.get("/notices").await.expect(200);
    let notice = &inbox.body["items"][0];
    assert_eq!(
        notice["kind"], "product_form_end_of_service",
        "{}",
        inbox.body
    );
    assert!(notice["body"].as_str().unwrap().contains("legacy_shared"));

    // Another pass finds nothing left to stop, and tells nobody again; nothing on the
    // form starts any more.
    assert_eq!(
        domain::product_forms::stop_retired_forms(&app.state, s.eos)
            .await
            .unwrap(),
        0
    );
    assert_eq!(unread(&owner).await, owner_before + 1);
}
