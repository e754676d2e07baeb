//! Billing periods cut in the account's time zone. Windows are half-open
//! `[start, end)` instants, consecutive windows share their edge, so every millisecond
//! of time falls in exactly one window — also on days when daylight saving makes a
//! local day 23 or 25 hours long.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::BillingError;

/// One billing window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn millis(&self) -> i64 {
        (self.end - self.start).num_milliseconds()
    }
}

/// The instant a local wall-clock time begins in `tz`: the first instant at which the
/// zone's clock shows `local` or a later time. A time skipped by a daylight-saving jump
/// begins when the clock jumps over it (the first valid instant after the gap, to the
/// millisecond: 02:30:17 on the March change in Berlin begins at 03:00:00); a repeated
/// time begins at its first occurrence.
pub fn local_start(tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, BillingError> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return Ok(t.with_timezone(&Utc));
    }
    // In a gap: find the first existing minute after it (a gap is at most a day
    // long), then the jump itself within the minute before that.
    let mut probe = local;
    for _ in 0..(2 * 24 * 60) {
        probe += Duration::minutes(1);
        if let Some(after) = tz.from_local_datetime(&probe).earliest() {
            return Ok(jump_over(tz, local, after.with_timezone(&Utc)));
        }
    }
    Err(BillingError::BadPeriod(format!(
        "{local} does not exist in {tz}"
    )))
}

/// The instant the clock of `tz` jumps over the missing `local`, knowing an instant
/// `after` less than a minute of wall-clock time after the jump: the first millisecond
/// at which the clock shows a time past `local` (zones change offset at most once a
/// minute, so within that minute the wall clock only moves forward).
fn jump_over(tz: Tz, local: NaiveDateTime, after: DateTime<Utc>) -> DateTime<Utc> {
    let shows = |ms: i64| {
        DateTime::from_timestamp_millis(ms)
            .map(|t| t.with_timezone(&tz).naive_local() > local)
            .unwrap_or(true)
    };
    // shows(hi) holds, shows(lo) does not: the jump lies in (lo, hi].
    let (mut lo, mut hi) = (after.timestamp_millis() - 60_000, after.timestamp_millis());
    if shows(lo) {
        return after;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if shows(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::from_timestamp_millis(hi).unwrap_or(after)
}

/// The local hours in `tz` overlapping `[from, to)`, clipped to it.
pub fn hours(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> Result<Vec<Window>, BillingError> {
    let mut windows = Vec::new();
    if from >= to {
        return Ok(windows);
    }
    let local = from.with_timezone(&tz).naive_local();
    let mut hour = local
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .ok_or_else(|| BillingError::BadPeriod(format!("no hour start for {local}")))?;
    let mut start = local_start(tz, hour)?.min(from);
    while start < to {
        // The next local hour that begins strictly later (skips hours a jump removed).
        let mut next_local = hour + Duration::hours(1);
        let mut next = local_start(tz, next_local)?;
        while next <= start {
            next_local += Duration::hours(1);
            next = local_start(tz, next_local)?;
        }
        // A repeated local hour (clocks set back) spans two real hours: bill each.
        let mut piece = start;
        while piece < next {
            let piece_end = (piece + Duration::hours(1)).min(next);
            let window = Window {
                start: piece.max(from),
                end: piece_end.min(to),
            };
            if window.start < window.end {
                windows.push(window);
            }
            piece = piece_end;
        }
        hour = next_local;
        start = next;
    }
    Ok(windows)
}

/// The local days in `tz` overlapping `[from, to)`, clipped to it (23 or 25 hours long
/// on daylight-saving days).
pub fn days(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> Result<Vec<Window>, BillingError> {
    let mut windows = Vec::new();
    if from >= to {
        return Ok(windows);
    }
    let mut day = from.with_timezone(&tz).date_naive();
    loop {
        let start = local_start(tz, day.and_hms_opt(0, 0, 0).unwrap_or_default())?;
        if start >= to {
            break;
        }
        let next_day = day
            .succ_opt()
            .ok_or_else(|| BillingError::BadPeriod(format!("no day after {day}")))?;
        let end = local_start(tz, next_day.and_hms_opt(0, 0, 0).unwrap_or_default())?;
        let window = Window {
            start: start.max(from),
            end: end.min(to),
        };
        if window.start < window.end {
            windows.push(window);
        }
        day = next_day;
    }
    Ok(windows)
}

/// The calendar month of `year`/`month` in `tz`.
pub fn month(year: i32, month: u32, tz: Tz) -> Result<Window, BillingError> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)
        .ok_or_else(|| BillingError::BadPeriod(format!("{year}-{month} is not a month")))?;
    let next = add_months(first, 1)?;
    Ok(Window {
        start: local_start(tz, first.and_hms_opt(0, 0, 0).unwrap_or_default())?,
        end: local_start(tz, next.and_hms_opt(0, 0, 0).unwrap_or_default())?,
    })
}

/// `date` plus `n` calendar months, the day clamped to the target month's length:
/// Jan 31 + 1 month is Feb 28 (Feb 29 in a leap year).
pub fn add_months(date: NaiveDate, n: u32) -> Result<NaiveDate, BillingError> {
    let total = date.year() * 12 + date.month0() as i32 + n as i32;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12) as u32);
    let last_day = days_in_month(year, month0 + 1)?;
    NaiveDate::from_ymd_opt(year, month0 + 1, date.day().min(last_day))
        .ok_or_else(|| BillingError::BadPeriod(format!("{date} + {n} months")))
}

