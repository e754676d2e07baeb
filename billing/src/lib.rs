//! Billing domain: money, billing periods in the account's time zone, versioned prices,
//! the metering and rating of pay-as-you-go usage and the quoting of subscription
//! orders. No HTTP and no database here: the gateway stores and exposes what this crate
//! computes.
//!
//! Rounding happens in one place, [`money::Exact::round`] (half to even, per line).

pub mod meter;
pub mod money;
pub mod order;
pub mod period;
pub mod price;
pub mod prorate;
pub mod term;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    #[error("`{0}` is not a currency Sluice bills in")]
    UnknownCurrency(String),
    #[error("amounts in {0} and {1} cannot be combined")]
    CurrencyMismatch(String, String),
    #[error("the amount is too large")]
    Overflow,
    #[error("`{0}` is not a valid price (a decimal in major units, at most 6 decimals beyond the minor unit)")]
    BadPrice(String),
    #[error(
        "`{0}` is not an amount (a decimal in major units with at most the currency's decimals)"
    )]
    BadAmount(String),
    #[error("no price is in effect at {0}")]
    NoPrice(String),
    #[error("bad billing period: {0}")]
    BadPeriod(String),
}
