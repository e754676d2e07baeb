//! Benchmark: month-end pay-as-you-go billing of many accounts with generated,
//! realistic usage, in the billing domain (rating every project-hour of the month in
//! the account's time zone, then summing lines into bills). Prints wall time and peak
//! memory. The storage side (writing the rows) is measured by the gateway's tests.
//!
//!     cargo run --release -p sluice-billing --example month_end [accounts]

use std::time::Instant;

use billing::meter::{rate_hour, Granularity, RunInterval};
use billing::money::{Currency, Money, Rate};
use billing::period;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

/// A tiny deterministic generator, so runs are comparable.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let accounts: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let zones: [Tz; 3] = [
        "Asia/Shanghai".parse()?,
        "Europe/Berlin".parse()?,
        "America/New_York".parse()?,
    ];
    let rate = Rate::parse("0.09", Currency::CNY)?;
    let mut rng = Lcg(42);
    let generated = Instant::now();
    // Per account: 1-3 projects; per project 0-4 deployments, each running a few stretches.
    let mut usage: Vec<(Tz, Vec<Vec<RunInterval>>)> = Vec::with_capacity(accounts);
    let month_start: DateTime<Utc> = "2026-10-01T00:00:00Z".parse()?;
    for a in 0..accounts {
        let tz = zones[a % zones.len()];
        let mut projects = Vec::new();
        for _ in 0..=rng.next(3) {
            let mut intervals = Vec::new();
            for _ in 0..rng.next(5) {
                for _ in 0..=rng.next(6) {
                    let start = month_start + Duration::minutes(rng.next(31 * 24 * 60) as i64);
                    let end = start + Duration::minutes(1 + rng.next(7 * 24 * 60) as i64);
                    intervals.push(RunInterval {
                        start,
                        end: Some(end),
                        cu_milli: 250 * (1 + rng.next(16) as i64),
                    });
                }
            }
            projects.push(intervals);
        }
        usage.push((tz, projects));
    }
    let generated = generated.elapsed();
    let now: DateTime<Utc> = "2026-11-05T00:00:00Z".parse()?;

    let started = Instant::now();
    let (mut hours_rated, mut lines, mut grand_total) = (0_u64, 0_u64, 0_i64);
    for (tz, projects) in &usage {
        let month = period::month(2026, 10, *tz)?;
        let hours = period::hours(month.start, month.end, *tz)?;
        let mut bill = Vec::with_capacity(projects.len() * 2);
        for intervals in projects {
            let (mut compute, mut management) =
                (Money::zero(Currency::CNY), Money::zero(Currency::CNY));
            for window in &hours {
                let charge = rate_hour(intervals, *window, now, rate, Granularity::Minute)?;
                hours_rated += 1;
                compute = compute.checked_add(charge.compute)?;
                if charge.cu_millis > 0 {
                    management = management.checked_add(charge.management)?;
                }
            }
            bill.push(compute);
            bill.push(management);
        }
        lines += bill.len() as u64;
        grand_total += Money::sum(Currency::CNY, bill)?.minor();
    }
    let elapsed = started.elapsed();
    println!("{accounts} accounts, {hours_rated} project-hours rated (minute granularity), {lines} bill lines");
    println!(
        "generated usage in {:.2} s; billed the month in {:.2} s ({:.0} project-hours/s)",
        generated.as_secs_f64(),
        elapsed.as_secs_f64(),
        hours_rated as f64 / elapsed.as_secs_f64()
    );
    println!(
        "peak memory (VmHWM) {:.1} MiB; grand total {}",
        peak_rss_kib() as f64 / 1024.0,
        Money::from_minor(grand_total, Currency::CNY)
    );
    Ok(())
}
