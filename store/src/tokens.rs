//! API tokens: each belongs to one user in one account. Only the secret's SHA-256 is
//! stored, with its first characters (the prefix) to recognise it by.

use crate::all_tenants::AllTenantsWrite;
use crate::db::{new_id, now_ms, Db, Tx};
use crate::scope::{AccountScope, AccountWrite};
use crate::{Error, Page};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub user_id: String,
    pub scope_project_id: Option<String>,
    pub scope_role: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A token to store: its secret is already hashed.
pub struct NewToken<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_sha256: &'a str,
    pub expires_at: Option<i64>,
    /// The one project the token may act on, and the most it may do there.
    pub scope: Option<(&'a str, &'a str)>,
}

/// The account's API tokens.
pub struct Tokens<'a>(&'a AccountScope);

impl AccountScope {
    pub fn tokens(&self) -> Tokens<'_> {
        Tokens(self)
    }
}

impl Tokens<'_> {
    /// One page of a user's live (not revoked) tokens in id order.
    pub async fn list_live(&self, user_id: &str, page: &Page) -> Result<Vec<TokenRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select id, name, prefix, user_id, scope_project_id, scope_role, created_at, expires_at, last_used_at
               from api_tokens
              where account_id = $1 and user_id = $2 and revoked_at is null and id > $3 order by id limit $4",
        )
        .bind(scope.account_id())
        .bind(user_id)
        .bind(&page.after)
        .bind(page.fetch())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    pub async fn insert(&self, token: &NewToken<'_>) -> Result<String, Error> {
        let scope = self.0;
        let mut tx = scope.db().begin_write().await?;
        let id = insert(&mut tx, scope.account_id(), token).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Revokes a live token of `user_id` (of anyone in the account with
    /// `any_user`); false when there is no such token.
    pub async fn revoke(
        &self,
        token_id: &str,
        user_id: &str,
        any_user: bool,
    ) -> Result<bool, Error> {
        let scope = self.0;
        let done = sqlx::query(
            "update api_tokens set revoked_at = $1
              where id = $2 and account_id = $3 and (user_id = $4 or $5) and revoked_at is null",
        )
        .bind(now_ms())
        .bind(token_id)
        .bind(scope.account_id())
        .bind(user_id)
        .bind(any_user)
        .execute(&scope.db().pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Stores a token of `account_id` inside `tx`: for a request, through
/// [`Tokens::insert`]; for the operator's commands, which create the account it
/// belongs to in the same transaction.
pub async fn insert(tx: &mut Tx, account_id: &str, token: &NewToken<'_>) -> Result<String, Error> {
    let id = new_id();
    sqlx::query(
        "insert into api_tokens (id, account_id, user_id, name, prefix, secret_sha256, created_at, expires_at,
                                 scope_project_id, scope_role)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(token.user_id)
    .bind(token.name)
    .bind(token.prefix)
    .bind(token.secret_sha256)
    .bind(now_ms())
    .bind(token.expires_at)
    .bind(token.scope.map(|(p, _)| p))
    .bind(token.scope.map(|(_, r)| r))
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// The operator's commands store a token in the transaction that creates its account.
impl AllTenantsWrite {
    pub async fn insert_token(
        &mut self,
        account_id: &str,
        token: &NewToken<'_>,
    ) -> Result<String, Error> {
        insert(self.tx(), account_id, token).await
    }
}

/// An account's tokens inside its locked write transaction.
pub struct TokenWrites<'a>(&'a mut AccountWrite);

impl AccountWrite {
    pub fn tokens(&mut self) -> TokenWrites<'_> {
        TokenWrites(self)
    }
}

impl TokenWrites<'_> {
    /// Revokes every live token of `user_id` in the account.
    pub async fn revoke_all_of(&mut self, user_id: &str, now: i64) -> Result<(), Error> {
        let (tx, account_id) = self.0.parts();
        sqlx::query("update api_tokens set revoked_at = $1 where account_id = $2 and user_id = $3 and revoked_at is null")
            .bind(now)
            .bind(account_id)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// A live token presented by a request, with who it acts as.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PresentedTokenRow {
    pub id: String,
    pub account_id: String,
    pub user_id: String,
    /// The account's plan.
    pub plan: String,
    /// The user's role in the account.
    pub role: String,
    pub last_used_at: Option<i64>,
    pub scope_project_id: Option<String>,
    pub scope_role: Option<String>,
}

/// The live token whose secret hashes to `secret_sha256`, before any tenant is known:
/// `None` when it is unknown, revoked, expired at `now`, or its user left the account.
pub async fn authenticate(
    db: &Db,
    secret_sha256: &str,
    now: i64,
) -> Result<Option<PresentedTokenRow>, Error> {
    // The join on account_members: a token stops working when its user leaves the account.
    Ok(sqlx::query_as(
        "select t.id, t.account_id, t.user_id, a.plan, m.role, t.last_used_at, t.scope_project_id, t.scope_role
           from api_tokens t
           join accounts a on a.id = t.account_id
           join account_members m on m.account_id = t.account_id and m.user_id = t.user_id
          where t.secret_sha256 = $1 and t.revoked_at is null
            and (t.expires_at is null or t.expires_at > $2)",
    )
    .bind(secret_sha256)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?)
}

/// Records that the token was used at `now`.
pub async fn mark_used(db: &Db, token_id: &str, now: i64) -> Result<(), Error> {
    sqlx::query("update api_tokens set last_used_at = $1 where id = $2")
        .bind(now)
        .bind(token_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
