//! Expectations from scratch: integer half-to-even division and the Gregorian calendar.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// `num / den` rounded half to even, `den > 0`, for any sign of `num`.
pub fn half_even(num: i128, den: i128) -> i128 {
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
pub fn term_price(micro_minor: i128, cu_milli: i64, months: i64) -> i64 {
    half_even(
        micro_minor * i128::from(cu_milli) * i128::from(months),
        1_000_000_000,
    ) as i64
}

/// The share of `whole` for `part` of `term`, rounded half to even.
pub fn share(whole: i64, part: i64, term: i64) -> i64 {
    half_even(i128::from(whole) * i128::from(part), i128::from(term)) as i64
}

/// What is left of `whole` after `elapsed` of `term`.
pub fn remaining(whole: i64, elapsed: i64, term: i64) -> i64 {
    whole - share(whole, elapsed, term)
}

/// `|amount - whole x part / term| <= 1` minor unit, in integers.
pub fn within_one_minor(amount: i64, whole: i64, part: i64, term: i64) -> bool {
    let exact = i128::from(whole) * i128::from(part);
    (i128::from(amount) * i128::from(term) - exact).abs() <= i128::from(term)
}

pub fn month_len(year: i32, month: u32) -> u32 {
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
pub fn months_later(local: NaiveDateTime, months: i64) -> NaiveDateTime {
    let date = local.date();
    let total = date.year() * 12 + date.month0() as i32 + months as i32;
    let (year, month) = (total / 12, (total % 12) as u32 + 1);
    let day = date.day().min(month_len(year, month));
    NaiveDate::from_ymd_opt(year, month, day)
        .unwrap()
        .and_time(local.time())
}

/// Where a term from `from` of `months` months must end in `zone`: the first instant
/// the zone's clock shows that wall-clock time or later. Where a daylight-saving jump
/// skips it on the end date (02:30 on the last Sunday of March in Berlin), that is the
/// jump itself (03:00:00); where it happens twice, its first occurrence. Found from the
/// zone's UTC offsets: minute by minute from a day before, then to the millisecond.
pub fn expected_end(zone: Tz, from: DateTime<Utc>, months: i64) -> DateTime<Utc> {
    let local = months_later(from.with_timezone(&zone).naive_local(), months);
    let shows = |t: DateTime<Utc>| t.with_timezone(&zone).naive_local();
    let mut t = Utc.from_utc_datetime(&local) - chrono::Duration::hours(27);
    while shows(t) < local {
        t += chrono::Duration::minutes(1);
    }
    let (mut lo, mut hi) = (t.timestamp_millis() - 60_000, t.timestamp_millis());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if shows(DateTime::from_timestamp_millis(mid).unwrap()) >= local {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::from_timestamp_millis(hi).unwrap()
}
