//! Lifecycles as users see them: each engine version's stage and what to upgrade to.

use axum::extract::{Path, State};
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::lifecycle_impact::{DeploymentEngineRow, ProjectFormRow};
use store::Error;
use utoipa::ToSchema;

use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct EngineVersionView {
    pub label: String,
    pub flink_version: String,
    /// GA, EOGS (no new features), EOFS (no support, upgrade advised) or EOS (retired).
    pub stage: String,
    pub ga: DateTime<Utc>,
    pub eogs: DateTime<Utc>,
    pub eofs: DateTime<Utc>,
    pub eos: DateTime<Utc>,
    /// Pulled for a defect: no new deployments.
    pub pulled: bool,
    /// The version to move to, if one is newer.
    pub upgrade_to: Option<String>,
    /// The advice changes the major version: review before upgrading.
    pub upgrade_needs_review: bool,
}

/// Every scheduled engine version with its stage now and upgrade advice.
#[utoipa::path(get, path = "/engine-versions", tag = "clusters",
    responses((status = 200, body = Vec<EngineVersionView>), (status = 401, body = ErrorBody)))]
pub async fn list_engine_versions(
    State(state): State<AppState>,
    _access: AccountGuard<can::account::Read>,
) -> ApiResult<JsonResponse<Vec<EngineVersionView>>> {
    let versions = domain::product_forms::engine_versions(&state.db).await?;
    let now = Utc::now();
    Ok(JsonResponse(
        versions
            .iter()
            .map(|v| {
                let advice = lifecycle::upgrade_advice(v, &versions, now);
                EngineVersionView {
                    label: v.label.clone(),
                    flink_version: v.flink_version.clone(),
                    stage: serde_json::to_value(v.stage_at(now))
                        .ok()
                        .and_then(|s| s.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    ga: v.ga,
                    eogs: v.eogs,
                    eofs: v.eofs,
                    eos: v.eos,
                    pulled: v.pulled,
                    upgrade_needs_review: advice.as_ref().is_some_and(|a| a.needs_review),
                    upgrade_to: advice.map(|a| a.to),
                }
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct EngineVersionConnectors {
    pub label: String,
    pub flink_version: String,
    /// Connectors first, then formats, each sorted by identifier.
    pub connectors: Vec<domain::engine::connectors::Connector>,
}

/// The connectors and formats that clusters of an engine version carry: the engine's
/// own and the platform's catalogue for its Flink version. A table's `'connector'` or
/// `'format'` option may name any of them.
#[utoipa::path(get, path = "/engine-versions/{label}/connectors", tag = "clusters",
    params(("label" = String, Path, description = "The engine version's label")),
    responses((status = 200, body = EngineVersionConnectors), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn engine_version_connectors(
    State(state): State<AppState>,
    access: AccountGuard<can::account::Read>,
    Path(label): Path<String>,
) -> ApiResult<JsonResponse<EngineVersionConnectors>> {
    // A scheduled version names its Flink version, and so does the platform's default;
    // any other is known from the clusters of this account that run it.
    let scheduled = domain::product_forms::engine_versions(&state.db)
        .await?
        .into_iter()
        .find(|v| v.label == label)
        .map(|v| v.flink_version);
    let engine = &state.config.engine;
    let flink_version = match scheduled {
        Some(flink_version) => flink_version,
        None if label == engine.default_engine_version => engine.default_flink_version.clone(),
        None => access
            .scope()
            .clusters()
            .flink_version_of(&label)
            .await?
            .ok_or_else(|| Error::not_found("engine version"))?,
    };
    Ok(JsonResponse(EngineVersionConnectors {
        connectors: state.connectors.for_flink_version(&flink_version),
        label,
        flink_version,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ImpactItem {
    pub project_id: String,
    /// Absent for product-form items.
    pub deployment_id: Option<String>,
    /// `product_form` or `engine_version`.
    pub subject: String,
    /// The form's name or the engine version's label.
    pub name: String,
    pub stage: String,
    /// What to do, and the date it must be done by.
    pub action: String,
    pub by: Option<DateTime<Utc>>,
}

/// Everything of the caller's account that a lifecycle schedule affects: projects on a
/// retiring product form and deployments on an engine version past GA or pulled.
#[utoipa::path(get, path = "/account/lifecycle-impact", tag = "clusters",
    responses((status = 200, body = Vec<ImpactItem>), (status = 401, body = ErrorBody)))]
pub async fn lifecycle_impact(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadAccountWide>,
) -> ApiResult<JsonResponse<Vec<ImpactItem>>> {
    let now = Utc::now();
    let mut items = Vec::new();
    let impact = access.scope().lifecycle_impact();
    for form in impact.project_forms().await? {
        let ProjectFormRow {
            project_id,
            product_form: name,
            announced_at: announced,
            eom1,
            eom2,
            eofs,
            eos,
        } = form;
        let at = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap_or_default();
        let schedule = lifecycle::ProductSchedule {
            announced_at: at(announced),
            eom1: at(eom1),
            eom2: at(eom2),
            eofs: at(eofs),
            eos: at(eos),
        };
        let (stage, _) = schedule.stage_at(now);
        items.push(ImpactItem {
            project_id,
            deployment_id: None,
            subject: "product_form".to_owned(),
            name,
            stage: serde_json::to_value(stage)
                .ok()
                .and_then(|s| s.as_str().map(str::to_owned))
                .unwrap_or_default(),
            action: "move the project's workloads to the product form's successor".to_owned(),
            by: Some(schedule.eos),
        });
    }
    let versions = domain::product_forms::engine_versions(&state.db).await?;
    for deployment in impact.deployment_engines().await? {
        let DeploymentEngineRow {
            project_id,
            deployment_id,
            engine_version: label,
        } = deployment;
        let Some(version) = versions.iter().find(|v| v.label == label) else {
            continue;
        };
        let stage = version.stage_at(now);
        if stage == lifecycle::EngineStage::Ga && !version.pulled {
            continue;
        }
        let advice = lifecycle::upgrade_advice(version, &versions, now);
        let action = match &advice {
            Some(a) if a.needs_review => format!(
                "upgrade to engine version {} (a new major: review the job first)",
                a.to
            ),
            Some(a) => format!("upgrade to engine version {}", a.to),
            None => "move to a supported engine version".to_owned(),
        };
        items.push(ImpactItem {
            project_id,
            deployment_id: Some(deployment_id),
            subject: "engine_version".to_owned(),
            name: label,
            stage: serde_json::to_value(stage)
                .ok()
                .and_then(|s| s.as_str().map(str::to_owned))
                .unwrap_or_default(),
            action,
            by: Some(version.eos),
        });
    }
    Ok(JsonResponse(items))
}
