//! Alert rules: a condition on the project's deployments (one, or all), its terms and
//! severity, and the contact group it tells.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

use crate::access::{can, ProjectGuard};
use crate::alerts::Condition;
use crate::alerts::{AlertState, Severity};
use crate::api::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use store::db::{new_id, now_ms, Tx};
use store::names::Name;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAlertRule {
    pub name: String,
    /// One deployment; absent: every deployment of the project.
    pub deployment_id: Option<String>,
    /// `job_failed` (FAILED, or RESTARTING in the engine); `restarts` or
    /// `checkpoint_failures` (more than `threshold` within
    /// `window_secs`); `state_mismatch` (observed differs from desired for
    /// `window_secs`); `no_checkpoint` (none completed within `window_secs`);
    /// `input_stopped` (sources under `threshold` records/s throughout `window_secs`);
    /// `backpressure_high` (at least `threshold` percent backpressured throughout);
    /// `lag_high` (sources' event-time lag over `threshold` ms throughout);
    /// `pending_records_high` (over `threshold` records waiting at the sources
    /// throughout). The lag conditions need a connector that reports lag.
    /// `orphan_job` (an earlier engine job of the deployment still runs, unmanaged).
    /// Restarts count Sluice's and the engine's own.
    #[schema(
        pattern = "^(job_failed|restarts|state_mismatch|checkpoint_failures|no_checkpoint|input_stopped|backpressure_high|lag_high|pending_records_high|orphan_job)$"
    )]
    pub condition: String,
    pub threshold: Option<i64>,
    pub window_secs: Option<i64>,
    /// `P0` (most urgent) to `P3`; default P1.
    #[schema(pattern = "^P[0-3]$")]
    pub severity: Option<String>,
    pub contact_group_id: String,
    /// While firing, remind this often; 0 or absent: never. At most a week.
    #[schema(minimum = 0, maximum = 604800)]
    pub repeat_secs: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertRule {
    pub id: String,
    pub name: String,
    pub deployment_id: Option<String>,
    pub condition: String,
    pub threshold: i64,
    pub window_secs: i64,
    pub severity: String,
    pub contact_group_id: String,
    pub repeat_secs: i64,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

fn ranged(field: &str, value: i64, range: std::ops::RangeInclusive<i64>) -> Result<i64, Error> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(Error::invalid(
            field,
            format!(
                "{field} must be from {} to {}, got {value}",
                range.start(),
                range.end()
            ),
        ))
    }
}

fn rule_name_taken(e: sqlx::Error) -> ApiError {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => Error::already_exists(
            "name",
            "the project already has an alert rule with this name",
        )
        .into(),
        other => other.into(),
    }
}

/// A rule as stored, once checked.
struct CheckedRule {
    name: String,
    condition: Condition,
    threshold: i64,
    window_secs: i64,
    severity: Severity,
    repeat_secs: i64,
}

