//! The prepaid balance and arrears. The balance is the sum of its transactions; every
//! change to it happens in a transaction that first locks the account row, so two
//! payments can never spend the same money. A bill unpaid past the grace period puts
//! the account in arrears: its pay-as-you-go deployments are stopped with a savepoint
//! (so they can resume) and new starts are refused; paying unblocks starts and resumes
//! nothing by surprise.

use chrono::{DateTime, Utc};
use store::Error;

use crate::AppState;
use store::db::{new_id, now_ms, Tx};

/// Locks the account row for the rest of `tx` and returns its balance in minor units.
pub async fn lock_balance(state: &AppState, tx: &mut Tx, account_id: &str) -> Result<i64, Error> {
    sqlx::query(&format!(
        "select id from accounts where id = $1{}",
        state.db.for_update()
    ))
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await?;
    let (balance,): (i64,) = sqlx::query_as(
        "select cast(coalesce(sum(amount_minor), 0) as bigint) from balance_transactions where account_id = $1",
    )
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(balance)
}

/// Records a signed movement of the balance (inside a transaction that holds the lock).
pub async fn record(
    state: &AppState,
    tx: &mut Tx,
    account_id: &str,
    kind: &str,
    amount_minor: i64,
    reference_id: &str,
    by: &str,
) -> Result<(), Error> {
    sqlx::query(
        "insert into balance_transactions (id, account_id, kind, amount_minor, currency, reference_id, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(account_id)
    .bind(kind)
    .bind(amount_minor)
    .bind(state.pricing.currency.code())
    .bind(reference_id)
    .bind(by)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Credits the balance and pays what it can of the unpaid bills, in one transaction.
pub async fn top_up(state: &AppState, account_id: &str, minor: i64, by: &str) -> Result<(), Error> {
    let mut tx = state.db.begin_write().await?;
    let before = lock_balance(state, &mut tx, account_id).await?;
    record(state, &mut tx, account_id, "top_up", minor, &new_id(), by).await?;
    pay_bills(state, &mut tx, account_id, before + minor).await?;
    tx.commit().await?;
    Ok(())
}

/// Pays the account's unpaid bills from its balance, oldest first, as far as it goes;
/// clears arrears when none overdue is left. Inside a transaction that holds the lock.
pub async fn pay_bills(
    state: &AppState,
    tx: &mut Tx,
    account_id: &str,
    mut balance: i64,
) -> Result<(), Error> {
    let unpaid: Vec<(String, i64)> = sqlx::query_as(
        "select id, total_minor - prepaid_minor from bills where account_id = $1 and paid_at is null order by period_start",
    )
    .bind(account_id)
    .fetch_all(&mut **tx)
    .await?;
    // What a bill still charges: its orders were paid when placed.
    for (bill_id, due) in unpaid {
        if due > balance {
            break;
        }
        record(state, tx, account_id, "bill", -due, &bill_id, "system").await?;
        sqlx::query("update bills set paid_at = $1 where id = $2")
            .bind(now_ms())
            .bind(&bill_id)
            .execute(&mut **tx)
            .await?;
        balance -= due;
    }
    let grace_ms = state.config.billing.grace_period_days * 86_400_000;
    let (overdue,): (i64,) = sqlx::query_as(
        "select count(*) from bills where account_id = $1 and paid_at is null and issued_at + $2 < $3",
    )
    .bind(account_id)
    .bind(grace_ms)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await?;
    if overdue == 0 {
        sqlx::query(
            "update accounts set arrears_since = null where id = $1 and arrears_since is not null",
        )
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Puts accounts with a bill unpaid past the grace period in arrears, telling their
/// owners and billing managers in the same transaction, and stops the pay-as-you-go
/// deployments of every account in arrears with a savepoint. The stopping is done for
/// all accounts in arrears on every pass, not only those just entering it, so a pass
/// that died half way is finished by the next. Returns how many accounts entered arrears.
pub async fn enforce_arrears(state: &AppState, now: DateTime<Utc>) -> Result<usize, Error> {
    let grace_ms = state.config.billing.grace_period_days * 86_400_000;
    let overdue: Vec<(String, i64, i64)> = sqlx::query_as(
        "select b.account_id, cast(count(*) as bigint), cast(sum(b.total_minor - b.prepaid_minor) as bigint)
           from bills b join accounts a on a.id = b.account_id
          where b.paid_at is null and b.issued_at + $1 < $2 and a.arrears_since is null
          group by b.account_id",
    )
    .bind(grace_ms)
    .bind(now.timestamp_millis())
    .fetch_all(&state.db.pool)
    .await?;
    let mut entered = 0;
    for (account_id, bills, owed) in &overdue {
        let mut tx = state.db.begin_write().await?;
        let marked = sqlx::query(
            "update accounts set arrears_since = $1 where id = $2 and arrears_since is null",
        )
        .bind(now.timestamp_millis())
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() == 0 {
            continue; // another replica got there first
        }
        let owed = billing::money::Money::from_minor(*owed, state.pricing.currency);
        let body = format!(
            "{bills} bill(s) totalling {} {} are unpaid past the {}-day grace period. The account's pay-as-you-go \
             deployments are being stopped with a savepoint, and nothing can start until the balance pays them. \
             Top up the balance: the bills are paid at once and deployments can start again (they do not restart by themselves).",
            owed.major(),
            owed.currency().code(),
            state.config.billing.grace_period_days
        );
        crate::notices::notify(
            &mut tx,
            account_id,
            crate::notices::Audience::OwnersAndBillingManagers,
            &crate::notices::Notice {
                kind: "arrears",
                subject: "Your account is in arrears: pay-as-you-go deployments stopped",
                body: &body,
            },
        )
        .await?;
        tx.commit().await?;
        entered += 1;
        tracing::warn!(account = %account_id, "account in arrears: pay-as-you-go deployments stopped with savepoints");
    }
    let running: Vec<(String,)> = sqlx::query_as(
        "select d.id from deployments d join projects p on p.id = d.project_id join accounts a on a.id = p.account_id
          where a.arrears_since is not null and p.billing_model = 'payg' and d.desired_state = 'RUNNING'",
    )
    .fetch_all(&state.db.pool)
    .await?;
    for (deployment_id,) in running {
        crate::engine::reconciler::suspend_for(
            state,
            &deployment_id,
            "arrears",
            "stopped with a savepoint: the account has a bill unpaid past its grace period; pay it, then start again",
        )
        .await?;
    }
    Ok(entered)
}

/// Refuses new starts while the account is in arrears.
pub async fn ensure_not_in_arrears(tx: &mut Tx, account_id: &str) -> Result<(), Error> {
    let (since,): (Option<i64>,) =
        sqlx::query_as("select arrears_since from accounts where id = $1")
            .bind(account_id)
            .fetch_one(&mut **tx)
            .await?;
    match since {
        Some(_) => Err(Error::conflict(
            "account_in_arrears",
            "the account has a bill unpaid past its grace period; top up the balance to pay it, then start again",
        )),
        None => Ok(()),
    }
}

/// Issues a credit note against a bill: the bill stays as issued, the amount (at most
/// what the bill charged the balance, its prepaid orders aside, less earlier credit
/// notes) is credited to the balance.
pub async fn credit_note(
    state: &AppState,
    bill_id: &str,
    minor: i64,
    reason: &str,
    by: &str,
) -> Result<String, Error> {
    let row: Option<(String, i64)> =
        sqlx::query_as("select account_id, total_minor - prepaid_minor from bills where id = $1")
            .bind(bill_id)
            .fetch_optional(&state.db.pool)
            .await?;
    let (account_id, total) = row.ok_or_else(|| Error::not_found("bill"))?;
    let reason = store::names::bounded_text("reason", reason.trim(), 500)?;
    if reason.is_empty() {
        return Err(Error::invalid("reason", "a credit note needs a reason"));
    }
    let mut tx = state.db.begin_write().await?;
    let balance = lock_balance(state, &mut tx, &account_id).await?;
    let (credited,): (i64,) = sqlx::query_as(
        "select cast(coalesce(sum(amount_minor), 0) as bigint) from credit_notes where bill_id = $1",
    )
    .bind(bill_id)
    .fetch_one(&mut *tx)
    .await?;
    if minor <= 0 || credited + minor > total {
        return Err(Error::invalid(
            "amount",
            format!("a credit note is positive and at most what the bill still charges ({} minor units)", total - credited),
        ));
    }
    let id = new_id();
    sqlx::query(
        "insert into credit_notes (id, account_id, bill_id, amount_minor, reason, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&account_id)
    .bind(bill_id)
    .bind(minor)
    .bind(&reason)
    .bind(by)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    record(state, &mut tx, &account_id, "credit_note", minor, &id, by).await?;
    pay_bills(state, &mut tx, &account_id, balance + minor).await?;
    tx.commit().await?;
    Ok(id)
}
