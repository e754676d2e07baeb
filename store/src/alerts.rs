//! A project's alerts: one row per rule and deployment each time the rule's condition
//! holds, firing until it ends, then resolved. Read through a [`ProjectScope`]; written
//! by the alert pass ([`AlertPass`]), which evaluates one project at a time in a write
//! transaction that first locks the project's row.

use crate::all_tenants::AllTenantsWrite;
use crate::db::new_id;
use crate::deployments::{DesiredState, Status};
use crate::scope::ProjectScope;
use crate::{Error, Page};

crate::stored_enum! {
    /// An alert fires while its condition holds and is resolved once it no longer does.
    pub enum AlertState {
        Firing = "firing",
        Resolved = "resolved",
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertRow {
    pub id: String,
    pub rule_id: String,
    pub deployment_id: String,
    pub state: AlertState,
    pub summary: String,
    pub started_at: i64,
    pub resolved_at: Option<i64>,
    /// When people were last told; absent while it was silenced throughout.
    pub notified_at: Option<i64>,
}

/// The project's alert history, as the caller may read it.
pub struct Alerts<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn alerts(&self) -> Alerts<'_> {
        Alerts(self)
    }
}

impl Alerts<'_> {
    /// One page newest first (`page.fetch()` rows: the extra one tells that more
    /// exist), only those in `state` if given.
    pub async fn list(
        &self,
        page: &Page,
        state: Option<AlertState>,
    ) -> Result<Vec<AlertRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select a.id, a.rule_id, a.deployment_id, a.state, a.summary, a.started_at, a.resolved_at, a.notified_at
               from alerts a join projects p on p.id = a.project_id
              where p.account_id = $1 and a.project_id = $2 and a.id < $3 and ($4 = '' or a.state = $4)
              order by a.id desc limit $5",
        )
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(page.before())
        .bind(state.map_or("", AlertState::as_str))
        .bind(page.fetch())
        .fetch_all(&scope.db().pool)
        .await?)
    }
}

/// The alert pass over one project, inside a write transaction: the project locked,
/// its rules, deployments and what their conditions read, and its alerts written.
/// The queries on other tables live beside them (rules, silences, contact groups,
/// metric samples).
pub struct AlertPass<'a>(pub(crate) &'a mut AllTenantsWrite);

impl AllTenantsWrite {
    pub fn alert_pass(&mut self) -> AlertPass<'_> {
        AlertPass(self)
    }
}

/// A deployment as the reconciler last saw it, for the alert pass.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WatchedDeploymentRow {
    pub id: String,
    pub name: String,
    pub desired_state: DesiredState,
    pub status: Status,
    pub last_error: Option<String>,
    pub updated_at: i64,
    pub last_checkpoint_at: Option<i64>,
}

/// The alert a rule has firing on a deployment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FiringRow {
    pub id: String,
    pub started_at: i64,
    pub notified_at: Option<i64>,
    /// 1 once people were told it fires, 0 while it was silenced throughout.
    pub announced: i64,
}

impl AlertPass<'_> {
    /// Locks the project's row (one evaluator per project at a time, across replicas)
    /// and returns its name; `None` once the project is gone.
    pub async fn lock_project(&mut self, project_id: &str) -> Result<Option<String>, Error> {
        let (tx, db) = self.0.parts();
        let project: Option<(String,)> = sqlx::query_as(&format!(
            "select name from projects where id = $1{}",
            db.for_update()
        ))
        .bind(project_id)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(project.map(|(name,)| name))
    }

    /// Every deployment of the project, in id order.
    pub async fn deployments(
        &mut self,
        project_id: &str,
    ) -> Result<Vec<WatchedDeploymentRow>, Error> {
        let tx = self.0.tx();
        Ok(sqlx::query_as(
            "select id, name, desired_state, status, last_error, updated_at, last_checkpoint_at from deployments
              where project_id = $1 order by id",
        )
        .bind(project_id)
        .fetch_all(&mut **tx)
        .await?)
    }

    /// The alert `rule_id` has firing on `deployment_id`, if any.
    pub async fn firing(
        &mut self,
        rule_id: &str,
        deployment_id: &str,
    ) -> Result<Option<FiringRow>, Error> {
        let tx = self.0.tx();
        Ok(sqlx::query_as(
            "select id, started_at, notified_at, announced from alerts
              where rule_id = $1 and deployment_id = $2 and state = $3",
        )
        .bind(rule_id)
        .bind(deployment_id)
        .bind(AlertState::Firing)
        .fetch_optional(&mut **tx)
        .await?)
    }

    /// A new firing alert started at `now`; `notified_at` is `now` and it counts as
    /// announced unless it is silenced.
    pub async fn open(
        &mut self,
        project_id: &str,
        rule_id: &str,
        deployment_id: &str,
        summary: &str,
        now: i64,
        silenced: bool,
    ) -> Result<(), Error> {
        let tx = self.0.tx();
        sqlx::query(
            "insert into alerts (id, project_id, rule_id, deployment_id, state, summary, started_at, notified_at, announced)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id())
        .bind(project_id)
        .bind(rule_id)
        .bind(deployment_id)
        .bind(AlertState::Firing)
        .bind(summary)
        .bind(now)
        .bind((!silenced).then_some(now))
        .bind(i64::from(!silenced))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// People were told about a firing alert at `now`, with its current summary.
    pub async fn notified(&mut self, alert_id: &str, now: i64, summary: &str) -> Result<(), Error> {
        let tx = self.0.tx();
        sqlx::query(
            "update alerts set notified_at = $1, announced = 1, summary = $2 where id = $3",
        )
        .bind(now)
        .bind(summary)
        .bind(alert_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// A firing alert's condition ended at `now`.
    pub async fn resolve(&mut self, alert_id: &str, now: i64) -> Result<(), Error> {
        let tx = self.0.tx();
        sqlx::query("update alerts set state = $1, resolved_at = $2 where id = $3")
            .bind(AlertState::Resolved)
            .bind(now)
            .bind(alert_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// How many times the deployment was restarted (by Sluice or by the engine) after
    /// `since`.
    pub async fn restarts_since(&mut self, deployment_id: &str, since: i64) -> Result<i64, Error> {
        let tx = self.0.tx();
        let (restarts,): (i64,) = sqlx::query_as(
            "select count(*) from deployment_events
              where deployment_id = $1 and kind in ('restart', 'engine_restart') and created_at > $2",
        )
        .bind(deployment_id)
        .bind(since)
        .fetch_one(&mut **tx)
        .await?;
        Ok(restarts)
    }

    /// An earlier engine job of the deployment that still runs, reported and not yet
    /// cancelled (the first by id).
    pub async fn reported_orphan(&mut self, deployment_id: &str) -> Result<Option<String>, Error> {
        let tx = self.0.tx();
        let orphan: Option<(String,)> = sqlx::query_as(
            "select engine_job_id from engine_orphans
              where deployment_id = $1 and reported_at is not null and cancelled_at is null
              order by engine_job_id limit 1",
        )
        .bind(deployment_id)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(orphan.map(|(job,)| job))
    }

    /// When the reconciler last recorded a status change (or start) of the deployment.
    pub async fn last_status_change(&mut self, deployment_id: &str) -> Result<Option<i64>, Error> {
        let tx = self.0.tx();
        let (since,): (Option<i64>,) = sqlx::query_as(
            "select max(created_at) from deployment_events where deployment_id = $1 and kind in ('status', 'start')",
        )
        .bind(deployment_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(since)
    }
}
