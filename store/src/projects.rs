//! Projects (workspaces) of an account. The account's list and new projects go
//! through an [`AccountScope`] / [`AccountWrite`] (the account locked); one project is
//! read through its [`ProjectScope`] and changed through its [`ProjectWrite`].

use crate::db::{new_id, now_ms};
use crate::scope::{AccountScope, AccountWrite, ProjectScope, ProjectWrite};
use crate::{Error, Page};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectRow {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The engine cluster deployments use unless they name another.
    pub default_cluster_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a project holds, counted against its limits.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectUsageRow {
    pub jobs: i64,
    pub folders: i64,
    pub connections: i64,
    pub artifacts: i64,
}

const COLUMNS: &str = "id, name, description, default_cluster_id, created_at, updated_at";

/// Which of the account's projects a caller lists.
#[derive(Debug, Clone, Copy)]
pub enum Visible<'a> {
    All,
    /// Those the user is a member of.
    MemberOf(&'a str),
    /// Only this one (a token scoped to a project).
    Only(&'a str),
}

/// The account's projects, as the caller may read them.
pub struct Projects<'a>(&'a AccountScope);

impl AccountScope {
    pub fn projects(&self) -> Projects<'_> {
        Projects(self)
    }
}

impl Projects<'_> {
    /// One page in id order of the projects `visible` lets the caller see.
    pub async fn list(&self, visible: Visible<'_>, page: &Page) -> Result<Vec<ProjectRow>, Error> {
        let scope = self.0;
        let (filter, value) = match visible {
            Visible::All => ("", None),
            Visible::MemberOf(user) => (
                " and exists (select 1 from project_members pm where pm.project_id = projects.id and pm.user_id = $4)",
                Some(user),
            ),
            Visible::Only(project) => (" and id = $4", Some(project)),
        };
        let sql = format!(
            "select {COLUMNS} from projects where account_id = $1 and id > $2{filter} order by id limit $3"
        );
        let mut query = sqlx::query_as(&sql)
            .bind(scope.account_id())
            .bind(&page.after)
            .bind(page.fetch());
        if let Some(value) = value {
            query = query.bind(value);
        }
        Ok(query.fetch_all(&scope.db().pool).await?)
    }
}

/// The account's projects inside its locked write transaction.
pub struct ProjectWrites<'a>(&'a mut AccountWrite);

impl AccountWrite {
    pub fn projects(&mut self) -> ProjectWrites<'_> {
        ProjectWrites(self)
    }
}

impl ProjectWrites<'_> {
    pub async fn count(&mut self) -> Result<i64, Error> {
        let (tx, account_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as("select count(*) from projects where account_id = $1")
            .bind(account_id)
            .fetch_one(&mut **tx)
            .await?;
        Ok(n)
    }

    pub async fn name_taken(&mut self, name: &str) -> Result<bool, Error> {
        let (tx, account_id) = self.0.parts();
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from projects where account_id = $1 and name = $2")
                .bind(account_id)
                .bind(name)
                .fetch_one(&mut **tx)
                .await?;
        Ok(n > 0)
    }

    /// A new project, owned by `owner` (so it keeps an owner if account roles change).
    pub async fn insert(
        &mut self,
        name: &str,
        description: &str,
        owner: &str,
    ) -> Result<ProjectRow, Error> {
        let (tx, account_id) = self.0.parts();
        let now = now_ms();
        let row = ProjectRow {
            id: new_id(),
            name: name.to_owned(),
            description: description.to_owned(),
            default_cluster_id: None,
            created_at: now,
            updated_at: now,
        };
        sqlx::query("insert into projects (id, account_id, name, description, created_at, updated_at) values ($1, $2, $3, $4, $5, $6)")
            .bind(&row.id)
            .bind(account_id)
            .bind(&row.name)
            .bind(&row.description)
            .bind(row.created_at)
            .bind(row.updated_at)
            .execute(&mut **tx)
            .await?;
        sqlx::query("insert into project_members (project_id, user_id, role, created_at) values ($1, $2, 'owner', $3)")
            .bind(&row.id)
            .bind(owner)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        Ok(row)
    }
}

/// The project in scope, as the caller may read it.
pub struct ThisProject<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn project(&self) -> ThisProject<'_> {
        ThisProject(self)
    }
}

impl ThisProject<'_> {
    pub async fn get(&self) -> Result<ProjectRow, Error> {
        let scope = self.0;
        let row: Option<ProjectRow> = sqlx::query_as(&format!(
            "select {COLUMNS} from projects where id = $1 and account_id = $2"
        ))
        .bind(scope.project_id())
        .bind(scope.account_id())
        .fetch_optional(&scope.db().pool)
        .await?;
        row.ok_or_else(|| Error::not_found("project"))
    }

    pub async fn usage(&self) -> Result<ProjectUsageRow, Error> {
        let scope = self.0;
        let row: Option<ProjectUsageRow> = sqlx::query_as(
            "select (select count(*) from jobs where project_id = p.id) as jobs,
                    (select count(*) from folders where project_id = p.id) as folders,
                    (select count(*) from connections where project_id = p.id) as connections,
                    (select count(*) from artifacts where project_id = p.id) as artifacts
               from projects p where p.id = $1 and p.account_id = $2",
        )
        .bind(scope.project_id())
        .bind(scope.account_id())
        .fetch_optional(&scope.db().pool)
        .await?;
        row.ok_or_else(|| Error::not_found("project"))
    }
}

/// The project in scope inside its locked write transaction.
pub struct ThisProjectWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn project(&mut self) -> ThisProjectWrites<'_> {
        ThisProjectWrites(self)
    }
}

impl ThisProjectWrites<'_> {
    /// Whether another project of the same account is named `name`.
    pub async fn name_taken(&mut self, name: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from projects
              where account_id = (select account_id from projects where id = $1) and name = $2 and id <> $1",
        )
        .bind(project_id)
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
        Ok(n > 0)
    }

    /// Renames and/or redescribes (`None` keeps the current value).
    pub async fn update(
        &mut self,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query(
            "update projects set name = coalesce($1, name), description = coalesce($2, description), updated_at = $3
              where id = $4",
        )
        .bind(name)
        .bind(description)
        .bind(now_ms())
        .bind(project_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Sets or (`None`) clears the default cluster; the caller checked that the
    /// account may use it.
    pub async fn set_default_cluster(&mut self, cluster_id: Option<&str>) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query("update projects set default_cluster_id = $1 where id = $2")
            .bind(cluster_id)
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Deployments that run or want to run (a job on the engine, or desired RUNNING).
    pub async fn active_deployments(&mut self) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from deployments where project_id = $1 and (desired_state = 'RUNNING' or engine_job_id is not null)",
        )
        .bind(project_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(n)
    }

    /// Savepoints of the project's deployments that still have a file.
    pub async fn kept_savepoints(&mut self) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from savepoints s join deployments d on d.id = s.deployment_id
              where d.project_id = $1 and s.location is not null",
        )
        .bind(project_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(n)
    }

    /// Deletes the project with everything in it (its rows cascade).
    pub async fn delete(&mut self) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query("delete from projects where id = $1")
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
