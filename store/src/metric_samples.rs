//! Deployments' metric samples as the job-metrics worker takes, compacts and prunes
//! them, and as the alert pass reads them; and the gauges Sluice's own metrics read
//! when scraped. A deployment's samples are read by its project through
//! `deployment_history`.

use crate::alerts::AlertPass;
use crate::all_tenants::{AllTenants, AllTenantsWrite};
use crate::Error;

/// A raw sample, as the alert pass judges it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertSampleRow {
    pub at: i64,
    pub records_in_per_sec: f64,
    pub backpressure_ratio: f64,
    pub source_lag_ms: Option<f64>,
    pub pending_records: Option<f64>,
}

impl AlertPass<'_> {
    /// The failed-checkpoint counters of the deployment's raw samples after `since`,
    /// oldest first.
    pub async fn failed_checkpoint_counts(
        &mut self,
        deployment_id: &str,
        since: i64,
    ) -> Result<Vec<i64>, Error> {
        let tx = self.0.tx();
        let counts: Vec<(i64,)> = sqlx::query_as(
            "select checkpoints_failed from deployment_metrics
              where deployment_id = $1 and resolution = 0 and at > $2 order by at",
        )
        .bind(deployment_id)
        .bind(since)
        .fetch_all(&mut **tx)
        .await?;
        Ok(counts.into_iter().map(|(n,)| n).collect())
    }

    /// The deployment's raw samples after `from` up to `to`, oldest first.
    pub async fn samples(
        &mut self,
        deployment_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<AlertSampleRow>, Error> {
        let tx = self.0.tx();
        Ok(sqlx::query_as(
            "select at, records_in_per_sec, backpressure_ratio, source_lag_ms, pending_records from deployment_metrics
              where deployment_id = $1 and resolution = 0 and at > $2 and at <= $3 order by at",
        )
        .bind(deployment_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut **tx)
        .await?)
    }

    /// The job's state in the deployment's latest raw sample after `from` up to `to`:
    /// `None` without such a sample, `Some(None)` when it carries no state.
    pub async fn latest_engine_state(
        &mut self,
        deployment_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Option<Option<String>>, Error> {
        let tx = self.0.tx();
        let latest: Option<(Option<String>,)> = sqlx::query_as(
            "select engine_state from deployment_metrics
              where deployment_id = $1 and resolution = 0 and at > $2 and at <= $3 order by at desc limit 1",
        )
        .bind(deployment_id)
        .bind(from)
        .bind(to)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(latest.map(|(s,)| s))
    }
}

/// A running (or transitioning) deployment due for a sample, with the checkpoint
/// counters the reconciler last stored and its source-lag notes (JSON).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueRow {
    pub id: String,
    pub engine_job_id: String,
    pub rest_url: String,
    pub checkpoints_completed: Option<i64>,
    pub checkpoints_failed: Option<i64>,
    pub source_lag: Option<String>,
}

/// The cumulative counters of a deployment's latest raw sample.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LatestCountersRow {
    pub at: i64,
    pub records_in: i64,
    pub records_out: i64,
    pub backpressured_ms: i64,
    pub busy_ms: i64,
}

/// A raw sample to store.
#[derive(Debug, Clone)]
pub struct NewSample<'a> {
    pub deployment_id: &'a str,
    pub at: i64,
    pub records_in: i64,
    pub records_out: i64,
    pub backpressured_ms: i64,
    pub busy_ms: i64,
    pub records_in_per_sec: f64,
    pub records_out_per_sec: f64,
    pub backpressure_ratio: f64,
    pub busy_ratio: f64,
    pub checkpoints_completed: i64,
    pub checkpoints_failed: i64,
    pub engine_state: &'a str,
    pub source_lag_ms: Option<f64>,
    pub pending_records: Option<f64>,
    pub throughput_reported: bool,
}

/// Every deployment's samples, for the job-metrics worker.
pub struct MetricSamples<'a>(&'a AllTenants);

impl AllTenants {
    pub fn metric_samples(&self) -> MetricSamples<'_> {
        MetricSamples(self)
    }
}

