//! Authentication: who is calling, in which account, with what role.
//!
//! Two credentials, both sent as `Authorization: Bearer ...` (or, for the console, in
//! the `sluice_access` cookie):
//! - API tokens `slc_` + 64 hex: 32 random bytes, stored only as a SHA-256 (a fast hash
//!   is right for high-entropy secrets). A token acts as its user, optionally narrowed
//!   to one project and role, and stops working when it expires, is revoked, or its
//!   user leaves the account.
//! - Access tokens (JWT) issued after an OIDC login, bound to a session that logout
//!   or refresh-token reuse revokes at once.
//!
//! Either way the account role is read from the database on each request.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use rand::RngCore;
use store::Error;

use super::audit::{Actor, AuditSlot};
use super::jwt::ACCESS_COOKIE;
use super::roles::{stored, AccountRole, ProjectRole};
use crate::error::ApiError;
use crate::AppState;
use store::crypto::sha256_hex;
use store::db::{now_ms, Db};

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session {
        id: String,
    },
    Token {
        id: String,
        /// A token narrowed to one project, with at most this role there.
        project_scope: Option<(String, ProjectRole)>,
    },
}

impl Credential {
    /// How the audit log names the credential.
    pub fn label(&self) -> String {
        match self {
            Self::Session { id } => format!("session:{id}"),
            Self::Token { id, .. } => format!("token:{id}"),
        }
    }
}

/// An authenticated caller. Its account is readable only by the authorizer.
#[derive(Debug, Clone)]
pub struct Principal {
    pub(super) account: AccountId,
    pub(super) account_role: AccountRole,
    pub(super) user_id: String,
    pub(super) plan: String,
    pub(super) credential: Credential,
}

impl Principal {
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    pub(super) fn project_scope(&self) -> Option<(&str, ProjectRole)> {
        match &self.credential {
            Credential::Token {
                project_scope: Some((project, role)),
                ..
            } => Some((project.as_str(), *role)),
            Credential::Token { .. } | Credential::Session { .. } => None,
        }
    }

    /// A project-scoped token carries no account powers beyond reading the account.
    pub(super) fn effective_account_role(&self) -> AccountRole {
        if self.project_scope().is_some() {
            AccountRole::Member
        } else {
            self.account_role
        }
    }
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

/// The credential of a request: the bearer token, else the console's cookie.
pub fn presented_credential(parts: &Parts) -> Result<Option<String>, Error> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| Error::unauthorized("the Authorization header is not valid text"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                Error::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        return Ok(Some(token.to_owned()));
    }
    Ok(cookie(&parts.headers, ACCESS_COOKIE))
}

/// One cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Several extractors of one handler may ask; authenticate once.
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let token = presented_credential(parts)?.ok_or_else(|| {
            Error::unauthorized("sign in, or send `Authorization: Bearer <token>`")
        })?;
        let principal = if token.starts_with(TOKEN_PREFIX) {
            lookup_api_token(&state.db, &token).await?
        } else {
            let claims = state.session_keys.verify(&token)?;
            lookup_session(&state.db, &claims).await?
        };
        tracing::Span::current().record("account", principal.account.as_str());
        if let Some(slot) = parts.extensions.get::<AuditSlot>() {
            slot.set(Actor {
                account_id: principal.account.as_str().to_owned(),
                user_id: principal.user_id.clone(),
                credential: principal.credential.label(),
            });
        }
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

async fn lookup_api_token(db: &Db, token: &str) -> Result<Principal, Error> {
    let now = now_ms();
    let row = store::tokens::authenticate(db, &sha256_hex(token.as_bytes()), now).await?;
    let Some(row) = row else {
        return Err(Error::unauthorized(
            "the token is unknown, revoked or expired",
        ));
    };
    let project_scope = match (row.scope_project_id, row.scope_role) {
        (Some(project), Some(role)) => Some((project, stored::<ProjectRole>(&role)?)),
        // A scope whose project was deleted: the token must not widen to the account.
        (None, Some(_)) => return Err(Error::unauthorized("the token's project no longer exists")),
        (_, None) => None,
    };
    if row
        .last_used_at
        .is_none_or(|t| now - t > LAST_USED_GRANULARITY_MS)
    {
        store::tokens::mark_used(db, &row.id, now).await?;
    }
    Ok(Principal {
        account: AccountId(row.account_id),
        account_role: stored(&row.role)?,
        user_id: row.user_id,
        plan: row.plan,
        credential: Credential::Token {
            id: row.id,
            project_scope,
        },
    })
}

async fn lookup_session(db: &Db, claims: &super::jwt::AccessClaims) -> Result<Principal, Error> {
    // Checked on every request so that logout and a removed membership count at once,
    // not when the access token expires.
    let row =
        store::sessions::authenticate(db, &claims.sid, &claims.sub, &claims.acc, now_ms()).await?;
    let (role, plan) =
        row.ok_or_else(|| Error::unauthorized("the session has ended; sign in again"))?;
    Ok(Principal {
        account: AccountId(claims.acc.clone()),
        account_role: stored(&role)?,
        user_id: claims.sub.clone(),
        plan,
        credential: Credential::Session {
            id: claims.sid.clone(),
        },
    })
}
