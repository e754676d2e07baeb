#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests of the billing rules: metering is exact over random schedules of
//! runs in any billing zone, re-rating never bills a CU-millisecond twice, bills add up
//! to their rounded lines, proration pieces add up to the whole, and price changes are
//! never retroactive.
//!
//! Every expectation here is computed from scratch in this file (its own ledger, its own
//! half-to-even rounding, its own calendar) and compared with what the crate computes.

use std::collections::BTreeSet;

use billing::meter::{self, Granularity, RunInterval};
use billing::money::{Currency, Money, Rate, EXACT_PER_MINOR};
use billing::period::{self, Window};
use billing::price::{PriceBook, PriceVersion};
use billing::prorate;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ms(n: i64) -> Duration {
    Duration::milliseconds(n)
}

// ---------------------------------------------------------------------------------
// Independent arithmetic: rounding, ledger, calendar.
// ---------------------------------------------------------------------------------

/// `num / den` rounded half to even, for `num >= 0`, `den > 0`, written without the
/// crate's helpers.
fn half_even(num: i128, den: i128) -> i128 {
    assert!(num >= 0 && den > 0);
    let (q, r) = (num / den, num % den);
    if 2 * r > den || (2 * r == den && q % 2 == 1) {
        q + 1
    } else {
        q
    }
}

/// Milli-CU x milliseconds held in `[from, to)` by intervals known at an instant
/// `>= to` (a still-running interval runs at least until `to`). A plain per-interval sum
/// of clipped durations, not `meter::cu_millis`.
fn ledger(intervals: &[RunInterval], from: DateTime<Utc>, to: DateTime<Utc>) -> i128 {
    let mut total = 0_i128;
    for i in intervals {
        let start = if i.start > from { i.start } else { from };
        let end = match i.end {
            Some(e) if e < to => e,
            _ => to,
        };
        if end > start {
            total += i128::from((end - start).num_milliseconds()) * i128::from(i.cu_milli);
        }
    }
    total
}

/// The largest total milli-CU held at any instant, by a sweep over the edges.
fn peak_concurrent_cu(intervals: &[RunInterval], now: DateTime<Utc>) -> i64 {
    let mut edges: Vec<(DateTime<Utc>, i64)> = Vec::new();
    for i in intervals {
        edges.push((i.start, i.cu_milli));
        edges.push((i.end.unwrap_or(now), -i.cu_milli));
    }
    // Half-open intervals: at one instant, what ends leaves before what starts arrives.
    edges.sort_by_key(|&(t, delta)| (t, delta));
    let (mut held, mut peak) = (0_i64, 0_i64);
    for (_, delta) in edges {
        held += delta;
        peak = peak.max(held);
    }
    peak
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn month_len(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => unreachable!("month {month}"),
    }
}

/// `date` plus `n` months, the day clamped, from the Gregorian rules alone.
fn expected_add_months(date: NaiveDate, n: u32) -> (i32, u32, u32) {
    let months = date.year() * 12 + date.month0() as i32 + n as i32;
    let (year, month) = (months / 12, (months % 12) as u32 + 1);
    (year, month, date.day().min(month_len(year, month)))
}

// ---------------------------------------------------------------------------------
// Random schedules of runs.
// ---------------------------------------------------------------------------------

const ZONES: [&str; 6] = [
    "Asia/Shanghai",
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
];

/// Instants worth billing around in each zone: its daylight-saving changes (Berlin,
/// New York, Lord Howe's half-hour shifts), a leap day, a year end.
fn bases(zone: &str) -> Vec<&'static str> {
    let mut bases = match zone {
        "Europe/Berlin" => vec!["2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z"],
        "America/New_York" => vec!["2026-03-08T07:00:00Z", "2026-11-01T06:00:00Z"],
        // DST ends 2026-04-05 02:00 (+11) and starts 2026-10-04 02:00 (+10:30).
        "Australia/Lord_Howe" => vec!["2026-04-04T15:00:00Z", "2026-10-03T15:30:00Z"],
        _ => vec!["2026-12-31T16:00:00Z"],
    };
    bases.push("2028-02-28T20:00:00Z");
    bases
}

#[derive(Debug, Clone)]
enum Step {
    /// Start at this milli-CU if stopped.
    Start(i64),
    Stop,
    /// Close the interval and open one at another milli-CU at the same instant.
    Rescale(i64),
    /// Stop, and start again at the same CU this many ms later.
    Restart(i64),
    /// The interval ends at the crash; restarted this many ms later, or never.
    Crash(Option<i64>),
}

#[derive(Debug, Clone)]
struct Deployment {
    first_at: i64,
    initial_cu: Option<i64>,
    steps: Vec<(i64, Step)>,
}

#[derive(Debug, Clone)]
struct Scenario {
    zone: &'static str,
    t0: DateTime<Utc>,
    /// Every instant of the scenario is a multiple of this many ms (1 ms, 1 s, 1 min).
    resolution: i64,
    deployments: Vec<Deployment>,
    /// `from - t0`, ms.
    from_offset: i64,
    /// `now - from`, ms.
    span: i64,
    /// Instants to check coverage at, as fractions of the span.
    samples: Vec<u64>,
}

