//! Pay-as-you-go billing as the workers run it: every hour (cut in the account's time
//! zone) that ended more than `settle_delay_secs` ago is rated from the run intervals
//! the reconciler recorded and written once into `payg_hours`.
//!
//! Exactly once without a coordinator: each (project, hour) row has a unique key and
//! is inserted in one statement with everything it needs, so two replicas, a rerun
//! after a crash, or a retry after a failed write all end with the one row; nothing is
//! claimed before it is written, so a failed write leaves nothing to swallow a retry.

use std::collections::BTreeMap;
use std::time::Duration;
use store::Error;

use billing::meter::{rate_priced_hour, ManagementFee, RunInterval};
use billing::period;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use domain::Platform;
use store::balance::Ledger;
use store::bills::{HourAmountsRow, NewBill, NewBillLine, NewHour, PlacedOrderRow};
use store::db::new_id;

/// Hours of history a pass bills at most per project, so a long outage catches up in steps.
const MAX_HOURS_PER_PASS: usize = 48;

/// Runs billing passes until `stop` is cancelled.
pub async fn run(state: Platform, stop: CancellationToken) {
    use tracing::Instrument;
    let interval = Duration::from_secs(state.config.billing.interval_secs.max(1));
    async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
            let started = std::time::Instant::now();
            let billed = bill_due_hours(&state, Utc::now()).await;
            state.metrics.worker_pass("billing", started.elapsed(), billed.is_ok());
            match billed {
                Ok(0) => {}
                Ok(n) => tracing::info!(hours = n, "billed pay-as-you-go hours"),
                Err(e) => tracing::warn!(error = %e.message, "billing pass failed; the next pass retries"),
            }
            match issue_due_bills(&state, Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(bills = n, "issued monthly bills"),
                Err(e) => tracing::warn!(error = %e.message, "issuing bills failed; the next pass retries"),
            }
            if let Err(e) = domain::balance::enforce_arrears(&state, Utc::now()).await {
                tracing::warn!(error = %e.message, "enforcing arrears failed; the next pass retries");
            }
            if let Err(e) = domain::capacity::enforce(&state, Utc::now().timestamp_millis()).await {
                tracing::warn!(error = %e.message, "enforcing subscription capacity failed; the next pass retries");
            }
        }
    }
    .instrument(tracing::info_span!("billing"))
    .await;
}

/// Bills every settled hour not billed yet, for every pay-as-you-go project. Returns
/// how many hour rows were written (rows another replica wrote first do not count).
pub async fn bill_due_hours(state: &Platform, now: DateTime<Utc>) -> Result<usize, Error> {
    let settled = now - chrono::Duration::seconds(state.config.billing.settle_delay_secs);
    let projects = state.all_tenants().billing().payg_projects().await?;
    let mut written = 0;
    for project in projects {
        let (project_id, account_id) = (&project.project_id, &project.account_id);
        let tz = domain::balance::parse_zone(&project.billing_time_zone)?;
        let from =
            DateTime::from_timestamp_millis(project.billed_until.unwrap_or(project.created_at))
                .unwrap_or(now);
        if from >= settled {
            continue;
        }
        // Windows are clipped to `settled`, so the last one is an hour still in progress
        // (or just ended): it waits for the next pass. The first may begin mid-hour,
        // when the project was created.
        let mut hours =
            period::hours(from, settled, tz).map_err(|e| Error::internal(e.to_string()))?;
        hours.pop();
        let intervals = project_intervals(state, project_id, from).await?;
        for window in hours.into_iter().take(MAX_HOURS_PER_PASS) {
            written += bill_hour(state, account_id, project_id, &intervals, window, now).await?;
        }
    }
    Ok(written)
}

