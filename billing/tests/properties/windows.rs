//! Window checks.

use super::*;

/// Windows are non-empty, contiguous, non-overlapping, cover `[from, to)` and their
/// lengths sum to the span.
pub(crate) fn assert_partition(
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

pub(crate) fn offset_secs(tz: Tz, at: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc()
}

/// Each window lies in one local hour of `tz` (start and last millisecond read the same
/// local date and hour), is at most an hour long, and each edge between windows is a
/// local hour start or a daylight-saving change.
pub(crate) fn assert_local_hours(windows: &[Window], tz: Tz) -> Result<(), TestCaseError> {
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
pub(crate) fn minutes_with_a_change(intervals: &[RunInterval], window: Window) -> i64 {
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
pub(crate) fn minute_model(intervals: &[RunInterval], window: Window, now: DateTime<Utc>) -> i128 {
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

pub(crate) fn rate_all(
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

pub(crate) fn total_cu(charges: &[meter::HourCharge]) -> i128 {
    charges.iter().map(|c| c.cu_millis).sum()
}

/// The hours a billing pass at `settled` writes when it starts at `from`: every hour
/// up to `settled` but the last, still in progress (as the gateway bills).
pub(crate) fn settled_hours(from: DateTime<Utc>, settled: DateTime<Utc>, tz: Tz) -> Vec<Window> {
    let mut hours = period::hours(from, settled, tz).unwrap();
    hours.pop();
    hours
}

pub(crate) fn cny(text: &str) -> Rate {
    Rate::parse(text, Currency::CNY).unwrap()
}