impl Scenario {
    fn tz(&self) -> Tz {
        self.zone.parse().unwrap()
    }

    fn snap(&self, n: i64) -> i64 {
        n.div_euclid(self.resolution) * self.resolution
    }

    fn gap(&self, n: i64) -> i64 {
        self.snap(n).max(self.resolution)
    }

    fn from(&self) -> DateTime<Utc> {
        self.t0 + ms(self.snap(self.from_offset))
    }

    fn now(&self) -> DateTime<Utc> {
        self.from() + ms(self.gap(self.span))
    }

    /// The run intervals the schedule records once it has played out completely
    /// (deployments still running at the end have `end: None`).
    fn intervals(&self) -> Vec<RunInterval> {
        let mut out = Vec::new();
        for d in &self.deployments {
            let mut t = self.t0 + ms(self.snap(d.first_at));
            let mut open = d.initial_cu.map(|cu| (t, cu));
            let mut close = |start: DateTime<Utc>, end: DateTime<Utc>, cu_milli: i64| {
                out.push(RunInterval {
                    start,
                    end: Some(end),
                    cu_milli,
                })
            };
            for (gap, step) in &d.steps {
                t += ms(self.gap(*gap));
                match *step {
                    Step::Start(cu) => {
                        if open.is_none() {
                            open = Some((t, cu));
                        }
                    }
                    Step::Stop => {
                        if let Some((s, cu)) = open.take() {
                            close(s, t, cu);
                        }
                    }
                    Step::Rescale(cu) => {
                        if let Some((s, old)) = open.take() {
                            close(s, t, old);
                            open = Some((t, if cu == old { old + 250 } else { cu }));
                        }
                    }
                    Step::Restart(delay) => {
                        if let Some((s, cu)) = open.take() {
                            close(s, t, cu);
                            t += ms(self.gap(delay));
                            open = Some((t, cu));
                        }
                    }
                    Step::Crash(restart) => {
                        if let Some((s, cu)) = open.take() {
                            close(s, t, cu);
                            if let Some(after) = restart {
                                t += ms(self.gap(after));
                                open = Some((t, cu));
                            }
                        }
                    }
                }
            }
            if let Some((start, cu_milli)) = open {
                out.push(RunInterval {
                    start,
                    end: None,
                    cu_milli,
                });
            }
        }
        out
    }
}

/// The intervals as recorded at `now`: what started by then, still running (`end:
/// None`) if it had not ended by then.
fn known_at(all: &[RunInterval], now: DateTime<Utc>) -> Vec<RunInterval> {
    all.iter()
        .filter(|i| i.start < now)
        .map(|i| RunInterval {
            end: i.end.filter(|e| *e <= now),
            ..*i
        })
        .collect()
}

fn cu_quarters() -> impl Strategy<Value = i64> {
    // A quarter of a CU up to 16 CU, in milli-CU.
    (1_i64..=64).prop_map(|q| q * 250)
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        cu_quarters().prop_map(Step::Start),
        Just(Step::Stop),
        cu_quarters().prop_map(Step::Rescale),
        (1_000_i64..=30_000).prop_map(Step::Restart),
        prop::option::of(1_i64..=6 * HOUR_MS).prop_map(Step::Crash),
    ]
}

fn deployment() -> impl Strategy<Value = Deployment> {
    (
        0_i64..=12 * HOUR_MS,
        prop::option::weighted(0.8, cu_quarters()),
        prop::collection::vec(
            (
                prop_oneof![
                    1_i64..=2 * MINUTE_MS,
                    1_i64..=90 * MINUTE_MS,
                    1_i64..=8 * HOUR_MS
                ],
                step(),
            ),
            0..16,
        ),
    )
        .prop_map(|(first_at, initial_cu, steps)| Deployment {
            first_at,
            initial_cu,
            steps,
        })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    prop::sample::select(ZONES.to_vec())
        .prop_flat_map(|zone| (Just(zone), prop::sample::select(bases(zone))))
        .prop_flat_map(|(zone, base)| {
            (
                Just(zone),
                Just(base),
                0_i64..=36 * HOUR_MS,
                prop::sample::select(vec![1_i64, 1_000, MINUTE_MS]),
                prop::collection::vec(deployment(), 1..=4),
                // From anywhere, or right around the base (inside a repeated or skipped
                // hour, where the first window must still begin at `from`).
                prop_oneof![
                    2 => (-6 * HOUR_MS..=24 * HOUR_MS).prop_map(|o| (o, false)),
                    1 => (-2 * HOUR_MS..=2 * HOUR_MS).prop_map(|o| (o, true)),
                ],
                prop_oneof![1_i64..=3 * HOUR_MS, 1_i64..=3 * DAY_MS],
                prop::collection::vec(any::<u64>(), 8),
            )
        })
        .prop_map(
            |(zone, base, offset, resolution, deployments, (from, near_base), span, samples)| {
                let t0 =
                    utc(base) - ms(36 * HOUR_MS) + ms(offset.div_euclid(resolution) * resolution);
                let from_offset = if near_base {
                    (utc(base) + ms(from) - t0).num_milliseconds()
                } else {
                    from
                };
                Scenario {
                    zone,
                    t0,
                    resolution,
                    deployments,
                    from_offset,
                    span,
                    samples,
                }
            },
        )
}

