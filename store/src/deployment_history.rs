//! What a deployment went through, as the project may read it: its events and its
//! metric samples. Each query reaches the rows through the deployment, scoped to the
//! project and its account. The reconciler and the platform's workers record events
//! of any tenant's deployment through [`AllTenants`].

use crate::all_tenants::AllTenants;
use crate::db::{new_id, now_ms};
use crate::scope::ProjectScope;
use crate::{Error, Page};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub kind: String,
    pub message: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MetricsRow {
    pub at: i64,
    /// 0 for a raw sample, else the seconds a downsampled row averages.
    pub resolution: i64,
    pub records_in_per_sec: f64,
    pub records_out_per_sec: f64,
    pub backpressure_ratio: f64,
    pub busy_ratio: f64,
    pub checkpoints_completed: i64,
    pub checkpoints_failed: i64,
    pub engine_state: Option<String>,
    pub source_lag_ms: Option<f64>,
    pub pending_records: Option<f64>,
    /// 1, or 0 when a task chained from source to sink reported no record counts.
    pub throughput_reported: i64,
}

/// The history of the project's deployments.
pub struct DeploymentHistory<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn deployment_history(&self) -> DeploymentHistory<'_> {
        DeploymentHistory(self)
    }
}

impl DeploymentHistory<'_> {
    /// Records an event of one of the project's deployments (none if the deployment
    /// is not the project's).
    pub async fn record(
        &self,
        deployment_id: &str,
        kind: &str,
        message: &str,
    ) -> Result<(), Error> {
        let scope = self.0;
        sqlx::query(
            "insert into deployment_events (id, deployment_id, kind, message, created_at)
             select $1, d.id, $3, $4, $5 from deployments d join projects p on p.id = d.project_id
              where d.id = $2 and d.project_id = $6 and p.account_id = $7",
        )
        .bind(new_id())
        .bind(deployment_id)
        .bind(kind)
        .bind(message)
        .bind(now_ms())
        .bind(scope.project_id())
        .bind(scope.account_id())
        .execute(&scope.db().pool)
        .await?;
        Ok(())
    }

    /// One page of a deployment's events, oldest first.
    pub async fn events(&self, deployment_id: &str, page: &Page) -> Result<Vec<EventRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select e.id, e.kind, e.message, e.created_at from deployment_events e
               join deployments d on d.id = e.deployment_id join projects p on p.id = d.project_id
              where e.deployment_id = $1 and d.project_id = $2 and p.account_id = $3 and e.id > $4
              order by e.id limit $5",
        )
        .bind(deployment_id)
        .bind(scope.project_id())
        .bind(scope.account_id())
        .bind(&page.after)
        .bind(page.fetch())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// A deployment's samples in `[from, to)` (Unix ms), in time order, at most `limit`.
    pub async fn metrics(
        &self,
        deployment_id: &str,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<MetricsRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select m.at, m.resolution, m.records_in_per_sec, m.records_out_per_sec, m.backpressure_ratio, m.busy_ratio,
                    m.checkpoints_completed, m.checkpoints_failed, m.engine_state, m.source_lag_ms, m.pending_records,
                    m.throughput_reported
               from deployment_metrics m
               join deployments d on d.id = m.deployment_id join projects p on p.id = d.project_id
              where m.deployment_id = $1 and d.project_id = $2 and p.account_id = $3 and m.at >= $4 and m.at < $5
              order by m.at, m.resolution limit $6",
        )
        .bind(deployment_id)
        .bind(scope.project_id())
        .bind(scope.account_id())
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(&scope.db().pool)
        .await?)
    }
}

/// Every tenant's deployment events, recorded by the reconciler and the platform's workers.
pub struct DeploymentEvents<'a>(&'a AllTenants);

impl AllTenants {
    pub fn deployment_events(&self) -> DeploymentEvents<'_> {
        DeploymentEvents(self)
    }
}

impl DeploymentEvents<'_> {
    pub async fn record(
        &self,
        deployment_id: &str,
        kind: &str,
        message: &str,
    ) -> Result<(), Error> {
        sqlx::query("insert into deployment_events (id, deployment_id, kind, message, created_at) values ($1, $2, $3, $4, $5)")
            .bind(new_id())
            .bind(deployment_id)
            .bind(kind)
            .bind(message)
            .bind(now_ms())
            .execute(&self.0.db().pool)
            .await?;
        Ok(())
    }
}
