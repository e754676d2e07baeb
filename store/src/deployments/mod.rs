//! Deployments: their desired state, what the engine was last seen doing, and the actions pending.
//!
//! A project reads and changes its own through its [`ProjectScope`] (a start under the
//! project's lock, through its [`ProjectWrite`]); the reconciler and the platform's
//! workers reach every tenant's through [`AllTenants`] and [`AllTenantsWrite`]. Each
//! engine submission is recorded (`engine_jobs`, in [`engine`]) before the engine is asked.

use crate::db::{new_id, now_ms};
use crate::scope::{ProjectScope, ProjectWrite};
use crate::{Error, Page};

mod engine;
pub use engine::{installation_tag, AllDeployments, DeploymentTx, Submission};

crate::stored_enum! {
    /// What the user wants of a deployment.
    pub enum DesiredState {
        Running = "RUNNING",
        Suspended = "SUSPENDED",
        Cancelled = "CANCELLED",
    }
}

crate::stored_enum! {
    /// What Sluice last saw the engine do with a deployment.
    pub enum Status {
        /// Never started.
        Created = "CREATED",
        /// Submitted (or about to be); not yet seen running.
        Starting = "STARTING",
        Running = "RUNNING",
        /// The engine's job exists but not all of its tasks run (deploying, restarting).
        Transitioning = "TRANSITIONING",
        /// A stop (with or without savepoint) is under way.
        Stopping = "STOPPING",
        Suspended = "SUSPENDED",
        Cancelled = "CANCELLED",
        /// Refused, or out of restarts: waits for the user.
        Failed = "FAILED",
        /// The job completed by itself (a bounded job).
        Finished = "FINISHED",
    }
}

crate::stored_enum! {
    /// Where the next start restores state from.
    pub enum RestoreMode {
        None = "NONE",
        LatestSavepoint = "LATEST_SAVEPOINT",
        FromSavepoint = "FROM_SAVEPOINT",
        /// The newer of the last checkpoint and the newest savepoint.
        LatestState = "LATEST_STATE",
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeploymentRow {
    pub id: String,
    pub project_id: String,
    pub account_id: String,
    pub job_id: String,
    pub name: String,
    pub job_version: i64,
    pub kind: String,
    pub sql_text: Option<String>,
    pub artifact_id: Option<String>,
    pub entry_class: Option<String>,
    pub args: Option<String>,
    pub cluster_id: String,
    pub rest_url: String,
    pub parallelism: i64,
    pub cu_per_task_milli: i64,
    pub desired_state: DesiredState,
    pub status: Status,
    pub engine_job_id: Option<String>,
    pub restore_mode: RestoreMode,
    pub restore_savepoint_id: Option<String>,
    pub pending_version: Option<i64>,
    pub last_checkpoint_path: Option<String>,
    pub last_error: Option<String>,
    pub restart_count: i64,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Restarts of the current job by the engine's own restart strategy.
    pub engine_restarts: i64,
    pub last_engine_failure: Option<String>,
    /// Whether a checkpoint or savepoint of the deployment ever completed.
    pub had_state: i64,
    /// The current start's consent to start empty when the state asked for is gone.
    pub allow_empty_state: i64,
    /// The current job's submission record: INTENDED until the engine acknowledged it.
    pub intent_state: Option<String>,
    pub intent_restore_path: Option<String>,
    /// JSON array of artifact ids put on the job's classpath beside what it references.
    pub dependencies: String,
}

impl DeploymentRow {
    /// The artifact ids the deployment adds to its job's classpath.
    pub fn dependency_ids(&self) -> Vec<String> {
        serde_json::from_str(&self.dependencies).unwrap_or_default()
    }

    /// Total CU the deployment holds while it runs.
    pub fn cu_milli(&self) -> i64 {
        self.parallelism * self.cu_per_task_milli
    }
}

const DEPLOYMENT_SELECT: &str = "select d.id, d.project_id, p.account_id, d.job_id, d.name, d.job_version, d.kind,
        d.sql_text, d.artifact_id, d.entry_class, d.args, d.cluster_id, c.rest_url, d.parallelism,
        d.cu_per_task_milli, d.desired_state, d.status, d.engine_job_id, d.restore_mode,
        d.restore_savepoint_id, d.pending_version, d.last_checkpoint_path, d.last_error,
        d.restart_count, d.revision, d.created_at, d.updated_at, d.engine_restarts, d.last_engine_failure,
        d.had_state, d.allow_empty_state, ej.state as intent_state, ej.restore_path as intent_restore_path,
        d.dependencies
   from deployments d join projects p on p.id = d.project_id join engine_clusters c on c.id = d.cluster_id
   left join engine_jobs ej on ej.id = d.engine_job_id";

/// What a job version runs, in the columns a deployment stores it in.
#[derive(Debug, Clone, Copy)]
pub struct ContentRef<'a> {
    pub kind: &'a str,
    pub sql_text: Option<&'a str>,
    pub artifact_id: Option<&'a str>,
    pub entry_class: Option<&'a str>,
    pub args: Option<&'a str>,
}

/// The project's deployments, as the caller may read and change them.
pub struct Deployments<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn deployments(&self) -> Deployments<'_> {
        Deployments(self)
    }
}

