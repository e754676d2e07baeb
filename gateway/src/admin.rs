//! Operator actions that run outside the HTTP API (`sluice admin ...`).

use crate::api::accounts::{ensure_user, insert_token};
use crate::auth::{generate_token, AccountId};
use crate::db::{new_id, now_ms, Db};
use crate::domain::{self, Name};
use crate::error::ApiError;

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
) -> Result<CreatedAccount, ApiError> {
    let name = Name::parse("name", name)?;
    let email = domain::email("owner_email", owner_email)?;
    let mut tx = db.begin_write().await?;
    let account_id = new_id();
    sqlx::query("insert into accounts (id, name, plan, created_at) values ($1, $2, $3, $4)")
        .bind(&account_id)
        .bind(name.as_str())
        .bind(plan)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    let user_id = ensure_user(&mut tx, &email, &email).await?;
    sqlx::query(
        "insert into account_members (account_id, user_id, created_at) values ($1, $2, $3)",
    )
    .bind(&account_id)
    .bind(&user_id)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let token = generate_token();
    insert_token(
        &mut tx,
        &AccountId::trusted(account_id.clone()),
        &user_id,
        "initial owner token",
        &token,
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
