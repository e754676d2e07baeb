//! Billing as account owners and billing managers see it: the account's billing
//! settings, the hourly pay-as-you-go charges (immutable once written) and usage.

use axum::extract::State;
use axum::Json as JsonResponse;
use billing::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::bills::BillRow;
use store::{AccountScope, Error};
use utoipa::{IntoParams, ToSchema};

use super::rfc3339;
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::AppState;
use domain::balance::parse_zone;

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
    /// When a pay-as-you-go project pays its management fee (2 CU x the CU-hour price):
    /// `every_hour`, or `hours_with_usage` (only hours in which something ran).
    pub management_fee: String,
}

async fn settings(state: &AppState, scope: &AccountScope) -> Result<BillingSettings, Error> {
    let zone = scope.billing().time_zone().await?;
    let pricing = &state.pricing;
    let price = pricing
        .book
        .at(Utc::now())
        .map(|r| r.major())
        .unwrap_or_default();
    Ok(BillingSettings {
        billing_time_zone: zone,
        currency: pricing.currency.code().to_owned(),
        granularity: state.config.billing.granularity.clone(),
        cu_hour_price: price,
        management_fee: state.config.billing.management_fee.clone(),
    })
}

#[utoipa::path(get, path = "/account/billing", tag = "billing",
    responses((status = 200, body = BillingSettings), (status = 403, body = ErrorBody)))]
pub async fn get_billing(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadBilling>,
) -> ApiResult<JsonResponse<BillingSettings>> {
    Ok(JsonResponse(settings(&state, access.scope()).await?))
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
    access
        .scope()
        .billing()
        .set_time_zone(&body.billing_time_zone)
        .await?;
    Ok(JsonResponse(settings(&state, access.scope()).await?))
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

fn instant(field: &str, raw: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::invalid(field, format!("{field} must be an RFC 3339 instant: {e}")))
}

/// Decimal text of milli-CU x milliseconds stored as text, as CU-hours.
fn cu_hours(cu_millis: &str) -> String {
    billing::meter::cu_hours_text(cu_millis.parse::<i128>().unwrap_or(0))
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
        return Err(Error::invalid("to", "to must be after from and at most 62 days later").into());
    }
    let rows = access
        .scope()
        .billing()
        .hours(
            from.timestamp_millis(),
            to.timestamp_millis(),
            q.project_id.as_deref(),
        )
        .await?;
    let currency = state.pricing.currency;
    let mut total = Money::zero(currency);
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let (compute, management) = (row.compute_minor, row.management_minor);
        let line = Money::from_minor(compute, currency)
            .checked_add(Money::from_minor(management, currency))
            .map_err(|e| Error::internal(e.to_string()))?;
        total = total
            .checked_add(line)
            .map_err(|e| Error::internal(e.to_string()))?;
        items.push(PaygHour {
            project_id: row.project_id,
            window_start: rfc3339(row.window_start),
            window_end: rfc3339(row.window_end),
            cu_hours: cu_hours(&row.cu_millis),
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

#[derive(Serialize, ToSchema)]
pub struct Bill {
    pub id: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub billing_time_zone: String,
    pub currency: String,
    /// The sum of the lines.
    pub total: String,
    /// The order lines' sum, paid from the balance when each order was placed.
    pub prepaid: String,
    /// What the bill charges the balance: total less prepaid.
    pub due: String,
    pub issued_at: DateTime<Utc>,
    pub lines: Vec<BillLine>,
    /// Corrections: the bill itself never changes.
    pub credit_notes: Vec<CreditNote>,
}

#[derive(Serialize, ToSchema)]
pub struct CreditNote {
    pub id: String,
    pub amount: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct BillLine {
    pub project_id: String,
    /// `payg_compute`, `payg_management` or `order`.
    pub kind: String,
    pub description: String,
    /// CU-hours for compute lines.
    pub quantity: String,
    pub amount: String,
    /// How many hourly rows (see /account/billing/hours) this line sums.
    pub hour_count: i64,
    /// The order an `order` line is (see /account/balance/transactions).
    pub order_id: Option<String>,
}

async fn load_bill(scope: &AccountScope, row: BillRow) -> Result<Bill, Error> {
    let currency = billing::money::Currency::parse(&row.currency)
        .map_err(|e| Error::internal(e.to_string()))?;
    let lines = scope.billing().lines(&row.id).await?;
    let notes = scope.billing().credit_notes(&row.id).await?;
    let credit_notes = notes
        .into_iter()
        .map(|note| CreditNote {
            id: note.id,
            amount: Money::from_minor(note.amount_minor, currency).major(),
            reason: note.reason,
            created_at: rfc3339(note.created_at),
        })
        .collect();
    let (total, prepaid) = (row.total_minor, row.prepaid_minor);
    Ok(Bill {
        credit_notes,
        id: row.id,
        period_start: rfc3339(row.period_start),
        period_end: rfc3339(row.period_end),
        billing_time_zone: row.billing_time_zone,
        currency: currency.code().to_owned(),
        total: Money::from_minor(total, currency).major(),
        prepaid: Money::from_minor(prepaid, currency).major(),
        due: Money::from_minor(total - prepaid, currency).major(),
        issued_at: rfc3339(row.issued_at),
        lines: lines
            .into_iter()
            .map(|line| BillLine {
                project_id: line.project_id,
                kind: line.kind,
                description: line.description,
                quantity: line.quantity,
                amount: Money::from_minor(line.amount_minor, currency).major(),
                hour_count: line.hour_count,
                order_id: line.order_id,
            })
            .collect(),
    })
}

/// The account's monthly bills, newest first.
#[utoipa::path(get, path = "/account/bills", tag = "billing",
    responses((status = 200, body = Vec<Bill>), (status = 403, body = ErrorBody)))]
pub async fn list_bills(
    access: AccountGuard<can::account::ReadBilling>,
) -> ApiResult<JsonResponse<Vec<Bill>>> {
    let scope = access.scope();
    let rows = scope.billing().bills().await?;
    let mut bills = Vec::with_capacity(rows.len());
    for row in rows {
        bills.push(load_bill(scope, row).await?);
    }
    Ok(JsonResponse(bills))
}

async fn find_bill(scope: &AccountScope, bill_id: &str) -> Result<Bill, Error> {
    load_bill(scope, scope.billing().bill(bill_id).await?).await
}

#[utoipa::path(get, path = "/account/bills/{bill_id}", tag = "billing", params(("bill_id" = String, Path)),
    responses((status = 200, body = Bill), (status = 404, body = ErrorBody)))]
