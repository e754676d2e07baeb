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

use engine_client::{AggregatedMetric, JobDetail};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::AppState;
use store::db::now_ms;

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

/// What one read of the job says, summed over its vertices.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Counters {
    pub records_in: i64,
    pub records_out: i64,
    /// Per vertex, to compare with the previous sample: the largest wins.
    pub backpressured_ms: i64,
    pub busy_ms: i64,
    /// Parallelism of the vertex with the most backpressure and the busiest, for ratios.
    pub backpressured_parallelism: i64,
    pub busy_parallelism: i64,
}

/// Cumulative counters of a job: records emitted by its sources and taken by its
/// sinks, and the backpressured and busy time of its most affected vertices.
pub fn counters(job: &JobDetail) -> Counters {
    let metric = |v: &engine_client::Vertex| v.metrics.clone().unwrap_or_default();
    let records_in = job
        .sources()
        .iter()
        .map(|v| metric(v).write_records)
        .sum::<u64>();
    let records_out = job
        .sinks()
        .iter()
        .map(|v| metric(v).read_records)
        .sum::<u64>();
    let most = |f: &dyn Fn(&engine_client::VertexMetrics) -> f64| {
        job.vertices
            .iter()
            .map(|v| {
                let parallelism = f64::from(v.parallelism.max(1));
                (f(&metric(v)), parallelism)
            })
            .max_by(|a, b| (a.0 / a.1).total_cmp(&(b.0 / b.1)))
            .unwrap_or((0.0, 1.0))
    };
    let (backpressured, bp_parallelism) = most(&|m| m.accumulated_backpressured_time as f64);
    let (busy, busy_parallelism) = most(&|m| m.busy_ms().unwrap_or(0.0));
    let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    Counters {
        records_in: int(records_in),
        records_out: int(records_out),
        backpressured_ms: backpressured as i64,
        busy_ms: busy as i64,
        backpressured_parallelism: bp_parallelism as i64,
        busy_parallelism: busy_parallelism as i64,
    }
}

/// Rates between two readings `elapsed_ms` apart; a counter that went back (the job
/// was resubmitted) starts over from zero.
pub fn rates(previous: Option<&Counters>, now: &Counters, elapsed_ms: i64) -> (f64, f64, f64, f64) {
    let Some(previous) = previous.filter(|_| elapsed_ms > 0) else {
        return (0.0, 0.0, 0.0, 0.0);
    };
    let delta = |a: i64, b: i64| if b >= a { (b - a) as f64 } else { b as f64 };
    let secs = elapsed_ms as f64 / 1000.0;
    let ratio = |d: f64, parallelism: i64| {
        (d / (elapsed_ms as f64 * parallelism.max(1) as f64)).clamp(0.0, 1.0)
    };
    (
        delta(previous.records_in, now.records_in) / secs,
        delta(previous.records_out, now.records_out) / secs,
        ratio(
            delta(previous.backpressured_ms, now.backpressured_ms),
            now.backpressured_parallelism,
        ),
        ratio(delta(previous.busy_ms, now.busy_ms), now.busy_parallelism),
    )
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

/// A source's lag behind its input: event-time lag of what it emits, in ms.
const EVENT_TIME_LAG: &str = "currentEmitEventTimeLag";
/// Records the source knows of and has not read yet (e.g. Kafka's backlog).
const PENDING_RECORDS: &str = "pendingRecords";
/// A source that reported no lag metric is listed again after this many of its job's
/// lag turns: connectors register some lazily (e.g. once partitions are assigned).
const LIST_AGAIN_AFTER_TURNS: i64 = 10;

/// The collector's notes on a job's sources.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceLag {
    /// The engine job they are about; another job starts them over.
    pub job: String,
    pub sources: Vec<SourceNotes>,
    /// Whose turn is next.
    pub next: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceNotes {
    pub vertex: String,
    /// Its lag metrics, once listed.
    pub names: Option<Vec<String>>,
    /// The job's sample count when it was last listed: when to list a silent one again
    /// follows from it, with nothing to store on the turns in between.
    #[serde(default)]
    pub listed_tick: i64,
    pub lag_ms: Option<f64>,
    pub pending_records: Option<f64>,
    pub read_at: Option<i64>,
}

/// What a lag turn asks the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum LagRequest {
    List { vertex: String },
    Read { vertex: String, names: Vec<String> },
}

fn is_lag_metric(name: &str) -> bool {
    [EVENT_TIME_LAG, PENDING_RECORDS]
        .iter()
        .any(|m| name == *m || name.ends_with(&format!(".{m}")))
}

