//! An account's balance, its movements and arrears.
//!
//! The balance is the sum of its transactions; every change to it happens through a
//! [`Ledger`], which exists only inside a write transaction that locked the account's
//! row first, so two payments can never spend the same money.

use sqlx::AnyConnection;

use crate::all_tenants::{AllTenants, AllTenantsWrite};
use crate::db::{new_id, now_ms, Tx};
use crate::scope::{AccountScope, AccountWrite, ProjectWrite};
use crate::Error;

/// The account's balance as its owners see it (amounts in minor units).
#[derive(Debug, Clone)]
pub struct BalanceRow {
    pub balance_minor: i64,
    /// Since when a bill has been unpaid past its grace period.
    pub arrears_since: Option<i64>,
    /// Issued bills not paid yet, and what they still charge.
    pub unpaid_bills: i64,
    pub unpaid_minor: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BalanceTransactionRow {
    pub id: String,
    pub kind: String,
    /// Signed: credits positive, debits negative.
    pub amount_minor: i64,
    pub reference_id: String,
    pub created_by: String,
    pub created_at: i64,
}

/// How many movements a listing shows, newest first.
pub const TRANSACTIONS_SHOWN: i64 = 500;

async fn sum(conn: &mut AnyConnection, account_id: &str) -> Result<i64, Error> {
    let (balance,): (i64,) = sqlx::query_as(
        "select cast(coalesce(sum(amount_minor), 0) as bigint) from balance_transactions where account_id = $1",
    )
    .bind(account_id)
    .fetch_one(conn)
    .await?;
    Ok(balance)
}

async fn arrears_since(conn: &mut AnyConnection, account_id: &str) -> Result<Option<i64>, Error> {
    let (since,): (Option<i64>,) =
        sqlx::query_as("select arrears_since from accounts where id = $1")
            .bind(account_id)
            .fetch_one(conn)
            .await?;
    Ok(since)
}

/// The account's balance, read outside a write.
pub struct Balance<'a>(&'a AccountScope);

impl AccountScope {
    pub fn balance(&self) -> Balance<'_> {
        Balance(self)
    }
}

impl Balance<'_> {
    pub async fn get(&self) -> Result<BalanceRow, Error> {
        let scope = self.0;
        let pool = &scope.db().pool;
        let mut conn = pool.acquire().await?;
        let balance_minor = sum(&mut conn, scope.account_id()).await?;
        let arrears_since = arrears_since(&mut conn, scope.account_id()).await?;
        drop(conn);
        let (unpaid_bills, unpaid_minor): (i64, i64) = sqlx::query_as(
            "select count(*), cast(coalesce(sum(total_minor - prepaid_minor), 0) as bigint) from bills where account_id = $1 and paid_at is null",
        )
        .bind(scope.account_id())
        .fetch_one(pool)
        .await?;
        Ok(BalanceRow {
            balance_minor,
            arrears_since,
            unpaid_bills,
            unpaid_minor,
        })
    }

    /// Every movement of the balance, newest first (at most [`TRANSACTIONS_SHOWN`]).
    pub async fn transactions(&self) -> Result<Vec<BalanceTransactionRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select id, kind, amount_minor, reference_id, created_by, created_at from balance_transactions
              where account_id = $1 order by id desc limit $2",
        )
        .bind(scope.account_id())
        .bind(TRANSACTIONS_SHOWN)
        .fetch_all(&scope.db().pool)
        .await?)
    }
}

/// One account's balance inside a write transaction that holds the account's row lock.
pub struct Ledger<'a> {
    tx: &'a mut Tx,
    account_id: String,
}

impl AccountWrite {
    /// The account's ledger: [`AccountScope::write`] locked the account's row.
    pub fn ledger(&mut self) -> Ledger<'_> {
        let (tx, account_id) = self.parts();
        let account_id = account_id.to_owned();
        Ledger { tx, account_id }
    }
}

impl AllTenantsWrite {
    /// Locks `account_id`'s row for the rest of the transaction and opens its ledger.
    pub async fn lock_ledger(&mut self, account_id: &str) -> Result<Ledger<'_>, Error> {
        let (tx, db) = self.parts();
        sqlx::query(&format!(
            "select id from accounts where id = $1{}",
            db.for_update()
        ))
        .bind(account_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(Ledger {
            tx,
            account_id: account_id.to_owned(),
        })
    }
}