impl Deployments<'_> {
    pub async fn get(&self, id: &str) -> Result<DeploymentRow, Error> {
        let scope = self.0;
        let row: Option<DeploymentRow> = sqlx::query_as(&format!(
            "{DEPLOYMENT_SELECT} where d.id = $1 and d.project_id = $2 and p.account_id = $3"
        ))
        .bind(id)
        .bind(scope.project_id())
        .bind(scope.account_id())
        .fetch_optional(&scope.db().pool)
        .await?;
        row.ok_or_else(|| Error::not_found("deployment"))
    }

    /// One page in id order, only those of `job_id` and in `status` when not empty.
    pub async fn list(
        &self,
        page: &Page,
        job_id: &str,
        status: &str,
    ) -> Result<Vec<DeploymentRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "{DEPLOYMENT_SELECT} where d.project_id = $1 and p.account_id = $2 and d.id > $3
            and ($5 = '' or d.job_id = $5) and ($6 = '' or d.status = $6)
          order by d.id limit $4"
        ))
        .bind(scope.project_id())
        .bind(scope.account_id())
        .bind(&page.after)
        .bind(page.fetch())
        .bind(job_id)
        .bind(status)
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// Asks a deployment meant to run to stop as `desired`; false if it was not meant
    /// to run (another operation got there first).
    pub async fn stop(&self, id: &str, desired: DesiredState) -> Result<bool, Error> {
        let scope = self.0;
        let stopped = sqlx::query(
            "update deployments set desired_state = $1, pending_version = null, revision = revision + 1, updated_at = $2
              where id = $3 and desired_state = 'RUNNING' and project_id = $4",
        )
        .bind(desired)
        .bind(now_ms())
        .bind(id)
        .bind(scope.project_id())
        .execute(&scope.db().pool)
        .await?;
        Ok(stopped.rows_affected() > 0)
    }

    /// Records an upgrade to `version` of the deployment's job (which must exist, read
    /// in the same transaction); false unless the deployment runs with no upgrade in
    /// progress.
    pub async fn request_upgrade(
        &self,
        id: &str,
        job_id: &str,
        version: i64,
    ) -> Result<bool, Error> {
        let scope = self.0;
        let mut tx = scope.db().begin_write().await?;
        crate::versions::of_job(&mut tx, job_id, version).await?;
        let upgraded = sqlx::query(
            "update deployments set pending_version = $1, revision = revision + 1, updated_at = $2
              where id = $3 and desired_state = 'RUNNING' and status = 'RUNNING' and pending_version is null
                and project_id = $4",
        )
        .bind(version)
        .bind(now_ms())
        .bind(id)
        .bind(scope.project_id())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(upgraded.rows_affected() > 0)
    }

    /// Deletes a deployment neither meant to run nor holding an engine job; false if
    /// it is either.
    pub async fn delete_stopped(&self, id: &str) -> Result<bool, Error> {
        let scope = self.0;
        let deleted = sqlx::query(
            "delete from deployments where id = $1 and desired_state <> 'RUNNING' and engine_job_id is null
                and project_id = $2",
        )
        .bind(id)
        .bind(scope.project_id())
        .execute(&scope.db().pool)
        .await?;
        Ok(deleted.rows_affected() > 0)
    }
}

/// A deployment to create (not started yet).
pub struct NewDeployment<'a> {
    pub job_id: &'a str,
    pub name: &'a str,
    pub job_version: i64,
    pub content: ContentRef<'a>,
    pub cluster_id: &'a str,
    pub parallelism: i64,
    pub cu_per_task_milli: i64,
    /// JSON array of artifact ids.
    pub dependencies: &'a str,
}

