//! Who may do what: account members and their account roles, invitations, and project
//! members with their project roles. Nobody hands out more than they hold, and the
//! last owner of an account or of a project can be neither removed nor demoted.
//!
//! `invitations` asks people in by email; `project` holds project members.

pub mod invitations;
pub mod project;

use std::str::FromStr;
use store::Error;

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
use store::db::now_ms;
use store::members::{LockedRoles, MemberRow};
use store::AccountWrite;

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

impl Member {
    fn from_row(row: MemberRow) -> Result<Self, Error> {
        Ok(Member {
            user_id: row.user_id,
            email: row.email,
            display_name: row.display_name,
            role: stored(&row.role)?,
            joined_at: rfc3339(row.created_at),
        })
    }
}

#[utoipa::path(get, path = "/account/members", tag = "members", params(PageQuery),
    responses((status = 200, body = Paginated<Member>), (status = 401, body = ErrorBody)))]
pub async fn list_members(
    access: AccountGuard<can::account::ReadAccountWide>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Member>>> {
    let page = q.page()?;
    let rows = access.scope().members().list(&page).await?;
    let members = rows
        .into_iter()
        .map(Member::from_row)
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

/// The role a lock of member rows found for the target (if a member), and the owner
/// count; the rows stay locked so that concurrent role changes are serialised and the
/// last-owner rule holds.
fn locked<R: FromStr<Err = String>>(roles: LockedRoles) -> Result<(Option<R>, usize), Error> {
    let role = roles.role.as_deref().map(stored::<R>).transpose()?;
    Ok((role, roles.owners))
}

async fn lock_account_members(
    write: &mut AccountWrite,
    user_id: &str,
) -> Result<(AccountRole, usize), Error> {
    let (role, owners) = locked(write.members().lock_roles(user_id).await?)?;
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
    access: AccountGuard<can::account::ManageMembers>,
    Path(user_id): Path<String>,
    Json(body): Json<ChangeAccountRole>,
) -> ApiResult<JsonResponse<Member>> {
    ensure_may_grant(access.role(), body.role, "role")?;
    let mut write = access.scope().write().await?;
    let (current, owners) = lock_account_members(&mut write, &user_id).await?;
    ensure_may_grant(access.role(), current, "role")?;
    if current == AccountRole::Owner && body.role != AccountRole::Owner && owners == 1 {
        return Err(Error::conflict(
            "last_owner",
            "the last owner of an account cannot be demoted; make someone else owner first",
        )
        .into());
    }
    write
        .members()
        .set_role(&user_id, body.role.as_str())
        .await?;
    let member = write.members().get(&user_id).await?;
    write.commit().await?;
    Ok(JsonResponse(Member {
        user_id,
        email: member.email,
        display_name: member.display_name,
        role: body.role,
        joined_at: rfc3339(member.created_at),
    }))
}

/// Removes a member from the account and its projects; their tokens and sessions in
/// this account stop working at once. The last owner stays.
#[utoipa::path(delete, path = "/account/members/{user_id}", tag = "members", params(("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_member(
    access: AccountGuard<can::account::ManageMembers>,
    Path(user_id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    let (current, owners) = lock_account_members(&mut write, &user_id).await?;
    ensure_may_grant(access.role(), current, "user_id")?;
    if current == AccountRole::Owner && owners == 1 {
        return Err(Error::conflict(
            "last_owner",
            "the last owner of an account cannot be removed",
        )
        .into());
    }
    let now = now_ms();
    write.members().remove(&user_id).await?;
    write.tokens().revoke_all_of(&user_id, now).await?;
    write.sessions().revoke_all_of(&user_id, now).await?;
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
