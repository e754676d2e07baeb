//! Billing: pay-as-you-go hours from recorded run intervals, the product's worked
//! example, exactly-once hours, tenant-scoped de-duplication and who may see bills
//! (hours); monthly bills, arrears and top-ups (bills); subscriptions ordered, renewed,
//! changed and temporarily upgraded (subscriptions); a term's reminders, automatic
//! renewal, expiry and release (term_lifecycle).

use chrono::{DateTime, Duration, Utc};
use sluice_tests::{Client, TestApp};

mod bills;
mod hours;
mod subscriptions;
mod term_lifecycle;
mod terms;

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

/// Half-even rounding of `num / den` (both positive), as the billing domain rounds.
fn half_even(num: i128, den: i128) -> i128 {
    let (q, r) = (num / den, num % den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q % 2),
    }
}
