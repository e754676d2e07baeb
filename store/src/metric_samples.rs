//! Deployments' metric samples as the alert pass reads them. A deployment's samples
//! are read by its project through `deployment_history`.

use crate::alerts::AlertPass;
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