impl MetricSamples<'_> {
    /// Running or transitioning deployments with an engine job, not claimed for a
    /// sample after `due_before`.
    pub async fn due(&self, due_before: i64) -> Result<Vec<DueRow>, Error> {
        Ok(sqlx::query_as(
            "select d.id, d.engine_job_id, c.rest_url, d.checkpoints_completed, d.checkpoints_failed, d.source_lag
               from deployments d join engine_clusters c on c.id = d.cluster_id
              where d.status in ('RUNNING', 'TRANSITIONING') and d.engine_job_id is not null
                and (d.metrics_claimed_at is null or d.metrics_claimed_at <= $1)",
        )
        .bind(due_before)
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// Claims the deployment's sample at `now` in one conditional update (with several
    /// replicas, one takes it) and counts its turn; returns the turn, or `None` when it
    /// was claimed after `due_before` (by another replica).
    pub async fn claim(
        &self,
        deployment_id: &str,
        now: i64,
        due_before: i64,
    ) -> Result<Option<i64>, Error> {
        let claimed: Option<(i64,)> = sqlx::query_as(
            "update deployments set metrics_claimed_at = $1, metrics_ticks = metrics_ticks + 1
              where id = $2 and (metrics_claimed_at is null or metrics_claimed_at <= $3)
              returning metrics_ticks",
        )
        .bind(now)
        .bind(deployment_id)
        .bind(due_before)
        .fetch_optional(&self.0.db().pool)
        .await?;
        Ok(claimed.map(|(tick,)| tick))
    }

    /// The counters of the deployment's latest raw sample, if any.
    pub async fn latest_counters(
        &self,
        deployment_id: &str,
    ) -> Result<Option<LatestCountersRow>, Error> {
        Ok(sqlx::query_as(
            "select at, records_in, records_out, backpressured_ms, busy_ms from deployment_metrics
              where deployment_id = $1 and resolution = 0 order by at desc limit 1",
        )
        .bind(deployment_id)
        .fetch_optional(&self.0.db().pool)
        .await?)
    }

    /// Stores a raw sample.
    pub async fn insert(&self, sample: &NewSample<'_>) -> Result<(), Error> {
        sqlx::query(
            "insert into deployment_metrics (deployment_id, at, resolution, records_in, records_out, backpressured_ms, busy_ms,
                                             records_in_per_sec, records_out_per_sec, backpressure_ratio, busy_ratio,
                                             checkpoints_completed, checkpoints_failed, engine_state, source_lag_ms, pending_records,
                                             throughput_reported)
             values ($1, $2, 0, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(sample.deployment_id)
        .bind(sample.at)
        .bind(sample.records_in)
        .bind(sample.records_out)
        .bind(sample.backpressured_ms)
        .bind(sample.busy_ms)
        .bind(sample.records_in_per_sec)
        .bind(sample.records_out_per_sec)
        .bind(sample.backpressure_ratio)
        .bind(sample.busy_ratio)
        .bind(sample.checkpoints_completed)
        .bind(sample.checkpoints_failed)
        .bind(sample.engine_state)
        .bind(sample.source_lag_ms)
        .bind(sample.pending_records)
        .bind(i64::from(sample.throughput_reported))
        .execute(&self.0.db().pool)
        .await?;
        Ok(())
    }

    /// Keeps the deployment's source-lag notes (JSON).
    pub async fn save_lag_notes(&self, deployment_id: &str, notes: &str) -> Result<(), Error> {
        sqlx::query("update deployments set source_lag = $1 where id = $2")
            .bind(notes)
            .bind(deployment_id)
            .execute(&self.0.db().pool)
            .await?;
        Ok(())
    }

    /// Engine clusters by id, each with whether it answered its last health check
    /// (1), for Sluice's own metrics.
    pub async fn cluster_health(&self) -> Result<Vec<(String, Option<i64>)>, Error> {
        Ok(
            sqlx::query_as("select id, healthy from engine_clusters order by id")
                .fetch_all(&self.0.db().pool)
                .await?,
        )
    }

    /// Engine clusters by id, each with its orphan jobs not cancelled yet, for Sluice's
    /// own metrics.
    pub async fn orphan_jobs_by_cluster(&self) -> Result<Vec<(String, i64)>, Error> {
        Ok(sqlx::query_as(
            "select c.id, (select count(*) from engine_orphans o where o.cluster_id = c.id and o.cancelled_at is null)
               from engine_clusters c order by c.id",
        )
        .fetch_all(&self.0.db().pool)
        .await?)
    }
}

/// Every deployment's samples inside a write transaction: compaction.
pub struct MetricSampleWrites<'a>(&'a mut AllTenantsWrite);

impl AllTenantsWrite {
    pub fn metric_samples(&mut self) -> MetricSampleWrites<'_> {
        MetricSampleWrites(self)
    }
}

impl MetricSampleWrites<'_> {
    /// Averages the raw samples before `fold_before` into rows of `resolution`
    /// seconds (buckets of `bucket_ms`), each bucket written once (its key is unique).
    pub async fn fold_raw(
        &mut self,
        bucket_ms: i64,
        resolution: i64,
        fold_before: i64,
    ) -> Result<(), Error> {
        let tx = self.0.tx();
        sqlx::query(
            "insert into deployment_metrics (deployment_id, at, resolution, records_in, records_out, backpressured_ms, busy_ms,
                                             records_in_per_sec, records_out_per_sec, backpressure_ratio, busy_ratio,
                                             checkpoints_completed, checkpoints_failed, source_lag_ms, pending_records,
                                             throughput_reported)
             select deployment_id, (at / $1) * $1, $2, max(records_in), max(records_out), max(backpressured_ms), max(busy_ms),
                    avg(records_in_per_sec), avg(records_out_per_sec), avg(backpressure_ratio), avg(busy_ratio),
                    max(checkpoints_completed), max(checkpoints_failed), avg(source_lag_ms), avg(pending_records),
                    min(throughput_reported)
               from deployment_metrics m
              where resolution = 0 and at < $3
                and not exists (select 1 from deployment_metrics c
                                 where c.deployment_id = m.deployment_id and c.resolution = $2 and c.at = (m.at / $1) * $1)
              group by deployment_id, (at / $1) * $1",
        )
        .bind(bucket_ms)
        .bind(resolution)
        .bind(fold_before)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Drops the raw samples before `before`.
    pub async fn drop_raw_before(&mut self, before: i64) -> Result<(), Error> {
        let tx = self.0.tx();
        sqlx::query("delete from deployment_metrics where resolution = 0 and at < $1")
            .bind(before)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Drops every sample (of any resolution) before `before`.
    pub async fn drop_before(&mut self, before: i64) -> Result<(), Error> {
        let tx = self.0.tx();
        sqlx::query("delete from deployment_metrics where at < $1")
            .bind(before)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
