//! Pay-as-you-go billing from recorded run intervals: the product's worked example,
//! exactly-once hours, tenant-scoped de-duplication, and who may see bills.

use chrono::{DateTime, Duration, DurationRound, Utc};
use sluice_tests::{json, Client, TestApp};

/// A project of `client` created `hours_ago` hours ago, with one deployment row to hang
/// run intervals on (billing reads intervals; how they were recorded is the engine's part).
async fn project_with_history(app: &TestApp, client: &Client, hours_ago: i64) -> String {
    let project = client.project("p").await;
    let created = (Utc::now() - Duration::hours(hours_ago)).timestamp_millis();
    sqlx::query("update projects set created_at = $1 where id = $2")
        .bind(created)
        .bind(&project)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    project
}

async fn ran(
    app: &TestApp,
    client: &Client,
    project: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    cu_milli: i64,
) {
    sqlx::query(
        "insert into run_intervals (id, deployment_id, project_id, account_id, cu_milli, started_at, ended_at)
         values ($1, 'd', $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(project)
    .bind(&client.account_id)
    .bind(cu_milli)
    .bind(start.timestamp_millis())
    .bind(end.timestamp_millis())
    .execute(&app.state.db.pool)
    .await
    .unwrap();
}

fn range(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "from={}&to={}",
        from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

#[tokio::test]
async fn three_cu_for_an_hour_at_nine_fen_bills_forty_five_fen_once() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = project_with_history(&app, &owner, 5).await;
    // Asia/Shanghai (the default billing zone) is UTC+8: its hours are UTC hours.
    let hour = Utc::now().duration_trunc(Duration::hours(1)).unwrap() - Duration::hours(3);
    ran(
        &app,
        &owner,
        &project,
        hour,
        hour + Duration::hours(1),
        3_000,
    )
    .await;

    let now = Utc::now();
    let written = gateway::billing::bill_due_hours(&app.state, now)
        .await
        .unwrap();
    assert!(
        written >= 4,
        "the hours since creation are billed: {written}"
    );
    assert_eq!(
        gateway::billing::bill_due_hours(&app.state, now)
            .await
            .unwrap(),
        0,
        "a rerun bills nothing twice"
    );

    let hours = owner
        .get(&format!(
            "/account/billing/hours?{}",
            range(hour - Duration::hours(6), hour + Duration::hours(6))
        ))
        .await
        .expect(200);
    let items = hours.body["items"].as_array().unwrap();
    let billed: Vec<_> = items.iter().filter(|h| h["total"] != "0.00").collect();
    assert_eq!(billed.len(), 1, "{}", hours.body);
    let line = billed[0];
    let start: DateTime<Utc> = line["window_start"].as_str().unwrap().parse().unwrap();
    assert_eq!(start, hour);
    assert_eq!(line["cu_hours"], "3");
    assert_eq!(line["compute"], "0.27");
    assert_eq!(line["management"], "0.18");
    assert_eq!(line["total"], "0.45");
    assert_eq!(hours.body["total"], "0.45");
    assert_eq!(hours.body["currency"], "CNY");

    // The same stretch as chart data: exact CU-hours per deployment, by hour and by day.
    let usage = owner
        .get(&format!(
            "/account/billing/usage?bucket=hour&{}",
            range(hour - Duration::hours(2), hour + Duration::hours(2))
        ))
        .await
        .expect(200);
    let points = usage.body.as_array().unwrap();
    assert_eq!(points.len(), 1, "{}", usage.body);
    assert_eq!(points[0]["cu_hours"], "3");
    assert_eq!(points[0]["deployment_id"], "d");
    // Named for the chart; a deployment that no longer exists keeps its usage, unnamed.
    assert_eq!(points[0]["project_name"], "p");
    assert_eq!(points[0]["deployment_name"], serde_json::Value::Null);
    owner
        .get(&format!(
            "/account/billing/usage?bucket=week&{}",
            range(hour, hour + Duration::hours(1))
        ))
        .await
        .expect_error(422, "invalid_field", Some("bucket"));
}

#[tokio::test]
async fn the_same_hour_of_two_tenants_is_billed_for_each() {
    let app = TestApp::spawn().await;
    let hour = Utc::now().duration_trunc(Duration::hours(1)).unwrap() - Duration::hours(2);
    let mut accounts = Vec::new();
    for name in ["A", "B"] {
        let owner = app.account(name).await;
        let project = project_with_history(&app, &owner, 4).await;
        ran(
            &app,
            &owner,
            &project,
            hour + Duration::minutes(30),
            hour + Duration::hours(1),
            2_000,
        )
        .await;
        accounts.push(owner);
    }
    gateway::billing::bill_due_hours(&app.state, Utc::now())
        .await
        .unwrap();
    for owner in &accounts {
        let hours = owner
            .get(&format!(
                "/account/billing/hours?{}",
                range(hour, hour + Duration::hours(1))
            ))
            .await
            .expect(200);
        // Half an hour of 2 CU: 1 CU-hour, 0.09 compute + 0.18 management.
        assert_eq!(hours.body["total"], "0.27", "{}", hours.body);
        assert_eq!(hours.body["items"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn only_owners_and_billing_managers_see_bills() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let billing = app.member(&owner, "billing_manager", None, false).await;
    let admin = app.member(&owner, "admin", None, false).await;
    let member = app.member(&owner, "member", None, false).await;
    let settings = billing.get("/account/billing").await.expect(200);
    assert_eq!(settings.body["billing_time_zone"], "Asia/Shanghai");
    assert_eq!(settings.body["cu_hour_price"], "0.09");
    admin
        .get("/account/billing")
        .await
        .expect_error(403, "forbidden", None);
    member
        .get("/account/billing")
        .await
        .expect_error(403, "forbidden", None);
    let now = Utc::now();
    admin
        .get(&format!(
            "/account/billing/hours?{}",
            range(now - Duration::hours(1), now)
        ))
        .await
        .expect_error(403, "forbidden", None);
    billing
        .patch(
            "/account/billing",
            json!({ "billing_time_zone": "Mars/Olympus" }),
        )
        .await
        .expect_error(422, "invalid_field", Some("billing_time_zone"));
    let changed = billing
        .patch(
            "/account/billing",
            json!({ "billing_time_zone": "America/New_York" }),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["billing_time_zone"], "America/New_York");
    owner
        .get(&format!(
            "/account/billing/hours?{}",
            range(now, now - Duration::hours(1))
        ))
        .await
        .expect_error(422, "invalid_field", Some("to"));
}

#[tokio::test]
async fn a_month_is_billed_once_with_lines_that_add_up_and_a_csv() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    // The account and project exist since October 1st, 00:00 in Shanghai.
    let october = DateTime::parse_from_rfc3339("2026-09-30T16:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    for table in ["accounts", "projects"] {
        let id_column = if table == "accounts" {
            "id"
        } else {
            "account_id"
        };
        sqlx::query(&format!(
            "update {table} set created_at = $1 where {id_column} = $2"
        ))
        .bind(october.timestamp_millis())
        .bind(&owner.account_id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    }
    let project = owner.project("p").await;
    sqlx::query("update projects set created_at = $1 where id = $2")
        .bind(october.timestamp_millis())
        .bind(&project)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    // A second project bought as a subscription on October 6th: its order is on the bill.
    let bought = owner.project("bought").await;
    owner
        .post("/account/balance/top-ups", json!({ "amount": "300.00" }))
        .await
        .expect(201);
    let order = owner
        .post(
            "/account/orders",
            json!({ "kind": "new_purchase", "project_id": bought, "cu": 2, "months": 1 }),
        )
        .await
        .expect(201)
        .id();
    sqlx::query("update orders set created_at = $1 where id = $2")
        .bind((october + Duration::days(5)).timestamp_millis())
        .bind(&order)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    // 3 CU for two hours on October 10th, and half an hour of 1 CU on the 31st across midnight
    // UTC (still October in Shanghai until 16:00 UTC).
    let day10 = october + Duration::days(9) + Duration::hours(2);
    ran(
        &app,
        &owner,
        &project,
        day10,
        day10 + Duration::hours(2),
        3_000,
    )
    .await;
    let last = DateTime::parse_from_rfc3339("2026-10-31T15:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    ran(
        &app,
        &owner,
        &project,
        last,
        last + Duration::hours(1),
        1_000,
    )
    .await;

    // Billing catches up on October in passes, as after an outage.
    let now = DateTime::parse_from_rfc3339("2026-11-03T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    while gateway::billing::bill_due_hours(&app.state, now)
        .await
        .unwrap()
        > 0
    {}
    assert_eq!(
        gateway::billing::issue_due_bills(&app.state, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        gateway::billing::issue_due_bills(&app.state, now)
            .await
            .unwrap(),
        0,
        "issued once"
    );

    let bills = owner.get("/account/bills").await.expect(200);
    let bill = &bills.body[0];
    let start: DateTime<Utc> = bill["period_start"].as_str().unwrap().parse().unwrap();
    assert_eq!(start, october);
    // October: 6 CU-h on the 10th plus the 15:30-16:00 UTC half hour of the 31st (what
    // follows is November in Shanghai): 6.5 CU-h. Lines are sums of rounded hours:
    // 0.27 + 0.27 + 0.045, the last rounded half to even to 0.04, so 0.58, not 0.585 -> 0.59.
    let lines = bill["lines"].as_array().unwrap();
    let compute = lines.iter().find(|l| l["kind"] == "payg_compute").unwrap();
    assert_eq!(compute["quantity"], "6.5");
    assert_eq!(compute["amount"], "0.58", "{bill}");
    let management = lines
        .iter()
        .find(|l| l["kind"] == "payg_management")
        .unwrap();
    assert_eq!(
        management["amount"], "0.54",
        "3 hours with usage x 0.18: {bill}"
    );
    // The order is a line of its own, prepaid: the balance pays only the rest.
    let ordered = lines.iter().find(|l| l["kind"] == "order").unwrap();
    assert_eq!(ordered["order_id"], order.as_str());
    assert_eq!(ordered["amount"], "100.00");
    assert_eq!(ordered["project_id"], bought.as_str());
    assert_eq!(bill["total"], "101.12", "the sum of the lines");
    assert_eq!(bill["prepaid"], "100.00");
    assert_eq!(bill["due"], "1.12");
    let balance = owner.get("/account/balance").await.expect(200);
    assert_eq!(balance.body["balance"], "198.88", "300.00 - 100.00 - 1.12");

    let id = bill["id"].as_str().unwrap();
    let csv = owner
        .get(&format!("/account/bills/{id}/csv"))
        .await
        .expect(200);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let text = csv.body.as_str().unwrap();
    assert!(text.starts_with("bill_id,period_start"), "{text}");
    assert!(
        text.lines().any(|l| l.ends_with("total,,,101.12,CNY,")),
        "{text}"
    );
    assert!(
        text.lines().last().unwrap().ends_with("due,,,1.12,CNY,"),
        "{text}"
    );
    assert!(text.contains(&format!(",100.00,CNY,{order}")), "{text}");
    // A correction is a credit note; the bill stays as issued.
    gateway::balance::credit_note(
        &app.state,
        id,
        12,
        "a late observation overcounted",
        "operator",
    )
    .await
    .unwrap();
    let err = gateway::balance::credit_note(&app.state, id, 101, "too much", "operator")
        .await
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("amount"));
    let corrected = owner.get(&format!("/account/bills/{id}")).await.expect(200);
    assert_eq!(corrected.body["total"], "101.12");
    assert_eq!(corrected.body["credit_notes"][0]["amount"], "0.12");
    let other = app.account("Other").await;
    other
        .get(&format!("/account/bills/{id}"))
        .await
        .expect_error(404, "not_found", None);
}

#[tokio::test]
async fn a_subscription_is_ordered_at_its_exact_price_and_caps_running_cu_under_racing_starts() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let order = json!({ "kind": "new_purchase", "project_id": project, "cu": 3, "months": 2 });
    let quote = owner
        .post("/account/orders/preview", order.clone())
        .await
        .expect(200);
    // 3 CU x 2 months x 50.00 per CU-month.
    assert_eq!(quote.body["amount"], "300.00");
    for (bad, field) in [
        (
            json!({ "kind": "new_purchase", "project_id": project, "cu": 0, "months": 1 }),
            "cu",
        ),
        (
            json!({ "kind": "new_purchase", "project_id": project, "cu": 1, "months": 37 }),
            "months",
        ),
        (
            json!({ "kind": "new_purchase", "project_id": "nope", "cu": 1, "months": 1 }),
            "project_id",
        ),
    ] {
        let res = owner.post("/account/orders", bad).await;
        assert_eq!(res.field(), field, "{}", res.body);
    }
    owner
        .post("/account/orders", order.clone())
        .await
        .expect_error(409, "insufficient_balance", None);
    owner
        .post("/account/balance/top-ups", json!({ "amount": "1.005" }))
        .await
        .expect_error(422, "invalid_field", Some("amount"));
    owner
        .post("/account/balance/top-ups", json!({ "amount": "500.00" }))
        .await
        .expect(201);
    let placed = owner
        .post("/account/orders", order.clone())
        .await
        .expect(201);
    assert_eq!(placed.body["amount"], "300.00");
    let balance = owner.get("/account/balance").await.expect(200);
    assert_eq!(balance.body["balance"], "200.00", "500.00 - 300.00");
    owner
        .post("/account/orders", order)
        .await
        .expect_error(409, "already_subscribed", None);
    let subscriptions = owner.get("/account/subscriptions").await.expect(200);
    assert_eq!(subscriptions.body[0]["cu"], 3.0);
    // The refused orders left nothing behind; the placed one is listed as recorded.
    let orders = owner.list_all("/account/orders", 10).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["id"], placed.body["id"]);
    assert_eq!(orders[0]["kind"], "new_purchase");
    assert_eq!(orders[0]["cu"], 3.0);
    assert_eq!(orders[0]["amount"], "300.00");
    assert_eq!(orders[0]["project_id"], project.as_str());

    // Two deployments of 2 CU each against 3 purchased CU, started at once.
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner.saved_sql_job(&project, "j", "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;").await;
    let mut paths = Vec::new();
    for name in ["one", "two"] {
        let d = owner.deployment(&project, name, &job, &cluster, 2).await;
        paths.push(format!("/projects/{project}/deployments/{d}/start"));
    }
    let (a, b) = tokio::join!(
        owner.post(&paths[0], json!({})),
        owner.post(&paths[1], json!({}))
    );
    let mut outcomes = [a.status.as_u16(), b.status.as_u16()];
    outcomes.sort();
    assert_eq!(outcomes, [202, 409], "{} / {}", a.body, b.body);
    let refused = if a.status.as_u16() == 409 { a } else { b };
    assert_eq!(refused.code(), "capacity_exceeded");
    assert!(
        refused.message().contains("needs 2 CU") && refused.message().contains("1 free"),
        "{}",
        refused.message()
    );
    let in_use = owner.get("/account/subscriptions").await.expect(200);
    assert_eq!(in_use.body[0]["cu_in_use"], 2.0);
    let preview = owner
        .post(
            &format!("/projects/{project}/deployments/cost-preview"),
            json!({ "parallelism": 2 }),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            preview.body["billing_model"].as_str(),
            preview.body["fits"].as_bool()
        ),
        (Some("subscription"), Some(false))
    );
}

#[tokio::test]
async fn an_unpaid_bill_past_its_grace_stops_payg_deployments_and_paying_unblocks_starts_only() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = project_with_history(&app, &owner, 3).await;
    let hour = Utc::now().duration_trunc(Duration::hours(1)).unwrap() - Duration::hours(2);
    ran(
        &app,
        &owner,
        &project,
        hour,
        hour + Duration::hours(1),
        3_000,
    )
    .await;
    gateway::billing::bill_due_hours(&app.state, Utc::now())
        .await
        .unwrap();
    // A bill for what ran, issued now with nothing to pay it from.
    let bill = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "insert into bills (id, account_id, period_start, period_end, billing_time_zone, currency, total_minor, issued_at)
         values ($1, $2, 1, 2, 'Asia/Shanghai', 'CNY', 45, $3)",
    )
    .bind(&bill)
    .bind(&owner.account_id)
    .bind(Utc::now().timestamp_millis())
    .execute(&app.state.db.pool)
    .await
    .unwrap();

    // A running (wanted) pay-as-you-go deployment.
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner.saved_sql_job(&project, "j", "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;").await;
    let d = owner.deployment(&project, "d", &job, &cluster, 1).await;
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);

    let billing_manager = app.member(&owner, "billing_manager", None, false).await;
    let admin = app.member(&owner, "admin", None, false).await;

    // Within the grace period nothing happens; past it, the account is in arrears.
    assert_eq!(
        gateway::balance::enforce_arrears(&app.state, Utc::now())
            .await
            .unwrap(),
        0
    );
    let later = Utc::now() + Duration::days(8);
    assert_eq!(
        gateway::balance::enforce_arrears(&app.state, later)
            .await
            .unwrap(),
        1
    );
    let stopped = owner.get(&path).await.expect(200);
    assert_eq!(
        stopped.body["desired_state"], "SUSPENDED",
        "stopped with a savepoint, resumable"
    );
    let events = owner.list_all(&format!("{path}/events"), 50).await;
    assert!(
        events.iter().any(|e| e["kind"] == "arrears"),
        "told why: {events:?}"
    );
    // The owner and billing managers are told, once, in the inbox (and by email);
    // account admins, who do not pay bills, are not.
    let arrears_notices = |inbox: sluice_tests::Res| {
        inbox.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "arrears")
            .count()
    };
    assert_eq!(
        gateway::balance::enforce_arrears(&app.state, later)
            .await
            .unwrap(),
        0,
        "an account already in arrears does not enter it again"
    );
    assert_eq!(arrears_notices(owner.get("/notices").await.expect(200)), 1);
    assert_eq!(
        arrears_notices(billing_manager.get("/notices").await.expect(200)),
        1
    );
    assert_eq!(arrears_notices(admin.get("/notices").await.expect(200)), 0);
    let balance = owner.get("/account/balance").await.expect(200);
    assert!(balance.body["arrears_since"].is_string());
    assert_eq!(balance.body["unpaid_total"], "0.45");

    // Wait for the stop to settle (the cluster is unreachable: it becomes SUSPENDED).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while owner.get(&path).await.body["engine_job_id"].is_string()
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect_error(409, "account_in_arrears", None);

    // Paying clears arrears and allows starts, but starts nothing by itself.
    let paid = owner
        .post("/account/balance/top-ups", json!({ "amount": "1.00" }))
        .await
        .expect(201);
    assert!(paid.body["arrears_since"].is_null(), "{}", paid.body);
    assert_eq!(paid.body["balance"], "0.55");
    assert_eq!(paid.body["unpaid_bills"], 0);
    assert_eq!(owner.get(&path).await.body["desired_state"], "SUSPENDED");
    owner
        .post(&format!("{path}/start"), json!({}))
        .await
        .expect(202);
    let transactions = owner.get("/account/balance/transactions").await.expect(200);
    let kinds: Vec<&str> = transactions
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["bill", "top_up"]);
}

