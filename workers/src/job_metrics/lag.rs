//! The collector's notes on a job's source vertices, read on their turns instead of the
//! job (one request per job per interval either way): which lag metrics each reports,
//! and for a source vertex that is its own sink (the whole pipeline chained into one
//! task, e.g. Kafka -> filter -> Kafka), its operators' record counters. No record of
//! such a task crosses the network, so the vertex counters `GET /jobs/{id}` carries stay
//! at 0 for it: what its sources emit and its sinks take per second is read from the
//! operators' own meters (`numRecordsOutPerSecond`, `numRecordsInPerSecond`, which the
//! task computes over its last minute) instead. A meter rather than two readings of a
//! counter: the engine refreshes the metrics its REST API serves every few seconds, so a
//! counter's change between two close readings says little about the time between them.

use engine_client::{AggregatedMetric, JobDetail};
use serde::{Deserialize, Serialize};

/// A source's lag behind its input: event-time lag of what it emits, in ms.
const EVENT_TIME_LAG: &str = "currentEmitEventTimeLag";
/// Records the source knows of and has not read yet (e.g. Kafka's backlog).
const PENDING_RECORDS: &str = "pendingRecords";
/// A source that reported no lag metric is listed again after this many of its job's
/// lag turns: connectors register some lazily (e.g. once partitions are assigned).
const LIST_AGAIN_AFTER_TURNS: i64 = 10;
/// A job with a self-contained source vertex reads it at least every this many samples:
/// its throughput comes from nowhere else.
const ENCLOSED_TURN_EVERY: i64 = 2;

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
    /// The vertex is also a sink of the job: its records never cross the network.
    #[serde(default)]
    pub enclosed: bool,
    /// For an enclosed vertex, its source operators' `numRecordsOutPerSecond` and its
    /// sink operators' `numRecordsInPerSecond`, once listed.
    #[serde(default)]
    pub meter_names: Vec<String>,
    /// Their last reading, summed over the subtasks: records per second its sources
    /// emitted and its sinks took (read at `read_at`).
    #[serde(default)]
    pub emitted_per_sec: Option<f64>,
    #[serde(default)]
    pub taken_per_sec: Option<f64>,
}

/// The throughput of a job's enclosed vertices as their latest readings tell it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EnclosedThroughput {
    pub emitted_per_sec: f64,
    pub taken_per_sec: f64,
    /// False when an enclosed vertex was listed without a meter for its sources or its
    /// sinks: the engine does not report what it reads or writes.
    pub reported: bool,
}

/// What a lag turn asks the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum LagRequest {
    List { vertex: String },
    Read { vertex: String, names: Vec<String> },
}

/// Operator metrics are `<operator>.<metric>`, with the operator's name as the engine
/// writes it in metric scopes: `Source__orders[1]`, `Sink__out[3]`, or a sink's writer
/// `out[3]__Writer`.
fn emitted_by_sources(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(operator, metric)| {
        metric == "numRecordsOutPerSecond" && operator.starts_with("Source__")
    })
}

fn taken_by_sinks(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(operator, metric)| {
        metric == "numRecordsInPerSecond"
            && (operator.starts_with("Sink__") || operator.ends_with("__Writer"))
    })
}

fn is_lag_metric(name: &str) -> bool {
    [EVENT_TIME_LAG, PENDING_RECORDS]
        .iter()
        .any(|m| name == *m || name.ends_with(&format!(".{m}")))
}

impl SourceLag {
    pub fn for_job(job: &JobDetail) -> Self {
        let mut notes = Self {
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
        };
        notes.mark_enclosed(job);
        notes
    }

    /// Marks which sources are also sinks of `job` (its plan says); whether any mark
    /// changed.
    pub fn mark_enclosed(&mut self, job: &JobDetail) -> bool {
        let sinks: Vec<&str> = job.sinks().iter().map(|v| v.id.as_str()).collect();
        let mut changed = false;
        for notes in &mut self.sources {
            let enclosed = sinks.contains(&notes.vertex.as_str());
            changed |= notes.enclosed != enclosed;
            notes.enclosed = enclosed;
        }
        changed
    }

