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
