//! Term arithmetic (issue 18, rules 2 and 3): a term ends `months` calendar months after
//! its anchor (the purchase instant) at the same wall-clock time in the account's zone,
//! however the months were bought; a wall-clock time a daylight-saving jump skips ends
//! the term at the first valid instant after the gap, a repeated one at its first
//! occurrence. Checked over every IANA zone against a model built from the zone's UTC
//! offsets alone (never `from_local_datetime`, never the crate's calendar).

use billing::money::Currency;
use billing::order::{self, BillingModel, Effect, Order, OrderKind, Prices, Project, Term};
use chrono::NaiveDateTime;
use chrono_tz::TZ_VARIANTS;

use super::*;

/// The wall clock of `zone` at `t`: `t` plus the zone's UTC offset then.
fn wall(zone: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc() + Duration::seconds(i64::from(offset_secs(zone, t)))
}

/// `local` read as if it were UTC.
fn as_utc(local: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&local)
}

/// The model of where a wall-clock time begins: the first instant at which `zone`'s
/// clock shows `local` or later. Every offset the zone uses within 27 hours of `local`
/// is a candidate: `local - offset` is an occurrence of `local` when the zone has that
/// offset at that instant, and the first occurrence wins. With none, `local` is in a
/// gap: the clock is stepped minute by minute over the instants that could hold the
/// jump, and the jump found to the millisecond within its minute.
fn model_start(zone: Tz, local: NaiveDateTime) -> (DateTime<Utc>, bool) {
    let centre = as_utc(local);
    let mut offsets: Vec<i64> = (-162..=162)
        .map(|k| i64::from(offset_secs(zone, centre + Duration::minutes(10 * k))))
        .collect();
    offsets.sort_unstable();
    offsets.dedup();
    let occurrence = offsets
        .iter()
        .map(|&o| centre - Duration::seconds(o))
        .filter(|&t| wall(zone, t) == local)
        .min();
    if let Some(t) = occurrence {
        return (t, true);
    }
    let (lo, hi) = (
        centre - Duration::seconds(*offsets.last().unwrap()),
        centre - Duration::seconds(offsets[0]),
    );
    let mut t = lo;
    while wall(zone, t) < local {
        assert!(
            t <= hi,
            "{local} neither occurs nor is jumped over in {zone}"
        );
        t += Duration::minutes(1);
    }
    let (mut before, mut after) = (
        (t - Duration::minutes(1)).timestamp_millis(),
        t.timestamp_millis(),
    );
    while after - before > 1 {
        let mid = before + (after - before) / 2;
        if wall(zone, DateTime::from_timestamp_millis(mid).unwrap()) >= local {
            after = mid;
        } else {
            before = mid;
        }
    }
    (DateTime::from_timestamp_millis(after).unwrap(), false)
}

/// The model's term end: the anchor's wall-clock time `months` months later (the day
/// clamped, from the Gregorian rules in `model.rs`), begun as [`model_start`] says.
fn model_end(zone: Tz, anchor: DateTime<Utc>, months: u32) -> (DateTime<Utc>, bool) {
    let local = wall(zone, anchor);
    let (y, m, d) = expected_add_months(local.date(), months);
    model_start(
        zone,
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_time(local.time()),
    )
}

fn all_zones() -> Vec<Tz> {
    TZ_VARIANTS.to_vec()
}

fn any_zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(all_zones())
}

/// An instant in 1950-2045, to the millisecond or to the minute.
fn anchor() -> impl Strategy<Value = DateTime<Utc>> {
    let from = utc("1950-01-01T00:00:00Z").timestamp_millis();
    let span = utc("2045-01-01T00:00:00Z").timestamp_millis() - from;
    prop_oneof![
        (0..span).prop_map(move |o| DateTime::from_timestamp_millis(from + o).unwrap()),
        (0..span / MINUTE_MS)
            .prop_map(move |m| DateTime::from_timestamp_millis(from + m * MINUTE_MS).unwrap()),
    ]
}