// ---------------------------------------------------------------------------------
// Window checks.
// ---------------------------------------------------------------------------------

/// Windows are non-empty, contiguous, non-overlapping, cover `[from, to)` and their
/// lengths sum to the span.
fn assert_partition(
    windows: &[Window],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    prop_assert!(!windows.is_empty(), "no window for a non-empty span");
    prop_assert_eq!(windows[0].start, from);
    prop_assert_eq!(windows[windows.len() - 1].end, to);
    for w in windows {
        prop_assert!(w.start < w.end, "empty window {:?}", w);
    }
    for pair in windows.windows(2) {
        prop_assert_eq!(pair[0].end, pair[1].start, "gap or overlap");
    }
    prop_assert_eq!(
        windows.iter().map(Window::millis).sum::<i64>(),
        (to - from).num_milliseconds()
    );
    Ok(())
}

fn offset_secs(tz: Tz, at: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc()
}

/// Each window lies in one local hour of `tz` (start and last millisecond read the same
/// local date and hour), is at most an hour long, and each edge between windows is a
/// local hour start or a daylight-saving change.
fn assert_local_hours(windows: &[Window], tz: Tz) -> Result<(), TestCaseError> {
    for w in windows {
        prop_assert!(w.millis() <= HOUR_MS, "window longer than an hour {:?}", w);
        let first = w.start.with_timezone(&tz);
        let last = (w.end - ms(1)).with_timezone(&tz);
        prop_assert_eq!(
            (first.date_naive(), first.hour()),
            (last.date_naive(), last.hour()),
            "window {:?} spans two local hours",
            w
        );
    }
    for pair in windows.windows(2) {
        let edge = pair[0].end;
        let local = edge.with_timezone(&tz);
        let on_the_hour = local.minute() == 0 && local.second() == 0 && local.nanosecond() == 0;
        let offset_changes = offset_secs(tz, edge - ms(1)) != offset_secs(tz, edge);
        prop_assert!(
            on_the_hour || offset_changes,
            "edge {} ({}) is neither an hour nor a clock change",
            edge,
            local
        );
    }
    Ok(())
}

/// How many minutes of `window`'s minute grid (one minute from its start, the last one
/// clipped) have an edge of some interval strictly inside: only those can be rated above
/// their exact usage.
fn minutes_with_a_change(intervals: &[RunInterval], window: Window) -> i64 {
    let mut touched = BTreeSet::new();
    for i in intervals {
        for edge in [Some(i.start), i.end].into_iter().flatten() {
            if edge > window.start && edge < window.end {
                let into = (edge - window.start).num_milliseconds();
                if into % MINUTE_MS != 0 {
                    touched.insert(into / MINUTE_MS);
                }
            }
        }
    }
    touched.len() as i64
}

/// The product's minute rule, modelled by a sweep: each minute of `window`'s grid at
/// the largest total milli-CU held at any instant of it (all intervals running together
/// add up; at an instant where one interval ends and another starts, only the latter).
fn minute_model(intervals: &[RunInterval], window: Window, now: DateTime<Utc>) -> i128 {
    let mut total = 0_i128;
    let mut minute = window.start;
    while minute < window.end {
        let next = (minute + ms(MINUTE_MS)).min(window.end);
        let mut held: i64 = intervals
            .iter()
            .filter(|i| i.start <= minute && minute < i.end.unwrap_or(now))
            .map(|i| i.cu_milli)
            .sum();
        let mut changes: Vec<(DateTime<Utc>, i64)> = Vec::new();
        for i in intervals {
            if i.start > minute && i.start < next {
                changes.push((i.start, i.cu_milli));
            }
            let end = i.end.unwrap_or(now);
            if end > minute && end < next && i.start < end {
                changes.push((end, -i.cu_milli));
            }
        }
        changes.sort_by_key(|&(t, delta)| (t, delta));
        let mut peak = held;
        for (_, delta) in changes {
            held += delta;
            peak = peak.max(held);
        }
        total += i128::from(peak) * i128::from((next - minute).num_milliseconds());
        minute = next;
    }
    total
}

fn rate_all(
    intervals: &[RunInterval],
    windows: &[Window],
    now: DateTime<Utc>,
    rate: Rate,
    granularity: Granularity,
) -> Vec<meter::HourCharge> {
    windows
        .iter()
        .map(|w| meter::rate_hour(intervals, *w, now, rate, granularity).unwrap())
        .collect()
}

fn total_cu(charges: &[meter::HourCharge]) -> i128 {
    charges.iter().map(|c| c.cu_millis).sum()
}

/// The hours a billing pass at `settled` writes when it starts at `from`: every hour
/// up to `settled` but the last, still in progress (as the gateway bills).
fn settled_hours(from: DateTime<Utc>, settled: DateTime<Utc>, tz: Tz) -> Vec<Window> {
    let mut hours = period::hours(from, settled, tz).unwrap();
    hours.pop();
    hours
}

fn cny(text: &str) -> Rate {
    Rate::parse(text, Currency::CNY).unwrap()
}

