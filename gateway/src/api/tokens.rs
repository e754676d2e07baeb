//! API tokens: each belongs to one user in one account and acts as that user, or,
//! narrowed by a scope, as at most one role in one project. The secret is shown once.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::roles::{stored, ProjectRole};
use crate::access::{can, generate_token, AccountGuard, ProjectAction};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use store::db::now_ms;
use store::names::Name;
use store::tokens::{self, TokenRow};

#[derive(Serialize, ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub user_id: String,
    /// The one project the token may act on; absent: everything its user may do.
    pub project_id: Option<String>,
    /// The most the token may do in `project_id`.
    pub role: Option<ProjectRole>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

fn token_from_row(row: TokenRow) -> Result<ApiToken, Error> {
    Ok(ApiToken {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        user_id: row.user_id,
        project_id: row.scope_project_id,
        role: row.scope_role.as_deref().map(stored).transpose()?,
        created_at: rfc3339(row.created_at),
        expires_at: row.expires_at.map(rfc3339),
        last_used_at: row.last_used_at.map(rfc3339),
    })
}

/// The caller's own live tokens in this account.
#[utoipa::path(get, path = "/tokens", tag = "tokens", params(PageQuery),
    responses((status = 200, body = Paginated<ApiToken>), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    access: AccountGuard<can::account::ManageTokens>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<ApiToken>>> {
    let page = q.page()?;
    let rows = access
        .scope()
        .tokens()
        .list_live(access.user_id(), &page)
        .await?;
    let items = rows
        .into_iter()
        .map(token_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(JsonResponse(Paginated::from_rows(items, &page, |t| &t.id)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    /// Days until the token stops working (1 to 3650); absent means it does not expire.
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<i64>,
    /// Narrows the token to this project, with `role`.
    pub project_id: Option<String>,
    /// The most the token may do in `project_id`; at most the caller's own role there.
    pub role: Option<ProjectRole>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// The secret. It is shown this once; only its hash is stored.
    pub secret: String,
}

/// Issues a token for the calling user. A token narrowed to a project cannot mint more.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`project_id` names no project the caller sees"), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageTokens>,
    Json(body): Json<CreateToken>,
) -> ApiResult<(StatusCode, JsonResponse<CreatedToken>)> {
    if access.is_project_scoped() {
        return Err(
            Error::forbidden("a token narrowed to one project cannot create tokens").into(),
        );
    }
    let name = Name::parse("name", &body.name)?;
    let expires_at = match body.expires_in_days {
        None => None,
        Some(d) if (1..=3650).contains(&d) => Some(now_ms() + d * 86_400_000),
        Some(d) => {
            return Err(Error::invalid(
                "expires_in_days",
                format!("expires_in_days must be between 1 and 3650, got {d}"),
            )
            .into())
        }
    };
    let scope = match (body.project_id, body.role) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(Error::invalid("role", "role is required with project_id").into())
        }
        (None, Some(_)) => {
            return Err(Error::invalid("project_id", "project_id is required with role").into())
        }
        (Some(project_id), Some(role)) => {
            let held = state
                .authz
                .project(
                    &state.db,
                    &access.principal,
                    &project_id,
                    ProjectAction::Read,
                )
                .await
                .map_err(|e| {
                    if e.kind == store::Kind::NotFound {
                        e.with_field("project_id")
                    } else {
                        e
                    }
                })?;
            if role > held.role() {
                return Err(Error::forbidden(format!(
                    "you are {} in this project and cannot issue a token with the role {role}",
                    held.role()
                ))
                .into());
            }
            Some((project_id, role))
        }
    };
    let token = generate_token();
    let id = access
        .scope()
        .tokens()
        .insert(&tokens::NewToken {
            user_id: access.user_id(),
            name: name.as_str(),
            prefix: &token.prefix,
            secret_sha256: &token.sha256,
            expires_at,
            scope: scope.as_ref().map(|(p, r)| (p.as_str(), r.as_str())),
        })
        .await?;
    let created = ApiToken {
        id,
        name: name.as_str().to_owned(),
        prefix: token.prefix.clone(),
        user_id: access.user_id().to_owned(),
        project_id: scope.as_ref().map(|(p, _)| p.clone()),
        role: scope.map(|(_, r)| r),
        created_at: rfc3339(now_ms()),
        expires_at: expires_at.map(rfc3339),
        last_used_at: None,
    };
    Ok((
        StatusCode::CREATED,
        JsonResponse(CreatedToken {
            token: created,
            secret: token.secret,
        }),
    ))
}

/// Revokes one of the caller's tokens (account owners and admins: any token of the
/// account); it stops working at once.
#[utoipa::path(delete, path = "/tokens/{token_id}", tag = "tokens", params(("token_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageTokens>,
    Path(token_id): Path<String>,
) -> ApiResult<StatusCode> {
    let any_user = !access.is_project_scoped()
        && state
            .authz
            .account_role_allows(access.role(), crate::access::AccountAction::ManageMembers);
    let revoked = access
        .scope()
        .tokens()
        .revoke(&token_id, access.user_id(), any_user)
        .await?;
    if !revoked {
        return Err(Error::not_found("token").into());
    }
    Ok(StatusCode::NO_CONTENT)
}