async fn project_intervals(
    state: &Platform,
    project_id: &str,
    from: DateTime<Utc>,
) -> Result<Vec<RunInterval>, Error> {
    let rows = state
        .all_tenants()
        .billing()
        .run_intervals(project_id, from.timestamp_millis())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(RunInterval {
                start: DateTime::from_timestamp_millis(row.started_at)?,
                end: row.ended_at.and_then(DateTime::from_timestamp_millis),
                cu_milli: row.cu_milli,
            })
        })
        .collect())
}

/// Rates and writes one hour; 0 if it had no usage or was already written.
async fn bill_hour(
    state: &Platform,
    account_id: &str,
    project_id: &str,
    intervals: &[RunInterval],
    window: period::Window,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let pricing = &state.pricing;
    let pieces = pricing
        .book
        .pieces(window)
        .map_err(|e| Error::internal(e.to_string()))?;
    // The management fee is charged every pay-as-you-go hour, or only in hours in which
    // something ran, as the operator configured (`billing.management_fee`); an hour
    // with nothing to charge is still written, at zero, so the next pass starts after it.
    let fee =
        ManagementFee::parse(&state.config.billing.management_fee).map_err(Error::internal)?;
    let charge = rate_priced_hour(intervals, &pieces, now, pricing.granularity, fee)
        .map_err(|e| Error::internal(e.to_string()))?;
    let (cu_millis, compute, management) = (
        charge.cu_millis,
        charge.compute.minor(),
        charge.management.minor(),
    );
    let price = pieces
        .last()
        .map_or(0, |(_, rate)| rate.micro_minor_per_cu_hour());
    let written = state
        .all_tenants()
        .billing()
        .insert_hour(&NewHour {
            account_id,
            project_id,
            window_start: window.start.timestamp_millis(),
            window_end: window.end.timestamp_millis(),
            cu_millis: cu_millis.to_string(),
            compute_minor: compute,
            management_minor: management,
            currency: pricing.currency.code(),
            price_micro_minor: price.to_string(),
        })
        .await?;
    Ok(usize::from(written))
}

/// Issues the bill of every account month that ended (in the account's zone) more
/// than a day ago and has none yet: one line per project for compute and one for the
/// management fee, each the sum of that project's already-rounded hourly amounts, so
/// nothing is rounded again, and one line per subscription order placed in the month
/// (prepaid: paid from the balance when placed). The total is the sum of the lines;
/// what the bill still charges is the total less the prepaid. Returns bills issued.
pub async fn issue_due_bills(state: &Platform, now: DateTime<Utc>) -> Result<usize, Error> {
    // Each account resumes after its newest bill, so a pass costs one query per account
    // with nothing due, however old the account is.
    let accounts = state.all_tenants().billing().accounts().await?;
    let mut issued = 0;
    let cutoff = now - chrono::Duration::days(1);
    for account in accounts {
        let (account_id, zone) = (&account.account_id, &account.billing_time_zone);
        let tz = domain::balance::parse_zone(zone)?;
        // The months from the first one not billed to the last one ended a day ago.
        let from =
            DateTime::from_timestamp_millis(account.billed_until.unwrap_or(account.created_at))
                .unwrap_or(now);
        let mut cursor = from.with_timezone(&tz).date_naive();
        loop {
            use chrono::Datelike;
            let window = period::month(cursor.year(), cursor.month(), tz)
                .map_err(|e| Error::internal(e.to_string()))?;
            if window.end > cutoff {
                break;
            }
            issued += issue_bill(state, account_id, zone, window).await?;
            cursor = period::add_months(cursor.with_day(1).unwrap_or(cursor), 1)
                .map_err(|e| Error::internal(e.to_string()))?;
        }
    }
    Ok(issued)
}

