//! A subscription term's lifecycle: the terms the worker looks at (reminders, automatic
//! renewal, expiry, release), the daily attempts at an automatic renewal (recorded with
//! their outcome, so a rerun or a second replica renews a term once), the release of a
//! term past its grace, and the account's choice to renew automatically.
//!
//! The orders a renewal places go through [`crate::orders::OrderDesk`], as a manual
//! renewal's do: [`AllTenantsWrite::orders_of`] opens it for one account.

use crate::all_tenants::{AllTenants, AllTenantsWrite};
use crate::orders::OrderDesk;
use crate::scope::{AccountScope, AccountWrite};
use crate::Error;

/// A subscription as its term's lifecycle sees it (instants in ms).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TermRow {
    pub project_id: String,
    pub project_name: String,
    pub account_id: String,
    pub cu_milli: i64,
    pub term_start: i64,
    pub term_end: i64,
    /// 1: renewed automatically before it ends.
    pub auto_renew: i64,
    /// Months each automatic renewal buys.
    pub renewal_months: i64,
}

/// The account's choice for one subscription.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AutoRenewRow {
    pub project_id: String,
    pub auto_renew: i64,
    pub renewal_months: i64,
    pub term_end: i64,
}

/// What recording an attempt at an automatic renewal found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Recorded now: this call makes the attempt.
    New,
    /// Made before (by this replica or another).
    Made,
}

/// Every account's subscription terms, for the lifecycle worker.
pub struct AllTerms<'a>(&'a AllTenants);

impl AllTenants {
    pub fn terms(&self) -> AllTerms<'_> {
        AllTerms(self)
    }
}

impl AllTerms<'_> {
    /// Subscriptions whose term ends by `until_ms` (the worker passes its instant plus
    /// the longest lead it acts on), soonest first.
    pub async fn ending_by(&self, until_ms: i64) -> Result<Vec<TermRow>, Error> {
        Ok(sqlx::query_as(
            "select s.project_id, p.name as project_name, s.account_id, s.cu_milli, s.term_start, s.term_end,
                    s.auto_renew, s.renewal_months
               from subscriptions s join projects p on p.id = s.project_id
              where s.term_end <= $1 order by s.term_end, s.project_id",
        )
        .bind(until_ms)
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// Whether the daily attempt `attempt` at renewing the term ending at `term_end` was
    /// made, or the term was renewed already (a cheap look before locking the account).
    pub async fn attempted(
        &self,
        project_id: &str,
        term_end: i64,
        attempt: i64,
    ) -> Result<bool, Error> {
        let found: Option<(i64,)> = sqlx::query_as(
            "select attempt from subscription_renewals where project_id = $1 and term_end = $2
                and (attempt = $3 or order_id is not null)",
        )
        .bind(project_id)
        .bind(term_end)
        .bind(attempt)
        .fetch_optional(&self.0.db().pool)
        .await?;
        Ok(found.is_some())
    }
}

/// A term's lifecycle inside a write transaction.
pub struct TermWrites<'a>(&'a mut AllTenantsWrite);

impl AllTenantsWrite {
    pub fn terms(&mut self) -> TermWrites<'_> {
        TermWrites(self)
    }

    /// The orders of `account_id` in this transaction, as a manual order places them;
    /// the caller holds the account's lock ([`AllTenantsWrite::lock_ledger`]).
    pub fn orders_of<'a>(&'a mut self, account_id: &'a str) -> OrderDesk<'a> {
        OrderDesk::over(self.tx(), account_id)
    }
}

