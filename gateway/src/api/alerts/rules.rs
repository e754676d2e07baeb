//! Alert rules: a condition on the project's deployments (one, or all), its terms and
//! severity, and the contact group it tells.

use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::alert_rules::{AlertRuleRow, RuleTerms, Severity};
use store::{Error, ProjectWrite};
use utoipa::ToSchema;

use crate::access::{can, ProjectGuard};
use crate::api::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use domain::alert_conditions::Condition;
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

impl From<AlertRuleRow> for AlertRule {
    fn from(row: AlertRuleRow) -> Self {
        AlertRule {
            id: row.id,
            name: row.name,
            deployment_id: row.deployment_id,
            condition: row.condition,
            threshold: row.threshold,
            window_secs: row.window_secs,
            severity: row.severity.as_str().to_owned(),
            contact_group_id: row.contact_group_id,
            repeat_secs: row.repeat_secs,
            enabled: row.enabled == 1,
            created_at: rfc3339(row.created_at),
        }
    }
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

/// A rule as stored, once checked.
struct CheckedRule {
    name: String,
    condition: Condition,
    threshold: i64,
    window_secs: i64,
    severity: Severity,
    repeat_secs: i64,
}

impl CheckedRule {
    fn terms<'a>(&'a self, contact_group_id: &'a str) -> RuleTerms<'a> {
        RuleTerms {
            name: &self.name,
            threshold: self.threshold,
            window_secs: self.window_secs,
            severity: self.severity,
            contact_group_id,
            repeat_secs: self.repeat_secs,
        }
    }
}

/// Checks a rule's fields (each against its condition's range, defaults filled in) and
/// that its contact group and deployment are the project's, inside `write`.
async fn check_rule(write: &mut ProjectWrite, body: &NewAlertRule) -> Result<CheckedRule, Error> {
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
    if !write
        .contact_groups()
        .exists(&body.contact_group_id)
        .await?
    {
        return Err(Error::invalid(
            "contact_group_id",
            "not a contact group of this project",
        ));
    }
    if let Some(d) = &body.deployment_id {
        if !write.alert_rules().is_project_deployment(d).await? {
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
    access: ProjectGuard<can::Deploy>,
    Json(body): Json<NewAlertRule>,
) -> ApiResult<(StatusCode, JsonResponse<AlertRule>)> {
    let mut write = access.scope().write().await?;
    let rule = check_rule(&mut write, &body).await?;
    let row = write
        .alert_rules()
        .insert(
            body.deployment_id.as_deref(),
            rule.condition.as_str(),
            &rule.terms(&body.contact_group_id),
            access.user_id(),
        )
        .await?;
    write.commit().await?;
    Ok((StatusCode::CREATED, JsonResponse(row.into())))
}

#[utoipa::path(get, path = "/projects/{project_id}/alert-rules", tag = "alerts", params(("project_id" = String, Path)),
    responses((status = 200, body = Vec<AlertRule>), (status = 404, body = ErrorBody)))]
pub async fn list_alert_rules(
    access: ProjectGuard<can::Read>,
) -> ApiResult<JsonResponse<Vec<AlertRule>>> {
    let rows = access.scope().alert_rules().list().await?;
    Ok(JsonResponse(
        rows.into_iter().map(AlertRule::from).collect(),
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

/// Changes a rule (its condition and deployment stay: another watch is another rule),
/// checked as a new one would be, or turns it on or off. What it has firing ends now,
/// unannounced, when it is turned off or its threshold or window change: the next pass
/// judges by the new ones.
#[utoipa::path(patch, path = "/projects/{project_id}/alert-rules/{rule_id}", tag = "alerts",
    params(("project_id" = String, Path), ("rule_id" = String, Path)), request_body = RuleChange,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_alert_rule(
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, rule_id)): Path<(String, String)>,
    Json(change): Json<RuleChange>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    let current = write.alert_rules().get(&rule_id).await?;
    let (stored_threshold, stored_window) = (current.threshold, current.window_secs);
    let merged = NewAlertRule {
        name: change.name.unwrap_or(current.name),
        deployment_id: current.deployment_id,
        condition: current.condition,
        threshold: Some(change.threshold.unwrap_or(current.threshold)),
        window_secs: Some(change.window_secs.unwrap_or(current.window_secs)),
        severity: Some(
            change
                .severity
                .unwrap_or_else(|| current.severity.as_str().to_owned()),
        ),
        contact_group_id: change.contact_group_id.unwrap_or(current.contact_group_id),
        repeat_secs: Some(change.repeat_secs.unwrap_or(current.repeat_secs)),
    };
    let rule = check_rule(&mut write, &merged).await?;
    let enabled = change.enabled.unwrap_or(current.enabled == 1);
    // What the condition is judged by; a new name, severity, group or reminder changes
    // how it is told, and a firing alert goes on under them.
    let terms_change = rule.threshold != stored_threshold || rule.window_secs != stored_window;
    write
        .alert_rules()
        .update(&rule_id, &rule.terms(&merged.contact_group_id), enabled)
        .await?;
    if !enabled || terms_change {
        write.alert_rules().resolve_firing(&rule_id).await?;
    }
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/projects/{project_id}/alert-rules/{rule_id}", tag = "alerts",
    params(("project_id" = String, Path), ("rule_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_alert_rule(
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, rule_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    write.alert_rules().delete(&rule_id).await?;
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
