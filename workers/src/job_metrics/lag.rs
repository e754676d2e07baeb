//! Source lag: which lag metrics a source vertex reports, and whose turn it is to be
//! read instead of its job (one request per job per interval either way).

use engine_client::{AggregatedMetric, JobDetail};
use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;
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
