//! Random inputs, and projects built by placing orders.

use billing::money::{Currency, Rate};
use billing::order::{
    self, BillingModel, Effect, Order, OrderKind, PaidWindow, Prices, Project, Quote, Subscription,
};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

pub const ZONES: [&str; 6] = [
    "Asia/Shanghai",
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
];

pub fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

pub fn t0() -> i64 {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .timestamp_millis()
}

/// An instant in 2026-2029 to the millisecond, or to the minute (where month ends,
/// midnights and daylight-saving changes are more often hit exactly).
pub fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        (0_i64..=4 * 365 * DAY_MS).prop_map(|o| instant(t0() + o)),
        (0_i64..=4 * 365 * 24 * 60).prop_map(|m| instant(t0() + m * 60_000)),
    ]
}

pub fn zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(ZONES.to_vec()).prop_map(|z| z.parse::<Tz>().unwrap())
}

/// A price per CU-month in CNY (cents) or JPY (no minor unit), with up to six decimals
/// beyond the minor unit, as text.
pub fn rate() -> impl Strategy<Value = Rate> {
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

pub fn prices(rate: Rate, percent: i64) -> Prices {
    Prices {
        cu_month: rate,
        unsubscribe_refund_percent: percent,
    }
}

pub fn payg(zone: Tz) -> Project {
    Project {
        model: BillingModel::PayAsYouGo,
        zone,
        subscription: None,
        running_cu_milli: 0,
        open_temporary_cu_milli: 0,
        unused_windows: Vec::new(),
        service_ends_at: None,
    }
}

pub fn ask(kind: OrderKind, cu: Option<i64>, months: Option<i64>) -> Order {
    Order {
        kind,
        cu,
        months,
        starts_at: None,
        ends_at: None,
    }
}

/// What placing the quote leaves the project with, as the gateway stores it.
pub fn apply(project: &mut Project, q: &Quote) {
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
            s.term = q.term;
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
pub fn subscribed(zone: Tz, rate: Rate, start: DateTime<Utc>, cu: i64, months: i64) -> Project {
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

pub fn term_of(project: &Project) -> order::Term {
    project.subscription.unwrap().term
}

/// The instant `fraction` (of `u64::MAX`) into `[from, to]`, to the millisecond.
pub fn between(from: DateTime<Utc>, to: DateTime<Utc>, fraction: u64) -> DateTime<Utc> {
    let span = (to - from).num_milliseconds();
    let offset = (u128::from(fraction) * span as u128 / u128::from(u64::MAX)) as i64;
    from + Duration::milliseconds(offset)
}
