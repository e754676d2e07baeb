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

use super::{engine_error, runner};
use crate::api::jobs::JobContent;
use crate::db::{new_id, now_ms};
use crate::error::ApiError;
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

/// How long a claim on a deployment lasts; a replica that dies frees it this late.
const LEASE_MS: i64 = 30_000;

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
        d.restart_count, d.revision, d.created_at, d.updated_at
   from deployments d join projects p on p.id = d.project_id join engine_clusters c on c.id = d.cluster_id";

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

async fn claim(state: &AppState, replica: &Replica, id: &str) -> Result<bool, ApiError> {
    let now = now_ms();
    let claimed = sqlx::query(
        "update deployments set lease_owner = $1, lease_until = $2
          where id = $3 and (lease_until is null or lease_until < $4 or lease_owner = $1)",
    )
    .bind(&replica.0)
    .bind(now + LEASE_MS)
    .bind(id)
    .bind(now)
    .execute(&state.db.pool)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

async fn release(state: &AppState, replica: &Replica, id: &str) -> Result<(), ApiError> {
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
async fn observe(
    state: &AppState,
    rest_url: &str,
    job_id: &str,
    snapshot: Option<&Snapshot>,
) -> Result<JobOverview, EngineError> {
    let fresh;
    let snapshot = match snapshot {
        Some(s) => s,
        None => {
            fresh = fetch_snapshot(state, rest_url).await;
            &fresh
        }
    };
    match snapshot {
        Ok(jobs) => jobs
            .get(job_id)
            .cloned()
            .ok_or_else(|| EngineError::JobNotFound {
                job_id: job_id.to_owned(),
            }),
        Err(e) => Err(e.clone()),
    }
}

/// Reconciles one deployment now, if no other replica holds it.
async fn reconcile(
    state: &AppState,
    replica: &Replica,
    id: &str,
    snapshot: Option<&Snapshot>,
) -> Result<(), ApiError> {
    if !claim(state, replica, id).await? {
        return Ok(());
    }
    let result = match load(state, id).await? {
        Some(d) => act(state, d, snapshot).await,
        None => Ok(()),
    };
    release(state, replica, id).await?;
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

async fn set_status(
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
    let observed = match &d.engine_job_id {
        Some(job_id) => Some(observe(state, &d.rest_url, job_id, snapshot).await),
        None => None,
    };
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
        (RUNNING, None) => submit(state, &client, &d).await,
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
            sqlx::query("update deployments set last_checkpoint_path = $1 where id = $2")
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
    let trigger = client
        .stop_with_savepoint(job_id, None, false)
        .await
        .map_err(engine_error)?;
    insert_savepoint(state, &d.id, job_id, &trigger, origin).await?;
    event(
        state,
        &d.id,
        "savepoint",
        &format!("{why}: stop with savepoint requested"),
    )
    .await?;
    set_status(state, d, STOPPING, Some(job_id), None).await
}

pub async fn insert_savepoint(
    state: &AppState,
    deployment_id: &str,
    job_id: &str,
    trigger: &str,
    origin: &str,
) -> Result<String, ApiError> {
    let id = new_id();
    sqlx::query(
        "insert into savepoints (id, deployment_id, engine_job_id, trigger_id, origin, state, created_at)
         values ($1, $2, $3, $4, $5, 'STARTED', $6)",
    )
    .bind(&id)
    .bind(deployment_id)
    .bind(job_id)
    .bind(trigger)
    .bind(origin)
    .bind(now_ms())
    .execute(&state.db.pool)
    .await?;
    Ok(id)
}

/// Completes or fails the savepoints in flight, and carries out what waited on them.
/// What `settle_savepoints` found: savepoints in flight before it, and still after it.
struct SavepointsInFlight {
    had_pending: bool,
    still_pending: bool,
}

async fn settle_savepoints(
    state: &AppState,
    client: &EngineClient,
    mut d: DeploymentRow,
) -> Result<(DeploymentRow, SavepointsInFlight), ApiError> {
    let pending: Vec<(String, String, String, String)> = sqlx::query_as(
        "select id, engine_job_id, trigger_id, origin from savepoints where deployment_id = $1 and state = 'STARTED' order by id",
    )
    .bind(&d.id)
    .fetch_all(&state.db.pool)
    .await?;
    let mut flight = SavepointsInFlight {
        had_pending: !pending.is_empty(),
        still_pending: false,
    };
    for (id, job_id, trigger, origin) in pending {
        let outcome = match client.savepoint_status(&job_id, &trigger).await {
            Ok(SavepointStatus::InProgress) => {
                flight.still_pending = true;
                continue;
            }
            Ok(SavepointStatus::Completed { location }) => Ok(location),
            Ok(SavepointStatus::Failed { reason }) => Err(reason),
            Err(EngineError::JobNotFound { .. }) => {
                Err("the job ended before the savepoint completed".to_owned())
            }
            Err(e) if e.is_transient() => {
                flight.still_pending = true;
                continue;
            }
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(location) => {
                sqlx::query("update savepoints set state = 'COMPLETED', location = $1, completed_at = $2 where id = $3")
                    .bind(&location)
                    .bind(now_ms())
                    .bind(&id)
                    .execute(&state.db.pool)
                    .await?;
                event(
                    state,
                    &d.id,
                    "savepoint",
                    &format!("savepoint completed at {location}"),
                )
                .await?;
                if origin == "SUSPEND_AND_UPGRADE" {
                    d = apply_upgrade(state, d, &id).await?;
                }
            }
            Err(reason) => {
                sqlx::query("update savepoints set state = 'FAILED', failure = $1, completed_at = $2 where id = $3")
                    .bind(&reason)
                    .bind(now_ms())
                    .bind(&id)
                    .execute(&state.db.pool)
                    .await?;
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
    submit(state, client, &d).await
}

/// Where the next start restores from, per the deployment's restore mode.
async fn restore_point(
    state: &AppState,
    d: &DeploymentRow,
) -> Result<Result<Option<String>, String>, ApiError> {
    let latest_savepoint = || async {
        let row: Option<(String,)> = sqlx::query_as(
            "select location from savepoints where deployment_id = $1 and state = 'COMPLETED' order by completed_at desc, id desc limit 1",
        )
        .bind(&d.id)
        .fetch_optional(&state.db.pool)
        .await?;
        Ok::<_, ApiError>(row.map(|(l,)| l))
    };
    Ok(match d.restore_mode.as_str() {
        "NONE" => Ok(None),
        "LATEST_SAVEPOINT" => match latest_savepoint().await? {
            Some(location) => Ok(Some(location)),
            None => Err(
                "LATEST_SAVEPOINT was asked for, but this deployment has no completed savepoint"
                    .to_owned(),
            ),
        },
        "FROM_SAVEPOINT" => {
            let row: Option<(String, Option<String>)> = sqlx::query_as(
                "select state, location from savepoints where id = $1 and deployment_id = $2",
            )
            .bind(d.restore_savepoint_id.as_deref().unwrap_or(""))
            .bind(&d.id)
            .fetch_optional(&state.db.pool)
            .await?;
            match row {
                Some((s, Some(location))) if s == "COMPLETED" => Ok(Some(location)),
                _ => Err(
                    "the chosen savepoint is not a completed savepoint of this deployment"
                        .to_owned(),
                ),
            }
        }
        // The newest of: the last checkpoint seen, the last savepoint.
        _ => Ok(match (&d.last_checkpoint_path, latest_savepoint().await?) {
            (Some(checkpoint), _) => Some(checkpoint.clone()),
            (None, savepoint) => savepoint,
        }),
    })
}

async fn submit(
    state: &AppState,
    client: &EngineClient,
    d: &DeploymentRow,
) -> Result<(), ApiError> {
    match submit_once(state, client, d).await? {
        Submitted::Done => Ok(()),
        // Checkpoints of a cancelled job may be gone (the cluster does not retain them):
        // forget that one and fall back to the newest savepoint.
        Submitted::CheckpointGone(path) => {
            sqlx::query("update deployments set last_checkpoint_path = null where id = $1")
                .bind(&d.id)
                .execute(&state.db.pool)
                .await?;
            event(
                state,
                &d.id,
                "restore",
                &format!(
                    "checkpoint {path} no longer exists; falling back to the newest savepoint"
                ),
            )
            .await?;
            let d = load(state, &d.id)
                .await?
                .ok_or_else(|| ApiError::not_found("deployment"))?;
            match submit_once(state, client, &d).await? {
                Submitted::Done => Ok(()),
                Submitted::CheckpointGone(path) => Err(ApiError::internal(format!(
                    "checkpoint {path} reported gone twice"
                ))),
            }
        }
    }
}

enum Submitted {
    Done,
    CheckpointGone(String),
}

async fn submit_once(
    state: &AppState,
    client: &EngineClient,
    d: &DeploymentRow,
) -> Result<Submitted, ApiError> {
    let restore = match restore_point(state, d).await? {
        Ok(point) => point,
        Err(message) => {
            event(state, &d.id, "failed", &message).await?;
            set_status(state, d, FAILED, None, Some(&message)).await?;
            return Ok(Submitted::Done);
        }
    };
    let parallelism = u32::try_from(d.parallelism).ok();
    let submitted = match d.content() {
        JobContent::Sql { sql } => {
            let Some(runner) = &state.sql_runner else {
                let message = "this server has no SQL runner (scripts/build-sql-runner.sh), so SQL jobs cannot run";
                set_status(state, d, FAILED, None, Some(message)).await?;
                return Ok(Submitted::Done);
            };
            let statements = match engine_client::script::analyze(&sql) {
                Ok(a) => a.statements.into_iter().map(|s| s.text).collect::<Vec<_>>(),
                Err(errors) => {
                    let message = format!("the script does not validate: {}", errors[0].message);
                    set_status(state, d, FAILED, None, Some(&message)).await?;
                    return Ok(Submitted::Done);
                }
            };
            let program = runner::program(&statements, Some(&d.name), parallelism, restore.clone());
            let ran = runner
                .with_jar(&state.db, &d.cluster_id, client, |jar| {
                    let client = client.clone();
                    let program = program.clone();
                    async move { client.run_jar(&jar, &program).await }
                })
                .await;
            match ran {
                Ok(result) => result,
                // The runner could not even be uploaded: the engine is not taking jobs now.
                Err(e) => {
                    let message =
                        format!("the engine cannot take the job yet: {}", e.detail.message);
                    set_status(state, d, d.status.as_str(), None, Some(&message)).await?;
                    return Ok(Submitted::Done);
                }
            }
        }
        JobContent::Jar {
            artifact_id,
            entry_class,
            args,
        } => {
            let bytes = tokio::fs::read(state.files.path(&d.project_id, &artifact_id))
                .await
                .map_err(|e| {
                    ApiError::internal(format!("artifact {artifact_id} unreadable: {e}"))
                })?;
            let program = engine_client::Program {
                entry_class: Some(entry_class),
                program_args_list: args,
                parallelism,
                savepoint_path: restore.clone(),
                allow_non_restored_state: false,
            };
            match client
                .upload_jar(&format!("{artifact_id}.jar"), bytes)
                .await
            {
                Ok(jar) => client.run_jar(&jar, &program).await,
                Err(e) => Err(e),
            }
        }
    };
    let outcome = match submitted {
        Err(EngineError::InvalidProgram { message, .. })
            if restore.is_some()
                && restore == d.last_checkpoint_path
                && message.contains("Cannot find checkpoint or savepoint") =>
        {
            return Ok(Submitted::CheckpointGone(restore.unwrap_or_default()));
        }
        Ok(job_id) => {
            sqlx::query("update deployments set engine_job_id = $1, status = 'STARTING', last_error = null, updated_at = $2 where id = $3")
                .bind(&job_id)
                .bind(now_ms())
                .bind(&d.id)
                .execute(&state.db.pool)
                .await?;
            let from = restore.map_or_else(|| "without state".to_owned(), |p| format!("from {p}"));
            event(
                state,
                &d.id,
                "submitted",
                &format!(
                    "version {} submitted as engine job {job_id}, {from}",
                    d.job_version
                ),
            )
            .await
        }
        Err(e) if e.is_transient() => {
            set_status(
                state,
                d,
                d.status.as_str(),
                None,
                Some(&format!("the engine cannot take the job yet: {e}")),
            )
            .await
        }
        Err(e) => {
            let message = format!("the engine refused the job: {e}");
            event(state, &d.id, "failed", &message).await?;
            set_status(state, d, FAILED, None, Some(&message)).await
        }
    };
    outcome.map(|()| Submitted::Done)
}
