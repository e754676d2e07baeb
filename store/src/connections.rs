//! Connections: a project's registered data stores (their secret properties sealed at
//! rest). Reads through a [`ProjectScope`], writes through a [`ProjectWrite`].

use crate::db::now_ms;
use crate::scope::{ProjectScope, ProjectWrite};
use crate::{Error, Page};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectionRow {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub kind: String,
    /// JSON object of the (non-secret) properties.
    pub properties: String,
    /// JSON array of the keys of the secret properties that are set.
    pub secret_keys: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A connection with its sealed secret properties, read only where they are changed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedConnectionRow {
    #[sqlx(flatten)]
    pub connection: ConnectionRow,
    pub secret_properties: String,
}

const COLUMNS: &str =
    "c.id, c.project_id, c.name, c.kind, c.properties, c.secret_keys, c.created_at, c.updated_at";

/// What a connection is set to: the values its insert or update writes.
pub struct ConnectionValues<'a> {
    pub name: &'a str,
    /// JSON object.
    pub properties: &'a str,
    /// The secret properties, sealed.
    pub sealed: &'a str,
    /// JSON array.
    pub secret_keys: &'a str,
}

/// The project's connections, as the caller may read them.
pub struct Connections<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn connections(&self) -> Connections<'_> {
        Connections(self)
    }
}

impl Connections<'_> {
    /// One page in id order.
    pub async fn list(&self, page: &Page) -> Result<Vec<ConnectionRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {COLUMNS} from connections c join projects p on p.id = c.project_id
              where p.account_id = $1 and c.project_id = $2 and c.id > $3 order by c.id limit $4"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(&page.after)
        .bind(page.fetch())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    pub async fn get(&self, id: &str) -> Result<ConnectionRow, Error> {
        let scope = self.0;
        let row: Option<ConnectionRow> = sqlx::query_as(&format!(
            "select {COLUMNS} from connections c join projects p on p.id = c.project_id
              where p.account_id = $1 and c.project_id = $2 and c.id = $3"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(id)
        .fetch_optional(&scope.db().pool)
        .await?;
        row.ok_or_else(|| Error::not_found("connection"))
    }
}

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

    /// Whether another connection (not `except`) of the project is named `name`.
    pub async fn name_taken(&mut self, name: &str, except: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from connections where project_id = $1 and name = $2 and id <> $3",
        )
        .bind(project_id)
        .bind(name)
        .bind(except)
        .fetch_one(&mut **tx)
        .await?;
        Ok(n > 0)
    }

    pub async fn get_sealed(&mut self, id: &str) -> Result<SealedConnectionRow, Error> {
        let (tx, project_id) = self.0.parts();
        let row: Option<SealedConnectionRow> = sqlx::query_as(&format!(
            "select {COLUMNS}, c.secret_properties from connections c where c.project_id = $1 and c.id = $2"
        ))
        .bind(project_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        row.ok_or_else(|| Error::not_found("connection"))
    }

    /// A new connection under `id` (its secrets were sealed for that id).
    pub async fn insert(
        &mut self,
        id: &str,
        kind: &str,
        values: &ConnectionValues<'_>,
    ) -> Result<ConnectionRow, Error> {
        let (tx, project_id) = self.0.parts();
        let now = now_ms();
        let row = ConnectionRow {
            id: id.to_owned(),
            project_id: project_id.to_owned(),
            name: values.name.to_owned(),
            kind: kind.to_owned(),
            properties: values.properties.to_owned(),
            secret_keys: values.secret_keys.to_owned(),
            created_at: now,
            updated_at: now,
        };
        sqlx::query(
            "insert into connections (id, project_id, name, kind, properties, secret_properties, secret_keys, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&row.id)
        .bind(&row.project_id)
        .bind(&row.name)
        .bind(&row.kind)
        .bind(&row.properties)
        .bind(values.sealed)
        .bind(&row.secret_keys)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&mut **tx)
        .await?;
        Ok(row)
    }

    pub async fn update(&mut self, id: &str, values: &ConnectionValues<'_>) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        sqlx::query(
            "update connections set name = $1, properties = $2, secret_properties = $3, secret_keys = $4, updated_at = $5
              where id = $6 and project_id = $7",
        )
        .bind(values.name)
        .bind(values.properties)
        .bind(values.sealed)
        .bind(values.secret_keys)
        .bind(now_ms())
        .bind(id)
        .bind(project_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Deletes a connection of the project; false when there is none.
    pub async fn delete(&mut self, id: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let done = sqlx::query("delete from connections where id = $1 and project_id = $2")
            .bind(id)
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
