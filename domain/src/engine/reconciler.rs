//! The reconciler: makes the engine run what each deployment wants.
//!
//! A deployment records what the user wants (`desired_state`: RUNNING, SUSPENDED or
//! CANCELLED) and what Sluice last saw the engine do (`status`). API calls only change
//! the desired state; the reconciler is the one place that talks to the engine about a
//! deployment. It runs in every replica, but a deployment is acted on by whoever holds
//! its lease (`lease`), so one replica at a time acts and a replica dying mid-way only
//! delays the next one by the lease. Every engine action is recorded before it is
//! taken, under an id Sluice chose (`submission`, `savepoints`), so it happens once.
//!
//! Everything it needs is in the database (job id, savepoint triggers, the last
//! checkpoint seen), so a Sluice restart loses nothing, and an engine restart (jobs and
//! jars gone) is answered by resubmitting from the last savepoint or checkpoint.
//! Observing before acting makes status drift impossible: a job the engine no longer
//! runs is never shown as RUNNING.

use std::time::Duration;
use store::Error;

use engine_client::{EngineClient, EngineError, JobOverview, JobState};
use tokio_util::sync::CancellationToken;

use super::engine_error;
use super::lease::{claim, release, Replica};
use super::observe::{observe, Snapshot, Snapshots};
use super::record::{
    close_interval, event, load, open_interval, set_status, DeploymentRow, DesiredState, Status,
};
use super::savepoints::{settle_savepoints, stop_requested, stop_with_savepoint};
use super::submission;
use crate::Platform;
use store::db::{new_id, now_ms};

/// How long an API-triggered reconciliation keeps following its deployment.
pub(super) const KICK_FOLLOW: Duration = Duration::from_secs(15);

/// Asks for a deployment meant to run to be stopped with a savepoint, for a reason the
/// platform has (arrears, end of service, capacity gone), and says why in its events.
/// Returns whether this call stopped it (false: it was no longer meant to run).
pub async fn suspend_for(
    state: &Platform,
    deployment_id: &str,
    kind: &str,
    why: &str,
) -> Result<bool, Error> {
    if !state
        .all_tenants()
        .deployments()
        .suspend(deployment_id)
        .await?
    {
        return Ok(false);
    }
    event(state, deployment_id, kind, why).await?;
    kick(state, deployment_id);
    Ok(true)
}

/// Runs the reconciler until `stop` is cancelled: every interval, each deployment that
/// wants or has engine activity is reconciled by whichever replica claims it.
pub async fn run(state: Platform, stop: CancellationToken) {
    use tracing::Instrument;
    let replica = Replica(new_id());
    let span = tracing::info_span!("reconciler", replica = %replica.0);
    reconcile_forever(state, stop, replica)
        .instrument(span)
        .await;
}

pub(super) async fn reconcile_forever(state: Platform, stop: CancellationToken, replica: Replica) {
    let interval = Duration::from_millis(state.config.engine.reconcile_interval_ms);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        let started = std::time::Instant::now();
        let listed = active_deployments(&state).await;
        let ok = listed.is_ok();
        match listed {
            Ok(active) => {
                // One /jobs/overview per cluster per pass, however many deployments it runs.
                let mut snapshots = Snapshots::default();
                for (id, rest_url) in active {
                    if stop.is_cancelled() {
                        return;
                    }
                    let snapshot = snapshots.of(&state, &rest_url).await;
                    if let Err(e) = reconcile(&state, &replica, &id, Some(snapshot)).await {
                        tracing::warn!(deployment = %id, error = %e.message, "reconciling failed; will retry");
                    }
                }
                snapshots.sweep_orphans(&state).await;
                snapshots.record_health(&state).await;
            }
            Err(e) => {
                tracing::warn!(error = %e.message, "cannot list deployments to reconcile")
            }
        }
        state
            .metrics
            .worker_pass("reconcile", started.elapsed(), ok);
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "reconciliation pass"
        );
    }
}

/// Deployments that want or have engine activity, with their cluster's REST URL.
pub(super) async fn active_deployments(state: &Platform) -> Result<Vec<(String, String)>, Error> {
    state.all_tenants().deployments().active().await
}

/// Reconciles one deployment now, if no other replica holds it.
pub(super) async fn reconcile(
    state: &Platform,
    replica: &Replica,
    id: &str,
    snapshot: Option<&Snapshot>,
) -> Result<(), Error> {
    let Some(claim) = claim(state, replica, id).await? else {
        return Ok(());
    };
    let result = match load(state, id).await? {
        Some(d) => act(state, d, snapshot).await,
        None => Ok(()),
    };
    release(state, replica, id, claim).await?;
    result
}

