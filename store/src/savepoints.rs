//! Savepoints: requested, taken on the engine and recorded.
//!
//! Each is recorded (STARTED, with the trigger id the request carries) before the
//! engine is asked, then COMPLETED with its location or FAILED with why. A project
//! reaches its deployments' savepoints through its [`ProjectScope`] (each query joins
//! the deployment, scoped to the project and its account); the reconciler through
//! [`AllTenants`] and [`AllTenantsWrite`].

use crate::all_tenants::{AllTenants, AllTenantsWrite};
use crate::db::{new_id, now_ms, Db};
use crate::scope::ProjectScope;
use crate::{Error, Page};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SavepointRow {
    pub id: String,
    pub engine_job_id: String,
    /// USER_REQUEST, SUSPEND or SUSPEND_AND_UPGRADE.
    pub origin: String,
    /// STARTED, COMPLETED or FAILED.
    pub state: String,
    pub location: Option<String>,
    /// Bytes of state, as the engine's checkpoint statistics report them.
    pub size_bytes: Option<i64>,
    pub failure: Option<String>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

/// A savepoint in flight, or completed with its size still unknown, as the reconciler
/// settles it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InFlightRow {
    pub id: String,
    pub engine_job_id: String,
    pub trigger_id: String,
    pub origin: String,
    /// STARTED, or COMPLETED (its size to read).
    pub state: String,
    pub location: Option<String>,
    /// When it was requested (Sluice's clock).
    pub created_at: i64,
}

/// A savepoint about to be requested.
pub struct NewSavepoint<'a> {
    pub deployment_id: &'a str,
    pub engine_job_id: &'a str,
    pub trigger_id: &'a str,
    pub origin: &'a str,
}

/// The savepoints of the project's deployments.
pub struct Savepoints<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn savepoints(&self) -> Savepoints<'_> {
        Savepoints(self)
    }
}

/// Savepoints `s` of the project's deployments: `$1` the project, `$2` its account.
const IN_PROJECT: &str = "savepoints s join deployments d on d.id = s.deployment_id join projects p on p.id = d.project_id
  where d.project_id = $1 and p.account_id = $2";

const COLUMNS: &str =
    "s.id, s.engine_job_id, s.origin, s.state, s.location, s.size_bytes, s.failure, s.created_at, s.completed_at";

