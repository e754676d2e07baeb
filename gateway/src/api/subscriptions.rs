//! A subscription's automatic renewal, as the account's owners and billing managers set
//! it: on, the subscription is renewed from the balance `subscriptions.auto_renew_days_before`
//! days before its term ends, for its renewal months (the subscription worker does it).

use axum::extract::{Path, State};
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::db::now_ms;
use store::subscriptions::AutoRenewRow;
use store::Error;
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Json;
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct AutoRenew {
    pub project_id: String,
    /// Renewed automatically from the balance before the term ends.
    pub enabled: bool,
    /// Months each automatic renewal buys.
    pub months: i64,
    /// When the current term ends.
    pub term_end: DateTime<Utc>,
    /// When an automatic renewal is first tried (each day after it until the end while
    /// the balance is short).
    pub renews_at: DateTime<Utc>,
}

fn shown(state: &AppState, row: AutoRenewRow) -> AutoRenew {
    let days = state.config.subscriptions.auto_renew_days_before;
    AutoRenew {
        project_id: row.project_id,
        enabled: row.auto_renew == 1,
        months: row.renewal_months,
        term_end: rfc3339(row.term_end),
        renews_at: rfc3339(row.term_end - days * billing::term::DAY_MS),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAutoRenew {
    pub enabled: bool,
    /// Months each automatic renewal buys, 1 to 36 (1 when not given).
    #[schema(minimum = 1, maximum = 36)]
    pub months: Option<i64>,
}

/// Whether the project's subscription renews itself.
#[utoipa::path(get, path = "/account/subscriptions/{project_id}/auto-renew", tag = "billing",
    params(("project_id" = String, Path)),
    responses((status = 200, body = AutoRenew), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`not_subscribed`: the project is pay-as-you-go")))]
pub async fn get_auto_renew(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadBilling>,
    Path(project_id): Path<String>,
) -> ApiResult<JsonResponse<AutoRenew>> {
    let row = access.scope().auto_renew(&project_id).await?;
    Ok(JsonResponse(shown(&state, row)))
}

/// Turns the project's subscription's automatic renewal on or off.
#[utoipa::path(put, path = "/account/subscriptions/{project_id}/auto-renew", tag = "billing",
    params(("project_id" = String, Path)), request_body = SetAutoRenew,
    responses((status = 200, body = AutoRenew), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`not_subscribed`: the project is pay-as-you-go"), (status = 422, body = ErrorBody)))]
pub async fn set_auto_renew(
    State(state): State<AppState>,
    access: AccountGuard<can::account::PayBilling>,
    Path(project_id): Path<String>,
    Json(body): Json<SetAutoRenew>,
) -> ApiResult<JsonResponse<AutoRenew>> {
    let months = body.months.unwrap_or(1);
    if !billing::order::MONTHS.contains(&months) {
        return Err(Error::invalid(
            "months",
            format!(
                "months must be whole months from {} to {}, got {months}",
                billing::order::MONTHS.start(),
                billing::order::MONTHS.end()
            ),
        )
        .into());
    }
    let mut write = access.scope().write().await?;
    let row = write
        .subscription_settings()
        .set_auto_renew(&project_id, body.enabled, months, now_ms())
        .await?;
    write.commit().await?;
    Ok(JsonResponse(shown(&state, row)))
}
