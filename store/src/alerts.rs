//! A project's alerts: one row per rule and deployment each time the rule's condition
//! holds, firing until it ends, then resolved.

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
