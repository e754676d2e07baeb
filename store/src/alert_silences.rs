//! Silences: a rule (or a deployment, or both) of a project muted for a window. Reads
//! through a [`ProjectScope`], writes through a [`ProjectWrite`] (the project locked),
//! so every query here is already scoped.

use crate::alerts::AlertPass;
use crate::db::{new_id, now_ms};
use crate::scope::{ProjectScope, ProjectWrite};
use crate::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SilenceRow {
    pub id: String,
    pub rule_id: Option<String>,
    pub deployment_id: Option<String>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub reason: String,
    pub created_by: String,
    pub created_at: i64,
}

/// The project's silences, as the caller may read them.
pub struct Silences<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn silences(&self) -> Silences<'_> {
        Silences(self)
    }
}

impl Silences<'_> {
    /// Silences in force at `now` or to come, in the order they start.
    pub async fn list_current(&self, now: i64) -> Result<Vec<SilenceRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select s.id, s.rule_id, s.deployment_id, s.starts_at, s.ends_at, s.reason, s.created_by, s.created_at
               from silences s join projects p on p.id = s.project_id
              where p.account_id = $1 and s.project_id = $2 and s.ends_at > $3 order by s.starts_at",
        )
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(now)
        .fetch_all(&scope.db().pool)
        .await?)
    }
}

/// The project's silences inside its locked write transaction.
pub struct SilenceWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn silences(&mut self) -> SilenceWrites<'_> {
        SilenceWrites(self)
    }
}

impl SilenceWrites<'_> {
    /// A new silence of a rule and/or a deployment of the project, from `starts_at` to
    /// `ends_at` (ms).
    pub async fn insert(
        &mut self,
        rule_id: Option<&str>,
        deployment_id: Option<&str>,
        starts_at: i64,
        ends_at: i64,
        reason: &str,
        created_by: &str,
    ) -> Result<SilenceRow, Error> {
        let (tx, project_id) = self.0.parts();
        let row = SilenceRow {
            id: new_id(),
            rule_id: rule_id.map(str::to_owned),
            deployment_id: deployment_id.map(str::to_owned),
            starts_at,
            ends_at,
            reason: reason.to_owned(),
            created_by: created_by.to_owned(),
            created_at: now_ms(),
        };
        sqlx::query(
            "insert into silences (id, project_id, rule_id, deployment_id, starts_at, ends_at, reason, created_by, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&row.id)
        .bind(project_id)
        .bind(&row.rule_id)
        .bind(&row.deployment_id)
        .bind(row.starts_at)
        .bind(row.ends_at)
        .bind(&row.reason)
        .bind(&row.created_by)
        .bind(row.created_at)
        .execute(&mut **tx)
        .await?;
        Ok(row)
    }

    /// Not found unless the silence is the project's.
    pub async fn delete(&mut self, silence_id: &str) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        let done = sqlx::query("delete from silences where id = $1 and project_id = $2")
            .bind(silence_id)
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("silence"));
        }
        Ok(())
    }
}

impl AlertPass<'_> {
    /// Whether a silence of the project mutes `rule_id` on `deployment_id` at `now`.
    pub async fn silenced(
        &mut self,
        project_id: &str,
        rule_id: &str,
        deployment_id: &str,
        now: i64,
    ) -> Result<bool, Error> {
        let tx = self.0.tx();
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from silences where project_id = $1 and starts_at <= $2 and ends_at > $2
                and (rule_id is null or rule_id = $3) and (deployment_id is null or deployment_id = $4)",
        )
        .bind(project_id)
        .bind(now)
        .bind(rule_id)
        .bind(deployment_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(n > 0)
    }
}
