#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests of the billing rules: metering is exact over random schedules of
//! runs in any billing zone, re-rating never bills a CU-millisecond twice, bills add up
//! to their rounded lines, proration pieces add up to the whole, and price changes are
//! never retroactive.
//!
//! Every expectation here is computed from scratch in these files (their own ledger,
//! half-to-even rounding and calendar) and compared with what the crate computes.

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

mod bills;
mod metering;
mod model;
mod prices;
mod proration;
mod rerating;
mod schedules;
mod terms;
mod windows;

use model::*;
use schedules::*;
use windows::*;
