//! Independent arithmetic: rounding, ledger, calendar.

use super::*;

/// `num / den` rounded half to even, for `num >= 0`, `den > 0`, written without the
/// crate's helpers.
pub(crate) fn half_even(num: i128, den: i128) -> i128 {
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
pub(crate) fn ledger(intervals: &[RunInterval], from: DateTime<Utc>, to: DateTime<Utc>) -> i128 {
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
pub(crate) fn peak_concurrent_cu(intervals: &[RunInterval], now: DateTime<Utc>) -> i64 {
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

pub(crate) fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(crate) fn month_len(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => unreachable!("month {month}"),
    }
}

/// `date` plus `n` months, the day clamped, from the Gregorian rules alone.
pub(crate) fn expected_add_months(date: NaiveDate, n: u32) -> (i32, u32, u32) {
    let months = date.year() * 12 + date.month0() as i32 + n as i32;
    let (year, month) = (months / 12, (months % 12) as u32 + 1);
    (year, month, date.day().min(month_len(year, month)))
}
