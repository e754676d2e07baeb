//! Pay-as-you-go hours: the worked example, tenants apart, and who may see bills.

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::{project_with_history, ran, range};
use sluice_tests::{json, TestApp};

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
    let written = workers::billing::bill_due_hours(&app.state, now)
        .await
        .unwrap();
    assert!(
        written >= 4,
        "the hours since creation are billed: {written}"
    );
    assert_eq!(
        workers::billing::bill_due_hours(&app.state, now)
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
    let billed: Vec<_> = items.iter().filter(|h| h["cu_hours"] != "0").collect();
    assert_eq!(billed.len(), 1, "{}", hours.body);
    let line = billed[0];
    let start: DateTime<Utc> = line["window_start"].as_str().unwrap().parse().unwrap();
    assert_eq!(start, hour);
    assert_eq!(line["cu_hours"], "3");
    assert_eq!(line["compute"], "0.27");
    assert_eq!(line["management"], "0.18");
    assert_eq!(line["total"], "0.45");
    assert_eq!(hours.body["currency"], "CNY");
    // By default (rule 13: `billing.management_fee = "every_hour"`) the management fee
    // is the product's fixed fee per pay-as-you-go project and hour: the whole hours in
    // which nothing ran pay it too (the hour the project was created, its share).
    let minor = |v: &serde_json::Value| {
        let (whole, cents) = v.as_str().unwrap().split_once('.').unwrap();
        whole.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
    };
    let idle: Vec<_> = items.iter().filter(|h| h["cu_hours"] == "0").collect();
    assert!(idle.len() >= 3, "{}", hours.body);
    for h in &idle {
        assert_eq!(h["compute"], "0.00");
        let (from, to): (DateTime<Utc>, DateTime<Utc>) = (
            h["window_start"].as_str().unwrap().parse().unwrap(),
            h["window_end"].as_str().unwrap().parse().unwrap(),
        );
        if to - from == Duration::hours(1) {
            assert_eq!(h["management"], "0.18", "{}", hours.body);
        } else {
            assert!(minor(&h["management"]) <= 18, "{}", hours.body);
        }
    }
    assert_eq!(
        minor(&hours.body["total"]),
        items.iter().map(|h| minor(&h["total"])).sum::<i64>()
    );

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
    workers::billing::bill_due_hours(&app.state, Utc::now())
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
