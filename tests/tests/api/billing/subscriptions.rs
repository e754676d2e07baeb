//! Subscriptions: ordered at their exact price and capping running CU, renewed,
//! upgraded, downgraded and temporarily upgraded at prorated prices.

use chrono::{DateTime, Duration, Utc};

use super::half_even;
use sluice_tests::{json, TestApp};

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

// One story of one subscription's temporary upgrade, from order to refund, so it reads top to bottom.
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
        domain::capacity::enforce(&app.state, Utc::now().timestamp_millis())
            .await
            .unwrap(),
        0
    );
    let after_window = (in_two_hours + Duration::minutes(1)).timestamp_millis();
    assert_eq!(
        domain::capacity::enforce(&app.state, after_window)
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
        domain::capacity::enforce(&app.state, after_window)
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
