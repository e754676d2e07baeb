//! Operator actions that run outside the HTTP API (`sluice admin ...`), and the
//! provisioning steps they share with sign-in.

use crate::access::roles::{AccountRole, ProjectRole};
use crate::access::{generate_token, AccountId};
use crate::api::accounts::ensure_user;
use crate::api::tokens::insert_token;
use store::db::{new_id, now_ms, Db, Tx};
use store::names::Name;
use store::Error;

pub struct CreatedAccount {
    pub account_id: String,
    pub user_id: String,
    pub token: String,
}

/// Creates an account on `plan` with its owner and a first API token for that owner.
pub async fn create_account(
    db: &Db,
    plan: &str,
    name: &str,
    owner_email: &str,
) -> Result<CreatedAccount, Error> {
    let name = Name::parse("name", name)?;
    let email = store::names::email("owner_email", owner_email)?;
    let mut tx = db.begin_write().await?;
    let user_id = ensure_user(&mut tx, &email, &email).await?;
    let account_id = insert_account(&mut tx, plan, name.as_str(), &user_id).await?;
    let token = generate_token();
    insert_token(
        &mut tx,
        &AccountId::trusted(account_id.clone()),
        &user_id,
        "initial owner token",
        &token,
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedAccount {
        account_id,
        user_id,
        token: token.secret,
    })
}

/// Inserts an account with `owner` as its owner.
pub async fn insert_account(
    tx: &mut Tx,
    plan: &str,
    name: &str,
    owner: &str,
) -> Result<String, Error> {
    let account_id = new_id();
    let now = now_ms();
    sqlx::query("insert into accounts (id, name, plan, created_at) values ($1, $2, $3, $4)")
        .bind(&account_id)
        .bind(name)
        .bind(plan)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    sqlx::query("insert into account_members (account_id, user_id, role, created_at) values ($1, $2, 'owner', $3)")
        .bind(&account_id)
        .bind(owner)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(account_id)
}

/// Makes `email` a member of an account with `role` (and optionally of one project)
/// and issues a token for them, narrowed to that project when `narrow_token` is set.
/// What an accepted invitation does, for operators bootstrapping service users.
pub async fn add_member_with_token(
    db: &Db,
    account_id: &str,
    email: &str,
    role: AccountRole,
    project: Option<(&str, ProjectRole)>,
    narrow_token: bool,
) -> Result<(String, String), Error> {
    let email = store::names::email("email", email)?;
    let mut tx = db.begin_write().await?;
    let (accounts,): (i64,) = sqlx::query_as("select count(*) from accounts where id = $1")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    if accounts == 0 {
        return Err(Error::not_found("account"));
    }
    if let Some((project_id, _)) = project {
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from projects where id = $1 and account_id = $2")
                .bind(project_id)
                .bind(account_id)
                .fetch_one(&mut *tx)
                .await?;
        if n == 0 {
            return Err(Error::not_found("project of this account"));
        }
    }
    let user_id = ensure_user(&mut tx, &email, &email).await?;
    let now = now_ms();
    sqlx::query("insert into account_members (account_id, user_id, role, created_at) values ($1, $2, $3, $4)")
        .bind(account_id)
        .bind(&user_id)
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if let Some((project_id, project_role)) = project {
        sqlx::query("insert into project_members (project_id, user_id, role, created_at) values ($1, $2, $3, $4)")
            .bind(project_id)
            .bind(&user_id)
            .bind(project_role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    let token = generate_token();
    insert_token(
        &mut tx,
        &AccountId::trusted(account_id.to_owned()),
        &user_id,
        "operator-issued token",
        &token,
        None,
        project.filter(|_| narrow_token),
    )
    .await?;
    tx.commit().await?;
    Ok((user_id, token.secret))
}

/// Makes the user with this email a platform operator.
pub async fn grant_operator(db: &Db, email: &str) -> Result<(), Error> {
    let email = store::names::email("email", email)?;
    let done = sqlx::query("update users set platform_admin = 1 where email = $1")
        .bind(&email)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("user with that email"));
    }
    Ok(())
}

/// An operator's notice to the owners and admins of one account or of all, written in
/// one transaction with its deliveries. Returns how many people it reached.
pub async fn announce(
    db: &Db,
    account_id: Option<&str>,
    subject: &str,
    body: &str,
) -> Result<usize, Error> {
    let subject = store::names::bounded_text("subject", subject.trim(), 200)?;
    let body = store::names::bounded_text("body", body.trim(), 4000)?;
    if subject.is_empty() || body.is_empty() {
        return Err(Error::invalid(
            "subject",
            "an announcement needs a subject and a body",
        ));
    }
    let mut tx = db.begin_write().await?;
    let accounts: Vec<(String,)> =
        sqlx::query_as("select id from accounts where ($1 = '' or id = $1) order by id")
            .bind(account_id.unwrap_or(""))
            .fetch_all(&mut *tx)
            .await?;
    if accounts.is_empty() && account_id.is_some() {
        return Err(Error::not_found("account"));
    }
    let accounts: Vec<String> = accounts.into_iter().map(|(a,)| a).collect();
    let reached =
        crate::notices::notify_accounts(&mut tx, &accounts, "announcement", &subject, &body)
            .await?;
    tx.commit().await?;
    Ok(reached)
}

/// Not found unless the account exists.
pub async fn ensure_account(db: &Db, account_id: &str) -> Result<(), Error> {
    let (exists,): (i64,) = sqlx::query_as("select count(*) from accounts where id = $1")
        .bind(account_id)
        .fetch_one(&db.pool)
        .await?;
    if exists == 0 {
        return Err(Error::not_found("account"));
    }
    Ok(())
}
