//! Metering pay-as-you-go usage from the run intervals deployments record, and rating
//! one hour of it by the product's rule: (sum of per-minute CU / 60) x the CU-hour
//! price, plus a management fee of 2 CU x the price for every hour the workspace is
//! pay-as-you-go ([`ManagementFee::EveryHour`], the product's fixed fee per workspace
//! per hour), or, where the operator so chooses, only for hours in which something
//! ran ([`ManagementFee::HoursWithUsage`]); [`rate_priced_hour`] applies the choice.
//!
//! The ledger is exact to the millisecond: [`cu_millis`] clips every interval to the
//! window, so windows that partition time partition usage, and no millisecond is billed
//! twice or lost. Rating [`Granularity::Minute`] (the product's default) counts each
//! minute at the largest CU the workspace held during it (the CU of all its deployments
//! running at one instant, added up), so a job running part of a minute pays for that
//! minute as a per-minute sampler would see it; [`Granularity::Second`] is exact.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::{Exact, Money, Rate};
use crate::period::Window;
use crate::BillingError;

/// Management fee of a pay-as-you-go workspace, in milli-CU per hour.
pub const MANAGEMENT_CU_MILLI: i64 = 2_000;

/// When a pay-as-you-go workspace pays the management fee (`billing.management_fee`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagementFee {
    /// Every hour the workspace is pay-as-you-go, whether anything ran or not: the
    /// product's fixed fee of 2 CU per pay-as-you-go workspace per hour.
    #[default]
    EveryHour,
    /// Only hours in which something ran (an hour with no usage costs nothing).
    HoursWithUsage,
}

impl ManagementFee {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "every_hour" => Ok(Self::EveryHour),
            "hours_with_usage" => Ok(Self::HoursWithUsage),
            other => Err(format!(
                "billing.management_fee must be `every_hour` or `hours_with_usage`, got `{other}`"
            )),
        }
    }
}

/// A stretch of time a deployment held `cu_milli` thousandths of a CU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInterval {
    pub start: DateTime<Utc>,
    /// `None`: still running.
    pub end: Option<DateTime<Utc>>,
    pub cu_milli: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Second,
    #[default]
    Minute,
}

