//! Lifecycles as users see them: each engine version's stage and what to upgrade to.

use axum::extract::State;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
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
    let versions = crate::product_forms::engine_versions(&state.db).await?;
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
