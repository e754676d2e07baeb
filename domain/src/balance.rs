//! The prepaid balance and arrears. The balance is the sum of its transactions; every
//! change to it happens in a transaction that first locks the account row, so two
//! payments can never spend the same money. A bill unpaid past the grace period puts
//! the account in arrears: its pay-as-you-go deployments are stopped with a savepoint
//! (so they can resume) and new starts are refused; paying unblocks starts and resumes
//! nothing by surprise.

use chrono::{DateTime, Utc};
use store::balance::Ledger;
use store::db::{new_id, now_ms};
use store::{Error, ProjectWrite};

use crate::Platform;

/// Records a signed movement of the balance (the ledger holds the account's lock).
pub async fn record(
    state: &Platform,
    ledger: &mut Ledger<'_>,
    kind: &str,
    amount_minor: i64,
    reference_id: &str,
    by: &str,
) -> Result<(), Error> {
    ledger
        .record(
            kind,
            amount_minor,
            state.pricing.currency.code(),
            reference_id,
            by,
        )
        .await
}

/// Credits the balance and pays what it can of the unpaid bills, in one transaction
/// (for the operator: a request tops up through its account's write, [`top_up_in`]).
pub async fn top_up(state: &Platform, account_id: &str, minor: i64, by: &str) -> Result<(), Error> {
    let mut write = state.all_tenants().write().await?;
    let mut ledger = write.lock_ledger(account_id).await?;
    top_up_in(state, &mut ledger, minor, by).await?;
    write.commit().await?;
    Ok(())
}

/// Credits the balance and pays what it can of the unpaid bills, inside the caller's
/// transaction (which holds the account's lock).
pub async fn top_up_in(
    state: &Platform,
    ledger: &mut Ledger<'_>,
    minor: i64,
    by: &str,
) -> Result<(), Error> {
    let before = ledger.balance().await?;
    record(state, ledger, "top_up", minor, &new_id(), by).await?;
    pay_bills(state, ledger, before + minor).await
}

/// Pays the account's unpaid bills from its balance, oldest first, as far as it goes;
/// clears arrears when none overdue is left. Inside a transaction that holds the lock.
pub async fn pay_bills(
    state: &Platform,
    ledger: &mut Ledger<'_>,
    mut balance: i64,
) -> Result<(), Error> {
    let unpaid = ledger.unpaid_bills().await?;
    // What a bill still charges: its orders were paid when placed.
    for bill in unpaid {
        if bill.due_minor > balance {
            break;
        }
        record(state, ledger, "bill", -bill.due_minor, &bill.id, "system").await?;
        ledger.mark_paid(&bill.id).await?;
        balance -= bill.due_minor;
    }
    let grace_ms = state.config.billing.grace_period_days * 86_400_000;
    if ledger.overdue_bills(grace_ms, now_ms()).await? == 0 {
        ledger.clear_arrears().await?;
    }
    Ok(())
}

/// Puts accounts with a bill unpaid past the grace period in arrears, telling their
/// owners and billing managers in the same transaction, and stops the pay-as-you-go
/// deployments of every account in arrears with a savepoint. The stopping is done for
/// all accounts in arrears on every pass, not only those just entering it, so a pass
/// that died half way is finished by the next. Returns how many accounts entered arrears.
pub async fn enforce_arrears(state: &Platform, now: DateTime<Utc>) -> Result<usize, Error> {
    let grace_ms = state.config.billing.grace_period_days * 86_400_000;
    let all = state.all_tenants();
    let overdue = all
        .arrears()
        .entering(grace_ms, now.timestamp_millis())
        .await?;
    let mut entered = 0;
    for row in &overdue {
        let (account_id, bills) = (&row.account_id, row.bills);
        let mut write = all.write().await?;
        if !write
            .enter_arrears(account_id, now.timestamp_millis())
            .await?
        {
            continue; // another replica got there first
        }
        let owed = billing::money::Money::from_minor(row.owed_minor, state.pricing.currency);
        let body = format!(
            "{bills} bill(s) totalling {} {} are unpaid past the {}-day grace period. The account's pay-as-you-go \
             deployments are being stopped with a savepoint, and nothing can start until the balance pays them. \
             Top up the balance: the bills are paid at once and deployments can start again (they do not restart by themselves).",
            owed.major(),
            owed.currency().code(),
            state.config.billing.grace_period_days
        );
        crate::notices::notify(
            &mut write,
            account_id,
            crate::notices::Audience::OwnersAndBillingManagers,
            &crate::notices::Notice {
                kind: "arrears",
                subject: "Your account is in arrears: pay-as-you-go deployments stopped",
                body: &body,
            },
        )
        .await?;
        write.commit().await?;
        entered += 1;
        tracing::warn!(account = %account_id, "account in arrears: pay-as-you-go deployments stopped with savepoints");
    }
    let running = all.arrears().payg_deployments_running().await?;
    for deployment_id in running {
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

/// Refuses new starts while the project's account is in arrears (inside the project's
/// write).
pub async fn ensure_not_in_arrears(write: &mut ProjectWrite) -> Result<(), Error> {
    match write.arrears().since().await? {
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
    state: &Platform,
    bill_id: &str,
    minor: i64,
    reason: &str,
    by: &str,
) -> Result<String, Error> {
    let all = state.all_tenants();
    let row = all.billing().bill_charge(bill_id).await?;
    let (account_id, total) = row.ok_or_else(|| Error::not_found("bill"))?;
    let reason = store::names::bounded_text("reason", reason.trim(), 500)?;
    if reason.is_empty() {
        return Err(Error::invalid("reason", "a credit note needs a reason"));
    }
    let mut write = all.write().await?;
    let mut ledger = write.lock_ledger(&account_id).await?;
    let balance = ledger.balance().await?;
    let credited = ledger.credited(bill_id).await?;
    if minor <= 0 || credited + minor > total {
        return Err(Error::invalid(
            "amount",
            format!("a credit note is positive and at most what the bill still charges ({} minor units)", total - credited),
        ));
    }
    let id = ledger
        .insert_credit_note(bill_id, minor, &reason, by)
        .await?;
    record(state, &mut ledger, "credit_note", minor, &id, by).await?;
    pay_bills(state, &mut ledger, balance + minor).await?;
    write.commit().await?;
    Ok(id)
}

/// An account's billing time zone, refused naming the field when it is not an IANA zone.
pub fn parse_zone(name: &str) -> Result<chrono_tz::Tz, Error> {
    name.parse::<chrono_tz::Tz>().map_err(|_| {
        Error::invalid(
            "billing_time_zone",
            format!("`{name}` is not an IANA time zone (e.g. Asia/Shanghai)"),
        )
    })
}