/// Milli-CU x milliseconds as CU-hours, exact decimal text without trailing zeros
/// (ten decimals are exact for millisecond precision).
pub fn cu_hours_text(cu_millis: i128) -> String {
    const PER_CU_HOUR: i128 = 1_000 * 3_600_000;
    const SCALE: i128 = 10_000_000_000;
    let scaled = cu_millis * SCALE / PER_CU_HOUR;
    let text = format!("{}.{:010}", scaled / SCALE, scaled % SCALE);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Milli-CU x milliseconds held within `window`, exactly.
pub fn cu_millis(intervals: &[RunInterval], window: Window, now: DateTime<Utc>) -> i128 {
    intervals
        .iter()
        .map(|i| {
            let start = i.start.max(window.start);
            let end = i
                .end
                .unwrap_or(now)
                .min(window.end)
                .min(now.max(window.start));
            let millis = (end - start).num_milliseconds().max(0);
            i128::from(millis) * i128::from(i.cu_milli)
        })
        .sum()
}

/// Milli-CU x milliseconds as the rating counts them: exact, or each minute of the
/// window at the largest total CU held at one instant during it.
pub fn rated_cu_millis(
    intervals: &[RunInterval],
    window: Window,
    now: DateTime<Utc>,
    granularity: Granularity,
) -> i128 {
    match granularity {
        Granularity::Second => cu_millis(intervals, window, now),
        Granularity::Minute => {
            // Most hours of most projects have no run at all: decide that once.
            let overlapping: Vec<&RunInterval> = intervals
                .iter()
                .filter(|i| {
                    i.start < window.end && i.end.unwrap_or(now) > window.start && i.start < now
                })
                .collect();
            if overlapping.is_empty() {
                return 0;
            }
            minute_peaks(&overlapping, window, now)
        }
    }
}

/// Each minute of `window` at the largest total milli-CU held at any instant of it,
/// summed over the intervals running together (several deployments of one workspace
/// add up; a rescale, which closes one interval where the next begins, counts the
/// larger of the two), times the minute's length.
///
/// One sweep over the intervals' starts and ends, sorted once: the total held only
/// rises where an interval starts, so a minute's peak is its level at the start or
/// just after a start inside it. At one instant ends are applied before starts, so
/// an interval ending where another begins never counts both.
fn minute_peaks(intervals: &[&RunInterval], window: Window, now: DateTime<Utc>) -> i128 {
    let mut events: Vec<(DateTime<Utc>, i64)> = Vec::with_capacity(intervals.len() * 2);
    for i in intervals {
        let start = i.start.max(window.start);
        let end = i.end.unwrap_or(now).min(window.end);
        if start < end {
            events.push((start, i.cu_milli));
            events.push((end, -i.cu_milli));
        }
    }
    // Negative deltas (ends) first at the same instant.
    events.sort_unstable_by_key(|&(t, delta)| (t, delta));
    let mut next_event = 0;
    let mut level = 0_i64;
    let mut total = 0_i128;
    let mut minute = window.start;
    while minute < window.end {
        let next = (minute + chrono::Duration::minutes(1)).min(window.end);
        // What is held at the minute's first instant.
        while next_event < events.len() && events[next_event].0 <= minute {
            level += events[next_event].1;
            next_event += 1;
        }
        let mut peak = level;
        while next_event < events.len() && events[next_event].0 < next {
            let at = events[next_event].0;
            while next_event < events.len() && events[next_event].0 == at {
                level += events[next_event].1;
                next_event += 1;
            }
            peak = peak.max(level);
        }
        total += i128::from(peak) * i128::from((next - minute).num_milliseconds());
        minute = next;
    }
    total
}

/// One hour of a pay-as-you-go workspace, rated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCharge {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Milli-CU x milliseconds as rated.
    pub cu_millis: i128,
    pub compute: Money,
    pub management: Money,
}

impl HourCharge {
    pub fn total(&self) -> Result<Money, BillingError> {
        self.compute.checked_add(self.management)
    }
}

/// Rates one hour window: compute and management fee, each rounded once.
pub fn rate_hour(
    intervals: &[RunInterval],
    window: Window,
    now: DateTime<Utc>,
    rate: Rate,
    granularity: Granularity,
) -> Result<HourCharge, BillingError> {
    let used = rated_cu_millis(intervals, window, now, granularity);
    let compute: Exact = rate.charge(used)?;
    let management = rate.charge(i128::from(MANAGEMENT_CU_MILLI) * i128::from(window.millis()))?;
    Ok(HourCharge {
        window_start: window.start,
        window_end: window.end,
        cu_millis: used,
        compute: compute.round()?,
        management: management.round()?,
    })
}

