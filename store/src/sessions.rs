//! People, their sign-in sessions and the tokens a request presents (read before any tenant is known).
//!
//! A sign-in leaves: the pending login (state hash, sealed secrets, single use,
//! short-lived), the user linked to the provider's subject ([`SignIn`]), and the
//! console session with its rotating refresh secret (stored as hashes only) and the
//! provider's ID token (sealed, kept for the sign-out and cleared when the session ends).

use crate::accounts::{ensure_user, insert_account};
use crate::db::{now_ms, Db, Tx};
use crate::members::is_account_member;
use crate::scope::AccountWrite;
use crate::Error;

/// A login started and not yet finished.
pub struct NewLoginAttempt<'a> {
    pub state_sha256: &'a str,
    /// What the callback needs, sealed.
    pub secrets: &'a str,
    pub return_to: &'a str,
    pub expires_at: i64,
}

/// Stores a login attempt, sweeping the expired ones first (here, where they are
/// written, rather than by a worker).
pub async fn store_login_attempt(
    db: &Db,
    attempt: &NewLoginAttempt<'_>,
    now: i64,
) -> Result<(), Error> {
    sqlx::query("delete from login_attempts where expires_at < $1")
        .bind(now)
        .execute(&db.pool)
        .await?;
    sqlx::query("insert into login_attempts (state_sha256, secrets, return_to, expires_at) values ($1, $2, $3, $4)")
        .bind(attempt.state_sha256)
        .bind(attempt.secrets)
        .bind(attempt.return_to)
        .bind(attempt.expires_at)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginAttemptRow {
    pub secrets: String,
    pub return_to: String,
    pub expires_at: i64,
}

/// Deletes and returns the login attempt with this state hash: a second take finds
/// nothing.
pub async fn take_login_attempt(
    db: &Db,
    state_sha256: &str,
) -> Result<Option<LoginAttemptRow>, Error> {
    Ok(sqlx::query_as(
        "delete from login_attempts where state_sha256 = $1 returning secrets, return_to, expires_at",
    )
    .bind(state_sha256)
    .fetch_optional(&db.pool)
    .await?)
}

/// The write transaction of one sign-in: the user, their identity, the invitations
/// they accept and the account they land in, committed together.
pub struct SignIn {
    tx: Tx,
}

impl SignIn {
    pub async fn begin(db: &Db) -> Result<Self, Error> {
        Ok(Self {
            tx: db.begin_write().await?,
        })
    }

    pub(crate) fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// The user linked to the provider's subject, if any.
    pub async fn linked_user(
        &mut self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<String>, Error> {
        let linked: Option<(String,)> = sqlx::query_as(
            "select user_id from user_identities where issuer = $1 and subject = $2",
        )
        .bind(issuer)
        .bind(subject)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(linked.map(|(user_id,)| user_id))
    }

    pub async fn record_login(
        &mut self,
        issuer: &str,
        subject: &str,
        now: i64,
    ) -> Result<(), Error> {
        sqlx::query(
            "update user_identities set last_login_at = $1 where issuer = $2 and subject = $3",
        )
        .bind(now)
        .bind(issuer)
        .bind(subject)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Finds the user with this (lower-cased) email or creates it.
    pub async fn ensure_user(&mut self, email: &str, display_name: &str) -> Result<String, Error> {
        ensure_user(&mut self.tx, email, display_name).await
    }

    /// Links the provider's subject to `user_id`, signed in now.
    pub async fn link_identity(
        &mut self,
        issuer: &str,
        subject: &str,
        user_id: &str,
        now: i64,
    ) -> Result<(), Error> {
        sqlx::query(
            "insert into user_identities (issuer, subject, user_id, created_at, last_login_at) values ($1, $2, $3, $4, $4)",
        )
        .bind(issuer)
        .bind(subject)
        .bind(user_id)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The account the user joined first, if any.
    pub async fn oldest_membership(&mut self, user_id: &str) -> Result<Option<String>, Error> {
        let oldest: Option<(String,)> = sqlx::query_as(
            "select account_id from account_members where user_id = $1 order by created_at, account_id limit 1",
        )
        .bind(user_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(oldest.map(|(account,)| account))
    }

    /// Creates an account on `plan` with `owner` as its owner.
    pub async fn create_account(
        &mut self,
        plan: &str,
        name: &str,
        owner: &str,
    ) -> Result<String, Error> {
        insert_account(&mut self.tx, plan, name, owner).await
    }

    pub async fn commit(self) -> Result<(), Error> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// A session to store: its refresh secret is already hashed.
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub account_id: &'a str,
    pub refresh_sha256: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
    /// The provider's ID token from the sign-in, already sealed.
    pub id_token: Option<&'a str>,
}

pub async fn create(db: &Db, session: &NewSession<'_>) -> Result<(), Error> {
    sqlx::query(
        "insert into sessions (id, user_id, account_id, refresh_sha256, created_at, refreshed_at, expires_at, id_token)
         values ($1, $2, $3, $4, $5, $5, $6, $7)",
    )
    .bind(session.id)
    .bind(session.user_id)
    .bind(session.account_id)
    .bind(session.refresh_sha256)
    .bind(session.created_at)
    .bind(session.expires_at)
    .bind(session.id_token)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The session a refresh secret was rotated into.
#[derive(Debug, Clone)]
pub struct RotatedSession {
    pub id: String,
    pub user_id: String,
    pub account_id: String,
    pub expires_at: i64,
}

/// What presenting a refresh secret came to.
#[derive(Debug, Clone)]
pub enum Refresh {
    /// The secret was current: it is replaced by the new one.
    Rotated(RotatedSession),
    /// The secret was already rotated away: its session is now revoked.
    Reused,
    /// No session knows the secret.
    Unknown,
    /// The session was revoked or expired; nothing changed.
    Ended,
}

/// Replaces the refresh secret hashed `presented_sha256` by `new_sha256`, under the
/// session's row lock. Presenting a secret that was already rotated away revokes the
/// session it belonged to.
pub async fn refresh(
    db: &Db,
    presented_sha256: &str,
    new_sha256: &str,
    now: i64,
) -> Result<Refresh, Error> {
    let mut tx = db.begin_write().await?;
    let row: Option<(String, String, String, i64, Option<i64>)> = sqlx::query_as(&format!(
        "select id, user_id, account_id, expires_at, revoked_at from sessions where refresh_sha256 = $1{}",
        db.for_update()
    ))
    .bind(presented_sha256)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, user_id, account_id, expires_at, revoked_at)) = row else {
        let reused = sqlx::query("update sessions set revoked_at = $1, id_token = null where previous_refresh_sha256 = $2 and revoked_at is null")
            .bind(now)
            .bind(presented_sha256)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(if reused.rows_affected() > 0 {
            Refresh::Reused
        } else {
            Refresh::Unknown
        });
    };
    if revoked_at.is_some() || expires_at <= now {
        return Ok(Refresh::Ended);
    }
    sqlx::query(
        "update sessions set refresh_sha256 = $1, previous_refresh_sha256 = $2, refreshed_at = $3 where id = $4",
    )
    .bind(new_sha256)
    .bind(presented_sha256)
    .bind(now)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Refresh::Rotated(RotatedSession {
        id,
        user_id,
        account_id,
        expires_at,
    }))
}

/// Ends a session: its access tokens stop working on their next request. Returns the
/// provider's ID token it kept (sealed), which is cleared with it: the sign-out is the
/// one use it was kept for. A session already ended returns none.
pub async fn revoke(db: &Db, session_id: &str) -> Result<Option<String>, Error> {
    let mut tx = db.begin_write().await?;
    let row: Option<(Option<String>,)> = sqlx::query_as(&format!(
        "select id_token from sessions where id = $1 and revoked_at is null{}",
        db.for_update()
    ))
    .bind(session_id)
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query(
        "update sessions set revoked_at = $1, id_token = null where id = $2 and revoked_at is null",
    )
    .bind(now_ms())
    .bind(session_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.and_then(|(id_token,)| id_token))
}

/// Moves a session to another account of its user; false (nothing changed) when the
/// user is no member of that account.
pub async fn switch_account(
    db: &Db,
    session_id: &str,
    user_id: &str,
    account_id: &str,
) -> Result<bool, Error> {
    if !is_account_member(&db.pool, account_id, user_id).await? {
        return Ok(false);
    }
    sqlx::query("update sessions set account_id = $1 where id = $2")
        .bind(account_id)
        .bind(session_id)
        .execute(&db.pool)
        .await?;
    Ok(true)
}

/// The caller's role in the account and the account's plan, for a live session of
/// `user_id` acting in `account_id`; `None` once the session ended or the membership
/// is gone.
pub async fn authenticate(
    db: &Db,
    session_id: &str,
    user_id: &str,
    account_id: &str,
    now: i64,
) -> Result<Option<(String, String)>, Error> {
    // Checked on every request so that logout and a removed membership count at once,
    // not when the access token expires.
    Ok(sqlx::query_as(
        "select m.role, a.plan from sessions s
           join account_members m on m.user_id = s.user_id and m.account_id = $3
           join accounts a on a.id = m.account_id
          where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.expires_at > $4",
    )
    .bind(session_id)
    .bind(user_id)
    .bind(account_id)
    .bind(now)
    .fetch_optional(&db.pool)
    .await?)
}

/// An account's sessions inside its locked write transaction.
pub struct SessionWrites<'a>(&'a mut AccountWrite);

impl AccountWrite {
    pub fn sessions(&mut self) -> SessionWrites<'_> {
        SessionWrites(self)
    }
}

impl SessionWrites<'_> {
    /// Ends every live session of `user_id` in the account.
    pub async fn revoke_all_of(&mut self, user_id: &str, now: i64) -> Result<(), Error> {
        let (tx, account_id) = self.0.parts();
        sqlx::query("update sessions set revoked_at = $1, id_token = null where account_id = $2 and user_id = $3 and revoked_at is null")
            .bind(now)
            .bind(account_id)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
