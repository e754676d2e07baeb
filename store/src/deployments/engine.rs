//! Every tenant's deployments as the reconciler and the platform's workers reach them:
//! what is active, each run's submission recorded before the engine is asked, what the
//! engine was seen doing, and this installation's tag.

use super::{ContentRef, DeploymentRow, Status, DEPLOYMENT_SELECT};
use crate::all_tenants::{AllTenants, AllTenantsWrite};
use crate::db::{new_id, now_ms, Db};
use crate::jobs::ContentColumns;
use crate::Error;

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
