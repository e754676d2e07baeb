//! Quoting an order for a project's subscription: whether it may be placed given the
//! project's subscription and the CU its deployments hold, and what it costs. The
//! caller loads that state and stores what the [`Quote`] says; nothing here reads a
//! clock (the order's instant is passed in) or a database.
//!
//! Prices are per CU-month ([`Prices::cu_month`], the version in effect at the order's
//! instant). A term's price is CU x months x that price, rounded once
//! ([`crate::money::Exact::round`]). Instants are UTC; a term's end is cut in the
//! account's billing zone ([`term_end`]). Proration is over the term's real length in
//! milliseconds ([`crate::prorate`]).
//!
//! - new_purchase: N CU for M months from now, at the price of N CU for M months; the
//!   running deployments must fit in N CU.
//! - renew: M more months at the current CU, at their full price. The term keeps its
//!   anchor (its start, the purchase instant) and ends the months bought in all after
//!   it ([`renewed_term`]): a term bought on Jan 31 and renewed a month at a time ends
//!   Feb 28, then Mar 31, as three months bought at once would; never counted from a
//!   clamped end. Renewed after it has ended, a new term is anchored at the order.
//! - upgrade / downgrade: the new CU for the rest of the term. The price of the changed
//!   CU for the whole term, less the share of the term elapsed
//!   ([`prorate::remaining`]), is charged (upgrade) or credited (downgrade). A
//!   downgrade never goes below what running deployments hold beyond the temporary
//!   upgrades open now.
//! - renew_change: renew for M months at a new CU and change to that CU for the rest
//!   of the current term, in one order, priced as the two it combines: the CU change
//!   prorated as an upgrade or downgrade is, plus the renewal's M months at the new
//!   CU. Its downgrade part obeys the downgrade's rule; the term must not have ended.
//! - temporary_upgrade: extra CU for a window of at least an hour inside the term, at
//!   the window's share of the extra CU's price for the whole term ([`prorate::share`]).
//! - unsubscribe: nothing may be running; what is left of the term's price and of the
//!   temporary upgrades not used yet is refunded at [`Prices::unsubscribe_refund_percent`]
//!   — except what lies after the product form's end of service (EOS): the platform
//!   ends the service there, not the user, so that part is refunded in full
//!   ([`unused_parts`]). An unsubscribe at or after EOS refunds the term and the
//!   temporary upgrades from the EOS instant on, in full.

use std::ops::RangeInclusive;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::money::{Money, Rate};
use crate::period::{add_months, local_start, Window};
use crate::prorate;
use crate::BillingError;

/// Whole CU an order may name.
pub const CU: RangeInclusive<i64> = 1..=1000;
/// Whole months an order may buy.
pub const MONTHS: RangeInclusive<i64> = 1..=36;
/// A temporary upgrade lasts at least this long after it starts.
pub const MIN_TEMPORARY_UPGRADE_MS: i64 = 3_600_000;
/// A temporary upgrade asked to start "now" reaches the server a moment later: a start
/// up to this long ago is taken as now.
pub const START_SLACK_MS: i64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderKind {
    NewPurchase,
    Renew,
    Upgrade,
    Downgrade,
    /// Renew with a configuration change: renew at a new CU and change to it now.
    RenewChange,
    TemporaryUpgrade,
    Unsubscribe,
}

/// What is asked for, as asked: the fields each kind needs are checked by [`quote`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub kind: OrderKind,
    /// new_purchase: CU to buy; upgrade/downgrade/renew_change: the new total;
    /// temporary_upgrade: the extra CU. Whole CU.
    pub cu: Option<i64>,
    /// new_purchase/renew/renew_change: whole months.
    pub months: Option<i64>,
    /// temporary_upgrade: the window (start defaults to the order's instant).
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingModel {
    PayAsYouGo,
    Subscription,
}

/// A subscription's term: `[start, end)`, bought as `months` months in all. `start` is
/// the term's anchor, the instant it was bought: its end is always `months` calendar
/// months after it ([`term_end`]), however many renewals made those months up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub months: i64,
}

impl Term {
    pub fn millis(&self) -> i64 {
        self.end.timestamp_millis() - self.start.timestamp_millis()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    pub cu_milli: i64,
    pub term: Term,
}

/// A temporary upgrade already paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidWindow {
    pub window: Window,
    pub paid: Money,
}

