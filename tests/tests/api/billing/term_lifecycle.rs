//! A subscription's term ends: reminders before it, automatic renewal from the balance,
//! expiry (no CU, starts refused, running deployments stopped with a savepoint, owners
//! and billing managers told) and release after the grace. The worker's passes are run
//! at chosen instants; a term already ended is written into the database.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use sluice_tests::{json, Client, TestApp};

const DAY: i64 = 86_400_000;

/// A server whose own subscription worker stays out of the way (its first pass would
/// come an hour after start): the tests run passes at the instants they choose.
async fn app() -> TestApp {
    TestApp::spawn_with(|c| c.subscriptions.interval_secs = 3600).await
}

async fn pass(app: &TestApp, at: DateTime<Utc>) -> workers::subscriptions::Done {
    workers::subscriptions::pass(&app.state, at).await.unwrap()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

/// Tops up `amount`, buys `cu` CU for a month, leaves `left` on the balance; returns
/// the project and its term end.
async fn subscribed(owner: &Client, cu: i64) -> (String, i64) {
    let project = owner.project("p").await;
    owner
        .post(
            "/account/balance/top-ups",
            json!({ "amount": format!("{}.00", 50 * cu) }),
        )
        .await
        .expect(201);
    owner
        .post(
            "/account/orders",
            json!({ "kind": "new_purchase", "project_id": project, "cu": cu, "months": 1 }),
        )
        .await
        .expect(201);
    let end = term_end(owner).await;
    (project, end)
}

async fn term_end(owner: &Client) -> i64 {
    let subscriptions = owner.get("/account/subscriptions").await.expect(200);
    DateTime::parse_from_rfc3339(subscriptions.body[0]["term_end"].as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

/// Moves the project's term end (as if time had passed since it was bought).
async fn set_term_end(app: &TestApp, project: &str, end: i64) {
    sqlx::query("update subscriptions set term_end = $1 where project_id = $2")
        .bind(end)
        .bind(project)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
}

async fn notices(client: &Client, kind: &str) -> Vec<Value> {
    let inbox = client.get("/notices").await.expect(200);
    inbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind)
        .cloned()
        .collect()
}

/// Emails waiting in the outbox for the account's notices of `kind`.
async fn emails(app: &TestApp, client: &Client, kind: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "select count(*) from outbox o join notices n on n.id = o.source_id
          where o.account_id = $1 and o.channel = 'email' and n.kind = $2",
    )
    .bind(&client.account_id)
    .bind(kind)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    n
}

/// A deployment of `cu` CU on a cluster nothing answers at, started (wanted running).
async fn started(owner: &Client, project: &str, name: &str, cluster: &str) -> String {
    let job = owner
        .saved_sql_job(
            project,
            &format!("j-{name}"),
            "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;",
        )
        .await;
    let d = owner.deployment(project, name, &job, cluster, 1).await;
    owner
        .post(
            &format!("/projects/{project}/deployments/{d}/start"),
            json!({}),
        )
        .await
        .expect(202);
    d
}

// One story: a term ends, then is renewed, so it reads top to bottom.
#[tokio::test]
async fn an_expired_term_holds_no_cu_stops_its_deployments_with_a_savepoint_and_refuses_starts_until_renewed(
) {
    let app = app().await;
    let owner = app.account("Acme").await;
    let (project, _) = subscribed(&owner, 2).await;
    let billing_manager = app.member(&owner, "billing_manager", None, false).await;
    let admin = app.member(&owner, "admin", None, false).await;
    let cluster = owner.unreachable_cluster("k").await;
    let running = started(&owner, &project, "one", &cluster).await;
    let job = owner
        .saved_sql_job(
            &project,
            "j-two",
            "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;",
        )
        .await;
    let other = owner.deployment(&project, "two", &job, &cluster, 1).await;

    // The term ended a minute ago and was not renewed.
    let now = Utc::now();
    let ended = now.timestamp_millis() - 60_000;
    set_term_end(&app, &project, ended).await;
    let refused = owner
        .post(
            &format!("/projects/{project}/deployments/{other}/start"),
            json!({}),
        )
        .await
        .expect_error(409, "subscription_expired", None);
    assert!(
        refused.message().contains("expired on") && refused.message().contains("renew"),
        "names the rule: {}",
        refused.message()
    );
    let cost = owner
        .post(
            &format!("/projects/{project}/deployments/cost-preview"),
            json!({ "parallelism": 1 }),
        )
        .await
        .expect(200);
    assert_eq!(cost.body["purchased_cu"], 0.0, "holds no CU: {}", cost.body);
    assert_eq!(cost.body["fits"], false);

    // The worker stops what runs with a savepoint and says why, and tells the owners
    // and billing managers once.
    let done = pass(&app, now).await;
    assert_eq!((done.stopped, done.expired), (1, 1), "{done:?}");
    let path = format!("/projects/{project}/deployments/{running}");
    let stopped = owner.get(&path).await.expect(200);
    assert_eq!(
        stopped.body["desired_state"], "SUSPENDED",
        "stopped with a savepoint, resumable"
    );
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    let why = events
        .iter()
        .find(|e| e["kind"] == "subscription_expired")
        .unwrap_or_else(|| panic!("told why: {events:?}"));
    assert!(
        why["message"].as_str().unwrap().contains("expired on"),
        "{why}"
    );
    assert_eq!(pass(&app, now).await, Default::default(), "once");
    assert_eq!(notices(&owner, "subscription_expired").await.len(), 1);
    assert_eq!(
        notices(&billing_manager, "subscription_expired")
            .await
            .len(),
        1
    );
    assert_eq!(notices(&admin, "subscription_expired").await.len(), 0);
    assert_eq!(emails(&app, &owner, "subscription_expired").await, 2);
    let told = &notices(&owner, "subscription_expired").await[0];
    assert!(
        told["body"].as_str().unwrap().contains("renew"),
        "how to renew: {told}"
    );

    // A renewal (from now: the term had ended) gives the CU back.
    owner
        .post("/account/balance/top-ups", json!({ "amount": "100.00" }))
        .await
        .expect(201);
    owner
        .post(
            "/account/orders",
            json!({ "kind": "renew", "project_id": project, "months": 1 }),
        )
        .await
        .expect(201);
    assert!(term_end(&owner).await > Utc::now().timestamp_millis());
    owner
        .post(
            &format!("/projects/{project}/deployments/{other}/start"),
            json!({}),
        )
        .await
        .expect(202);
    owner
        .post(
            &format!("/projects/{project}/deployments/{other}/stop"),
            json!({ "mode": "CANCEL" }),
        )
        .await
        .expect(202);
}

#[tokio::test]
async fn reminders_go_out_once_at_each_lead_before_the_end_and_again_for_a_renewed_end() {
    let app = app().await;
    let owner = app.account("Acme").await;
    let (project, end) = subscribed(&owner, 1).await;
    let billing_manager = app.member(&owner, "billing_manager", None, false).await;
    let before = |days: i64| at(end - days * DAY);
    assert_eq!(pass(&app, before(8)).await.reminded, 0, "no lead due yet");
    assert_eq!(pass(&app, before(7)).await.reminded, 1);
    assert_eq!(pass(&app, before(7)).await.reminded, 0, "once");
    assert_eq!(pass(&app, before(4)).await.reminded, 0);
    assert_eq!(pass(&app, before(3)).await.reminded, 1);
    // Down from then until half a day before the end: only the 1-day one goes.
    assert_eq!(pass(&app, at(end - DAY / 2)).await.reminded, 1);
    assert_eq!(pass(&app, at(end - DAY / 4)).await.reminded, 0);
    let sent = notices(&owner, "subscription_reminder").await;
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(
        sent.iter()
            .any(|n| n["body"].as_str().unwrap().starts_with("In 7 day(s)")),
        "{sent:?}"
    );
    assert_eq!(
        notices(&billing_manager, "subscription_reminder")
            .await
            .len(),
        3
    );
    assert_eq!(emails(&app, &owner, "subscription_reminder").await, 6);

    // A renewal moves the end: its leads are reminded again.
    owner
        .post("/account/balance/top-ups", json!({ "amount": "50.00" }))
        .await
        .expect(201);
    owner
        .post(
            "/account/orders",
            json!({ "kind": "renew", "project_id": project, "months": 1 }),
        )
        .await
        .expect(201);
    let renewed = term_end(&owner).await;
    assert!(renewed > end);
    assert_eq!(pass(&app, at(renewed - 7 * DAY)).await.reminded, 1);
    assert_eq!(notices(&owner, "subscription_reminder").await.len(), 4);
}

#[tokio::test]
async fn an_opted_in_subscription_renews_once_from_the_balance_keeping_its_anniversary_and_not_without_money(
) {
    let app = app().await;
    let owner = app.account("Acme").await;
    // 2 CU x 1 month x 50.00: the balance is empty after the purchase.
    let (project, end) = subscribed(&owner, 2).await;
    let billing_manager = app.member(&owner, "billing_manager", None, false).await;
    let admin = app.member(&owner, "admin", None, false).await;
    let auto = format!("/account/subscriptions/{project}/auto-renew");

    // Owners and billing managers set it; months are checked; off by default.
    assert_eq!(owner.get(&auto).await.expect(200).body["enabled"], false);
    admin
        .put(&auto, json!({ "enabled": true }))
        .await
        .expect_error(403, "forbidden", None);
    owner
        .put(&auto, json!({ "enabled": true, "months": 0 }))
        .await
        .expect_error(422, "invalid_field", Some("months"));
    owner
        .put(
            "/account/subscriptions/nope/auto-renew",
            json!({ "enabled": true }),
        )
        .await
        .expect_error(404, "not_found", Some("project_id"));
    let payg = owner.project("q").await;
    owner
        .put(
            &format!("/account/subscriptions/{payg}/auto-renew"),
            json!({ "enabled": true }),
        )
        .await
        .expect_error(409, "not_subscribed", None);
    let set = billing_manager
        .put(&auto, json!({ "enabled": true }))
        .await
        .expect(200);
    assert_eq!(set.body["enabled"], true);
    assert_eq!(set.body["months"], 1);
    // The subscriptions list says so.
    let listed = owner.get("/account/subscriptions").await.expect(200).body;
    let listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["project_id"] == project.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (
            listed["auto_renew"].clone(),
            listed["renewal_months"].clone()
        ),
        (json!(true), json!(1))
    );
    let audit = owner.list_all("/account/audit", 50).await;
    assert!(
        audit
            .iter()
            .any(|a| a.to_string().contains("set_auto_renew")),
        "audited: {audit:?}"
    );

    // What a manual renewal of a month would end at: the automatic one ends there too.
    let manual = owner
        .post(
            "/account/orders/preview",
            json!({ "kind": "renew", "project_id": project, "months": 1 }),
        )
        .await
        .expect(200);
    let renews_to = DateTime::parse_from_rfc3339(manual.body["term_end"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();

    let before = |days: i64| at(end - days * DAY);
    assert_eq!(
        pass(&app, before(10)).await,
        Default::default(),
        "not due yet"
    );
    // Nine days before: the balance is empty, nothing is renewed, the owners are told.
    let done = pass(&app, before(9)).await;
    assert_eq!((done.renewed, done.not_renewed), (0, 1), "{done:?}");
    assert_eq!(
        pass(&app, before(9) + Duration::hours(1)).await.not_renewed,
        0,
        "one attempt a day"
    );
    assert_eq!(term_end(&owner).await, end);
    let failed = notices(&owner, "subscription_renewal_failed").await;
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["body"].as_str().unwrap().contains("balance"),
        "{failed:?}"
    );
    assert_eq!(
        notices(&billing_manager, "subscription_renewal_failed")
            .await
            .len(),
        1
    );

    // Topped up: the next day's attempt renews, once, whichever replica runs it.
    owner
        .post("/account/balance/top-ups", json!({ "amount": "150.00" }))
        .await
        .expect(201);
    let replica = app.replica().await;
    let (a, b) = tokio::join!(
        workers::subscriptions::pass(&app.state, before(8)),
        workers::subscriptions::pass(&replica.state, before(8))
    );
    let renewed: usize = [a, b].into_iter().map(|d| d.unwrap().renewed).sum();
    assert_eq!(renewed, 1);
    assert_eq!(pass(&app, before(8)).await.renewed, 0);
    assert_eq!(pass(&app, before(7)).await.renewed, 0);
    assert_eq!(
        term_end(&owner).await,
        renews_to,
        "the manual renewal's end"
    );
    let balance = owner.get("/account/balance").await.expect(200);
    assert_eq!(balance.body["balance"], "50.00", "150.00 - 100.00, once");
    let orders = owner.list_all("/account/orders", 10).await;
    let renewals: Vec<_> = orders.iter().filter(|o| o["kind"] == "renew").collect();
    assert_eq!(renewals.len(), 1, "{orders:?}");
    assert_eq!(renewals[0]["amount"], "100.00");
    assert_eq!(renewals[0]["months"], 1);
    assert_eq!(
        notices(&owner, "subscription_renewed").await.len(),
        1,
        "told it renewed"
    );
    // Turned off, the renewed term is not renewed again.
    owner
        .put(&auto, json!({ "enabled": false }))
        .await
        .expect(200);
    assert_eq!(pass(&app, at(renews_to - 9 * DAY)).await.renewed, 0);
}

#[tokio::test]
async fn an_expired_subscription_is_released_after_its_grace_and_the_project_keeps_its_data_as_pay_as_you_go(
) {
    let app = TestApp::spawn_with(|c| {
        c.subscriptions.interval_secs = 3600;
        c.subscriptions.release_after_days = 15;
    })
    .await;
    let owner = app.account("Acme").await;
    let (project, _) = subscribed(&owner, 1).await;
    let cluster = owner.unreachable_cluster("k").await;
    let d = started(&owner, &project, "one", &cluster).await;
    let now = Utc::now();
    let ended = now.timestamp_millis() - 60_000;
    set_term_end(&app, &project, ended).await;
    assert_eq!(pass(&app, now).await.expired, 1);
    // Within the grace it can still be renewed; nothing is released.
    assert_eq!(pass(&app, at(ended + 15 * DAY - 1)).await.released, 0);
    assert_eq!(
        owner.get("/account/subscriptions").await.body[0]["project_id"],
        project.as_str()
    );
    let done = pass(&app, at(ended + 15 * DAY)).await;
    assert_eq!(done.released, 1, "{done:?}");
    assert_eq!(pass(&app, at(ended + 16 * DAY)).await.released, 0, "once");
    assert_eq!(notices(&owner, "subscription_released").await.len(), 1);

    // Released: no subscription, the project is pay-as-you-go; its deployment stays
    // stopped, its job, versions and deployment are kept.
    let subscriptions = owner.get("/account/subscriptions").await.expect(200);
    assert_eq!(subscriptions.body.as_array().unwrap().len(), 0);
    let (model,): (String,) = sqlx::query_as("select billing_model from projects where id = $1")
        .bind(&project)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(model, "payg");
    let path = format!("/projects/{project}/deployments/{d}");
    assert_eq!(
        owner.get(&path).await.expect(200).body["desired_state"],
        "SUSPENDED"
    );
    let jobs = owner
        .list_all(&format!("/projects/{project}/jobs"), 50)
        .await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    owner.get(&format!("{path}/savepoints")).await.expect(200);
    owner
        .post(
            "/account/orders",
            json!({ "kind": "renew", "project_id": project, "months": 1 }),
        )
        .await
        .expect_error(409, "not_subscribed", None);
    // Started again, it runs pay-as-you-go.
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "CANCEL" }))
        .await
        .expect(202);
}
