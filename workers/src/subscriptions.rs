//! A subscription term's lifecycle, applied: the stages are `billing::term`'s, counted
//! with `subscriptions.*` of the configuration.
//!
//! - Automatic renewal: a subscription whose account opted in is renewed
//!   `auto_renew_days_before` days before its term ends, for its renewal months, through
//!   the same quote (`billing::order::quote`, kind renew), lifecycle check and order
//!   records as a manual renewal, paid from the balance. One attempt a day until the
//!   end; a short balance renews nothing and tells the owners and billing managers. An
//!   attempt is recorded in the same transaction as its outcome, and a term is renewed
//!   at most once (keyed by project and term end), so a rerun or a second replica
//!   cannot renew twice.
//! - Reminders: `reminder_days` days before the end, once each (recorded under
//!   (subscription, project, term end, lead) in the same transaction as the notices; a
//!   renewal that moves the end gets new ones); when several are due at once only the
//!   nearest is sent.
//! - Expiry: once the end passed, the project's running deployments are stopped with a
//!   savepoint (every pass, so a pass that died half way is finished by the next),
//!   its owners and billing managers are told once, and starts are refused until it is
//!   renewed (the capacity of an expired subscription is 0).
//! - Release: `release_after_days` after the end, the subscription is removed and the
//!   project is pay-as-you-go again; its deployments stay stopped and its jobs,
//!   versions, deployments and savepoints are kept.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use billing::money::Money;
use billing::order;
use billing::term::{self, Stage, DAY_MS};
use domain::capacity::{term_end_text, HOW_TO_RENEW};
use domain::notices::{Audience, Notice};
use domain::Platform;
use store::db::new_id;
use store::orders::{NewOrder, OrderKind, Term};
use store::reminders::{Recorded, ReminderKey};
use store::subscriptions::{Attempt, TermRow};
use store::{AllTenantsWrite, Error};

/// Who an automatic renewal's order and balance movement are recorded as.
pub const RENEWED_BY: &str = "auto_renew";

