//! Deployments and their reconciliation.
//!
//! A deployment records what the user wants (`desired_state`: RUNNING, SUSPENDED or
//! CANCELLED) and what Sluice last saw the engine do (`status`). API calls only change
//! the desired state; the reconciler is the one place that talks to the engine about a
//! deployment. It runs in every replica, but a deployment is acted on by whoever holds
//! its lease (a row claim that works alike on SQLite and PostgreSQL), so one replica at
//! a time acts and a replica dying mid-way only delays the next one by the lease.
//!
//! Everything it needs is in the database (job id, savepoint triggers, the last
//! checkpoint seen), so a Sluice restart loses nothing, and an engine restart (jobs and
//! jars gone) is answered by resubmitting from the last savepoint or checkpoint.
//! Observing before acting makes status drift impossible: a job the engine no longer
//! runs is never shown as RUNNING.

use std::time::Duration;

use std::collections::HashMap;

use engine_client::{EngineClient, EngineError, JobOverview, JobState, SavepointStatus};
use tokio_util::sync::CancellationToken;

use super::{engine_error, submission};
use crate::api::jobs::JobContent;
use crate::db::{new_id, now_ms};
use crate::error::ApiError;
use crate::failpoint;
use crate::AppState;

pub const RUNNING: &str = "RUNNING";
pub const SUSPENDED: &str = "SUSPENDED";
pub const CANCELLED: &str = "CANCELLED";

/// Observed statuses besides the three desired ones.
pub const CREATED: &str = "CREATED";
pub const STARTING: &str = "STARTING";
pub const STOPPING: &str = "STOPPING";
pub const TRANSITIONING: &str = "TRANSITIONING";
pub const FAILED: &str = "FAILED";
pub const FINISHED: &str = "FINISHED";

/// How long an API-triggered reconciliation keeps following its deployment.
const KICK_FOLLOW: Duration = Duration::from_secs(15);

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
    pub desired_state: String,
    pub status: String,
    pub engine_job_id: Option<String>,
    pub restore_mode: String,
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

pub async fn load(
    state: &AppState,
    deployment_id: &str,
) -> Result<Option<DeploymentRow>, ApiError> {
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
) -> Result<(), ApiError> {
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

/// Asks for a deployment meant to run to be stopped with a savepoint, for a reason the
/// platform has (arrears, end of service, capacity gone), and says why in its events.
/// Returns whether this call stopped it (false: it was no longer meant to run).
pub async fn suspend_for(
    state: &AppState,
    deployment_id: &str,
    kind: &str,
    why: &str,
) -> Result<bool, ApiError> {
    let stopped = sqlx::query(
        "update deployments set desired_state = 'SUSPENDED', pending_version = null, revision = revision + 1, updated_at = $1
          where id = $2 and desired_state = 'RUNNING'",
    )
    .bind(now_ms())
    .bind(deployment_id)
    .execute(&state.db.pool)
    .await?;
    if stopped.rows_affected() == 0 {
        return Ok(false);
    }
    event(state, deployment_id, kind, why).await?;
    kick(state, deployment_id);
    Ok(true)
}

/// The reconciler's identity in leases.
pub struct Replica(pub String);

/// A replica's hold on one deployment: renewed in the background while the replica
/// acts (a submission can take seconds), so the lease itself can be short and another
/// replica takes over within `engine.lease_ms` of the holder dying.
struct Claim {
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

async fn claim(state: &AppState, replica: &Replica, id: &str) -> Result<Option<Claim>, ApiError> {
    let lease_ms = i64::try_from(state.config.engine.lease_ms).unwrap_or(i64::MAX);
    let now = now_ms();
    let claimed = sqlx::query(
        "update deployments set lease_owner = $1, lease_until = $2
          where id = $3 and (lease_until is null or lease_until < $4 or lease_owner = $1)",
    )
    .bind(&replica.0)
    .bind(now.saturating_add(lease_ms))
    .bind(id)
    .bind(now)
    .execute(&state.db.pool)
    .await?;
    if claimed.rows_affected() != 1 {
        return Ok(None);
    }
    let renewer = {
        let state = state.clone();
        let (owner, id) = (replica.0.clone(), id.to_owned());
        let every = Duration::from_millis((state.config.engine.lease_ms / 3).max(50));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let renewed = sqlx::query(
                    "update deployments set lease_until = $1 where id = $2 and lease_owner = $3",
                )
                .bind(now_ms().saturating_add(lease_ms))
                .bind(&id)
                .bind(&owner)
                .execute(&state.db.pool)
                .await;
                match renewed {
                    Ok(r) if r.rows_affected() == 1 => {}
                    // Taken over (this replica was too slow to renew): what it is doing
                    // is idempotent against the engine, so finishing it is harmless.
                    Ok(_) => return,
                    Err(e) => {
                        tracing::warn!(deployment = %id, error = %e, "cannot renew the lease; will retry")
                    }
                }
            }
        })
    };
    Ok(Some(Claim { renewer }))
}

