//! A deployment as Sluice records it: what the user wants (`desired_state`: RUNNING,
//! SUSPENDED or CANCELLED), what Sluice last saw the engine do (`status`), its events,
//! and the stretches of running time that billing reads.

use crate::jobs::JobContent;
use crate::Platform;
use store::{Error, ProjectScope};

pub use store::deployments::{DeploymentRow, DesiredState, RestoreMode, Status};

/// What the deployment runs, as its job's content.
pub fn content(d: &DeploymentRow) -> JobContent {
    JobContent::from_columns(
        &d.kind,
        d.sql_text.clone(),
        d.artifact_id.clone(),
        d.entry_class.clone(),
        d.args.clone(),
    )
}

pub async fn load(state: &Platform, deployment_id: &str) -> Result<Option<DeploymentRow>, Error> {
    state.all_tenants().deployments().get(deployment_id).await
}

pub async fn event(
    state: &Platform,
    deployment_id: &str,
    kind: &str,
    message: &str,
) -> Result<(), Error> {
    tracing::info!(deployment = %deployment_id, kind, message, "deployment event");
    state
        .all_tenants()
        .deployment_events()
        .record(deployment_id, kind, message)
        .await
}

/// An event of one of the project's deployments, recorded through the project's scope
/// (what a request did to it).
pub async fn project_event(
    scope: &ProjectScope,
    deployment_id: &str,
    kind: &str,
    message: &str,
) -> Result<(), Error> {
    tracing::info!(deployment = %deployment_id, kind, message, "deployment event");
    scope
        .deployment_history()
        .record(deployment_id, kind, message)
        .await
}

pub(super) async fn set_status(
    state: &Platform,
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
    state
        .all_tenants()
        .deployments()
        .set_status(&d.id, status, engine_job_id, error)
        .await?;
    if status != d.status {
        event(state, &d.id, "status", &format!("{} -> {status}", d.status)).await?;
    }
    Ok(())
}

pub(super) async fn open_interval(
    state: &Platform,
    d: &DeploymentRow,
    started_at: i64,
) -> Result<(), Error> {
    state
        .all_tenants()
        .deployments()
        .open_run_interval(d, started_at)
        .await
}

pub(super) async fn close_interval(
    state: &Platform,
    d: &DeploymentRow,
    ended_at: i64,
) -> Result<(), Error> {
    state
        .all_tenants()
        .deployments()
        .close_run_interval(&d.id, ended_at)
        .await
}