/// The project as it stands at the order's instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub model: BillingModel,
    /// The account's billing zone, where terms end.
    pub zone: Tz,
    pub subscription: Option<Subscription>,
    /// Milli-CU held by the project's running deployments.
    pub running_cu_milli: i64,
    /// Extra milli-CU of temporary upgrades open at the order's instant.
    pub open_temporary_cu_milli: i64,
    /// Temporary upgrades ending after the order's instant (what an unsubscribe
    /// refunds with the term).
    pub unused_windows: Vec<PaidWindow>,
    /// The end of service (EOS) of the project's product form, if scheduled: from then
    /// on the platform runs nothing for the project, and what was paid for after it is
    /// refunded in full on unsubscribing.
    pub service_ends_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prices {
    /// Subscription price of one CU for one month, in effect at the order's instant.
    pub cu_month: Rate,
    /// Share of the unused amount an unsubscribe refunds, 0 to 100.
    pub unsubscribe_refund_percent: i64,
}

/// What placing an order changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The project becomes a subscription with the quote's CU and term.
    Subscribes,
    /// The subscription's CU and term become the quote's.
    ChangesSubscription,
    /// The quote's CU are added for this window; the subscription is unchanged.
    AddsTemporaryUpgrade(Window),
    /// The subscription ends at the order's instant, with the windows not used yet.
    Unsubscribes,
}

/// What an order costs and does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    pub kind: OrderKind,
    /// Paid now; negative for a credit (downgrade, unsubscribe).
    pub amount: Money,
    /// The subscription's milli-CU after the order; for a temporary upgrade the extra
    /// milli-CU; 0 after unsubscribing.
    pub cu_milli: i64,
    /// Months the order buys (0 but for new purchases and renewals).
    pub months: i64,
    /// The subscription's term after the order; on unsubscribing, cut at the order's
    /// instant.
    pub term: Term,
    pub effect: Effect,
}

