//! Bills and their lines: pay-as-you-go usage priced per period.
//!
//! Each settled hour of a pay-as-you-go project is written once into `payg_hours`;
//! each month of an account is billed once into `bills` with its `bill_lines`; a bill
//! never changes afterwards (credit notes correct it). Reads through the
//! [`AccountScope`]; the billing worker's queries on [`AllTenants`]; a bill is issued,
//! paid and credited through the account's [`Ledger`] (its row locked).

use crate::all_tenants::AllTenants;
use crate::balance::Ledger;
use crate::db::{new_id, now_ms};
use crate::scope::AccountScope;
use crate::Error;

/// How many bills a listing shows, newest first.
pub const BILLS_SHOWN: i64 = 120;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaygHourRow {
    pub project_id: String,
    pub window_start: i64,
    pub window_end: i64,
    /// Milli-CU x milliseconds, exact decimal text.
    pub cu_millis: String,
    pub compute_minor: i64,
    pub management_minor: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BillRow {
    pub id: String,
    pub period_start: i64,
    pub period_end: i64,
    pub billing_time_zone: String,
    pub currency: String,
    pub total_minor: i64,
    pub prepaid_minor: i64,
    pub issued_at: i64,
}

const BILL_COLUMNS: &str =
    "id, period_start, period_end, billing_time_zone, currency, total_minor, prepaid_minor, issued_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BillLineRow {
    pub project_id: String,
    pub kind: String,
    pub description: String,
    pub quantity: String,
    pub amount_minor: i64,
    pub hour_count: i64,
    pub order_id: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CreditNoteRow {
    pub id: String,
    pub amount_minor: i64,
    pub reason: String,
    pub created_at: i64,
}

/// A deployment's run interval with the names of its project and deployment (null
/// once deleted: usage stays).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UsageRow {
    pub project_id: String,
    pub project_name: Option<String>,
    pub deployment_id: String,
    pub deployment_name: Option<String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub cu_milli: i64,
}

/// The account's billing: its settings, hours, bills and usage.
pub struct Billing<'a>(&'a AccountScope);

impl AccountScope {
    pub fn billing(&self) -> Billing<'_> {
        Billing(self)
    }
}