/// The project's deployments inside its locked write transaction.
pub struct DeploymentWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn deployments(&mut self) -> DeploymentWrites<'_> {
        DeploymentWrites(self)
    }
}

/// What a deployment puts on its job's classpath, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeploymentCode {
    pub name: String,
    pub kind: String,
    pub sql_text: Option<String>,
    pub artifact_id: Option<String>,
    /// JSON array of artifact ids.
    pub dependencies: String,
}

impl DeploymentWrites<'_> {
    /// The code of every deployment of the project (to tell which use an artifact).
    pub async fn code(&mut self) -> Result<Vec<DeploymentCode>, Error> {
        let (tx, project_id) = self.0.parts();
        Ok(sqlx::query_as(
            "select name, kind, sql_text, artifact_id, dependencies from deployments
              where project_id = $1 order by name",
        )
        .bind(project_id)
        .fetch_all(&mut **tx)
        .await?)
    }

    /// The names and statuses of a job's deployments, by name.
    pub async fn of_job(&mut self, job_id: &str) -> Result<Vec<(String, String)>, Error> {
        let (tx, project_id) = self.0.parts();
        Ok(sqlx::query_as(
            "select name, status from deployments where project_id = $1 and job_id = $2 order by name",
        )
        .bind(project_id)
        .bind(job_id)
        .fetch_all(&mut **tx)
        .await?)
    }

    pub async fn name_taken(&mut self, name: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let (taken,): (i64,) =
            sqlx::query_as("select count(*) from deployments where project_id = $1 and name = $2")
                .bind(project_id)
                .bind(name)
                .fetch_one(&mut **tx)
                .await?;
        Ok(taken > 0)
    }

    /// Stores a new deployment, cancelled and never started; returns its id.
    pub async fn insert(&mut self, new: &NewDeployment<'_>) -> Result<String, Error> {
        let (tx, project_id) = self.0.parts();
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "insert into deployments (id, project_id, job_id, name, job_version, kind, sql_text, artifact_id, entry_class, args,
                                      cluster_id, parallelism, cu_per_task_milli, desired_state, status, restore_mode,
                                      restart_count, revision, created_at, updated_at, dependencies)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'CANCELLED', 'CREATED', 'NONE', 0, 1, $14, $14, $15)",
        )
        .bind(&id)
        .bind(project_id)
        .bind(new.job_id)
        .bind(new.name)
        .bind(new.job_version)
        .bind(new.content.kind)
        .bind(new.content.sql_text)
        .bind(new.content.artifact_id)
        .bind(new.content.entry_class)
        .bind(new.content.args)
        .bind(new.cluster_id)
        .bind(new.parallelism)
        .bind(new.cu_per_task_milli)
        .bind(now)
        .bind(new.dependencies)
        .execute(&mut **tx)
        .await?;
        Ok(id)
    }

    /// Wants the deployment running, restoring as `mode`. Only one start wins: false if
    /// it already wants to run (unless its job failed) or still holds an engine job.
    pub async fn start(
        &mut self,
        id: &str,
        mode: RestoreMode,
        savepoint_id: Option<&str>,
        allow_empty_state: bool,
    ) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let started = sqlx::query(
            "update deployments set desired_state = 'RUNNING', status = 'STARTING', restore_mode = $1, restore_savepoint_id = $2,
                    restart_count = 0, last_error = null, allow_empty_state = $3, revision = revision + 1, updated_at = $4
              where id = $5 and (desired_state <> 'RUNNING' or status = 'FAILED') and engine_job_id is null
                and project_id = $6",
        )
        .bind(mode)
        .bind(savepoint_id)
        .bind(i64::from(allow_empty_state))
        .bind(now_ms())
        .bind(id)
        .bind(project_id)
        .execute(&mut **tx)
        .await?;
        Ok(started.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stored_name_reads_back_as_its_variant_and_no_other_text_does() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(*status));
        }
        for desired in DesiredState::ALL {
            assert_eq!(DesiredState::parse(desired.as_str()), Some(*desired));
        }
        for mode in RestoreMode::ALL {
            assert_eq!(RestoreMode::parse(&mode.to_string()), Some(*mode));
        }
        assert_eq!(Status::parse("running"), None);
        assert_eq!(DesiredState::parse("FAILED"), None);
    }
}