impl Savepoints<'_> {
    fn db(&self) -> &Db {
        self.0.db()
    }

    /// One page of a deployment's savepoints in id order.
    pub async fn list(&self, deployment_id: &str, page: &Page) -> Result<Vec<SavepointRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {COLUMNS} from {IN_PROJECT} and s.deployment_id = $3 and s.id > $4 order by s.id limit $5"
        ))
        .bind(scope.project_id())
        .bind(scope.account_id())
        .bind(deployment_id)
        .bind(&page.after)
        .bind(page.fetch())
        .fetch_all(&self.db().pool)
        .await?)
    }

    /// One savepoint just recorded (an error if it is gone).
    pub async fn get(&self, id: &str) -> Result<SavepointRow, Error> {
        let scope = self.0;
        Ok(
            sqlx::query_as(&format!("select {COLUMNS} from {IN_PROJECT} and s.id = $3"))
                .bind(scope.project_id())
                .bind(scope.account_id())
                .bind(id)
                .fetch_one(&self.db().pool)
                .await?,
        )
    }

    /// A savepoint of the deployment: its state and location.
    pub async fn state_of(
        &self,
        id: &str,
        deployment_id: &str,
    ) -> Result<Option<(String, Option<String>)>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select s.state, s.location from {IN_PROJECT} and s.id = $3 and s.deployment_id = $4"
        ))
        .bind(scope.project_id())
        .bind(scope.account_id())
        .bind(id)
        .bind(deployment_id)
        .fetch_optional(&self.db().pool)
        .await?)
    }

    /// Whether `id` is a completed savepoint of the deployment.
    pub async fn is_completed(&self, id: &str, deployment_id: &str) -> Result<bool, Error> {
        let scope = self.0;
        let (n,): (i64,) = sqlx::query_as(&format!(
            "select count(*) from {IN_PROJECT} and s.id = $3 and s.deployment_id = $4 and s.state = 'COMPLETED'"
        ))
        .bind(scope.project_id())
        .bind(scope.account_id())
        .bind(id)
        .bind(deployment_id)
        .fetch_one(&self.db().pool)
        .await?;
        Ok(n > 0)
    }

    /// How many of the deployment's savepoints completed.
    pub async fn completed_count(&self, deployment_id: &str) -> Result<i64, Error> {
        let scope = self.0;
        let (n,): (i64,) = sqlx::query_as(&format!(
            "select count(*) from {IN_PROJECT} and s.deployment_id = $3 and s.state = 'COMPLETED'"
        ))
        .bind(scope.project_id())
        .bind(scope.account_id())
        .bind(deployment_id)
        .fetch_one(&self.db().pool)
        .await?;
        Ok(n)
    }

    /// The deployment's savepoints that have files: their ids and locations.
    pub async fn with_files(&self, deployment_id: &str) -> Result<Vec<(String, String)>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select s.id, s.location from {IN_PROJECT} and s.deployment_id = $3 and s.location is not null"
        ))
        .bind(scope.project_id())
        .bind(scope.account_id())
        .bind(deployment_id)
        .fetch_all(&self.db().pool)
        .await?)
    }

    /// Forgets a savepoint (its files are disposed of first).
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        let scope = self.0;
        sqlx::query(
            "delete from savepoints where id = $1 and deployment_id in
               (select d.id from deployments d join projects p on p.id = d.project_id
                 where d.project_id = $2 and p.account_id = $3)",
        )
        .bind(id)
        .bind(scope.project_id())
        .bind(scope.account_id())
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }

    /// Records a savepoint of one of the project's deployments about to be requested;
    /// returns its id. Not found if the deployment is not the project's.
    pub async fn insert_started(&self, new: &NewSavepoint<'_>) -> Result<String, Error> {
        let scope = self.0;
        let id = new_id();
        let inserted = sqlx::query(
            "insert into savepoints (id, deployment_id, engine_job_id, trigger_id, origin, state, created_at)
             select $1, d.id, $3, $4, $5, 'STARTED', $6
               from deployments d join projects p on p.id = d.project_id
              where d.id = $2 and d.project_id = $7 and p.account_id = $8",
        )
        .bind(&id)
        .bind(new.deployment_id)
        .bind(new.engine_job_id)
        .bind(new.trigger_id)
        .bind(new.origin)
        .bind(now_ms())
        .bind(scope.project_id())
        .bind(scope.account_id())
        .execute(&self.db().pool)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::not_found("deployment"));
        }
        Ok(id)
    }

    /// The engine refused a savepoint still in flight: failed, with why.
    pub async fn fail(&self, id: &str, reason: &str) -> Result<(), Error> {
        let scope = self.0;
        sqlx::query(
            "update savepoints set state = 'FAILED', failure = $1, completed_at = $2 where id = $3 and state = 'STARTED'
                and deployment_id in (select d.id from deployments d join projects p on p.id = d.project_id
                                       where d.project_id = $4 and p.account_id = $5)",
        )
        .bind(reason)
        .bind(now_ms())
        .bind(id)
        .bind(scope.project_id())
        .bind(scope.account_id())
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }
}

/// Every tenant's savepoints, for the reconciler.
pub struct AllSavepoints<'a>(&'a AllTenants);

impl AllTenants {
    pub fn savepoints(&self) -> AllSavepoints<'_> {
        AllSavepoints(self)
    }
}

