//! Job metrics collected from the engine: every `job_metrics.interval_ms`, each running
//! (or transitioning: e.g. restarting in the engine) deployment's job is read with ONE
//! request (`GET /jobs/{id}`, whose vertices carry their I/O counters), and a sample
//! is stored: records in (what the sources emitted)
//! and out (what the sinks took) per second, the most backpressured and the busiest
//! vertex's share of time, and the checkpoint counters the reconciler already reads.
//! Rates come from the difference with the previous sample's cumulative counters.
//!
//! Source lag (`currentEmitEventTimeLag`, `pendingRecords`, where the connector reports
//! them) lives in per-vertex metrics that `GET /jobs/{id}` does not carry. To keep one
//! request per job per interval, every `lag_every`-th turn reads one source vertex's
//! lag instead of the job (the first turn for a vertex lists which lag metrics it
//! has; a vertex with none is asked again only every few turns, and its job's turns go
//! back to reading the job). Each sample carries the freshest readings.
//!
//! With several replicas, each deployment's sample is taken by one: a replica claims it
//! by moving `metrics_claimed_at` forward in a single conditional update.
//!
//! Raw samples are kept for `raw_retention_secs`; older ones are averaged into rows of
//! `downsample_secs`, which are kept for `retention_secs`.

use std::time::Duration;
use store::Error;

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::AppState;
use store::db::now_ms;

mod counters;
mod lag;

pub use counters::{counters, rates, Counters};
pub use lag::{LagRequest, SourceLag, SourceNotes};

/// Collections running at once per replica.
const CONCURRENCY: usize = 8;

pub async fn run(state: AppState, stop: CancellationToken) {
    let interval = Duration::from_millis(state.config.job_metrics.interval_ms.max(100));
    crate::workers::every(state, stop, "job_metrics", interval, |state| async move {
        collect_due(&state, now_ms()).await?;
        compact(&state, now_ms()).await
    })
    .await;
}