pub async fn run(state: Platform, stop: CancellationToken) {
    let interval = Duration::from_secs(state.config.subscriptions.interval_secs);
    crate::every::every(state, stop, "subscriptions", interval, |state| async move {
        let done = pass(&state, Utc::now()).await?;
        if done != Done::default() {
            tracing::info!(?done, "subscription terms");
        }
        Ok(())
    })
    .await;
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Done {
    pub renewed: usize,
    /// Attempts at an automatic renewal that renewed nothing (the owners were told).
    pub not_renewed: usize,
    pub reminded: usize,
    /// Terms whose expiry was told (once each).
    pub expired: usize,
    /// Deployments stopped with a savepoint because their subscription expired.
    pub stopped: usize,
    pub released: usize,
}

/// One pass at `now`: renewals, reminders, expiries and releases due.
pub async fn pass(state: &Platform, now: DateTime<Utc>) -> Result<Done, Error> {
    let rules = state.config.subscriptions.rules();
    let now_ms = now.timestamp_millis();
    let horizon = rules
        .reminder_days
        .iter()
        .copied()
        .chain([rules.auto_renew_days_before])
        .max()
        .unwrap_or(0);
    let terms = state
        .all_tenants()
        .terms()
        .ending_by(now_ms + horizon * DAY_MS)
        .await?;
    let mut done = Done::default();
    for t in terms {
        match term::stage(t.term_end, now_ms, &rules) {
            Stage::Active | Stage::RenewalDue => {
                if t.auto_renew == 1 {
                    if let Some(attempt) = term::renewal_attempt(t.term_end, now_ms, &rules) {
                        match renew(state, &t, attempt, now).await? {
                            Renewal::Renewed => {
                                done.renewed += 1;
                                continue; // its new end gets its own reminders
                            }
                            Renewal::NotRenewed => done.not_renewed += 1,
                            Renewal::Made => {}
                        }
                    }
                }
                let due = term::reminders_due(t.term_start, t.term_end, now_ms, &rules);
                if !due.is_empty() && remind(state, &t, &due, now_ms).await? {
                    done.reminded += 1;
                }
            }
            Stage::Expired => {
                done.stopped += stop_running(state, &t).await?;
                if tell_expired(state, &t, &rules, now_ms).await? {
                    done.expired += 1;
                }
            }
            Stage::Released => {
                done.stopped += stop_running(state, &t).await?;
                if release(state, &t).await? {
                    done.released += 1;
                }
            }
        }
    }
    Ok(done)
}

fn day(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

async fn tell(
    write: &mut AllTenantsWrite,
    t: &TermRow,
    kind: &str,
    subject: &str,
    body: &str,
) -> Result<(), Error> {
    domain::notices::notify(
        write,
        &t.account_id,
        Audience::OwnersAndBillingManagers,
        &Notice {
            kind,
            subject,
            body,
        },
    )
    .await?;
    Ok(())
}

/// Records the due leads and, if this call was first, reminds the owners and billing
/// managers. Whether it reminded them.
async fn remind(state: &Platform, t: &TermRow, due: &[i64], now_ms: i64) -> Result<bool, Error> {
    let mut write = state.all_tenants().write().await?;
    let nearest = due[0];
    let mut first = false;
    for lead in due {
        let key = ReminderKey {
            subject_kind: "subscription",
            subject_name: &t.project_id,
            milestone: "term_end",
            milestone_at: t.term_end,
            lead_days: *lead,
        };
        match write.reminders().record(&key, now_ms).await? {
            Recorded::Raced => return Ok(false),
            recorded if *lead == nearest => first = recorded == Recorded::New,
            Recorded::New | Recorded::Known => {}
        }
    }
    if !first {
        return Ok(false); // dropped uncommitted: nothing recorded is kept
    }
    let days = term::days_left(t.term_end, now_ms);
    let renewal = if t.auto_renew == 1 {
        "It renews automatically from the balance; keep enough in it."
    } else {
        "Renew it before then to keep its CU."
    };
    let subject = format!(
        "Reminder: the subscription of project {} ends on {}",
        t.project_name,
        day(t.term_end)
    );
    let body = format!(
        "In {days} day(s), on {}, the subscription of project {} ({} CU) ends. {renewal} \
         Once it has ended, its running deployments are stopped with a savepoint and nothing can start until it is renewed: {HOW_TO_RENEW}.",
        term_end_text(t.term_end),
        t.project_name,
        t.cu_milli as f64 / 1000.0
    );
    tell(&mut write, t, "subscription_reminder", &subject, &body).await?;
    write.commit().await?;
    Ok(true)
}

/// Stops the project's running deployments with a savepoint, saying why in each one's
/// events. Returns how many this call stopped.
async fn stop_running(state: &Platform, t: &TermRow) -> Result<usize, Error> {
    let running = state
        .all_tenants()
        .capacity()
        .running_newest_first(&t.project_id)
        .await?;
    let why = format!(
        "stopped with a savepoint: the project's subscription expired on {}; {HOW_TO_RENEW}, then start again",
        term_end_text(t.term_end)
    );
    let mut stopped = 0;
    for d in running {
        if domain::engine::reconciler::suspend_for(state, &d.id, "subscription_expired", &why)
            .await?
        {
            stopped += 1;
        }
    }
    Ok(stopped)
}

/// Tells the owners and billing managers, once per term end, that it expired.
async fn tell_expired(
    state: &Platform,
    t: &TermRow,
    rules: &term::Rules,
    now_ms: i64,
) -> Result<bool, Error> {
    let mut write = state.all_tenants().write().await?;
    let key = ReminderKey {
        subject_kind: "subscription",
        subject_name: &t.project_id,
        milestone: "expired",
        milestone_at: t.term_end,
        lead_days: 0,
    };
    if write.reminders().record(&key, now_ms).await? != Recorded::New {
        return Ok(false);
    }
    let subject = format!(
        "The subscription of project {} expired: its deployments are stopped",
        t.project_name
    );
    let body = format!(
        "The subscription of project {} expired on {} without renewal. Its running deployments are stopped with a savepoint, \
         and nothing can start until it is renewed: {HOW_TO_RENEW}. Started again, they resume from that savepoint. \
         Unrenewed, it is released on {}: the project is then pay-as-you-go, its deployments stay stopped, and its jobs, \
         versions, deployments and savepoints are kept.",
        t.project_name,
        term_end_text(t.term_end),
        term_end_text(term::release_at(t.term_end, rules))
    );
    tell(&mut write, t, "subscription_expired", &subject, &body).await?;
    write.commit().await?;
    Ok(true)
}

/// Releases an expired subscription past its grace, telling the owners and billing
/// managers. Whether this call released it.
async fn release(state: &Platform, t: &TermRow) -> Result<bool, Error> {
    let mut write = state.all_tenants().write().await?;
    if !write.terms().release(&t.project_id, t.term_end).await? {
        return Ok(false); // renewed, or released by another replica
    }
    let subject = format!(
        "The subscription of project {} was released",
        t.project_name
    );
    let body = format!(
        "The subscription of project {} expired on {} and was not renewed within {} days, so it was released. \
         The project is pay-as-you-go now: its deployments stay stopped, its jobs, versions, deployments and savepoints are kept, \
         and what you start from now on is billed by the hour. Buy a new subscription for the project to run on purchased CU again.",
        t.project_name,
        term_end_text(t.term_end),
        state.config.subscriptions.release_after_days
    );
    tell(&mut write, t, "subscription_released", &subject, &body).await?;
    write.commit().await?;
    Ok(true)
}

enum Renewal {
    Renewed,
    /// This attempt renewed nothing (the balance was short, or the order was refused);
    /// the owners were told.
    NotRenewed,
    /// Made before, by this replica or another, or the term moved meanwhile.
    Made,
}

/// Makes the daily attempt `attempt` at renewing `t`'s term, as a manual renewal would
/// be placed: quoted by `billing::order::quote`, checked against the product form's
/// lifecycle, paid from the balance, recorded as an order of kind renew.
async fn renew(
    state: &Platform,
    t: &TermRow,
    attempt: i64,
    now: DateTime<Utc>,
) -> Result<Renewal, Error> {
    let all = state.all_tenants();
    if all
        .terms()
        .attempted(&t.project_id, t.term_end, attempt)
        .await?
    {
        return Ok(Renewal::Made);
    }
    let now_ms = now.timestamp_millis();
    let currency = state.pricing.currency;
    let mut write = all.write().await?;
    // The account's lock: this renewal and any order or payment serialise.
    let balance = write.lock_ledger(&t.account_id).await?.balance().await?;
    if write.terms().term_end(&t.project_id).await? != Some(t.term_end) {
        return Ok(Renewal::Made); // renewed (or released) since the term was read
    }
    let planned = plan_renewal(state, &mut write, t, now).await?;
    let order_id = new_id();
    let refused = match planned {
        Err(why) => Some(why),
        Ok(priced) if priced.amount.minor() > balance => Some(format!(
            "the renewal costs {} {} but the balance is {}",
            priced.amount.major(),
            currency.code(),
            Money::from_minor(balance, currency).major()
        )),
        Ok(priced) => {
            let mut orders = write.orders_of(&t.account_id);
            orders
                .insert(&NewOrder {
                    id: &order_id,
                    project_id: &t.project_id,
                    kind: OrderKind::Renew,
                    cu_milli: priced.cu_milli,
                    months: priced.months,
                    amount_minor: priced.amount.minor(),
                    currency: priced.amount.currency().code(),
                    created_by: RENEWED_BY,
                    created_at: now_ms,
                    starts_at: None,
                    ends_at: None,
                })
                .await?;
            orders
                .change_subscription(
                    &t.project_id,
                    priced.cu_milli,
                    Term {
                        start: priced.term.start.timestamp_millis(),
                        end: priced.term.end.timestamp_millis(),
                        months: priced.term.months,
                    },
                    now_ms,
                )
                .await?;
            let mut ledger = write.lock_ledger(&t.account_id).await?;
            domain::balance::record(
                state,
                &mut ledger,
                "order",
                -priced.amount.minor(),
                &order_id,
                RENEWED_BY,
            )
            .await?;
            if write
                .terms()
                .record_attempt(&t.project_id, t.term_end, attempt, Some(&order_id), now_ms)
                .await?
                == Attempt::Made
            {
                return Ok(Renewal::Made); // dropped: the order is not kept
            }
            let subject = format!(
                "The subscription of project {} renewed automatically",
                t.project_name
            );
            let body = format!(
                "The subscription of project {} ({} CU) was renewed for {} month(s) until {}, paid {} {} from the balance.",
                t.project_name,
                priced.cu_milli as f64 / 1000.0,
                priced.months,
                term_end_text(priced.term.end.timestamp_millis()),
                priced.amount.major(),
                currency.code()
            );
            tell(&mut write, t, "subscription_renewed", &subject, &body).await?;
            write.commit().await?;
            return Ok(Renewal::Renewed);
        }
    };
    let why = refused.unwrap_or_default();
    if write
        .terms()
        .record_attempt(&t.project_id, t.term_end, attempt, None, now_ms)
        .await?
        == Attempt::Made
    {
        return Ok(Renewal::Made);
    }
    let subject = format!(
        "The subscription of project {} could not renew automatically",
        t.project_name
    );
    let body = format!(
        "The subscription of project {} ends on {} and could not renew automatically: {why}. \
         It is tried again each day until then; top up the balance, or {HOW_TO_RENEW}. \
         Unrenewed, its running deployments are stopped with a savepoint when it ends.",
        t.project_name,
        term_end_text(t.term_end)
    );
    tell(
        &mut write,
        t,
        "subscription_renewal_failed",
        &subject,
        &body,
    )
    .await?;
    write.commit().await?;
    Ok(Renewal::NotRenewed)
}

/// The renewal's quote, as a manual renewal's plan makes it (inside the account's
/// lock); `Err` with the reason when the order would be refused.
async fn plan_renewal(
    state: &Platform,
    write: &mut AllTenantsWrite,
    t: &TermRow,
    now: DateTime<Utc>,
) -> Result<Result<order::Quote, String>, Error> {
    let now_ms = now.timestamp_millis();
    let mut orders = write.orders_of(&t.account_id);
    let project = orders.lock_project(&t.project_id).await?;
    if let Err(e) =
        domain::capacity::ensure_renewal_allowed(orders.product_form(&t.project_id).await?)
    {
        return Ok(Err(e.message));
    }
    let Some(subscription) = orders.subscription(&t.project_id).await? else {
        return Ok(Err("the project has no subscription".to_owned()));
    };
    let zone = domain::balance::parse_zone(&project.billing_time_zone)?;
    let running = orders.in_use(&t.project_id).await?;
    let open_temporary = orders
        .purchased(&t.project_id, now_ms)
        .await?
        .map_or(0, |p| p.temporary);
    let instant = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap_or(now);
    let project = order::Project {
        model: if project.billing_model == "subscription" {
            order::BillingModel::Subscription
        } else {
            order::BillingModel::PayAsYouGo
        },
        zone,
        subscription: Some(order::Subscription {
            cu_milli: subscription.cu_milli,
            term: order::Term {
                start: instant(subscription.term_start),
                end: instant(subscription.term_end),
                months: subscription.term_months,
            },
        }),
        running_cu_milli: running,
        open_temporary_cu_milli: open_temporary,
        // Only an unsubscribe's refund reads these two; a renewal's quote does not.
        unused_windows: Vec::new(),
        service_ends_at: None,
    };
    let prices = state.pricing.order_prices(now)?;
    let asked = order::Order {
        kind: order::OrderKind::Renew,
        cu: None,
        months: Some(t.renewal_months),
        starts_at: None,
        ends_at: None,
    };
    Ok(order::quote(&asked, &project, &prices, now).map_err(|r| r.to_string()))
}
