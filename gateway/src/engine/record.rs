//! A deployment as Sluice records it: what the user wants (`desired_state`: RUNNING,
//! SUSPENDED or CANCELLED), what Sluice last saw the engine do (`status`), its events,
//! and the stretches of running time that billing reads.

use crate::api::jobs::JobContent;
use crate::AppState;
use store::db::{new_id, now_ms};
use store::Error;

store::stored_enum! {
    /// What the user wants of a deployment.
    pub enum DesiredState {
        Running = "RUNNING",
        Suspended = "SUSPENDED",
        Cancelled = "CANCELLED",
    }
}

store::stored_enum! {
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

store::stored_enum! {
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
    pub fn content(&self) -> JobContent {
        JobContent::from_columns(
            &self.kind,
            self.sql_text.clone(),
            self.artifact_id.clone(),
            self.entry_class.clone(),
            self.args.clone(),
        )
    }

    /// Total CU the deployment holds while it runs.
    pub fn cu_milli(&self) -> i64 {
        self.parallelism * self.cu_per_task_milli
    }
}

pub const DEPLOYMENT_SELECT: &str = "select d.id, d.project_id, p.account_id, d.job_id, d.name, d.job_version, d.kind,
        d.sql_text, d.artifact_id, d.entry_class, d.args, d.cluster_id, c.rest_url, d.parallelism,
        d.cu_per_task_milli, d.desired_state, d.status, d.engine_job_id, d.restore_mode,
        d.restore_savepoint_id, d.pending_version, d.last_checkpoint_path, d.last_error,
        d.restart_count, d.revision, d.created_at, d.updated_at, d.engine_restarts, d.last_engine_failure,
        d.had_state, d.allow_empty_state, ej.state as intent_state, ej.restore_path as intent_restore_path
   from deployments d join projects p on p.id = d.project_id join engine_clusters c on c.id = d.cluster_id
   left join engine_jobs ej on ej.id = d.engine_job_id";

pub async fn load(state: &AppState, deployment_id: &str) -> Result<Option<DeploymentRow>, Error> {
    Ok(
        sqlx::query_as(&format!("{DEPLOYMENT_SELECT} where d.id = $1"))
            .bind(deployment_id)
            .fetch_optional(&state.db.pool)
            .await?,
    )
}

pub async fn event(
    state: &AppState,
    deployment_id: &str,
    kind: &str,
    message: &str,
) -> Result<(), Error> {
    tracing::info!(deployment = %deployment_id, kind, message, "deployment event");
    sqlx::query("insert into deployment_events (id, deployment_id, kind, message, created_at) values ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(deployment_id)
        .bind(kind)
        .bind(message)
        .bind(now_ms())
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

pub(super) async fn set_status(
    state: &AppState,
    d: &DeploymentRow,
    status: Status,
    engine_job_id: Option<&str>,
    error: Option<&str>,
) -> Result<(), Error> {
    // Most passes change nothing: then nothing is written.
    if status == d.status
        && engine_job_id == d.engine_job_id.as_deref()
        && error == d.last_error.as_deref()
    {
        return Ok(());
    }
    sqlx::query(
        "update deployments set status = $1, engine_job_id = $2, last_error = $3, updated_at = $4 where id = $5",
    )
    .bind(status)
    .bind(engine_job_id)
    .bind(error)
    .bind(now_ms())
    .bind(&d.id)
    .execute(&state.db.pool)
    .await?;
    if status != d.status {
        event(state, &d.id, "status", &format!("{} -> {status}", d.status)).await?;
    }
    Ok(())
}

pub(super) async fn open_interval(
    state: &AppState,
    d: &DeploymentRow,
    started_at: i64,
) -> Result<(), Error> {
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
    .execute(&state.db.pool)
    .await?;
    Ok(())
}

pub(super) async fn close_interval(
    state: &AppState,
    d: &DeploymentRow,
    ended_at: i64,
) -> Result<(), Error> {
    sqlx::query(
        "update run_intervals set ended_at = $1 where deployment_id = $2 and ended_at is null",
    )
    .bind(ended_at)
    .bind(&d.id)
    .execute(&state.db.pool)
    .await?;
    Ok(())
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