#[tokio::test]
async fn a_subscription_is_renewed_upgraded_and_downgraded_at_prorated_prices() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    owner
        .post("/account/balance/top-ups", json!({ "amount": "2000.00" }))
        .await
        .expect(201);
    let order = |kind: &str, cu: Option<i64>, months: Option<i64>| json!({ "kind": kind, "project_id": project, "cu": cu, "months": months });
    owner
        .post("/account/orders", order("renew", None, Some(1)))
        .await
        .expect_error(409, "not_subscribed", None);
    owner
        .post("/account/orders", order("new_purchase", Some(3), Some(2)))
        .await
        .expect(201);
    let before = owner.get("/account/subscriptions").await.expect(200).body[0].clone();

    // Renewing adds a month at the current CU: 3 x 50.00, and extends the term.
    let renewed = owner
        .post("/account/orders", order("renew", None, Some(1)))
        .await
        .expect(201);
    assert_eq!(renewed.body["amount"], "150.00");
    let after = owner.get("/account/subscriptions").await.expect(200).body[0].clone();
    let (end_before, end_after): (DateTime<Utc>, DateTime<Utc>) = (
        before["term_end"].as_str().unwrap().parse().unwrap(),
        after["term_end"].as_str().unwrap().parse().unwrap(),
    );
    assert!(
        end_after > end_before + Duration::days(27),
        "{end_before} -> {end_after}"
    );

    // Upgrading by 2 CU for the rest of a 3-month term just begun: almost all of 2 x 3 x 50.00.
    let up = owner
        .post("/account/orders", order("upgrade", Some(5), None))
        .await
        .expect(201);
    let up_minor =
        (up.body["amount"].as_str().unwrap().parse::<f64>().unwrap() * 100.0).round() as i64;
    assert!((29_990..=30_000).contains(&up_minor), "{}", up.body);
    owner
        .post("/account/orders", order("upgrade", Some(5), None))
        .await
        .expect_error(422, "invalid_field", Some("cu"));

    // Downgrading the same 2 CU moments later credits what is left: the two net to the
    // few minor units of the moments between, never more.
    let down = owner
        .post("/account/orders", order("downgrade", Some(3), None))
        .await
        .expect(201);
    let down_minor = (down.body["amount"]
        .as_str()
        .unwrap()
        .parse::<f64>()
        .unwrap()
        * 100.0)
        .round() as i64;
    assert!(
        down_minor < 0 && up_minor + down_minor >= 0 && up_minor + down_minor <= 10,
        "{} / {}",
        up.body,
        down.body
    );
    let balance = owner.get("/account/balance").await.expect(200);
    let expected = 200_000 - 30_000 - 15_000 - up_minor - down_minor;
    assert_eq!(
        balance.body["balance"].as_str().unwrap(),
        format!("{}.{:02}", expected / 100, expected % 100)
    );
    assert_eq!(
        owner.get("/account/subscriptions").await.expect(200).body[0]["cu"],
        3.0
    );

    // Unsubscribing refunds the unused part (all of it, by default) and returns the project
    // to pay-as-you-go; the project holds 3 CU for a 3-month term that just began.
    let out = owner
        .post("/account/orders", order("unsubscribe", None, None))
        .await
        .expect(201);
    let refund_minor =
        (out.body["amount"].as_str().unwrap().parse::<f64>().unwrap() * 100.0).round() as i64;
    assert!((-45_000..=-44_990).contains(&refund_minor), "{}", out.body);
    assert!(owner
        .get("/account/subscriptions")
        .await
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .is_empty());
    owner
        .post("/account/orders", order("unsubscribe", None, None))
        .await
        .expect_error(409, "not_subscribed", None);
}

