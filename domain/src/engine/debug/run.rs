//! A debug run's life: started on a session cluster under an engine job id recorded
//! first, its rows captured through Sluice, and supervised until it stops, when its
//! engine job is cancelled whatever stopped it.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use engine_client::refusal::{self, Refusal};
use engine_client::script::{self, ScriptError};
use engine_client::{EngineClient, EngineError, JobState};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use store::db::now_ms;
use store::debug::{Captured, NewRun, RunRow};
use store::{Error, ProjectScope};
use tokio_util::sync::CancellationToken;

use super::rewrite::{rewrite, Target};
use super::samples::{physical_columns, sample_rows_for, Sample};
use crate::engine::runner;
use crate::engine::submission::{job_id_prefix, new_job_id};
use crate::pipeline;
use crate::Platform;

/// Why a run stopped.
pub mod reason {
    pub const RECORD_LIMIT: &str = "record_limit";
    pub const TIME_LIMIT: &str = "time_limit";
    pub const INPUT_EXHAUSTED: &str = "input_exhausted";
    pub const CANCELLED: &str = "cancelled";
    pub const FAILED: &str = "failed";
    /// Nobody read its results for a while: the browser went away.
    pub const ABANDONED: &str = "abandoned";
    /// The process watching it died.
    pub const INTERRUPTED: &str = "interrupted";
}

/// A run nobody has read the results of for this long is stopped.
const ABANDONED_AFTER_MS: i64 = 30_000;

/// This process, as the watcher of the runs it starts.
fn this_process() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::new_v4().to_string())
}

/// How long a watch lasts unless renewed: a few of the supervisor's passes.
fn watch_ms(platform: &Platform) -> i64 {
    i64::try_from(
        platform
            .config
            .engine
            .reconcile_interval_ms
            .saturating_mul(3),
    )
    .unwrap_or(i64::MAX)
}

/// What a debug run is asked for.
pub struct Start<'a> {
    pub job_id: &'a str,
    pub job_name: &'a str,
    pub sql: &'a str,
    pub cluster_id: &'a str,
    pub rest_url: &'a str,
    /// Source tables (as the script names them) to read from a sample of the project.
    pub samples: &'a HashMap<String, String>,
    pub record_limit: u64,
    pub time_limit: Duration,
    pub created_by: Option<&'a str>,
    /// Plan limit of runs at once in the project.
    pub concurrent_runs: i64,
}

/// Why a run could not start: the script (errors in place), or the request.
pub enum Refused {
    Script(Vec<ScriptError>),
}

