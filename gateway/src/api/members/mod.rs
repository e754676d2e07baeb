//! Who may do what: account members and their account roles, invitations, and project
//! members with their project roles. Nobody hands out more than they hold, and the
//! last owner of an account or of a project can be neither removed nor demoted.
//!
//! `invitations` asks people in by email; `project` holds project members.

pub mod invitations;
pub mod project;

use std::str::FromStr;
use store::Error;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::roles::{stored, AccountRole};
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use store::db::{now_ms, Db, Tx};

/// Invitations are valid this long.
const INVITATION_TTL_MS: i64 = 7 * 86_400_000;

#[derive(Serialize, ToSchema)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: AccountRole,
    pub joined_at: DateTime<Utc>,
}

#[utoipa::path(get, path = "/account/members", tag = "members", params(PageQuery),
    responses((status = 200, body = Paginated<Member>), (status = 401, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadAccountWide>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Member>>> {
    let page = q.page()?;
    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "select u.id, u.email, u.display_name, m.role, m.created_at
           from account_members m join users u on u.id = m.user_id
          where m.account_id = $1 and u.id > $2 order by u.id limit $3",
    )
    .bind(access.account().as_str())
    .bind(&page.after)
    .bind(page.limit + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let members = rows
        .into_iter()
        .map(|(user_id, email, display_name, role, joined)| {
            Ok(Member {
                user_id,
                email,
                display_name,
                role: stored(&role)?,
                joined_at: rfc3339(joined),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(JsonResponse(Paginated::from_rows(members, &page, |m| {
        &m.user_id
    })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeAccountRole {
    pub role: AccountRole,
}

/// Locks the member rows of one account (`account_members`, `account_id`) or project
/// (`project_members`, `project_id`), so that concurrent role changes are serialised and
/// the last-owner rule holds; returns the target's role, if a member, and the owner count.
async fn lock_members<R: FromStr<Err = String>>(
    db: &Db,
    tx: &mut Tx,
    (table, scope_column): (&'static str, &'static str),
    scope: &str,
    user_id: &str,
) -> Result<(Option<R>, usize), Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(&format!(
        "select user_id, role from {table} where {scope_column} = $1{}",
        db.for_update()
    ))
    .bind(scope)
    .fetch_all(&mut **tx)
    .await?;
    let owners = rows.iter().filter(|(_, r)| r == "owner").count();
    let role = rows
        .iter()
        .find(|(u, _)| u == user_id)
        .map(|(_, r)| stored::<R>(r))
        .transpose()?;
    Ok((role, owners))
}

const ACCOUNT_MEMBERS: (&str, &str) = ("account_members", "account_id");
const PROJECT_MEMBERS: (&str, &str) = ("project_members", "project_id");

async fn lock_account_members(
    db: &Db,
    tx: &mut Tx,
    account: &str,
    user_id: &str,
) -> Result<(AccountRole, usize), Error> {
    let (role, owners) = lock_members(db, tx, ACCOUNT_MEMBERS, account, user_id).await?;
    Ok((role.ok_or_else(|| Error::not_found("member"))?, owners))
}

fn ensure_may_grant(caller: AccountRole, role: AccountRole, field: &str) -> Result<(), Error> {
    if caller.may_grant(role) {
        Ok(())
    } else {
        Err(Error::forbidden(format!(
            "only an account owner may give or take the role {role} (`{field}`)"
        )))
    }
}

/// Changes a member's account role. Only owners make or unmake owners.
#[utoipa::path(patch, path = "/account/members/{user_id}", tag = "members", params(("user_id" = String, Path)),
    request_body = ChangeAccountRole,
    responses((status = 200, body = Member), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn change_member_role(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageMembers>,
    Path(user_id): Path<String>,
    Json(body): Json<ChangeAccountRole>,
) -> ApiResult<JsonResponse<Member>> {
    ensure_may_grant(access.role(), body.role, "role")?;
    let mut tx = state.db.begin_write().await?;
    let account = access.account().as_str();
    let (current, owners) = lock_account_members(&state.db, &mut tx, account, &user_id).await?;
    ensure_may_grant(access.role(), current, "role")?;
    if current == AccountRole::Owner && body.role != AccountRole::Owner && owners == 1 {
        return Err(Error::conflict(
            "last_owner",
            "the last owner of an account cannot be demoted; make someone else owner first",
        )
        .into());
    }
    sqlx::query("update account_members set role = $1 where account_id = $2 and user_id = $3")
        .bind(body.role.as_str())
        .bind(account)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    let (email, display_name, joined): (String, String, i64) = sqlx::query_as(
        "select u.email, u.display_name, m.created_at from account_members m join users u on u.id = m.user_id
          where m.account_id = $1 and m.user_id = $2",
    )
    .bind(account)
    .bind(&user_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(JsonResponse(Member {
        user_id,
        email,
        display_name,
        role: body.role,
        joined_at: rfc3339(joined),
    }))
}

/// Removes a member from the account and its projects; their tokens and sessions in
/// this account stop working at once. The last owner stays.
#[utoipa::path(delete, path = "/account/members/{user_id}", tag = "members", params(("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageMembers>,
    Path(user_id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let account = access.account().as_str();
    let (current, owners) = lock_account_members(&state.db, &mut tx, account, &user_id).await?;
    ensure_may_grant(access.role(), current, "user_id")?;
    if current == AccountRole::Owner && owners == 1 {
        return Err(Error::conflict(
            "last_owner",
            "the last owner of an account cannot be removed",
        )
        .into());
    }
    let now = now_ms();
    sqlx::query("delete from account_members where account_id = $1 and user_id = $2")
        .bind(account)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("delete from project_members where user_id = $1 and project_id in (select id from projects where account_id = $2)")
        .bind(&user_id)
        .bind(account)
        .execute(&mut *tx)
        .await?;
    sqlx::query("update api_tokens set revoked_at = $1 where account_id = $2 and user_id = $3 and revoked_at is null")
        .bind(now)
        .bind(account)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("update sessions set revoked_at = $1 where account_id = $2 and user_id = $3 and revoked_at is null")
        .bind(now)
        .bind(account)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
