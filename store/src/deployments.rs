//! Deployments: their desired state, what the engine was last seen doing, and the actions pending.
//!
//! A project reads and changes its own through its [`ProjectScope`] (a start under the
//! project's lock, through its [`ProjectWrite`]); the reconciler and the platform's
//! workers reach every tenant's through [`AllTenants`] and [`AllTenantsWrite`]. Each
//! engine submission is recorded here (`engine_jobs`) before the engine is asked.

use crate::all_tenants::{AllTenants, AllTenantsWrite};
use crate::db::{new_id, now_ms, Db};
use crate::jobs::ContentColumns;
use crate::scope::{ProjectScope, ProjectWrite};
use crate::{Error, Page};

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
}

impl DeploymentRow {
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
        d.had_state, d.allow_empty_state, ej.state as intent_state, ej.restore_path as intent_restore_path
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
}

/// The project's deployments inside its locked write transaction.
pub struct DeploymentWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn deployments(&mut self) -> DeploymentWrites<'_> {
        DeploymentWrites(self)
    }
}

impl DeploymentWrites<'_> {
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
                                      restart_count, revision, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'CANCELLED', 'CREATED', 'NONE', 0, 1, $14, $14)",
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

/// Every tenant's deployments, for the reconciler and the platform's workers.
pub struct AllDeployments<'a>(&'a AllTenants);

impl AllTenants {
    pub fn deployments(&self) -> AllDeployments<'_> {
        AllDeployments(self)
    }
}

