//! Invitations: an account asks someone in by email, with a role, for a week.

use store::Error;

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
use store::db::now_ms;
use store::invitations::{InvitationRow, NewInvitation};

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

fn invitation_from_row(row: InvitationRow) -> Result<Invitation, Error> {
    let status = match (row.accepted_at, row.revoked_at) {
        (Some(_), _) => "accepted",
        (None, Some(_)) => "revoked",
        (None, None) if row.expires_at <= now_ms() => "expired",
        (None, None) => "pending",
    };
    Ok(Invitation {
        id: row.id,
        email: row.email,
        role: stored(&row.role)?,
        project_id: row.project_id,
        project_role: row.project_role.as_deref().map(stored).transpose()?,
        invited_by: row.invited_by,
        created_at: rfc3339(row.created_at),
        expires_at: rfc3339(row.expires_at),
        status: status.to_owned(),
    })
}

#[utoipa::path(get, path = "/account/invitations", tag = "members", params(PageQuery),
    responses((status = 200, body = Paginated<Invitation>), (status = 403, body = ErrorBody)))]
pub async fn list_invitations(
    access: AccountGuard<can::account::ManageMembers>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Invitation>>> {
    let page = q.page()?;
    let rows = access.scope().invitations().list(&page).await?;
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
    // The account's row lock serialises invitations: one pending per email.
    let mut write = access.scope().write().await?;
    if let Some((project_id, _)) = &project {
        if !write.invitations().project_exists(project_id).await? {
            return Err(Error::invalid(
                "project_id",
                "project_id names no project of this account",
            )
            .into());
        }
    }
    if write.members().has_email(&email).await? {
        return Err(Error::already_exists(
            "email",
            format!("{email} is already a member of this account"),
        )
        .into());
    }
    let now = now_ms();
    if write.invitations().pending_for(&email, now).await? {
        return Err(Error::already_exists(
            "email",
            format!("{email} already has a pending invitation"),
        )
        .into());
    }
    let id = write
        .invitations()
        .insert(&NewInvitation {
            email: &email,
            role: role.as_str(),
            project: project.as_ref().map(|(p, r)| (p.as_str(), r.as_str())),
            invited_by: access.user_id(),
            created_at: now,
            expires_at: now + INVITATION_TTL_MS,
        })
        .await?;
    write.commit().await?;
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
    access: AccountGuard<can::account::ManageMembers>,
    Path(invitation_id): Path<String>,
) -> ApiResult<StatusCode> {
    if !access.scope().invitations().revoke(&invitation_id).await? {
        return Err(Error::not_found("pending invitation").into());
    }
    Ok(StatusCode::NO_CONTENT)
}
