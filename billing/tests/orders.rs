#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests of quoting subscription orders ([`billing::order::quote`]) over random
//! terms, instants, zones, prices and CU: purchases never charge a negative amount,
//! every amount is the half-to-even rounding of its exact value, renewals keep the CU,
//! upgrades and downgrades cost the remaining share of the term's price of the changed
//! CU, the pieces of a term held in turns add up to the full-term price, and terms end at
//! the same wall-clock time in the account's zone.
//!
//! Expectations are computed here from scratch (integer half-to-even division, the
//! Gregorian calendar) and compared with what the crate computes.

use billing::money::{Currency, Money, Rate};
use billing::order::{
    self, BillingModel, Effect, Order, OrderKind, PaidWindow, Prices, Project, Quote, Refusal,
    RefusalKind, Subscription,
};
use billing::period::Window;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

const ZONES: [&str; 6] = [
    "Asia/Shanghai",
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
];

// ---------------------------------------------------------------------------------
// Independent arithmetic and calendar.
// ---------------------------------------------------------------------------------

/// `num / den` rounded half to even, `den > 0`, for any sign of `num`.
fn half_even(num: i128, den: i128) -> i128 {
    assert!(den > 0);
    let (q, r) = (num.div_euclid(den), num.rem_euclid(den));
    if 2 * r > den || (2 * r == den && q % 2 != 0) {
        q + 1
    } else {
        q
    }
}

/// The price of `cu_milli` for `months` months at `micro_minor` millionths of a minor
/// unit per CU-month: milli-CU x months x millionths is a billionth of a minor unit.
fn term_price(micro_minor: i128, cu_milli: i64, months: i64) -> i64 {
    half_even(
        micro_minor * i128::from(cu_milli) * i128::from(months),
        1_000_000_000,
    ) as i64
}

/// The share of `whole` for `part` of `term`, rounded half to even.
fn share(whole: i64, part: i64, term: i64) -> i64 {
    half_even(i128::from(whole) * i128::from(part), i128::from(term)) as i64
}

/// What is left of `whole` after `elapsed` of `term`.
fn remaining(whole: i64, elapsed: i64, term: i64) -> i64 {
    whole - share(whole, elapsed, term)
}

/// `|amount - whole x part / term| <= 1` minor unit, in integers.
fn within_one_minor(amount: i64, whole: i64, part: i64, term: i64) -> bool {
    let exact = i128::from(whole) * i128::from(part);
    (i128::from(amount) * i128::from(term) - exact).abs() <= i128::from(term)
}

fn month_len(year: i32, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => unreachable!("month {month}"),
    }
}

/// The same wall-clock time `months` calendar months later, the day clamped to the
/// target month's length.
fn months_later(local: NaiveDateTime, months: i64) -> NaiveDateTime {
    let date = local.date();
    let total = date.year() * 12 + date.month0() as i32 + months as i32;
    let (year, month) = (total / 12, (total % 12) as u32 + 1);
    let day = date.day().min(month_len(year, month));
    NaiveDate::from_ymd_opt(year, month, day)
        .unwrap()
        .and_time(local.time())
}

/// Where a term from `from` of `months` months must end in `zone`: that wall-clock time,
/// or, where a daylight-saving jump skips it on the end date (02:30 on the last Sunday
/// of March in Berlin), that time moved on by whole minutes until it exists (03:00).
fn expected_end(zone: Tz, from: DateTime<Utc>, months: i64) -> DateTime<Utc> {
    let mut local = months_later(from.with_timezone(&zone).naive_local(), months);
    loop {
        if let Some(t) = zone.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
        local += chrono::Duration::minutes(1);
    }
}

// ---------------------------------------------------------------------------------
// Random inputs.
// ---------------------------------------------------------------------------------

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn t0() -> i64 {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .timestamp_millis()
}

/// An instant in 2026-2029 to the millisecond, or to the minute (where month ends,
/// midnights and daylight-saving changes are more often hit exactly).
fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        (0_i64..=4 * 365 * DAY_MS).prop_map(|o| instant(t0() + o)),
        (0_i64..=4 * 365 * 24 * 60).prop_map(|m| instant(t0() + m * 60_000)),
    ]
}

fn zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(ZONES.to_vec()).prop_map(|z| z.parse::<Tz>().unwrap())
}