impl AllDeployments<'_> {
    fn db(&self) -> &Db {
        self.0.db()
    }

    pub async fn get(&self, id: &str) -> Result<Option<DeploymentRow>, Error> {
        Ok(
            sqlx::query_as(&format!("{DEPLOYMENT_SELECT} where d.id = $1"))
                .bind(id)
                .fetch_optional(&self.db().pool)
                .await?,
        )
    }

    /// Deployments that want or have engine activity, with their cluster's REST URL,
    /// by cluster.
    pub async fn active(&self) -> Result<Vec<(String, String)>, Error> {
        Ok(sqlx::query_as(
            "select d.id, c.rest_url from deployments d join engine_clusters c on c.id = d.cluster_id
              where (d.desired_state = 'RUNNING' and d.status <> 'FAILED') or d.engine_job_id is not null
                 or d.status in ('STARTING', 'STOPPING', 'TRANSITIONING')
                 or exists (select 1 from savepoints s where s.deployment_id = d.id and s.state = 'STARTED')
              order by c.rest_url, d.id",
        )
        .fetch_all(&self.db().pool)
        .await?)
    }

    /// Records what the engine was seen doing, with the job and the error that go with it.
    pub async fn set_status(
        &self,
        id: &str,
        status: Status,
        engine_job_id: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), Error> {
        sqlx::query(
            "update deployments set status = $1, engine_job_id = $2, last_error = $3, updated_at = $4 where id = $5",
        )
        .bind(status)
        .bind(engine_job_id)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }

    /// Opens a stretch of running time for billing, unless one is open.
    pub async fn open_run_interval(&self, d: &DeploymentRow, started_at: i64) -> Result<(), Error> {
        sqlx::query(
            "insert into run_intervals (id, deployment_id, project_id, account_id, cu_milli, started_at, ended_at)
             select $1, $2, $3, $4, $5, $6, null
              where not exists (select 1 from run_intervals where deployment_id = $2 and ended_at is null)",
        )
        .bind(new_id())
        .bind(&d.id)
        .bind(&d.project_id)
        .bind(&d.account_id)
        .bind(d.cu_milli())
        .bind(started_at)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }

    /// Closes the deployment's open stretch of running time, if any.
    pub async fn close_run_interval(&self, id: &str, ended_at: i64) -> Result<(), Error> {
        sqlx::query(
            "update run_intervals set ended_at = $1 where deployment_id = $2 and ended_at is null",
        )
        .bind(ended_at)
        .bind(id)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }

    /// Wants a deployment meant to run suspended (a stop with savepoint); false if it
    /// was not meant to run.
    pub async fn suspend(&self, id: &str) -> Result<bool, Error> {
        let stopped = sqlx::query(
            "update deployments set desired_state = 'SUSPENDED', pending_version = null, revision = revision + 1, updated_at = $1
              where id = $2 and desired_state = 'RUNNING'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.db().pool)
        .await?;
        Ok(stopped.rows_affected() > 0)
    }

    /// A job that completed by itself is no longer wanted running.
    pub async fn no_longer_wanted(&self, id: &str) -> Result<(), Error> {
        sqlx::query("update deployments set desired_state = 'CANCELLED' where id = $1 and desired_state = 'RUNNING'")
            .bind(id)
            .execute(&self.db().pool)
            .await?;
        Ok(())
    }

    /// The engine's own restarts of the current job and the failure it last restarted from.
    pub async fn record_engine_restarts(
        &self,
        id: &str,
        restarts: i64,
        failure: &str,
    ) -> Result<(), Error> {
        sqlx::query(
            "update deployments set engine_restarts = $1, last_engine_failure = $2 where id = $3",
        )
        .bind(restarts)
        .bind(failure)
        .bind(id)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }

    /// The job's checkpoint counters and when its newest one completed; written only
    /// when a counter changed.
    pub async fn record_checkpoint_counts(
        &self,
        id: &str,
        completed: i64,
        failed: i64,
        completed_at: Option<i64>,
    ) -> Result<(), Error> {
        sqlx::query(
            "update deployments set checkpoints_completed = $1, checkpoints_failed = $2, last_checkpoint_at = $3
              where id = $4 and (checkpoints_completed is null or checkpoints_completed <> $1 or checkpoints_failed <> $2)",
        )
        .bind(completed)
        .bind(failed)
        .bind(completed_at)
        .bind(id)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }

    /// The newest completed checkpoint, to resume from; the deployment has had state.
    pub async fn remember_checkpoint(&self, id: &str, path: &str) -> Result<(), Error> {
        sqlx::query(
            "update deployments set last_checkpoint_path = $1, had_state = 1 where id = $2",
        )
        .bind(path)
        .bind(id)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }

    /// When the checkpoint the deployment remembers completed (fails if the deployment is gone).
    pub async fn last_checkpoint_at(&self, id: &str) -> Result<Option<i64>, Error> {
        let (at,): (Option<i64>,) =
            sqlx::query_as("select last_checkpoint_at from deployments where id = $1")
                .bind(id)
                .fetch_one(&self.db().pool)
                .await?;
        Ok(at)
    }

    /// The checkpoint to restore from no longer exists: forgotten, with the job that
    /// was to restore from it.
    pub async fn forget_checkpoint(&self, id: &str) -> Result<(), Error> {
        sqlx::query("update deployments set last_checkpoint_path = null, engine_job_id = null where id = $1")
            .bind(id)
            .execute(&self.db().pool)
            .await?;
        Ok(())
    }

    /// Counts a restart by Sluice; the next start restores the latest state.
    pub async fn mark_restarting(&self, id: &str) -> Result<(), Error> {
        sqlx::query("update deployments set restart_count = restart_count + 1, restore_mode = 'LATEST_STATE', engine_job_id = null, status = 'STARTING' where id = $1")
            .bind(id)
            .execute(&self.db().pool)
            .await?;
        Ok(())
    }

    /// A stop whose savepoint failed left the job running: it is wanted running again,
    /// with why; nothing changes if it is no longer meant to be suspended.
    pub async fn resume_after_failed_stop(&self, id: &str, message: &str) -> Result<(), Error> {
        sqlx::query("update deployments set desired_state = 'RUNNING', last_error = $1 where id = $2 and desired_state = 'SUSPENDED'")
            .bind(message)
            .bind(id)
            .execute(&self.db().pool)
            .await?;
        Ok(())
    }

    /// An upgrade whose savepoint failed is dropped, with why.
    pub async fn drop_pending_upgrade(&self, id: &str, message: &str) -> Result<(), Error> {
        sqlx::query("update deployments set pending_version = null, last_error = $1 where id = $2")
            .bind(message)
            .bind(id)
            .execute(&self.db().pool)
            .await?;
        Ok(())
    }

    /// Moves a submission still in `from` to `to`; false if it was not in `from`.
    pub async fn mark_submission(&self, job_id: &str, to: &str, from: &str) -> Result<bool, Error> {
        let marked = sqlx::query("update engine_jobs set state = $1 where id = $2 and state = $3")
            .bind(to)
            .bind(job_id)
            .bind(from)
            .execute(&self.db().pool)
            .await?;
        Ok(marked.rows_affected() > 0)
    }

    /// The engine acknowledged a submission still in `from`: it is `to` from now;
    /// false if it was not in `from`.
    pub async fn confirm_submission(
        &self,
        job_id: &str,
        to: &str,
        from: &str,
    ) -> Result<bool, Error> {
        let confirmed = sqlx::query(
            "update engine_jobs set state = $1, submitted_at = $2 where id = $3 and state = $4",
        )
        .bind(to)
        .bind(now_ms())
        .bind(job_id)
        .bind(from)
        .execute(&self.db().pool)
        .await?;
        Ok(confirmed.rows_affected() > 0)
    }

    /// Clears the last error of a deployment still on engine job `job_id`.
    pub async fn clear_error(&self, id: &str, job_id: &str) -> Result<(), Error> {
        sqlx::query(
            "update deployments set last_error = null where id = $1 and engine_job_id = $2",
        )
        .bind(id)
        .bind(job_id)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }

    /// Lets go of engine job `job_id`, if the deployment still holds it.
    pub async fn drop_engine_job(&self, id: &str, job_id: &str) -> Result<(), Error> {
        sqlx::query(
            "update deployments set engine_job_id = null where id = $1 and engine_job_id = $2",
        )
        .bind(id)
        .bind(job_id)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }

    /// The engine jobs the deployments on the cluster at `rest_url` hold now.
    pub async fn engine_jobs_on(&self, rest_url: &str) -> Result<Vec<String>, Error> {
        Ok(sqlx::query_scalar(
            "select d.engine_job_id from deployments d join engine_clusters c on c.id = d.cluster_id
              where c.rest_url = $1 and d.engine_job_id is not null",
        )
        .bind(rest_url)
        .fetch_all(&self.db().pool)
        .await?)
    }

    /// The deployment an engine job was submitted for, if Sluice recorded it.
    pub async fn of_engine_job(&self, job_id: &str) -> Result<Option<String>, Error> {
        Ok(
            sqlx::query_scalar("select deployment_id from engine_jobs where id = $1")
                .bind(job_id)
                .fetch_optional(&self.db().pool)
                .await?,
        )
    }
}

