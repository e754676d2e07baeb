//! Accounts: creation, settings, the person's accounts.

use crate::all_tenants::{AllTenants, AllTenantsWrite};
use crate::db::{new_id, now_ms, Db, Tx};
use crate::scope::AccountScope;
use crate::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub created_at: i64,
}

/// An account a person belongs to, with their role there.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MembershipRow {
    pub id: String,
    pub name: String,
    pub role: String,
}

impl AccountScope {
    /// The account's own row; not found once it is gone.
    pub async fn details(&self) -> Result<AccountRow, Error> {
        let row: Option<AccountRow> =
            sqlx::query_as("select id, name, plan, created_at from accounts where id = $1")
                .bind(self.account_id())
                .fetch_optional(&self.db().pool)
                .await?;
        row.ok_or_else(|| Error::not_found("account"))
    }

    /// How many projects the account holds.
    pub async fn project_count(&self) -> Result<i64, Error> {
        let (n,): (i64,) = sqlx::query_as("select count(*) from projects where account_id = $1")
            .bind(self.account_id())
            .fetch_one(&self.db().pool)
            .await?;
        Ok(n)
    }

    /// Every account `user_id` belongs to (this one among them), by name.
    pub async fn accounts_of(&self, user_id: &str) -> Result<Vec<MembershipRow>, Error> {
        Ok(sqlx::query_as(
            "select a.id, a.name, m.role from account_members m join accounts a on a.id = m.account_id
              where m.user_id = $1 order by a.name, a.id",
        )
        .bind(user_id)
        .fetch_all(&self.db().pool)
        .await?)
    }
}

/// Whether the user is a platform operator (an error if there is no such user).
pub async fn is_platform_admin(db: &Db, user_id: &str) -> Result<bool, Error> {
    let (flag,): (i64,) = sqlx::query_as("select platform_admin from users where id = $1")
        .bind(user_id)
        .fetch_one(&db.pool)
        .await?;
    Ok(flag != 0)
}

/// Finds the user with this (lower-cased) email or creates it.
pub(crate) async fn ensure_user(
    tx: &mut Tx,
    email: &str,
    display_name: &str,
) -> Result<String, Error> {
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

/// Inserts an account with `owner` as its owner.
pub(crate) async fn insert_account(
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

/// The operator's view of accounts and people.
impl AllTenants {
    /// Whether the account exists.
    pub async fn account_exists(&self, account_id: &str) -> Result<bool, Error> {
        let (n,): (i64,) = sqlx::query_as("select count(*) from accounts where id = $1")
            .bind(account_id)
            .fetch_one(&self.db().pool)
            .await?;
        Ok(n > 0)
    }

    /// Makes the user with this email a platform operator; false when there is none.
    pub async fn grant_operator(&self, email: &str) -> Result<bool, Error> {
        let done = sqlx::query("update users set platform_admin = 1 where email = $1")
            .bind(email)
            .execute(&self.db().pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

impl AllTenantsWrite {
    /// Finds the user with this (lower-cased) email or creates it.
    pub async fn ensure_user(&mut self, email: &str, display_name: &str) -> Result<String, Error> {
        ensure_user(self.tx(), email, display_name).await
    }

    /// Creates an account on `plan` with `owner` as its owner.
    pub async fn create_account(
        &mut self,
        plan: &str,
        name: &str,
        owner: &str,
    ) -> Result<String, Error> {
        insert_account(self.tx(), plan, name, owner).await
    }

    pub async fn account_exists(&mut self, account_id: &str) -> Result<bool, Error> {
        let (n,): (i64,) = sqlx::query_as("select count(*) from accounts where id = $1")
            .bind(account_id)
            .fetch_one(&mut **self.tx())
            .await?;
        Ok(n > 0)
    }

    /// The accounts an operator's announcement goes to: the one named, else every
    /// account, in id order.
    pub async fn announcement_accounts(
        &mut self,
        account_id: Option<&str>,
    ) -> Result<Vec<String>, Error> {
        let accounts: Vec<(String,)> =
            sqlx::query_as("select id from accounts where ($1 = '' or id = $1) order by id")
                .bind(account_id.unwrap_or(""))
                .fetch_all(&mut **self.tx())
                .await?;
        Ok(accounts.into_iter().map(|(a,)| a).collect())
    }

    pub async fn project_in_account(
        &mut self,
        project_id: &str,
        account_id: &str,
    ) -> Result<bool, Error> {
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from projects where id = $1 and account_id = $2")
                .bind(project_id)
                .bind(account_id)
                .fetch_one(&mut **self.tx())
                .await?;
        Ok(n > 0)
    }
}

/// A deployment on a cluster that runs some engine version, across accounts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EngineDeploymentRow {
    pub account_id: String,
    pub project_id: String,
    pub deployment_id: String,
    pub desired_state: String,
}

/// For the platform's operators: every deployment on a cluster that runs engine
/// version `label`, by account, project and id.
pub async fn deployments_on_engine(
    db: &Db,
    label: &str,
) -> Result<Vec<EngineDeploymentRow>, Error> {
    Ok(sqlx::query_as(
        "select p.account_id, d.project_id, d.id as deployment_id, d.desired_state from deployments d
           join projects p on p.id = d.project_id join engine_clusters c on c.id = d.cluster_id
          where c.engine_version = $1 order by p.account_id, d.project_id, d.id",
    )
    .bind(label)
    .fetch_all(&db.pool)
    .await?)
}

/// A product form's milestones (Unix ms).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FormScheduleRow {
    pub announced_at: i64,
    pub eom1: i64,
    pub eom2: i64,
    pub eofs: i64,
    pub eos: i64,
}

/// For the platform's operators: the milestones set for product form `name`, if any.
pub async fn form_schedule(db: &Db, name: &str) -> Result<Option<FormScheduleRow>, Error> {
    Ok(sqlx::query_as(
        "select announced_at, eom1, eom2, eofs, eos from product_forms where name = $1",
    )
    .bind(name)
    .fetch_optional(&db.pool)
    .await?)
}

/// A project of some product form, across accounts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FormProjectRow {
    pub account_id: String,
    pub project_id: String,
    pub billing_model: String,
    /// A subscription's term end.
    pub term_end: Option<i64>,
    /// Deployments meant to run now.
    pub running_deployments: i64,
}

/// For the platform's operators: every project of product form `name`, by account and id.
pub async fn projects_of_form(db: &Db, name: &str) -> Result<Vec<FormProjectRow>, Error> {
    Ok(sqlx::query_as(
        "select p.account_id, p.id as project_id, p.billing_model, s.term_end,
                cast((select count(*) from deployments d where d.project_id = p.id and d.desired_state = 'RUNNING') as bigint)
                  as running_deployments
           from projects p left join subscriptions s on s.project_id = p.id
          where p.product_form = $1 order by p.account_id, p.id",
    )
    .bind(name)
    .fetch_all(&db.pool)
    .await?)
}