/// Checks a rule's fields (each against its condition's range, defaults filled in) and
/// that its contact group and deployment are the project's, inside `tx`.
async fn check_rule(
    tx: &mut Tx,
    project_id: &str,
    body: &NewAlertRule,
) -> Result<CheckedRule, Error> {
    let name = Name::parse("name", &body.name)?;
    let condition = Condition::parse(&body.condition)?;
    let (threshold, window_secs) = match condition {
        Condition::JobFailed | Condition::OrphanJob => (0, 0),
        Condition::Restarts => (
            ranged("threshold", body.threshold.unwrap_or(0), 0..=1000)?,
            ranged("window_secs", body.window_secs.unwrap_or(600), 10..=86_400)?,
        ),
        Condition::StateMismatch => (
            0,
            ranged("window_secs", body.window_secs.unwrap_or(300), 1..=86_400)?,
        ),
        Condition::CheckpointFailures => (
            ranged("threshold", body.threshold.unwrap_or(0), 0..=1000)?,
            ranged("window_secs", body.window_secs.unwrap_or(600), 10..=86_400)?,
        ),
        // The product's P0: no successful checkpoint in 5 minutes.
        Condition::NoCheckpoint => (
            0,
            ranged("window_secs", body.window_secs.unwrap_or(300), 10..=86_400)?,
        ),
        // Records per second below which the input counts as stopped.
        Condition::InputStopped => (
            ranged("threshold", body.threshold.unwrap_or(1), 1..=100_000_000)?,
            ranged("window_secs", body.window_secs.unwrap_or(300), 1..=86_400)?,
        ),
        // Percent of the time backpressured.
        Condition::BackpressureHigh => (
            ranged("threshold", body.threshold.unwrap_or(50), 1..=100)?,
            ranged("window_secs", body.window_secs.unwrap_or(300), 1..=86_400)?,
        ),
        // Milliseconds of event-time lag.
        Condition::LagHigh => (
            ranged(
                "threshold",
                body.threshold.unwrap_or(60_000),
                1..=86_400_000,
            )?,
            ranged("window_secs", body.window_secs.unwrap_or(300), 1..=86_400)?,
        ),
        // Records waiting.
        Condition::PendingRecordsHigh => (
            ranged(
                "threshold",
                body.threshold.unwrap_or(100_000),
                1..=i64::MAX / 2,
            )?,
            ranged("window_secs", body.window_secs.unwrap_or(300), 1..=86_400)?,
        ),
    };
    let severity = match body.severity.as_deref() {
        None => Severity::P1,
        Some(text) => Severity::parse(text)
            .ok_or_else(|| Error::invalid("severity", "severity is P0, P1, P2 or P3"))?,
    };
    let repeat_secs = ranged("repeat_secs", body.repeat_secs.unwrap_or(0), 0..=604_800)?;
    if repeat_secs > 0 && repeat_secs < 60 {
        return Err(Error::invalid(
            "repeat_secs",
            "reminders are at least 60 s apart (or 0 for none)",
        ));
    }
    let (group,): (i64,) =
        sqlx::query_as("select count(*) from contact_groups where id = $1 and project_id = $2")
            .bind(&body.contact_group_id)
            .bind(project_id)
            .fetch_one(&mut **tx)
            .await?;
    if group == 0 {
        return Err(Error::invalid(
            "contact_group_id",
            "not a contact group of this project",
        ));
    }
    if let Some(d) = &body.deployment_id {
        let (found,): (i64,) =
            sqlx::query_as("select count(*) from deployments where id = $1 and project_id = $2")
                .bind(d)
                .bind(project_id)
                .fetch_one(&mut **tx)
                .await?;
        if found == 0 {
            return Err(Error::invalid(
                "deployment_id",
                "not a deployment of this project",
            ));
        }
    }
    Ok(CheckedRule {
        name: name.as_str().to_owned(),
        condition,
        threshold,
        window_secs,
        severity,
        repeat_secs,
    })
}

#[utoipa::path(post, path = "/projects/{project_id}/alert-rules", tag = "alerts", params(("project_id" = String, Path)),
    request_body = NewAlertRule,
    responses((status = 201, body = AlertRule), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_alert_rule(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Json(body): Json<NewAlertRule>,
) -> ApiResult<(StatusCode, JsonResponse<AlertRule>)> {
    let mut tx = state.db.begin_write().await?;
    let rule = check_rule(&mut tx, access.project_id(), &body).await?;
    let CheckedRule {
        name,
        condition,
        threshold,
        window_secs,
        severity,
        repeat_secs,
    } = rule;
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "insert into alert_rules (id, project_id, name, deployment_id, condition, threshold, window_secs, severity,
                                  contact_group_id, repeat_secs, enabled, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12)",
    )
    .bind(&id)
    .bind(access.project_id())
    .bind(&name)
    .bind(&body.deployment_id)
    .bind(condition.as_str())
    .bind(threshold)
    .bind(window_secs)
    .bind(severity)
    .bind(&body.contact_group_id)
    .bind(repeat_secs)
    .bind(access.user_id())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(rule_name_taken)?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(AlertRule {
            id,
            name,
            deployment_id: body.deployment_id,
            condition: condition.as_str().to_owned(),
            threshold,
            window_secs,
            severity: severity.as_str().to_owned(),
            contact_group_id: body.contact_group_id,
            repeat_secs,
            enabled: true,
            created_at: rfc3339(now),
        }),
    ))
}

type RuleRow = (
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    String,
    String,
    i64,
    i64,
    i64,
);

#[utoipa::path(get, path = "/projects/{project_id}/alert-rules", tag = "alerts", params(("project_id" = String, Path)),
    responses((status = 200, body = Vec<AlertRule>), (status = 404, body = ErrorBody)))]
