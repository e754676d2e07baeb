//! Savepoints and stops with savepoint: recorded under a trigger id Sluice chooses
//! before the engine is asked, settled by that trigger (or found in the job's
//! checkpoint history), and what waited on them carried out (an upgrade).

use engine_client::{EngineClient, EngineError, SavepointStatus};
use store::Error;

use super::engine_error;
use super::observe::observe;
use super::record::{close_interval, event, load, set_status, DeploymentRow, DesiredState, Status};
use super::submission;
use crate::failpoint;
use crate::jobs::JobContent;
use crate::Platform;
use store::db::now_ms;
use store::deployments::ContentRef;
use store::savepoints::{InFlightRow, NewSavepoint};
use store::ProjectScope;

/// Whether a stop with savepoint of the current engine job is under way or done (the
/// job then finishes by itself): asking again would fail on a finishing job.
pub(super) async fn stop_requested(state: &Platform, d: &DeploymentRow) -> Result<bool, Error> {
    state
        .all_tenants()
        .savepoints()
        .stop_requested(&d.id, d.engine_job_id.as_deref().unwrap_or(""))
        .await
}

pub(super) async fn stop_with_savepoint(
    state: &Platform,
    client: &EngineClient,
    d: &DeploymentRow,
    origin: &str,
    why: &str,
) -> Result<(), Error> {
    let Some(job_id) = &d.engine_job_id else {
        return Ok(());
    };
    // Recorded first, under a trigger id Sluice chose: a crash or a lost answer after
    // the engine took the stop leaves a savepoint the next pass can ask about.
    let savepoint = insert_savepoint(state, &d.id, job_id, origin).await?;
    match request_savepoint(client, job_id, &savepoint.trigger, origin).await {
        Ok(()) => {}
        // Maybe received: the savepoint stays in flight and is asked about again.
        Err(e) if e.is_transient() => {
            tracing::warn!(deployment = %d.id, error = %e, "stop with savepoint not acknowledged; will ask again");
        }
        Err(e) => {
            fail_savepoint(state, &savepoint.id, &e.to_string()).await?;
            return Err(engine_error(e));
        }
    }
    event(
        state,
        &d.id,
        "savepoint",
        &format!("{why}: stop with savepoint requested"),
    )
    .await?;
    set_status(state, d, Status::Stopping, Some(job_id), None).await
}

/// Asks the engine for a savepoint (a stop with one, for the stopping origins) under the
/// given trigger id; repeating it is harmless.
pub(super) async fn request_savepoint(
    client: &EngineClient,
    job_id: &str,
    trigger: &str,
    origin: &str,
) -> Result<(), EngineError> {
    let answered = if matches!(origin, "SUSPEND" | "SUSPEND_AND_UPGRADE") {
        client
            .stop_with_savepoint(job_id, None, false, Some(trigger))
            .await?
    } else {
        client
            .trigger_savepoint(job_id, None, Some(trigger))
            .await?
    };
    if answered != trigger {
        tracing::warn!(%job_id, %trigger, %answered, "the engine answered another trigger id");
    }
    Ok(())
}

/// A savepoint as recorded before the engine is asked for it.
pub struct RequestedSavepoint {
    pub id: String,
    pub trigger: String,
}

/// Records a savepoint about to be requested, with the trigger id the request will carry.
pub async fn insert_savepoint(
    state: &Platform,
    deployment_id: &str,
    job_id: &str,
    origin: &str,
) -> Result<RequestedSavepoint, Error> {
    let trigger = new_trigger();
    let id = state
        .all_tenants()
        .savepoints()
        .insert_started(&NewSavepoint {
            deployment_id,
            engine_job_id: job_id,
            trigger_id: &trigger,
            origin,
        })
        .await?;
    Ok(RequestedSavepoint { id, trigger })
}

/// A new trigger id for a savepoint request.
pub fn new_trigger() -> String {
    // The engine's trigger ids are 16 bytes in hex, as its job ids.
    submission::new_job_id(submission::JOB_ID_PREFIX)
}

/// Requests a recorded savepoint of one of the project's deployments from the engine
/// (a user's, not a stop): the engine's refusal fails the record; an unanswered
/// request is asked about again by the reconciler.
pub async fn request_user_savepoint(
    scope: &ProjectScope,
    client: &EngineClient,
    job_id: &str,
    savepoint: &RequestedSavepoint,
) -> Result<(), Error> {
    match request_savepoint(client, job_id, &savepoint.trigger, "USER_REQUEST").await {
        Ok(()) => Ok(()),
        Err(e) if e.is_transient() => Ok(()),
        Err(e) => {
            scope
                .savepoints()
                .fail(&savepoint.id, &e.to_string())
                .await?;
            Err(engine_error(e))
        }
    }
}