    /// Every how many samples a source is read instead of the job: `lag_every`, or every
    /// second one when an enclosed vertex's throughput depends on it (never every one:
    /// the job's turns store the samples). 0: never.
    pub fn turn_every(&self, lag_every: i64) -> i64 {
        if lag_every > 0 && self.sources.iter().any(|s| s.enclosed) {
            ENCLOSED_TURN_EVERY
        } else {
            lag_every
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
                Some(names) if !names.is_empty() || !notes.meter_names.is_empty() => {
                    return Some((
                        index,
                        LagRequest::Read {
                            vertex: notes.vertex.clone(),
                            names: names.iter().chain(&notes.meter_names).cloned().collect(),
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

    /// Records which of the vertex's metrics tell its lag (and, enclosed, its
    /// throughput), as listed at `tick`.
    pub fn listed(&mut self, index: usize, names: &[String], tick: i64) {
        if let Some(notes) = self.sources.get_mut(index) {
            // A comma would split the engine's list of names.
            let usable = || names.iter().filter(|n| !n.contains(','));
            notes.names = Some(usable().filter(|n| is_lag_metric(n)).cloned().collect());
            if notes.enclosed {
                notes.meter_names = usable()
                    .filter(|n| emitted_by_sources(n) || taken_by_sinks(n))
                    .cloned()
                    .collect();
            }
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
            let total = |meters: fn(&str) -> bool| {
                values
                    .iter()
                    .filter(|v| meters(&v.id))
                    .filter_map(|v| v.sum)
                    .filter(|v| *v >= 0.0)
                    .reduce(|a, b| a + b)
            };
            notes.emitted_per_sec = total(emitted_by_sources);
            notes.taken_per_sec = total(taken_by_sinks);
        }
        self.next = index + 1;
    }

    /// What the enclosed vertices emit and take per second, from their readings at
    /// most `max_age_ms` old.
    pub fn enclosed_throughput(&self, now: i64, max_age_ms: i64) -> EnclosedThroughput {
        let mut throughput = EnclosedThroughput {
            reported: true,
            ..EnclosedThroughput::default()
        };
        for notes in self.sources.iter().filter(|s| s.enclosed) {
            if notes.names.is_some() {
                let reports =
                    |meters: fn(&str) -> bool| notes.meter_names.iter().any(|n| meters(n));
                throughput.reported &= reports(emitted_by_sources) && reports(taken_by_sinks);
            }
            if notes.read_at.is_some_and(|at| now - at <= max_age_ms) {
                throughput.emitted_per_sec += notes.emitted_per_sec.unwrap_or(0.0);
                throughput.taken_per_sec += notes.taken_per_sec.unwrap_or(0.0);
            }
        }
        throughput
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

    /// A datagen -> filter -> print job as Flink 2.3 runs it: one task, no network.
    fn enclosed() -> SourceLag {
        SourceLag {
            job: "j".into(),
            sources: vec![SourceNotes {
                vertex: "chain".into(),
                enclosed: true,
                ..SourceNotes::default()
            }],
            next: 0,
        }
    }

    #[test]
    fn a_chained_jobs_throughput_is_read_from_its_source_and_sink_operators() {
        let mut notes = enclosed();
        // Its turns come every second sample, whatever the lag setting.
        assert_eq!(notes.turn_every(4), 2);
        assert_eq!(notes.turn_every(1), 2, "the job's own turns are left");
        assert_eq!(notes.turn_every(0), 0);
        assert_eq!(two_sources().turn_every(4), 4);
        notes.listed(
            0,
            &[
                "Source__a[1].numRecordsOutPerSecond".into(),
                "Source__a[1].numRecordsOut".into(),
                "Source__a[1].numRecordsInPerSecond".into(),
                "Calc[2].numRecordsOutPerSecond".into(),
                "Sink__b[3].numRecordsInPerSecond".into(),
                "Sink__b[3].numRecordsOutPerSecond".into(),
                "numRecordsOutPerSecond".into(),
            ],
            2,
        );
        let read = LagRequest::Read {
            vertex: "chain".into(),
            names: vec![
                "Source__a[1].numRecordsOutPerSecond".into(),
                "Sink__b[3].numRecordsInPerSecond".into(),
            ],
        };
        assert_eq!(notes.next_request(4, 2), Some((0, read)));
        // Not read yet: nothing known, nothing missing.
        let unread = notes.enclosed_throughput(10_000, 5_000);
        assert_eq!(
            (
                unread.emitted_per_sec,
                unread.taken_per_sec,
                unread.reported
            ),
            (0.0, 0.0, true)
        );
        notes.read(
            0,
            &[
                metric("Source__a[1].numRecordsOutPerSecond", 3.0, 5.0),
                metric("Sink__b[3].numRecordsInPerSecond", 2.0, 4.5),
            ],
            10_000,
        );
        let read = notes.enclosed_throughput(12_000, 5_000);
        assert_eq!((read.emitted_per_sec, read.taken_per_sec), (5.0, 4.5));
        // An old reading counts for nothing.
        assert_eq!(
            notes.enclosed_throughput(60_000, 5_000).emitted_per_sec,
            0.0
        );
    }

    #[test]
    fn a_writer_counts_as_a_sink_and_a_chain_without_meters_is_unreported() {
        let mut notes = enclosed();
        notes.listed(
            0,
            &[
                "Source__a[1].numRecordsOutPerSecond".into(),
                "b[3]__Writer.numRecordsInPerSecond".into(),
            ],
            2,
        );
        assert_eq!(notes.sources[0].meter_names.len(), 2);
        assert!(notes.enclosed_throughput(0, 1_000).reported);

        let mut silent = enclosed();
        silent.listed(
            0,
            &[
                "numRecordsInPerSecond".into(),
                "numRecordsOutPerSecond".into(),
            ],
            2,
        );
        assert!(!silent.enclosed_throughput(0, 1_000).reported);
        // A vertex with a network edge is counted by the job's vertex counters.
        let mut networked = two_sources();
        networked.listed(0, &["Source__a[1].numRecordsOutPerSecond".into()], 4);
        assert!(networked.sources[0].meter_names.is_empty());
    }

    #[test]
    fn notes_written_before_enclosed_vertices_were_told_apart_learn_it_from_the_plan() {
        // As stored before: no `enclosed` field.
        let mut notes: SourceLag = serde_json::from_str(
            r#"{"job":"j","sources":[{"vertex":"chain","names":[],"lag_ms":null,"pending_records":null,"read_at":null}],"next":0}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!notes.sources[0].enclosed);
        let job: JobDetail = serde_json::from_value(serde_json::json!({
            "jid": "j", "name": "n", "state": "RUNNING", "start-time": 1,
            "vertices": [{ "id": "chain", "name": "Source: a[1] -> Calc[2] -> Sink: b[3]", "parallelism": 1, "status": "RUNNING" }],
            "plan": { "nodes": [{ "id": "chain" }] }
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(notes.mark_enclosed(&job), "a change to save");
        assert!(notes.sources[0].enclosed);
        assert!(!notes.mark_enclosed(&job), "nothing more to save");
        assert!(SourceLag::for_job(&job).sources[0].enclosed);
    }
}
