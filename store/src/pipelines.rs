//! What a project's jobs take with them to the engine: the functions registered from
//! its UDF artifacts, its artifacts by name, and its connections with their sealed
//! secrets. Functions are read through a [`ProjectScope`] and written through a
//! [`ProjectWrite`]; the whole set a job may reference is read the same way for
//! validation and, through [`AllTenants`], for a submission.

use crate::all_tenants::AllTenants;
use crate::artifacts::ArtifactRow;
use crate::connections::SealedConnectionRow;
use crate::db::{now_ms, Db};
use crate::scope::{ProjectScope, ProjectWrite};
use crate::Error;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FunctionRow {
    pub name: String,
    pub artifact_id: String,
    pub class_name: String,
    pub kind: String,
    pub registered_at: i64,
}

/// A function to register: its SQL name, class and kind.
pub struct NewFunction<'a> {
    pub name: &'a str,
    pub class_name: &'a str,
    pub kind: &'a str,
}

/// A name another artifact of the project already registered.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Clash {
    pub name: String,
    pub artifact_id: String,
    pub artifact_name: String,
}

/// Everything of a project a job's script may name.
#[derive(Debug, Clone, Default)]
pub struct ProjectResources {
    pub account_id: String,
    pub artifacts: Vec<ArtifactRow>,
    pub functions: Vec<FunctionRow>,
    pub connections: Vec<SealedConnectionRow>,
}

const FUNCTION_COLUMNS: &str = "f.name, f.artifact_id, f.class_name, f.kind, f.registered_at";

/// The project's registered functions, as the caller may read them.
pub struct Functions<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn functions(&self) -> Functions<'_> {
        Functions(self)
    }

    /// Everything of the project a job's script may name.
    pub async fn pipeline_resources(&self) -> Result<ProjectResources, Error> {
        resources(self.db(), self.account_id(), self.project_id()).await
    }
}

impl AllTenants {
    /// Everything of the project a job's script may name, for a submission.
    pub async fn pipeline_resources(&self, project_id: &str) -> Result<ProjectResources, Error> {
        let (account_id,): (String,) =
            sqlx::query_as("select account_id from projects where id = $1")
                .bind(project_id)
                .fetch_one(&self.db().pool)
                .await?;
        resources(self.db(), &account_id, project_id).await
    }
}

async fn resources(db: &Db, account_id: &str, project_id: &str) -> Result<ProjectResources, Error> {
    let artifacts = sqlx::query_as(
        "select a.id, a.project_id, a.name, a.kind, a.size_bytes, a.sha256, a.created_at
           from artifacts a join projects p on p.id = a.project_id
          where p.account_id = $1 and a.project_id = $2 order by a.name",
    )
    .bind(account_id)
    .bind(project_id)
    .fetch_all(&db.pool)
    .await?;
    let functions = sqlx::query_as(&format!(
        "select {FUNCTION_COLUMNS} from udf_functions f join projects p on p.id = f.project_id
          where p.account_id = $1 and f.project_id = $2 order by f.name"
    ))
    .bind(account_id)
    .bind(project_id)
    .fetch_all(&db.pool)
    .await?;
    let connections = sqlx::query_as(
        "select c.id, c.project_id, c.name, c.kind, c.properties, c.secret_keys, c.created_at,
                c.updated_at, c.secret_properties
           from connections c join projects p on p.id = c.project_id
          where p.account_id = $1 and c.project_id = $2 order by c.name",
    )
    .bind(account_id)
    .bind(project_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(ProjectResources {
        account_id: account_id.to_owned(),
        artifacts,
        functions,
        connections,
    })
}

impl Functions<'_> {
    /// Every function of the project, by name.
    pub async fn list(&self) -> Result<Vec<FunctionRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {FUNCTION_COLUMNS} from udf_functions f join projects p on p.id = f.project_id
              where p.account_id = $1 and f.project_id = $2 order by f.name"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// The functions registered from one artifact, by name.
    pub async fn of_artifact(&self, artifact_id: &str) -> Result<Vec<FunctionRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {FUNCTION_COLUMNS} from udf_functions f join projects p on p.id = f.project_id
              where p.account_id = $1 and f.project_id = $2 and f.artifact_id = $3 order by f.name"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(artifact_id)
        .fetch_all(&scope.db().pool)
        .await?)
    }
}

/// The project's registered functions inside its locked write transaction.
pub struct FunctionWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn functions(&mut self) -> FunctionWrites<'_> {
        FunctionWrites(self)
    }
}

impl FunctionWrites<'_> {
    /// Names among `names` that another artifact of the project registered.
    pub async fn clashes(
        &mut self,
        artifact_id: &str,
        names: &[&str],
    ) -> Result<Vec<Clash>, Error> {
        let (tx, project_id) = self.0.parts();
        let rows: Vec<Clash> = sqlx::query_as(
            "select f.name, f.artifact_id, a.name as artifact_name
               from udf_functions f join artifacts a on a.id = f.artifact_id
              where f.project_id = $1 and f.artifact_id <> $2 order by f.name",
        )
        .bind(project_id)
        .bind(artifact_id)
        .fetch_all(&mut **tx)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|c| names.contains(&c.name.as_str()))
            .collect())
    }

    /// Makes `functions` the artifact's registered functions (a first registration or a
    /// re-discovery); the caller checked for clashes in the same transaction.
    pub async fn replace(
        &mut self,
        artifact_id: &str,
        functions: &[NewFunction<'_>],
    ) -> Result<(), Error> {
        self.unregister(artifact_id).await?;
        let (tx, project_id) = self.0.parts();
        let now = now_ms();
        for f in functions {
            sqlx::query("insert into udf_functions (project_id, name, artifact_id, class_name, kind, registered_at) values ($1, $2, $3, $4, $5, $6)")
                .bind(project_id)
                .bind(f.name)
                .bind(artifact_id)
                .bind(f.class_name)
                .bind(f.kind)
                .bind(now)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Removes the artifact's functions; whether it had any.
    pub async fn unregister(&mut self, artifact_id: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let done =
            sqlx::query("delete from udf_functions where project_id = $1 and artifact_id = $2")
                .bind(project_id)
                .bind(artifact_id)
                .execute(&mut **tx)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}
