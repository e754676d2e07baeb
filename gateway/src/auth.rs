//! Authentication. Every handler that touches tenant data takes a [`Principal`], and
//! the only way to get one is this extractor; storage functions take the principal's
//! [`AccountId`], whose field is private, so a query cannot be scoped to an account
//! the caller did not authenticate for.
//!
//! For now the credential is an API token (`Authorization: Bearer slc_...`): 32 random
//! bytes, stored only as a SHA-256 (a fast hash is right for high-entropy secrets).

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use rand::RngCore;

use crate::crypto::sha256_hex;
use crate::db::{now_ms, Db};
use crate::error::ApiError;
use crate::AppState;

pub const TOKEN_PREFIX: &str = "slc_";
/// Characters of the token shown in lists, to tell tokens apart.
const SHOWN_PREFIX_LEN: usize = 12;
/// `last_used_at` is refreshed at most this often, to keep reads from writing.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

/// An account id that came from an authenticated principal (or the operator CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountId(String);

impl AccountId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For the operator CLI, which acts on an account it just created.
    pub(crate) fn trusted(id: String) -> Self {
        Self(id)
    }
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub account: AccountId,
    pub user_id: String,
    pub token_id: String,
    pub plan: String,
}

pub struct NewToken {
    pub secret: String,
    pub prefix: String,
    pub sha256: String,
}

pub fn generate_token() -> NewToken {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(raw));
    NewToken {
        prefix: secret[..SHOWN_PREFIX_LEN].to_owned(),
        sha256: sha256_hex(secret.as_bytes()),
        secret,
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing `Authorization: Bearer <token>` header")
        })?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(ApiError::unauthorized("unknown token format"));
        }
        let principal = lookup(&state.db, token).await?;
        let principal = principal
            .ok_or_else(|| ApiError::unauthorized("the token is unknown, revoked or expired"))?;
        tracing::Span::current().record("account", principal.account.as_str());
        Ok(principal)
    }
}

async fn lookup(db: &Db, token: &str) -> Result<Option<Principal>, ApiError> {
    let now = now_ms();
    let row: Option<(String, String, String, String, Option<i64>)> = sqlx::query_as(
        "select t.id, t.account_id, t.user_id, a.plan, t.last_used_at
           from api_tokens t join accounts a on a.id = t.account_id
          where t.secret_sha256 = $1 and t.revoked_at is null
            and (t.expires_at is null or t.expires_at > $2)",
    )
    .bind(sha256_hex(token.as_bytes()))
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    let Some((token_id, account_id, user_id, plan, last_used)) = row else {
        return Ok(None);
    };
    if last_used.is_none_or(|t| now - t > LAST_USED_GRANULARITY_MS) {
        sqlx::query("update api_tokens set last_used_at = $1 where id = $2")
            .bind(now)
            .bind(&token_id)
            .execute(&db.pool)
            .await?;
    }
    Ok(Some(Principal {
        account: AccountId(account_id),
        user_id,
        token_id,
        plan,
    }))
}
