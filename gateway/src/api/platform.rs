//! Platform operators' API: product-form and engine-version lifecycles and their impact
//! across all accounts. Every change is checked against the policy and audited (the
//! audit middleware records it under the operator's current account).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

use crate::access::PlatformAdmin;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;

fn instant(field: &str, raw: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::invalid(field, format!("{field} must be an RFC 3339 instant: {e}")))
}

/// A schedule's announcement instant is when Sluice records it (its own clock), so a
/// request cannot backdate it: one that sends `announced_at` is refused.
fn no_announced_at(sent: &Option<serde_json::Value>) -> Result<(), Error> {
    match sent {
        None => Ok(()),
        Some(_) => Err(Error::invalid(
            "announced_at",
            "announced_at is not accepted: a schedule is announced when Sluice records it, and its notice is measured from then",
        )),
    }
}

/// A product form's milestones. The announcement is the instant Sluice records the
/// request; no milestone may be earlier than already announced.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductFormSchedule {
    /// Refused if sent (the announcement instant is Sluice's own).
    #[serde(default)]
    #[schema(ignore)]
    pub announced_at: Option<serde_json::Value>,
    pub eom1: String,
    pub eom2: String,
    pub eofs: String,
    pub eos: String,
}

/// Publishes a product form's milestones, announced now (at least 4 months before
/// each; none earlier than already announced); affected owners and admins get a notice,
/// and the schedule is kept in the form's history.
#[utoipa::path(put, path = "/platform/product-forms/{name}", tag = "platform", params(("name" = String, Path)),
    request_body = ProductFormSchedule,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_product_form(
    State(state): State<AppState>,
    operator: PlatformAdmin,
    Path(name): Path<String>,
    Json(body): Json<ProductFormSchedule>,
) -> ApiResult<StatusCode> {
    let name = store::names::Name::parse("name", &name)?;
    no_announced_at(&body.announced_at)?;
    let schedule = lifecycle::ProductSchedule {
        announced_at: Utc::now(),
        eom1: instant("eom1", &body.eom1)?,
        eom2: instant("eom2", &body.eom2)?,
        eofs: instant("eofs", &body.eofs)?,
        eos: instant("eos", &body.eos)?,
    };
    domain::product_forms::publish_schedule(
        &state.db,
        name.as_str(),
        &schedule,
        operator.principal.user_id(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An engine version's milestones, announced when Sluice records the request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineVersionSchedule {
    pub flink_version: String,
    /// Refused if sent (the announcement instant is Sluice's own).
    #[serde(default)]
    #[schema(ignore)]
    pub announced_at: Option<serde_json::Value>,
    pub ga: String,
    pub eogs: String,
    pub eofs: String,
    pub eos: String,
    #[serde(default)]
    pub pulled: bool,
}

/// Publishes an engine version's lifecycle (or pulls it), announced now (at least 3
/// months before each milestone; none earlier than already announced); affected owners
/// and admins get a notice, and the schedule is kept in the version's history.
#[utoipa::path(put, path = "/platform/engine-versions/{label}", tag = "platform", params(("label" = String, Path)),
    request_body = EngineVersionSchedule,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_engine_version(
    State(state): State<AppState>,
    operator: PlatformAdmin,
    Path(label): Path<String>,
    Json(body): Json<EngineVersionSchedule>,
) -> ApiResult<StatusCode> {
    let parts: Vec<&str> = label.split('.').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(Error::invalid(
            "label",
            "an engine version label is major.major.minor, e.g. 1.0.3",
        )
        .into());
    }
    no_announced_at(&body.announced_at)?;
    let version = lifecycle::EngineVersion {
        label,
        flink_version: body.flink_version,
        announced_at: Utc::now(),
        ga: instant("ga", &body.ga)?,
        eogs: instant("eogs", &body.eogs)?,
        eofs: instant("eofs", &body.eofs)?,
        eos: instant("eos", &body.eos)?,
        pulled: body.pulled,
    };
    domain::product_forms::publish_engine_version(
        &state.db,
        &version,
        operator.principal.user_id(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn at_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// One published schedule of a product form.
#[derive(Serialize, ToSchema)]
pub struct ProductFormScheduleVersion {
    /// 1 for the first publication, then one more for each.
    pub version: i64,
    /// When Sluice recorded the announcement.
    pub announced_at: DateTime<Utc>,
    /// The operator who published it (absent: the command line).
    pub announced_by: Option<String>,
    pub eom1: DateTime<Utc>,
    pub eom2: DateTime<Utc>,
    pub eofs: DateTime<Utc>,
    pub eos: DateTime<Utc>,
}

/// Every schedule published for a product form, oldest first.
#[utoipa::path(get, path = "/platform/product-forms/{name}/history", tag = "platform", params(("name" = String, Path)),
    responses((status = 200, body = Vec<ProductFormScheduleVersion>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn product_form_history(
    State(state): State<AppState>,
    _operator: PlatformAdmin,
    Path(name): Path<String>,
) -> ApiResult<JsonResponse<Vec<ProductFormScheduleVersion>>> {
    let rows = store::product_forms::product_form_history(&state.db, &name).await?;
    if rows.is_empty() {
        return Err(Error::not_found("product form schedule").into());
    }
    Ok(JsonResponse(
        rows.into_iter()
            .map(|r| ProductFormScheduleVersion {
                version: r.version,
                announced_at: at_ms(r.announced_at),
                announced_by: Some(r.announced_by).filter(|b| !b.is_empty()),
                eom1: at_ms(r.eom1),
                eom2: at_ms(r.eom2),
                eofs: at_ms(r.eofs),
                eos: at_ms(r.eos),
            })
            .collect(),
    ))
}

/// One published schedule of an engine version.
#[derive(Serialize, ToSchema)]
pub struct EngineVersionScheduleVersion {
    pub version: i64,
    pub flink_version: String,
    /// When Sluice recorded the announcement.
    pub announced_at: DateTime<Utc>,
    /// The operator who published it (absent: the command line).
    pub announced_by: Option<String>,
    pub ga: DateTime<Utc>,
    pub eogs: DateTime<Utc>,
    pub eofs: DateTime<Utc>,
    pub eos: DateTime<Utc>,
    pub pulled: bool,
}

/// Every schedule published for an engine version, oldest first.
#[utoipa::path(get, path = "/platform/engine-versions/{label}/history", tag = "platform", params(("label" = String, Path)),
    responses((status = 200, body = Vec<EngineVersionScheduleVersion>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn engine_version_history(
    State(state): State<AppState>,
    _operator: PlatformAdmin,
    Path(label): Path<String>,
) -> ApiResult<JsonResponse<Vec<EngineVersionScheduleVersion>>> {
    let rows = store::product_forms::engine_version_history(&state.db, &label).await?;
    if rows.is_empty() {
        return Err(Error::not_found("engine version").into());
    }
    Ok(JsonResponse(
        rows.into_iter()
            .map(|r| EngineVersionScheduleVersion {
                version: r.version,
                flink_version: r.schedule.flink_version,
                announced_at: at_ms(r.schedule.announced_at),
                announced_by: Some(r.announced_by).filter(|b| !b.is_empty()),
                ga: at_ms(r.schedule.ga),
                eogs: at_ms(r.schedule.eogs),
                eofs: at_ms(r.schedule.eofs),
                eos: at_ms(r.schedule.eos),
                pulled: r.schedule.pulled,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AffectedDeployment {
    pub account_id: String,
    pub project_id: String,
    pub deployment_id: String,
    pub desired_state: String,
}

#[derive(Serialize, ToSchema)]
pub struct EngineImpact {
    pub label: String,
    /// Every deployment on a cluster that runs this version, across accounts.
    pub deployments: Vec<AffectedDeployment>,
    /// What each must do, and by when.
    pub action: String,
    pub by: Option<DateTime<Utc>>,
}

/// Every account, project and deployment an engine version's lifecycle affects.
#[utoipa::path(get, path = "/platform/engine-versions/{label}/impact", tag = "platform", params(("label" = String, Path)),
    responses((status = 200, body = EngineImpact), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn engine_impact(
    State(state): State<AppState>,
    _operator: PlatformAdmin,
    Path(label): Path<String>,
) -> ApiResult<JsonResponse<EngineImpact>> {
    let versions = domain::product_forms::engine_versions(&state.db).await?;
    let version = versions
        .iter()
        .find(|v| v.label == label)
        .ok_or_else(|| Error::not_found("engine version"))?;
    let rows = store::accounts::deployments_on_engine(&state.db, &label).await?;
    let advice = lifecycle::upgrade_advice(version, &versions, Utc::now());
    Ok(JsonResponse(EngineImpact {
        label: label.clone(),
        deployments: rows
            .into_iter()
            .map(|row| AffectedDeployment {
                account_id: row.account_id,
                project_id: row.project_id,
                deployment_id: row.deployment_id,
                desired_state: row.desired_state,
            })
            .collect(),
        action: match advice {
            Some(a) if a.needs_review => format!("upgrade to {} (a new major: review first)", a.to),
            Some(a) => format!("upgrade to {}", a.to),
            None => "move to a supported engine version".to_owned(),
        },
        by: Some(version.eos),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct AffectedProject {
    pub account_id: String,
    pub project_id: String,
    /// `payg` or `subscription`.
    pub billing_model: String,
    /// A subscription's term end: renewing past EOFS is refused.
    pub term_end: Option<DateTime<Utc>>,
    /// Deployments of the project meant to run now; they stop at EOS.
    pub running_deployments: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ProductFormImpact {
    pub name: String,
    /// The stage now: `GA`, `EOM1`, `EOM2`, `EOFS` or `EOS`.
    pub stage: String,
    /// Every project of the form, across accounts.
    pub projects: Vec<AffectedProject>,
    /// The next milestone and its date, if one is still ahead.
    pub next_milestone: Option<String>,
    pub next_milestone_at: Option<DateTime<Utc>>,
    /// What each project must do, and by when.
    pub action: String,
    pub by: DateTime<Utc>,
}

/// Every account and project a product form's lifecycle affects.
#[utoipa::path(get, path = "/platform/product-forms/{name}/impact", tag = "platform", params(("name" = String, Path)),
    responses((status = 200, body = ProductFormImpact), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn product_form_impact(
    State(state): State<AppState>,
    _operator: PlatformAdmin,
    Path(name): Path<String>,
) -> ApiResult<JsonResponse<ProductFormImpact>> {
    let row = store::accounts::form_schedule(&state.db, &name)
        .await?
        .ok_or_else(|| Error::not_found("product form schedule"))?;
    let at = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap_or_default();
    let schedule = lifecycle::ProductSchedule {
        announced_at: at(row.announced_at),
        eom1: at(row.eom1),
        eom2: at(row.eom2),
        eofs: at(row.eofs),
        eos: at(row.eos),
    };
    let now = Utc::now();
    let (stage, _) = schedule.stage_at(now);
    let next = [
        ("EOM1", schedule.eom1),
        ("EOM2", schedule.eom2),
        ("EOFS", schedule.eofs),
        ("EOS", schedule.eos),
    ]
    .into_iter()
    .find(|(_, t)| *t > now);
    let rows = store::accounts::projects_of_form(&state.db, &name).await?;
    Ok(JsonResponse(ProductFormImpact {
        name,
        stage: serde_json::to_value(stage)
            .ok()
            .and_then(|s| s.as_str().map(str::to_owned))
            .unwrap_or_default(),
        projects: rows
            .into_iter()
            .map(|row| AffectedProject {
                account_id: row.account_id,
                project_id: row.project_id,
                billing_model: row.billing_model,
                term_end: row.term_end.map(at),
                running_deployments: row.running_deployments,
            })
            .collect(),
        next_milestone: next.map(|(m, _)| m.to_owned()),
        next_milestone_at: next.map(|(_, t)| t),
        action: "move the project's workloads to the product form's successor".to_owned(),
        by: schedule.eos,
    }))
}
