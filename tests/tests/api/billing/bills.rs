//! Monthly bills: lines that add up, a CSV and credit notes; arrears past the grace;
//! top-ups on production servers.

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::{project_with_history, ran};
use sluice_tests::{json, TestApp};

// One story of one month's bill (history, issue, lines, CSV, credit note), so it reads top to bottom.
#[tokio::test]
async fn a_month_is_billed_once_with_lines_that_add_up_and_a_csv() {
    // The operator's other choice of management fee (rule 13): only hours in which
    // something ran pay it, so the month's fee is 3 such hours (the default, every hour,
    // is in hours.rs).
    let app =
        TestApp::spawn_with(|c| c.billing.management_fee = "hours_with_usage".to_owned()).await;
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
    while workers::billing::bill_due_hours(&app.state, now)
        .await
        .unwrap()
        > 0
    {}
    assert_eq!(
        workers::billing::issue_due_bills(&app.state, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        workers::billing::issue_due_bills(&app.state, now)
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
    domain::balance::credit_note(
        &app.state,
        id,
        12,
        "a late observation overcounted",
        "operator",
    )
    .await
    .unwrap();
    let err = domain::balance::credit_note(&app.state, id, 101, "too much", "operator")
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

// One story: grace, arrears, notices, refused start, payment, so it reads top to bottom.
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
    workers::billing::bill_due_hours(&app.state, Utc::now())
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
        domain::balance::enforce_arrears(&app.state, Utc::now())
            .await
            .unwrap(),
        0
    );
    let later = Utc::now() + Duration::days(8);
    assert_eq!(
        domain::balance::enforce_arrears(&app.state, later)
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
        domain::balance::enforce_arrears(&app.state, later)
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
    domain::balance::top_up(&app.state, &owner.account_id, 1_000, "operator")
        .await
        .unwrap();
    let balance = owner.get("/account/balance").await.expect(200).body;
    assert_eq!(balance["balance"], "10.00");
    // The console offers no top-up where the server takes none.
    assert_eq!(balance["top_ups_allowed"], false);
}
