//! A account's members and their roles, account-wide and per project. Roles are read
//! and written as their stored names; the gateway knows what they mean.

use crate::all_tenants::AllTenantsWrite;
use crate::db::{now_ms, Db, Tx};
use crate::scope::{AccountScope, AccountWrite, ProjectScope, ProjectWrite};
use crate::{Error, Page};

/// A member of an account (or of a project), with the user's name and email.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    /// When they joined the account (or were added to the project).
    pub created_at: i64,
}

/// The member rows of one account or project, read under their row locks.
#[derive(Debug, Clone)]
pub struct LockedRoles {
    /// The target's role, if they are a member.
    pub role: Option<String>,
    pub owners: usize,
}

/// Locks the member rows of one account (`account_members`, `account_id`) or project
/// (`project_members`, `project_id`), so that concurrent role changes are serialised and
/// the last-owner rule holds; returns the target's role, if a member, and the owner count.
async fn lock_roles(
    tx: &mut Tx,
    (table, scope_column): (&'static str, &'static str),
    scope: &str,
    user_id: &str,
) -> Result<LockedRoles, Error> {
    let for_update = crate::db::for_update_in(tx);
    let rows: Vec<(String, String)> = sqlx::query_as(&format!(
        "select user_id, role from {table} where {scope_column} = $1{for_update}"
    ))
    .bind(scope)
    .fetch_all(&mut **tx)
    .await?;
    Ok(LockedRoles {
        owners: rows.iter().filter(|(_, r)| r == "owner").count(),
        role: rows.into_iter().find(|(u, _)| u == user_id).map(|(_, r)| r),
    })
}

const ACCOUNT_MEMBERS: (&str, &str) = ("account_members", "account_id");
const PROJECT_MEMBERS: (&str, &str) = ("project_members", "project_id");

pub(crate) async fn insert_account_member(
    tx: &mut Tx,
    account_id: &str,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<(), Error> {
    sqlx::query("insert into account_members (account_id, user_id, role, created_at) values ($1, $2, $3, $4)")
        .bind(account_id)
        .bind(user_id)
        .bind(role)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn insert_project_member(
    tx: &mut Tx,
    project_id: &str,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<(), Error> {
    sqlx::query("insert into project_members (project_id, user_id, role, created_at) values ($1, $2, $3, $4)")
        .bind(project_id)
        .bind(user_id)
        .bind(role)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn is_account_member(
    executor: impl sqlx::Executor<'_, Database = sqlx::Any>,
    account_id: &str,
    user_id: &str,
) -> Result<bool, Error> {
    let (n,): (i64,) = sqlx::query_as(
        "select count(*) from account_members where account_id = $1 and user_id = $2",
    )
    .bind(account_id)
    .bind(user_id)
    .fetch_one(executor)
    .await?;
    Ok(n > 0)
}

/// The caller's project row and their explicit role on it, for the authorizer before
/// any scope is open: `None` when the project is not one of `account_id`'s.
pub async fn project_role(
    db: &Db,
    account_id: &str,
    project_id: &str,
    user_id: &str,
) -> Result<Option<Option<String>>, Error> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "select p.id, pm.role from projects p
           left join project_members pm on pm.project_id = p.id and pm.user_id = $3
          where p.id = $1 and p.account_id = $2",
    )
    .bind(project_id)
    .bind(account_id)
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|(_, role)| role))
}

/// The account's members.
pub struct Members<'a>(&'a AccountScope);

impl AccountScope {
    pub fn members(&self) -> Members<'_> {
        Members(self)
    }
}

impl Members<'_> {
    /// One page in user id order (`page.fetch()` rows: the extra one tells that more exist).
    pub async fn list(&self, page: &Page) -> Result<Vec<MemberRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select u.id as user_id, u.email, u.display_name, m.role, m.created_at
               from account_members m join users u on u.id = m.user_id
              where m.account_id = $1 and u.id > $2 order by u.id limit $3",
        )
        .bind(scope.account_id())
        .bind(&page.after)
        .bind(page.fetch())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// A user's email and display name.
    pub async fn profile(&self, user_id: &str) -> Result<(String, String), Error> {
        Ok(
            sqlx::query_as("select email, display_name from users where id = $1")
                .bind(user_id)
                .fetch_one(&self.0.db().pool)
                .await?,
        )
    }
}

/// The account's members inside its locked write transaction.
pub struct MemberWrites<'a>(&'a mut AccountWrite);

impl AccountWrite {
    pub fn members(&mut self) -> MemberWrites<'_> {
        MemberWrites(self)
    }
}