/// Takes a sample of every running deployment not sampled within the interval.
/// Returns how many samples this replica stored.
pub async fn collect_due(state: &AppState, now: i64) -> Result<usize, Error> {
    // A little under the interval, so a pass that starts late does not skip a beat.
    let due_before = now - (state.config.job_metrics.interval_ms as i64) * 9 / 10;
    let due: Vec<Due> = sqlx::query_as(
        "select d.id, d.engine_job_id, c.rest_url, d.checkpoints_completed, d.checkpoints_failed, d.source_lag
           from deployments d join engine_clusters c on c.id = d.cluster_id
          where d.status in ('RUNNING', 'TRANSITIONING') and d.engine_job_id is not null
            and (d.metrics_claimed_at is null or d.metrics_claimed_at <= $1)",
    )
    .bind(due_before)
    .fetch_all(&state.db.pool)
    .await?;
    let results: Vec<Result<bool, Error>> = futures_util::stream::iter(due)
        .map(|d| async move {
            let claimed: Option<(i64,)> = sqlx::query_as(
                "update deployments set metrics_claimed_at = $1, metrics_ticks = metrics_ticks + 1
                  where id = $2 and (metrics_claimed_at is null or metrics_claimed_at <= $3)
                  returning metrics_ticks",
            )
            .bind(now)
            .bind(&d.id)
            .bind(due_before)
            .fetch_optional(&state.db.pool)
            .await?;
            let Some((tick,)) = claimed else {
                return Ok(false); // another replica took it
            };
            sample(state, &d, tick, now).await
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut stored = 0;
    for result in results {
        match result {
            Ok(true) => stored += 1,
            Ok(false) => {}
            Err(e) => tracing::debug!(error = %e.message, "no sample this pass"),
        }
    }
    Ok(stored)
}

/// A running deployment due for a sample, with the checkpoint counters the reconciler
/// last stored.
#[derive(sqlx::FromRow)]
struct Due {
    id: String,
    engine_job_id: String,
    rest_url: String,
    checkpoints_completed: Option<i64>,
    checkpoints_failed: Option<i64>,
    source_lag: Option<String>,
}

/// Takes this turn's reading of the deployment: its sources' lag on a lag turn with
/// something to ask, else the job (stored as a sample). Returns whether a sample was
/// stored.
async fn sample(state: &AppState, due: &Due, tick: i64, now: i64) -> Result<bool, Error> {
    let deployment_id = due.id.as_str();
    let config = &state.config.job_metrics;
    let client = state.engines.client(&due.rest_url)?;
    let mut notes: Option<SourceLag> = due
        .source_lag
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .filter(|notes: &SourceLag| notes.job == due.engine_job_id);
    let lag_every = config.lag_every as i64;
    let lag_turn = lag_every > 0 && tick % lag_every == 0;
    if let Some(notes) = notes.as_mut().filter(|_| lag_turn) {
        // With no source to ask now, the job is read as on any other turn.
        if let Some((index, request)) = notes.next_request(tick, lag_every) {
            match request {
                LagRequest::List { vertex } => {
                    let names = client
                        .vertex_metric_names(&due.engine_job_id, &vertex)
                        .await
                        .map_err(crate::engine::engine_error)?;
                    notes.listed(index, &names, tick);
                }
                LagRequest::Read { vertex, names } => {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    let values = client
                        .vertex_metrics(&due.engine_job_id, &vertex, &names)
                        .await
                        .map_err(crate::engine::engine_error)?;
                    notes.read(index, &values, now);
                }
            }
            save_notes(state, deployment_id, notes).await?;
            return Ok(false);
        }
    }
    read_job(state, due, &client, notes, now).await
}

/// Reads the job and stores a sample, with the freshest lag readings in `notes` (made
/// from the job's plan when there are none yet).
async fn read_job(
    state: &AppState,
    due: &Due,
    client: &engine_client::EngineClient,
    notes: Option<SourceLag>,
    now: i64,
) -> Result<bool, Error> {
    let deployment_id = due.id.as_str();
    let config = &state.config.job_metrics;
    let lag_every = config.lag_every as i64;
    let job = client
        .job(&due.engine_job_id)
        .await
        .map_err(crate::engine::engine_error)?;
    let notes = match notes {
        Some(notes) => notes,
        None => {
            let fresh = SourceLag::for_job(&job);
            save_notes(state, deployment_id, &fresh).await?;
            fresh
        }
    };
    // A reading is current for two rounds of lag turns over all the sources.
    let round_ms = config.interval_ms as i64 * lag_every.max(1) * notes.sources.len().max(1) as i64;
    let (source_lag_ms, pending_records) =
        notes.current(now, 2 * round_ms + config.interval_ms as i64);
    let current = counters(&job);
    let previous: Option<(i64, i64, i64, i64, i64)> = sqlx::query_as(
        "select at, records_in, records_out, backpressured_ms, busy_ms from deployment_metrics
          where deployment_id = $1 and resolution = 0 order by at desc limit 1",
    )
    .bind(deployment_id)
    .fetch_optional(&state.db.pool)
    .await?;
    let (previous_at, previous) = match previous {
        Some((at, records_in, records_out, backpressured_ms, busy_ms)) => (
            at,
            Some(Counters {
                records_in,
                records_out,
                backpressured_ms,
                busy_ms,
                ..current
            }),
        ),
        None => (now, None),
    };
    let (in_rate, out_rate, backpressure, busy) =
        rates(previous.as_ref(), &current, now - previous_at);
    sqlx::query(
        "insert into deployment_metrics (deployment_id, at, resolution, records_in, records_out, backpressured_ms, busy_ms,
                                         records_in_per_sec, records_out_per_sec, backpressure_ratio, busy_ratio,
                                         checkpoints_completed, checkpoints_failed, engine_state, source_lag_ms, pending_records)
         values ($1, $2, 0, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(deployment_id)
    .bind(now)
    .bind(current.records_in)
    .bind(current.records_out)
    .bind(current.backpressured_ms)
    .bind(current.busy_ms)
    .bind(in_rate)
    .bind(out_rate)
    .bind(backpressure)
    .bind(busy)
    .bind(due.checkpoints_completed.unwrap_or(0))
    .bind(due.checkpoints_failed.unwrap_or(0))
    .bind(job.state.as_str())
    .bind(source_lag_ms)
    .bind(pending_records)
    .execute(&state.db.pool)
    .await?;
    Ok(true)
}

async fn save_notes(state: &AppState, deployment_id: &str, notes: &SourceLag) -> Result<(), Error> {
    let text = serde_json::to_string(notes)
        .map_err(|e| Error::internal(format!("source lag notes: {e}")))?;
    sqlx::query("update deployments set source_lag = $1 where id = $2")
        .bind(text)
        .bind(deployment_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Averages raw samples older than the raw window into coarser rows, and drops rows
/// past the retention. Idempotent: a bucket is written once (its key is unique) and
/// only whole buckets, entirely older than the raw window, are folded.
pub async fn compact(state: &AppState, now: i64) -> Result<(), Error> {
    let config = &state.config.job_metrics;
    let bucket_ms = (config.downsample_secs.max(1) as i64) * 1000;
    // Only buckets that ended before the raw window began.
    let fold_before =
        (now - config.raw_retention_secs as i64 * 1000).div_euclid(bucket_ms) * bucket_ms;
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "insert into deployment_metrics (deployment_id, at, resolution, records_in, records_out, backpressured_ms, busy_ms,
                                         records_in_per_sec, records_out_per_sec, backpressure_ratio, busy_ratio,
                                         checkpoints_completed, checkpoints_failed, source_lag_ms, pending_records)
         select deployment_id, (at / $1) * $1, $2, max(records_in), max(records_out), max(backpressured_ms), max(busy_ms),
                avg(records_in_per_sec), avg(records_out_per_sec), avg(backpressure_ratio), avg(busy_ratio),
                max(checkpoints_completed), max(checkpoints_failed), avg(source_lag_ms), avg(pending_records)
           from deployment_metrics m
          where resolution = 0 and at < $3
            and not exists (select 1 from deployment_metrics c
                             where c.deployment_id = m.deployment_id and c.resolution = $2 and c.at = (m.at / $1) * $1)
          group by deployment_id, (at / $1) * $1",
    )
    .bind(bucket_ms)
    .bind(config.downsample_secs as i64)
    .bind(fold_before)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from deployment_metrics where resolution = 0 and at < $1")
        .bind(fold_before)
        .execute(&mut *tx)
        .await?;
    sqlx::query("delete from deployment_metrics where at < $1")
        .bind(now - config.retention_secs as i64 * 1000)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