async fn release(
    state: &AppState,
    replica: &Replica,
    id: &str,
    claim: Claim,
) -> Result<(), ApiError> {
    drop(claim);
    sqlx::query("update deployments set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2")
        .bind(id)
        .bind(&replica.0)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Runs the reconciler until `stop` is cancelled: every interval, each deployment that
/// wants or has engine activity is reconciled by whichever replica claims it.
pub async fn run(state: AppState, stop: CancellationToken) {
    use tracing::Instrument;
    let replica = Replica(new_id());
    let span = tracing::info_span!("reconciler", replica = %replica.0);
    reconcile_forever(state, stop, replica)
        .instrument(span)
        .await;
}

async fn reconcile_forever(state: AppState, stop: CancellationToken, replica: Replica) {
    let interval = Duration::from_millis(state.config.engine.reconcile_interval_ms);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        let started = std::time::Instant::now();
        // Engine versions past their end of service stop what still runs on them.
        if let Err(e) =
            crate::product_forms::stop_at_end_of_service(&state, chrono::Utc::now()).await
        {
            tracing::warn!(error = %e.detail.message, "cannot stop deployments at end of service; will retry");
        }
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
                        tracing::warn!(deployment = %id, error = %e.detail.message, "reconciling failed; will retry");
                    }
                }
                snapshots.sweep_orphans(&state).await;
                snapshots.record_health(&state).await;
            }
            Err(e) => {
                tracing::warn!(error = %e.detail.message, "cannot list deployments to reconcile")
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
async fn active_deployments(state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select d.id, c.rest_url from deployments d join engine_clusters c on c.id = d.cluster_id
          where (d.desired_state = 'RUNNING' and d.status <> 'FAILED') or d.engine_job_id is not null
             or d.status in ('STARTING', 'STOPPING', 'TRANSITIONING')
             or exists (select 1 from savepoints s where s.deployment_id = d.id and s.state = 'STARTED')
          order by c.rest_url, d.id",
    )
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows)
}

/// The jobs each cluster reported in this pass.
type Snapshot = Result<HashMap<String, JobOverview>, EngineError>;

#[derive(Default)]
struct Snapshots(HashMap<String, Snapshot>);

impl Snapshots {
    async fn of(&mut self, state: &AppState, rest_url: &str) -> &Snapshot {
        let snapshot = match self.0.remove(rest_url) {
            Some(s) => s,
            None => fetch_snapshot(state, rest_url).await,
        };
        self.0.entry(rest_url.to_owned()).or_insert(snapshot)
    }
}

