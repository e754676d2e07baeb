//! A job's cumulative counters as one `GET /jobs/{id}` carries them, and the rates
//! between two samples.

use engine_client::JobDetail;

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
}