/// A new run's submission, recorded before the engine is asked.
pub struct Submission<'a> {
    pub job_id: &'a str,
    pub deployment_id: &'a str,
    pub cluster_id: &'a str,
    pub job_version: i64,
    pub restore_path: Option<&'a str>,
    pub state: &'a str,
    pub created_at: i64,
}

/// Every tenant's deployments inside one write transaction.
pub struct DeploymentTx<'a>(&'a mut AllTenantsWrite);

impl AllTenantsWrite {
    pub fn deployments(&mut self) -> DeploymentTx<'_> {
        DeploymentTx(self)
    }
}

impl DeploymentTx<'_> {
    /// Records a submission under the job id Sluice chose.
    pub async fn record_submission(&mut self, s: &Submission<'_>) -> Result<(), Error> {
        let (tx, _) = self.0.parts();
        sqlx::query(
            "insert into engine_jobs (id, deployment_id, cluster_id, job_version, restore_path, state, created_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(s.job_id)
        .bind(s.deployment_id)
        .bind(s.cluster_id)
        .bind(s.job_version)
        .bind(s.restore_path)
        .bind(s.state)
        .bind(s.created_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The deployment's new run: its engine job, STARTING, no error, no engine restarts yet.
    pub async fn mark_starting(&mut self, id: &str, job_id: &str, at: i64) -> Result<(), Error> {
        let (tx, _) = self.0.parts();
        sqlx::query(
            "update deployments set engine_job_id = $1, status = 'STARTING', last_error = null, engine_restarts = 0,
                    updated_at = $2
              where id = $3",
        )
        .bind(job_id)
        .bind(at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// A completed savepoint is the deployment's state; after a stop with savepoint the
    /// engine discards the job's checkpoints, so the one remembered is forgotten.
    pub async fn record_savepoint_state(&mut self, id: &str, stopped: bool) -> Result<(), Error> {
        let (tx, _) = self.0.parts();
        sqlx::query(if stopped {
            "update deployments set had_state = 1, last_checkpoint_path = null where id = $1"
        } else {
            "update deployments set had_state = 1 where id = $1"
        })
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// What version `version` of a deployment's job runs; not found names the versions kept.
    pub async fn job_version(
        &mut self,
        job_id: &str,
        version: i64,
    ) -> Result<ContentColumns, Error> {
        let (tx, _) = self.0.parts();
        Ok(crate::versions::of_job(tx, job_id, version).await?.content)
    }

    /// The upgrade's new version, to start from its savepoint.
    pub async fn apply_upgrade(
        &mut self,
        id: &str,
        version: i64,
        content: ContentRef<'_>,
        savepoint_id: &str,
    ) -> Result<(), Error> {
        let (tx, _) = self.0.parts();
        sqlx::query(
            "update deployments set job_version = $1, kind = $2, sql_text = $3, artifact_id = $4, entry_class = $5, args = $6,
                    pending_version = null, restore_mode = 'FROM_SAVEPOINT', restore_savepoint_id = $7, engine_job_id = null
              where id = $8",
        )
        .bind(version)
        .bind(content.kind)
        .bind(content.sql_text)
        .bind(content.artifact_id)
        .bind(content.entry_class)
        .bind(content.args)
        .bind(savepoint_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// This installation's tag: `candidate` if no replica chose one before, else the one
/// chosen first (kept in the database).
pub async fn installation_tag(db: &Db, candidate: &str) -> Result<String, Error> {
    sqlx::query("insert into installation (singleton, tag) values (1, $1) on conflict do nothing")
        .bind(candidate)
        .execute(&db.pool)
        .await?;
    let (tag,): (String,) = sqlx::query_as("select tag from installation where singleton = 1")
        .fetch_one(&db.pool)
        .await?;
    Ok(tag)
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
