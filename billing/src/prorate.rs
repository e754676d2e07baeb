//! Proration: what part of a term's price belongs to a stretch of it. Everything is in
//! integer milliseconds and integer minor units; the only rounding is half to even,
//! and splitting a price into pieces rounds cumulatively so the pieces always add up
//! to the whole (no cent appears or vanishes however often a term is cut).

use crate::money::Money;
use crate::BillingError;

/// Divides `num` by `den` (den > 0), rounding half to even.
fn div_half_even(num: i128, den: i128) -> i128 {
    let q = num.div_euclid(den);
    let r = num.rem_euclid(den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    }
}

/// The share of `whole` for `part_ms` of a term lasting `term_ms`, rounded once.
pub fn share(whole: Money, part_ms: i64, term_ms: i64) -> Result<Money, BillingError> {
    if term_ms <= 0 || part_ms < 0 || part_ms > term_ms {
        return Err(BillingError::BadPeriod(format!(
            "{part_ms} ms is not a part of a {term_ms} ms term"
        )));
    }
    let minor = div_half_even(
        i128::from(whole.minor()) * i128::from(part_ms),
        i128::from(term_ms),
    );
    Ok(Money::from_minor(
        i64::try_from(minor).map_err(|_| BillingError::Overflow)?,
        whole.currency(),
    ))
}

/// Splits `whole` over consecutive stretches of a term (their lengths in ms, summing to
/// the term): each piece is the difference of rounded cumulative shares, so the pieces
/// sum to `whole` exactly.
pub fn pieces(whole: Money, stretches_ms: &[i64]) -> Result<Vec<Money>, BillingError> {
    let term: i64 = stretches_ms.iter().sum();
    let mut out = Vec::with_capacity(stretches_ms.len());
    let (mut elapsed, mut allotted) = (0_i64, 0_i64);
    for stretch in stretches_ms {
        elapsed += stretch;
        let cumulative = share(whole, elapsed, term)?.minor();
        out.push(Money::from_minor(cumulative - allotted, whole.currency()));
        allotted = cumulative;
    }
    Ok(out)
}

/// What is left of `whole` after `elapsed_ms` of a `term_ms` term: the whole minus the
/// rounded cumulative share, so charges and refunds at different instants of one term
/// net to exactly the pieces between them.
pub fn remaining(whole: Money, elapsed_ms: i64, term_ms: i64) -> Result<Money, BillingError> {
    let used = share(whole, elapsed_ms, term_ms)?;
    Ok(Money::from_minor(
        whole.minor() - used.minor(),
        whole.currency(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::period::add_months;
    use chrono::NaiveDate;

    fn cny(minor: i64) -> Money {
        Money::from_minor(minor, Currency::CNY)
    }

    #[test]
    fn pieces_of_a_term_always_add_up_to_its_price() {
        // 100.00 over three equal stretches: 33.33 + 33.34 + 33.33, never 99.99.
        let p = pieces(cny(10_000), &[1_000, 1_000, 1_000]).unwrap();
        assert_eq!(p.iter().map(Money::minor).sum::<i64>(), 10_000);
        // Many odd cuts of an odd price.
        let cuts: Vec<i64> = (1..=37).map(|i| i * 7_919 % 1_000 + 1).collect();
        let p = pieces(cny(123_457), &cuts).unwrap();
        assert_eq!(p.iter().map(Money::minor).sum::<i64>(), 123_457);
    }

    #[test]
    fn an_upgrade_then_a_downgrade_on_the_same_day_net_to_the_hours_between() {
        let term_ms = 30 * 86_400_000;
        let (upgraded, downgraded) = (
            5 * 86_400_000 + 3_600_000,
            5 * 86_400_000 + 9 * 3_600_000 + 17,
        );
        let extra_cu_for_the_term = cny(5_003);
        let charge = remaining(extra_cu_for_the_term, upgraded, term_ms).unwrap();
        let refund = remaining(extra_cu_for_the_term, downgraded, term_ms).unwrap();
        let pieces = pieces(
            extra_cu_for_the_term,
            &[upgraded, downgraded - upgraded, term_ms - downgraded],
        )
        .unwrap();
        assert_eq!(
            charge.minor() - refund.minor(),
            pieces[1].minor(),
            "net = exactly the piece between"
        );
        assert_eq!(
            remaining(extra_cu_for_the_term, 0, term_ms)
                .unwrap()
                .minor(),
            5_003
        );
        assert_eq!(share(cny(5_000), term_ms, term_ms).unwrap().minor(), 5_000);
        assert_eq!(share(cny(5_000), 0, term_ms).unwrap().minor(), 0);
        assert!(share(cny(5_000), term_ms + 1, term_ms).is_err());
    }

    #[test]
    fn terms_across_short_months_and_leap_years_prorate_by_their_real_length() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // A month from Jan 31 ends Feb 28 (28 days) in 2027 and Feb 29 (29 days) in 2028.
        for (start, days) in [("2027-01-31", 28), ("2028-01-31", 29)] {
            let end = add_months(d(start), 1).unwrap();
            let term_ms = (end - d(start)).num_days() * 86_400_000;
            assert_eq!(term_ms, days * 86_400_000);
            // The last second of the term is worth its share, and the rest adds back.
            let last_second = share(cny(2_800), 1_000, term_ms).unwrap();
            let rest = share(cny(2_800), term_ms - 1_000, term_ms).unwrap();
            assert_eq!(last_second.minor() + rest.minor(), 2_800);
        }
    }
}
