//! The account's prepaid balance: its state (and arrears), its transactions, and
//! top-ups (for test and administration, until a payment provider is connected).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use billing::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::{AccountScope, Error};
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Json;
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct Balance {
    pub balance: String,
    pub currency: String,
    /// Since when a bill has been unpaid past its grace period; absent when none is.
    pub arrears_since: Option<DateTime<Utc>>,
    /// Issued bills not paid yet, and their sum.
    pub unpaid_bills: i64,
    pub unpaid_total: String,
    /// Whether this server takes top-ups through the API (`POST /account/balance/top-ups`);
    /// where it does not, the platform's operators credit balances.
    pub top_ups_allowed: bool,
}

async fn balance(state: &AppState, scope: &AccountScope) -> Result<Balance, Error> {
    let currency = state.pricing.currency;
    let row = scope.balance().get().await?;
    Ok(Balance {
        balance: Money::from_minor(row.balance_minor, currency).major(),
        currency: currency.code().to_owned(),
        arrears_since: row.arrears_since.map(rfc3339),
        unpaid_bills: row.unpaid_bills,
        unpaid_total: Money::from_minor(row.unpaid_minor, currency).major(),
        top_ups_allowed: state.config.billing.allow_api_top_ups,
    })
}

#[utoipa::path(get, path = "/account/balance", tag = "billing",
    responses((status = 200, body = Balance), (status = 403, body = ErrorBody)))]
pub async fn get_balance(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadBilling>,
) -> ApiResult<JsonResponse<Balance>> {
    Ok(JsonResponse(balance(&state, access.scope()).await?))
}

#[derive(Serialize, ToSchema)]
pub struct BalanceTransaction {
    pub id: String,
    /// `top_up`, `order` or `bill`.
    pub kind: String,
    /// Signed: credits positive, debits negative.
    pub amount: String,
    pub reference_id: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Every movement of the balance, newest first.
#[utoipa::path(get, path = "/account/balance/transactions", tag = "billing",
    responses((status = 200, body = Vec<BalanceTransaction>), (status = 403, body = ErrorBody)))]
pub async fn list_transactions(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadBilling>,
) -> ApiResult<JsonResponse<Vec<BalanceTransaction>>> {
    let currency = state.pricing.currency;
    let rows = access.scope().balance().transactions().await?;
    Ok(JsonResponse(
        rows.into_iter()
            .map(|t| BalanceTransaction {
                id: t.id,
                kind: t.kind,
                amount: Money::from_minor(t.amount_minor, currency).major(),
                reference_id: t.reference_id,
                created_by: t.created_by,
                created_at: rfc3339(t.created_at),
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopUp {
    /// A positive decimal in major units, e.g. "100.00".
    #[schema(
        pattern = r"^([1-9][0-9]{0,11}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$",
        example = "100.00"
    )]
    pub amount: String,
}

/// Credits the balance and pays unpaid bills from it, oldest first. Paying clears
/// arrears (so starts are allowed again) but restarts nothing.
#[utoipa::path(post, path = "/account/balance/top-ups", tag = "billing", request_body = TopUp,
    responses((status = 201, body = Balance), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn top_up(
    State(state): State<AppState>,
    access: AccountGuard<can::account::PayBilling>,
    Json(body): Json<TopUp>,
) -> ApiResult<(StatusCode, JsonResponse<Balance>)> {
    if !state.config.billing.allow_api_top_ups {
        return Err(Error::forbidden(
            "top-ups through the API are disabled on this server; an operator credits balances with `sluice admin top-up`",
        ).into());
    }
    let minor = parse_top_up(&state, &body.amount)?;
    let mut write = access.scope().write().await?;
    domain::balance::top_up_in(&state, &mut write.ledger(), minor, access.user_id()).await?;
    write.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(balance(&state, access.scope()).await?),
    ))
}

/// A positive amount of the billing currency in major units, as whole minor units.
pub fn parse_top_up(state: &AppState, amount: &str) -> Result<i64, Error> {
    let currency = state.pricing.currency;
    match Money::parse_major(amount, currency) {
        Ok(m) if m.minor() > 0 && m.minor() <= 1_000_000_000_000 => Ok(m.minor()),
        _ => Err(Error::invalid(
            "amount",
            format!(
                "amount must be a positive amount of {} with at most {} decimals",
                currency.code(),
                currency.exponent()
            ),
        )),
    }
}