impl Snapshots {
    /// Looks for orphaned jobs on every cluster that has deployments (those without an
    /// active one are read for it too).
    async fn sweep_orphans(&mut self, state: &AppState) {
        let submitted_to: Vec<(String,)> = match sqlx::query_as(
            "select distinct c.rest_url from engine_clusters c where exists (select 1 from deployments d where d.cluster_id = c.id)",
        )
        .fetch_all(&state.db.pool)
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list clusters to sweep for orphaned jobs");
                return;
            }
        };
        for (rest_url,) in submitted_to {
            let Ok(jobs) = self.of(state, &rest_url).await else {
                continue;
            };
            if let Err(e) = super::orphans::sweep(state, &rest_url, jobs).await {
                tracing::warn!(%rest_url, error = %e.detail.message, "sweeping for orphaned jobs failed; will retry");
            }
        }
    }

    /// What each cluster's answer this pass says about its health, kept on the cluster.
    async fn record_health(&self, state: &AppState) {
        for (rest_url, snapshot) in &self.0 {
            let (healthy, detail) = match snapshot {
                Ok(jobs) => (1_i64, format!("answering; {} job(s) known", jobs.len())),
                Err(e) => (0, e.to_string()),
            };
            let recorded = sqlx::query(
                "update engine_clusters set healthy = $1, health_detail = $2, health_checked_at = $3
                  where rest_url = $4 and (healthy is null or healthy <> $1)",
            )
            .bind(healthy)
            .bind(&detail)
            .bind(now_ms())
            .bind(rest_url)
            .execute(&state.db.pool)
            .await;
            match recorded {
                Ok(r) if r.rows_affected() > 0 => {
                    tracing::info!(%rest_url, healthy = healthy == 1, %detail, "cluster health changed")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, %rest_url, "cannot record cluster health"),
            }
        }
    }
}

async fn fetch_snapshot(state: &AppState, rest_url: &str) -> Snapshot {
    let client = state
        .engines
        .client(rest_url)
        .map_err(|e| EngineError::Unreachable {
            url: rest_url.to_owned(),
            reason: e.detail.message,
        })?;
    let jobs = client.jobs_overview().await?;
    Ok(jobs.into_iter().map(|j| (j.jid.clone(), j)).collect())
}

/// What the engine says about one job: from the pass's snapshot, or asked now.
///
/// A job missing from the snapshot is looked for again before anyone concludes the
/// engine lost it: the snapshot was read at the start of the pass, and the job may
/// have been submitted since (by this replica's API or another replica).
async fn observe(
    state: &AppState,
    rest_url: &str,
    job_id: &str,
    snapshot: Option<&Snapshot>,
) -> Result<JobOverview, EngineError> {
    match snapshot {
        Some(Ok(jobs)) => {
            if let Some(job) = jobs.get(job_id) {
                return Ok(job.clone());
            }
        }
        // The cluster did not answer this pass: asking again per deployment would only
        // multiply the wait.
        Some(Err(e)) => return Err(e.clone()),
        None => {}
    }
    let fresh = fetch_snapshot(state, rest_url).await?;
    fresh
        .get(job_id)
        .cloned()
        .ok_or_else(|| EngineError::JobNotFound {
            job_id: job_id.to_owned(),
        })
}

