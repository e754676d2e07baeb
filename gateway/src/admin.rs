//! Operator actions that run outside the HTTP API (`sluice admin ...`), and the
//! provisioning steps they share with sign-in.

use crate::access::roles::{AccountRole, ProjectRole};
use crate::access::{generate_token, NewToken};
use store::db::{now_ms, Db};
use store::names::Name;
use store::{AllTenants, AllTenantsWrite, Error};

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
    let mut write = AllTenants::for_workers(db).write().await?;
    let user_id = write.ensure_user(&email, &email).await?;
    let account_id = write.create_account(plan, name.as_str(), &user_id).await?;
    let token = generate_token();
    insert_token(
        &mut write,
        &account_id,
        &user_id,
        "initial owner token",
        &token,
        None,
    )
    .await?;
    write.commit().await?;
    Ok(CreatedAccount {
        account_id,
        user_id,
        token: token.secret,
    })
}

/// Stores `token` for `user_id` in `account_id`, narrowed to one project and role
/// when `scope` is set.
async fn insert_token(
    write: &mut AllTenantsWrite,
    account_id: &str,
    user_id: &str,
    name: &str,
    token: &NewToken,
    scope: Option<(&str, ProjectRole)>,
) -> Result<String, Error> {
    write
        .insert_token(
            account_id,
            &store::tokens::NewToken {
                user_id,
                name,
                prefix: &token.prefix,
                secret_sha256: &token.sha256,
                expires_at: None,
                scope: scope.map(|(p, r)| (p, r.as_str())),
            },
        )
        .await
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
    let mut write = AllTenants::for_workers(db).write().await?;
    if !write.account_exists(account_id).await? {
        return Err(Error::not_found("account"));
    }
    if let Some((project_id, _)) = project {
        if !write.project_in_account(project_id, account_id).await? {
            return Err(Error::not_found("project of this account"));
        }
    }
    let user_id = write.ensure_user(&email, &email).await?;
    let now = now_ms();
    write
        .add_account_member(account_id, &user_id, role.as_str(), now)
        .await?;
    if let Some((project_id, project_role)) = project {
        write
            .add_project_member(project_id, &user_id, project_role.as_str(), now)
            .await?;
    }
    let token = generate_token();
    insert_token(
        &mut write,
        account_id,
        &user_id,
        "operator-issued token",
        &token,
        project.filter(|_| narrow_token),
    )
    .await?;
    write.commit().await?;
    Ok((user_id, token.secret))
}

/// Makes the user with this email a platform operator.
pub async fn grant_operator(db: &Db, email: &str) -> Result<(), Error> {
    let email = store::names::email("email", email)?;
    if !AllTenants::for_workers(db).grant_operator(&email).await? {
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
    let mut write = AllTenants::for_workers(db).write().await?;
    let accounts = write.announcement_accounts(account_id).await?;
    if accounts.is_empty() && account_id.is_some() {
        return Err(Error::not_found("account"));
    }
    let reached =
        domain::notices::notify_accounts(&mut write, &accounts, "announcement", &subject, &body)
            .await?;
    write.commit().await?;
    Ok(reached)
}

/// Not found unless the account exists.
pub async fn ensure_account(db: &Db, account_id: &str) -> Result<(), Error> {
    if !AllTenants::for_workers(db)
        .account_exists(account_id)
        .await?
    {
        return Err(Error::not_found("account"));
    }
    Ok(())
}
