//! Product-form lifecycles as the gateway enforces them: a schedule per form (set by
//! operators), checked wherever an action happens — orders in `api::orders::plan`,
//! starts in `api::deployments::start_deployment`. A form without a schedule is GA.

use chrono::{DateTime, Utc};
use lifecycle::{Action, ProductSchedule};

use crate::db::{now_ms, Db, Tx};
use crate::error::ApiError;

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The schedule of the project's product form, if it has one.
pub async fn schedule_of(
    tx: &mut Tx,
    project_id: &str,
) -> Result<Option<(String, ProductSchedule)>, ApiError> {
    let row: Option<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "select f.name, f.announced_at, f.eom1, f.eom2, f.eofs, f.eos
           from projects p join product_forms f on f.name = p.product_form where p.id = $1",
    )
    .bind(project_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(name, announced, eom1, eom2, eofs, eos)| {
        (
            name,
            ProductSchedule {
                announced_at: instant(announced),
                eom1: instant(eom1),
                eom2: instant(eom2),
                eofs: instant(eofs),
                eos: instant(eos),
            },
        )
    }))
}

/// Refuses `action` on the project if its product form's stage forbids it now.
pub async fn ensure_allowed(tx: &mut Tx, project_id: &str, action: Action) -> Result<(), ApiError> {
    let Some((form, schedule)) = schedule_of(tx, project_id).await? else {
        return Ok(());
    };
    schedule.check(action, Utc::now()).map_err(|refusal| {
        let stage = serde_json::to_value(refusal.stage)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let action = serde_json::to_value(action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        ApiError::conflict(
            "lifecycle_restricted",
            format!(
                "the product form `{form}` is at {stage} since {}: {action} is not allowed any more; {}",
                refusal.since.to_rfc3339(),
                refusal.advice
            ),
        )
    })
}

/// Sets a product form's schedule after checking it against the lifecycle policy.
pub async fn set_schedule(db: &Db, name: &str, schedule: &ProductSchedule) -> Result<(), ApiError> {
    schedule
        .validate()
        .map_err(|e| ApiError::invalid("schedule", e.to_string()))?;
    let mut tx = db.begin_write().await?;
    sqlx::query("delete from product_forms where name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into product_forms (name, announced_at, eom1, eom2, eofs, eos, updated_at) values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(name)
    .bind(schedule.announced_at.timestamp_millis())
    .bind(schedule.eom1.timestamp_millis())
    .bind(schedule.eom2.timestamp_millis())
    .bind(schedule.eofs.timestamp_millis())
    .bind(schedule.eos.timestamp_millis())
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
