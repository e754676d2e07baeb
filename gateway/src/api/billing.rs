//! Billing as account owners and billing managers see it: the account's billing
//! settings, the hourly pay-as-you-go charges (immutable once written) and usage.

use axum::extract::State;
use axum::Json as JsonResponse;
use billing::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::rfc3339;
use crate::access::{can, AccountGuard};
use crate::billing::parse_zone;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::AppState;

/// Most hours one listing returns.
const MAX_HOURS: i64 = 24 * 62;

#[derive(Serialize, ToSchema)]
pub struct BillingSettings {
    /// IANA zone billing hours and months are cut in.
    pub billing_time_zone: String,
    pub currency: String,
    /// `minute` or `second`.
    pub granularity: String,
    /// The pay-as-you-go price of one CU-hour now, in major units.
    pub cu_hour_price: String,
}

async fn settings(
    state: &AppState,
    account: &crate::access::AccountId,
) -> Result<BillingSettings, ApiError> {
    let (zone,): (String,) = sqlx::query_as("select billing_time_zone from accounts where id = $1")
        .bind(account.as_str())
        .fetch_one(&state.db.pool)
        .await?;
    let pricing = &state.pricing;
    let price = pricing
        .book
        .at(Utc::now())
        .map(|r| {
            let micro = r.micro_minor_per_cu_hour();
            let per = 10_i128.pow(u32::from(pricing.currency.exponent()) + 6);
            let places = usize::from(pricing.currency.exponent()) + 6;
            let text = format!("{}.{:0places$}", micro / per, micro % per);
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        })
        .unwrap_or_default();
    Ok(BillingSettings {
        billing_time_zone: zone,
        currency: pricing.currency.code().to_owned(),
        granularity: state.config.billing.granularity.clone(),
        cu_hour_price: price,
    })
}

#[utoipa::path(get, path = "/account/billing", tag = "billing",
    responses((status = 200, body = BillingSettings), (status = 403, body = ErrorBody)))]
pub async fn get_billing(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadBilling>,
) -> ApiResult<JsonResponse<BillingSettings>> {
    Ok(JsonResponse(settings(&state, access.account()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBilling {
    /// IANA zone, e.g. `Asia/Shanghai`; applies to hours not billed yet.
    pub billing_time_zone: String,
}

#[utoipa::path(patch, path = "/account/billing", tag = "billing", request_body = UpdateBilling,
    responses((status = 200, body = BillingSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_billing(
    State(state): State<AppState>,
    access: AccountGuard<can::account::PayBilling>,
    Json(body): Json<UpdateBilling>,
) -> ApiResult<JsonResponse<BillingSettings>> {
    parse_zone(&body.billing_time_zone)?;
    sqlx::query("update accounts set billing_time_zone = $1 where id = $2")
        .bind(&body.billing_time_zone)
        .bind(access.account().as_str())
        .execute(&state.db.pool)
        .await?;
    Ok(JsonResponse(settings(&state, access.account()).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HoursQuery {
    /// RFC 3339; hours starting at or after it.
    pub from: String,
    /// RFC 3339; hours starting before it (at most 62 days after `from`).
    pub to: String,
    pub project_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PaygHour {
    pub project_id: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// CU-hours used as rated, exact decimal text.
    pub cu_hours: String,
    pub compute: String,
    pub management: String,
    pub total: String,
    pub currency: String,
}

#[derive(Serialize, ToSchema)]
pub struct PaygHours {
    pub items: Vec<PaygHour>,
    /// The sum of the rounded lines above.
    pub total: String,
    pub currency: String,
}

fn instant(field: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ApiError::invalid(field, format!("{field} must be an RFC 3339 instant: {e}")))
}

/// Milli-CU x milliseconds as CU-hours, exact to the decimal places that exist.
fn cu_hours(cu_millis: &str) -> String {
    let Ok(units) = cu_millis.parse::<i128>() else {
        return "0".to_owned();
    };
    // 1 CU-hour = 1000 milli-CU x 3,600,000 ms; ten decimals are exact for ms precision.
    let per: i128 = 3_600_000_000;
    let scaled = units * 10_000_000_000 / per;
    let text = format!(
        "{}.{:010}",
        scaled / 10_000_000_000,
        scaled % 10_000_000_000
    );
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Hourly pay-as-you-go charges of the account, oldest first, with their total.
#[utoipa::path(get, path = "/account/billing/hours", tag = "billing", params(HoursQuery),
    responses((status = 200, body = PaygHours), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_hours(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadBilling>,
    Query(q): Query<HoursQuery>,
) -> ApiResult<JsonResponse<PaygHours>> {
    let (from, to) = (instant("from", &q.from)?, instant("to", &q.to)?);
    if to <= from || (to - from).num_hours() > MAX_HOURS {
        return Err(ApiError::invalid(
            "to",
            "to must be after from and at most 62 days later",
        ));
    }
    let rows: Vec<(String, i64, i64, String, i64, i64)> = sqlx::query_as(
        "select project_id, window_start, window_end, cu_millis, compute_minor, management_minor from payg_hours
          where account_id = $1 and window_start >= $2 and window_start < $3 and ($4 = '' or project_id = $4)
          order by window_start, project_id",
    )
    .bind(access.account().as_str())
    .bind(from.timestamp_millis())
    .bind(to.timestamp_millis())
    .bind(q.project_id.unwrap_or_default())
    .fetch_all(&state.db.pool)
    .await?;
    let currency = state.pricing.currency;
    let mut total = Money::zero(currency);
    let mut items = Vec::with_capacity(rows.len());
    for (project_id, start, end, cu_millis, compute, management) in rows {
        let line = Money::from_minor(compute, currency)
            .checked_add(Money::from_minor(management, currency))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        total = total
            .checked_add(line)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        items.push(PaygHour {
            project_id,
            window_start: rfc3339(start),
            window_end: rfc3339(end),
            cu_hours: cu_hours(&cu_millis),
            compute: Money::from_minor(compute, currency).major(),
            management: Money::from_minor(management, currency).major(),
            total: line.major(),
            currency: currency.code().to_owned(),
        });
    }
    Ok(JsonResponse(PaygHours {
        items,
        total: total.major(),
        currency: currency.code().to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cu_hours_are_exact_decimal_text() {
        assert_eq!(super::cu_hours("10800000000"), "3");
        assert_eq!(super::cu_hours("5400000"), "0.0015");
        assert_eq!(super::cu_hours("0"), "0");
    }
}
