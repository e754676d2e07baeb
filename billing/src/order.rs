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
//! - renew: M more months at the current CU, at their full price; the term is extended
//!   by M months from its end (or from now, if it has ended).
//! - upgrade / downgrade: the new CU for the rest of the term. The price of the changed
//!   CU for the whole term, less the share of the term elapsed
//!   ([`prorate::remaining`]), is charged (upgrade) or credited (downgrade). A
//!   downgrade never goes below what running deployments hold beyond the temporary
//!   upgrades open now.
//! - temporary_upgrade: extra CU for a window of at least an hour inside the term, at
//!   the window's share of the extra CU's price for the whole term ([`prorate::share`]).
//! - unsubscribe: nothing may be running; what is left of the term's price and of the
//!   temporary upgrades not used yet is refunded at [`Prices::unsubscribe_refund_percent`].

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
    TemporaryUpgrade,
    Unsubscribe,
}

/// What is asked for, as asked: the fields each kind needs are checked by [`quote`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub kind: OrderKind,
    /// new_purchase: CU to buy; upgrade/downgrade: the new total; temporary_upgrade:
    /// the extra CU. Whole CU.
    pub cu: Option<i64>,
    /// new_purchase/renew: whole months.
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

/// A subscription's term: `[start, end)`, bought as `months` months in all.
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
    #[error("the project's running deployments hold {} CU; a downgrade cannot go below that", *.base_cu_milli as f64 / 1000.0)]
    DowngradeBelowRunning {
        /// What running deployments hold beyond the temporary upgrades open now.
        base_cu_milli: i64,
    },
    #[error("the subscription's term has ended; renew it first")]
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
/// A wall-clock time a daylight-saving jump skips on that date ends the term when the
/// clock jumps over it (02:30 on the last Sunday of March in Berlin ends at 03:00); a
/// repeated one at its first occurrence.
pub fn term_end(zone: Tz, from: DateTime<Utc>, months: i64) -> Result<DateTime<Utc>, BillingError> {
    let local = from.with_timezone(&zone);
    let date = add_months(local.date_naive(), months as u32)?;
    local_start(zone, date.and_time(local.time()))
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
    let from = instant(
        current
            .term
            .end
            .timestamp_millis()
            .max(now.timestamp_millis()),
        now,
    );
    let end = term_end(zone, from, months)?;
    Ok(Quote {
        kind: order.kind,
        amount: term_price(prices.cu_month, current.cu_milli, months)?,
        cu_milli: current.cu_milli,
        months,
        term: Term {
            start: current.term.start,
            end: instant(end.timestamp_millis(), end),
            months: current.term.months + months,
        },
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
    let now_ms = now.timestamp_millis();
    let (start, term) = (current.term.start.timestamp_millis(), current.term.millis());
    let whole = term_price(prices.cu_month, current.cu_milli, current.term.months)?;
    let mut unused = prorate::remaining(whole, (now_ms - start).clamp(0, term), term)?;
    // Temporary upgrades paid for but not used yet are refunded with the term.
    for paid in &project.unused_windows {
        let (starts, ends) = (
            paid.window.start.timestamp_millis(),
            paid.window.end.timestamp_millis(),
        );
        let left = prorate::remaining(paid.paid, (now_ms - starts).max(0), ends - starts)?;
        unused = unused.checked_add(left)?;
    }
    let refund = prorate::share(unused, prices.unsubscribe_refund_percent, 100)?;
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