fn project(zone: Tz) -> Project {
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

fn ask(kind: OrderKind, months: i64) -> Order {
    Order {
        kind,
        cu: Some(1),
        months: Some(months),
        starts_at: None,
        ends_at: None,
    }
}

fn prices() -> Prices {
    Prices {
        cu_month: Rate::parse("50.00", Currency::CNY).unwrap(),
        unsubscribe_refund_percent: 100,
    }
}

/// The term `months` months bought at once at `anchor`.
fn bought(zone: Tz, anchor: DateTime<Utc>, months: i64) -> Term {
    order::quote(
        &ask(OrderKind::NewPurchase, months),
        &project(zone),
        &prices(),
        anchor,
    )
    .unwrap()
    .term
}

/// The term one month bought at `anchor` and renewed a month at a time, each renewal
/// placed `at` (a fraction) into the term as it then stands, until `months` in all.
fn renewed_monthly(zone: Tz, anchor: DateTime<Utc>, months: i64, at: u16) -> Term {
    let mut p = project(zone);
    let mut term = bought(zone, anchor, 1);
    p.model = BillingModel::Subscription;
    for _ in 1..months {
        p.subscription = Some(order::Subscription {
            cu_milli: 1000,
            term,
        });
        let span = (term.end - term.start).num_milliseconds();
        let now = term.start + Duration::milliseconds(span * i64::from(at) / i64::from(u16::MAX));
        let q = order::quote(&ask(OrderKind::Renew, 1), &p, &prices(), now).unwrap();
        assert_eq!(q.effect, Effect::ChangesSubscription);
        term = q.term;
    }
    term
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Rule 2: a term ends where the model says, N months at once end where one month
    /// renewed N-1 times does, never before (or at) the anchor, and on the anchor's day
    /// of the month (or the month's last day) wherever that wall-clock time exists.
    #[test]
    fn a_term_ends_on_its_anniversary_however_its_months_were_bought(
        zone in any_zone(),
        anchor in anchor(),
        months in 1_i64..=36,
        at in any::<u16>(),
    ) {
        let at_once = bought(zone, anchor, months);
        let (model, exists) = model_end(zone, anchor, months as u32);
        prop_assert_eq!(at_once.end, model, "{} from {} + {} months", zone, anchor, months);
        prop_assert!(at_once.end > at_once.start);
        prop_assert_eq!((at_once.start, at_once.months), (anchor, months));
        let monthly = renewed_monthly(zone, anchor, months, at);
        prop_assert_eq!(monthly, at_once);
        if exists {
            let (local, end) = (wall(zone, anchor), wall(zone, at_once.end));
            prop_assert_eq!(end.time(), local.time());
            prop_assert_eq!(end.day(), local.day().min(month_len(end.year(), end.month())));
        }
    }

    /// Rule 2 and leap years: a term anchored on Feb 29 ends on Feb 28 in common years
    /// and on Feb 29 again in leap years, whether bought at once or renewed a month at
    /// a time.
    #[test]
    fn a_term_anchored_on_february_29_returns_to_it_in_leap_years(
        zone in any_zone(),
        leap in prop::sample::select(vec![1972, 1996, 2000, 2024, 2028, 2040]),
        minute in 0_i64..24 * 60,
        years in 1_i64..=3,
        at in any::<u16>(),
    ) {
        let local = NaiveDate::from_ymd_opt(leap, 2, 29).unwrap().and_hms_opt(0, 0, 0).unwrap()
            + Duration::minutes(minute);
        let (anchor, exists) = model_start(zone, local);
        prop_assume!(exists);
        let months = 12 * years;
        let at_once = bought(zone, anchor, months);
        prop_assert_eq!(at_once.end, model_end(zone, anchor, months as u32).0);
        prop_assert_eq!(renewed_monthly(zone, anchor, months, at), at_once);
        let end = wall(zone, at_once.end);
        let year = leap + years as i32;
        if end.time() == local.time() {
            prop_assert_eq!((end.month(), end.day()), (2, if is_leap(year) { 29 } else { 28 }));
        }
    }

    /// A renewal after the term has ended starts a new term anchored at the order.
    #[test]
    fn a_renewal_after_the_term_ended_is_anchored_at_the_order(
        zone in any_zone(),
        anchor in anchor(),
        (bought_months, months) in (1_i64..=36, 1_i64..=36),
        late in 1_i64..=90 * DAY_MS,
    ) {
        let term = bought(zone, anchor, bought_months);
        let mut p = project(zone);
        p.model = BillingModel::Subscription;
        p.subscription = Some(order::Subscription { cu_milli: 1000, term });
        let now = term.end + Duration::milliseconds(late);
        let q = order::quote(&ask(OrderKind::Renew, months), &p, &prices(), now).unwrap();
        prop_assert_eq!(q.term, Term { start: now, end: model_end(zone, now, months as u32).0, months });
    }
}

/// The offset changes of `zone` from 1900 to 2037 (found week by week, each to the
/// millisecond): `(instant, offset before, offset after)` in seconds.
fn transitions(zone: Tz) -> Vec<(DateTime<Utc>, i64, i64)> {
    let (mut t, last) = (utc("1900-01-01T00:00:00Z"), utc("2037-12-31T00:00:00Z"));
    let off = |t: DateTime<Utc>| i64::from(offset_secs(zone, t));
    let mut found = Vec::new();
    while t < last {
        let next = t + Duration::weeks(1);
        if off(t) != off(next) {
            let (mut lo, mut hi) = (t.timestamp_millis(), next.timestamp_millis());
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if off(DateTime::from_timestamp_millis(mid).unwrap()) == off(t) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let at = DateTime::from_timestamp_millis(hi).unwrap();
            found.push((at, off(t), off(at)));
        }
        t = next;
    }
    found
}

/// Rule 3, over every IANA zone with transitions: a term whose end falls in a gap ends
/// at the jump (the first valid instant after it, never the anchor, never a zero-length
/// term), one whose end falls in a repeated hour at its first occurrence; the anchors
/// carry odd seconds and milliseconds, so an end moved by whole minutes would show.
#[test]
fn term_ends_in_gaps_and_folds_of_every_zone_are_the_jump_and_the_first_occurrence() {
    let (mut zones, mut gaps, mut folds) = (0, 0, 0);
    for zone in all_zones() {
        let changes = transitions(zone);
        if changes.is_empty() {
            continue;
        }
        zones += 1;
        // A spread of the zone's changes: the first, the last, and some between.
        let step = (changes.len() / 6).max(1);
        let picked = changes.iter().step_by(step).chain(changes.last()).copied();
        for (i, (at, before, after)) in picked.enumerate() {
            // Inside the skipped (gap) or repeated (fold) stretch of wall-clock time,
            // which begins at the earlier of the two clock readings at the change, at
            // an odd millisecond.
            let half = (after - before).abs() * 1000 / 2;
            let into = Duration::milliseconds(half + 17_123 % half.max(1));
            let target = (at + Duration::seconds(before.min(after))).naive_utc() + into;
            let months = [1_u32, 11, 12, 13, 25][i % 5];
            let anchor_date = {
                let total =
                    target.date().year() * 12 + target.date().month0() as i32 - months as i32;
                let (y, m) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
                NaiveDate::from_ymd_opt(y, m, target.date().day())
            };
            let Some(anchor_date) = anchor_date else {
                continue; // the day does not exist that many months before
            };
            let (anchor, exists) = model_start(zone, anchor_date.and_time(target.time()));
            if !exists {
                continue; // the anchor's own wall-clock time was skipped
            }
            let end = order::term_end(zone, anchor, i64::from(months)).unwrap();
            let (model, _) = model_end(zone, anchor, months);
            assert_eq!(end, model, "{zone}: {anchor} + {months} months");
            if after > before {
                gaps += 1;
                assert_eq!(
                    end, at,
                    "{zone}: {target} is skipped; the term ends at the jump"
                );
            } else {
                folds += 1;
                assert_eq!(
                    end,
                    as_utc(target) - Duration::seconds(before),
                    "{zone}: {target} is repeated; the term ends at its first occurrence"
                );
            }
            assert!(
                end > anchor + Duration::days(27),
                "{zone}: {anchor} -> {end}"
            );
        }
    }
    assert!(zones > 300, "{zones} zones with transitions");
    assert!(gaps > 500 && folds > 500, "{gaps} gaps, {folds} folds");
}

/// The examples the rules name.
#[test]
fn a_term_bought_on_january_31_renews_to_february_28_then_march_31() {
    let zone: Tz = "Asia/Shanghai".parse().unwrap();
    let anchor = utc("2027-01-30T16:00:00Z"); // Jan 31 00:00 in Shanghai
    let one = renewed_monthly(zone, anchor, 1, 0);
    assert_eq!(one.end, utc("2027-02-27T16:00:00Z"));
    let two = renewed_monthly(zone, anchor, 2, u16::MAX / 2);
    assert_eq!(two.end, utc("2027-03-30T16:00:00Z"), "Mar 31, not Mar 28");
    assert_eq!(two.months, 2);
    // 02:30:17.5 on Sunday 29 March 2026 in Berlin is skipped (02:00 jumps to 03:00):
    // a term from 29 January at that time ends at the jump, 03:00:00, whether bought
    // for two months or for one and renewed.
    let berlin: Tz = "Europe/Berlin".parse().unwrap();
    let anchor = utc("2026-01-29T01:30:17.500Z");
    assert_eq!(bought(berlin, anchor, 2).end, utc("2026-03-29T01:00:00Z"));
    assert_eq!(
        renewed_monthly(berlin, anchor, 2, 7).end,
        utc("2026-03-29T01:00:00Z")
    );
    // 02:30:17.5 on Sunday 25 October 2026 happens twice: the first one (CEST) ends it.
    let anchor = utc("2026-09-25T00:30:17.500Z");
    assert_eq!(
        bought(berlin, anchor, 1).end,
        utc("2026-10-25T00:30:17.500Z")
    );
}
