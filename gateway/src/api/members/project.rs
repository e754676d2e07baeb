//! Project members and their project roles; a project keeps at least one owner.

use store::Error;

use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::roles::{stored, ProjectRole};
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use store::members::MemberRow;
use store::ProjectWrite;

use super::locked;

#[derive(Serialize, ToSchema)]
pub struct ProjectMember {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: ProjectRole,
    pub added_at: DateTime<Utc>,
}

fn project_member_from_row(row: MemberRow) -> Result<ProjectMember, Error> {
    Ok(ProjectMember {
        user_id: row.user_id,
        email: row.email,
        display_name: row.display_name,
        role: stored(&row.role)?,
        added_at: rfc3339(row.created_at),
    })
}

/// Members with a role on this project. Account owners and admins act as project
/// owners without being listed here.
#[utoipa::path(get, path = "/projects/{project_id}/members", tag = "members", params(("project_id" = String, Path), PageQuery),
    responses((status = 200, body = Paginated<ProjectMember>), (status = 404, body = ErrorBody)))]
pub async fn list_project_members(
    access: ProjectGuard<can::Read>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<ProjectMember>>> {
    let page = q.page()?;
    let rows = access.scope().members().list(&page).await?;
    let items = rows
        .into_iter()
        .map(project_member_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(JsonResponse(Paginated::from_rows(items, &page, |m| {
        &m.user_id
    })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddProjectMember {
    /// A member of this account.
    pub user_id: String,
    pub role: ProjectRole,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeProjectRole {
    pub role: ProjectRole,
}

fn ensure_may_grant_project(caller: ProjectRole, role: ProjectRole) -> Result<(), Error> {
    if role <= caller {
        Ok(())
    } else {
        Err(Error::forbidden(format!(
            "you are {caller} in this project and cannot give or take the role {role}"
        )))
    }
}

async fn fetch_project_member(
    write: &mut ProjectWrite,
    user_id: &str,
) -> Result<ProjectMember, Error> {
    project_member_from_row(write.members().get(user_id).await?)
}

/// Locks the project's member rows: `user_id`'s project role, if a member, and the
/// number of owners.
async fn lock_project_members(
    write: &mut ProjectWrite,
    user_id: &str,
) -> Result<(Option<ProjectRole>, usize), Error> {
    locked(write.members().lock_roles(user_id).await?)
}

#[utoipa::path(post, path = "/projects/{project_id}/members", tag = "members", params(("project_id" = String, Path)),
    request_body = AddProjectMember,
    responses((status = 201, body = ProjectMember), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_project_member(
    access: ProjectGuard<can::ManageMembers>,
    Json(body): Json<AddProjectMember>,
) -> ApiResult<(StatusCode, JsonResponse<ProjectMember>)> {
    ensure_may_grant_project(access.role(), body.role)?;
    let mut write = access.scope().write().await?;
    let (existing, _) = lock_project_members(&mut write, &body.user_id).await?;
    if existing.is_some() {
        return Err(Error::already_exists(
            "user_id",
            "this user is already a member of the project; change their role instead",
        )
        .into());
    }
    if !write.members().in_account(&body.user_id).await? {
        return Err(Error::invalid(
            "user_id",
            "user_id names no member of this account; invite them first",
        )
        .into());
    }
    write
        .members()
        .insert(&body.user_id, body.role.as_str())
        .await?;
    let member = fetch_project_member(&mut write, &body.user_id).await?;
    write.commit().await?;
    Ok((StatusCode::CREATED, JsonResponse(member)))
}

#[utoipa::path(patch, path = "/projects/{project_id}/members/{user_id}", tag = "members",
    params(("project_id" = String, Path), ("user_id" = String, Path)), request_body = ChangeProjectRole,
    responses((status = 200, body = ProjectMember), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn change_project_member_role(
    access: ProjectGuard<can::ManageMembers>,
    Path((_project_id, user_id)): Path<(String, String)>,
    Json(body): Json<ChangeProjectRole>,
) -> ApiResult<JsonResponse<ProjectMember>> {
    ensure_may_grant_project(access.role(), body.role)?;
    let mut write = access.scope().write().await?;
    let (current, owners) = lock_project_members(&mut write, &user_id).await?;
    let current = current.ok_or_else(|| Error::not_found("project member"))?;
    ensure_may_grant_project(access.role(), current)?;
    if current == ProjectRole::Owner && body.role != ProjectRole::Owner && owners == 1 {
        return Err(Error::conflict(
            "last_owner",
            "the last owner of a project cannot be demoted; make someone else owner first",
        )
        .into());
    }
    write
        .members()
        .set_role(&user_id, body.role.as_str())
        .await?;
    let member = fetch_project_member(&mut write, &user_id).await?;
    write.commit().await?;
    Ok(JsonResponse(member))
}

#[utoipa::path(delete, path = "/projects/{project_id}/members/{user_id}", tag = "members",
    params(("project_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_project_member(
    access: ProjectGuard<can::ManageMembers>,
    Path((_project_id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    let (current, owners) = lock_project_members(&mut write, &user_id).await?;
    let current = current.ok_or_else(|| Error::not_found("project member"))?;
    ensure_may_grant_project(access.role(), current)?;
    if current == ProjectRole::Owner && owners == 1 {
        return Err(Error::conflict(
            "last_owner",
            "the last owner of a project cannot be removed",
        )
        .into());
    }
    write.members().remove(&user_id).await?;
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