/// Starts a debug run: checks and rewrites the draft, records the run (with the engine
/// job id Sluice chose) and asks the engine; the run as recorded.
pub async fn start(
    platform: &Platform,
    scope: &ProjectScope,
    request: &Start<'_>,
) -> Result<Result<RunRow, Refused>, Error> {
    let Some(sql_runner) = &platform.sql_runner else {
        return Err(Error::new(
            store::error::Kind::Unavailable,
            "sql_runner_missing",
            "no SQL runner is built on this server (scripts/build-sql-runner.sh)",
        ));
    };
    let analysis = match script::analyze_debug(request.sql) {
        Ok(analysis) => analysis,
        Err(errors) => return Ok(Err(Refused::Script(errors))),
    };
    let resources = scope.pipeline_resources().await?;
    let needs = match pipeline::resolve(&analysis.statements, &resources, &platform.secrets, &[]) {
        Ok(needs) => needs,
        Err(errors) => return Ok(Err(Refused::Script(errors))),
    };
    let mut sample_rows = HashMap::new();
    for (table, sample_id) in request.samples {
        let (sample, rows) = scope
            .debug()
            .sample(sample_id)
            .await
            .map_err(|e| e.with_field("sources"))?;
        let Some(ddl) = analysis.statements.iter().find(|s| {
            s.created_name().is_some_and(|t| matches!(&t.token, script::Token::Word(w) if w.value.eq_ignore_ascii_case(table)))
        }) else {
            return Err(Error::invalid("sources", format!("the draft declares no table `{table}` to read sample `{}` into", sample.name)));
        };
        let stored = stored_sample(&sample.columns, &rows)?;
        let lines = sample_rows_for(table, &physical_columns(ddl), &stored, &sample.name)
            .map_err(|m| Error::invalid("sources", m))?;
        sample_rows.insert(table.to_ascii_lowercase(), lines);
    }
    let run_id = uuid::Uuid::now_v7().to_string();
    let token = hex::encode(rand::random::<[u8; 32]>());
    let group = format!("sluice-debug-{run_id}");
    let rewritten = match rewrite(
        &analysis,
        &sample_rows,
        &capture_url(platform, &run_id),
        &token,
        &group,
    ) {
        Ok(rewritten) => rewritten,
        Err(errors) => return Ok(Err(Refused::Script(errors))),
    };
    let client = platform.engines.client(request.rest_url)?;
    // A run that cannot get a slot says so rather than waiting for one.
    match client.overview().await {
        Ok(overview) if overview.slots_available == 0 => {
            return Err(Error::conflict("no_free_slot", format!(
                "the session cluster has no free task slot ({} in all, all taken): stop another run or deployment on it, or try again later",
                overview.slots_total
            )))
        }
        Ok(_) => {}
        Err(e) => return Err(upstream(format!("the session cluster cannot be reached: {e}"))),
    }
    let shipped = match pipeline::ship(
        platform,
        request.cluster_id,
        &client,
        &rewritten.statements,
        &needs,
    )
    .await?
    {
        Ok(shipped) => shipped,
        Err(e) => {
            return Err(upstream(format!(
                "the session cluster cannot take the job's artifacts: {e}"
            )))
        }
    };
    let engine_job_id = new_job_id(&job_id_prefix(platform).await?);
    let targets = serde_json::to_string(&rewritten.targets).unwrap_or_else(|_| "[]".to_owned());
    let mut write = scope.write().await?;
    let open = write.debug().open_runs().await?;
    crate::limits::ensure_below(
        open,
        request.concurrent_runs,
        "concurrent_debug_runs",
        "this project's debug runs",
    )?;
    write
        .debug()
        .insert_run(&NewRun {
            id: &run_id,
            supervisor: this_process(),
            supervised_ms: watch_ms(platform),
            job_id: request.job_id,
            cluster_id: request.cluster_id,
            engine_job_id: &engine_job_id,
            token_hash: &token_hash(&token),
            record_limit: i64::try_from(request.record_limit).unwrap_or(i64::MAX),
            time_limit_ms: i64::try_from(request.time_limit.as_millis()).unwrap_or(i64::MAX),
            targets: &targets,
            created_by: request.created_by,
        })
        .await?;
    write.commit().await?;

    let mut program = runner::program(
        &shipped.statements,
        &shipped.classpath,
        Some(&format!("debug: {}", request.job_name)),
        None,
        None,
    );
    program.program_args_list.splice(
        0..0,
        [
            format!("--capture-url={}", capture_url(platform, &run_id)),
            format!("--capture-token={token}"),
        ],
    );
    program.job_id = Some(engine_job_id.clone());
    program.flink_configuration = shipped.program_configuration();
    // A failing debug job fails the run at once instead of restarting (the runner's
    // debug mode says so too), and a cancelled one leaves no checkpoints behind.
    program
        .flink_configuration
        .insert("restart-strategy.type".to_owned(), "none".to_owned());
    program.flink_configuration.insert(
        "execution.checkpointing.externalized-checkpoint-retention".to_owned(),
        "DELETE_ON_CANCELLATION".to_owned(),
    );
    let ran = sql_runner
        .with_jar(&platform.db, request.cluster_id, &client, |jar| {
            let client = client.clone();
            let program = program.clone();
            async move { client.run_jar(&jar, &program).await }
        })
        .await;
    let runs = platform.all_tenants();
    let runs = runs.debug_runs();
    match ran {
        Ok(Ok(_)) => {
            crate::failpoint::hit(crate::failpoint::DEBUG_SUBMITTED);
            runs.running(&run_id).await?
        }
        Ok(Err(EngineError::InvalidProgram {
            message,
            statement,
            part,
            causes,
        })) => {
            let error = refusal::place(
                &analysis,
                &Refusal {
                    message: &message,
                    statement,
                    part,
                    causes: &causes,
                },
            );
            let said = shipped.redactor.redact(&describe(&error));
            runs.stop(&run_id, reason::FAILED, Some(&said)).await?;
        }
        Ok(Err(e)) => {
            let said = shipped
                .redactor
                .redact(&format!("the engine did not take the run: {e}"));
            runs.stop(&run_id, reason::FAILED, Some(&said)).await?;
        }
        Err(e) => {
            runs.stop(
                &run_id,
                reason::FAILED,
                Some(&format!(
                    "the SQL runner could not be put on the cluster: {}",
                    e.message
                )),
            )
            .await?;
        }
    }
    let run = runs
        .get(&run_id)
        .await?
        .ok_or_else(|| Error::not_found("debug run"))?;
    if run.status == "stopping" {
        finish(platform, &run).await?;
    }
    Ok(Ok(runs.get(&run_id).await?.unwrap_or(run)))
}