impl Billing<'_> {
    /// The IANA zone the account's hours and months are cut in.
    pub async fn time_zone(&self) -> Result<String, Error> {
        let scope = self.0;
        let (zone,): (String,) =
            sqlx::query_as("select billing_time_zone from accounts where id = $1")
                .bind(scope.account_id())
                .fetch_one(&scope.db().pool)
                .await?;
        Ok(zone)
    }

    /// Sets the zone (it applies to hours not billed yet).
    pub async fn set_time_zone(&self, zone: &str) -> Result<(), Error> {
        let scope = self.0;
        sqlx::query("update accounts set billing_time_zone = $1 where id = $2")
            .bind(zone)
            .bind(scope.account_id())
            .execute(&scope.db().pool)
            .await?;
        Ok(())
    }

    /// The hours starting in [`from_ms`, `to_ms`), of one project if given, oldest
    /// first.
    pub async fn hours(
        &self,
        from_ms: i64,
        to_ms: i64,
        project_id: Option<&str>,
    ) -> Result<Vec<PaygHourRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select project_id, window_start, window_end, cu_millis, compute_minor, management_minor from payg_hours
              where account_id = $1 and window_start >= $2 and window_start < $3 and ($4 = '' or project_id = $4)
              order by window_start, project_id",
        )
        .bind(scope.account_id())
        .bind(from_ms)
        .bind(to_ms)
        .bind(project_id.unwrap_or_default())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// The newest bills first (at most [`BILLS_SHOWN`]).
    pub async fn bills(&self) -> Result<Vec<BillRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {BILL_COLUMNS} from bills where account_id = $1 order by period_start desc limit {BILLS_SHOWN}"
        ))
        .bind(scope.account_id())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    pub async fn bill(&self, bill_id: &str) -> Result<BillRow, Error> {
        let scope = self.0;
        let row: Option<BillRow> = sqlx::query_as(&format!(
            "select {BILL_COLUMNS} from bills where id = $1 and account_id = $2"
        ))
        .bind(bill_id)
        .bind(scope.account_id())
        .fetch_optional(&scope.db().pool)
        .await?;
        row.ok_or_else(|| Error::not_found("bill"))
    }

    /// A bill's lines, by project, kind and order.
    pub async fn lines(&self, bill_id: &str) -> Result<Vec<BillLineRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select l.project_id, l.kind, l.description, l.quantity, l.amount_minor, l.hour_count, l.order_id
               from bill_lines l join bills b on b.id = l.bill_id
              where l.bill_id = $1 and b.account_id = $2 order by l.project_id, l.kind, l.order_id",
        )
        .bind(bill_id)
        .bind(scope.account_id())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// The credit notes issued against a bill, oldest first.
    pub async fn credit_notes(&self, bill_id: &str) -> Result<Vec<CreditNoteRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select id, amount_minor, reason, created_at from credit_notes where bill_id = $1 and account_id = $2 order by id",
        )
        .bind(bill_id)
        .bind(scope.account_id())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// The run intervals overlapping [`from_ms`, `to_ms`), of one project if given, by
    /// project and deployment.
    pub async fn usage(
        &self,
        from_ms: i64,
        to_ms: i64,
        project_id: Option<&str>,
    ) -> Result<Vec<UsageRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select r.project_id, p.name as project_name, r.deployment_id, d.name as deployment_name,
                    r.started_at, r.ended_at, r.cu_milli
               from run_intervals r
               left join projects p on p.id = r.project_id and p.account_id = r.account_id
               left join deployments d on d.id = r.deployment_id and d.project_id = r.project_id
              where r.account_id = $1 and r.started_at < $3 and (r.ended_at is null or r.ended_at > $2)
                and ($4 = '' or r.project_id = $4)
              order by r.project_id, r.deployment_id",
        )
        .bind(scope.account_id())
        .bind(from_ms)
        .bind(to_ms)
        .bind(project_id.unwrap_or_default())
        .fetch_all(&scope.db().pool)
        .await?)
    }
}

/// A pay-as-you-go project as the hourly billing sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaygProjectRow {
    pub project_id: String,
    pub account_id: String,
    pub billing_time_zone: String,
    pub created_at: i64,
    /// The end of the newest hour written, if any.
    pub billed_until: Option<i64>,
}

/// An account as the monthly billing sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BilledAccountRow {
    pub account_id: String,
    pub billing_time_zone: String,
    pub created_at: i64,
    /// The end of the newest bill's period, if any.
    pub billed_until: Option<i64>,
}

/// A run interval of a deployment (instants in ms; `ended_at` null while it runs).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunIntervalRow {
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub cu_milli: i64,
}

/// One project's hour, as written (amounts already rounded to minor units).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HourAmountsRow {
    pub project_id: String,
    pub cu_millis: String,
    pub compute_minor: i64,
    pub management_minor: i64,
}

/// An order placed in a period, as its bill line shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlacedOrderRow {
    pub id: String,
    pub project_id: String,
    pub kind: String,
    pub cu_milli: i64,
    pub months: i64,
    pub amount_minor: i64,
}

/// One rated hour to write.
pub struct NewHour<'a> {
    pub account_id: &'a str,
    pub project_id: &'a str,
    pub window_start: i64,
    pub window_end: i64,
    /// Exact decimal text of milli-CU x milliseconds.
    pub cu_millis: String,
    pub compute_minor: i64,
    pub management_minor: i64,
    pub currency: &'a str,
    /// The price in millionths of a minor unit per CU-hour, exact decimal text.
    pub price_micro_minor: String,
}

/// Every account's billing, for the billing worker and the operator.
pub struct AllBilling<'a>(&'a AllTenants);

impl AllTenants {
    pub fn billing(&self) -> AllBilling<'_> {
        AllBilling(self)
    }
}