/// Reconciles right away (after an API call changed the desired state), in the background.
pub fn kick(state: &Platform, id: &str) {
    let state = state.clone();
    let id = id.to_owned();
    tokio::spawn(async move {
        let replica = Replica(format!("api-{}", new_id()));
        // Follow the operation closely for a while, so people see RUNNING (or STOPPED)
        // when the engine gets there rather than at the next pass.
        let deadline = std::time::Instant::now() + KICK_FOLLOW;
        loop {
            if let Err(e) = reconcile(&state, &replica, &id, None).await {
                tracing::warn!(deployment = %id, error = %e.message, "reconciling failed; the reconciler will retry");
                return;
            }
            let settling = matches!(load(&state, &id).await, Ok(Some(d)) if matches!(d.status, Status::Starting | Status::Transitioning | Status::Stopping));
            if !settling || std::time::Instant::now() > deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
}

pub(super) async fn act(
    state: &Platform,
    d: DeploymentRow,
    snapshot: Option<&Snapshot>,
) -> Result<(), Error> {
    let client = state.engines.client(&d.rest_url)?;
    let (d, savepoints) = settle_savepoints(state, &client, d).await?;
    // Savepoints in flight may have just ended the job: look again rather than trust the pass's snapshot.
    let snapshot = if savepoints.had_pending {
        None
    } else {
        snapshot
    };
    let mut d = d;
    let observed = match &d.engine_job_id {
        Some(job_id) => Some(observe(state, &d.rest_url, job_id, snapshot).await),
        None => None,
    };
    let Some(observed) = settle_submission(state, &client, &mut d, observed).await? else {
        return Ok(());
    };
    let now = now_ms();
    match (d.desired_state, observed) {
        // The engine could not be asked: keep what we know, say why, try again later.
        (_, Some(Err(e))) if e.is_transient() => unobservable(state, &d, &e).await,
        // A start the engine refused waits for the user; it is not retried blindly.
        (DesiredState::Running, None) if d.status == Status::Failed => Ok(()),
        (DesiredState::Running, None) => submission::submit(state, &client, &d).await,
        (DesiredState::Running, Some(Ok(job))) if !job.state.is_terminal() => {
            keep_running(state, &client, &mut d, &job, now).await
        }
        // A stop with savepoint (for an upgrade) ends the job before its savepoint reads as
        // settled: wait for the savepoint rather than take the end for a finish or a crash.
        (DesiredState::Running, Some(Ok(_))) if savepoints.still_pending => {
            set_status(
                state,
                &d,
                Status::Stopping,
                d.engine_job_id.as_deref(),
                None,
            )
            .await
        }
        (DesiredState::Running, Some(Ok(job))) => ended(state, &client, &d, &job, now).await,
        (DesiredState::Running, Some(Err(e))) => {
            close_interval(state, &d, now).await?;
            restart(
                state,
                &client,
                &d,
                &format!("the engine lost the job ({e})"),
            )
            .await
        }
        (DesiredState::Suspended, Some(Ok(job))) if !job.state.is_terminal() => {
            if !stop_requested(state, &d).await? {
                stop_with_savepoint(state, &client, &d, "SUSPEND", "suspending").await?;
            }
            Ok(())
        }
        (DesiredState::Cancelled, Some(Ok(job))) if !job.state.is_terminal() => {
            cancel(state, &client, &d, &job).await
        }
        // Stopped (or gone) while meant to stay stopped: record it.
        (_, Some(_)) | (_, None) => stopped(state, &d, savepoints.still_pending, now).await,
    }
}

/// The engine could not be asked: keep what we know, say why, try again later.
async fn unobservable(state: &Platform, d: &DeploymentRow, e: &EngineError) -> Result<(), Error> {
    let why = if d.intent_state.as_deref() == Some(submission::INTENDED) {
        // Still to be sent (or confirmed): what the user waits for is the start.
        format!("the engine cannot take the job yet: {e}")
    } else {
        format!("the engine cannot be observed: {e}")
    };
    set_status(state, d, d.status, d.engine_job_id.as_deref(), Some(&why)).await
}

/// The job of a deployment meant to run ended on the engine: a finished job stays
/// finished (and no longer wanted), anything else is restarted.
async fn ended(
    state: &Platform,
    client: &EngineClient,
    d: &DeploymentRow,
    job: &JobOverview,
    now: i64,
) -> Result<(), Error> {
    close_interval(state, d, now).await?;
    if job.state == JobState::Finished {
        set_status(state, d, Status::Finished, None, None).await?;
        state
            .all_tenants()
            .deployments()
            .no_longer_wanted(&d.id)
            .await?;
        return Ok(());
    }
    let why = format!("the job was {:?} on the engine", job.state);
    restart(state, client, d, &why).await
}

/// Cancels without a savepoint; asked again quietly while it takes effect (a job still
/// initialising may not cancel at once).
async fn cancel(
    state: &Platform,
    client: &EngineClient,
    d: &DeploymentRow,
    job: &JobOverview,
) -> Result<(), Error> {
    if job.state != JobState::Cancelling {
        client.cancel(&job.jid).await.map_err(engine_error)?;
        if d.status != Status::Stopping {
            event(
                state,
                &d.id,
                "cancel",
                "cancelled on the engine without a savepoint",
            )
            .await?;
        }
    }
    set_status(state, d, Status::Stopping, d.engine_job_id.as_deref(), None).await
}

/// Stopped (or gone) while meant to stay stopped: record it.
async fn stopped(
    state: &Platform,
    d: &DeploymentRow,
    savepoint_pending: bool,
    now: i64,
) -> Result<(), Error> {
    close_interval(state, d, now).await?;
    // Not SUSPENDED before the stop's savepoint is settled: a resume must find it.
    if d.desired_state == DesiredState::Suspended && d.engine_job_id.is_some() && savepoint_pending
    {
        return set_status(state, d, Status::Stopping, d.engine_job_id.as_deref(), None).await;
    }
    // A stop the user asked for ends as what they asked for; a job that completed stays FINISHED.
    let status = match d.desired_state {
        DesiredState::Suspended => Status::Suspended,
        _ if d.status == Status::Finished => Status::Finished,
        _ => Status::Cancelled,
    };
    set_status(state, d, status, None, d.last_error.as_deref()).await
}

/// A submission recorded but not acknowledged (a crash or a lost answer came between):
/// the engine either has the job (the submission is confirmed), or never got the
/// request (sent again under the same id, or dropped if the deployment no longer wants
/// to run). Returns what is observed after that, or `None` when it acted already.
async fn settle_submission(
    state: &Platform,
    client: &EngineClient,
    d: &mut DeploymentRow,
    observed: Option<Result<JobOverview, EngineError>>,
) -> Result<Option<Option<Result<JobOverview, EngineError>>>, Error> {
    if d.intent_state.as_deref() != Some(submission::INTENDED) {
        return Ok(Some(observed));
    }
    match &observed {
        Some(Ok(_)) => submission::confirm(state, d).await?,
        Some(Err(EngineError::JobNotFound { .. })) if d.desired_state == DesiredState::Running => {
            submission::send(state, client, d).await?;
            return Ok(None);
        }
        // Not wanted any more and never taken; or cancelled while the engine cannot be
        // asked whether it took the job (a cancel keeps no state, so nothing is owed to
        // such a job): the submission is dropped. Should the job exist after all, the
        // orphan sweep cancels it once the engine answers.
        Some(Err(e))
            if matches!(e, EngineError::JobNotFound { .. })
                || (e.is_transient() && d.desired_state == DesiredState::Cancelled) =>
        {
            submission::abandon(state, d).await?;
            d.engine_job_id = None;
            return Ok(Some(None));
        }
        _ => {}
    }
    Ok(Some(observed))
}

/// A job that runs while meant to: an upgrade waiting to stop it, the engine's own
/// restarts counted, and its status, running time and newest checkpoint kept.
async fn keep_running(
    state: &Platform,
    client: &EngineClient,
    d: &mut DeploymentRow,
    job: &JobOverview,
    now: i64,
) -> Result<(), Error> {
    if let Some(version) = d.pending_version {
        if !stop_requested(state, d).await? {
            return stop_with_savepoint(
                state,
                client,
                d,
                "SUSPEND_AND_UPGRADE",
                &format!("upgrading to version {version}"),
            )
            .await;
        }
        return Ok(());
    }
    // Anything short of fully running after the job ran may be the engine's own
    // restart strategy at work: count its restarts (one call, only then).
    if !job.is_fully_running() || d.status != Status::Running {
        note_engine_restarts(state, client, d, job).await?;
    }
    if job.is_fully_running() {
        // The interval opens with the first RUNNING seen, before the status says so.
        if d.status != Status::Running {
            open_interval(state, d, now).await?;
        }
        remember_checkpoint(state, client, d).await?;
        set_status(state, d, Status::Running, d.engine_job_id.as_deref(), None).await
    } else {
        set_status(
            state,
            d,
            Status::Transitioning,
            d.engine_job_id.as_deref(),
            d.last_error.as_deref(),
        )
        .await
    }
}

/// Records restarts the engine made by itself (its restart strategy, after a lost
/// TaskManager or a failing task): the count on the deployment, an event per new
/// restart with the failure it restarted from, which also stays the last error while
/// the job is not back.
pub(super) async fn note_engine_restarts(
    state: &Platform,
    client: &EngineClient,
    d: &mut DeploymentRow,
    job: &JobOverview,
) -> Result<(), Error> {
    let Ok(Some(restarts)) = client.job_restarts(&job.jid).await else {
        return Ok(());
    };
    let restarts = i64::try_from(restarts).unwrap_or(i64::MAX);
    if restarts <= d.engine_restarts {
        return Ok(());
    }
    let failure = match client.exceptions(&job.jid).await {
        Ok(exceptions) => exceptions
            .into_iter()
            .max_by_key(|e| e.timestamp)
            .map(|e| engine_client::engine_message(&[e.stacktrace])),
        Err(_) => None,
    }
    .unwrap_or_else(|| "the engine gave no cause".to_owned());
    // The cause may quote a value substituted into the job (a connection's secret).
    let failure = match &d.sql_text {
        Some(sql) => {
            let resources = state
                .all_tenants()
                .pipeline_resources(&d.project_id)
                .await?;
            crate::pipeline::secrets_redactor(sql, &resources, &state.secrets).redact(&failure)
        }
        None => failure,
    };
    state
        .all_tenants()
        .deployments()
        .record_engine_restarts(&d.id, restarts, &failure)
        .await?;
    event(
        state,
        &d.id,
        "engine_restart",
        &format!(
            "the engine restarted job {} by itself (restart {restarts}; it is {}) after: {failure}",
            job.jid,
            job.state.as_str()
        ),
    )
    .await?;
    d.engine_restarts = restarts;
    if !job.is_fully_running() {
        d.last_error = Some(format!("the engine is restarting the job after: {failure}"));
    }
    d.last_engine_failure = Some(failure);
    Ok(())
}

/// Keeps the newest completed checkpoint, to resume from if the job or cluster dies.
pub(super) async fn remember_checkpoint(
    state: &Platform,
    client: &EngineClient,
    d: &DeploymentRow,
) -> Result<(), Error> {
    if !state.engines.checkpoint_probe_due(&d.id) {
        return Ok(());
    }
    let Some(job_id) = &d.engine_job_id else {
        return Ok(());
    };
    let Ok(checkpoints) = client.checkpoints(job_id).await else {
        return Ok(());
    };
    // The counters feed the metrics series and the checkpoint alerts.
    let completed_at = checkpoints
        .latest
        .completed
        .as_ref()
        .map(|c| c.latest_ack_timestamp);
    let deployments = state.all_tenants();
    let deployments = deployments.deployments();
    deployments
        .record_checkpoint_counts(
            &d.id,
            i64::try_from(checkpoints.counts.completed).unwrap_or(i64::MAX),
            i64::try_from(checkpoints.counts.failed).unwrap_or(i64::MAX),
            completed_at,
        )
        .await?;
    if let Some(latest) = checkpoints
        .latest
        .completed
        .filter(|c| !c.external_path.is_empty())
    {
        if d.last_checkpoint_path.as_deref() != Some(latest.external_path.as_str()) {
            deployments
                .remember_checkpoint(&d.id, &latest.external_path)
                .await?;
        }
    }
    Ok(())
}

/// Restart policy for a job that died while meant to run.
pub(super) async fn restart(
    state: &Platform,
    client: &EngineClient,
    d: &DeploymentRow,
    why: &str,
) -> Result<(), Error> {
    let max = state.config.engine.max_restarts;
    if d.restart_count >= max {
        let message = format!("{why}; gave up after {max} restarts");
        event(state, &d.id, "failed", &message).await?;
        return set_status(state, d, Status::Failed, None, Some(&message)).await;
    }
    state
        .all_tenants()
        .deployments()
        .mark_restarting(&d.id)
        .await?;
    event(
        state,
        &d.id,
        "restart",
        &format!(
            "{why}; restarting from its latest state ({} of {max})",
            d.restart_count + 1
        ),
    )
    .await?;
    let d = load(state, &d.id)
        .await?
        .ok_or_else(|| Error::not_found("deployment"))?;
    submission::submit(state, client, &d).await
}