pub async fn get_bill(
    access: AccountGuard<can::account::ReadBilling>,
    crate::extract::Path(bill_id): crate::extract::Path<String>,
) -> ApiResult<JsonResponse<Bill>> {
    Ok(JsonResponse(find_bill(access.scope(), &bill_id).await?))
}

/// The bill's lines as CSV, for spreadsheets and accounting.
#[utoipa::path(get, path = "/account/bills/{bill_id}/csv", tag = "billing", params(("bill_id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn download_bill(
    access: AccountGuard<can::account::ReadBilling>,
    crate::extract::Path(bill_id): crate::extract::Path<String>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let bill = find_bill(access.scope(), &bill_id).await?;
    let mut csv = String::from(
        "bill_id,period_start,period_end,project_id,kind,description,quantity,amount,currency,order_id\n",
    );
    for line in &bill.lines {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            bill.id,
            bill.period_start.to_rfc3339(),
            bill.period_end.to_rfc3339(),
            line.project_id,
            line.kind,
            line.description,
            line.quantity,
            line.amount,
            bill.currency,
            line.order_id.as_deref().unwrap_or("")
        ));
    }
    for (label, amount) in [
        ("total", &bill.total),
        ("prepaid", &bill.prepaid),
        ("due", &bill.due),
    ] {
        csv.push_str(&format!(
            "{},,,,{label},,,{amount},{},\n",
            bill.id, bill.currency
        ));
    }
    let disposition = format!("attachment; filename=\"sluice-bill-{}.csv\"", bill.id);
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// RFC 3339 start of the range.
    pub from: String,
    /// RFC 3339 end of the range (at most 62 days after `from`).
    pub to: String,
    /// `hour` or `day` (default), cut in the account's billing time zone.
    pub bucket: Option<String>,
    pub project_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UsagePoint {
    pub bucket_start: DateTime<Utc>,
    pub project_id: String,
    /// Null once the project is deleted (its usage stays).
    pub project_name: Option<String>,
    pub deployment_id: String,
    /// Null once the deployment is deleted (its usage stays).
    pub deployment_name: Option<String>,
    /// CU-hours actually held, exact decimal text (not rated).
    pub cu_hours: String,
}

/// CU-hours used per deployment and time bucket, for charts: exactly what ran, from
/// the recorded run intervals (what was billed is at /account/billing/hours).
#[utoipa::path(get, path = "/account/billing/usage", tag = "billing", params(UsageQuery),
    responses((status = 200, body = Vec<UsagePoint>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn usage(
    access: AccountGuard<can::account::ReadBilling>,
    Query(q): Query<UsageQuery>,
) -> ApiResult<JsonResponse<Vec<UsagePoint>>> {
    let (from, to) = (instant("from", &q.from)?, instant("to", &q.to)?);
    if to <= from || (to - from).num_hours() > MAX_HOURS {
        return Err(Error::invalid("to", "to must be after from and at most 62 days later").into());
    }
    let zone = access.scope().billing().time_zone().await?;
    let tz = parse_zone(&zone)?;
    let buckets = match q.bucket.as_deref().unwrap_or("day") {
        "hour" => billing::period::hours(from, to, tz),
        "day" => billing::period::days(from, to, tz),
        other => {
            return Err(Error::invalid(
                "bucket",
                format!("bucket must be `hour` or `day`, got `{other}`"),
            )
            .into())
        }
    }
    .map_err(|e| Error::internal(e.to_string()))?;
    let rows = access
        .scope()
        .billing()
        .usage(
            from.timestamp_millis(),
            to.timestamp_millis(),
            q.project_id.as_deref(),
        )
        .await?;
    type Names = (Option<String>, Option<String>);
    let mut by_deployment: std::collections::BTreeMap<
        (String, String),
        (Names, Vec<billing::meter::RunInterval>),
    > = std::collections::BTreeMap::new();
    for row in rows {
        if let Some(start) = DateTime::from_timestamp_millis(row.started_at) {
            by_deployment
                .entry((row.project_id, row.deployment_id))
                .or_insert_with(|| ((row.project_name, row.deployment_name), Vec::new()))
                .1
                .push(billing::meter::RunInterval {
                    start,
                    end: row.ended_at.and_then(DateTime::from_timestamp_millis),
                    cu_milli: row.cu_milli,
                });
        }
    }
    let now = Utc::now();
    let mut points = Vec::new();
    for ((project_id, deployment_id), ((project_name, deployment_name), intervals)) in
        &by_deployment
    {
        for bucket in &buckets {
            let used = billing::meter::cu_millis(intervals, *bucket, now);
            if used > 0 {
                points.push(UsagePoint {
                    bucket_start: bucket.start,
                    project_id: project_id.clone(),
                    project_name: project_name.clone(),
                    deployment_id: deployment_id.clone(),
                    deployment_name: deployment_name.clone(),
                    cu_hours: billing::meter::cu_hours_text(used),
                });
            }
        }
    }
    Ok(JsonResponse(points))
}
