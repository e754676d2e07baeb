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
//! The vertex counters count records crossing the network, so a source vertex chained
//! with its sinks (the whole pipeline in one task) shows none: its sources' and sinks'
//! operator meters are read on its turns (every second turn at most, see
//! `SourceLag::turn_every`) and added to the sample's rates. A sample says when such a
//! vertex reports no meter for its sources or sinks (`throughput_reported`).
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

use domain::Platform;
use store::db::now_ms;
use store::metric_samples::{DueRow as Due, NewSample};

mod counters;
mod lag;

pub use counters::{counters, rates, Counters};
pub use lag::{LagRequest, SourceLag, SourceNotes};

/// Collections running at once per replica.
const CONCURRENCY: usize = 8;

pub async fn run(state: Platform, stop: CancellationToken) {
    let interval = Duration::from_millis(state.config.job_metrics.interval_ms.max(100));
    crate::every::every(state, stop, "job_metrics", interval, |state| async move {
        collect_due(&state, now_ms()).await?;
        compact(&state, now_ms()).await
    })
    .await;
}

/// Takes a sample of every running deployment not sampled within the interval.
/// Returns how many samples this replica stored.
pub async fn collect_due(state: &Platform, now: i64) -> Result<usize, Error> {
    // A little under the interval, so a pass that starts late does not skip a beat.
    let due_before = now - (state.config.job_metrics.interval_ms as i64) * 9 / 10;
    let due = state.all_tenants().metric_samples().due(due_before).await?;
    let results: Vec<Result<bool, Error>> = futures_util::stream::iter(due)
        .map(|d| async move {
            let claimed = state
                .all_tenants()
                .metric_samples()
                .claim(&d.id, now, due_before)
                .await?;
            let Some(tick) = claimed else {
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

/// Takes this turn's reading of the deployment: its sources' lag on a lag turn with
/// something to ask, else the job (stored as a sample). Returns whether a sample was
/// stored.
async fn sample(state: &Platform, due: &Due, tick: i64, now: i64) -> Result<bool, Error> {
    let deployment_id = due.id.as_str();
    let config = &state.config.job_metrics;
    let client = state.engines.client(&due.rest_url)?;
    let mut notes: Option<SourceLag> = due
        .source_lag
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .filter(|notes: &SourceLag| notes.job == due.engine_job_id);
    let lag_every = config.lag_every as i64;
    let every = notes
        .as_ref()
        .map_or(lag_every, |notes| notes.turn_every(lag_every));
    let lag_turn = every > 0 && tick % every == 0;
    if let Some(notes) = notes.as_mut().filter(|_| lag_turn) {
        // With no source to ask now, the job is read as on any other turn.
        if let Some((index, request)) = notes.next_request(tick, every) {
            match request {
                LagRequest::List { vertex } => {
                    let names = client
                        .vertex_metric_names(&due.engine_job_id, &vertex)
                        .await
                        .map_err(domain::engine::engine_error)?;
                    notes.listed(index, &names, tick);
                }
                LagRequest::Read { vertex, names } => {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    let values = client
                        .vertex_metrics(&due.engine_job_id, &vertex, &names)
                        .await
                        .map_err(domain::engine::engine_error)?;
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
    state: &Platform,
    due: &Due,
    client: &engine_client::EngineClient,
    notes: Option<SourceLag>,
    now: i64,
) -> Result<bool, Error> {
    let deployment_id = due.id.as_str();
    let config = &state.config.job_metrics;
    let job = client
        .job(&due.engine_job_id)
        .await
        .map_err(domain::engine::engine_error)?;
    let notes = match notes {
        Some(mut notes) => {
            // Notes written before they told enclosed vertices apart learn it here.
            if notes.mark_enclosed(&job) {
                save_notes(state, deployment_id, &notes).await?;
            }
            notes
        }
        None => {
            let fresh = SourceLag::for_job(&job);
            save_notes(state, deployment_id, &fresh).await?;
            fresh
        }
    };
    // A reading is current for two rounds of turns over all the sources.
    let every = notes.turn_every(config.lag_every as i64).max(1);
    let round_ms = config.interval_ms as i64 * every * notes.sources.len().max(1) as i64;
    let max_age_ms = 2 * round_ms + config.interval_ms as i64;
    let (source_lag_ms, pending_records) = notes.current(now, max_age_ms);
    let enclosed = notes.enclosed_throughput(now, max_age_ms);
    let current = counters(&job);
    let all = state.all_tenants();
    let samples = all.metric_samples();
    let previous = samples.latest_counters(deployment_id).await?;
    let (previous_at, previous) = match previous {
        Some(p) => (
            p.at,
            Some(Counters {
                records_in: p.records_in,
                records_out: p.records_out,
                backpressured_ms: p.backpressured_ms,
                busy_ms: p.busy_ms,
                ..current
            }),
        ),
        None => (now, None),
    };
    let (in_rate, out_rate, backpressure, busy) =
        rates(previous.as_ref(), &current, now - previous_at);
    samples
        .insert(&NewSample {
            deployment_id,
            at: now,
            records_in: current.records_in,
            records_out: current.records_out,
            backpressured_ms: current.backpressured_ms,
            busy_ms: current.busy_ms,
            // An enclosed vertex's vertex counters are 0: nothing is counted twice.
            records_in_per_sec: in_rate + enclosed.emitted_per_sec,
            records_out_per_sec: out_rate + enclosed.taken_per_sec,
            throughput_reported: enclosed.reported,
            backpressure_ratio: backpressure,
            busy_ratio: busy,
            checkpoints_completed: due.checkpoints_completed.unwrap_or(0),
            checkpoints_failed: due.checkpoints_failed.unwrap_or(0),
            engine_state: job.state.as_str(),
            source_lag_ms,
            pending_records,
        })
        .await?;
    Ok(true)
}

async fn save_notes(state: &Platform, deployment_id: &str, notes: &SourceLag) -> Result<(), Error> {
    let text = serde_json::to_string(notes)
        .map_err(|e| Error::internal(format!("source lag notes: {e}")))?;
    state
        .all_tenants()
        .metric_samples()
        .save_lag_notes(deployment_id, &text)
        .await
}

/// Averages raw samples older than the raw window into coarser rows, and drops rows
/// past the retention. Idempotent: a bucket is written once (its key is unique) and
/// only whole buckets, entirely older than the raw window, are folded.
pub async fn compact(state: &Platform, now: i64) -> Result<(), Error> {
    let config = &state.config.job_metrics;
    let bucket_ms = (config.downsample_secs.max(1) as i64) * 1000;
    // Only buckets that ended before the raw window began.
    let fold_before =
        (now - config.raw_retention_secs as i64 * 1000).div_euclid(bucket_ms) * bucket_ms;
    let mut tx = state.all_tenants().write().await?;
    tx.metric_samples()
        .fold_raw(bucket_ms, config.downsample_secs as i64, fold_before)
        .await?;
    tx.metric_samples().drop_raw_before(fold_before).await?;
    tx.metric_samples()
        .drop_before(now - config.retention_secs as i64 * 1000)
        .await?;
    tx.commit().await?;
    Ok(())
}
