//! Prices as configuration, versioned: each version applies from its effective instant
//! until the next one, never before (a price change is never retroactive).

use chrono::{DateTime, Utc};

use crate::money::Rate;
use crate::period::Window;
use crate::BillingError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceVersion {
    pub effective_from: DateTime<Utc>,
    /// Pay-as-you-go price of one CU for one hour.
    pub cu_hour: Rate,
    /// Subscription price of one CU for one month.
    pub cu_month: Rate,
}

/// The price versions of one product form (and region), in effect order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceBook {
    versions: Vec<PriceVersion>,
}

impl PriceBook {
    /// Versions must share one currency; they are sorted by effective time.
    pub fn new(mut versions: Vec<PriceVersion>) -> Result<Self, BillingError> {
        versions.sort_by_key(|v| v.effective_from);
        if let Some(first) = versions.first() {
            let currency = first.cu_hour.currency();
            if versions.iter().any(|v| v.cu_hour.currency() != currency) {
                return Err(BillingError::BadPrice(
                    "price versions of one book must share a currency".to_owned(),
                ));
            }
        }
        if versions
            .windows(2)
            .any(|w| w[0].effective_from == w[1].effective_from)
        {
            return Err(BillingError::BadPrice(
                "two price versions take effect at the same instant".to_owned(),
            ));
        }
        Ok(Self { versions })
    }

    /// The price in effect at `at`.
    pub fn at(&self, at: DateTime<Utc>) -> Result<Rate, BillingError> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective_from <= at)
            .map(|v| v.cu_hour)
            .ok_or_else(|| BillingError::NoPrice(at.to_rfc3339()))
    }

    /// The subscription price per CU-month in effect at `at`.
    pub fn cu_month_at(&self, at: DateTime<Utc>) -> Result<Rate, BillingError> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective_from <= at)
            .map(|v| v.cu_month)
            .ok_or_else(|| BillingError::NoPrice(at.to_rfc3339()))
    }

    /// Splits `window` where the price changes, with the price of each piece.
    pub fn pieces(&self, window: Window) -> Result<Vec<(Window, Rate)>, BillingError> {
        let mut edges: Vec<DateTime<Utc>> = self
            .versions
            .iter()
            .map(|v| v.effective_from)
            .filter(|t| *t > window.start && *t < window.end)
            .collect();
        edges.insert(0, window.start);
        edges.push(window.end);
        edges
            .windows(2)
            .map(|pair| {
                Ok((
                    Window {
                        start: pair[0],
                        end: pair[1],
                    },
                    self.at(pair[0])?,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_price_change_applies_from_its_instant_and_splits_the_hour_it_falls_in() {
        let old = Rate::parse("0.09", Currency::CNY).unwrap();
        let new = Rate::parse("0.12", Currency::CNY).unwrap();
        let book = PriceBook::new(vec![
            PriceVersion {
                effective_from: utc("2026-12-01T10:30:00Z"),
                cu_hour: new,
                cu_month: new,
            },
            PriceVersion {
                effective_from: utc("2026-01-01T00:00:00Z"),
                cu_hour: old,
                cu_month: old,
            },
        ])
        .unwrap();
        assert_eq!(book.at(utc("2026-12-01T10:29:59Z")).unwrap(), old);
        assert_eq!(book.at(utc("2026-12-01T10:30:00Z")).unwrap(), new);
        let hour = Window {
            start: utc("2026-12-01T10:00:00Z"),
            end: utc("2026-12-01T11:00:00Z"),
        };
        let pieces = book.pieces(hour).unwrap();
        assert_eq!(pieces.len(), 2);
        assert_eq!((pieces[0].1, pieces[1].1), (old, new));
        assert_eq!(pieces[0].0.millis() + pieces[1].0.millis(), hour.millis());
        assert!(
            book.at(utc("2025-12-31T23:59:59Z")).is_err(),
            "no price before the first version"
        );
    }
}