/// Reconciles one deployment now, if no other replica holds it.
async fn reconcile(
    state: &AppState,
    replica: &Replica,
    id: &str,
    snapshot: Option<&Snapshot>,
) -> Result<(), ApiError> {
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
pub fn kick(state: &AppState, id: &str) {
    let state = state.clone();
    let id = id.to_owned();
    tokio::spawn(async move {
        let replica = Replica(format!("api-{}", new_id()));
        // Follow the operation closely for a while, so people see RUNNING (or STOPPED)
        // when the engine gets there rather than at the next pass.
        let deadline = std::time::Instant::now() + KICK_FOLLOW;
        loop {
            if let Err(e) = reconcile(&state, &replica, &id, None).await {
                tracing::warn!(deployment = %id, error = %e.detail.message, "reconciling failed; the reconciler will retry");
                return;
            }
            let settling = matches!(load(&state, &id).await, Ok(Some(d)) if matches!(d.status.as_str(), STARTING | TRANSITIONING | STOPPING));
            if !settling || std::time::Instant::now() > deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
}

pub(super) async fn set_status(
    state: &AppState,
    d: &DeploymentRow,
    status: &str,
    engine_job_id: Option<&str>,
    error: Option<&str>,
) -> Result<(), ApiError> {
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

async fn open_interval(
    state: &AppState,
    d: &DeploymentRow,
    started_at: i64,
) -> Result<(), ApiError> {
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

async fn close_interval(
    state: &AppState,
    d: &DeploymentRow,
    ended_at: i64,
) -> Result<(), ApiError> {
    sqlx::query(
        "update run_intervals set ended_at = $1 where deployment_id = $2 and ended_at is null",
    )
    .bind(ended_at)
    .bind(&d.id)
    .execute(&state.db.pool)
    .await?;
    Ok(())
}

async fn act(
    state: &AppState,
    d: DeploymentRow,
    snapshot: Option<&Snapshot>,
) -> Result<(), ApiError> {
    let client = state.engines.client(&d.rest_url)?;
    let (d, savepoints) = settle_savepoints(state, &client, d).await?;
    // Savepoints in flight may have just ended the job: look again rather than trust the pass's snapshot.
    let snapshot = if savepoints.had_pending {
        None
    } else {
        snapshot
    };
    let mut d = d;
    let mut observed = match &d.engine_job_id {
        Some(job_id) => Some(observe(state, &d.rest_url, job_id, snapshot).await),
        None => None,
    };
    // A submission recorded but not acknowledged (a crash or a lost answer came between):
    // the engine either has the job, or never got the request.
    if d.intent_state.as_deref() == Some(submission::INTENDED) {
        match &observed {
            Some(Ok(_)) => submission::confirm(state, &d).await?,
            Some(Err(EngineError::JobNotFound { .. })) if d.desired_state == RUNNING => {
                return submission::send(state, &client, &d).await;
            }
            Some(Err(EngineError::JobNotFound { .. })) => {
                submission::abandon(state, &d).await?;
                d.engine_job_id = None;
                observed = None;
            }
            _ => {}
        }
    }
    let now = now_ms();
    match (d.desired_state.as_str(), observed) {
        // The engine could not be asked: keep what we know, say why, try again later.
        (_, Some(Err(e))) if e.is_transient() => {
            set_status(
                state,
                &d,
                &d.status,
                d.engine_job_id.as_deref(),
                Some(&format!("the engine cannot be observed: {e}")),
            )
            .await
        }
        // A start the engine refused waits for the user; it is not retried blindly.
        (RUNNING, None) if d.status == FAILED => Ok(()),
        (RUNNING, None) => submission::submit(state, &client, &d).await,
        (RUNNING, Some(Ok(job))) if !job.state.is_terminal() => {
            if let Some(version) = d.pending_version {
                if !stop_requested(state, &d).await? {
                    return stop_with_savepoint(
                        state,
                        &client,
                        &d,
                        "SUSPEND_AND_UPGRADE",
                        &format!("upgrading to version {version}"),
                    )
                    .await;
                }
                return Ok(());
            }
            // Anything short of fully running after the job ran may be the engine's own
            // restart strategy at work: count its restarts (one call, only then).
            if !job.is_fully_running() || d.status != RUNNING {
                note_engine_restarts(state, &client, &mut d, &job).await?;
            }
            if job.is_fully_running() {
                // The interval opens with the first RUNNING seen, before the status says so.
                if d.status != RUNNING {
                    open_interval(state, &d, now).await?;
                }
                remember_checkpoint(state, &client, &d).await?;
                set_status(state, &d, RUNNING, d.engine_job_id.as_deref(), None).await
            } else {
                set_status(
                    state,
                    &d,
                    TRANSITIONING,
                    d.engine_job_id.as_deref(),
                    d.last_error.as_deref(),
                )
                .await
            }
        }
        // A stop with savepoint (for an upgrade) ends the job before its savepoint reads as
        // settled: wait for the savepoint rather than take the end for a finish or a crash.
        (RUNNING, Some(Ok(_))) if savepoints.still_pending => {
            set_status(state, &d, STOPPING, d.engine_job_id.as_deref(), None).await
        }
        (RUNNING, Some(Ok(job))) => {
            close_interval(state, &d, now).await?;
            if job.state == JobState::Finished {
                set_status(state, &d, FINISHED, None, None).await?;
                sqlx::query("update deployments set desired_state = 'CANCELLED' where id = $1 and desired_state = 'RUNNING'")
                    .bind(&d.id)
                    .execute(&state.db.pool)
                    .await?;
                return Ok(());
            }
            let why = format!("the job was {:?} on the engine", job.state);
            restart(state, &client, &d, &why).await
        }
        (RUNNING, Some(Err(e))) => {
            close_interval(state, &d, now).await?;
            restart(
                state,
                &client,
                &d,
                &format!("the engine lost the job ({e})"),
            )
            .await
        }
        (SUSPENDED, Some(Ok(job))) if !job.state.is_terminal() => {
            if !stop_requested(state, &d).await? {
                stop_with_savepoint(state, &client, &d, "SUSPEND", "suspending").await?;
            }
            Ok(())
        }
        (CANCELLED, Some(Ok(job))) if !job.state.is_terminal() => {
            if job.state != JobState::Cancelling {
                client.cancel(&job.jid).await.map_err(engine_error)?;
                // Asked again quietly while it takes effect (a job still initialising may not cancel at once).
                if d.status != STOPPING {
                    event(
                        state,
                        &d.id,
                        "cancel",
                        "cancelled on the engine without a savepoint",
                    )
                    .await?;
                }
            }
            set_status(state, &d, STOPPING, d.engine_job_id.as_deref(), None).await
        }
        // Stopped (or gone) while meant to stay stopped: record it.
        (_, Some(_)) | (_, None) => {
            close_interval(state, &d, now).await?;
            // Not SUSPENDED before the stop's savepoint is settled: a resume must find it.
            if d.desired_state == SUSPENDED && d.engine_job_id.is_some() && savepoints.still_pending
            {
                return set_status(state, &d, STOPPING, d.engine_job_id.as_deref(), None).await;
            }
            // A stop the user asked for ends as what they asked for; a job that completed stays FINISHED.
            let status = match d.desired_state.as_str() {
                SUSPENDED => SUSPENDED,
                _ if d.status == FINISHED => FINISHED,
                _ => CANCELLED,
            };
            set_status(state, &d, status, None, d.last_error.as_deref()).await
        }
    }
}

/// Records restarts the engine made by itself (its restart strategy, after a lost
/// TaskManager or a failing task): the count on the deployment, an event per new
/// restart with the failure it restarted from, which also stays the last error while
/// the job is not back.
async fn note_engine_restarts(
    state: &AppState,
    client: &EngineClient,
    d: &mut DeploymentRow,
    job: &JobOverview,
) -> Result<(), ApiError> {
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
    sqlx::query(
        "update deployments set engine_restarts = $1, last_engine_failure = $2 where id = $3",
    )
    .bind(restarts)
    .bind(&failure)
    .bind(&d.id)
    .execute(&state.db.pool)
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

/// Whether a stop with savepoint of the current engine job is under way or done (the
/// job then finishes by itself): asking again would fail on a finishing job.
async fn stop_requested(state: &AppState, d: &DeploymentRow) -> Result<bool, ApiError> {
    let (n,): (i64,) = sqlx::query_as(
        "select count(*) from savepoints
          where deployment_id = $1 and engine_job_id = $2 and origin in ('SUSPEND', 'SUSPEND_AND_UPGRADE')
            and state in ('STARTED', 'COMPLETED')",
    )
    .bind(&d.id)
    .bind(d.engine_job_id.as_deref().unwrap_or(""))
    .fetch_one(&state.db.pool)
    .await?;
    Ok(n > 0)
}

/// Keeps the newest completed checkpoint, to resume from if the job or cluster dies.
async fn remember_checkpoint(
    state: &AppState,
    client: &EngineClient,
    d: &DeploymentRow,
) -> Result<(), ApiError> {
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
    sqlx::query(
        "update deployments set checkpoints_completed = $1, checkpoints_failed = $2, last_checkpoint_at = $3
          where id = $4 and (checkpoints_completed is null or checkpoints_completed <> $1 or checkpoints_failed <> $2)",
    )
    .bind(i64::try_from(checkpoints.counts.completed).unwrap_or(i64::MAX))
    .bind(i64::try_from(checkpoints.counts.failed).unwrap_or(i64::MAX))
    .bind(completed_at)
    .bind(&d.id)
    .execute(&state.db.pool)
    .await?;
    if let Some(latest) = checkpoints
        .latest
        .completed
        .filter(|c| !c.external_path.is_empty())
    {
        if d.last_checkpoint_path.as_deref() != Some(latest.external_path.as_str()) {
            sqlx::query(
                "update deployments set last_checkpoint_path = $1, had_state = 1 where id = $2",
            )
            .bind(&latest.external_path)
            .bind(&d.id)
            .execute(&state.db.pool)
            .await?;
        }
    }
    Ok(())
}

async fn stop_with_savepoint(
    state: &AppState,
    client: &EngineClient,
    d: &DeploymentRow,
    origin: &str,
    why: &str,
) -> Result<(), ApiError> {
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
    set_status(state, d, STOPPING, Some(job_id), None).await
}

/// Asks the engine for a savepoint (a stop with one, for the stopping origins) under the
/// given trigger id; repeating it is harmless.
async fn request_savepoint(
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
    state: &AppState,
    deployment_id: &str,
    job_id: &str,
    origin: &str,
) -> Result<RequestedSavepoint, ApiError> {
    let id = new_id();
    // The engine's trigger ids are 16 bytes in hex, as its job ids.
    let trigger = submission::new_job_id(submission::JOB_ID_PREFIX);
    sqlx::query(
        "insert into savepoints (id, deployment_id, engine_job_id, trigger_id, origin, state, created_at)
         values ($1, $2, $3, $4, $5, 'STARTED', $6)",
    )
    .bind(&id)
    .bind(deployment_id)
    .bind(job_id)
    .bind(&trigger)
    .bind(origin)
    .bind(now_ms())
    .execute(&state.db.pool)
    .await?;
    Ok(RequestedSavepoint { id, trigger })
}

/// Requests a recorded savepoint from the engine (a user's, not a stop): the engine's
/// refusal fails the record; an unanswered request is asked about again by the
/// reconciler.
pub async fn request_user_savepoint(
    state: &AppState,
    client: &EngineClient,
    job_id: &str,
    savepoint: &RequestedSavepoint,
) -> Result<(), ApiError> {
    match request_savepoint(client, job_id, &savepoint.trigger, "USER_REQUEST").await {
        Ok(()) => Ok(()),
        Err(e) if e.is_transient() => Ok(()),
        Err(e) => {
            fail_savepoint(state, &savepoint.id, &e.to_string()).await?;
            Err(engine_error(e))
        }
    }
}

async fn fail_savepoint(state: &AppState, id: &str, reason: &str) -> Result<(), ApiError> {
    sqlx::query("update savepoints set state = 'FAILED', failure = $1, completed_at = $2 where id = $3 and state = 'STARTED'")
        .bind(reason)
        .bind(now_ms())
        .bind(id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Completes or fails the savepoints in flight, and carries out what waited on them.
/// What `settle_savepoints` found: savepoints in flight before it, and still after it.
struct SavepointsInFlight {
    had_pending: bool,
    still_pending: bool,
}

/// Where a savepoint in flight stands, by its trigger id, else by the job's own
/// checkpoint history (the engine forgets finished operations after some minutes).
enum SavepointOutcome {
    Pending,
    Completed(String),
    Failed(String),
}

async fn savepoint_outcome(
    state: &AppState,
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

/// The newest completed savepoint in the job's checkpoint history triggered after
/// `since` (Sluice's clock; a second's leeway for the engine's).
async fn savepoint_in_history(client: &EngineClient, job_id: &str, since: i64) -> Option<String> {
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

async fn settle_savepoints(
    state: &AppState,
    client: &EngineClient,
    mut d: DeploymentRow,
) -> Result<(DeploymentRow, SavepointsInFlight), ApiError> {
    let pending: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "select id, engine_job_id, trigger_id, origin, created_at from savepoints where deployment_id = $1 and state = 'STARTED' order by id",
    )
    .bind(&d.id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut flight = SavepointsInFlight {
        had_pending: !pending.is_empty(),
        still_pending: false,
    };
    for (id, job_id, trigger, origin, requested_at) in pending {
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
                let mut tx = state.db.begin_write().await?;
                sqlx::query("update savepoints set state = 'COMPLETED', location = $1, completed_at = $2 where id = $3")
                    .bind(&location)
                    .bind(now_ms())
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                // A job stopped with a savepoint ends FINISHED, and the engine discards
                // its checkpoints then: the savepoint is its state from now on.
                sqlx::query(if stopped {
                    "update deployments set had_state = 1, last_checkpoint_path = null where id = $1"
                } else {
                    "update deployments set had_state = 1 where id = $1"
                })
                .bind(&d.id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                if stopped {
                    d.last_checkpoint_path = None;
                }
                d.had_state = 1;
                event(
                    state,
                    &d.id,
                    "savepoint",
                    &format!("savepoint completed at {location}"),
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
                    sqlx::query("update deployments set desired_state = 'RUNNING', last_error = $1 where id = $2 and desired_state = 'SUSPENDED'")
                        .bind(&message)
                        .bind(&d.id)
                        .execute(&state.db.pool)
                        .await?;
                    d.desired_state = RUNNING.to_owned();
                } else if origin == "SUSPEND_AND_UPGRADE" {
                    sqlx::query("update deployments set pending_version = null, last_error = $1 where id = $2")
                        .bind(&message)
                        .bind(&d.id)
                        .execute(&state.db.pool)
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
async fn apply_upgrade(
    state: &AppState,
    mut d: DeploymentRow,
    savepoint_id: &str,
) -> Result<DeploymentRow, ApiError> {
    let Some(version) = d.pending_version else {
        return Ok(d);
    };
    let mut tx = state.db.begin_write().await?;
    let content = crate::api::versions::fetch_version(&mut tx, &d.job_id, version)
        .await?
        .content;
    let (kind, sql, artifact, entry, args) = content.columns();
    sqlx::query(
        "update deployments set job_version = $1, kind = $2, sql_text = $3, artifact_id = $4, entry_class = $5, args = $6,
                pending_version = null, restore_mode = 'FROM_SAVEPOINT', restore_savepoint_id = $7, engine_job_id = null
          where id = $8",
    )
    .bind(version)
    .bind(kind)
    .bind(sql)
    .bind(artifact)
    .bind(entry)
    .bind(&args)
    .bind(savepoint_id)
    .bind(&d.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
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
        .ok_or_else(|| ApiError::not_found("deployment"))?;
    Ok(d)
}

/// Restart policy for a job that died while meant to run.
async fn restart(
    state: &AppState,
    client: &EngineClient,
    d: &DeploymentRow,
    why: &str,
) -> Result<(), ApiError> {
    let max = state.config.engine.max_restarts;
    if d.restart_count >= max {
        let message = format!("{why}; gave up after {max} restarts");
        event(state, &d.id, "failed", &message).await?;
        return set_status(state, d, FAILED, None, Some(&message)).await;
    }
    sqlx::query("update deployments set restart_count = restart_count + 1, restore_mode = 'LATEST_STATE', engine_job_id = null, status = 'STARTING' where id = $1")
        .bind(&d.id)
        .execute(&state.db.pool)
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
        .ok_or_else(|| ApiError::not_found("deployment"))?;
    submission::submit(state, client, &d).await
}
