//! Orders: buying a project's capacity under the subscription model. An order is
//! previewed (its exact price), then placed; placing a new purchase turns the project
//! into a subscription of N CU for a term of whole months, and from then on its running
//! deployments may never hold more than N CU (see `deployments::start_deployment`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use billing::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, AccountGuard, AccountId};
use crate::billing::parse_zone;
use crate::db::{new_id, now_ms, Tx};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::AppState;

/// The kinds of order. Every order passes [`authorize_order`], the one place where the
/// rules about what may be ordered (and, with product lifecycles, when) are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    NewPurchase,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub kind: OrderKind,
    pub project_id: String,
    /// Whole CU to buy, 1 to 1000.
    pub cu: i64,
    /// Term in whole months, 1 to 36.
    pub months: i64,
}

#[derive(Serialize, ToSchema)]
pub struct OrderQuote {
    pub kind: OrderKind,
    pub project_id: String,
    pub cu: i64,
    pub months: i64,
    pub term_start: DateTime<Utc>,
    pub term_end: DateTime<Utc>,
    /// Exact price in major units.
    pub amount: String,
    pub currency: String,
}

#[derive(Serialize, ToSchema)]
pub struct Order {
    pub id: String,
    #[serde(flatten)]
    pub quote: OrderQuote,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

fn validate(body: &OrderRequest) -> Result<(), ApiError> {
    if !(1..=1000).contains(&body.cu) {
        return Err(ApiError::invalid(
            "cu",
            format!(
                "cu must be a whole number of CU from 1 to 1000, got {}",
                body.cu
            ),
        ));
    }
    if !(1..=36).contains(&body.months) {
        return Err(ApiError::invalid(
            "months",
            format!("months must be from 1 to 36, got {}", body.months),
        ));
    }
    Ok(())
}

/// What may be ordered for this project now. With `tx`, the project row is locked.
async fn authorize_order(
    tx: &mut Tx,
    state: &AppState,
    account: &AccountId,
    body: &OrderRequest,
) -> Result<(), ApiError> {
    let row: Option<(String,)> = sqlx::query_as(&format!(
        "select billing_model from projects where id = $1 and account_id = $2{}",
        state.db.for_update()
    ))
    .bind(&body.project_id)
    .bind(account.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let (model,) = row.ok_or_else(|| ApiError::not_found("project").with_field("project_id"))?;
    match body.kind {
        OrderKind::NewPurchase => {
            if model == "subscription" {
                return Err(ApiError::conflict(
                    "already_subscribed",
                    "the project already has a subscription; renew or change it instead",
                ));
            }
            let (running,): (i64,) = sqlx::query_as(
                "select cast(coalesce(sum(parallelism * cu_per_task_milli), 0) as bigint) from deployments
                  where project_id = $1 and desired_state = 'RUNNING'",
            )
            .bind(&body.project_id)
            .fetch_one(&mut **tx)
            .await?;
            if running > body.cu * 1000 {
                return Err(ApiError::invalid(
                    "cu",
                    format!(
                        "the project's running deployments hold {} CU; buy at least that much",
                        running as f64 / 1000.0
                    ),
                ));
            }
        }
    }
    Ok(())
}

async fn quote(
    state: &AppState,
    account: &AccountId,
    body: &OrderRequest,
) -> Result<OrderQuote, ApiError> {
    let (zone,): (String,) = sqlx::query_as("select billing_time_zone from accounts where id = $1")
        .bind(account.as_str())
        .fetch_one(&state.db.pool)
        .await?;
    let tz = parse_zone(&zone)?;
    let now = Utc::now();
    let local = now.with_timezone(&tz);
    let end_date = billing::period::add_months(local.date_naive(), body.months as u32)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let term_end = end_date
        .and_time(local.time())
        .and_local_timezone(tz)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let rate = state
        .pricing
        .book
        .cu_month_at(now)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let amount: Money = rate
        .charge_months(body.cu * 1000, body.months)
        .and_then(|e| e.round())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(OrderQuote {
        kind: body.kind,
        project_id: body.project_id.clone(),
        cu: body.cu,
        months: body.months,
        term_start: now,
        term_end,
        amount: amount.major(),
        currency: amount.currency().code().to_owned(),
    })
}

/// What an order would cost, without placing it.
#[utoipa::path(post, path = "/account/orders/preview", tag = "billing", request_body = OrderRequest,
    responses((status = 200, body = OrderQuote), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview_order(
    State(state): State<AppState>,
    access: AccountGuard<can::account::PayBilling>,
    Json(body): Json<OrderRequest>,
) -> ApiResult<JsonResponse<OrderQuote>> {
    validate(&body)?;
    let mut tx = state.db.begin_write().await?;
    authorize_order(&mut tx, &state, access.account(), &body).await?;
    tx.rollback().await?;
    Ok(JsonResponse(quote(&state, access.account(), &body).await?))
}

/// Places an order; a new purchase makes the project a subscription at once.
#[utoipa::path(post, path = "/account/orders", tag = "billing", request_body = OrderRequest,
    responses((status = 201, body = Order), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn place_order(
    State(state): State<AppState>,
    access: AccountGuard<can::account::PayBilling>,
    Json(body): Json<OrderRequest>,
) -> ApiResult<(StatusCode, JsonResponse<Order>)> {
    validate(&body)?;
    let quote = quote(&state, access.account(), &body).await?;
    let currency = billing::money::Currency::parse(&quote.currency)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let amount_minor = parse_minor(&quote.amount, currency.exponent())?;
    let mut tx = state.db.begin_write().await?;
    let balance = crate::balance::lock_balance(&state, &mut tx, access.account().as_str()).await?;
    authorize_order(&mut tx, &state, access.account(), &body).await?;
    if balance < amount_minor {
        return Err(ApiError::conflict(
            "insufficient_balance",
            format!(
                "the order costs {} but the balance is {}; top up first",
                quote.amount,
                Money::from_minor(balance, currency).major()
            ),
        ));
    }
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "insert into orders (id, account_id, project_id, kind, cu_milli, months, amount_minor, currency, created_by, created_at)
         values ($1, $2, $3, 'new_purchase', $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(access.account().as_str())
    .bind(&body.project_id)
    .bind(body.cu * 1000)
    .bind(body.months)
    .bind(amount_minor)
    .bind(&quote.currency)
    .bind(access.user_id())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into subscriptions (project_id, account_id, cu_milli, term_start, term_end, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&body.project_id)
    .bind(access.account().as_str())
    .bind(body.cu * 1000)
    .bind(quote.term_start.timestamp_millis())
    .bind(quote.term_end.timestamp_millis())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("update projects set billing_model = 'subscription' where id = $1")
        .bind(&body.project_id)
        .execute(&mut *tx)
        .await?;
    crate::balance::record(
        &state,
        &mut tx,
        access.account().as_str(),
        "order",
        -amount_minor,
        &id,
        access.user_id(),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(Order {
            id,
            quote,
            created_by: access.user_id().to_owned(),
            created_at: rfc3339(now),
        }),
    ))
}

/// "12.50" in a 2-decimal currency -> 1250.
fn parse_minor(major: &str, exponent: u8) -> Result<i64, ApiError> {
    let digits: String = major.chars().filter(|c| *c != '.').collect();
    let decimals = major.split_once('.').map_or(0, |(_, f)| f.len());
    if decimals != usize::from(exponent) {
        return Err(ApiError::internal(format!(
            "amount {major} has {decimals} decimals, expected {exponent}"
        )));
    }
    digits
        .parse()
        .map_err(|_| ApiError::internal(format!("amount {major} is not a number")))
}

#[derive(Serialize, ToSchema)]
pub struct Subscription {
    pub project_id: String,
    pub cu: f64,
    pub term_start: DateTime<Utc>,
    pub term_end: DateTime<Utc>,
    /// CU held by the project's running deployments now.
    pub cu_in_use: f64,
}

/// The account's subscriptions with the capacity in use.
#[utoipa::path(get, path = "/account/subscriptions", tag = "billing",
    responses((status = 200, body = Vec<Subscription>), (status = 403, body = ErrorBody)))]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadBilling>,
) -> ApiResult<JsonResponse<Vec<Subscription>>> {
    let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
        "select s.project_id, s.cu_milli, s.term_start, s.term_end,
                cast(coalesce((select sum(d.parallelism * d.cu_per_task_milli) from deployments d
                           where d.project_id = s.project_id and d.desired_state = 'RUNNING'), 0) as bigint)
           from subscriptions s where s.account_id = $1 order by s.project_id",
    )
    .bind(access.account().as_str())
    .fetch_all(&state.db.pool)
    .await?;
    Ok(JsonResponse(
        rows.into_iter()
            .map(|(project_id, cu, start, end, used)| Subscription {
                project_id,
                cu: cu as f64 / 1000.0,
                term_start: rfc3339(start),
                term_end: rfc3339(end),
                cu_in_use: used as f64 / 1000.0,
            })
            .collect(),
    ))
}