// ---------------------------------------------------------------------------------
// 1. Metering is exact.
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn hours_in_any_zone_partition_the_span_and_their_exact_usage_sums_to_the_ledger(
        s in scenario()
    ) {
        let (tz, from, now) = (s.tz(), s.from(), s.now());
        let intervals = known_at(&s.intervals(), now);
        let hours = period::hours(from, now, tz).unwrap();
        assert_partition(&hours, from, now)?;
        assert_local_hours(&hours, tz)?;
        // Every sampled instant lies in exactly one hour.
        let span = (now - from).num_milliseconds() as u64;
        for x in &s.samples {
            let t = from + ms((x % span) as i64);
            let containing = hours.iter().filter(|w| w.start <= t && t < w.end).count();
            prop_assert_eq!(containing, 1, "{} is in {} hours", t, containing);
        }
        let charges = rate_all(&intervals, &hours, now, cny("0.09"), Granularity::Second);
        for (w, c) in hours.iter().zip(&charges) {
            prop_assert_eq!(c.cu_millis, ledger(&intervals, w.start, w.end), "hour {:?}", w);
        }
        prop_assert_eq!(total_cu(&charges), ledger(&intervals, from, now));
    }

    #[test]
    fn minute_rating_bills_each_minute_at_its_peak_concurrent_cu_never_below_exact_nor_above_a_peak_minute_per_change(
        s in scenario()
    ) {
        let (tz, from, now) = (s.tz(), s.from(), s.now());
        let intervals = known_at(&s.intervals(), now);
        let peak = i128::from(peak_concurrent_cu(&intervals, now));
        let hours = period::hours(from, now, tz).unwrap();
        let charges = rate_all(&intervals, &hours, now, cny("0.09"), Granularity::Minute);
        let mut exact_total = 0_i128;
        for (w, c) in hours.iter().zip(&charges) {
            let exact = ledger(&intervals, w.start, w.end);
            let changed = i128::from(minutes_with_a_change(&intervals, *w));
            prop_assert!(c.cu_millis >= exact, "hour {:?}: rated {} < exact {}", w, c.cu_millis, exact);
            prop_assert!(
                c.cu_millis <= exact + changed * peak * i128::from(MINUTE_MS),
                "hour {:?}: rated {} > exact {} + {} changed minutes x peak {}",
                w, c.cu_millis, exact, changed, peak
            );
            prop_assert_eq!(c.cu_millis, minute_model(&intervals, *w, now), "hour {:?}", w);
            if changed == 0 {
                // Usage constant over every minute: a minute sampler sees it exactly.
                prop_assert_eq!(c.cu_millis, exact, "hour {:?}", w);
            }
            exact_total += exact;
        }
        prop_assert_eq!(exact_total, ledger(&intervals, from, now));
        if s.resolution == MINUTE_MS {
            // Everything on whole minutes, every zone's hours too: nothing to round up.
            prop_assert_eq!(total_cu(&charges), exact_total);
        }
    }

    #[test]
    fn local_days_partition_the_span_at_hour_edges_and_meter_the_same_total_as_hours(
        s in scenario()
    ) {
        let (tz, from, now) = (s.tz(), s.from(), s.now());
        let intervals = known_at(&s.intervals(), now);
        let days = period::days(from, now, tz).unwrap();
        let hours = period::hours(from, now, tz).unwrap();
        assert_partition(&days, from, now)?;
        let hour_edges: BTreeSet<DateTime<Utc>> = hours.iter().map(|w| w.start).collect();
        for d in &days {
            prop_assert!(d.millis() <= 25 * HOUR_MS);
            let first = d.start.with_timezone(&tz);
            let last = (d.end - ms(1)).with_timezone(&tz);
            prop_assert_eq!(first.date_naive(), last.date_naive(), "day {:?} spans two dates", d);
            prop_assert!(hour_edges.contains(&d.start), "day {:?} does not start an hour", d);
        }
        for pair in days.windows(2) {
            let local = pair[0].end.with_timezone(&tz);
            prop_assert_eq!(
                (local.hour(), local.minute(), local.second(), local.nanosecond()),
                (0, 0, 0, 0),
                "day edge {} is not a local midnight", local
            );
        }
        let by_day: i128 = days
            .iter()
            .map(|d| meter::rated_cu_millis(&intervals, *d, now, Granularity::Second))
            .sum();
        let by_hour: i128 = hours
            .iter()
            .map(|h| meter::rated_cu_millis(&intervals, *h, now, Granularity::Second))
            .sum();
        prop_assert_eq!(by_day, by_hour);
        prop_assert_eq!(by_day, ledger(&intervals, from, now));
    }
}

