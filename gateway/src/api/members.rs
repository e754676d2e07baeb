//! Who may do what: account members and their account roles, invitations, and project
//! members with their project roles. Nobody hands out more than they hold, and the
//! last owner of an account or of a project can be neither removed nor demoted.

use std::str::FromStr;
use store::Error;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::roles::{stored, AccountRole, ProjectRole};
use crate::access::{can, AccountGuard, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use store::db::{new_id, now_ms, Db, Tx};

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

#[derive(Serialize, ToSchema)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: AccountRole,
    /// A project the invitee joins too, with `project_role`.
    pub project_id: Option<String>,
    pub project_role: Option<ProjectRole>,
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: String,
}

type InvitationRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);
const INVITATION_COLUMNS: &str =
    "id, email, role, project_id, project_role, invited_by, created_at, expires_at, accepted_at, revoked_at";

fn invitation_from_row(row: InvitationRow) -> Result<Invitation, Error> {
    let (
        id,
        email,
        role,
        project_id,
        project_role,
        invited_by,
        created,
        expires,
        accepted,
        revoked,
    ) = row;
    let status = match (accepted, revoked) {
        (Some(_), _) => "accepted",
        (None, Some(_)) => "revoked",
        (None, None) if expires <= now_ms() => "expired",
        (None, None) => "pending",
    };
    Ok(Invitation {
        id,
        email,
        role: stored(&role)?,
        project_id,
        project_role: project_role.as_deref().map(stored).transpose()?,
        invited_by,
        created_at: rfc3339(created),
        expires_at: rfc3339(expires),
        status: status.to_owned(),
    })
}

#[utoipa::path(get, path = "/account/invitations", tag = "members", params(PageQuery),
    responses((status = 200, body = Paginated<Invitation>), (status = 403, body = ErrorBody)))]
pub async fn list_invitations(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageMembers>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Invitation>>> {
    let page = q.page()?;
    let rows: Vec<InvitationRow> = sqlx::query_as(&format!(
        "select {INVITATION_COLUMNS} from invitations where account_id = $1 and id > $2 order by id limit $3"
    ))
    .bind(access.account().as_str())
    .bind(&page.after)
    .bind(page.limit + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let items = rows
        .into_iter()
        .map(invitation_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(JsonResponse(Paginated::from_rows(items, &page, |i| &i.id)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Account role on joining (default `member`).
    pub role: Option<AccountRole>,
    /// A project of this account to join as well, with `project_role`.
    pub project_id: Option<String>,
    pub project_role: Option<ProjectRole>,
}

/// Invites an email. The invitation is accepted by the first sign-in with that
/// (provider-verified) email; it expires after 7 days.
#[utoipa::path(post, path = "/account/invitations", tag = "members", request_body = CreateInvitation,
    responses((status = 201, body = Invitation), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_invitation(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageMembers>,
    Json(body): Json<CreateInvitation>,
) -> ApiResult<(StatusCode, JsonResponse<Invitation>)> {
    let email = store::names::email("email", &body.email)?;
    let role = body.role.unwrap_or(AccountRole::Member);
    ensure_may_grant(access.role(), role, "role")?;
    let project = match (&body.project_id, body.project_role) {
        (Some(p), Some(r)) => Some((p.clone(), r)),
        (None, None) => None,
        (Some(_), None) => {
            return Err(
                Error::invalid("project_role", "project_role is required with project_id").into(),
            )
        }
        (None, Some(_)) => {
            return Err(
                Error::invalid("project_id", "project_id is required with project_role").into(),
            )
        }
    };
    let account = access.account().as_str();
    let mut tx = state.db.begin_write().await?;
    sqlx::query(&format!(
        "select id from accounts where id = $1{}",
        state.db.for_update()
    ))
    .bind(account)
    .fetch_one(&mut *tx)
    .await?;
    if let Some((project_id, _)) = &project {
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from projects where id = $1 and account_id = $2")
                .bind(project_id)
                .bind(account)
                .fetch_one(&mut *tx)
                .await?;
        if n == 0 {
            return Err(Error::invalid(
                "project_id",
                "project_id names no project of this account",
            )
            .into());
        }
    }
    let (members,): (i64,) = sqlx::query_as(
        "select count(*) from account_members m join users u on u.id = m.user_id where m.account_id = $1 and u.email = $2",
    )
    .bind(account)
    .bind(&email)
    .fetch_one(&mut *tx)
    .await?;
    if members > 0 {
        return Err(Error::already_exists(
            "email",
            format!("{email} is already a member of this account"),
        )
        .into());
    }
    let now = now_ms();
    let (pending,): (i64,) = sqlx::query_as(
        "select count(*) from invitations where account_id = $1 and email = $2
            and accepted_at is null and revoked_at is null and expires_at > $3",
    )
    .bind(account)
    .bind(&email)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    if pending > 0 {
        return Err(Error::already_exists(
            "email",
            format!("{email} already has a pending invitation"),
        )
        .into());
    }
    let id = new_id();
    sqlx::query(
        "insert into invitations (id, account_id, email, role, project_id, project_role, invited_by, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(account)
    .bind(&email)
    .bind(role.as_str())
    .bind(project.as_ref().map(|(p, _)| p.clone()))
    .bind(project.as_ref().map(|(_, r)| r.as_str()))
    .bind(access.user_id())
    .bind(now)
    .bind(now + INVITATION_TTL_MS)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(Invitation {
            id,
            email,
            role,
            project_id: project.as_ref().map(|(p, _)| p.clone()),
            project_role: project.map(|(_, r)| r),
            invited_by: access.user_id().to_owned(),
            created_at: rfc3339(now),
            expires_at: rfc3339(now + INVITATION_TTL_MS),
            status: "pending".to_owned(),
        }),
    ))
}

#[utoipa::path(delete, path = "/account/invitations/{invitation_id}", tag = "members", params(("invitation_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageMembers>,
    Path(invitation_id): Path<String>,
) -> ApiResult<StatusCode> {
    let done = sqlx::query(
        "update invitations set revoked_at = $1 where id = $2 and account_id = $3 and accepted_at is null and revoked_at is null",
    )
    .bind(now_ms())
    .bind(&invitation_id)
    .bind(access.account().as_str())
    .execute(&state.db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("pending invitation").into());
    }
    Ok(StatusCode::NO_CONTENT)
}

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
