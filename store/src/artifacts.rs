//! Artifacts: uploaded JAR, ZIP and Python files of a project (the bytes are in the
//! file store). Reads through a [`ProjectScope`], writes through a [`ProjectWrite`].

use crate::db::{new_id, now_ms};
use crate::scope::{ProjectScope, ProjectWrite};
use crate::{Error, Page};

crate::stored_enum! {
    /// What an artifact holds, known from its file name.
    pub enum ArtifactKind {
        Jar = "jar",
        /// An archive (zip-checked).
        Zip = "zip",
        Python = "python",
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArtifactRow {
    pub id: String,
    pub project_id: String,
    /// The uploaded file name.
    pub name: String,
    pub kind: ArtifactKind,
    pub size_bytes: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub created_at: i64,
}

const COLUMNS: &str = "a.id, a.project_id, a.name, a.kind, a.size_bytes, a.sha256, a.created_at";

/// The project's artifacts, as the caller may read them.
pub struct Artifacts<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn artifacts(&self) -> Artifacts<'_> {
        Artifacts(self)
    }
}

impl Artifacts<'_> {
    /// One page in id order.
    pub async fn list(&self, page: &Page) -> Result<Vec<ArtifactRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {COLUMNS} from artifacts a join projects p on p.id = a.project_id
              where p.account_id = $1 and a.project_id = $2 and a.id > $3 order by a.id limit $4"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(&page.after)
        .bind(page.fetch())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    pub async fn get(&self, id: &str) -> Result<ArtifactRow, Error> {
        let scope = self.0;
        let row: Option<ArtifactRow> = sqlx::query_as(&format!(
            "select {COLUMNS} from artifacts a join projects p on p.id = a.project_id
              where p.account_id = $1 and a.project_id = $2 and a.id = $3"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(id)
        .fetch_optional(&scope.db().pool)
        .await?;
        row.ok_or_else(|| Error::not_found("artifact"))
    }
}

/// The project's artifacts inside its locked write transaction.
pub struct ArtifactWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn artifacts(&mut self) -> ArtifactWrites<'_> {
        ArtifactWrites(self)
    }
}

impl ArtifactWrites<'_> {
    pub async fn count(&mut self) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as("select count(*) from artifacts where project_id = $1")
            .bind(project_id)
            .fetch_one(&mut **tx)
            .await?;
        Ok(n)
    }

    pub async fn name_taken(&mut self, name: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from artifacts where project_id = $1 and name = $2")
                .bind(project_id)
                .bind(name)
                .fetch_one(&mut **tx)
                .await?;
        Ok(n > 0)
    }

    /// Records a new artifact; the caller installs its file under the row's id before
    /// committing.
    pub async fn insert(
        &mut self,
        name: &str,
        kind: ArtifactKind,
        size_bytes: i64,
        sha256: &str,
    ) -> Result<ArtifactRow, Error> {
        let (tx, project_id) = self.0.parts();
        let row = ArtifactRow {
            id: new_id(),
            project_id: project_id.to_owned(),
            name: name.to_owned(),
            kind,
            size_bytes,
            sha256: sha256.to_owned(),
            created_at: now_ms(),
        };
        sqlx::query("insert into artifacts (id, project_id, name, kind, size_bytes, sha256, created_at) values ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&row.id)
            .bind(&row.project_id)
            .bind(&row.name)
            .bind(row.kind)
            .bind(row.size_bytes)
            .bind(&row.sha256)
            .bind(row.created_at)
            .execute(&mut **tx)
            .await?;
        Ok(row)
    }

    /// Names of the project's jobs whose draft or a saved version uses the artifact.
    pub async fn used_by(&mut self, artifact_id: &str) -> Result<Vec<String>, Error> {
        let (tx, project_id) = self.0.parts();
        let rows: Vec<(String,)> = sqlx::query_as(
            "select name from jobs where artifact_id = $1 and project_id = $2
              union select j.name from job_versions v join jobs j on j.id = v.job_id where v.artifact_id = $1 and j.project_id = $2",
        )
        .bind(artifact_id)
        .bind(project_id)
        .fetch_all(&mut **tx)
        .await?;
        Ok(rows.into_iter().map(|(name,)| name).collect())
    }

    /// Records new content of the artifact (its file is swapped by the caller).
    pub async fn replace_content(
        &mut self,
        artifact_id: &str,
        size_bytes: i64,
        sha256: &str,
    ) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let done = sqlx::query(
            "update artifacts set size_bytes = $1, sha256 = $2 where id = $3 and project_id = $4",
        )
        .bind(size_bytes)
        .bind(sha256)
        .bind(artifact_id)
        .bind(project_id)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete(&mut self, artifact_id: &str) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query("delete from artifacts where id = $1 and project_id = $2")
            .bind(artifact_id)
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The kind of an artifact of the project; `None` when the project has no such one.
    pub async fn kind(&mut self, artifact_id: &str) -> Result<Option<ArtifactKind>, Error> {
        let (tx, project_id) = self.0.parts();
        let row: Option<(ArtifactKind,)> =
            sqlx::query_as("select kind from artifacts where id = $1 and project_id = $2")
                .bind(artifact_id)
                .bind(project_id)
                .fetch_optional(&mut **tx)
                .await?;
        Ok(row.map(|(kind,)| kind))
    }
}