/// A price per CU-month in CNY (cents) or JPY (no minor unit), with up to six decimals
/// beyond the minor unit, as text.
fn rate() -> impl Strategy<Value = Rate> {
    (
        prop::sample::select(vec![Currency::CNY, Currency::JPY]),
        0_u32..=200,
        0_u32..=99_999_999,
    )
        .prop_map(|(currency, whole, fraction)| {
            let places = usize::from(currency.exponent()) + 6;
            let digits = format!("{fraction:08}");
            Rate::parse(&format!("{whole}.{}", &digits[..places]), currency).unwrap()
        })
}

fn prices(rate: Rate, percent: i64) -> Prices {
    Prices {
        cu_month: rate,
        unsubscribe_refund_percent: percent,
    }
}

fn payg(zone: Tz) -> Project {
    Project {
        model: BillingModel::PayAsYouGo,
        zone,
        subscription: None,
        running_cu_milli: 0,
        open_temporary_cu_milli: 0,
        unused_windows: Vec::new(),
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

/// What placing the quote leaves the project with, as the gateway stores it.
fn apply(project: &mut Project, q: &Quote) {
    match q.effect {
        Effect::Subscribes => {
            project.model = BillingModel::Subscription;
            project.subscription = Some(Subscription {
                cu_milli: q.cu_milli,
                term: q.term,
            });
        }
        Effect::ChangesSubscription => {
            let s = project.subscription.as_mut().unwrap();
            s.cu_milli = q.cu_milli;
            s.term.end = q.term.end;
            s.term.months = q.term.months;
        }
        Effect::AddsTemporaryUpgrade(window) => project.unused_windows.push(PaidWindow {
            window,
            paid: q.amount,
        }),
        Effect::Unsubscribes => {
            project.model = BillingModel::PayAsYouGo;
            project.subscription = None;
            project.unused_windows.clear();
        }
    }
}

/// A project that bought `cu` CU for `months` months at `start`.
fn subscribed(zone: Tz, rate: Rate, start: DateTime<Utc>, cu: i64, months: i64) -> Project {
    let mut project = payg(zone);
    let bought = order::quote(
        &ask(OrderKind::NewPurchase, Some(cu), Some(months)),
        &project,
        &prices(rate, 100),
        start,
    )
    .unwrap();
    apply(&mut project, &bought);
    project
}

fn term_of(project: &Project) -> order::Term {
    project.subscription.unwrap().term
}

/// The instant `fraction` (of `u64::MAX`) into `[from, to]`, to the millisecond.
fn between(from: DateTime<Utc>, to: DateTime<Utc>, fraction: u64) -> DateTime<Utc> {
    let span = (to - from).num_milliseconds();
    let offset = (u128::from(fraction) * span as u128 / u128::from(u64::MAX)) as i64;
    from + Duration::milliseconds(offset)
}

// ---------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_new_purchase_costs_its_cu_for_its_months_exactly_and_ends_at_the_same_local_time_months_later(
        zone in zone(),
        rate in rate(),
        now in any_instant(),
        cu in 1_i64..=1000,
        months in 1_i64..=36,
        running in 0_i64..=1_000_000,
    ) {
        let mut project = payg(zone);
        project.running_cu_milli = running;
        let asked = ask(OrderKind::NewPurchase, Some(cu), Some(months));
        let result = order::quote(&asked, &project, &prices(rate, 100), now);
        if running > cu * 1000 {
            let refusal = result.unwrap_err();
            prop_assert_eq!(refusal.kind(), RefusalKind::InvalidField("cu"));
            return Ok(());
        }
        let q = result.unwrap();
        let price = term_price(rate.micro_minor_per_cu_hour(), cu * 1000, months);
        prop_assert!(q.amount.minor() >= 0);
        prop_assert_eq!(q.amount, Money::from_minor(price, rate.currency()));
        prop_assert_eq!((q.cu_milli, q.months, q.term.months), (cu * 1000, months, months));
        prop_assert_eq!(q.effect, Effect::Subscribes);
        prop_assert_eq!(q.term.start, now);
        let end = expected_end(zone, now, months);
        prop_assert_eq!(q.term.end, end);
        // Between 28 days a month (less an hour of daylight saving) and 31 (plus one).
        let days = q.term.millis() as f64 / DAY_MS as f64;
        prop_assert!(days * 24.0 >= (months * 28 * 24 - 1) as f64, "{} days", days);
        prop_assert!(days * 24.0 <= (months * 31 * 24 + 1) as f64, "{} days", days);
    }

    #[test]
    fn a_renewal_keeps_the_cu_and_start_and_adds_its_months_from_the_end_or_from_now(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        cu in 1_i64..=1000,
        (bought, months) in (1_i64..=36, 1_i64..=36),
        later in any::<u64>(),
        lapsed in any::<bool>(),
    ) {
        let project = subscribed(zone, rate, start, cu, bought);
        let term = term_of(&project);
        // Renewed inside the term, or after it has ended.
        let now = if lapsed {
            term.end + Duration::milliseconds((later % (90 * DAY_MS) as u64) as i64)
        } else {
            between(term.start, term.end, later)
        };
        let q = order::quote(&ask(OrderKind::Renew, None, Some(months)), &project, &prices(rate, 100), now)
            .unwrap();
        prop_assert_eq!(q.cu_milli, cu * 1000);
        prop_assert_eq!(q.term.start, term.start);
        prop_assert_eq!(q.term.months, bought + months);
        prop_assert_eq!(q.months, months);
        prop_assert_eq!(q.effect, Effect::ChangesSubscription);
        let price = term_price(rate.micro_minor_per_cu_hour(), cu * 1000, months);
        prop_assert!(q.amount.minor() >= 0);
        prop_assert_eq!(q.amount, Money::from_minor(price, rate.currency()));
        prop_assert_eq!(q.term.end, expected_end(zone, term.end.max(now), months));
        prop_assert!(q.term.end > term.end);
    }

    #[test]
    fn an_upgrade_or_downgrade_costs_the_remaining_share_of_the_terms_price_of_the_changed_cu(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        (cu, new_cu) in (1_i64..=1000, 1_i64..=1000),
        months in 1_i64..=36,
        at in any::<u64>(),
    ) {
        prop_assume!(cu != new_cu);
        let project = subscribed(zone, rate, start, cu, months);
        let term = term_of(&project);
        let now = between(term.start, term.end - Duration::milliseconds(1), at);
        let kind = if new_cu > cu { OrderKind::Upgrade } else { OrderKind::Downgrade };
        let q = order::quote(&ask(kind, Some(new_cu), None), &project, &prices(rate, 100), now)
            .unwrap();
        let whole = term_price(rate.micro_minor_per_cu_hour(), (new_cu - cu).abs() * 1000, months);
        let (elapsed, length) = ((now - term.start).num_milliseconds(), term.millis());
        let left = remaining(whole, elapsed, length);
        let signed = if kind == OrderKind::Upgrade { left } else { -left };
        prop_assert_eq!(q.amount, Money::from_minor(signed, rate.currency()));
        prop_assert!(within_one_minor(left, whole, length - elapsed, length));
        prop_assert!((0..=whole).contains(&left));
        prop_assert_eq!(q.cu_milli, new_cu * 1000);
        prop_assert_eq!((q.months, q.term), (0, term));
        prop_assert_eq!(q.effect, Effect::ChangesSubscription);
        // The same order is refused once the term has ended.
        let refusal = order::quote(&ask(kind, Some(new_cu), None), &project, &prices(rate, 100), term.end)
            .unwrap_err();
        prop_assert_eq!(refusal, Refusal::TermEnded);
    }

    #[test]
    fn cu_held_in_turns_over_the_whole_term_cost_exactly_the_full_terms_price(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        (cu, extra) in (1_i64..=500, 1_i64..=500),
        months in 1_i64..=36,
        cuts in prop::collection::btree_set(any::<u64>(), 1..12),
    ) {
        let base = subscribed(zone, rate, start, cu, months);
        let term = term_of(&base);
        // The term cut at distinct instants; the first stretch starts with the term.
        let mut instants: Vec<DateTime<Utc>> = cuts
            .iter()
            .map(|c| between(term.start, term.end - Duration::milliseconds(1), *c))
            .collect();
        instants.insert(0, term.start);
        instants.dedup();
        // Two projects alike: one holds the extra CU on the even stretches, the other
        // on the odd ones, upgrading where a stretch begins and downgrading where it ends.
        let mut nets = [0_i64, 0_i64];
        let mut held_stretches: [Vec<i64>; 2] = [Vec::new(), Vec::new()];
        for (parity, net) in nets.iter_mut().enumerate() {
            let mut project = base.clone();
            for (i, at) in instants.iter().enumerate() {
                let holds = i % 2 == parity;
                let (kind, target) = if holds {
                    (OrderKind::Upgrade, cu + extra)
                } else if i == 0 {
                    continue;
                } else {
                    (OrderKind::Downgrade, cu)
                };
                let q = order::quote(&ask(kind, Some(target), None), &project, &prices(rate, 100), *at)
                    .unwrap();
                *net += q.amount.minor();
                apply(&mut project, &q);
                if holds {
                    held_stretches[parity].push(i as i64);
                }
            }
        }
        let whole = term_price(rate.micro_minor_per_cu_hour(), extra * 1000, months);
        prop_assert_eq!(nets[0] + nets[1], whole, "nets {:?}", nets);
        // Each project paid exactly the pieces of the stretches it held: the step between
        // the rounded cumulative shares at the stretch's edges.
        let edge = |i: usize| {
            instants
                .get(i)
                .map_or(term.millis(), |t| (*t - term.start).num_milliseconds())
        };
        for parity in 0..2 {
            let pieces: i64 = held_stretches[parity]
                .iter()
                .map(|&i| {
                    let i = i as usize;
                    share(whole, edge(i + 1), term.millis()) - share(whole, edge(i), term.millis())
                })
                .sum();
            prop_assert_eq!(nets[parity], pieces);
            prop_assert!(nets[parity] >= 0);
        }
    }

    #[test]
    fn a_temporary_upgrade_costs_its_windows_share_of_the_terms_price_of_the_extra_cu(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        (cu, extra) in (1_i64..=1000, 1_i64..=1000),
        months in 1_i64..=36,
        (at, from, to) in (any::<u64>(), any::<u64>(), any::<u64>()),
        asked_now in any::<bool>(),
    ) {
        let project = subscribed(zone, rate, start, cu, months);
        let term = term_of(&project);
        let now = between(term.start, term.end - Duration::milliseconds(HOUR_MS), at);
        let starts = if asked_now { now } else { between(now, term.end - Duration::milliseconds(HOUR_MS), from) };
        let ends = between(starts + Duration::milliseconds(HOUR_MS), term.end, to);
        let asked = Order {
            kind: OrderKind::TemporaryUpgrade,
            cu: Some(extra),
            months: None,
            starts_at: (!asked_now).then_some(starts),
            ends_at: Some(ends),
        };
        let q = order::quote(&asked, &project, &prices(rate, 100), now).unwrap();
        let whole = term_price(rate.micro_minor_per_cu_hour(), extra * 1000, months);
        let window = (ends - starts).num_milliseconds();
        prop_assert_eq!(q.amount, Money::from_minor(share(whole, window, term.millis()), rate.currency()));
        prop_assert!((0..=whole).contains(&q.amount.minor()));
        prop_assert!(within_one_minor(q.amount.minor(), whole, window, term.millis()));
        prop_assert_eq!(q.effect, Effect::AddsTemporaryUpgrade(Window { start: starts, end: ends }));
        prop_assert_eq!((q.cu_milli, q.months, q.term), (extra * 1000, 0, term));
        // A millisecond short of an hour, or past the term, is refused.
        let short = Order { ends_at: Some(starts + Duration::milliseconds(HOUR_MS - 1)), ..asked.clone() };
        prop_assert_eq!(order::quote(&short, &project, &prices(rate, 100), now).unwrap_err(), Refusal::WindowTooShort);
        let beyond = Order { ends_at: Some(term.end + Duration::milliseconds(1)), ..asked };
        prop_assert_eq!(
            order::quote(&beyond, &project, &prices(rate, 100), now).unwrap_err().kind(),
            RefusalKind::InvalidField("ends_at")
        );
    }

    #[test]
    fn unsubscribing_refunds_its_percent_of_the_unused_term_and_windows_and_never_more_than_was_paid(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        cu in 1_i64..=1000,
        months in 1_i64..=36,
        percent in prop_oneof![Just(100_i64), 0_i64..=100],
        windows in prop::collection::vec((1_i64..=100, any::<u64>(), any::<u64>()), 0..4),
        at in any::<u64>(),
    ) {
        let mut project = subscribed(zone, rate, start, cu, months);
        let term = term_of(&project);
        let price = term_price(rate.micro_minor_per_cu_hour(), cu * 1000, months);
        let mut paid = price;
        // Temporary upgrades bought at the term's start.
        for (extra, from, to) in &windows {
            let starts = between(term.start, term.end - Duration::milliseconds(HOUR_MS), *from);
            let ends = between(starts + Duration::milliseconds(HOUR_MS), term.end, *to);
            let asked = Order {
                kind: OrderKind::TemporaryUpgrade,
                cu: Some(*extra),
                months: None,
                starts_at: Some(starts),
                ends_at: Some(ends),
            };
            let q = order::quote(&asked, &project, &prices(rate, 100), term.start).unwrap();
            paid += q.amount.minor();
            apply(&mut project, &q);
        }
        let now = between(term.start, term.end, at);
        let now_ms = now.timestamp_millis();
        // The gateway passes the windows not ended yet.
        project.unused_windows.retain(|w| w.window.end > now);
        let unused = remaining(price, (now - term.start).num_milliseconds(), term.millis())
            + project
                .unused_windows
                .iter()
                .map(|w| {
                    let (s, e) = (w.window.start.timestamp_millis(), w.window.end.timestamp_millis());
                    remaining(w.paid.minor(), (now_ms - s).max(0), e - s)
                })
                .sum::<i64>();
        let q = order::quote(&ask(OrderKind::Unsubscribe, None, None), &project, &prices(rate, percent), now)
            .unwrap();
        prop_assert_eq!(q.amount, Money::from_minor(-share(unused, percent, 100), rate.currency()));
        prop_assert!(q.amount.minor() <= 0);
        prop_assert!(-q.amount.minor() <= paid, "refunds {} of {} paid", -q.amount.minor(), paid);
        prop_assert_eq!(q.term.end, now.min(term.end));
        prop_assert_eq!((q.term.start, q.cu_milli, q.effect), (term.start, 0, Effect::Unsubscribes));
        if windows.is_empty() && percent == 100 {
            // What was kept is exactly the share of the term used.
            prop_assert_eq!(price + q.amount.minor(), share(price, (now - term.start).num_milliseconds(), term.millis()));
        }
        // Nothing may be running.
        project.running_cu_milli = 1;
        prop_assert_eq!(
            order::quote(&ask(OrderKind::Unsubscribe, None, None), &project, &prices(rate, percent), now).unwrap_err(),
            Refusal::DeploymentsRunning
        );
    }

    #[test]
    fn any_order_is_charged_for_purchases_credited_for_returns_and_refused_by_field_or_state(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        has_subscription in any::<bool>(),
        (cu, months) in (1_i64..=1000, 1_i64..=36),
        kind in prop::sample::select(vec![
            OrderKind::NewPurchase, OrderKind::Renew, OrderKind::Upgrade,
            OrderKind::Downgrade, OrderKind::TemporaryUpgrade, OrderKind::Unsubscribe,
        ]),
        asked_cu in prop::option::of(prop_oneof![-5_i64..=1005, 1_i64..=1000]),
        asked_months in prop::option::of(prop_oneof![-2_i64..=40, 1_i64..=36]),
        (at, window) in (any::<u64>(), 0_i64..=40 * DAY_MS),
        (running, open_temporary) in (0_i64..=1_200_000, 0_i64..=100_000),
    ) {
        let mut project = if has_subscription {
            subscribed(zone, rate, start, cu, months)
        } else {
            payg(zone)
        };
        project.running_cu_milli = running;
        project.open_temporary_cu_milli = open_temporary;
        let now = match project.subscription {
            Some(s) => between(s.term.start, s.term.end + Duration::days(30), at),
            None => start,
        };
        let asked = Order {
            kind,
            cu: asked_cu,
            months: asked_months,
            starts_at: None,
            ends_at: Some(now + Duration::milliseconds(window)),
        };
        let needs_cu = !matches!(kind, OrderKind::Renew | OrderKind::Unsubscribe);
        let needs_months = matches!(kind, OrderKind::NewPurchase | OrderKind::Renew);
        match order::quote(&asked, &project, &prices(rate, 100), now) {
            Ok(q) => {
                prop_assert_eq!(q.kind, kind);
                prop_assert_eq!(q.amount.currency(), rate.currency());
                match kind {
                    OrderKind::Downgrade | OrderKind::Unsubscribe => prop_assert!(q.amount.minor() <= 0),
                    _ => prop_assert!(q.amount.minor() >= 0, "{:?} charges {}", kind, q.amount),
                }
                prop_assert_eq!(kind == OrderKind::NewPurchase, !has_subscription);
                if needs_cu {
                    prop_assert!((1..=1000).contains(&asked_cu.unwrap()));
                }
                if needs_months {
                    prop_assert!((1..=36).contains(&asked_months.unwrap()));
                }
                // What runs fits the CU after the order (a downgrade counts the
                // temporary upgrades open now).
                match kind {
                    OrderKind::NewPurchase => prop_assert!(running <= q.cu_milli),
                    OrderKind::Downgrade => prop_assert!(running <= q.cu_milli + open_temporary),
                    OrderKind::Unsubscribe => prop_assert_eq!(running, 0),
                    _ => {}
                }
            }
            Err(refusal) => {
                let message = refusal.to_string();
                // The state is checked before the fields.
                if kind == OrderKind::NewPurchase && has_subscription {
                    prop_assert_eq!(refusal, Refusal::AlreadySubscribed);
                } else if kind != OrderKind::NewPurchase && !has_subscription {
                    prop_assert_eq!(refusal.kind(), RefusalKind::Conflict("not_subscribed"));
                } else if needs_cu && asked_cu.is_none_or(|c| !(1..=1000).contains(&c)) {
                    prop_assert_eq!(refusal.kind(), RefusalKind::InvalidField("cu"), "{}", message);
                    prop_assert!(message.starts_with("cu "), "{}", message);
                } else if needs_months && !needs_cu && asked_months.is_none_or(|m| !(1..=36).contains(&m)) {
                    prop_assert_eq!(refusal.kind(), RefusalKind::InvalidField("months"), "{}", message);
                } else {
                    prop_assert!(refusal.kind() != RefusalKind::Internal, "{}", message);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Examples: the words of each refusal and a worked price.
// ---------------------------------------------------------------------------------

/// A term whose end falls in the hour a daylight-saving jump skips ends when the clock
/// jumps: it is not empty, so it can be upgraded and unsubscribed (it once ended at its
/// own start, which refused upgrades and failed an unsubscribe).
#[test]
fn a_term_ending_in_a_skipped_hour_ends_when_the_clock_jumps() {
    let zone: Tz = "Europe/Berlin".parse().unwrap();
    let rate = Rate::parse("50", Currency::CNY).unwrap();
    let start = DateTime::parse_from_rfc3339("2026-01-29T02:30:00+01:00")
        .unwrap()
        .with_timezone(&Utc);
    let project = subscribed(zone, rate, start, 2, 2);
    let term = term_of(&project);
    // 2026-03-29 02:30 does not exist in Berlin: the clock goes from 02:00 to 03:00 CEST.
    assert_eq!(
        term.end,
        DateTime::parse_from_rfc3339("2026-03-29T03:00:00+02:00").unwrap()
    );
    let halfway = start + (term.end - start) / 2;
    let upgrade = order::quote(
        &ask(OrderKind::Upgrade, Some(3), None),
        &project,
        &prices(rate, 100),
        halfway,
    )
    .unwrap();
    assert!(upgrade.amount.minor() > 0, "{upgrade:?}");
    let refund = order::quote(
        &ask(OrderKind::Unsubscribe, None, None),
        &project,
        &prices(rate, 100),
        halfway,
    )
    .unwrap();
    assert!(refund.amount.minor() < 0, "{refund:?}");
}

#[test]
fn three_cu_for_two_months_at_fifty_a_cu_month_cost_three_hundred_and_upgrades_prorate() {
    let zone: Tz = "Asia/Shanghai".parse().unwrap();
    let rate = Rate::parse("50", Currency::CNY).unwrap();
    let start = DateTime::parse_from_rfc3339("2026-01-31T10:00:00+08:00")
        .unwrap()
        .with_timezone(&Utc);
    let project = subscribed(zone, rate, start, 3, 2);
    let term = term_of(&project);
    // Jan 31 + 2 months is Mar 31, at the same local time.
    assert_eq!(
        term.end,
        DateTime::parse_from_rfc3339("2026-03-31T10:00:00+08:00").unwrap()
    );
    let bought = order::quote(
        &ask(OrderKind::NewPurchase, Some(3), Some(2)),
        &payg(zone),
        &prices(rate, 100),
        start,
    )
    .unwrap();
    assert_eq!(bought.amount.major(), "300.00");
    // Halfway through, 2 more CU cost half of 2 x 2 x 50.00.
    let half = term.start + Duration::milliseconds(term.millis() / 2);
    let up = order::quote(
        &ask(OrderKind::Upgrade, Some(5), None),
        &project,
        &prices(rate, 100),
        half,
    )
    .unwrap();
    assert_eq!(up.amount.major(), "100.00");
}

#[test]
fn refusals_say_what_is_wrong_and_how_they_are_reported() {
    let zone: Tz = "UTC".parse().unwrap();
    let rate = Rate::parse("50", Currency::CNY).unwrap();
    let start = DateTime::parse_from_rfc3339("2026-05-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut project = subscribed(zone, rate, start, 3, 1);
    let now = start + Duration::days(1);
    let refuse = |project: &Project, order: Order| {
        order::quote(&order, project, &prices(rate, 100), now).unwrap_err()
    };
    let cases = [
        (
            refuse(&project, ask(OrderKind::Upgrade, None, None)),
            "cu is required for this order",
            RefusalKind::InvalidField("cu"),
        ),
        (
            refuse(&project, ask(OrderKind::Renew, None, Some(37))),
            "months must be whole months from 1 to 36, got 37",
            RefusalKind::InvalidField("months"),
        ),
        (
            refuse(&project, ask(OrderKind::Upgrade, Some(3), None)),
            "an upgrade needs more than the current 3 CU",
            RefusalKind::InvalidField("cu"),
        ),
        (
            refuse(&project, ask(OrderKind::Downgrade, Some(4), None)),
            "a downgrade needs fewer than the current 3 CU",
            RefusalKind::InvalidField("cu"),
        ),
        (
            refuse(&project, ask(OrderKind::NewPurchase, Some(1), Some(1))),
            "the project already has a subscription; renew or change it instead",
            RefusalKind::Conflict("already_subscribed"),
        ),
        (
            refuse(&payg(zone), ask(OrderKind::Renew, None, None)),
            "the project is pay-as-you-go; place a new_purchase first",
            RefusalKind::Conflict("not_subscribed"),
        ),
        (
            refuse(
                &project,
                Order {
                    ends_at: Some(now + Duration::hours(2)),
                    ..ask(OrderKind::TemporaryUpgrade, Some(0), None)
                },
            ),
            "cu must be a whole number of extra CU from 1 to 1000, got 0",
            RefusalKind::InvalidField("cu"),
        ),
        (
            refuse(&project, ask(OrderKind::TemporaryUpgrade, Some(1), None)),
            "ends_at is required for a temporary upgrade",
            RefusalKind::InvalidField("ends_at"),
        ),
        (
            refuse(
                &project,
                Order {
                    starts_at: Some(now - Duration::minutes(2)),
                    ends_at: Some(now + Duration::hours(2)),
                    ..ask(OrderKind::TemporaryUpgrade, Some(1), None)
                },
            ),
            "a temporary upgrade cannot start in the past",
            RefusalKind::InvalidField("starts_at"),
        ),
        (
            refuse(
                &project,
                Order {
                    ends_at: Some(now + Duration::days(40)),
                    ..ask(OrderKind::TemporaryUpgrade, Some(1), None)
                },
            ),
            "a temporary upgrade ends within the subscription's term (by 2026-06-01T00:00:00+00:00); renew first to go beyond it",
            RefusalKind::InvalidField("ends_at"),
        ),
    ];
    for (refusal, message, kind) in cases {
        assert_eq!(refusal.to_string(), message);
        assert_eq!(refusal.kind(), kind, "{message}");
    }
    project.running_cu_milli = 2_500;
    project.open_temporary_cu_milli = 500;
    let below = refuse(&project, ask(OrderKind::Downgrade, Some(1), None));
    assert_eq!(
        below.to_string(),
        "the project's running deployments hold 2 CU; a downgrade cannot go below that"
    );
    let mut payg_running = payg(zone);
    payg_running.running_cu_milli = 2_500;
    let too_small = refuse(&payg_running, ask(OrderKind::NewPurchase, Some(2), Some(1)));
    assert_eq!(
        too_small.to_string(),
        "the project's running deployments hold 2.5 CU; buy at least that much"
    );
    assert_eq!(
        refuse(&project, ask(OrderKind::Unsubscribe, None, None)).kind(),
        RefusalKind::Conflict("deployments_running")
    );
}