// ---------------------------------------------------------------------------------
// 2. Re-rating bills each CU-millisecond once.
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn billing_in_two_passes_split_at_an_hour_boundary_equals_one_pass(
        s in scenario(),
        split in any::<u64>(),
        anywhere in any::<u64>(),
    ) {
        let (tz, from, now) = (s.tz(), s.from(), s.now());
        let intervals = known_at(&s.intervals(), now);
        let rate = cny("0.0912345");
        let hours = period::hours(from, now, tz).unwrap();
        // A pass crashed after writing the hours before `k`; the next pass starts at `k`.
        let k = hours[(split % hours.len() as u64) as usize].start;
        let before = period::hours(from, k, tz).unwrap();
        let after = period::hours(k, now, tz).unwrap();
        prop_assert!(before.iter().all(|w| w.end <= k) && after.iter().all(|w| w.start >= k));
        let rejoined: Vec<Window> = before.iter().chain(&after).copied().collect();
        prop_assert_eq!(&rejoined, &hours, "the passes cut other hours than one pass");
        for granularity in [Granularity::Second, Granularity::Minute] {
            let one = rate_all(&intervals, &hours, now, rate, granularity);
            let first = rate_all(&intervals, &before, now, rate, granularity);
            let second = rate_all(&intervals, &after, now, rate, granularity);
            let two: Vec<meter::HourCharge> = first.into_iter().chain(second).collect();
            prop_assert_eq!(&two, &one);
            // Rating the same hours again changes nothing: a re-run writes the same rows.
            prop_assert_eq!(&rate_all(&intervals, &hours, now, rate, granularity), &one);
        }
        // Split anywhere (mid-hour), the exact usage still adds up.
        let k = from + ms((anywhere % (now - from).num_milliseconds() as u64) as i64);
        let split_total: i128 = period::hours(from, k, tz)
            .unwrap()
            .into_iter()
            .chain(period::hours(k, now, tz).unwrap())
            .map(|w| meter::cu_millis(&intervals, w, now))
            .sum();
        prop_assert_eq!(split_total, ledger(&intervals, from, now));
    }

    #[test]
    fn a_still_running_interval_rated_early_then_late_is_never_counted_twice(
        s in scenario(),
        later in 1_i64..=2 * DAY_MS,
    ) {
        let (tz, from) = (s.tz(), s.from());
        let (early, late) = (s.now(), s.now() + ms(s.gap(later)));
        let all = s.intervals();
        let (seen_early, seen_late) = (known_at(&all, early), known_at(&all, late));
        let rate = cny("0.09");
        // The pass at `early` bills its settled hours; the pass at `late` goes on from
        // where it stopped.
        let first = settled_hours(from, early, tz);
        let billed_until = first.last().map_or(from, |w| w.end);
        let second = settled_hours(billed_until, late, tz);
        let once = settled_hours(from, late, tz);
        let both: Vec<Window> = first.iter().chain(&second).copied().collect();
        prop_assert_eq!(&both, &once);
        for granularity in [Granularity::Second, Granularity::Minute] {
            let passes: Vec<meter::HourCharge> = rate_all(&seen_early, &first, early, rate, granularity)
                .into_iter()
                .chain(rate_all(&seen_late, &second, late, rate, granularity))
                .collect();
            let single = rate_all(&seen_late, &once, late, rate, granularity);
            prop_assert_eq!(&passes, &single);
        }
        let billed = rate_all(&seen_early, &first, early, rate, Granularity::Second)
            .into_iter()
            .chain(rate_all(&seen_late, &second, late, rate, Granularity::Second));
        let settled_end = once.last().map_or(from, |w| w.end);
        prop_assert_eq!(
            billed.map(|c| c.cu_millis).sum::<i128>(),
            ledger(&seen_late, from, settled_end)
        );
    }
}

// ---------------------------------------------------------------------------------
// 3. A bill adds up to its rounded lines.
// ---------------------------------------------------------------------------------

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec![
        Currency::CNY,
        Currency::USD,
        Currency::EUR,
        Currency::JPY,
    ])
}

/// A price in major units with up to six decimals beyond the minor unit, as text.
fn price_text(currency: Currency) -> impl Strategy<Value = String> {
    let places = usize::from(currency.exponent()) + 6;
    (0_u32..=120, prop::collection::vec(0_u8..10, 0..=places)).prop_map(|(whole, digits)| {
        if digits.is_empty() {
            whole.to_string()
        } else {
            let fraction: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            format!("{whole}.{fraction}")
        }
    })
}

/// The price's millionths of a minor unit, read from its text by hand.
fn expected_micro_minor(text: &str, currency: Currency) -> i128 {
    let places = u32::from(currency.exponent()) + 6;
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut value: i128 = whole.parse::<i128>().unwrap() * 10_i128.pow(places);
    for (i, digit) in fraction.bytes().enumerate() {
        value += i128::from(digit - b'0') * 10_i128.pow(places - 1 - i as u32);
    }
    value
}

#[derive(Debug, Clone)]
struct Line {
    window_ms: i64,
    runs: Vec<(i64, i64, i64)>,
}