impl SourceLag {
    pub fn for_job(job: &JobDetail) -> Self {
        Self {
            job: job.jid.clone(),
            sources: job
                .sources()
                .iter()
                .map(|v| SourceNotes {
                    vertex: v.id.clone(),
                    ..SourceNotes::default()
                })
                .collect(),
            next: 0,
        }
    }

    /// The request of the lag turn at `tick` (one in `lag_every`): the next source with
    /// something to ask, if any.
    pub fn next_request(&self, tick: i64, lag_every: i64) -> Option<(usize, LagRequest)> {
        let count = self.sources.len();
        for step in 0..count {
            let index = (self.next + step) % count;
            let notes = &self.sources[index];
            match &notes.names {
                None => {
                    return Some((
                        index,
                        LagRequest::List {
                            vertex: notes.vertex.clone(),
                        },
                    ));
                }
                Some(names) if !names.is_empty() => {
                    return Some((
                        index,
                        LagRequest::Read {
                            vertex: notes.vertex.clone(),
                            names: names.clone(),
                        },
                    ));
                }
                Some(_) => {
                    if tick - notes.listed_tick >= LIST_AGAIN_AFTER_TURNS * lag_every {
                        return Some((
                            index,
                            LagRequest::List {
                                vertex: notes.vertex.clone(),
                            },
                        ));
                    }
                }
            }
        }
        None
    }

    /// Records which of the vertex's metrics tell its lag, as listed at `tick`.
    pub fn listed(&mut self, index: usize, names: &[String], tick: i64) {
        if let Some(notes) = self.sources.get_mut(index) {
            // A comma would split the engine's list of names.
            notes.names = Some(
                names
                    .iter()
                    .filter(|n| is_lag_metric(n) && !n.contains(','))
                    .cloned()
                    .collect(),
            );
            notes.listed_tick = tick;
        }
        self.next = index + 1;
    }

