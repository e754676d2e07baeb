//! The caller's account and its users: members, invitations and API tokens.

use axum::extract::State;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::Error;
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::roles::AccountRole;
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::limits::Limits;
use crate::AppState;
use store::db::{new_id, now_ms, Tx};

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
    let (id, name, plan, created_at): (String, String, String, i64) =
        sqlx::query_as("select id, name, plan, created_at from accounts where id = $1")
            .bind(access.account().as_str())
            .fetch_optional(&state.db.pool)
            .await?
            .ok_or_else(|| Error::not_found("account"))?;
    let (projects,): (i64,) = sqlx::query_as("select count(*) from projects where account_id = $1")
        .bind(access.account().as_str())
        .fetch_one(&state.db.pool)
        .await?;
    let limits = state.limits(&plan);
    Ok(JsonResponse(Account {
        id,
        name,
        plan,
        limits,
        usage: AccountUsage { projects },
        role: access.role(),
        created_at: rfc3339(created_at),
    }))
}

/// Finds the user with this (lower-cased) email or creates it.
pub async fn ensure_user(tx: &mut Tx, email: &str, display_name: &str) -> Result<String, Error> {
    let existing: Option<(String,)> = sqlx::query_as("select id from users where email = $1")
        .bind(email)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some((id,)) = existing {
        return Ok(id);
    }
    let id = new_id();
    sqlx::query("insert into users (id, email, display_name, created_at) values ($1, $2, $3, $4)")
        .bind(&id)
        .bind(email)
        .bind(display_name)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(id)
}
