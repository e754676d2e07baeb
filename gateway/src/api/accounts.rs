//! The caller's account and its users: members, invitations and API tokens.

use axum::extract::State;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::roles::AccountRole;
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::AppState;
use domain::limits::Limits;

#[derive(Serialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub limits: Limits,
    pub usage: AccountUsage,
    /// The caller's role in this account.
    pub role: AccountRole,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountUsage {
    pub projects: i64,
}

/// The account the token belongs to, with its plan's limits and current usage.
#[utoipa::path(get, path = "/account", tag = "account",
    responses((status = 200, body = Account), (status = 401, body = ErrorBody)))]
pub async fn get_account(
    State(state): State<AppState>,
    access: AccountGuard<can::account::Read>,
) -> ApiResult<JsonResponse<Account>> {
    let account = access.scope().details().await?;
    let projects = access.scope().project_count().await?;
    let limits = state.limits(&account.plan);
    Ok(JsonResponse(Account {
        id: account.id,
        name: account.name,
        plan: account.plan,
        limits,
        usage: AccountUsage { projects },
        role: access.role(),
        created_at: rfc3339(account.created_at),
    }))
}
