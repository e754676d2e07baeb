//! Publishing lifecycle schedules (item 6): the notice counts from the instant Sluice
//! records the announcement, every publication is kept as history, and no milestone
//! moves earlier than already announced.

use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};
use serde_json::Value;
use sluice_tests::{json, Client, TestApp};

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn operator(app: &TestApp) -> Client {
    let operator = app.account("Platform").await;
    let email: (String,) = sqlx::query_as("select email from users where id = $1")
        .bind(&operator.user_id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    gateway::admin::grant_operator(&app.state.db, &email.0)
        .await
        .unwrap();
    operator
}

fn form(
    eom1: DateTime<Utc>,
    eom2: DateTime<Utc>,
    eofs: DateTime<Utc>,
    eos: DateTime<Utc>,
) -> Value {
    json!({ "eom1": rfc(eom1), "eom2": rfc(eom2), "eofs": rfc(eofs), "eos": rfc(eos) })
}

#[tokio::test]
async fn a_product_form_schedule_is_announced_when_recorded_kept_as_history_and_never_brought_forward(
) {
    let app = TestApp::spawn().await;
    let ops = operator(&app).await;
    let owner = app.account("Acme").await;
    owner.project("p").await;
    let path = "/platform/product-forms/fully_managed";
    // Whole seconds: the API speaks RFC 3339 to the second.
    let now = Utc::now().trunc_subsecs(0);
    let eom1 = lifecycle::add_months(now, 5);
    let (eom2, eofs, eos) = (
        lifecycle::add_months(now, 7),
        lifecycle::add_months(now, 10),
        lifecycle::add_months(now, 14),
    );

    // A caller's announcement instant is refused: it would let a schedule be backdated.
    let mut backdated = form(lifecycle::add_months(now, 2), eom2, eofs, eos);
    backdated["announced_at"] = json!(rfc(now - Duration::days(365)));
    let refused = ops.put(path, backdated.clone()).await.expect_error(
        422,
        "invalid_field",
        Some("announced_at"),
    );
    assert!(
        refused.message().contains("records"),
        "{}",
        refused.message()
    );
    // Without it, the same milestones are measured from now: EOM1 two months away is
    // too little notice.
    backdated.as_object_mut().unwrap().remove("announced_at");
    let short = ops
        .put(path, backdated)
        .await
        .expect_error(422, "invalid_field", Some("eom1"));
    assert!(short.message().contains("4 months"), "{}", short.message());

    let before = Utc::now();
    ops.put(path, form(eom1, eom2, eofs, eos)).await.expect(204);
    let after = Utc::now();

    // Moving any milestone earlier than announced is refused, naming it, the announced
    // date and the rule; even by a second.
    let earlier = ops
        .put(path, form(eom1, eom2 - Duration::seconds(1), eofs, eos))
        .await
        .expect_error(422, "invalid_field", Some("eom2"));
    assert!(
        earlier.message().contains(&eom2.to_rfc3339()) && earlier.message().contains("earlier"),
        "{}",
        earlier.message()
    );
    ops.put(path, form(eom1, eom2, eofs, eos - Duration::days(1)))
        .await
        .expect_error(422, "invalid_field", Some("eos"));

    // Later is allowed, and announced again.
    let later_eos = eos + Duration::days(30);
    ops.put(path, form(eom1, eom2, eofs, later_eos))
        .await
        .expect(204);
    let inbox = owner.get("/notices").await.expect(200);
    assert_eq!(inbox.body["unread"], 2, "{}", inbox.body);

    // Both publications are kept, in order, each with the instant Sluice recorded it.
    let history = ops.get(&format!("{path}/history")).await.expect(200);
    let versions = history.body.as_array().unwrap();
    assert_eq!(versions.len(), 2, "{}", history.body);
    assert_eq!(versions[0]["version"], 1);
    let recorded = at(&versions[0]["announced_at"]);
    assert!(
        recorded >= before - Duration::seconds(1) && recorded <= after,
        "{recorded} not between {before} and {after}"
    );
    assert_eq!(versions[0]["announced_by"], ops.user_id.as_str());
    assert_eq!(at(&versions[0]["eos"]), eos);
    assert_eq!(versions[1]["version"], 2);
    assert_eq!(at(&versions[1]["eos"]), later_eos);
    assert_eq!(at(&versions[1]["eom1"]), eom1);
    // Refused attempts left no version.
    owner
        .get(&format!("{path}/history"))
        .await
        .expect_error(403, "forbidden", None);
    ops.get("/platform/product-forms/legacy_exclusive/history")
        .await
        .expect_error(404, "not_found", None);
}

#[tokio::test]
async fn an_engine_version_schedule_is_announced_when_recorded_and_never_brought_forward() {
    let app = TestApp::spawn().await;
    let ops = operator(&app).await;
    let path = "/platform/engine-versions/1.0.4";
    // Whole seconds: the API speaks RFC 3339 to the second.
    let now = Utc::now().trunc_subsecs(0);
    let ga = now - Duration::days(120);
    let (eogs, eofs, eos) = (
        lifecycle::add_months(now, 6),
        lifecycle::add_months(now, 9),
        lifecycle::add_months(now, 12),
    );
    let body = |eogs: DateTime<Utc>, eos: DateTime<Utc>, pulled: bool| {
        json!({ "flink_version": "2.3.0", "ga": rfc(ga), "eogs": rfc(eogs), "eofs": rfc(eofs),
                "eos": rfc(eos), "pulled": pulled })
    };
    let mut backdated = body(eogs, eos, false);
    backdated["announced_at"] = json!(rfc(now - Duration::days(365)));
    ops.put(path, backdated)
        .await
        .expect_error(422, "invalid_field", Some("announced_at"));
    // EOGS 180 days after GA is two months from now: too little notice (3 months).
    ops.put(path, body(ga + Duration::days(180), eos, false))
        .await
        .expect_error(422, "invalid_field", Some("eogs"));
    ops.put(path, body(eogs, eos, false)).await.expect(204);
    ops.put(path, body(eogs, eos - Duration::days(1), false))
        .await
        .expect_error(422, "invalid_field", Some("eos"));
    // Pulling it keeps the schedule: allowed at once, no notice needed.
    ops.put(path, body(eogs, eos, true)).await.expect(204);
    let history = ops.get(&format!("{path}/history")).await.expect(200);
    let versions = history.body.as_array().unwrap();
    assert_eq!(versions.len(), 2, "{}", history.body);
    assert_eq!(versions[0]["pulled"], false);
    assert_eq!(versions[1]["pulled"], true);
    assert_eq!(at(&versions[1]["eos"]), eos);
}
