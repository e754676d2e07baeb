//! Artifacts: uploaded JAR, ZIP and Python files of a project (the bytes are in the
//! file store). Reads through a [`ProjectScope`], writes through a [`ProjectWrite`].

use crate::scope::ProjectWrite;
use crate::Error;

crate::stored_enum! {
    /// What an artifact holds, known from its file name.
    pub enum ArtifactKind {
        Jar = "jar",
        /// An archive (zip-checked).
        Zip = "zip",
        Python = "python",
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