/// How a refusal is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The request field breaks a rule.
    InvalidField(&'static str),
    /// The project's state forbids the order; a stable code.
    Conflict(&'static str),
    /// Arithmetic or calendar failure, not the customer's doing.
    Internal,
}

/// Why an order cannot be quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{field} is required for this order")]
    Missing { field: &'static str },
    #[error("{field} must be {what} from {} to {}, got {got}", .range.start(), .range.end())]
    OutOfRange {
        field: &'static str,
        what: &'static str,
        range: RangeInclusive<i64>,
        got: i64,
    },
    #[error("the project already has a subscription; renew or change it instead")]
    AlreadySubscribed,
    #[error("the project is pay-as-you-go; place a new_purchase first")]
    NotSubscribed,
    #[error("the project's running deployments hold {} CU; buy at least that much", *.running_cu_milli as f64 / 1000.0)]
    BelowRunning { running_cu_milli: i64 },
    #[error("an upgrade needs more than the current {} CU", .current_cu_milli / 1000)]
    UpgradeNotAbove { current_cu_milli: i64 },
    #[error("a downgrade needs fewer than the current {} CU", .current_cu_milli / 1000)]
    DowngradeNotBelow { current_cu_milli: i64 },
    #[error("renew_change needs a CU other than the current {}; to keep the CU, renew", .current_cu_milli / 1000)]
    RenewChangeSameCu { current_cu_milli: i64 },
    #[error("the project's running deployments hold {} CU; a downgrade cannot go below that", *.base_cu_milli as f64 / 1000.0)]
    DowngradeBelowRunning {
        /// What running deployments hold beyond the temporary upgrades open now.
        base_cu_milli: i64,
    },
    #[error("the subscription's term has ended; renew it first (renew_change changes the CU of a running term)")]
    TermEnded,
    #[error("ends_at is required for a temporary upgrade")]
    NoWindowEnd,
    #[error("a temporary upgrade cannot start in the past")]
    StartsInPast,
    #[error("a temporary upgrade lasts at least an hour after it starts")]
    WindowTooShort,
    #[error("a temporary upgrade ends within the subscription's term (by {}); renew first to go beyond it", .term_end.to_rfc3339())]
    WindowBeyondTerm { term_end: DateTime<Utc> },
    #[error("stop the project's running deployments before unsubscribing; they would otherwise run pay-as-you-go")]
    DeploymentsRunning,
    #[error(transparent)]
    Billing(#[from] BillingError),
}

impl Refusal {
    pub fn kind(&self) -> RefusalKind {
        use RefusalKind::{Conflict, Internal, InvalidField};
        match self {
            Self::Missing { field } | Self::OutOfRange { field, .. } => InvalidField(field),
            Self::BelowRunning { .. }
            | Self::UpgradeNotAbove { .. }
            | Self::DowngradeNotBelow { .. }
            | Self::RenewChangeSameCu { .. }
            | Self::DowngradeBelowRunning { .. } => InvalidField("cu"),
            Self::NoWindowEnd | Self::WindowTooShort | Self::WindowBeyondTerm { .. } => {
                InvalidField("ends_at")
            }
            Self::StartsInPast => InvalidField("starts_at"),
            Self::AlreadySubscribed => Conflict("already_subscribed"),
            Self::NotSubscribed => Conflict("not_subscribed"),
            Self::TermEnded => Conflict("term_ended"),
            Self::DeploymentsRunning => Conflict("deployments_running"),
            Self::Billing(_) => Internal,
        }
    }
}

/// Decides whether `order` may be placed for `project` at `now`, and what it costs.
pub fn quote(
    order: &Order,
    project: &Project,
    prices: &Prices,
    now: DateTime<Utc>,
) -> Result<Quote, Refusal> {
    let subscription = || project.subscription.as_ref().ok_or(Refusal::NotSubscribed);
    match order.kind {
        OrderKind::NewPurchase => new_purchase(order, project, prices, now),
        OrderKind::Renew => renew(order, subscription()?, project.zone, prices, now),
        OrderKind::Upgrade | OrderKind::Downgrade => {
            change_cu(order, subscription()?, project, prices, now)
        }
        OrderKind::RenewChange => renew_change(order, subscription()?, project, prices, now),
        OrderKind::TemporaryUpgrade => temporary_upgrade(order, subscription()?, prices, now),
        OrderKind::Unsubscribe => unsubscribe(subscription()?, project, prices, now),
    }
}

/// The price of `cu_milli` for `months` whole months, rounded once.
pub fn term_price(rate: Rate, cu_milli: i64, months: i64) -> Result<Money, BillingError> {
    rate.charge_months(cu_milli, months)?.round()
}

/// The end of a term of `months` months from `from`: the same wall-clock time in `zone`
/// on the date `months` calendar months later (the day clamped to that month's length).
/// A wall-clock time a daylight-saving jump skips on that date ends the term at the
/// first valid instant after the gap, when the clock jumps over it (02:30 on the last
/// Sunday of March in Berlin ends at 03:00); a repeated one at its first occurrence
/// ([`local_start`]). A term of at least a month therefore always ends weeks after it
/// began, never at its start.
pub fn term_end(zone: Tz, from: DateTime<Utc>, months: i64) -> Result<DateTime<Utc>, BillingError> {
    let months = u32::try_from(months)
        .map_err(|_| BillingError::BadPeriod(format!("{months} months is not a term")))?;
    let local = from.with_timezone(&zone);
    let date = add_months(local.date_naive(), months)?;
    local_start(zone, date.and_time(local.time()))
}

/// `term` renewed by `months` at `now`. While the term runs (or at its very end) the
/// anchor stays: the end is `term.months + months` months after the term's start, so a
/// renewal never counts from a clamped end and N months bought at once end where one
/// month renewed N-1 times does. Once the term has ended, the renewal is a new term
/// anchored at `now`.
pub fn renewed_term(
    zone: Tz,
    term: &Term,
    months: i64,
    now: DateTime<Utc>,
) -> Result<Term, BillingError> {
    if now > term.end {
        let now = instant(now.timestamp_millis(), now);
        return Ok(Term {
            start: now,
            end: ms_instant(term_end(zone, now, months)?),
            months,
        });
    }
    let total = term.months + months;
    Ok(Term {
        start: term.start,
        end: ms_instant(term_end(zone, term.start, total)?),
        months: total,
    })
}

/// What is left of `whole`, paid for `[start, end)`, from `cut` on (nothing once `cut`
/// is past the end, all of it before the start): the refund for a term or a window
/// cut short at `cut`. Split by the same cumulative shares as every proration, so
/// refunds from two cuts differ by exactly the piece between them.
pub fn unused_from(
    whole: Money,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    cut: DateTime<Utc>,
) -> Result<Money, BillingError> {
    let (start, end, cut) = (
        start.timestamp_millis(),
        end.timestamp_millis(),
        cut.timestamp_millis(),
    );
    if end <= start {
        return Ok(Money::from_minor(0, whole.currency()));
    }
    prorate::remaining(whole, (cut - start).clamp(0, end - start), end - start)
}

/// The unused part of `whole`, paid for `[start, end)`, on unsubscribing at `now` with
/// the service ending at `eos` (if scheduled), in two: `(the user's, the platform's)`.
/// The user's is the unused part before EOS, refunded at the unsubscribe refund
/// percent; the platform's is the part after EOS (the platform, not the user, cut the
/// term short there), refunded in full. At or after EOS the user's part is nothing and
/// the platform's is everything from EOS on.
pub fn unused_parts(
    whole: Money,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    eos: Option<DateTime<Utc>>,
) -> Result<(Money, Money), BillingError> {
    let from_now = unused_from(whole, start, end, now)?;
    let Some(eos) = eos else {
        return Ok((from_now, Money::from_minor(0, whole.currency())));
    };
    let platforms = unused_from(whole, start, end, eos)?;
    let users = from_now.minor() - unused_from(whole, start, end, eos.max(now))?.minor();
    Ok((Money::from_minor(users, whole.currency()), platforms))
}

fn field(
    value: Option<i64>,
    field: &'static str,
    range: RangeInclusive<i64>,
    what: &'static str,
) -> Result<i64, Refusal> {
    let got = value.ok_or(Refusal::Missing { field })?;
    if range.contains(&got) {
        Ok(got)
    } else {
        Err(Refusal::OutOfRange {
            field,
            what,
            range,
            got,
        })
    }
}

fn instant(ms: i64, or: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(or)
}

/// `t` to the millisecond, as instants are stored.
fn ms_instant(t: DateTime<Utc>) -> DateTime<Utc> {
    instant(t.timestamp_millis(), t)
}

fn new_purchase(
    order: &Order,
    project: &Project,
    prices: &Prices,
    now: DateTime<Utc>,
) -> Result<Quote, Refusal> {
    if project.model == BillingModel::Subscription || project.subscription.is_some() {
        return Err(Refusal::AlreadySubscribed);
    }
    let cu_milli = field(order.cu, "cu", CU, "a whole number of CU")? * 1000;
    let months = field(order.months, "months", MONTHS, "whole months")?;
    if project.running_cu_milli > cu_milli {
        return Err(Refusal::BelowRunning {
            running_cu_milli: project.running_cu_milli,
        });
    }
    let end = term_end(project.zone, now, months)?;
    Ok(Quote {
        kind: order.kind,
        amount: term_price(prices.cu_month, cu_milli, months)?,
        cu_milli,
        months,
        term: Term {
            start: instant(now.timestamp_millis(), now),
            end: instant(end.timestamp_millis(), end),
            months,
        },
        effect: Effect::Subscribes,
    })
}

fn renew(
    order: &Order,
    current: &Subscription,
    zone: Tz,
    prices: &Prices,
    now: DateTime<Utc>,
) -> Result<Quote, Refusal> {
    let months = field(order.months, "months", MONTHS, "whole months")?;
    Ok(Quote {
        kind: order.kind,
        amount: term_price(prices.cu_month, current.cu_milli, months)?,
        cu_milli: current.cu_milli,
        months,
        term: renewed_term(zone, &current.term, months, now)?,
        effect: Effect::ChangesSubscription,
    })
}

/// Renew and change the CU in one order: the change for the rest of the current term
/// (as [`change_cu`] prices it, under the same rules) plus the renewal of the term at
/// the new CU.
fn renew_change(
    order: &Order,
    current: &Subscription,
    project: &Project,
    prices: &Prices,
    now: DateTime<Utc>,
) -> Result<Quote, Refusal> {
    let cu_milli = field(order.cu, "cu", CU, "a whole number of CU")? * 1000;
    let months = field(order.months, "months", MONTHS, "whole months")?;
    if cu_milli == current.cu_milli {
        return Err(Refusal::RenewChangeSameCu {
            current_cu_milli: current.cu_milli,
        });
    }
    let kind = if cu_milli > current.cu_milli {
        OrderKind::Upgrade
    } else {
        OrderKind::Downgrade
    };
    let change = change_cu(
        &Order {
            kind,
            months: None,
            ..order.clone()
        },
        current,
        project,
        prices,
        now,
    )?;
    let renewal = term_price(prices.cu_month, cu_milli, months)?;
    Ok(Quote {
        kind: OrderKind::RenewChange,
        amount: change.amount.checked_add(renewal)?,
        cu_milli,
        months,
        term: renewed_term(project.zone, &current.term, months, now)?,
        effect: Effect::ChangesSubscription,
    })
}

fn change_cu(
    order: &Order,
    current: &Subscription,
    project: &Project,
    prices: &Prices,
    now: DateTime<Utc>,
) -> Result<Quote, Refusal> {
    let cu_milli = field(order.cu, "cu", CU, "a whole number of CU")? * 1000;
    let upgrade = order.kind == OrderKind::Upgrade;
    if upgrade && cu_milli <= current.cu_milli {
        return Err(Refusal::UpgradeNotAbove {
            current_cu_milli: current.cu_milli,
        });
    }
    if !upgrade && cu_milli >= current.cu_milli {
        return Err(Refusal::DowngradeNotBelow {
            current_cu_milli: current.cu_milli,
        });
    }
    if !upgrade && project.running_cu_milli > cu_milli + project.open_temporary_cu_milli {
        return Err(Refusal::DowngradeBelowRunning {
            base_cu_milli: project.running_cu_milli - project.open_temporary_cu_milli,
        });
    }
    let (now_ms, start) = (
        now.timestamp_millis(),
        current.term.start.timestamp_millis(),
    );
    if now_ms >= current.term.end.timestamp_millis() {
        return Err(Refusal::TermEnded);
    }
    let whole = term_price(
        prices.cu_month,
        (cu_milli - current.cu_milli).abs(),
        current.term.months,
    )?;
    let left = prorate::remaining(whole, (now_ms - start).max(0), current.term.millis())?;
    Ok(Quote {
        kind: order.kind,
        amount: if upgrade { left } else { left.negate() },
        cu_milli,
        months: 0,
        term: current.term,
        effect: Effect::ChangesSubscription,
    })
}

fn temporary_upgrade(
    order: &Order,
    current: &Subscription,
    prices: &Prices,
    now: DateTime<Utc>,
) -> Result<Quote, Refusal> {
    let extra = field(order.cu, "cu", CU, "a whole number of extra CU")? * 1000;
    let now_ms = now.timestamp_millis();
    let starts = order.starts_at.map_or(now_ms, |t| t.timestamp_millis());
    let ends = order
        .ends_at
        .ok_or(Refusal::NoWindowEnd)?
        .timestamp_millis();
    if starts < now_ms - START_SLACK_MS {
        return Err(Refusal::StartsInPast);
    }
    let starts = starts.max(now_ms);
    if ends - starts < MIN_TEMPORARY_UPGRADE_MS {
        return Err(Refusal::WindowTooShort);
    }
    if ends > current.term.end.timestamp_millis() {
        return Err(Refusal::WindowBeyondTerm {
            term_end: current.term.end,
        });
    }
    // The window's share of what the extra CU would cost over the whole term.
    let whole = term_price(prices.cu_month, extra, current.term.months)?;
    let amount = prorate::share(whole, ends - starts, current.term.millis())?;
    Ok(Quote {
        kind: OrderKind::TemporaryUpgrade,
        amount,
        cu_milli: extra,
        months: 0,
        term: current.term,
        effect: Effect::AddsTemporaryUpgrade(Window {
            start: instant(starts, now),
            end: instant(ends, now),
        }),
    })
}

fn unsubscribe(
    current: &Subscription,
    project: &Project,
    prices: &Prices,
    now: DateTime<Utc>,
) -> Result<Quote, Refusal> {
    if project.running_cu_milli > 0 {
        return Err(Refusal::DeploymentsRunning);
    }
    let eos = project.service_ends_at;
    let whole = term_price(prices.cu_month, current.cu_milli, current.term.months)?;
    let (mut users, mut platforms) =
        unused_parts(whole, (current.term.start, current.term.end), now, eos)?;
    // Temporary upgrades paid for but not used yet are refunded with the term.
    for paid in &project.unused_windows {
        let (user, platform) =
            unused_parts(paid.paid, (paid.window.start, paid.window.end), now, eos)?;
        users = users.checked_add(user)?;
        platforms = platforms.checked_add(platform)?;
    }
    let refund =
        prorate::share(users, prices.unsubscribe_refund_percent, 100)?.checked_add(platforms)?;
    let now_ms = now.timestamp_millis();
    Ok(Quote {
        kind: OrderKind::Unsubscribe,
        amount: refund.negate(),
        cu_milli: 0,
        months: 0,
        term: Term {
            end: instant(now_ms.min(current.term.end.timestamp_millis()), now),
            ..current.term
        },
        effect: Effect::Unsubscribes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn prices(percent: i64) -> Prices {
        Prices {
            cu_month: Rate::parse("50", Currency::CNY).unwrap(),
            unsubscribe_refund_percent: percent,
        }
    }

    fn ask(kind: OrderKind, cu: Option<i64>, months: Option<i64>) -> Order {
        Order {
            kind,
            cu,
            months,
            starts_at: None,
            ends_at: None,
        }
    }

    /// `cu` CU bought for May 2026 (31 days) in UTC, `running` CU running.
    fn may(cu: i64, running: i64) -> Project {
        Project {
            model: BillingModel::Subscription,
            zone: chrono_tz::UTC,
            subscription: Some(Subscription {
                cu_milli: cu * 1000,
                term: Term {
                    start: utc("2026-05-01T00:00:00Z"),
                    end: utc("2026-06-01T00:00:00Z"),
                    months: 1,
                },
            }),
            running_cu_milli: running * 1000,
            open_temporary_cu_milli: 0,
            unused_windows: Vec::new(),
            service_ends_at: None,
        }
    }

    fn with(project: &Project, q: &Quote) -> Project {
        let mut p = project.clone();
        p.subscription = Some(Subscription {
            cu_milli: q.cu_milli,
            term: q.term,
        });
        p
    }

    #[test]
    fn a_renewal_with_a_cu_change_costs_the_prorated_change_plus_the_renewal_at_the_new_cu() {
        let (project, now) = (may(2, 0), utc("2026-05-16T12:00:00Z")); // half the term left
        let q = quote(
            &ask(OrderKind::RenewChange, Some(4), Some(2)),
            &project,
            &prices(100),
            now,
        )
        .unwrap();
        // 2 more CU for the half month left: 50.00; 4 CU for 2 months: 400.00.
        assert_eq!(q.amount.major(), "450.00");
        assert_eq!((q.cu_milli, q.months), (4000, 2));
        assert_eq!(
            q.term,
            Term {
                start: utc("2026-05-01T00:00:00Z"),
                end: utc("2026-08-01T00:00:00Z"),
                months: 3,
            }
        );
        assert_eq!(q.effect, Effect::ChangesSubscription);
        // The same as the upgrade and then the renewal, placed at once.
        let up = quote(
            &ask(OrderKind::Upgrade, Some(4), None),
            &project,
            &prices(100),
            now,
        )
        .unwrap();
        let renew = quote(
            &ask(OrderKind::Renew, None, Some(2)),
            &with(&project, &up),
            &prices(100),
            now,
        )
        .unwrap();
        assert_eq!(q.amount, up.amount.checked_add(renew.amount).unwrap());
        assert_eq!((q.cu_milli, q.term), (renew.cu_milli, renew.term));

        // Down to 1 CU: the half month of 1 CU less is credited (25.00), and the
        // renewal is 1 CU for a month (50.00).
        let down = quote(
            &ask(OrderKind::RenewChange, Some(1), Some(1)),
            &may(2, 1),
            &prices(100),
            now,
        )
        .unwrap();
        assert_eq!(down.amount.major(), "25.00");
        assert_eq!(down.term.end, utc("2026-07-01T00:00:00Z"));
    }

    #[test]
    fn a_renewal_with_a_cu_change_keeps_the_rules_of_both_orders() {
        let now = utc("2026-05-16T12:00:00Z");
        let refuse = |project: &Project, cu: Option<i64>, months: Option<i64>, at| {
            quote(
                &ask(OrderKind::RenewChange, cu, months),
                project,
                &prices(100),
                at,
            )
            .unwrap_err()
        };
        // A downgrade part never goes below what runs.
        let below = refuse(&may(4, 3), Some(2), Some(1), now);
        assert_eq!(below.kind(), RefusalKind::InvalidField("cu"));
        assert!(below.to_string().contains("hold 3 CU"), "{below}");
        let same = refuse(&may(2, 0), Some(2), Some(1), now);
        assert_eq!(same.kind(), RefusalKind::InvalidField("cu"));
        assert!(same.to_string().contains("renew"), "{same}");
        assert_eq!(
            refuse(&may(2, 0), Some(3), None, now).kind(),
            RefusalKind::InvalidField("months")
        );
        assert_eq!(
            refuse(&may(2, 0), None, Some(1), now).kind(),
            RefusalKind::InvalidField("cu")
        );
        assert_eq!(
            refuse(&may(2, 0), Some(3), Some(37), now).kind(),
            RefusalKind::InvalidField("months")
        );
        assert_eq!(
            refuse(&may(2, 0), Some(3), Some(1), utc("2026-06-02T00:00:00Z")),
            Refusal::TermEnded
        );
        let mut payg = may(2, 0);
        payg.subscription = None;
        assert_eq!(refuse(&payg, Some(3), Some(1), now), Refusal::NotSubscribed);
    }

    #[test]
    fn the_part_of_a_term_after_the_end_of_service_is_refunded_in_full() {
        // 3 CU for May: 150.00. The service ends on May 21 (20 of 31 days in).
        let mut project = may(3, 0);
        project.service_ends_at = Some(utc("2026-05-21T00:00:00Z"));
        let unsubscribe = |project: &Project, at, percent| {
            quote(
                &ask(OrderKind::Unsubscribe, None, None),
                project,
                &prices(percent),
                at,
            )
            .unwrap()
            .amount
            .major()
        };
        // At or after EOS: the 11 days from EOS, in full whatever the refund percent:
        // 150.00 - 150.00 x 20/31 (96.77) = 53.23.
        assert_eq!(
            unsubscribe(&project, utc("2026-05-23T00:00:00Z"), 50),
            "-53.23"
        );
        assert_eq!(
            unsubscribe(&project, utc("2026-05-21T00:00:00Z"), 0),
            "-53.23"
        );
        assert_eq!(
            unsubscribe(&project, utc("2026-06-05T00:00:00Z"), 0),
            "-53.23"
        );
        // Before EOS: the days up to EOS at the percent (10 days: 48.38, half is 24.19),
        // the days after it in full (53.23).
        assert_eq!(
            unsubscribe(&project, utc("2026-05-11T00:00:00Z"), 50),
            "-77.42"
        );
        // Without an EOS inside the term, all of the unused part (101.61) at the percent:
        // 50.805, half to even 50.80.
        project.service_ends_at = Some(utc("2026-07-01T00:00:00Z"));
        assert_eq!(
            unsubscribe(&project, utc("2026-05-11T00:00:00Z"), 50),
            "-50.80"
        );
        project.service_ends_at = None;
        assert_eq!(
            unsubscribe(&project, utc("2026-05-11T00:00:00Z"), 50),
            "-50.80"
        );

        // A temporary upgrade paid for after EOS is refunded in full too: 10.00 for
        // May 20-22, half of it after EOS.
        let mut project = may(3, 0);
        project.service_ends_at = Some(utc("2026-05-21T00:00:00Z"));
        project.unused_windows.push(PaidWindow {
            window: Window {
                start: utc("2026-05-20T00:00:00Z"),
                end: utc("2026-05-22T00:00:00Z"),
            },
            paid: Money::from_minor(1_000, Currency::CNY),
        });
        assert_eq!(
            unsubscribe(&project, utc("2026-05-23T00:00:00Z"), 0),
            "-58.23"
        );
    }

    #[test]
    fn unused_parts_split_exactly_at_the_end_of_service() {
        let whole = Money::from_minor(10_001, Currency::CNY);
        let (start, end) = (utc("2026-05-01T00:00:00Z"), utc("2026-06-01T00:00:00Z"));
        let eos = utc("2026-05-17T13:00:00Z");
        for now in [start, utc("2026-05-09T07:00:00Z"), eos, end] {
            let (user, platform) = unused_parts(whole, (start, end), now, Some(eos)).unwrap();
            let unused = unused_from(whole, start, end, now.min(eos)).unwrap();
            assert_eq!(user.minor() + platform.minor(), unused.minor(), "at {now}");
            assert_eq!(platform, unused_from(whole, start, end, eos).unwrap());
        }
    }
}
