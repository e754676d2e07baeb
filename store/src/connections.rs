//! Connections: a project's registered data stores (their secret properties sealed at
//! rest). Reads through a [`ProjectScope`], writes through a [`ProjectWrite`].

use crate::scope::ProjectWrite;
use crate::Error;

/// The project's connections inside its locked write transaction.
pub struct ConnectionWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn connections(&mut self) -> ConnectionWrites<'_> {
        ConnectionWrites(self)
    }
}

impl ConnectionWrites<'_> {
    pub async fn count(&mut self) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as("select count(*) from connections where project_id = $1")
            .bind(project_id)
            .fetch_one(&mut **tx)
            .await?;
        Ok(n)
    }
}
