//! Job drafts: what a job runs and where it sits in the project's folders. Reads
//! through a [`ProjectScope`], writes through a [`ProjectWrite`] (the project locked).

use crate::db::{new_id, now_ms};
use crate::scope::{ProjectScope, ProjectWrite};
use crate::{Error, Page};

crate::stored_enum! {
    /// What a job (or a saved version of it) runs: a SQL script, a JAR program or a
    /// PyFlink script.
    pub enum JobKind {
        Sql = "sql",
        Jar = "jar",
        Python = "python",
    }
}

/// What a job runs, in the columns drafts and versions store it in: the SQL text for
/// a SQL job; the artifact, entry class and arguments (a JSON array) for a JAR job; the
/// script artifact and its arguments for a Python job.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ContentColumns {
    pub kind: JobKind,
    pub sql_text: Option<String>,
    pub artifact_id: Option<String>,
    pub entry_class: Option<String>,
    pub args: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub project_id: String,
    pub folder_id: Option<String>,
    pub name: String,
    #[sqlx(flatten)]
    pub content: ContentColumns,
    /// Increases with every write of the draft.
    pub revision: i64,
    /// Highest version saved so far (0 when none); numbers are never reused.
    pub last_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "j.id, j.project_id, j.folder_id, j.name, j.kind, j.sql_text, j.artifact_id, j.entry_class, j.args, j.revision, j.last_version, j.created_at, j.updated_at";

/// The project's jobs, as the caller may read them.
pub struct Jobs<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn jobs(&self) -> Jobs<'_> {
        Jobs(self)
    }
}

impl Jobs<'_> {
    /// One page in id order, only those directly in `folder_id` when given.
    pub async fn list(&self, folder_id: Option<&str>, page: &Page) -> Result<Vec<JobRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {COLUMNS} from jobs j join projects p on p.id = j.project_id
              where p.account_id = $1 and j.project_id = $2 and ($3 = '' or j.folder_id = $3) and j.id > $4
              order by j.id limit $5"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(folder_id.unwrap_or(""))
        .bind(&page.after)
        .bind(page.fetch())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    pub async fn get(&self, id: &str) -> Result<JobRow, Error> {
        let scope = self.0;
        let row: Option<JobRow> = sqlx::query_as(&format!(
            "select {COLUMNS} from jobs j join projects p on p.id = j.project_id
              where p.account_id = $1 and j.project_id = $2 and j.id = $3"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(id)
        .fetch_optional(&scope.db().pool)
        .await?;
        row.ok_or_else(|| Error::not_found("job"))
    }
}

/// The project's jobs inside its locked write transaction.
pub struct JobWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn jobs(&mut self) -> JobWrites<'_> {
        JobWrites(self)
    }
}

impl JobWrites<'_> {
    pub async fn get(&mut self, job_id: &str) -> Result<JobRow, Error> {
        let (tx, project_id) = self.0.parts();
        let row: Option<JobRow> = sqlx::query_as(&format!(
            "select {COLUMNS} from jobs j where j.project_id = $1 and j.id = $2"
        ))
        .bind(project_id)
        .bind(job_id)
        .fetch_optional(&mut **tx)
        .await?;
        row.ok_or_else(|| Error::not_found("job"))
    }

    pub async fn count(&mut self) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as("select count(*) from jobs where project_id = $1")
            .bind(project_id)
            .fetch_one(&mut **tx)
            .await?;
        Ok(n)
    }

    /// Whether another job (not `except`) in `folder_id` (`None`: the root) is named `name`.
    pub async fn name_taken(
        &mut self,
        folder_id: Option<&str>,
        name: &str,
        except: &str,
    ) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as("select count(*) from jobs where project_id = $1 and coalesce(folder_id, '') = $2 and name = $3 and id <> $4")
            .bind(project_id)
            .bind(folder_id.unwrap_or(""))
            .bind(name)
            .bind(except)
            .fetch_one(&mut **tx)
            .await?;
        Ok(n > 0)
    }

    /// A new draft at revision 1, with no version saved yet.
    pub async fn insert(
        &mut self,
        folder_id: Option<&str>,
        name: &str,
        content: &ContentColumns,
    ) -> Result<JobRow, Error> {
        let (tx, project_id) = self.0.parts();
        let now = now_ms();
        let row = JobRow {
            id: new_id(),
            project_id: project_id.to_owned(),
            folder_id: folder_id.map(str::to_owned),
            name: name.to_owned(),
            content: content.clone(),
            revision: 1,
            last_version: 0,
            created_at: now,
            updated_at: now,
        };
        sqlx::query(
            "insert into jobs (id, project_id, folder_id, name, kind, sql_text, artifact_id, entry_class, args, revision, last_version, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&row.id)
        .bind(&row.project_id)
        .bind(&row.folder_id)
        .bind(&row.name)
        .bind(row.content.kind)
        .bind(&row.content.sql_text)
        .bind(&row.content.artifact_id)
        .bind(&row.content.entry_class)
        .bind(&row.content.args)
        .bind(row.revision)
        .bind(row.last_version)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&mut **tx)
        .await?;
        Ok(row)
    }

    /// Renames and moves in one statement (the revision is bumped by the content write
    /// that follows every edit).
    pub async fn rename_move(
        &mut self,
        job_id: &str,
        name: &str,
        folder_id: Option<&str>,
    ) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query("update jobs set name = $1, folder_id = $2, updated_at = $3 where id = $4 and project_id = $5")
            .bind(name)
            .bind(folder_id)
            .bind(now_ms())
            .bind(job_id)
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Replaces the draft's content and bumps its revision; returns the new draft.
    pub async fn write_content(
        &mut self,
        job_id: &str,
        content: &ContentColumns,
    ) -> Result<JobRow, Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query(
            "update jobs set kind = $1, sql_text = $2, artifact_id = $3, entry_class = $4, args = $5, revision = revision + 1, updated_at = $6
              where id = $7 and project_id = $8",
        )
        .bind(content.kind)
        .bind(&content.sql_text)
        .bind(&content.artifact_id)
        .bind(&content.entry_class)
        .bind(&content.args)
        .bind(now_ms())
        .bind(job_id)
        .bind(project_id)
        .execute(&mut **tx)
        .await?;
        self.get(job_id).await
    }

    /// Deletes the draft; its versions go with it.
    pub async fn delete(&mut self, job_id: &str) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query("delete from jobs where id = $1 and project_id = $2")
            .bind(job_id)
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
