//! Subscription terms through the orders API (issue 18): a renewal keeps the purchase's
//! anniversary (rule 2) and a lapsed term renews from the order.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};

use sluice_tests::{json, Client, TestApp};

/// The default billing zone, Asia/Shanghai, has kept UTC+8 since 1991.
fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

fn month_len(year: i32, month: u32) -> u32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    (next.unwrap() - NaiveDate::from_ymd_opt(year, month, 1).unwrap()).num_days() as u32
}

/// `date` plus `n` months, the day clamped to the month's length.
fn months_later(date: NaiveDate, n: u32) -> NaiveDate {
    let total = date.year() * 12 + date.month0() as i32 + n as i32;
    let (year, month) = (total / 12, (total % 12) as u32 + 1);
    NaiveDate::from_ymd_opt(year, month, date.day().min(month_len(year, month))).unwrap()
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    shanghai()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn at(value: &serde_json::Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

/// Makes the project's subscription a term anchored at `start` of `months` months
/// ending at `end`, as orders placed then would have left it.
async fn set_term(
    app: &TestApp,
    project: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    months: i64,
) {
    sqlx::query("update subscriptions set term_start = $1, term_end = $2, term_months = $3 where project_id = $4")
        .bind(start.timestamp_millis())
        .bind(end.timestamp_millis())
        .bind(months)
        .bind(project)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
}

pub(super) async fn subscribed(app: &TestApp, cu: i64) -> (Client, String) {
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    owner
        .post("/account/balance/top-ups", json!({ "amount": "5000.00" }))
        .await
        .expect(201);
    owner
        .post(
            "/account/orders",
            json!({ "kind": "new_purchase", "project_id": project, "cu": cu, "months": 1 }),
        )
        .await
        .expect(201);
    (owner, project)
}

#[tokio::test]
async fn a_renewal_keeps_the_anniversary_of_a_term_bought_on_the_31st() {
    let app = TestApp::spawn().await;
    let (owner, project) = subscribed(&app, 1).await;
    // A term bought at midnight on the latest 31st, and as many months as take it to a
    // shorter month's clamped end still ahead (bought on Oct 31 for 4 months: Feb 28).
    let now = Utc::now();
    let mut anchor = now.with_timezone(&shanghai()).date_naive();
    while anchor.day() != 31 || midnight(anchor) > now {
        anchor = anchor.pred_opt().unwrap();
    }
    let months = (1..)
        .find(|&k| {
            let end = months_later(anchor, k);
            end.day() < 31 && midnight(end) > now + Duration::hours(1)
        })
        .unwrap();
    let clamped = months_later(anchor, months);
    set_term(
        &app,
        &project,
        midnight(anchor),
        midnight(clamped),
        i64::from(months),
    )
    .await;

    // A month more ends on the 31st again (or the month's last day), not a month after
    // the clamped end.
    let renewed = owner
        .post(
            "/account/orders",
            json!({ "kind": "renew", "project_id": project, "months": 1 }),
        )
        .await
        .expect(201);
    let expected = months_later(anchor, months + 1);
    assert_eq!(expected.day(), 31, "a month after a short one has 31 days");
    assert_eq!(
        at(&renewed.body["term_end"]),
        midnight(expected),
        "{}",
        renewed.body
    );
    assert_eq!(at(&renewed.body["term_start"]), midnight(anchor));
    let listed = owner.get("/account/subscriptions").await.expect(200).body[0].clone();
    assert_eq!(at(&listed["term_start"]), midnight(anchor));
    assert_eq!(at(&listed["term_end"]), midnight(expected));

    // Once the term has ended, a renewal starts a new term at the order, anchored there.
    let ended = now - Duration::days(3);
    set_term(&app, &project, ended - Duration::days(30), ended, 1).await;
    let before = Utc::now() - Duration::seconds(1);
    let renewed = owner
        .post(
            "/account/orders",
            json!({ "kind": "renew", "project_id": project, "months": 2 }),
        )
        .await
        .expect(201);
    let start = at(&renewed.body["term_start"]);
    assert!(start >= before && start <= Utc::now(), "{}", renewed.body);
    let local = start.with_timezone(&shanghai());
    let end = at(&renewed.body["term_end"]).with_timezone(&shanghai());
    assert_eq!(end.date_naive(), months_later(local.date_naive(), 2));
    assert_eq!(end.time(), local.time());
    assert_eq!(
        renewed.body["amount"], "100.00",
        "2 months of 1 CU at 50.00"
    );
}

/// Puts the project on a product form of its own whose milestones are `eom1`, `eom2`,
/// `eofs` and `eos` days from now (negative: passed).
pub(super) async fn on_form(app: &TestApp, project: &str, name: &str, days: [i64; 4]) {
    let at = |d: i64| (Utc::now() + Duration::days(d)).timestamp_millis();
    sqlx::query(
        "insert into product_forms (name, announced_at, eom1, eom2, eofs, eos, updated_at) values ($1, $2, $3, $4, $5, $6, $2)",
    )
    .bind(name)
    .bind(at(days[0] - 400))
    .bind(at(days[0]))
    .bind(at(days[1]))
    .bind(at(days[2]))
    .bind(at(days[3]))
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    sqlx::query("update projects set product_form = $1 where id = $2")
        .bind(name)
        .bind(project)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
}

fn minor(amount: &serde_json::Value) -> i64 {
    let text = amount.as_str().unwrap();
    let (whole, cents) = text.trim_start_matches('-').split_once('.').unwrap();
    let value = whole.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap();
    if text.starts_with('-') {
        -value
    } else {
        value
    }
}

// Rule 4: one story of renewing with a configuration change, priced, refused and
// restricted as the two orders it combines.
#[tokio::test]
async fn a_renewal_with_a_cu_change_is_one_order_priced_as_the_change_and_the_renewal() {
    let app = TestApp::spawn().await;
    let (owner, project) = subscribed(&app, 2).await;
    // A 1-month term bought 15 days ago (2 CU for it: 100.00).
    let start =
        DateTime::from_timestamp_millis((Utc::now() - Duration::days(15)).timestamp_millis())
            .unwrap();
    let local = start.with_timezone(&shanghai());
    let end_of = |months: u32| {
        shanghai()
            .from_local_datetime(&months_later(local.date_naive(), months).and_time(local.time()))
            .unwrap()
            .with_timezone(&Utc)
    };
    set_term(&app, &project, start, end_of(1), 1).await;
    let order = |cu: Option<i64>, months: Option<i64>| json!({ "kind": "renew_change", "project_id": project, "cu": cu, "months": months });
    for (body, field) in [
        (order(Some(2), Some(1)), "cu"),
        (order(None, Some(1)), "cu"),
        (order(Some(4), None), "months"),
        (order(Some(4), Some(37)), "months"),
    ] {
        owner
            .post("/account/orders/preview", body)
            .await
            .expect_error(422, "invalid_field", Some(field));
    }

    // Up to 4 CU and 2 more months: the 2 extra CU for what is left of the term (the
    // rest of 100.00) plus 4 CU x 2 months x 50.00 = 400.00.
    let balance_before = minor(&owner.get("/account/balance").await.expect(200).body["balance"]);
    let placed = owner
        .post("/account/orders", order(Some(4), Some(2)))
        .await
        .expect(201);
    let term_ms = (end_of(1) - start).num_milliseconds() as i128;
    let elapsed = (at(&placed.body["created_at"]) - start).num_milliseconds() as i128;
    let change = 10_000 - super::half_even(10_000 * elapsed, term_ms) as i64;
    let amount = minor(&placed.body["amount"]);
    assert!(
        (amount - (40_000 + change)).abs() <= 1,
        "{amount} vs 400.00 + {change}: {}",
        placed.body
    );
    assert_eq!(
        (placed.body["cu"].as_i64(), placed.body["months"].as_i64()),
        (Some(4), Some(2))
    );
    // The term keeps its anchor and ends 3 months after it.
    assert_eq!(at(&placed.body["term_start"]), start);
    assert_eq!(at(&placed.body["term_end"]), end_of(3));
    let subscription = owner.get("/account/subscriptions").await.expect(200).body[0].clone();
    assert_eq!(subscription["cu"], 4.0);
    assert_eq!(at(&subscription["term_end"]), end_of(3));
    let balance = minor(&owner.get("/account/balance").await.expect(200).body["balance"]);
    assert_eq!(balance, balance_before - amount);
    let orders = owner.list_all("/account/orders", 10).await;
    assert_eq!(orders[0]["kind"], "renew_change");
    assert_eq!(orders[0]["amount"], placed.body["amount"]);

    // The downgrade part obeys the downgrade's rule: never below what runs.
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner.saved_sql_job(&project, "j", "CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\nINSERT INTO b SELECT x FROM a;").await;
    let d = owner.deployment(&project, "d", &job, &cluster, 3).await;
    owner
        .post(
            &format!("/projects/{project}/deployments/{d}/start"),
            json!({}),
        )
        .await
        .expect(202);
    let refused = owner
        .post("/account/orders", order(Some(2), Some(1)))
        .await
        .expect_error(422, "invalid_field", Some("cu"));
    assert!(refused.message().contains("3 CU"), "{}", refused.message());
    // Down to 3 CU: the rest of the term credits 1 CU's share, the month costs 150.00.
    let down = owner
        .post("/account/orders/preview", order(Some(3), Some(1)))
        .await
        .expect(200);
    assert!(minor(&down.body["amount"]) < 15_000, "{}", down.body);

    // EOM2 refuses scaling out, so a renewal that raises the CU; lowering it renews.
    on_form(&app, &project, "retiring", [-60, -1, 60, 120]).await;
    let refused = owner
        .post("/account/orders/preview", order(Some(5), Some(1)))
        .await
        .expect_error(409, "lifecycle_restricted", None);
    assert!(refused.message().contains("EOM2"), "{}", refused.message());
    owner
        .post("/account/orders/preview", order(Some(3), Some(1)))
        .await
        .expect(200);
    // EOFS refuses renewals and configuration changes: neither way.
    on_form(&app, &project, "retired", [-90, -60, -1, 60]).await;
    for cu in [5, 3] {
        owner
            .post("/account/orders/preview", order(Some(cu), Some(1)))
            .await
            .expect_error(409, "lifecycle_restricted", None);
    }
}

/// What is left of `whole` (minor units) after `elapsed` of `term`, as the billing domain
/// prorates: the whole less its half-even share.
fn remaining(whole: i64, elapsed: Duration, term: Duration) -> i64 {
    whole
        - super::half_even(
            i128::from(whole) * i128::from(elapsed.num_milliseconds()),
            i128::from(term.num_milliseconds()),
        ) as i64
}

// Rule 5: a term cut short by the product form's end of service is refunded from the
// EOS instant in full, not at the unsubscribe refund percent, and unsubscribing is
// allowed at or after EOS; before EOS only the part up to EOS is the user's choice.
#[tokio::test]
async fn the_part_of_a_term_after_the_end_of_service_is_refunded_in_full() {
    let app = TestApp::spawn_with(|c| c.billing.unsubscribe_refund_percent = 50).await;
    let (owner, project) = subscribed(&app, 3).await;
    // 3 CU for a month from 10 days ago: 150.00.
    let start =
        DateTime::from_timestamp_millis((Utc::now() - Duration::days(10)).timestamp_millis())
            .unwrap();
    let local = start.with_timezone(&shanghai());
    let end = shanghai()
        .from_local_datetime(&months_later(local.date_naive(), 1).and_time(local.time()))
        .unwrap()
        .with_timezone(&Utc);
    set_term(&app, &project, start, end, 1).await;
    // An extra CU paid for two hours still to come.
    let window_start = Utc::now() + Duration::hours(1);
    let upgrade = owner
        .post(
            "/account/orders",
            json!({ "kind": "temporary_upgrade", "project_id": project, "cu": 1,
                    "starts_at": window_start, "ends_at": window_start + Duration::hours(2) }),
        )
        .await
        .expect(201);
    let window_paid = minor(&upgrade.body["amount"]);
    assert!(window_paid > 0);

    // The form reached EOS two days ago: every other order is refused, unsubscribing
    // is not, and it refunds the term from EOS and the whole window, in full.
    on_form(&app, &project, "ended", [-120, -90, -60, -2]).await;
    let eos: i64 = sqlx::query_scalar("select eos from product_forms where name = 'ended'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let eos = DateTime::from_timestamp_millis(eos).unwrap();
    owner
        .post(
            "/account/orders/preview",
            json!({ "kind": "renew", "project_id": project, "months": 1 }),
        )
        .await
        .expect_error(409, "lifecycle_restricted", None);
    let balance_before = minor(&owner.get("/account/balance").await.expect(200).body["balance"]);
    let out = owner
        .post(
            "/account/orders",
            json!({ "kind": "unsubscribe", "project_id": project }),
        )
        .await
        .expect(201);
    let term_refund = remaining(15_000, eos - start, end - start);
    assert_eq!(
        minor(&out.body["amount"]),
        -(term_refund + window_paid),
        "{}",
        out.body
    );
    let balance = minor(&owner.get("/account/balance").await.expect(200).body["balance"]);
    assert_eq!(balance, balance_before + term_refund + window_paid);
    assert!(owner
        .get("/account/subscriptions")
        .await
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .is_empty());

    // Before EOS (at EOFS, where unsubscribing is allowed): the days up to EOS at 50%,
    // the days after it in full.
    let other = owner.project("q").await;
    owner
        .post(
            "/account/orders",
            json!({ "kind": "new_purchase", "project_id": other, "cu": 3, "months": 1 }),
        )
        .await
        .expect(201);
    set_term(&app, &other, start, end, 1).await;
    on_form(&app, &other, "ending", [-90, -60, -30, 5]).await;
    let eos: i64 = sqlx::query_scalar("select eos from product_forms where name = 'ending'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let eos = DateTime::from_timestamp_millis(eos).unwrap();
    let out = owner
        .post(
            "/account/orders",
            json!({ "kind": "unsubscribe", "project_id": other }),
        )
        .await
        .expect(201);
    let at = at(&out.body["created_at"]);
    let after_eos = remaining(15_000, eos - start, end - start);
    let users = remaining(15_000, at - start, end - start) - after_eos;
    let expected = super::half_even(i128::from(users) * 50, 100) as i64 + after_eos;
    assert!(
        (minor(&out.body["amount"]) + expected).abs() <= 1,
        "refund of about {expected}: {}",
        out.body
    );
}
