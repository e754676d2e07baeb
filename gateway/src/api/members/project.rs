//! Project members and their project roles; a project keeps at least one owner.

use store::Error;

use axum::extract::State;
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
use crate::AppState;
use store::db::{now_ms, Tx};

use super::{lock_members, PROJECT_MEMBERS};

#[derive(Serialize, ToSchema)]
pub struct ProjectMember {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: ProjectRole,
    pub added_at: DateTime<Utc>,
}

type ProjectMemberRow = (String, String, String, String, i64);

fn project_member_from_row(
    (user_id, email, display_name, role, added): ProjectMemberRow,
) -> Result<ProjectMember, Error> {
    Ok(ProjectMember {
        user_id,
        email,
        display_name,
        role: stored(&role)?,
        added_at: rfc3339(added),
    })
}

/// Members with a role on this project. Account owners and admins act as project
/// owners without being listed here.
#[utoipa::path(get, path = "/projects/{project_id}/members", tag = "members", params(("project_id" = String, Path), PageQuery),
    responses((status = 200, body = Paginated<ProjectMember>), (status = 404, body = ErrorBody)))]
pub async fn list_project_members(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<ProjectMember>>> {
    let page = q.page()?;
    let rows: Vec<ProjectMemberRow> = sqlx::query_as(
        "select u.id, u.email, u.display_name, pm.role, pm.created_at
           from project_members pm join users u on u.id = pm.user_id
          where pm.project_id = $1 and u.id > $2 order by u.id limit $3",
    )
    .bind(access.project_id())
    .bind(&page.after)
    .bind(page.limit + 1)
    .fetch_all(&state.db.pool)
    .await?;
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
    tx: &mut Tx,
    project_id: &str,
    user_id: &str,
) -> Result<ProjectMember, Error> {
    let row: ProjectMemberRow = sqlx::query_as(
        "select u.id, u.email, u.display_name, pm.role, pm.created_at
           from project_members pm join users u on u.id = pm.user_id where pm.project_id = $1 and pm.user_id = $2",
    )
    .bind(project_id)
    .bind(user_id)
    .fetch_one(&mut **tx)
    .await?;
    project_member_from_row(row)
}

#[utoipa::path(post, path = "/projects/{project_id}/members", tag = "members", params(("project_id" = String, Path)),
    request_body = AddProjectMember,
    responses((status = 201, body = ProjectMember), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_project_member(
    State(state): State<AppState>,
    access: ProjectGuard<can::ManageMembers>,
    Json(body): Json<AddProjectMember>,
) -> ApiResult<(StatusCode, JsonResponse<ProjectMember>)> {
    ensure_may_grant_project(access.role(), body.role)?;
    let mut tx = state.db.begin_write().await?;
    let (existing, _) = lock_members::<ProjectRole>(
        &state.db,
        &mut tx,
        PROJECT_MEMBERS,
        access.project_id(),
        &body.user_id,
    )
    .await?;
    if existing.is_some() {
        return Err(Error::already_exists(
            "user_id",
            "this user is already a member of the project; change their role instead",
        )
        .into());
    }
    let (in_account,): (i64,) = sqlx::query_as(
        "select count(*) from account_members where account_id = $1 and user_id = $2",
    )
    .bind(access.account().as_str())
    .bind(&body.user_id)
    .fetch_one(&mut *tx)
    .await?;
    if in_account == 0 {
        return Err(Error::invalid(
            "user_id",
            "user_id names no member of this account; invite them first",
        )
        .into());
    }
    sqlx::query("insert into project_members (project_id, user_id, role, created_at) values ($1, $2, $3, $4)")
        .bind(access.project_id())
        .bind(&body.user_id)
        .bind(body.role.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    let member = fetch_project_member(&mut tx, access.project_id(), &body.user_id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, JsonResponse(member)))
}

#[utoipa::path(patch, path = "/projects/{project_id}/members/{user_id}", tag = "members",
    params(("project_id" = String, Path), ("user_id" = String, Path)), request_body = ChangeProjectRole,
    responses((status = 200, body = ProjectMember), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn change_project_member_role(
    State(state): State<AppState>,
    access: ProjectGuard<can::ManageMembers>,
    Path((_project_id, user_id)): Path<(String, String)>,
    Json(body): Json<ChangeProjectRole>,
) -> ApiResult<JsonResponse<ProjectMember>> {
    ensure_may_grant_project(access.role(), body.role)?;
    let mut tx = state.db.begin_write().await?;
    let (current, owners) = lock_members::<ProjectRole>(
        &state.db,
        &mut tx,
        PROJECT_MEMBERS,
        access.project_id(),
        &user_id,
    )
    .await?;
    let current = current.ok_or_else(|| Error::not_found("project member"))?;
    ensure_may_grant_project(access.role(), current)?;
    if current == ProjectRole::Owner && body.role != ProjectRole::Owner && owners == 1 {
        return Err(Error::conflict(
            "last_owner",
            "the last owner of a project cannot be demoted; make someone else owner first",
        )
        .into());
    }
    sqlx::query("update project_members set role = $1 where project_id = $2 and user_id = $3")
        .bind(body.role.as_str())
        .bind(access.project_id())
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    let member = fetch_project_member(&mut tx, access.project_id(), &user_id).await?;
    tx.commit().await?;
    Ok(JsonResponse(member))
}

#[utoipa::path(delete, path = "/projects/{project_id}/members/{user_id}", tag = "members",
    params(("project_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_project_member(
    State(state): State<AppState>,
    access: ProjectGuard<can::ManageMembers>,
    Path((_project_id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let (current, owners) = lock_members::<ProjectRole>(
        &state.db,
        &mut tx,
        PROJECT_MEMBERS,
        access.project_id(),
        &user_id,
    )
    .await?;
    let current = current.ok_or_else(|| Error::not_found("project member"))?;
    ensure_may_grant_project(access.role(), current)?;
    if current == ProjectRole::Owner && owners == 1 {
        return Err(Error::conflict(
            "last_owner",
            "the last owner of a project cannot be removed",
        )
        .into());
    }
    sqlx::query("delete from project_members where project_id = $1 and user_id = $2")
        .bind(access.project_id())
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