pub(super) async fn fail_savepoint(state: &Platform, id: &str, reason: &str) -> Result<(), Error> {
    state.all_tenants().savepoints().fail(id, reason).await
}

/// Completes or fails the savepoints in flight, and carries out what waited on them.
/// What `settle_savepoints` found: savepoints in flight before it, and still after it.
pub(super) struct SavepointsInFlight {
    pub(super) had_pending: bool,
    pub(super) still_pending: bool,
}

/// Where a savepoint in flight stands, by its trigger id, else by the job's own
/// checkpoint history (the engine forgets finished operations after some minutes).
pub(super) enum SavepointOutcome {
    Pending,
    Completed(String),
    Failed(String),
}

pub(super) async fn savepoint_outcome(
    state: &Platform,
    client: &EngineClient,
    d: &DeploymentRow,
    job_id: &str,
    trigger: &str,
    origin: &str,
    requested_at: i64,
) -> SavepointOutcome {
    match client.savepoint_status(job_id, trigger).await {
        Ok(SavepointStatus::InProgress) => SavepointOutcome::Pending,
        Ok(SavepointStatus::Completed { location }) => SavepointOutcome::Completed(location),
        Ok(SavepointStatus::Failed { reason }) => SavepointOutcome::Failed(reason),
        Err(EngineError::UnknownOperation { .. }) => {
            let job = observe(state, &d.rest_url, job_id, None).await;
            match job {
                // Never received (the request was lost, or the process died first):
                // ask now, under the same trigger id.
                Ok(job) if !job.state.is_terminal() => {
                    match request_savepoint(client, job_id, trigger, origin).await {
                        Ok(()) => SavepointOutcome::Pending,
                        Err(e) if e.is_transient() => SavepointOutcome::Pending,
                        Err(e) => SavepointOutcome::Failed(e.to_string()),
                    }
                }
                Ok(_) => match savepoint_in_history(client, job_id, requested_at).await {
                    Some(location) => SavepointOutcome::Completed(location),
                    None => SavepointOutcome::Failed(
                        "the job ended and its history shows no savepoint after the request"
                            .to_owned(),
                    ),
                },
                Err(e) if e.is_transient() => SavepointOutcome::Pending,
                Err(_) => SavepointOutcome::Failed(
                    "the job ended before the savepoint completed".to_owned(),
                ),
            }
        }
        Err(EngineError::JobNotFound { .. }) => {
            SavepointOutcome::Failed("the job ended before the savepoint completed".to_owned())
        }
        Err(e) if e.is_transient() => SavepointOutcome::Pending,
        Err(e) => SavepointOutcome::Failed(e.to_string()),
    }
}

/// How long after a savepoint completes its size is looked for: the engine refreshes the
/// checkpoint statistics it serves every few seconds, so a savepoint can complete before
/// they list it.
const SIZE_WINDOW_MS: i64 = 60_000;

/// The savepoint's bytes of state from the job's checkpoint statistics, which the engine
/// keeps for a while after the job ends (a stop's savepoint ends it). `None` when they
/// do not list it (yet) or the engine does not answer: later passes look again within
/// `SIZE_WINDOW_MS`.
async fn savepoint_size(client: &EngineClient, job_id: &str, location: &str) -> Option<i64> {
    // The engine writes `file:/x` in one place and `file:///x` in another.
    let plain = |path: &str| path.replacen("file:///", "file:/", 1);
    let checkpoints = client.checkpoints(job_id).await.ok()?;
    checkpoints
        .history
        .into_iter()
        .find(|c| c.is_savepoint && plain(&c.external_path) == plain(location))
        .and_then(|c| c.state_size)
        .and_then(|bytes| i64::try_from(bytes).ok())
}

/// ` (4.5 KiB)`, or nothing for an unknown size.
fn size_text(size: Option<i64>) -> String {
    let Some(bytes) = size else {
        return String::new();
    };
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!(" ({bytes} B)")
    } else {
        format!(" ({value:.1} {})", units[unit])
    }
}

/// The newest completed savepoint in the job's checkpoint history triggered after
/// `since` (Sluice's clock; a second's leeway for the engine's).
pub(super) async fn savepoint_in_history(
    client: &EngineClient,
    job_id: &str,
    since: i64,
) -> Option<String> {
    let checkpoints = client.checkpoints(job_id).await.ok()?;
    checkpoints
        .history
        .into_iter()
        .filter(|c| {
            c.is_savepoint && c.status == "COMPLETED" && c.trigger_timestamp >= since - 1000
        })
        .filter(|c| !c.external_path.is_empty())
        .max_by_key(|c| c.trigger_timestamp)
        .map(|c| c.external_path)
}