fn line() -> impl Strategy<Value = Line> {
    (
        prop_oneof![Just(HOUR_MS), 1_i64..=HOUR_MS],
        prop::collection::vec(
            (0_i64..=90 * MINUTE_MS, 1_i64..=2 * HOUR_MS, cu_quarters()),
            0..3,
        ),
    )
        .prop_map(|(window_ms, runs)| Line { window_ms, runs })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_bill_total_is_exactly_the_sum_of_its_lines_each_rounded_half_to_even_once(
        (currency, text) in currency().prop_flat_map(|c| (Just(c), price_text(c))),
        lines in prop::collection::vec(line(), 1..40),
        minute in any::<bool>(),
    ) {
        let rate = Rate::parse(&text, currency).unwrap();
        prop_assert_eq!(rate.micro_minor_per_cu_hour(), expected_micro_minor(&text, currency));
        prop_assert_eq!(Rate::parse(&rate.major(), currency).unwrap(), rate);
        prop_assert_eq!(EXACT_PER_MINOR, 1_000_000 * 1_000 * i128::from(HOUR_MS));
        let granularity = if minute { Granularity::Minute } else { Granularity::Second };
        let micro = rate.micro_minor_per_cu_hour();
        let base = utc("2026-11-01T00:00:00Z");
        let mut charges = Vec::new();
        let mut exact_grand_total = 0_i128;
        for (n, line) in lines.iter().enumerate() {
            let start = base + ms(n as i64 * HOUR_MS);
            let window = Window { start, end: start + ms(line.window_ms) };
            let intervals: Vec<RunInterval> = line
                .runs
                .iter()
                .map(|&(at, len, cu_milli)| {
                    let s = start - ms(30 * MINUTE_MS) + ms(at);
                    RunInterval { start: s, end: Some(s + ms(len)), cu_milli }
                })
                .collect();
            let charge = meter::rate_hour(&intervals, window, window.end, rate, granularity).unwrap();
            if !minute {
                prop_assert_eq!(charge.cu_millis, ledger(&intervals, window.start, window.end));
            }
            let compute_exact = micro * charge.cu_millis;
            let management_exact = micro * 2_000 * i128::from(line.window_ms);
            prop_assert_eq!(i128::from(charge.compute.minor()), half_even(compute_exact, EXACT_PER_MINOR));
            prop_assert_eq!(i128::from(charge.management.minor()), half_even(management_exact, EXACT_PER_MINOR));
            prop_assert_eq!(charge.compute.currency(), currency);
            exact_grand_total += compute_exact + management_exact;
            charges.push(charge);
        }
        let totals: Vec<Money> = charges.iter().map(|c| c.total().unwrap()).collect();
        let bill = Money::sum(currency, totals.iter().copied()).unwrap();
        let lines_sum: i64 = charges
            .iter()
            .map(|c| c.compute.minor() + c.management.minor())
            .sum();
        prop_assert_eq!(bill.minor(), lines_sum);
        prop_assert_eq!(bill.currency(), currency);
        // Each line rounds twice by at most half a minor unit: the bill is within one
        // minor unit per line of the exact grand total (and need not equal its rounding).
        let off = (i128::from(bill.minor()) * EXACT_PER_MINOR - exact_grand_total).abs();
        prop_assert!(off <= charges.len() as i128 * EXACT_PER_MINOR, "bill off by {} units", off);
        // Amounts print and parse back exactly.
        prop_assert_eq!(Money::parse_major(&bill.major(), currency).unwrap(), bill);
    }
}

// ---------------------------------------------------------------------------------
// 4. Proration.
// ---------------------------------------------------------------------------------

