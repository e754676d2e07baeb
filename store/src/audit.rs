//! Reading an account's audit log (it is written by the HTTP edge's audit layer, in the
//! transaction of the mutation it records).

use crate::db::{Db, Tx};
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

/// An audit row to write.
#[derive(Debug, Clone, Copy)]
pub struct NewAuditRow<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub project_id: Option<&'a str>,
    pub actor_user_id: &'a str,
    pub actor_credential: &'a str,
    pub action: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub outcome: &'a str,
    pub status: i64,
    pub request_id: &'a str,
    pub created_at: i64,
}

const INSERT: &str =
    "insert into audit_log (id, account_id, project_id, actor_user_id, actor_credential, action,
                                          method, path, outcome, status, request_id, created_at)
                      values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// What [`file_in`] returns: the result [`crate::db::WriteHook::file_in`] expects.
pub type Filed<'a> = futures_util::future::BoxFuture<'a, Result<(), sqlx::Error>>;

fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    row: &NewAuditRow<'q>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(row.id)
        .bind(row.account_id)
        .bind(row.project_id)
        .bind(row.actor_user_id)
        .bind(row.actor_credential)
        .bind(row.action)
        .bind(row.method)
        .bind(row.path)
        .bind(row.outcome)
        .bind(row.status)
        .bind(row.request_id)
        .bind(row.created_at)
}

/// Files `row` inside `tx` unless a row with its id is already there (a repeat does
/// nothing): for the write hook that files a request's row in its first write
/// transaction.
pub fn file_in<'a>(tx: &'a mut Tx, row: NewAuditRow<'a>) -> Filed<'a> {
    Box::pin(async move {
        let sql = format!("{INSERT} on conflict (id) do nothing");
        bind(sqlx::query(&sql), &row).execute(&mut **tx).await?;
        Ok(())
    })
}

/// Writes `row`, or only its outcome and status if a transaction already filed it.
pub async fn write(db: &Db, row: &NewAuditRow<'_>) -> Result<(), Error> {
    let sql = format!(
        "{INSERT} on conflict (id) do update set outcome = excluded.outcome, status = excluded.status"
    );
    bind(sqlx::query(&sql), row).execute(&db.pool).await?;
    Ok(())
}
