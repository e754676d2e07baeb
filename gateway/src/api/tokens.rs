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
use crate::access::{can, generate_token, AccountGuard, AccountId, NewToken, ProjectAction};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use store::db::{new_id, now_ms, Tx};
use store::names::Name;

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

type TokenRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
);
const TOKEN_COLUMNS: &str =
    "id, name, prefix, user_id, scope_project_id, scope_role, created_at, expires_at, last_used_at";

fn token_from_row(row: TokenRow) -> Result<ApiToken, Error> {
    let (id, name, prefix, user_id, project_id, role, created, expires, used) = row;
    Ok(ApiToken {
        id,
        name,
        prefix,
        user_id,
        project_id,
        role: role.as_deref().map(stored).transpose()?,
        created_at: rfc3339(created),
        expires_at: expires.map(rfc3339),
        last_used_at: used.map(rfc3339),
    })
}

/// The caller's own live tokens in this account.
#[utoipa::path(get, path = "/tokens", tag = "tokens", params(PageQuery),
    responses((status = 200, body = Paginated<ApiToken>), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageTokens>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<ApiToken>>> {
    let page = q.page()?;
    let rows: Vec<TokenRow> = sqlx::query_as(&format!(
        "select {TOKEN_COLUMNS} from api_tokens
          where account_id = $1 and user_id = $2 and revoked_at is null and id > $3 order by id limit $4"
    ))
    .bind(access.account().as_str())
    .bind(access.user_id())
    .bind(&page.after)
    .bind(page.limit + 1)
    .fetch_all(&state.db.pool)
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
    let mut tx = state.db.begin_write().await?;
    let id = insert_token(
        &mut tx,
        access.account(),
        access.user_id(),
        name.as_str(),
        &token,
        expires_at,
        scope.as_ref().map(|(p, r)| (p.as_str(), *r)),
    )
    .await?;
    tx.commit().await?;
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

pub async fn insert_token(
    tx: &mut Tx,
    account: &AccountId,
    user_id: &str,
    name: &str,
    token: &NewToken,
    expires_at: Option<i64>,
    scope: Option<(&str, ProjectRole)>,
) -> Result<String, Error> {
    let id = new_id();
    sqlx::query(
        "insert into api_tokens (id, account_id, user_id, name, prefix, secret_sha256, created_at, expires_at,
                                 scope_project_id, scope_role)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(account.as_str())
    .bind(user_id)
    .bind(name)
    .bind(&token.prefix)
    .bind(&token.sha256)
    .bind(now_ms())
    .bind(expires_at)
    .bind(scope.map(|(p, _)| p))
    .bind(scope.map(|(_, r)| r.as_str()))
    .execute(&mut **tx)
    .await?;
    Ok(id)
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
    let done = sqlx::query(
        "update api_tokens set revoked_at = $1
          where id = $2 and account_id = $3 and (user_id = $4 or $5) and revoked_at is null",
    )
    .bind(now_ms())
    .bind(&token_id)
    .bind(access.account().as_str())
    .bind(access.user_id())
    .bind(any_user)
    .execute(&state.db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("token").into());
    }
    Ok(StatusCode::NO_CONTENT)
}