async fn issue_bill(
    state: &Platform,
    account_id: &str,
    zone: &str,
    window: period::Window,
) -> Result<usize, Error> {
    let (start, end) = (
        window.start.timestamp_millis(),
        window.end.timestamp_millis(),
    );
    let all = state.all_tenants();
    if all.billing().bill_exists(account_id, start).await? {
        return Ok(0);
    }
    let per_project = payg_by_project(state, account_id, start, end).await?;
    let orders = all.billing().orders_placed(account_id, start, end).await?;
    let bill_id = new_id();
    let prepaid: i64 = orders.iter().map(|o| o.amount_minor).sum();
    let total: i64 = per_project
        .values()
        .map(|t| t.compute_minor + t.management_minor)
        .sum::<i64>()
        + prepaid;
    let mut write = all.write().await?;
    // The account lock first: paying the bill below moves the balance.
    let mut ledger = write.lock_ledger(account_id).await?;
    let balance = ledger.balance().await?;
    let inserted = ledger
        .insert_bill(&NewBill {
            id: &bill_id,
            period_start: start,
            period_end: end,
            billing_time_zone: zone,
            currency: state.pricing.currency.code(),
            total_minor: total,
            prepaid_minor: prepaid,
        })
        .await?;
    if !inserted {
        // Another replica issued it first.
        return Ok(0);
    }
    insert_lines(&mut ledger, &bill_id, per_project, orders).await?;
    domain::balance::pay_bills(state, &mut ledger, balance).await?;
    write.commit().await?;
    Ok(1)
}

/// A project's pay-as-you-go hours in a period, added up.
#[derive(Default)]
struct PaygTotals {
    cu_millis: i128,
    compute_minor: i64,
    management_minor: i64,
    hours: i64,
}

async fn payg_by_project(
    state: &Platform,
    account_id: &str,
    start: i64,
    end: i64,
) -> Result<BTreeMap<String, PaygTotals>, Error> {
    let rows = state
        .all_tenants()
        .billing()
        .hours_in(account_id, start, end)
        .await?;
    let mut per_project: BTreeMap<String, PaygTotals> = BTreeMap::new();
    for HourAmountsRow {
        project_id: project,
        cu_millis,
        compute_minor: compute,
        management_minor: management,
    } in rows
    {
        let totals = per_project.entry(project).or_default();
        totals.cu_millis += cu_millis
            .parse::<i128>()
            .map_err(|e| Error::internal(format!("payg_hours.cu_millis `{cu_millis}`: {e}")))?;
        totals.compute_minor += compute;
        totals.management_minor += management;
        totals.hours += 1;
    }
    Ok(per_project)
}

/// The bill's lines: two per project with pay-as-you-go hours, one per order.
async fn insert_lines(
    ledger: &mut Ledger<'_>,
    bill_id: &str,
    per_project: BTreeMap<String, PaygTotals>,
    orders: Vec<PlacedOrderRow>,
) -> Result<(), Error> {
    for (project, totals) in per_project {
        let hours = totals.hours;
        let lines = [
            (
                "payg_compute",
                "pay-as-you-go compute",
                billing::meter::cu_hours_text(totals.cu_millis),
                totals.compute_minor,
            ),
            (
                "payg_management",
                "pay-as-you-go management fee",
                String::new(),
                totals.management_minor,
            ),
        ];
        for (kind, description, quantity, amount) in lines {
            ledger
                .insert_bill_line(
                    bill_id,
                    &NewBillLine {
                        project_id: &project,
                        kind,
                        description,
                        quantity: &quantity,
                        amount_minor: amount,
                        hour_count: hours,
                        order_id: None,
                    },
                )
                .await?;
        }
    }
    for order in orders {
        let (kind, cu_milli) = (&order.kind, order.cu_milli);
        let what = match order.months {
            0 => format!("{kind} order: {} CU", cu_milli as f64 / 1000.0),
            m => format!(
                "{kind} order: {} CU for {m} month(s)",
                cu_milli as f64 / 1000.0
            ),
        };
        ledger
            .insert_bill_line(
                bill_id,
                &NewBillLine {
                    project_id: &order.project_id,
                    kind: "order",
                    description: &what,
                    quantity: "",
                    amount_minor: order.amount_minor,
                    hour_count: 0,
                    order_id: Some(&order.id),
                },
            )
            .await?;
    }
    Ok(())
}