impl Ledger<'_> {
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub(crate) fn parts(&mut self) -> (&mut Tx, &str) {
        (&mut *self.tx, &self.account_id)
    }

    /// The balance in minor units.
    pub async fn balance(&mut self) -> Result<i64, Error> {
        sum(&mut *self.tx, &self.account_id).await
    }

    /// Records a signed movement of the balance.
    pub async fn record(
        &mut self,
        kind: &str,
        amount_minor: i64,
        currency: &str,
        reference_id: &str,
        by: &str,
    ) -> Result<(), Error> {
        sqlx::query(
            "insert into balance_transactions (id, account_id, kind, amount_minor, currency, reference_id, created_by, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new_id())
        .bind(&self.account_id)
        .bind(kind)
        .bind(amount_minor)
        .bind(currency)
        .bind(reference_id)
        .bind(by)
        .bind(now_ms())
        .execute(&mut **self.tx)
        .await?;
        Ok(())
    }

    /// Leaves arrears, if the account was in them.
    pub async fn clear_arrears(&mut self) -> Result<(), Error> {
        sqlx::query(
            "update accounts set arrears_since = null where id = $1 and arrears_since is not null",
        )
        .bind(&self.account_id)
        .execute(&mut **self.tx)
        .await?;
        Ok(())
    }
}

/// Whether the project's account is in arrears, inside the project's write.
pub struct ArrearsWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn arrears(&mut self) -> ArrearsWrites<'_> {
        ArrearsWrites(self)
    }
}

impl ArrearsWrites<'_> {
    /// Since when the project's account has been in arrears, if it is.
    pub async fn since(&mut self) -> Result<Option<i64>, Error> {
        let (tx, project_id) = self.0.parts();
        let (since,): (Option<i64>,) = sqlx::query_as(
            "select a.arrears_since from accounts a join projects p on p.account_id = a.id where p.id = $1",
        )
        .bind(project_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(since)
    }
}

/// An account with bills unpaid past the grace period, not yet in arrears.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverdueAccountRow {
    pub account_id: String,
    pub bills: i64,
    /// What those bills still charge, in minor units.
    pub owed_minor: i64,
}

/// Every account's arrears, for the billing worker.
pub struct Arrears<'a>(&'a AllTenants);

impl AllTenants {
    pub fn arrears(&self) -> Arrears<'_> {
        Arrears(self)
    }
}

impl Arrears<'_> {
    /// Accounts not in arrears with a bill issued more than `grace_ms` before `now_ms`
    /// and still unpaid.
    pub async fn entering(
        &self,
        grace_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<OverdueAccountRow>, Error> {
        Ok(sqlx::query_as(
            "select b.account_id, cast(count(*) as bigint) as bills, cast(sum(b.total_minor - b.prepaid_minor) as bigint) as owed_minor
               from bills b join accounts a on a.id = b.account_id
              where b.paid_at is null and b.issued_at + $1 < $2 and a.arrears_since is null
              group by b.account_id",
        )
        .bind(grace_ms)
        .bind(now_ms)
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// The pay-as-you-go deployments meant to run of every account in arrears.
    pub async fn payg_deployments_running(&self) -> Result<Vec<String>, Error> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "select d.id from deployments d join projects p on p.id = d.project_id join accounts a on a.id = p.account_id
              where a.arrears_since is not null and p.billing_model = 'payg' and d.desired_state = 'RUNNING'",
        )
        .fetch_all(&self.0.db().pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}

impl AllTenantsWrite {
    /// Puts the account in arrears since `now_ms`; false when it already was (another
    /// replica got there first).
    pub async fn enter_arrears(&mut self, account_id: &str, now_ms: i64) -> Result<bool, Error> {
        let marked = sqlx::query(
            "update accounts set arrears_since = $1 where id = $2 and arrears_since is null",
        )
        .bind(now_ms)
        .bind(account_id)
        .execute(&mut **self.tx())
        .await?;
        Ok(marked.rows_affected() > 0)
    }
}
