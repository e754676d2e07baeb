//! Sluice's own metrics in the Prometheus text format, served at `/metrics` by the
//! gateway (or on `metrics.listen` when set, and then only there): requests by route, method and
//! status with latency histograms, background loop durations, outbox depth and
//! delivery failures by channel, database pool use, and engine reachability per
//! cluster. Counters and histograms are recorded as things happen; gauges that the
//! database knows (outbox depth, cluster health) are read when scraped.

use std::time::Duration;

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::Platform;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    loop_seconds: HistogramVec,
    loop_last_success: GaugeVec,
    delivery_failures: IntCounterVec,
    outbox_depth: IntGaugeVec,
    pool: IntGaugeVec,
    cluster_up: IntGaugeVec,
    orphan_jobs: IntGaugeVec,
}

impl Metrics {
    /// Counts one answered request under its route template and method, with its
    /// status and how long it took.
    pub fn request(&self, route: &str, method: &str, status: &str, took: Duration) {
        self.request_seconds
            .with_label_values(&[route, method])
            .observe(took.as_secs_f64());
        self.requests
            .with_label_values(&[route, method, status])
            .inc();
    }

    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("sluice".to_owned()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route template, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let request_seconds = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route template",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["route", "method"],
        )?;
        let loop_seconds = HistogramVec::new(
            HistogramOpts::new(
                "worker_pass_duration_seconds",
                "How long one pass of a background worker took (reconcile, billing, outbox, alerts)",
            )
            .buckets(vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0]),
            &["worker"],
        )?;
        let loop_last_success = GaugeVec::new(
            Opts::new(
                "worker_last_success_timestamp_seconds",
                "When a background worker last finished a pass without error (its lag is now minus this)",
            ),
            &["worker"],
        )?;
        let delivery_failures = IntCounterVec::new(
            Opts::new(
                "outbox_delivery_failures_total",
                "Failed delivery attempts by channel and kind",
            ),
            &["channel", "kind"],
        )?;
        let outbox_depth = IntGaugeVec::new(
            Opts::new(
                "outbox_messages",
                "Outbox messages by channel and status (pending, failed)",
            ),
            &["channel", "status"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database pool connections by state (idle, in_use)",
            ),
            &["state"],
        )?;
        let cluster_up = IntGaugeVec::new(
            Opts::new(
                "engine_cluster_up",
                "1 if the engine cluster answered its last health check",
            ),
            // Ids only: cluster names are the accounts' own words.
            &["cluster"],
        )?;
        let orphan_jobs = IntGaugeVec::new(
            Opts::new(
                "engine_orphan_jobs",
                "Jobs running on the cluster under Sluice's job ids for no deployment (cancelled after engine.orphan_grace_ms)",
            ),
            &["cluster"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(orphan_jobs.clone()))?;
        registry.register(Box::new(request_seconds.clone()))?;
        registry.register(Box::new(loop_seconds.clone()))?;
        registry.register(Box::new(loop_last_success.clone()))?;
        registry.register(Box::new(delivery_failures.clone()))?;
        registry.register(Box::new(outbox_depth.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(cluster_up.clone()))?;
        Ok(Self {
            registry,
            requests,
            request_seconds,
            loop_seconds,
            loop_last_success,
            delivery_failures,
            outbox_depth,
            pool,
            cluster_up,
            orphan_jobs,
        })
    }

    /// Records one pass of a background worker.
    pub fn worker_pass(&self, worker: &str, took: Duration, ok: bool) {
        self.loop_seconds
            .with_label_values(&[worker])
            .observe(took.as_secs_f64());
        if ok {
            let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
            self.loop_last_success.with_label_values(&[worker]).set(now);
        }
    }

    pub fn delivery_failed(&self, channel: &str, permanent: bool) {
        let kind = if permanent { "permanent" } else { "transient" };
        self.delivery_failures
            .with_label_values(&[channel, kind])
            .inc();
    }

    /// The text exposition, with the gauges read from the database first.
    pub async fn render(&self, state: &Platform) -> Result<String, store::Error> {
        let all = state.all_tenants();
        let depth = all.outbox().depth().await?;
        self.outbox_depth.reset();
        for channel in ["email", "sms", "dingtalk", "webhook"] {
            for status in ["pending", "failed"] {
                self.outbox_depth
                    .with_label_values(&[channel, status])
                    .set(0);
            }
        }
        for (channel, status, n) in depth {
            self.outbox_depth
                .with_label_values(&[channel.as_str(), status.as_str()])
                .set(n);
        }
        let clusters = all.metric_samples().cluster_health().await?;
        self.cluster_up.reset();
        for (id, healthy) in clusters {
            self.cluster_up
                .with_label_values(&[id.as_str()])
                .set(i64::from(healthy == Some(1)));
        }
        let orphans = all.metric_samples().orphan_jobs_by_cluster().await?;
        self.orphan_jobs.reset();
        for (id, n) in orphans {
            self.orphan_jobs.with_label_values(&[id.as_str()]).set(n);
        }
        let (size, idle) = state.db.connections();
        let size = i64::from(size);
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        self.pool.with_label_values(&["idle"]).set(idle);
        self.pool
            .with_label_values(&["in_use"])
            .set((size - idle).max(0));
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .map_err(store::Error::internal)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}
