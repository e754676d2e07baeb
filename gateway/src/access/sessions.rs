//! What a sign-in leaves in the database: the pending login (state, PKCE verifier and
//! nonce, single use, short-lived), the user linked to the provider's subject, accepted
//! invitations, and the console session with its rotating refresh secret.

use rand::RngCore;
use store::Error;

use super::oidc::{login_failed, LoginStart, VerifiedIdentity};
use crate::admin::insert_account;
use store::crypto::{sha256_hex, SecretBox};
use store::db::{new_id, now_ms, Db, Tx};

const LOGIN_AAD: &str = "login_attempt";

/// Keeps what the callback needs; only a hash of `state` is stored, the PKCE
/// verifier and nonce are encrypted, and so is a hash of the secret in the starting
/// browser's cookie, which the callback must present.
pub async fn store_login_attempt(
    db: &Db,
    secrets: &SecretBox,
    start: &LoginStart,
    browser_secret: &str,
    return_to: &str,
    ttl_secs: i64,
) -> Result<(), Error> {
    let sealed = secrets
        .seal(
            serde_json::json!({
                "verifier": start.pkce_verifier,
                "nonce": start.nonce,
                "browser": sha256_hex(browser_secret.as_bytes()),
            })
            .to_string()
            .as_bytes(),
            LOGIN_AAD,
        )
        .map_err(Error::internal)?;
    let now = now_ms();
    // Expired attempts are swept here, where they are written, rather than by a worker.
    sqlx::query("delete from login_attempts where expires_at < $1")
        .bind(now)
        .execute(&db.pool)
        .await?;
    sqlx::query("insert into login_attempts (state_sha256, secrets, return_to, expires_at) values ($1, $2, $3, $4)")
        .bind(sha256_hex(start.state.as_bytes()))
        .bind(sealed)
        .bind(return_to)
        .bind(now + ttl_secs * 1000)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub struct PendingLogin {
    pub pkce_verifier: String,
    pub nonce: String,
    pub return_to: String,
}

/// Consumes the login started with `state`: a second callback with it finds nothing.
/// `browser_secret` is the starting browser's cookie; without the right one the
/// attempt is spent and refused.
pub async fn take_login_attempt(
    db: &Db,
    secrets: &SecretBox,
    state: &str,
    browser_secret: Option<&str>,
) -> Result<PendingLogin, Error> {
    let row: Option<(String, String, i64)> = sqlx::query_as(
        "delete from login_attempts where state_sha256 = $1 returning secrets, return_to, expires_at",
    )
    .bind(sha256_hex(state.as_bytes()))
    .fetch_optional(&db.pool)
    .await?;
    let (sealed, return_to, expires_at) = row.ok_or_else(|| {
        login_failed(
            "this sign-in is unknown or was already used (state does not match); start again",
        )
    })?;
    if expires_at < now_ms() {
        return Err(login_failed(
            "this sign-in took too long and expired; start again",
        ));
    }
    let opened = secrets.open(&sealed, LOGIN_AAD).map_err(Error::internal)?;
    let value: serde_json::Value = serde_json::from_slice(&opened).map_err(Error::internal)?;
    let field = |k: &str| {
        value[k]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::internal(format!("login attempt without {k}")))
    };
    let same_browser = browser_secret
        .is_some_and(|secret| field("browser").is_ok_and(|h| h == sha256_hex(secret.as_bytes())));
    if !same_browser {
        return Err(Error::new(
            store::Kind::Forbidden,
            "sign_in_elsewhere",
            "this sign-in was started in another browser (or this browser kept no cookie from its start); start again here",
        ));
    }
    Ok(PendingLogin {
        pkce_verifier: field("verifier")?,
        nonce: field("nonce")?,
        return_to,
    })
}

pub struct SignedIn {
    pub user_id: String,
    pub account_id: String,
}

