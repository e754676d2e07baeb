//! What a deployment would cost: the price of its CU before it is created.

use axum::extract::State;
use axum::Json as JsonResponse;
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

use super::{cu, cu_milli, MAX_PARALLELISM};
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Json;
use crate::AppState;
use store::db::now_ms;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostPreviewRequest {
    /// 1 to 64 (default 1).
    #[schema(minimum = 1, maximum = 64)]
    pub parallelism: Option<i64>,
    /// A multiple of 0.25 from 0.25 to 16 (default 1).
    #[schema(minimum = 0.25, maximum = 16, multiple_of = 0.25)]
    pub cu_per_task: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct CostPreview {
    /// `payg` or `subscription`.
    pub billing_model: String,
    pub total_cu: f64,
    /// Pay-as-you-go: what one full hour of running costs (compute + management fee).
    pub hourly_compute: Option<String>,
    pub hourly_management: Option<String>,
    pub hourly_total: Option<String>,
    pub currency: String,
    /// Subscription: purchased CU, CU held by running deployments, and whether this fits.
    pub purchased_cu: Option<f64>,
    pub cu_in_use: Option<f64>,
    pub fits: bool,
}

/// What running a deployment of this size would cost (pay-as-you-go) or whether it fits
/// the purchased capacity (subscription), before deploying it.
#[utoipa::path(post, path = "/projects/{project_id}/deployments/cost-preview", tag = "deployments",
    params(("project_id" = String, Path)), request_body = CostPreviewRequest,
    responses((status = 200, body = CostPreview), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview_cost(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Json(body): Json<CostPreviewRequest>,
) -> ApiResult<JsonResponse<CostPreview>> {
    let parallelism = body.parallelism.unwrap_or(1);
    if !(1..=MAX_PARALLELISM).contains(&parallelism) {
        return Err(Error::invalid(
            "parallelism",
            format!("parallelism must be between 1 and {MAX_PARALLELISM}, got {parallelism}"),
        )
        .into());
    }
    let total_milli = parallelism * cu_milli("cu_per_task", body.cu_per_task.unwrap_or(1.0))?;
    let pricing = &state.pricing;
    let currency = pricing.currency.code().to_owned();
    let subscription = access
        .scope()
        .capacity()
        .purchased_and_in_use(now_ms())
        .await?
        .map(|(purchased, in_use)| (purchased.total(), in_use));
    if let Some((purchased, in_use)) = subscription {
        return Ok(JsonResponse(CostPreview {
            billing_model: "subscription".to_owned(),
            total_cu: cu(total_milli),
            hourly_compute: None,
            hourly_management: None,
            hourly_total: None,
            currency,
            purchased_cu: Some(cu(purchased)),
            cu_in_use: Some(cu(in_use)),
            fits: in_use + total_milli <= purchased,
        }));
    }
    let now = chrono::Utc::now();
    let hour = billing::period::Window {
        start: now,
        end: now + chrono::Duration::hours(1),
    };
    let run = [billing::meter::RunInterval {
        start: hour.start,
        end: Some(hour.end),
        cu_milli: total_milli,
    }];
    let rate = pricing
        .book
        .at(now)
        .map_err(|e| Error::internal(e.to_string()))?;
    let charge = billing::meter::rate_hour(
        &run,
        hour,
        hour.end,
        rate,
        billing::meter::Granularity::Second,
    )
    .map_err(|e| Error::internal(e.to_string()))?;
    let total = charge.total().map_err(|e| Error::internal(e.to_string()))?;
    Ok(JsonResponse(CostPreview {
        billing_model: "payg".to_owned(),
        total_cu: cu(total_milli),
        hourly_compute: Some(charge.compute.major()),
        hourly_management: Some(charge.management.major()),
        hourly_total: Some(total.major()),
        currency,
        purchased_cu: None,
        cu_in_use: None,
        fits: true,
    }))
}