impl MemberWrites<'_> {
    /// Locks the account's member rows: `user_id`'s role and the number of owners.
    pub async fn lock_roles(&mut self, user_id: &str) -> Result<LockedRoles, Error> {
        let (tx, account_id) = self.0.parts();
        lock_roles(tx, ACCOUNT_MEMBERS, account_id, user_id).await
    }

    pub async fn set_role(&mut self, user_id: &str, role: &str) -> Result<(), Error> {
        let (tx, account_id) = self.0.parts();
        sqlx::query("update account_members set role = $1 where account_id = $2 and user_id = $3")
            .bind(role)
            .bind(account_id)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn get(&mut self, user_id: &str) -> Result<MemberRow, Error> {
        let (tx, account_id) = self.0.parts();
        Ok(sqlx::query_as(
            "select m.user_id, u.email, u.display_name, m.role, m.created_at
               from account_members m join users u on u.id = m.user_id
              where m.account_id = $1 and m.user_id = $2",
        )
        .bind(account_id)
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?)
    }

    /// Removes `user_id` from the account and from each of its projects.
    pub async fn remove(&mut self, user_id: &str) -> Result<(), Error> {
        let (tx, account_id) = self.0.parts();
        sqlx::query("delete from account_members where account_id = $1 and user_id = $2")
            .bind(account_id)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("delete from project_members where user_id = $1 and project_id in (select id from projects where account_id = $2)")
            .bind(user_id)
            .bind(account_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Whether a member of the account has this email.
    pub async fn has_email(&mut self, email: &str) -> Result<bool, Error> {
        let (tx, account_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from account_members m join users u on u.id = m.user_id where m.account_id = $1 and u.email = $2",
        )
        .bind(account_id)
        .bind(email)
        .fetch_one(&mut **tx)
        .await?;
        Ok(n > 0)
    }
}

/// The project's members (those with a role on it).
pub struct ProjectMembers<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn members(&self) -> ProjectMembers<'_> {
        ProjectMembers(self)
    }
}

const PROJECT_MEMBER_COLUMNS: &str =
    "u.id as user_id, u.email, u.display_name, pm.role, pm.created_at";

impl ProjectMembers<'_> {
    /// One page in user id order (`page.fetch()` rows: the extra one tells that more exist).
    pub async fn list(&self, page: &Page) -> Result<Vec<MemberRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {PROJECT_MEMBER_COLUMNS}
               from project_members pm join users u on u.id = pm.user_id
              where pm.project_id = $1 and u.id > $2 order by u.id limit $3"
        ))
        .bind(scope.project_id())
        .bind(&page.after)
        .bind(page.fetch())
        .fetch_all(&scope.db().pool)
        .await?)
    }
}

/// The project's members inside its locked write transaction.
pub struct ProjectMemberWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn members(&mut self) -> ProjectMemberWrites<'_> {
        ProjectMemberWrites(self)
    }
}

impl ProjectMemberWrites<'_> {
    /// Locks the project's member rows: `user_id`'s role and the number of owners.
    pub async fn lock_roles(&mut self, user_id: &str) -> Result<LockedRoles, Error> {
        let (tx, project_id) = self.0.parts();
        lock_roles(tx, PROJECT_MEMBERS, project_id, user_id).await
    }

    /// Whether `user_id` is a member of the project's account.
    pub async fn in_account(&mut self, user_id: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from account_members m join projects p on p.account_id = m.account_id
              where p.id = $1 and m.user_id = $2",
        )
        .bind(project_id)
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(n > 0)
    }

    pub async fn insert(&mut self, user_id: &str, role: &str) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        insert_project_member(tx, project_id, user_id, role, now_ms()).await
    }

    pub async fn get(&mut self, user_id: &str) -> Result<MemberRow, Error> {
        let (tx, project_id) = self.0.parts();
        Ok(sqlx::query_as(&format!(
            "select {PROJECT_MEMBER_COLUMNS}
               from project_members pm join users u on u.id = pm.user_id where pm.project_id = $1 and pm.user_id = $2"
        ))
        .bind(project_id)
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?)
    }

    pub async fn set_role(&mut self, user_id: &str, role: &str) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query("update project_members set role = $1 where project_id = $2 and user_id = $3")
            .bind(role)
            .bind(project_id)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn remove(&mut self, user_id: &str) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query("delete from project_members where project_id = $1 and user_id = $2")
            .bind(project_id)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// The operator's bootstrapping of members.
impl AllTenantsWrite {
    pub async fn add_account_member(
        &mut self,
        account_id: &str,
        user_id: &str,
        role: &str,
        now: i64,
    ) -> Result<(), Error> {
        insert_account_member(self.tx(), account_id, user_id, role, now).await
    }

    pub async fn add_project_member(
        &mut self,
        project_id: &str,
        user_id: &str,
        role: &str,
        now: i64,
    ) -> Result<(), Error> {
        insert_project_member(self.tx(), project_id, user_id, role, now).await
    }
}