pub(super) async fn settle_savepoints(
    state: &Platform,
    client: &EngineClient,
    mut d: DeploymentRow,
) -> Result<(DeploymentRow, SavepointsInFlight), Error> {
    let unsettled = state
        .all_tenants()
        .savepoints()
        .in_flight(&d.id, now_ms() - SIZE_WINDOW_MS)
        .await?;
    let (sizing, pending): (Vec<_>, Vec<_>) =
        unsettled.into_iter().partition(|s| s.state == "COMPLETED");
    for savepoint in sizing {
        let location = savepoint.location.as_deref().unwrap_or_default();
        if let Some(size) = savepoint_size(client, &savepoint.engine_job_id, location).await {
            let mut write = state.all_tenants().write().await?;
            write.savepoints().sized(&savepoint.id, size).await?;
            write.commit().await?;
        }
    }
    let mut flight = SavepointsInFlight {
        had_pending: !pending.is_empty(),
        still_pending: false,
    };
    for InFlightRow {
        id,
        engine_job_id: job_id,
        trigger_id: trigger,
        origin,
        created_at: requested_at,
        ..
    } in pending
    {
        let outcome =
            match savepoint_outcome(state, client, &d, &job_id, &trigger, &origin, requested_at)
                .await
            {
                SavepointOutcome::Pending => {
                    flight.still_pending = true;
                    continue;
                }
                SavepointOutcome::Completed(location) => Ok(location),
                SavepointOutcome::Failed(reason) => Err(reason),
            };
        match outcome {
            Ok(location) => {
                failpoint::hit(failpoint::SAVEPOINT_COMPLETED);
                let stopped = matches!(origin.as_str(), "SUSPEND" | "SUSPEND_AND_UPGRADE");
                let size = savepoint_size(client, &job_id, &location).await;
                let mut write = state.all_tenants().write().await?;
                write.savepoints().complete(&id, &location, size).await?;
                // A job stopped with a savepoint ends FINISHED, and the engine discards
                // its checkpoints then: the savepoint is its state from now on.
                write
                    .deployments()
                    .record_savepoint_state(&d.id, stopped)
                    .await?;
                write.commit().await?;
                if stopped {
                    d.last_checkpoint_path = None;
                }
                d.had_state = 1;
                event(
                    state,
                    &d.id,
                    "savepoint",
                    // Its id, never its location: the path says how the cluster's hosts
                    // are laid out, which on the platform's cluster is not the tenant's.
                    &format!("savepoint {id} completed{}", size_text(size)),
                )
                .await?;
                if origin == "SUSPEND_AND_UPGRADE" {
                    d = apply_upgrade(state, d, &id).await?;
                    failpoint::hit(failpoint::UPGRADE_STOPPED);
                }
            }
            Err(reason) => {
                fail_savepoint(state, &id, &reason).await?;
                let alive = matches!(observe(state, &d.rest_url, &job_id, None).await, Ok(job) if !job.state.is_terminal());
                let message = if alive {
                    format!("the savepoint failed, so the job keeps running: {reason}")
                } else {
                    format!("the savepoint failed: {reason}")
                };
                event(state, &d.id, "savepoint_failed", &message).await?;
                // A stop whose savepoint failed leaves the job running: say so, and want it running.
                if origin == "SUSPEND" && alive {
                    state
                        .all_tenants()
                        .deployments()
                        .resume_after_failed_stop(&d.id, &message)
                        .await?;
                    d.desired_state = DesiredState::Running;
                } else if origin == "SUSPEND_AND_UPGRADE" {
                    state
                        .all_tenants()
                        .deployments()
                        .drop_pending_upgrade(&d.id, &message)
                        .await?;
                    d.pending_version = None;
                }
                d.last_error = Some(message);
            }
        }
    }
    Ok((d, flight))
}

/// After the upgrade's savepoint: the new version starts from it.
pub(super) async fn apply_upgrade(
    state: &Platform,
    mut d: DeploymentRow,
    savepoint_id: &str,
) -> Result<DeploymentRow, Error> {
    let Some(version) = d.pending_version else {
        return Ok(d);
    };
    let mut write = state.all_tenants().write().await?;
    let content: JobContent = write
        .deployments()
        .job_version(&d.job_id, version)
        .await?
        .into();
    let (kind, sql_text, artifact_id, entry_class, args) = content.columns();
    write
        .deployments()
        .apply_upgrade(
            &d.id,
            version,
            ContentRef {
                kind,
                sql_text,
                artifact_id,
                entry_class,
                args: args.as_deref(),
            },
            savepoint_id,
        )
        .await?;
    write.commit().await?;
    close_interval(state, &d, now_ms()).await?;
    event(
        state,
        &d.id,
        "upgrade",
        &format!(
            "version {} -> {version}, restoring from the upgrade's savepoint",
            d.job_version
        ),
    )
    .await?;
    d = load(state, &d.id)
        .await?
        .ok_or_else(|| Error::not_found("deployment"))?;
    Ok(d)
}
