//! The prices in force, read from the configuration: the currency, the versioned price
//! book and the granularity usage is rated at.

use billing::meter::Granularity;
use billing::money::{Currency, Rate};
use billing::price::{PriceBook, PriceVersion};
use chrono::{DateTime, Utc};

use crate::config::BillingConfig;

pub struct Pricing {
    pub currency: Currency,
    pub book: PriceBook,
    pub granularity: Granularity,
    /// Share of the unused amount an unsubscribe refunds, 0 to 100.
    pub unsubscribe_refund_percent: i64,
}

impl Pricing {
    pub fn from_config(config: &BillingConfig) -> anyhow::Result<Self> {
        let currency = Currency::parse(&config.currency)
            .map_err(|e| anyhow::anyhow!("billing.currency: {e}"))?;
        let mut versions = Vec::new();
        for (i, p) in config.prices.iter().enumerate() {
            let effective_from = DateTime::parse_from_rfc3339(&p.effective_from)
                .map_err(|e| anyhow::anyhow!("billing.prices[{i}].effective_from: {e}"))?
                .with_timezone(&Utc);
            let cu_hour = Rate::parse(&p.cu_hour, currency)
                .map_err(|e| anyhow::anyhow!("billing.prices[{i}].cu_hour: {e}"))?;
            let cu_month = Rate::parse(&p.cu_month, currency)
                .map_err(|e| anyhow::anyhow!("billing.prices[{i}].cu_month: {e}"))?;
            versions.push(PriceVersion {
                effective_from,
                cu_hour,
                cu_month,
            });
        }
        let book = PriceBook::new(versions).map_err(|e| anyhow::anyhow!("billing.prices: {e}"))?;
        let granularity = match config.granularity.as_str() {
            "minute" => Granularity::Minute,
            "second" => Granularity::Second,
            other => {
                anyhow::bail!("billing.granularity must be `minute` or `second`, got `{other}`")
            }
        };
        Ok(Self {
            currency,
            book,
            granularity,
            unsubscribe_refund_percent: config.unsubscribe_refund_percent,
        })
    }

    /// What an order placed at `at` is priced with: the subscription price in effect
    /// then and the unsubscribe refund share.
    pub fn order_prices(&self, at: DateTime<Utc>) -> Result<billing::order::Prices, store::Error> {
        Ok(billing::order::Prices {
            cu_month: self
                .book
                .cu_month_at(at)
                .map_err(|e| store::Error::internal(e.to_string()))?,
            unsubscribe_refund_percent: self.unsubscribe_refund_percent,
        })
    }
}