fn days_in_month(year: i32, month: u32) -> Result<u32, BillingError> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)
        .ok_or_else(|| BillingError::BadPeriod(format!("{year}-{month}")))?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .ok_or_else(|| BillingError::BadPeriod(format!("{year}-{month}")))?;
    Ok((next - first).num_days() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn covers_exactly(windows: &[Window], from: DateTime<Utc>, to: DateTime<Utc>) {
        assert_eq!(windows.first().unwrap().start, from);
        assert_eq!(windows.last().unwrap().end, to);
        for pair in windows.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "no gap, no overlap");
        }
        assert_eq!(
            windows.iter().map(Window::millis).sum::<i64>(),
            (to - from).num_milliseconds()
        );
    }

    #[test]
    fn a_day_in_shanghai_has_24_hours_cut_at_local_hours() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let (from, to) = (utc("2026-11-22T16:00:00Z"), utc("2026-11-23T16:00:00Z"));
        let hours = hours(from, to, tz).unwrap();
        assert_eq!(hours.len(), 24);
        covers_exactly(&hours, from, to);
    }

    #[test]
    fn daylight_saving_days_have_23_and_25_hours_and_bill_each_second_once() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // 2026-03-08: clocks jump from 02:00 to 03:00.
        let (from, to) = (utc("2026-03-08T05:00:00Z"), utc("2026-03-09T04:00:00Z"));
        let spring = hours(from, to, tz).unwrap();
        assert_eq!(spring.len(), 23);
        covers_exactly(&spring, from, to);
        // 2026-11-01: 01:00-02:00 happens twice; each occurrence is an hour of its own.
        let (from, to) = (utc("2026-11-01T04:00:00Z"), utc("2026-11-02T05:00:00Z"));
        let fall = hours(from, to, tz).unwrap();
        assert_eq!(fall.len(), 25);
        assert!(fall.iter().all(|w| w.millis() == 3_600_000));
        covers_exactly(&fall, from, to);
        assert_eq!(fall.iter().map(Window::millis).sum::<i64>(), 25 * 3_600_000);
    }

    #[test]
    fn a_half_hour_zone_cuts_at_its_own_hours_and_partial_edges_are_clipped() {
        let tz: Tz = "Asia/Kolkata".parse().unwrap();
        let (from, to) = (utc("2026-01-01T00:10:00Z"), utc("2026-01-01T02:00:00Z"));
        let hours = hours(from, to, tz).unwrap();
        covers_exactly(&hours, from, to);
        // Local hours begin at :30 UTC.
        assert_eq!(hours[0].end, utc("2026-01-01T00:30:00Z"));
    }

    #[test]
    fn days_follow_local_midnights_and_cover_time_exactly() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let (from, to) = (utc("2026-03-07T12:00:00Z"), utc("2026-03-10T05:00:00Z"));
        let days = days(from, to, tz).unwrap();
        covers_exactly(&days, from, to);
        // Midnight 2026-03-08 is 05:00Z, midnight 2026-03-09 (after the jump) 04:00Z.
        assert_eq!(days[1].start, utc("2026-03-08T05:00:00Z"));
        assert_eq!(days[1].millis(), 23 * 3_600_000);
    }

    #[test]
    fn months_add_with_clamping_and_leap_years() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(add_months(d("2027-01-31"), 1).unwrap(), d("2027-02-28"));
        assert_eq!(add_months(d("2028-01-31"), 1).unwrap(), d("2028-02-29"));
        assert_eq!(add_months(d("2026-12-15"), 1).unwrap(), d("2027-01-15"));
        assert_eq!(add_months(d("2026-05-31"), 12).unwrap(), d("2027-05-31"));
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let feb = month(2028, 2, tz).unwrap();
        assert_eq!(feb.start, utc("2028-01-31T16:00:00Z"));
        assert_eq!(feb.millis(), 29 * 86_400_000);
    }
}