/// An error with its place, in one line.
fn describe(error: &ScriptError) -> String {
    let place = match (error.line, error.column) {
        (Some(line), Some(column)) => format!("line {line}, column {column}: "),
        _ => String::new(),
    };
    let hint = error
        .hint
        .as_ref()
        .map_or_else(String::new, |h| format!(" ({h})"));
    format!("{place}{}{hint}", error.message)
}

/// A stored sample (its columns as JSON and its rows as JSON lines) as read.
fn stored_sample(columns: &str, rows: &str) -> Result<Sample, Error> {
    let columns: Vec<String> = serde_json::from_str(columns)
        .map_err(|e| Error::internal(format!("a stored sample's columns: {e}")))?;
    let rows = rows
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| Error::internal(format!("a stored sample's row: {e}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(Sample { columns, rows })
}

fn upstream(message: String) -> Error {
    Error::new(store::error::Kind::Upstream, "engine_unavailable", message)
}

fn capture_url(platform: &Platform, run_id: &str) -> String {
    let base = &platform.config.engine.debug.capture_base_url;
    let base = if base.is_empty() {
        &platform.config.auth.public_url
    } else {
        base
    };
    format!(
        "{}/internal/debug-capture/{run_id}",
        base.trim_end_matches('/')
    )
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What the SQL runner's capture sends: rows of one target.
#[derive(Debug, Deserialize)]
pub struct CaptureBatch {
    pub target: String,
    #[serde(default)]
    pub columns: Vec<String>,
    pub rows: Vec<CapturedValues>,
}

#[derive(Debug, Deserialize)]
pub struct CapturedValues {
    /// `+I`, `-U`, `+U` or `-D`.
    pub kind: String,
    pub values: Vec<Option<String>>,
}

/// What became of a capture request.
pub enum CaptureOutcome {
    Kept,
    /// The run is over: the sender stops.
    Over,
    /// No such run, or not its token.
    Unknown,
}

/// Keeps what the engine captured for a run, up to its record limit; reaching it stops
/// the run (its engine job cancelled now, not at the next pass).
pub async fn capture(
    platform: &Platform,
    run_id: &str,
    token: &str,
    batch: &CaptureBatch,
) -> Result<CaptureOutcome, Error> {
    let all = platform.all_tenants();
    let runs = all.debug_runs();
    let Some((stored_targets, hash)) = runs.capture_check(run_id).await? else {
        return Ok(CaptureOutcome::Unknown);
    };
    let given = token_hash(token);
    if given.len() != hash.len()
        || !given
            .bytes()
            .zip(hash.bytes())
            .fold(true, |same, (a, b)| same & (a == b))
    {
        return Ok(CaptureOutcome::Unknown);
    }
    let mut targets: Vec<Target> = serde_json::from_str(&stored_targets).unwrap_or_default();
    if let Some(target) = targets.iter_mut().find(|t| t.target == batch.target) {
        if target.columns.is_empty() && !batch.columns.is_empty() {
            target.columns.clone_from(&batch.columns);
            runs.set_targets(run_id, &serde_json::to_string(&targets).unwrap_or_default())
                .await?;
        }
    }
    let rows: Vec<(String, String)> = batch
        .rows
        .iter()
        .filter(|r| matches!(r.kind.as_str(), "+I" | "-U" | "+U" | "-D"))
        .map(|r| {
            (
                r.kind.clone(),
                serde_json::to_string(&r.values).unwrap_or_default(),
            )
        })
        .collect();
    match runs.capture(run_id, &batch.target, &rows).await? {
        Captured::Over => Ok(CaptureOutcome::Over),
        Captured::Kept { limit_reached, .. } => {
            if limit_reached {
                let platform = platform.clone();
                let run_id = run_id.to_owned();
                tokio::spawn(async move {
                    if let Ok(Some(run)) = platform.all_tenants().debug_runs().get(&run_id).await {
                        if let Err(e) = finish(&platform, &run).await {
                            tracing::warn!(run = %run_id, error = %e.message, "cannot end a debug run yet; the supervisor will");
                        }
                    }
                });
            }
            Ok(CaptureOutcome::Kept)
        }
    }
}

/// Stops a run at its user's request; its engine job is cancelled now.
pub async fn cancel(platform: &Platform, run: &RunRow) -> Result<(), Error> {
    platform
        .all_tenants()
        .debug_runs()
        .stop(&run.id, reason::CANCELLED, None)
        .await?;
    if let Some(run) = platform.all_tenants().debug_runs().get(&run.id).await? {
        finish(platform, &run).await?;
    }
    Ok(())
}

/// Cancels a stopping run's engine job and ends the run.
async fn finish(platform: &Platform, run: &RunRow) -> Result<(), Error> {
    let client = cluster_client(platform, &run.cluster_id).await?;
    match client.cancel(&run.engine_job_id).await {
        Ok(()) | Err(EngineError::JobNotFound { .. }) => {}
        // Already over (finished, failed): nothing left to cancel.
        Err(EngineError::Rejected { .. }) => {}
        Err(e) => return Err(upstream(format!("cannot cancel the run's engine job: {e}"))),
    }
    let reason = run.stop_reason.as_deref().unwrap_or(reason::CANCELLED);
    platform
        .all_tenants()
        .debug_runs()
        .end(&run.id, reason, None)
        .await
}

async fn cluster_client(platform: &Platform, cluster_id: &str) -> Result<EngineClient, Error> {
    let rest_url = platform
        .all_tenants()
        .engine_clusters()
        .rest_url(cluster_id)
        .await?
        .ok_or_else(|| Error::not_found("cluster"))?;
    platform.engines.client(&rest_url)
}

/// Watches every open run until `stop`: limits, the engine job's end, a reader gone,
/// a watcher that died.
pub async fn supervise_forever(platform: Platform, stop: CancellationToken) {
    let interval = Duration::from_millis(platform.config.engine.reconcile_interval_ms);
    // A pass at once: runs a process that died left behind are ended as soon as its
    // watch has lapsed, not an interval later.
    loop {
        if let Err(e) = supervise(&platform).await {
            tracing::warn!(error = %e.message, "cannot supervise debug runs; will retry");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// One pass over the open runs.
pub async fn supervise(platform: &Platform) -> Result<(), Error> {
    let all = platform.all_tenants();
    let runs = all.debug_runs();
    for run in runs.open().await? {
        let Some(before) = runs
            .supervise(&run.id, this_process(), watch_ms(platform))
            .await?
        else {
            // Another live process watches it.
            continue;
        };
        if before != this_process() {
            runs.stop(
                &run.id,
                reason::INTERRUPTED,
                Some("the Sluice process running it stopped; its engine job is cancelled"),
            )
            .await?;
        } else if run.status != "stopping" {
            let now = now_ms();
            if now >= run.deadline_at {
                runs.stop(&run.id, reason::TIME_LIMIT, None).await?;
            } else if now - run.seen_at > ABANDONED_AFTER_MS {
                runs.stop(
                    &run.id,
                    reason::ABANDONED,
                    Some("nobody has read its results for 30 seconds"),
                )
                .await?;
            } else if run.status == "running" {
                engine_state(platform, &run).await?;
            }
        }
        if let Some(run) = runs.get(&run.id).await? {
            if run.status == "stopping" {
                if let Err(e) = finish(platform, &run).await {
                    tracing::warn!(run = %run.id, error = %e.message, "cannot cancel a debug run's engine job; will retry");
                }
            }
        }
    }
    Ok(())
}

/// Ends a run whose engine job ended by itself: its input exhausted, or a failure.
async fn engine_state(platform: &Platform, run: &RunRow) -> Result<(), Error> {
    let client = cluster_client(platform, &run.cluster_id).await?;
    let runs = platform.all_tenants();
    let runs = runs.debug_runs();
    match client.job(&run.engine_job_id).await {
        Ok(job) => match job.state {
            JobState::Finished => runs.end(&run.id, reason::INPUT_EXHAUSTED, None).await,
            JobState::Canceled => {
                runs.end(&run.id, reason::CANCELLED, Some("cancelled in the engine"))
                    .await
            }
            JobState::Failed | JobState::Failing => {
                let why = client
                    .exceptions(&run.engine_job_id)
                    .await
                    .ok()
                    .and_then(|e| e.into_iter().next())
                    .map_or_else(
                        || "the engine job failed".to_owned(),
                        |e| engine_client::engine_message(&[e.stacktrace]),
                    );
                runs.stop(&run.id, reason::FAILED, Some(&why))
                    .await
                    .map(|_| ())
            }
            _ => Ok(()),
        },
        Err(EngineError::JobNotFound { .. }) => {
            runs.end(
                &run.id,
                reason::FAILED,
                Some("the engine no longer knows the run's job"),
            )
            .await
        }
        Err(e) => {
            tracing::debug!(run = %run.id, error = %e, "cannot read a debug run's engine job");
            Ok(())
        }
    }
}
