//! What a sign-in leaves in the database: the pending login (state, PKCE verifier and
//! nonce, single use, short-lived), the user linked to the provider's subject, accepted
//! invitations, and the console session with its rotating refresh secret and the
//! provider's ID token (sealed, bound to the session; kept for the sign-out only).

use rand::RngCore;
use store::Error;

use super::oidc::{login_failed, LoginStart, RawIdToken, VerifiedIdentity};
use store::crypto::{sha256_hex, SecretBox};
use store::db::{new_id, now_ms, Db};
use store::sessions::{NewLoginAttempt, NewSession, Refresh, SignIn};

const LOGIN_AAD: &str = "login_attempt";

/// The associated data binding a sealed ID token to its session: copied into another
/// session's row, it does not open.
fn id_token_aad(session_id: &str) -> String {
    format!("session_id_token:{session_id}")
}

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
    store::sessions::store_login_attempt(
        db,
        &NewLoginAttempt {
            state_sha256: &sha256_hex(start.state.as_bytes()),
            secrets: &sealed,
            return_to,
            expires_at: now + ttl_secs * 1000,
        },
        now,
    )
    .await
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
    let row = store::sessions::take_login_attempt(db, &sha256_hex(state.as_bytes())).await?;
    let attempt = row.ok_or_else(|| {
        login_failed(
            "this sign-in is unknown or was already used (state does not match); start again",
        )
    })?;
    if attempt.expires_at < now_ms() {
        return Err(login_failed(
            "this sign-in took too long and expired; start again",
        ));
    }
    let opened = secrets
        .open(&attempt.secrets, LOGIN_AAD)
        .map_err(Error::internal)?;
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
        return_to: attempt.return_to,
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
    let mut sign_in = SignIn::begin(db).await?;
    let linked = sign_in
        .linked_user(&identity.issuer, &identity.subject)
        .await?;
    let user_id = match linked {
        Some(user_id) => {
            sign_in
                .record_login(&identity.issuer, &identity.subject, now)
                .await?;
            user_id
        }
        None => {
            // A verified email links to the user an operator or an invitation created.
            let user_id = sign_in.ensure_user(&email, &display_name).await?;
            sign_in
                .link_identity(&identity.issuer, &identity.subject, &user_id, now)
                .await?;
            user_id
        }
    };
    let invited = accept_invitations(&mut sign_in, &user_id, &email, now).await?;
    let account_id = match invited {
        Some(account) => account,
        None => match sign_in.oldest_membership(&user_id).await? {
            Some(account) => account,
            None => {
                sign_in
                    .create_account(default_plan, &format!("{display_name}'s account"), &user_id)
                    .await?
            }
        },
    };
    sign_in.commit().await?;
    Ok(SignedIn {
        user_id,
        account_id,
    })
}

/// Turns pending invitations for `email` into memberships; returns the newest one's account.
async fn accept_invitations(
    sign_in: &mut SignIn,
    user_id: &str,
    email: &str,
    now: i64,
) -> Result<Option<String>, Error> {
    let pending = sign_in.pending_invitations(email, now).await?;
    let mut newest = None;
    for invitation in pending {
        sign_in.accept_invitation(&invitation, user_id, now).await?;
        newest = Some(invitation.account_id);
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

/// A session that keeps no ID token (its sign-out ends it at Sluice only).
pub async fn create_session(
    db: &Db,
    user_id: &str,
    account_id: &str,
    ttl_secs: i64,
) -> Result<Session, Error> {
    insert_session(db, user_id, account_id, ttl_secs, |_| Ok(None)).await
}

/// The session of a sign-in through the provider, keeping its ID token sealed so the
/// sign-out can end the provider's session too.
pub async fn create_signed_in_session(
    db: &Db,
    secrets: &SecretBox,
    user_id: &str,
    account_id: &str,
    ttl_secs: i64,
    id_token: &RawIdToken,
) -> Result<Session, Error> {
    insert_session(db, user_id, account_id, ttl_secs, |id| {
        secrets
            .seal(id_token.expose().as_bytes(), &id_token_aad(id))
            .map(Some)
            .map_err(Error::internal)
    })
    .await
}

/// Inserts a session; `sealed_id_token` seals what the new session's id is bound to.
async fn insert_session(
    db: &Db,
    user_id: &str,
    account_id: &str,
    ttl_secs: i64,
    sealed_id_token: impl FnOnce(&str) -> Result<Option<String>, Error>,
) -> Result<Session, Error> {
    let id = new_id();
    let secret = refresh_secret();
    let now = now_ms();
    let expires = now + ttl_secs * 1000;
    let id_token = sealed_id_token(&id)?;
    store::sessions::create(
        db,
        &NewSession {
            id: &id,
            user_id,
            account_id,
            refresh_sha256: &sha256_hex(secret.as_bytes()),
            created_at: now,
            expires_at: expires,
            id_token: id_token.as_deref(),
        },
    )
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
    let secret = refresh_secret();
    let rotated = match store::sessions::refresh(db, &hash, &sha256_hex(secret.as_bytes()), now)
        .await?
    {
        Refresh::Rotated(session) => session,
        Refresh::Reused => {
            tracing::warn!("a rotated refresh token was presented again; its session is revoked");
            return Err(Error::unauthorized("this refresh token was already used; the session is ended for safety, sign in again"));
        }
        Refresh::Unknown => {
            return Err(Error::unauthorized(
                "the refresh token is unknown; sign in again",
            ))
        }
        Refresh::Ended => {
            return Err(Error::unauthorized("the session has ended; sign in again"));
        }
    };
    Ok(Session {
        id: rotated.id,
        user_id: rotated.user_id,
        account_id: rotated.account_id,
        refresh_secret: secret,
        expires_at_ms: rotated.expires_at,
    })
}

/// Ends a session: its access tokens stop working on their next request. Returns the
/// provider's ID token the session kept, for signing out there too (cleared from the
/// database with the session's end). One that does not open (the secrets key changed
/// since the sign-in) is left out: the sign-out at Sluice does not depend on it.
pub async fn revoke_session(
    db: &Db,
    secrets: &SecretBox,
    session_id: &str,
) -> Result<Option<RawIdToken>, Error> {
    let Some(sealed) = store::sessions::revoke(db, session_id).await? else {
        return Ok(None);
    };
    let opened = secrets
        .open(&sealed, &id_token_aad(session_id))
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok());
    if opened.is_none() {
        tracing::warn!(session = %session_id, "the session's ID token does not open with the secrets key; signing out without id_token_hint");
    }
    Ok(opened.map(RawIdToken::new))
}

/// Moves a session to another account the user belongs to.
pub async fn switch_account(
    db: &Db,
    session_id: &str,
    user_id: &str,
    account_id: &str,
) -> Result<(), Error> {
    if !store::sessions::switch_account(db, session_id, user_id, account_id).await? {
        return Err(Error::not_found("account").with_field("account_id"));
    }
    Ok(())
}