pub async fn list_alert_rules(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
) -> ApiResult<JsonResponse<Vec<AlertRule>>> {
    let rows: Vec<RuleRow> = sqlx::query_as(
        "select id, name, deployment_id, condition, threshold, window_secs, severity, contact_group_id, repeat_secs, enabled, created_at
           from alert_rules where project_id = $1 order by name",
    )
    .bind(access.project_id())
    .fetch_all(&state.db.pool)
    .await?;
    Ok(JsonResponse(
        rows.into_iter()
            .map(
                |(
                    id,
                    name,
                    deployment_id,
                    condition,
                    threshold,
                    window_secs,
                    severity,
                    contact_group_id,
                    repeat_secs,
                    enabled,
                    at,
                )| {
                    AlertRule {
                        id,
                        name,
                        deployment_id,
                        condition,
                        threshold,
                        window_secs,
                        severity,
                        contact_group_id,
                        repeat_secs,
                        enabled: enabled == 1,
                        created_at: rfc3339(at),
                    }
                },
            )
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleChange {
    pub enabled: Option<bool>,
    pub name: Option<String>,
    pub threshold: Option<i64>,
    pub window_secs: Option<i64>,
    #[schema(pattern = "^P[0-3]$")]
    pub severity: Option<String>,
    pub contact_group_id: Option<String>,
    /// 0: no reminders. At most a week.
    #[schema(minimum = 0, maximum = 604800)]
    pub repeat_secs: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct StoredRule {
    name: String,
    deployment_id: Option<String>,
    condition: String,
    threshold: i64,
    window_secs: i64,
    severity: String,
    contact_group_id: String,
    repeat_secs: i64,
    enabled: i64,
}

/// Changes a rule (its condition and deployment stay: another watch is another rule),
/// checked as a new one would be, or turns it on or off. What it has firing ends now,
/// unannounced, when it is turned off or its threshold or window change: the next pass
/// judges by the new ones.
#[utoipa::path(patch, path = "/projects/{project_id}/alert-rules/{rule_id}", tag = "alerts",
    params(("project_id" = String, Path), ("rule_id" = String, Path)), request_body = RuleChange,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_alert_rule(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, rule_id)): Path<(String, String)>,
    Json(change): Json<RuleChange>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let current: Option<StoredRule> = sqlx::query_as(
        "select name, deployment_id, condition, threshold, window_secs, severity, contact_group_id, repeat_secs, enabled
           from alert_rules where id = $1 and project_id = $2",
    )
    .bind(&rule_id)
    .bind(access.project_id())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(current) = current else {
        return Err(Error::not_found("alert rule").into());
    };
    let (stored_threshold, stored_window) = (current.threshold, current.window_secs);
    let merged = NewAlertRule {
        name: change.name.unwrap_or(current.name),
        deployment_id: current.deployment_id,
        condition: current.condition,
        threshold: Some(change.threshold.unwrap_or(current.threshold)),
        window_secs: Some(change.window_secs.unwrap_or(current.window_secs)),
        severity: Some(change.severity.unwrap_or(current.severity)),
        contact_group_id: change.contact_group_id.unwrap_or(current.contact_group_id),
        repeat_secs: Some(change.repeat_secs.unwrap_or(current.repeat_secs)),
    };
    let rule = check_rule(&mut tx, access.project_id(), &merged).await?;
    let enabled = change.enabled.unwrap_or(current.enabled == 1);
    // What the condition is judged by; a new name, severity, group or reminder changes
    // how it is told, and a firing alert goes on under them.
    let terms_change = rule.threshold != stored_threshold || rule.window_secs != stored_window;
    sqlx::query(
        "update alert_rules set name = $1, threshold = $2, window_secs = $3, severity = $4, contact_group_id = $5,
                                repeat_secs = $6, enabled = $7
          where id = $8 and project_id = $9",
    )
    .bind(&rule.name)
    .bind(rule.threshold)
    .bind(rule.window_secs)
    .bind(rule.severity)
    .bind(&merged.contact_group_id)
    .bind(rule.repeat_secs)
    .bind(i64::from(enabled))
    .bind(&rule_id)
    .bind(access.project_id())
    .execute(&mut *tx)
    .await
    .map_err(rule_name_taken)?;
    if !enabled || terms_change {
        sqlx::query(
            "update alerts set state = $1, resolved_at = $2 where rule_id = $3 and state = $4",
        )
        .bind(AlertState::Resolved)
        .bind(now_ms())
        .bind(&rule_id)
        .bind(AlertState::Firing)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/projects/{project_id}/alert-rules/{rule_id}", tag = "alerts",
    params(("project_id" = String, Path), ("rule_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_alert_rule(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, rule_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    super::delete_in_project(
        &state,
        "alert_rules",
        &rule_id,
        access.project_id(),
        "alert rule",
    )
    .await
}
