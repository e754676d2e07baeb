//! Reading an account's audit log (it is written by the HTTP edge's audit layer, in the
//! transaction of the mutation it records).

use crate::scope::AccountScope;
use crate::{Error, Page};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: String,
    pub project_id: Option<String>,
    pub actor_user_id: String,
    pub actor_credential: String,
    pub action: String,
    pub method: String,
    pub path: String,
    pub outcome: String,
    pub status: i64,
    pub request_id: String,
    pub created_at: i64,
}

/// Which entries to list; an empty text matches every value.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub project_id: String,
    pub actor_user_id: String,
    pub action: String,
    pub outcome: String,
    /// Entries at or after this instant (Unix ms).
    pub from: i64,
    /// Entries before this instant (Unix ms).
    pub to: i64,
}

/// The account's audit log.
pub struct Audit<'a>(&'a AccountScope);

impl AccountScope {
    pub fn audit(&self) -> Audit<'_> {
        Audit(self)
    }
}

impl Audit<'_> {
    /// One page newest first (`page.fetch()` rows: the extra one tells that more exist).
    pub async fn list(&self, filter: &AuditFilter, page: &Page) -> Result<Vec<AuditRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select id, project_id, actor_user_id, actor_credential, action, method, path, outcome, status, request_id, created_at
               from audit_log
              where account_id = $1 and id < $2
                and ($3 = '' or project_id = $3) and ($4 = '' or actor_user_id = $4)
                and ($5 = '' or action = $5) and ($6 = '' or outcome = $6)
                and created_at >= $8 and created_at < $9
              order by id desc limit $7",
        )
        .bind(scope.account_id())
        .bind(page.before())
        .bind(&filter.project_id)
        .bind(&filter.actor_user_id)
        .bind(&filter.action)
        .bind(&filter.outcome)
        .bind(page.fetch())
        .bind(filter.from)
        .bind(filter.to)
        .fetch_all(&scope.db().pool)
        .await?)
    }
}