impl AllSavepoints<'_> {
    fn db(&self) -> &Db {
        self.0.db()
    }

    /// Records a savepoint about to be requested; returns its id.
    pub async fn insert_started(&self, new: &NewSavepoint<'_>) -> Result<String, Error> {
        let id = new_id();
        sqlx::query(
            "insert into savepoints (id, deployment_id, engine_job_id, trigger_id, origin, state, created_at)
             values ($1, $2, $3, $4, $5, 'STARTED', $6)",
        )
        .bind(&id)
        .bind(new.deployment_id)
        .bind(new.engine_job_id)
        .bind(new.trigger_id)
        .bind(new.origin)
        .bind(now_ms())
        .execute(&self.db().pool)
        .await?;
        Ok(id)
    }

    /// A savepoint still in flight failed, with why.
    pub async fn fail(&self, id: &str, reason: &str) -> Result<(), Error> {
        sqlx::query("update savepoints set state = 'FAILED', failure = $1, completed_at = $2 where id = $3 and state = 'STARTED'")
            .bind(reason)
            .bind(now_ms())
            .bind(id)
            .execute(&self.db().pool)
            .await?;
        Ok(())
    }

    /// Whether a stop with savepoint of engine job `engine_job_id` is under way or done.
    pub async fn stop_requested(
        &self,
        deployment_id: &str,
        engine_job_id: &str,
    ) -> Result<bool, Error> {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from savepoints
              where deployment_id = $1 and engine_job_id = $2 and origin in ('SUSPEND', 'SUSPEND_AND_UPGRADE')
                and state in ('STARTED', 'COMPLETED')",
        )
        .bind(deployment_id)
        .bind(engine_job_id)
        .fetch_one(&self.db().pool)
        .await?;
        Ok(n > 0)
    }

    /// The deployment's savepoints in flight, and those completed after `sized_after`
    /// whose size is not known yet, in id order (one query for both: the reconciler asks
    /// on every pass).
    pub async fn in_flight(
        &self,
        deployment_id: &str,
        sized_after: i64,
    ) -> Result<Vec<InFlightRow>, Error> {
        Ok(sqlx::query_as(
            "select id, engine_job_id, trigger_id, origin, state, location, created_at from savepoints
              where deployment_id = $1
                and (state = 'STARTED' or (state = 'COMPLETED' and size_bytes is null and completed_at > $2))
              order by id",
        )
        .bind(deployment_id)
        .bind(sized_after)
        .fetch_all(&self.db().pool)
        .await?)
    }

    /// The deployment's newest completed savepoint: its location and when it was requested.
    pub async fn newest_completed(
        &self,
        deployment_id: &str,
    ) -> Result<Option<(String, i64)>, Error> {
        Ok(sqlx::query_as(
            "select location, created_at from savepoints where deployment_id = $1 and state = 'COMPLETED' and location is not null
              order by created_at desc, id desc limit 1",
        )
        .bind(deployment_id)
        .fetch_optional(&self.db().pool)
        .await?)
    }

    /// A savepoint of the deployment: its state and location.
    pub async fn state_of(
        &self,
        id: &str,
        deployment_id: &str,
    ) -> Result<Option<(String, Option<String>)>, Error> {
        Ok(sqlx::query_as(
            "select state, location from savepoints where id = $1 and deployment_id = $2",
        )
        .bind(id)
        .bind(deployment_id)
        .fetch_optional(&self.db().pool)
        .await?)
    }
}

/// Every tenant's savepoints inside one write transaction.
pub struct SavepointTx<'a>(&'a mut AllTenantsWrite);

impl AllTenantsWrite {
    pub fn savepoints(&mut self) -> SavepointTx<'_> {
        SavepointTx(self)
    }
}

impl SavepointTx<'_> {
    /// Records the size of a completed savepoint.
    pub async fn sized(&mut self, id: &str, size_bytes: i64) -> Result<(), Error> {
        let (tx, _) = self.0.parts();
        sqlx::query("update savepoints set size_bytes = $1 where id = $2 and size_bytes is null")
            .bind(size_bytes)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn complete(
        &mut self,
        id: &str,
        location: &str,
        size_bytes: Option<i64>,
    ) -> Result<(), Error> {
        let (tx, _) = self.0.parts();
        sqlx::query("update savepoints set state = 'COMPLETED', location = $1, size_bytes = $2, completed_at = $3 where id = $4")
            .bind(location)
            .bind(size_bytes)
            .bind(now_ms())
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