/// Finds or creates the user for a verified identity, accepts the invitations waiting
/// for their email, and picks the account to work in: the newest invitation's, else
/// the oldest membership, else a new account of their own (a first sign-up).
pub async fn provision(
    db: &Db,
    identity: &VerifiedIdentity,
    default_plan: &str,
) -> Result<SignedIn, Error> {
    let email = match (&identity.email, identity.email_verified) {
        (Some(email), true) => email.trim().to_lowercase(),
        (Some(_), false) => {
            return Err(Error::new(
                store::Kind::Forbidden,
                "email_not_verified",
                "your identity provider has not verified your email address; verify it there and sign in again",
            ))
        }
        (None, _) => return Err(login_failed("the identity provider shared no email address (scope `email`)")),
    };
    let display_name = identity.name.clone().unwrap_or_else(|| email.clone());
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let linked: Option<(String,)> =
        sqlx::query_as("select user_id from user_identities where issuer = $1 and subject = $2")
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .fetch_optional(&mut *tx)
            .await?;
    let user_id = match linked {
        Some((user_id,)) => {
            sqlx::query(
                "update user_identities set last_login_at = $1 where issuer = $2 and subject = $3",
            )
            .bind(now)
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .execute(&mut *tx)
            .await?;
            user_id
        }
        None => {
            // A verified email links to the user an operator or an invitation created.
            let user_id = crate::api::accounts::ensure_user(&mut tx, &email, &display_name).await?;
            sqlx::query(
                "insert into user_identities (issuer, subject, user_id, created_at, last_login_at) values ($1, $2, $3, $4, $4)",
            )
            .bind(&identity.issuer)
            .bind(&identity.subject)
            .bind(&user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            user_id
        }
    };
    let invited = accept_invitations(&mut tx, &user_id, &email, now).await?;
    let account_id = match invited {
        Some(account) => account,
        None => {
            let oldest: Option<(String,)> = sqlx::query_as(
                "select account_id from account_members where user_id = $1 order by created_at, account_id limit 1",
            )
            .bind(&user_id)
            .fetch_optional(&mut *tx)
            .await?;
            match oldest {
                Some((account,)) => account,
                None => {
                    insert_account(
                        &mut tx,
                        default_plan,
                        &format!("{display_name}'s account"),
                        &user_id,
                    )
                    .await?
                }
            }
        }
    };
    tx.commit().await?;
    Ok(SignedIn {
        user_id,
        account_id,
    })
}

/// id, account, account role, project, project role.
type InvitationRow = (String, String, String, Option<String>, Option<String>);

/// Turns pending invitations for `email` into memberships; returns the newest one's account.
async fn accept_invitations(
    tx: &mut Tx,
    user_id: &str,
    email: &str,
    now: i64,
) -> Result<Option<String>, Error> {
    let pending: Vec<InvitationRow> = sqlx::query_as(
        "select id, account_id, role, project_id, project_role from invitations
          where email = $1 and accepted_at is null and revoked_at is null and expires_at > $2 order by id",
    )
    .bind(email)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    let mut newest = None;
    for (id, account, role, project, project_role) in pending {
        let (already,): (i64,) = sqlx::query_as(
            "select count(*) from account_members where account_id = $1 and user_id = $2",
        )
        .bind(&account)
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?;
        if already == 0 {
            sqlx::query("insert into account_members (account_id, user_id, role, created_at) values ($1, $2, $3, $4)")
                .bind(&account)
                .bind(user_id)
                .bind(&role)
                .bind(now)
                .execute(&mut **tx)
                .await?;
        }
        if let (Some(project), Some(project_role)) = (project, project_role) {
            sqlx::query(
                "insert into project_members (project_id, user_id, role, created_at)
                 select $1, $2, $3, $4 where not exists (select 1 from project_members where project_id = $1 and user_id = $2)",
            )
            .bind(&project)
            .bind(user_id)
            .bind(&project_role)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query("update invitations set accepted_at = $1, accepted_by = $2 where id = $3")
            .bind(now)
            .bind(user_id)
            .bind(&id)
            .execute(&mut **tx)
            .await?;
        newest = Some(account);
    }
    Ok(newest)
}

fn refresh_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    hex::encode(raw)
}

pub struct Session {
    pub id: String,
    pub user_id: String,
    pub account_id: String,
    pub refresh_secret: String,
    pub expires_at_ms: i64,
}

pub async fn create_session(
    db: &Db,
    user_id: &str,
    account_id: &str,
    ttl_secs: i64,
) -> Result<Session, Error> {
    let id = new_id();
    let secret = refresh_secret();
    let now = now_ms();
    let expires = now + ttl_secs * 1000;
    sqlx::query(
        "insert into sessions (id, user_id, account_id, refresh_sha256, created_at, refreshed_at, expires_at)
         values ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(account_id)
    .bind(sha256_hex(secret.as_bytes()))
    .bind(now)
    .bind(expires)
    .execute(&db.pool)
    .await?;
    Ok(Session {
        id,
        user_id: user_id.to_owned(),
        account_id: account_id.to_owned(),
        refresh_secret: secret,
        expires_at_ms: expires,
    })
}

/// Exchanges a refresh secret for a new one. Presenting a secret that was already
/// rotated away means it leaked (or a client raced itself): the session is revoked.
pub async fn refresh_session(db: &Db, presented: &str) -> Result<Session, Error> {
    let hash = sha256_hex(presented.as_bytes());
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let row: Option<(String, String, String, i64, Option<i64>)> = sqlx::query_as(&format!(
        "select id, user_id, account_id, expires_at, revoked_at from sessions where refresh_sha256 = $1{}",
        db.for_update()
    ))
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, user_id, account_id, expires_at, revoked_at)) = row else {
        let reused = sqlx::query("update sessions set revoked_at = $1 where previous_refresh_sha256 = $2 and revoked_at is null")
            .bind(now)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if reused.rows_affected() > 0 {
            tracing::warn!("a rotated refresh token was presented again; its session is revoked");
            return Err(Error::unauthorized("this refresh token was already used; the session is ended for safety, sign in again"));
        }
        return Err(Error::unauthorized(
            "the refresh token is unknown; sign in again",
        ));
    };
    if revoked_at.is_some() || expires_at <= now {
        return Err(Error::unauthorized("the session has ended; sign in again"));
    }
    let secret = refresh_secret();
    sqlx::query(
        "update sessions set refresh_sha256 = $1, previous_refresh_sha256 = $2, refreshed_at = $3 where id = $4",
    )
    .bind(sha256_hex(secret.as_bytes()))
    .bind(&hash)
    .bind(now)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Session {
        id,
        user_id,
        account_id,
        refresh_secret: secret,
        expires_at_ms: expires_at,
    })
}

/// Ends a session: its access tokens stop working on their next request.
pub async fn revoke_session(db: &Db, session_id: &str) -> Result<(), Error> {
    sqlx::query("update sessions set revoked_at = $1 where id = $2 and revoked_at is null")
        .bind(now_ms())
        .bind(session_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Moves a session to another account the user belongs to.
pub async fn switch_account(
    db: &Db,
    session_id: &str,
    user_id: &str,
    account_id: &str,
) -> Result<(), Error> {
    let (member,): (i64,) = sqlx::query_as(
        "select count(*) from account_members where account_id = $1 and user_id = $2",
    )
    .bind(account_id)
    .bind(user_id)
    .fetch_one(&db.pool)
    .await?;
    if member == 0 {
        return Err(Error::not_found("account").with_field("account_id"));
    }
    sqlx::query("update sessions set account_id = $1 where id = $2")
        .bind(account_id)
        .bind(session_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
