//! The artifact file store: a directory tree under the data directory,
//! `<root>/<project id>/<artifact id>`. Uploads are written to `<root>/tmp` first and
//! renamed into place only once complete and recorded, so a partial file is never
//! visible under an artifact's path.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    /// Creates the directories and removes uploads a previous process left unfinished.
    pub fn open(root: PathBuf) -> std::io::Result<Self> {
        let tmp = root.join("tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        std::fs::create_dir_all(&tmp)?;
        Ok(Self { root })
    }

    pub fn temp_path(&self) -> PathBuf {
        self.root
            .join("tmp")
            .join(format!("{}.part", uuid::Uuid::new_v4()))
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub fn path(&self, project_id: &str, artifact_id: &str) -> PathBuf {
        self.root.join(project_id).join(artifact_id)
    }

    pub async fn install(
        &self,
        temp: &Path,
        project_id: &str,
        artifact_id: &str,
    ) -> std::io::Result<()> {
        tokio::fs::create_dir_all(self.root.join(project_id)).await?;
        tokio::fs::rename(temp, self.path(project_id, artifact_id)).await
    }

    /// Best effort: a file that cannot be removed is logged, its row is already gone.
    pub async fn remove(&self, project_id: &str, artifact_id: &str) {
        remove_logged(&self.path(project_id, artifact_id)).await;
    }

    pub async fn remove_project(&self, project_id: &str) {
        let dir = self.root.join(project_id);
        if let Err(e) = tokio::fs::remove_dir_all(&dir).await {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %dir.display(), error = %e, "could not remove a deleted project's artifacts");
            }
        }
    }
}

pub async fn remove_logged(path: &Path) {
    if let Err(e) = tokio::fs::remove_file(path).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "could not remove a file");
        }
    }
}