#[tokio::test]
async fn production_servers_take_top_ups_from_operators_only() {
    let app = TestApp::spawn_with(|c| c.billing.allow_api_top_ups = false).await;
    let owner = app.account("Acme").await;
    let refused = owner
        .post("/account/balance/top-ups", json!({ "amount": "10.00" }))
        .await
        .expect_error(403, "forbidden", None);
    assert!(
        refused.message().contains("sluice admin top-up"),
        "{}",
        refused.message()
    );
    gateway::balance::top_up(&app.state, &owner.account_id, 1_000, "operator")
        .await
        .unwrap();
    assert_eq!(
        owner.get("/account/balance").await.expect(200).body["balance"],
        "10.00"
    );
}

/// Half-even rounding of `num / den` (both positive), as the billing domain rounds.
fn half_even(num: i128, den: i128) -> i128 {
    let (q, r) = (num / den, num % den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q % 2),
    }
}

#[tokio::test]
async fn a_temporary_upgrade_adds_cu_for_its_window_at_its_share_of_the_term_price() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    owner
        .post("/account/balance/top-ups", json!({ "amount": "1000.00" }))
        .await
        .expect(201);
    let temporary = |cu: i64, starts: Option<DateTime<Utc>>, ends: Option<DateTime<Utc>>| json!({ "kind": "temporary_upgrade", "project_id": project, "cu": cu, "starts_at": starts, "ends_at": ends });
    let in_two_hours = Utc::now() + Duration::hours(2);
    owner
        .post("/account/orders", temporary(1, None, Some(in_two_hours)))
        .await
        .expect_error(409, "not_subscribed", None);
    owner
        .post(
            "/account/orders",
            json!({ "kind": "new_purchase", "project_id": project, "cu": 2, "months": 1 }),
        )
        .await
        .expect(201);
    let term = owner.get("/account/subscriptions").await.expect(200).body[0].clone();
    let term_end: DateTime<Utc> = term["term_end"].as_str().unwrap().parse().unwrap();
    let term_start: DateTime<Utc> = term["term_start"].as_str().unwrap().parse().unwrap();

    for (body, field) in [
        (temporary(1, None, None), "ends_at"),
        (
            temporary(1, None, Some(Utc::now() + Duration::minutes(30))),
            "ends_at",
        ),
        (
            temporary(1, None, Some(term_end + Duration::hours(1))),
            "ends_at",
        ),
        (
            temporary(1, Some(Utc::now() - Duration::hours(1)), Some(in_two_hours)),
            "starts_at",
        ),
        (temporary(0, None, Some(in_two_hours)), "cu"),
    ] {
        owner
            .post("/account/orders/preview", body)
            .await
            .expect_error(422, "invalid_field", Some(field));
    }

    // One extra CU from now for two hours: that window's share of a month of 1 CU (50.00).
    let placed = owner
        .post("/account/orders", temporary(1, None, Some(in_two_hours)))
        .await
        .expect(201);
    let window_start: DateTime<Utc> = placed.body["window_start"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let window_ms = (in_two_hours - window_start).num_milliseconds() as i128;
    let term_ms = (term_end - term_start).num_milliseconds() as i128;
    let expected = half_even(5_000 * window_ms, term_ms);
    let amount_minor = (placed.body["amount"]
        .as_str()
        .unwrap()
        .parse::<f64>()
        .unwrap()
        * 100.0)
        .round() as i128;
    assert_eq!(amount_minor, expected, "{}", placed.body);
    let subscription = owner.get("/account/subscriptions").await.expect(200).body[0].clone();
    assert_eq!(subscription["cu"], 2.0);
    assert_eq!(subscription["temporary_cu"], 1.0);
    assert_eq!(subscription["temporary_upgrades"][0]["cu"], 1.0);

    // Starts may use it: 3 CU run, a fourth does not fit and the message says why.
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner.saved_sql_job(&project, "j", "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;").await;
    let mut paths = Vec::new();
    for (name, parallelism) in [("big", 3), ("small", 1)] {
        let d = owner
            .deployment(&project, name, &job, &cluster, parallelism)
            .await;
        paths.push(format!("/projects/{project}/deployments/{d}"));
    }
    owner
        .post(&format!("{}/start", paths[0]), json!({}))
        .await
        .expect(202);
    let refused = owner
        .post(&format!("{}/start", paths[1]), json!({}))
        .await
        .expect_error(409, "capacity_exceeded", None);
    assert!(
        refused
            .message()
            .contains("3 purchased CU (1 of them from a temporary upgrade)"),
        "{}",
        refused.message()
    );

    // While the window is open nothing is stopped; once it has closed, what no longer
    // fits is stopped with a savepoint and the owner is told.
    assert_eq!(
        gateway::capacity::enforce(&app.state, Utc::now().timestamp_millis())
            .await
            .unwrap(),
        0
    );
    let after_window = (in_two_hours + Duration::minutes(1)).timestamp_millis();
    assert_eq!(
        gateway::capacity::enforce(&app.state, after_window)
            .await
            .unwrap(),
        1
    );
    let stopped = owner.get(&paths[0]).await.expect(200);
    assert_eq!(stopped.body["desired_state"], "SUSPENDED");
    let events = owner.list_all(&format!("{}/events", paths[0]), 50).await;
    assert!(events.iter().any(|e| e["kind"] == "capacity"), "{events:?}");
    let inbox = owner.get("/notices").await.expect(200);
    assert!(
        inbox.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "capacity" && n["body"].as_str().unwrap().contains("big")),
        "{}",
        inbox.body
    );
    assert_eq!(
        gateway::capacity::enforce(&app.state, after_window)
            .await
            .unwrap(),
        0,
        "nothing is stopped twice"
    );

    // Unsubscribing now (the window is still open in real time) refunds the unused
    // term, 2 CU x 50.00, and the unused window, all but the seconds since it began.
    let out = owner
        .post(
            "/account/orders",
            json!({ "kind": "unsubscribe", "project_id": project }),
        )
        .await
        .expect(201);
    let refund_minor =
        (out.body["amount"].as_str().unwrap().parse::<f64>().unwrap() * 100.0).round() as i128;
    let unused = 10_000 + amount_minor;
    assert!(
        (-unused..=-(unused - 2)).contains(&refund_minor),
        "refund {refund_minor}, expected about -{unused}: {}",
        out.body
    );
}
