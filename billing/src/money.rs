//! Money without floating point. A [`Money`] is an integer count of a currency's minor
//! unit (fen, cent). Amounts being computed are [`Exact`]: integers of a unit so small
//! that pricing arithmetic never divides (see [`EXACT_PER_MINOR`]). An `Exact` becomes
//! `Money` in exactly one place, [`Exact::round`], by one rule: half to even, per line
//! item. Totals are sums of rounded lines, so a bill always adds up.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::BillingError;

/// A currency and how many decimal places its minor unit has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

impl Currency {
    pub const CNY: Currency = Currency {
        code: *b"CNY",
        exponent: 2,
    };
    pub const USD: Currency = Currency {
        code: *b"USD",
        exponent: 2,
    };
    pub const EUR: Currency = Currency {
        code: *b"EUR",
        exponent: 2,
    };
    pub const JPY: Currency = Currency {
        code: *b"JPY",
        exponent: 0,
    };

    /// The currencies Sluice bills in.
    pub fn parse(code: &str) -> Result<Currency, BillingError> {
        [Self::CNY, Self::USD, Self::EUR, Self::JPY]
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or_else(|| BillingError::UnknownCurrency(code.to_owned()))
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    fn minor_per_major(&self) -> i128 {
        10_i128.pow(u32::from(self.exponent))
    }
}

/// An amount in whole minor units of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn checked_add(self, other: Money) -> Result<Money, BillingError> {
        if self.currency != other.currency {
            return Err(BillingError::CurrencyMismatch(
                self.currency.code().to_owned(),
                other.currency.code().to_owned(),
            ));
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(BillingError::Overflow)?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    pub fn negate(self) -> Money {
        Money {
            minor: -self.minor,
            currency: self.currency,
        }
    }

    /// Sums amounts of one currency; empty sums are zero in `currency`.
    pub fn sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, BillingError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }
}

impl Money {
    /// Parses a positive or zero decimal amount in major units (e.g. `"12.50"`) with at
    /// most the currency's decimals, exactly.
    pub fn parse_major(text: &str, currency: Currency) -> Result<Money, BillingError> {
        let bad = || BillingError::BadAmount(text.to_owned());
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let places = usize::from(currency.exponent);
        if whole.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !fraction.chars().all(|c| c.is_ascii_digit())
            || fraction.len() > places
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let fraction: i64 = if places == 0 {
            0
        } else {
            format!("{fraction:0<places$}").parse().map_err(|_| bad())?
        };
        let minor = whole
            .checked_mul(currency.minor_per_major() as i64)
            .and_then(|w| w.checked_add(fraction))
            .ok_or_else(bad)?;
        Ok(Money::from_minor(minor, currency))
    }

    /// The amount in major units as exact decimal text, e.g. `"0.45"` (no currency).
    pub fn major(&self) -> String {
        let per = self.currency.minor_per_major().unsigned_abs() as u64;
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if self.currency.exponent == 0 {
            format!("{sign}{abs}")
        } else {
            format!(
                "{sign}{}.{:0width$}",
                abs / per,
                abs % per,
                width = usize::from(self.currency.exponent)
            )
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.major(), self.currency.code())
    }
}

/// Exact units in one minor unit: a millionth of the minor unit (prices may have more
/// decimals than the currency), per thousandth of a CU (CU are counted in milli-CU),
/// per millisecond of an hour (usage is timed in milliseconds). A price per CU-hour
/// times milli-CU times milliseconds is then an integer number of exact units.
pub const EXACT_PER_MINOR: i128 = 1_000_000 * 1_000 * 3_600_000;

/// An amount before rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exact {
    units: i128,
    currency: Currency,
}

impl Exact {
    pub fn zero(currency: Currency) -> Exact {
        Exact { units: 0, currency }
    }

    pub(crate) fn from_units(units: i128, currency: Currency) -> Exact {
        Exact { units, currency }
    }

    pub fn units(&self) -> i128 {
        self.units
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn checked_add(self, other: Exact) -> Result<Exact, BillingError> {
        if self.currency != other.currency {
            return Err(BillingError::CurrencyMismatch(
                self.currency.code().to_owned(),
                other.currency.code().to_owned(),
            ));
        }
        let units = self
            .units
            .checked_add(other.units)
            .ok_or(BillingError::Overflow)?;
        Ok(Exact {
            units,
            currency: self.currency,
        })
    }

    /// THE rounding of Sluice's billing: to whole minor units, half to even, applied
    /// once per line item and nowhere else.
    pub fn round(self) -> Result<Money, BillingError> {
        let q = self.units.div_euclid(EXACT_PER_MINOR);
        let r = self.units.rem_euclid(EXACT_PER_MINOR);
        let twice = r * 2;
        let rounded = match twice.cmp(&EXACT_PER_MINOR) {
            std::cmp::Ordering::Less => q,
            std::cmp::Ordering::Greater => q + 1,
            std::cmp::Ordering::Equal => {
                if q % 2 == 0 {
                    q
                } else {
                    q + 1
                }
            }
        };
        let minor = i64::try_from(rounded).map_err(|_| BillingError::Overflow)?;
        Ok(Money::from_minor(minor, self.currency))
    }
}

/// A price per CU-hour, in millionths of the currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    micro_minor_per_cu_hour: i128,
    currency: Currency,
}