/// Rates one hour of a pay-as-you-go workspace, cut by price changes into `pieces`
/// (each with the rate in effect; together the hour): each piece's compute and
/// management fee rounded once and added up. The management fee is charged as `fee`
/// says: under [`ManagementFee::HoursWithUsage`] an hour in which nothing ran costs
/// nothing at all (but is still rated, at zero).
pub fn rate_priced_hour(
    intervals: &[RunInterval],
    pieces: &[(Window, Rate)],
    now: DateTime<Utc>,
    granularity: Granularity,
    fee: ManagementFee,
) -> Result<HourCharge, BillingError> {
    let (Some(first), Some(last)) = (pieces.first(), pieces.last()) else {
        return Err(BillingError::BadPeriod("an hour with no prices".to_owned()));
    };
    let currency = first.1.currency();
    let mut hour = HourCharge {
        window_start: first.0.start,
        window_end: last.0.end,
        cu_millis: 0,
        compute: Money::zero(currency),
        management: Money::zero(currency),
    };
    for (piece, rate) in pieces {
        let charge = rate_hour(intervals, *piece, now, *rate, granularity)?;
        hour.cu_millis += charge.cu_millis;
        hour.compute = hour.compute.checked_add(charge.compute)?;
        hour.management = hour.management.checked_add(charge.management)?;
    }
    if fee == ManagementFee::HoursWithUsage && hour.cu_millis == 0 {
        hour.management = Money::zero(currency);
    }
    Ok(hour)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn hour(start: &str) -> Window {
        let s = utc(start);
        Window {
            start: s,
            end: s + chrono::Duration::hours(1),
        }
    }

    #[test]
    fn the_management_fee_is_charged_every_hour_or_only_in_hours_with_usage_as_configured() {
        let rate = Rate::parse("0.09", Currency::CNY).unwrap();
        let w = hour("2026-11-01T00:00:00Z");
        // A price change at half past cuts the hour in two pieces.
        let half = w.start + chrono::Duration::minutes(30);
        let dearer = Rate::parse("0.12", Currency::CNY).unwrap();
        let pieces = [
            (
                Window {
                    start: w.start,
                    end: half,
                },
                rate,
            ),
            (
                Window {
                    start: half,
                    end: w.end,
                },
                dearer,
            ),
        ];
        let idle: [RunInterval; 0] = [];
        let ran = [RunInterval {
            start: half + chrono::Duration::minutes(10),
            end: Some(half + chrono::Duration::minutes(20)),
            cu_milli: 3_000,
        }];
        let charge = |intervals: &[RunInterval], fee| {
            let c = rate_priced_hour(intervals, &pieces, w.end, Granularity::Minute, fee).unwrap();
            (
                c.compute.to_string(),
                c.management.to_string(),
                c.window_start,
                c.window_end,
            )
        };
        // Every hour: 2 CU for half an hour at 0.09 (0.09) and half an hour at 0.12 (0.12).
        assert_eq!(
            charge(&idle, ManagementFee::EveryHour),
            ("0.00 CNY".into(), "0.21 CNY".into(), w.start, w.end)
        );
        assert_eq!(
            charge(&idle, ManagementFee::HoursWithUsage),
            ("0.00 CNY".into(), "0.00 CNY".into(), w.start, w.end)
        );
        // Ten minutes of 3 CU at 0.12 (0.06): the whole hour's fee under either choice.
        for fee in [ManagementFee::EveryHour, ManagementFee::HoursWithUsage] {
            assert_eq!(
                charge(&ran, fee),
                ("0.06 CNY".into(), "0.21 CNY".into(), w.start, w.end)
            );
        }
        assert_eq!(ManagementFee::default(), ManagementFee::EveryHour);
        assert_eq!(
            ManagementFee::parse("hours_with_usage"),
            Ok(ManagementFee::HoursWithUsage)
        );
        assert!(ManagementFee::parse("sometimes")
            .unwrap_err()
            .contains("billing.management_fee"));
    }

    #[test]
    fn cu_hours_are_exact_decimal_text() {
        assert_eq!(cu_hours_text(3 * 1_000 * 3_600_000), "3");
        assert_eq!(cu_hours_text(5_400_000), "0.0015");
        assert_eq!(cu_hours_text(0), "0");
    }

    #[test]
    fn the_products_worked_example_three_cu_for_an_hour_at_nine_fen() {
        let rate = Rate::parse("0.09", Currency::CNY).unwrap();
        let w = hour("2026-11-01T00:00:00Z");
        let run = [RunInterval {
            start: w.start,
            end: Some(w.end),
            cu_milli: 3_000,
        }];
        let charge = rate_hour(&run, w, w.end, rate, Granularity::Minute).unwrap();
        assert_eq!(charge.compute.to_string(), "0.27 CNY");
        assert_eq!(charge.management.to_string(), "0.18 CNY");
        assert_eq!(charge.total().unwrap().to_string(), "0.45 CNY");
    }

    #[test]
    fn windows_that_partition_time_partition_usage() {
        let run = [
            RunInterval {
                start: utc("2026-11-01T00:20:00.250Z"),
                end: Some(utc("2026-11-01T03:05:07Z")),
                cu_milli: 1_500,
            },
            RunInterval {
                start: utc("2026-11-01T02:59:59Z"),
                end: None,
                cu_milli: 250,
            },
        ];
        let now = utc("2026-11-01T05:00:00Z");
        let whole = Window {
            start: utc("2026-11-01T00:00:00Z"),
            end: now,
        };
        let hours: i128 = (0..5)
            .map(|h| cu_millis(&run, hour(&format!("2026-11-01T0{h}:00:00Z")), now))
            .sum();
        assert_eq!(hours, cu_millis(&run, whole, now));
        // A still-running interval counts only up to now.
        let future = hour("2026-11-01T06:00:00Z");
        assert_eq!(cu_millis(&run, future, now), 0);
    }

    #[test]
    fn minute_rating_counts_a_partial_minute_whole_and_second_rating_is_exact() {
        let rate = Rate::parse("0.09", Currency::CNY).unwrap();
        let w = hour("2026-11-01T00:00:00Z");
        // 90 seconds of 1 CU across two minutes.
        let run = [RunInterval {
            start: utc("2026-11-01T00:00:30Z"),
            end: Some(utc("2026-11-01T00:02:00Z")),
            cu_milli: 1_000,
        }];
        let by_minute = rated_cu_millis(&run, w, w.end, Granularity::Minute);
        let by_second = rated_cu_millis(&run, w, w.end, Granularity::Second);
        assert_eq!(by_minute, 2 * 60_000 * 1_000);
        assert_eq!(by_second, 90_000 * 1_000);
        assert!(
            rate_hour(&run, w, w.end, rate, Granularity::Minute)
                .unwrap()
                .compute
                .minor()
                >= rate_hour(&run, w, w.end, rate, Granularity::Second)
                    .unwrap()
                    .compute
                    .minor()
        );
    }

    #[test]
    fn minute_rating_adds_up_deployments_running_together_and_not_a_rescale() {
        let w = hour("2026-11-01T00:00:00Z");
        let at = |s: &str| utc(&format!("2026-11-01T00:{s}Z"));
        // Two deployments of 1 CU and 0.5 CU for the whole hour: 1.5 CU each minute.
        let together = [
            RunInterval {
                start: w.start,
                end: Some(w.end),
                cu_milli: 1_000,
            },
            RunInterval {
                start: w.start,
                end: Some(w.end),
                cu_milli: 500,
            },
        ];
        assert_eq!(
            rated_cu_millis(&together, w, w.end, Granularity::Minute),
            1_500 * 3_600_000
        );
        // One deployment rescaled from 1 CU to 2 CU mid-minute: that minute at 2 CU.
        let rescaled = [
            RunInterval {
                start: w.start,
                end: Some(at("00:30")),
                cu_milli: 1_000,
            },
            RunInterval {
                start: at("00:30"),
                end: Some(at("01:00")),
                cu_milli: 2_000,
            },
        ];
        assert_eq!(
            rated_cu_millis(&rescaled, w, w.end, Granularity::Minute),
            2_000 * 60_000
        );
    }

    #[test]
    fn a_bill_total_is_the_sum_of_its_rounded_lines() {
        // 24 hours of 1/3 CU-hours each at a price with sub-minor decimals: each line
        // rounds, the total is their sum, never a separately rounded grand total.
        let rate = Rate::parse("0.0333333", Currency::CNY).unwrap();
        let mut lines = Vec::new();
        for h in 0..24 {
            let w = hour(&format!("2026-11-01T{h:02}:00:00Z"));
            let run = [RunInterval {
                start: w.start,
                end: Some(w.start + chrono::Duration::minutes(20)),
                cu_milli: 1_000,
            }];
            lines.push(rate_hour(&run, w, w.end, rate, Granularity::Second).unwrap());
        }
        let total = Money::sum(Currency::CNY, lines.iter().map(|l| l.total().unwrap())).unwrap();
        // Each hour: compute 1.11111 fen -> 1, management 6.66666 fen -> 7; 24 x 8 = 192.
        assert!(lines
            .iter()
            .all(|l| l.compute.minor() == 1 && l.management.minor() == 7));
        assert_eq!(total.minor(), 192);
        // Rounding the exact grand total once would have given 186.67 -> 187: not what a bill does.
    }
}