    /// Records a reading: the largest lag of any subtask, the pending records of all.
    pub fn read(&mut self, index: usize, values: &[AggregatedMetric], now: i64) {
        if let Some(notes) = self.sources.get_mut(index) {
            let of = |metric: &'static str| {
                values
                    .iter()
                    .filter(move |v| v.id == metric || v.id.ends_with(&format!(".{metric}")))
            };
            notes.lag_ms = of(EVENT_TIME_LAG)
                .filter_map(|v| v.max)
                .filter(|v| *v >= 0.0)
                .reduce(f64::max);
            notes.pending_records = of(PENDING_RECORDS)
                .filter_map(|v| v.sum)
                .filter(|v| *v >= 0.0)
                .reduce(|a, b| a + b);
            notes.read_at = Some(now);
        }
        self.next = index + 1;
    }

    /// The job's lag as of `now`: the largest over its sources and their pending records
    /// summed, from readings at most `max_age_ms` old.
    pub fn current(&self, now: i64, max_age_ms: i64) -> (Option<f64>, Option<f64>) {
        let fresh = || {
            self.sources
                .iter()
                .filter(move |s| s.read_at.is_some_and(|at| now - at <= max_age_ms))
        };
        (
            fresh().filter_map(|s| s.lag_ms).reduce(f64::max),
            fresh()
                .filter_map(|s| s.pending_records)
                .reduce(|a, b| a + b),
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn job(json: serde_json::Value) -> JobDetail {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The shape of a live Flink 2.3 `/jobs/{id}`: a datagen source feeding a writer.
    fn two_vertices(source_out: u64, sink_in: u64, bp: u64, busy: serde_json::Value) -> JobDetail {
        job(serde_json::json!({
            "jid": "j", "name": "n", "state": "RUNNING", "start-time": 1,
            "vertices": [
                { "id": "src", "name": "Source: a[63]", "parallelism": 2, "status": "RUNNING",
                  "metrics": { "read-records": 0, "write-records": source_out, "accumulated-backpressured-time": bp,
                               "accumulated-idle-time": 0, "accumulated-busy-time": busy } },
                { "id": "sink", "name": "b[64]: Writer", "parallelism": 1, "status": "RUNNING",
                  "metrics": { "read-records": sink_in, "write-records": 0, "accumulated-backpressured-time": 0,
                               "accumulated-idle-time": 8058, "accumulated-busy-time": 246.0 } }
            ],
            "plan": { "nodes": [
                { "id": "sink", "inputs": [ { "id": "src", "num": 0, "ship_strategy": "FORWARD" } ] },
                { "id": "src" }
            ] }
        }))
    }

    #[test]
    fn records_in_are_what_sources_emit_and_out_what_sinks_take() {
        let c = counters(&two_vertices(45, 40, 0, serde_json::json!("NaN")));
        assert_eq!((c.records_in, c.records_out), (45, 40));
        // The source's busy time is "NaN": the sink's 246 ms is the busiest.
        assert_eq!((c.busy_ms, c.busy_parallelism), (246, 1));
    }

    #[test]
    fn rates_are_differences_over_time_and_ratios_per_subtask() {
        let before = counters(&two_vertices(100, 100, 0, serde_json::json!(0.0)));
        let after = counters(&two_vertices(600, 400, 10_000, serde_json::json!(0.0)));
        let (r_in, r_out, bp, _) = rates(Some(&before), &after, 10_000);
        assert_eq!((r_in, r_out), (50.0, 30.0));
        // 10 s backpressured over 10 s on 2 subtasks: half the time.
        assert!((bp - 0.5).abs() < 1e-9, "{bp}");
        assert_eq!(rates(None, &after, 10_000), (0.0, 0.0, 0.0, 0.0));
        // A resubmitted job starts its counters over: not a negative rate.
        let restarted = counters(&two_vertices(50, 50, 0, serde_json::json!(0.0)));
        assert_eq!(rates(Some(&after), &restarted, 10_000).0, 5.0);
    }

    fn metric(id: &str, max: f64, sum: f64) -> AggregatedMetric {
        serde_json::from_value(serde_json::json!({ "id": id, "max": max, "sum": sum }))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn two_sources() -> SourceLag {
        SourceLag {
            job: "j".into(),
            sources: ["a", "b"]
                .iter()
                .map(|v| SourceNotes {
                    vertex: (*v).into(),
                    ..SourceNotes::default()
                })
                .collect(),
            next: 0,
        }
    }

    #[test]
    fn lag_turns_list_each_source_once_then_read_those_that_report_lag() {
        let mut notes = two_sources();
        let list = |v: &str| LagRequest::List { vertex: v.into() };
        // Lag turns every 4th sample.
        assert_eq!(notes.next_request(4, 4), Some((0, list("a"))));
        notes.listed(
            0,
            &[
                "Source__k[1].pendingRecords".into(),
                "Source__k[1].numRecordsOut".into(),
            ],
            4,
        );
        assert_eq!(notes.next_request(8, 4), Some((1, list("b"))));
        notes.listed(1, &["numRecordsIn".into()], 8);
        // b reports no lag: a is read on every turn...
        let read_a = LagRequest::Read {
            vertex: "a".into(),
            names: vec!["Source__k[1].pendingRecords".into()],
        };
        let mut tick = 8;
        for _ in 1..LIST_AGAIN_AFTER_TURNS {
            tick += 4;
            assert_eq!(notes.next_request(tick, 4), Some((0, read_a.clone())));
            notes.read(
                0,
                &[metric("Source__k[1].pendingRecords", 7.0, 12.0)],
                1_000,
            );
        }
        // ... until ten of the job's lag turns after b was listed.
        assert_eq!(notes.next_request(tick + 4, 4), Some((1, list("b"))));
    }

    #[test]
    fn a_job_without_lag_metrics_has_no_lag_turns() {
        let mut notes = two_sources();
        notes.listed(0, &[], 4);
        notes.listed(1, &[], 8);
        assert_eq!(notes.next_request(12, 4), None);
        assert_eq!(notes.current(0, 1_000), (None, None));
    }

    #[test]
    fn the_lag_is_the_largest_and_pending_records_the_sum_of_fresh_readings() {
        let mut notes = two_sources();
        notes.listed(
            0,
            &[
                "x.currentEmitEventTimeLag".into(),
                "x.pendingRecords".into(),
            ],
            4,
        );
        notes.listed(
            1,
            &[
                "y.currentEmitEventTimeLag".into(),
                "y.pendingRecords".into(),
            ],
            8,
        );
        notes.read(
            0,
            &[
                metric("x.currentEmitEventTimeLag", 500.0, 900.0),
                metric("x.pendingRecords", 3.0, 10.0),
            ],
            1_000,
        );
        notes.read(
            1,
            &[
                metric("y.currentEmitEventTimeLag", 200.0, 200.0),
                metric("y.pendingRecords", 5.0, 5.0),
            ],
            2_000,
        );
        assert_eq!(notes.current(2_000, 5_000), (Some(500.0), Some(15.0)));
        // a's reading is too old at 7 s: only b's counts.
        assert_eq!(notes.current(7_000, 5_000), (Some(200.0), Some(5.0)));
        assert_eq!(notes.current(60_000, 5_000), (None, None));
    }
}