impl TermWrites<'_> {
    /// The term's end now, read under the caller's lock (`None`: no subscription any
    /// more). A renewal planned from an older read stops when it moved.
    pub async fn term_end(&mut self, project_id: &str) -> Result<Option<i64>, Error> {
        let row: Option<(i64,)> =
            sqlx::query_as("select term_end from subscriptions where project_id = $1")
                .bind(project_id)
                .fetch_optional(&mut **self.0.tx())
                .await?;
        Ok(row.map(|(end,)| end))
    }

    /// Records the daily attempt `attempt` at renewing the term ending at `term_end`,
    /// with the renewal order if it renewed. [`Attempt::Made`] when it was recorded
    /// before, or another replica recorded it (or a renewal of this term) first.
    pub async fn record_attempt(
        &mut self,
        project_id: &str,
        term_end: i64,
        attempt: i64,
        order_id: Option<&str>,
        now_ms: i64,
    ) -> Result<Attempt, Error> {
        let inserted = sqlx::query(
            "insert into subscription_renewals (project_id, term_end, attempt, order_id, created_at)
             select $1, $2, $3, $4, $5
              where not exists (select 1 from subscription_renewals where project_id = $1 and term_end = $2
                                  and (attempt = $3 or order_id is not null))",
        )
        .bind(project_id)
        .bind(term_end)
        .bind(attempt)
        .bind(order_id)
        .bind(now_ms)
        .execute(&mut **self.0.tx())
        .await;
        match inserted {
            Ok(r) if r.rows_affected() > 0 => Ok(Attempt::New),
            Ok(_) => Ok(Attempt::Made),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(Attempt::Made),
            Err(e) => Err(e.into()),
        }
    }

    /// Releases the subscription whose term ended at `term_end` (unless a renewal moved
    /// it): the subscription goes and the project is pay-as-you-go again; its
    /// deployments, jobs, versions and savepoints stay. Whether this call released it.
    pub async fn release(&mut self, project_id: &str, term_end: i64) -> Result<bool, Error> {
        let tx = self.0.tx();
        let gone = sqlx::query("delete from subscriptions where project_id = $1 and term_end = $2")
            .bind(project_id)
            .bind(term_end)
            .execute(&mut **tx)
            .await?;
        if gone.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("update projects set billing_model = 'payg' where id = $1")
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        Ok(true)
    }
}

/// The account's subscriptions' settings inside its write.
pub struct SubscriptionSettings<'a>(&'a mut AccountWrite);

impl AccountWrite {
    pub fn subscription_settings(&mut self) -> SubscriptionSettings<'_> {
        SubscriptionSettings(self)
    }
}

impl SubscriptionSettings<'_> {
    /// Sets whether the project's subscription renews itself, and for how many months;
    /// not found (on `project_id`) when the account has no such project, a conflict
    /// (`not_subscribed`) when it is pay-as-you-go.
    pub async fn set_auto_renew(
        &mut self,
        project_id: &str,
        auto_renew: bool,
        renewal_months: i64,
        now_ms: i64,
    ) -> Result<AutoRenewRow, Error> {
        let (tx, account_id) = self.0.parts();
        let updated = sqlx::query(
            "update subscriptions set auto_renew = $1, renewal_months = $2, updated_at = $3
              where project_id = $4 and account_id = $5",
        )
        .bind(i64::from(auto_renew))
        .bind(renewal_months)
        .bind(now_ms)
        .bind(project_id)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(no_subscription(tx, account_id, project_id).await);
        }
        Ok(sqlx::query_as(
            "select project_id, auto_renew, renewal_months, term_end from subscriptions where project_id = $1",
        )
        .bind(project_id)
        .fetch_one(&mut **tx)
        .await?)
    }
}

impl AccountScope {
    /// The project's subscription's automatic renewal; not found when the account has
    /// no such project, a conflict (`not_subscribed`) when it is pay-as-you-go.
    pub async fn auto_renew(&self, project_id: &str) -> Result<AutoRenewRow, Error> {
        let row: Option<AutoRenewRow> = sqlx::query_as(
            "select project_id, auto_renew, renewal_months, term_end from subscriptions
              where project_id = $1 and account_id = $2",
        )
        .bind(project_id)
        .bind(self.account_id())
        .fetch_optional(&self.db().pool)
        .await?;
        match row {
            Some(row) => Ok(row),
            None => {
                let mut conn = self.db().pool.acquire().await?;
                Err(no_subscription(&mut conn, self.account_id(), project_id).await)
            }
        }
    }
}

/// Why the account has no subscription for `project_id`: no such project of the
/// account (not found), or a pay-as-you-go project (a conflict, as orders say it).
async fn no_subscription(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    project_id: &str,
) -> Error {
    let found: Result<Option<(String,)>, sqlx::Error> =
        sqlx::query_as("select id from projects where id = $1 and account_id = $2")
            .bind(project_id)
            .bind(account_id)
            .fetch_optional(conn)
            .await;
    match found {
        Ok(Some(_)) => Error::conflict(
            "not_subscribed",
            "the project is pay-as-you-go; place a new_purchase first",
        ),
        Ok(None) => Error::not_found("project").with_field("project_id"),
        Err(e) => e.into(),
    }
}
