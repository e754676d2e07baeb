//! Invitations: an account asks someone in by email, with a role, for a week.

use store::Error;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::roles::{stored, AccountRole, ProjectRole};
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use store::db::{new_id, now_ms};

use super::{ensure_may_grant, INVITATION_TTL_MS};

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
