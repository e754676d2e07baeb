#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests of quoting subscription orders ([`billing::order::quote`]) over random
//! terms, instants, zones, prices and CU: purchases never charge a negative amount,
//! every amount is the half-to-even rounding of its exact value, renewals keep the CU,
//! upgrades and downgrades cost the remaining share of the term's price of the changed
//! CU, the pieces of a term held in turns add up to the full-term price, and terms end at
//! the same wall-clock time in the account's zone.
//!
//! Expectations are computed here from scratch (integer half-to-even division, the
//! Gregorian calendar) and compared with what the crate computes.

mod arithmetic;
mod examples;
mod inputs;
mod properties;