impl Rate {
    /// Parses a decimal price in major units, e.g. `"0.09"` CNY; at most six decimals
    /// beyond the minor unit, never a float.
    pub fn parse(major: &str, currency: Currency) -> Result<Rate, BillingError> {
        let bad = || BillingError::BadPrice(major.to_owned());
        let (whole, fraction) = major.split_once('.').unwrap_or((major, ""));
        let places = u32::from(currency.exponent) + 6;
        if whole.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !fraction.chars().all(|c| c.is_ascii_digit())
            || fraction.len() > places as usize
        {
            return Err(bad());
        }
        let padded = format!("{fraction:0<width$}", width = places as usize);
        let whole: i128 = whole.parse().map_err(|_| bad())?;
        let fraction: i128 = if padded.is_empty() {
            0
        } else {
            padded.parse().map_err(|_| bad())?
        };
        let micro_minor = whole
            .checked_mul(10_i128.pow(places))
            .and_then(|w| w.checked_add(fraction))
            .ok_or_else(bad)?;
        Ok(Rate {
            micro_minor_per_cu_hour: micro_minor,
            currency,
        })
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn micro_minor_per_cu_hour(&self) -> i128 {
        self.micro_minor_per_cu_hour
    }

    /// The price in major units as exact decimal text without trailing zeros, e.g. `"0.09"`.
    pub fn major(&self) -> String {
        let places = usize::from(self.currency.exponent) + 6;
        let per = 10_i128.pow(places as u32);
        let text = format!(
            "{}.{:0places$}",
            self.micro_minor_per_cu_hour / per,
            self.micro_minor_per_cu_hour % per
        );
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }

    /// The exact price of `cu_milli` thousandths of a CU for `months` months, this rate
    /// being per CU-month.
    pub fn charge_months(&self, cu_milli: i64, months: i64) -> Result<Exact, BillingError> {
        let units = self
            .micro_minor_per_cu_hour
            .checked_mul(i128::from(cu_milli))
            .and_then(|u| u.checked_mul(i128::from(months)))
            .and_then(|u| u.checked_mul(3_600_000))
            .ok_or(BillingError::Overflow)?;
        Ok(Exact::from_units(units, self.currency))
    }

    /// The exact charge for `cu_milli` thousandths of a CU held for `millis` milliseconds.
    pub fn charge(&self, cu_milli_millis: i128) -> Result<Exact, BillingError> {
        let units = self
            .micro_minor_per_cu_hour
            .checked_mul(cu_milli_millis)
            .ok_or(BillingError::Overflow)?;
        Ok(Exact::from_units(units, self.currency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_to_even_at_the_minor_unit() {
        let half = EXACT_PER_MINOR / 2;
        let cases = [
            (0, 0),
            (half - 1, 0),
            (half, 0),
            (half + 1, 1),
            (EXACT_PER_MINOR + half, 2),
            (3 * EXACT_PER_MINOR + half, 4),
            (-half, 0),
            (-EXACT_PER_MINOR - half, -2),
        ];
        for (units, minor) in cases {
            assert_eq!(
                Exact::from_units(units, Currency::CNY)
                    .round()
                    .unwrap()
                    .minor(),
                minor,
                "{units}"
            );
        }
    }

    #[test]
    fn prices_parse_exactly_and_reject_what_is_not_a_price() {
        let r = Rate::parse("0.09", Currency::CNY).unwrap();
        // 0.09 CNY = 9 fen = 9,000,000 millionths of a fen.
        assert_eq!(r.micro_minor_per_cu_hour, 9_000_000);
        assert_eq!(
            Rate::parse("1.00000001", Currency::CNY)
                .unwrap()
                .micro_minor_per_cu_hour,
            100_000_001
        );
        for bad in ["", ".5", "1e3", "-1", "0.000000001", "abc", "1.2.3"] {
            assert!(Rate::parse(bad, Currency::CNY).is_err(), "{bad}");
        }
    }

    #[test]
    fn amounts_parse_exactly_to_minor_units() {
        assert_eq!(
            Money::parse_major("12.50", Currency::CNY).unwrap().minor(),
            1250
        );
        assert_eq!(Money::parse_major("7", Currency::CNY).unwrap().minor(), 700);
        assert_eq!(Money::parse_major("7", Currency::JPY).unwrap().minor(), 7);
        for bad in ["1.005", "-1", "", "1.", ".5", "1e3", "1.5", "x"] {
            let currency = if bad == "1.5" {
                Currency::JPY
            } else {
                Currency::CNY
            };
            assert!(Money::parse_major(bad, currency).is_err(), "{bad}");
        }
        assert_eq!(
            Rate::parse("0.0900", Currency::CNY).unwrap().major(),
            "0.09"
        );
        assert_eq!(Rate::parse("50", Currency::CNY).unwrap().major(), "50");
    }

    #[test]
    fn a_monthly_rate_charges_whole_cu_months_exactly() {
        let per_month = Rate::parse("50", Currency::CNY).unwrap();
        assert_eq!(
            per_month
                .charge_months(2_500, 3)
                .unwrap()
                .round()
                .unwrap()
                .minor(),
            37_500
        );
    }

    #[test]
    fn money_displays_in_major_units_and_refuses_mixed_currencies() {
        assert_eq!(Money::from_minor(45, Currency::CNY).to_string(), "0.45 CNY");
        assert_eq!(
            Money::from_minor(-1205, Currency::USD).to_string(),
            "-12.05 USD"
        );
        assert_eq!(Money::from_minor(7, Currency::JPY).to_string(), "7 JPY");
        assert!(Money::zero(Currency::CNY)
            .checked_add(Money::zero(Currency::USD))
            .is_err());
    }
}
