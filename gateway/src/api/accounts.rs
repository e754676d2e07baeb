//! The caller's account, its members and its API tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;
use crate::auth::{generate_token, AccountId, NewToken, Principal};
use crate::db::{new_id, now_ms, Tx};
use crate::domain::{self, Name};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::limits::Limits;
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub limits: Limits,
    pub usage: AccountUsage,
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
    principal: Principal,
) -> ApiResult<JsonResponse<Account>> {
    let (id, name, plan, created_at): (String, String, String, i64) =
        sqlx::query_as("select id, name, plan, created_at from accounts where id = $1")
            .bind(principal.account.as_str())
            .fetch_optional(&state.db.pool)
            .await?
            .ok_or_else(|| ApiError::not_found("account"))?;
    let (projects,): (i64,) = sqlx::query_as("select count(*) from projects where account_id = $1")
        .bind(principal.account.as_str())
        .fetch_one(&state.db.pool)
        .await?;
    let limits = state.limits(&plan);
    Ok(JsonResponse(Account {
        id,
        name,
        plan,
        limits,
        usage: AccountUsage { projects },
        created_at: rfc3339(created_at),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub joined_at: DateTime<Utc>,
}

#[utoipa::path(get, path = "/account/members", tag = "account", params(PageQuery),
    responses((status = 200, body = Paginated<Member>), (status = 401, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Member>>> {
    let page = q.page()?;
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "select u.id, u.email, u.display_name, m.created_at
           from account_members m join users u on u.id = m.user_id
          where m.account_id = $1 and u.id > $2 order by u.id limit $3",
    )
    .bind(principal.account.as_str())
    .bind(&page.after)
    .bind(page.limit + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(user_id, email, display_name, joined)| Member {
            user_id,
            email,
            display_name,
            joined_at: rfc3339(joined),
        })
        .collect();
    Ok(JsonResponse(Paginated::from_rows(rows, &page, |m| {
        &m.user_id
    })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    pub email: String,
    pub display_name: Option<String>,
}

/// Adds a person (by email) to the account, creating the user if it is new.
#[utoipa::path(post, path = "/account/members", tag = "account", request_body = AddMember,
    responses((status = 201, body = Member), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_member(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<AddMember>,
) -> ApiResult<(StatusCode, JsonResponse<Member>)> {
    let email = domain::email("email", &body.email)?;
    let display_name = match &body.display_name {
        Some(n) => Name::parse("display_name", n)?.as_str().to_owned(),
        None => email.clone(),
    };
    let mut tx = state.db.begin_write().await?;
    let user_id = ensure_user(&mut tx, &email, &display_name).await?;
    let (already,): (i64,) = sqlx::query_as(
        "select count(*) from account_members where account_id = $1 and user_id = $2",
    )
    .bind(principal.account.as_str())
    .bind(&user_id)
    .fetch_one(&mut *tx)
    .await?;
    if already > 0 {
        return Err(ApiError::already_exists(
            "email",
            format!("{email} is already a member of this account"),
        ));
    }
    let now = now_ms();
    sqlx::query(
        "insert into account_members (account_id, user_id, created_at) values ($1, $2, $3)",
    )
    .bind(principal.account.as_str())
    .bind(&user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let (display_name,): (String,) = sqlx::query_as("select display_name from users where id = $1")
        .bind(&user_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(Member {
            user_id,
            email,
            display_name,
            joined_at: rfc3339(now),
        }),
    ))
}

/// Removes a member and revokes their tokens for this account. The last member stays.
#[utoipa::path(delete, path = "/account/members/{user_id}", tag = "account",
    params(("user_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let members: Vec<(String,)> = sqlx::query_as(&format!(
        "select user_id from account_members where account_id = $1{}",
        state.db.for_update()
    ))
    .bind(principal.account.as_str())
    .fetch_all(&mut *tx)
    .await?;
    if !members.iter().any(|(id,)| *id == user_id) {
        return Err(ApiError::not_found("member"));
    }
    if members.len() == 1 {
        return Err(ApiError::conflict(
            "last_member",
            "the last member of an account cannot be removed",
        ));
    }
    sqlx::query("delete from account_members where account_id = $1 and user_id = $2")
        .bind(principal.account.as_str())
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("update api_tokens set revoked_at = $1 where account_id = $2 and user_id = $3 and revoked_at is null")
        .bind(now_ms())
        .bind(principal.account.as_str())
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Finds the user with this (lower-cased) email or creates it.
pub async fn ensure_user(tx: &mut Tx, email: &str, display_name: &str) -> Result<String, ApiError> {
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

#[derive(Serialize, ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

type TokenRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

fn token_from_row((id, name, prefix, user_id, created, expires, used): TokenRow) -> ApiToken {
    ApiToken {
        id,
        name,
        prefix,
        user_id,
        created_at: rfc3339(created),
        expires_at: expires.map(rfc3339),
        last_used_at: used.map(rfc3339),
    }
}

#[utoipa::path(get, path = "/tokens", tag = "account", params(PageQuery),
    responses((status = 200, body = Paginated<ApiToken>), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<ApiToken>>> {
    let page = q.page()?;
    let rows: Vec<TokenRow> = sqlx::query_as(
        "select id, name, prefix, user_id, created_at, expires_at, last_used_at from api_tokens
          where account_id = $1 and revoked_at is null and id > $2 order by id limit $3",
    )
    .bind(principal.account.as_str())
    .bind(&page.after)
    .bind(page.limit + 1)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter().map(token_from_row).collect(),
        &page,
        |t| &t.id,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    /// Days until the token stops working (1 to 3650); absent means it does not expire.
    pub expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// The secret. It is shown this once; only its hash is stored.
    pub secret: String,
}

/// Issues a token for the calling user in the calling account.
#[utoipa::path(post, path = "/tokens", tag = "account", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CreateToken>,
) -> ApiResult<(StatusCode, JsonResponse<CreatedToken>)> {
    let name = Name::parse("name", &body.name)?;
    let expires_at = match body.expires_in_days {
        None => None,
        Some(d) if (1..=3650).contains(&d) => Some(now_ms() + d * 86_400_000),
        Some(d) => {
            return Err(ApiError::invalid(
                "expires_in_days",
                format!("expires_in_days must be between 1 and 3650, got {d}"),
            ))
        }
    };
    let token = generate_token();
    let mut tx = state.db.begin_write().await?;
    let id = insert_token(
        &mut tx,
        &principal.account,
        &principal.user_id,
        name.as_str(),
        &token,
        expires_at,
    )
    .await?;
    tx.commit().await?;
    let now = now_ms();
    let created = ApiToken {
        id,
        name: name.as_str().to_owned(),
        prefix: token.prefix.clone(),
        user_id: principal.user_id,
        created_at: rfc3339(now),
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
) -> Result<String, ApiError> {
    let id = new_id();
    sqlx::query(
        "insert into api_tokens (id, account_id, user_id, name, prefix, secret_sha256, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(account.as_str())
    .bind(user_id)
    .bind(name)
    .bind(&token.prefix)
    .bind(&token.sha256)
    .bind(now_ms())
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// Revokes a token of this account; it stops working at once.
#[utoipa::path(delete, path = "/tokens/{token_id}", tag = "account", params(("token_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(token_id): Path<String>,
) -> ApiResult<StatusCode> {
    let done = sqlx::query("update api_tokens set revoked_at = $1 where id = $2 and account_id = $3 and revoked_at is null")
        .bind(now_ms())
        .bind(&token_id)
        .bind(principal.account.as_str())
        .execute(&state.db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("token"));
    }
    Ok(StatusCode::NO_CONTENT)
}