impl AllBilling<'_> {
    /// Every pay-as-you-go project with where its hourly billing stands.
    pub async fn payg_projects(&self) -> Result<Vec<PaygProjectRow>, Error> {
        Ok(sqlx::query_as(
            "select p.id as project_id, p.account_id, a.billing_time_zone, p.created_at,
                    (select max(h.window_end) from payg_hours h where h.project_id = p.id) as billed_until
               from projects p join accounts a on a.id = p.account_id
              where p.billing_model = 'payg'",
        )
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// The project's run intervals still open or ended after `from_ms`.
    pub async fn run_intervals(
        &self,
        project_id: &str,
        from_ms: i64,
    ) -> Result<Vec<RunIntervalRow>, Error> {
        Ok(sqlx::query_as(
            "select started_at, ended_at, cu_milli from run_intervals
              where project_id = $1 and (ended_at is null or ended_at > $2)",
        )
        .bind(project_id)
        .bind(from_ms)
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// Writes one hour unless the project already has it, in one statement; false when
    /// it had (another replica, or an earlier pass, wrote it first).
    pub async fn insert_hour(&self, hour: &NewHour<'_>) -> Result<bool, Error> {
        let inserted = sqlx::query(
            "insert into payg_hours (id, account_id, project_id, window_start, window_end, cu_millis, compute_minor,
                                     management_minor, currency, price_micro_minor, created_at)
             select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
              where not exists (select 1 from payg_hours where project_id = $3 and window_start = $4)",
        )
        .bind(new_id())
        .bind(hour.account_id)
        .bind(hour.project_id)
        .bind(hour.window_start)
        .bind(hour.window_end)
        .bind(&hour.cu_millis)
        .bind(hour.compute_minor)
        .bind(hour.management_minor)
        .bind(hour.currency)
        .bind(&hour.price_micro_minor)
        .bind(now_ms())
        .execute(&self.0.db().pool)
        .await;
        match inserted {
            Ok(r) => Ok(r.rows_affected() > 0),
            // Another replica wrote the same hour between our check and insert.
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Every account with where its monthly billing stands.
    pub async fn accounts(&self) -> Result<Vec<BilledAccountRow>, Error> {
        Ok(sqlx::query_as(
            "select a.id as account_id, a.billing_time_zone, a.created_at,
                    (select max(b.period_end) from bills b where b.account_id = a.id) as billed_until
               from accounts a",
        )
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// Whether the account has a bill for the period starting at `period_start`.
    pub async fn bill_exists(&self, account_id: &str, period_start: i64) -> Result<bool, Error> {
        let (exists,): (i64,) = sqlx::query_as(
            "select count(*) from bills where account_id = $1 and period_start = $2",
        )
        .bind(account_id)
        .bind(period_start)
        .fetch_one(&self.0.db().pool)
        .await?;
        Ok(exists > 0)
    }

    /// The account's hours starting in [`start`, `end`), by project then hour.
    pub async fn hours_in(
        &self,
        account_id: &str,
        start: i64,
        end: i64,
    ) -> Result<Vec<HourAmountsRow>, Error> {
        Ok(sqlx::query_as(
            "select project_id, cu_millis, compute_minor, management_minor from payg_hours
              where account_id = $1 and window_start >= $2 and window_start < $3 order by project_id, window_start",
        )
        .bind(account_id)
        .bind(start)
        .bind(end)
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// The account's orders placed in [`start`, `end`), by id.
    pub async fn orders_placed(
        &self,
        account_id: &str,
        start: i64,
        end: i64,
    ) -> Result<Vec<PlacedOrderRow>, Error> {
        Ok(sqlx::query_as(
            "select id, project_id, kind, cu_milli, months, amount_minor from orders
              where account_id = $1 and created_at >= $2 and created_at < $3 order by id",
        )
        .bind(account_id)
        .bind(start)
        .bind(end)
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// The account a bill is of, and what it charged the balance (its prepaid orders
    /// aside); `None` when there is no such bill.
    pub async fn bill_charge(&self, bill_id: &str) -> Result<Option<(String, i64)>, Error> {
        Ok(sqlx::query_as(
            "select account_id, total_minor - prepaid_minor from bills where id = $1",
        )
        .bind(bill_id)
        .fetch_optional(&self.0.db().pool)
        .await?)
    }
}

/// A bill to issue.
pub struct NewBill<'a> {
    pub id: &'a str,
    pub period_start: i64,
    pub period_end: i64,
    pub billing_time_zone: &'a str,
    pub currency: &'a str,
    pub total_minor: i64,
    pub prepaid_minor: i64,
}

/// One line of a bill to issue.
pub struct NewBillLine<'a> {
    pub project_id: &'a str,
    pub kind: &'a str,
    pub description: &'a str,
    pub quantity: &'a str,
    pub amount_minor: i64,
    pub hour_count: i64,
    pub order_id: Option<&'a str>,
}

/// An unpaid bill and what it still charges the balance.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnpaidBillRow {
    pub id: String,
    pub due_minor: i64,
}

impl Ledger<'_> {
    /// Issues a bill of the account; false when it already has one for the period
    /// (another replica issued it first).
    pub async fn insert_bill(&mut self, bill: &NewBill<'_>) -> Result<bool, Error> {
        let (tx, account_id) = self.parts();
        let inserted = sqlx::query(
            "insert into bills (id, account_id, period_start, period_end, billing_time_zone, currency, total_minor, prepaid_minor, issued_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(bill.id)
        .bind(account_id)
        .bind(bill.period_start)
        .bind(bill.period_end)
        .bind(bill.billing_time_zone)
        .bind(bill.currency)
        .bind(bill.total_minor)
        .bind(bill.prepaid_minor)
        .bind(now_ms())
        .execute(&mut **tx)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Adds a line to a bill being issued (`order_id` for an order's line).
    pub async fn insert_bill_line(
        &mut self,
        bill_id: &str,
        line: &NewBillLine<'_>,
    ) -> Result<(), Error> {
        let (tx, _) = self.parts();
        sqlx::query(
            "insert into bill_lines (id, bill_id, project_id, kind, description, quantity, amount_minor, hour_count, order_id)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id())
        .bind(bill_id)
        .bind(line.project_id)
        .bind(line.kind)
        .bind(line.description)
        .bind(line.quantity)
        .bind(line.amount_minor)
        .bind(line.hour_count)
        .bind(line.order_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The account's unpaid bills, oldest first, with what each still charges (its
    /// orders were paid when placed).
    pub async fn unpaid_bills(&mut self) -> Result<Vec<UnpaidBillRow>, Error> {
        let (tx, account_id) = self.parts();
        Ok(sqlx::query_as(
            "select id, total_minor - prepaid_minor as due_minor from bills where account_id = $1 and paid_at is null order by period_start",
        )
        .bind(account_id)
        .fetch_all(&mut **tx)
        .await?)
    }

    pub async fn mark_paid(&mut self, bill_id: &str) -> Result<(), Error> {
        let (tx, _) = self.parts();
        sqlx::query("update bills set paid_at = $1 where id = $2")
            .bind(now_ms())
            .bind(bill_id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// How many of the account's bills are unpaid more than `grace_ms` after issue.
    pub async fn overdue_bills(&mut self, grace_ms: i64, now_ms: i64) -> Result<i64, Error> {
        let (tx, account_id) = self.parts();
        let (overdue,): (i64,) = sqlx::query_as(
            "select count(*) from bills where account_id = $1 and paid_at is null and issued_at + $2 < $3",
        )
        .bind(account_id)
        .bind(grace_ms)
        .bind(now_ms)
        .fetch_one(&mut **tx)
        .await?;
        Ok(overdue)
    }

    /// What the credit notes against a bill added up to so far.
    pub async fn credited(&mut self, bill_id: &str) -> Result<i64, Error> {
        let (tx, _) = self.parts();
        let (credited,): (i64,) = sqlx::query_as(
            "select cast(coalesce(sum(amount_minor), 0) as bigint) from credit_notes where bill_id = $1",
        )
        .bind(bill_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(credited)
    }

    /// Records a credit note against one of the account's bills; returns its id.
    pub async fn insert_credit_note(
        &mut self,
        bill_id: &str,
        amount_minor: i64,
        reason: &str,
        by: &str,
    ) -> Result<String, Error> {
        let (tx, account_id) = self.parts();
        let id = new_id();
        sqlx::query(
            "insert into credit_notes (id, account_id, bill_id, amount_minor, reason, created_by, created_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(account_id)
        .bind(bill_id)
        .bind(amount_minor)
        .bind(reason)
        .bind(by)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(id)
    }
}