fn real_date(years: std::ops::RangeInclusive<i32>) -> impl Strategy<Value = NaiveDate> {
    (years, 1_u32..=12, prop_oneof![1_u32..=31, 28_u32..=31])
        .prop_filter_map("a real date", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

/// `|piece - whole x part / term| <= 1` minor unit, checked in integers.
fn within_one_minor(piece: i64, whole: i64, part: i64, term: i64) -> bool {
    let exact = i128::from(whole) * i128::from(part);
    (i128::from(piece) * i128::from(term) - exact).abs() <= i128::from(term)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn prorated_pieces_of_a_price_always_add_up_to_the_whole(
        whole in -10_000_000_000_i64..=10_000_000_000,
        stretches in prop::collection::vec(prop_oneof![0_i64..=1_000, 0_i64..=40 * DAY_MS], 1..16),
    ) {
        let term: i64 = stretches.iter().sum();
        prop_assume!(term > 0);
        let whole = Money::from_minor(whole, Currency::CNY);
        let pieces = prorate::pieces(whole, &stretches).unwrap();
        prop_assert_eq!(pieces.len(), stretches.len());
        prop_assert_eq!(Money::sum(Currency::CNY, pieces.iter().copied()).unwrap(), whole);
        let mut elapsed = 0;
        for (piece, stretch) in pieces.iter().zip(&stretches) {
            prop_assert!(within_one_minor(piece.minor(), whole.minor(), *stretch, term),
                "piece {} for {} of {} ms of {}", piece.minor(), stretch, term, whole.minor());
            if whole.minor() >= 0 {
                prop_assert!(piece.minor() >= 0);
            }
            // Each piece is the step between rounded cumulative shares.
            let before = prorate::share(whole, elapsed, term).unwrap().minor();
            elapsed += stretch;
            let after = prorate::share(whole, elapsed, term).unwrap().minor();
            prop_assert_eq!(piece.minor(), after - before);
        }
    }

    #[test]
    fn an_upgrade_then_a_downgrade_of_the_same_cu_nets_exactly_to_the_piece_between(
        whole in 0_i64..=100_000_000,
        term in 1_i64..=62 * DAY_MS,
        a in any::<u64>(),
        b in any::<u64>(),
    ) {
        let (t1, t2) = {
            let (x, y) = ((a % (term as u64 + 1)) as i64, (b % (term as u64 + 1)) as i64);
            (x.min(y), x.max(y))
        };
        let whole = Money::from_minor(whole, Currency::CNY);
        let charged = prorate::remaining(whole, t1, term).unwrap().minor();
        let refunded = prorate::remaining(whole, t2, term).unwrap().minor();
        let net = charged - refunded;
        let pieces = prorate::pieces(whole, &[t1, t2 - t1, term - t2]).unwrap();
        prop_assert_eq!(net, pieces[1].minor(), "net is the piece between");
        prop_assert_eq!(
            net,
            prorate::share(whole, t2, term).unwrap().minor()
                - prorate::share(whole, t1, term).unwrap().minor()
        );
        // The piece between differs from the share of its length, rounded alone, by at
        // most the one minor unit the cumulative rounding may move.
        let alone = prorate::share(whole, t2 - t1, term).unwrap().minor();
        prop_assert!((net - alone).abs() <= 1, "net {} vs share {}", net, alone);
        prop_assert!(within_one_minor(net, whole.minor(), t2 - t1, term));
        prop_assert_eq!(prorate::remaining(whole, 0, term).unwrap(), whole);
        prop_assert_eq!(prorate::remaining(whole, term, term).unwrap().minor(), 0);
        prop_assert!(prorate::remaining(whole, term + 1, term).is_err());
        prop_assert!(prorate::share(whole, -1, term).is_err());
    }

    #[test]
    fn add_months_clamps_to_the_target_months_length_by_the_gregorian_calendar(
        date in real_date(1600..=2400),
        n in 0_u32..=48,
    ) {
        let got = period::add_months(date, n).unwrap();
        prop_assert_eq!((got.year(), got.month(), got.day()), expected_add_months(date, n));
        prop_assert_eq!(period::add_months(date, 0).unwrap(), date);
    }

    #[test]
    fn a_month_from_the_last_days_of_january_ends_on_february_28_or_the_leap_day(
        year in 1600_i32..=2400,
        day in 29_u32..=31,
    ) {
        let jan = NaiveDate::from_ymd_opt(year, 1, day).unwrap();
        let feb_end = if is_leap(year) { 29 } else { 28 };
        prop_assert_eq!(period::add_months(jan, 1).unwrap(), NaiveDate::from_ymd_opt(year, 2, feb_end).unwrap());
        if is_leap(year) {
            let leap_day = NaiveDate::from_ymd_opt(year, 2, 29).unwrap();
            prop_assert_eq!(period::add_months(leap_day, 12).unwrap(), NaiveDate::from_ymd_opt(year + 1, 2, 28).unwrap());
            let in_four = if is_leap(year + 4) { 29 } else { 28 };
            prop_assert_eq!(period::add_months(leap_day, 48).unwrap(), NaiveDate::from_ymd_opt(year + 4, 2, in_four).unwrap());
        }
    }

    #[test]
    fn a_monthly_term_across_a_month_end_prorates_by_its_real_days_to_the_last_millisecond(
        start in real_date(2026..=2029),
        zone in prop::sample::select(ZONES.to_vec()),
        whole in 1_i64..=10_000_000,
        change in any::<u64>(),
    ) {
        let tz: Tz = zone.parse().unwrap();
        let midnight = |d: NaiveDate| {
            tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
                .earliest()
                .unwrap()
                .with_timezone(&Utc)
        };
        let end = period::add_months(start, 1).unwrap();
        let (term_start, term_end) = (midnight(start), midnight(end));
        let term_ms = (term_end - term_start).num_milliseconds();
        // Its real days: the rest of this month, then up to the same day of the next.
        let (y, m, d) = (start.year(), start.month(), start.day());
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let expected_days = (month_len(y, m) - d) + d.min(month_len(ny, nm));
        let days = period::days(term_start, term_end, tz).unwrap();
        prop_assert_eq!(days.len() as u32, expected_days);
        assert_partition(&days, term_start, term_end)?;
        // 24-hour days but for at most one daylight-saving change of an hour or less.
        let drift = term_ms - i64::from(expected_days) * DAY_MS;
        prop_assert!(drift.abs() <= HOUR_MS, "term of {} days is {} ms", expected_days, term_ms);
        if matches!(zone, "UTC" | "Asia/Shanghai" | "Asia/Kolkata") {
            prop_assert_eq!(drift, 0);
        }
        // Day by day, the pieces add up to the whole.
        let whole = Money::from_minor(whole, Currency::CNY);
        let by_day: Vec<i64> = days.iter().map(Window::millis).collect();
        let pieces = prorate::pieces(whole, &by_day).unwrap();
        prop_assert_eq!(Money::sum(Currency::CNY, pieces).unwrap(), whole);
        // A change in the term's last millisecond leaves one millisecond's share.
        let last = prorate::remaining(whole, term_ms - 1, term_ms).unwrap().minor();
        prop_assert!(within_one_minor(last, whole.minor(), 1, term_ms));
        prop_assert_eq!(prorate::remaining(whole, term_ms, term_ms).unwrap().minor(), 0);
        // Upgraded at some instant, downgraded in the last millisecond: net is the piece
        // between, and the refund of the last millisecond is the last piece.
        let t1 = (change % term_ms as u64) as i64;
        let split = prorate::pieces(whole, &[t1, term_ms - 1 - t1, 1]).unwrap();
        let net = prorate::remaining(whole, t1, term_ms).unwrap().minor() - last;
        prop_assert_eq!(net, split[1].minor());
        prop_assert_eq!(last, split[2].minor());
    }

    #[test]
    fn a_calendar_month_in_any_zone_is_its_local_days_back_to_back(
        year in 2026_i32..=2030,
        month in 1_u32..=12,
        zone in prop::sample::select(ZONES.to_vec()),
    ) {
        let tz: Tz = zone.parse().unwrap();
        let window = period::month(year, month, tz).unwrap();
        let first = window.start.with_timezone(&tz);
        prop_assert_eq!(
            (first.year(), first.month(), first.day(), first.hour(), first.minute()),
            (year, month, 1, 0, 0)
        );
        let days = period::days(window.start, window.end, tz).unwrap();
        prop_assert_eq!(days.len() as u32, month_len(year, month));
        assert_partition(&days, window.start, window.end)?;
        let next = period::add_months(NaiveDate::from_ymd_opt(year, month, 1).unwrap(), 1).unwrap();
        prop_assert_eq!(window.end.with_timezone(&tz).date_naive(), next);
    }
}

// ---------------------------------------------------------------------------------
// 5. Price versions apply from their effective instant.
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_price_change_splits_a_window_exactly_at_its_effective_instant_and_never_applies_before(
        first_at in 0_i64..=365 * DAY_MS,
        change_after in prop_oneof![1_i64..=HOUR_MS, 1_i64..=30 * DAY_MS],
        anchor in 0_u8..4,
        window_from_change in -3 * HOUR_MS..=HOUR_MS,
        window_ms in prop_oneof![1_i64..=1_000, 1_i64..=4 * HOUR_MS],
        (old_text, new_text) in (price_text(Currency::CNY), price_text(Currency::CNY)),
        newest_first in any::<bool>(),
        cu_milli in cu_quarters(),
    ) {
        let (old, new) = (cny(&old_text), cny(&new_text));
        let e1 = utc("2026-01-01T00:00:00Z") + ms(first_at);
        let e2 = e1 + ms(change_after);
        let mut versions = vec![
            PriceVersion { effective_from: e1, cu_hour: old, cu_month: old },
            PriceVersion { effective_from: e2, cu_hour: new, cu_month: new },
        ];
        if newest_first {
            versions.reverse();
        }
        let book = PriceBook::new(versions).unwrap();
        prop_assert_eq!(book.at(e2 - ms(1)).unwrap(), old);
        prop_assert_eq!(book.at(e2).unwrap(), new);
        prop_assert_eq!(book.at(e1).unwrap(), old);
        prop_assert!(book.at(e1 - ms(1)).is_err(), "a price applied before it took effect");
        prop_assert_eq!(book.cu_month_at(e2).unwrap(), new);

        // The window starts exactly at the change, ends exactly at it, starts exactly at
        // the first version, or lies anywhere around the change.
        let start = match anchor {
            0 => e2,
            1 => e2 - ms(window_ms),
            2 => e1,
            _ => e2 + ms(window_from_change),
        };
        let window = Window { start, end: start + ms(window_ms) };
        let pieces = match book.pieces(window) {
            Ok(pieces) => pieces,
            Err(_) => {
                // Only a window starting before any price has none.
                prop_assert!(window.start < e1, "no pieces for {:?}", window);
                return Ok(());
            }
        };
        prop_assert!(window.start >= e1, "priced a window before the first version");
        let expected = if window.start < e2 && e2 < window.end {
            vec![
                (Window { start: window.start, end: e2 }, old),
                (Window { start: e2, end: window.end }, new),
            ]
        } else if window.start >= e2 {
            vec![(window, new)]
        } else {
            vec![(window, old)]
        };
        prop_assert_eq!(&pieces, &expected);
        prop_assert_eq!(pieces.iter().map(|(w, _)| w.millis()).sum::<i64>(), window.millis());
        for (piece, rate) in &pieces {
            prop_assert!(piece.start < piece.end, "empty piece {:?}", piece);
            prop_assert_eq!(book.at(piece.start).unwrap(), *rate);
            prop_assert_eq!(book.at(piece.end - ms(1)).unwrap(), *rate);
        }
        // Rated piece by piece, usage before the change pays the old price only.
        let run = [RunInterval {
            start: window.start - ms(HOUR_MS),
            end: None,
            cu_milli,
        }];
        let now = window.end + ms(HOUR_MS);
        for (piece, rate) in &pieces {
            let charge = meter::rate_hour(&run, *piece, now, *rate, Granularity::Second).unwrap();
            let used = ledger(&run, piece.start, piece.end);
            prop_assert_eq!(used, i128::from(cu_milli) * i128::from(piece.millis()));
            prop_assert_eq!(
                i128::from(charge.compute.minor()),
                half_even(rate.micro_minor_per_cu_hour() * used, EXACT_PER_MINOR)
            );
        }
        let clash = PriceBook::new(vec![
            PriceVersion { effective_from: e2, cu_hour: old, cu_month: old },
            PriceVersion { effective_from: e2, cu_hour: new, cu_month: new },
        ]);
        prop_assert!(clash.is_err(), "two versions at one instant");
    }
}
