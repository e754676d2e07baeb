//! 3. A bill adds up to its rounded lines.

use super::*;

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec![
        Currency::CNY,
        Currency::USD,
        Currency::EUR,
        Currency::JPY,
    ])
}

/// A price in major units with up to six decimals beyond the minor unit, as text.
pub(crate) fn price_text(currency: Currency) -> impl Strategy<Value = String> {
    let places = usize::from(currency.exponent()) + 6;
    (0_u32..=120, prop::collection::vec(0_u8..10, 0..=places)).prop_map(|(whole, digits)| {
        if digits.is_empty() {
            whole.to_string()
        } else {
            let fraction: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            format!("{whole}.{fraction}")
        }
    })
}

/// The price's millionths of a minor unit, read from its text by hand.
fn expected_micro_minor(text: &str, currency: Currency) -> i128 {
    let places = u32::from(currency.exponent()) + 6;
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut value: i128 = whole.parse::<i128>().unwrap() * 10_i128.pow(places);
    for (i, digit) in fraction.bytes().enumerate() {
        value += i128::from(digit - b'0') * 10_i128.pow(places - 1 - i as u32);
    }
    value
}

#[derive(Debug, Clone)]
struct Line {
    window_ms: i64,
    runs: Vec<(i64, i64, i64)>,
}

fn line() -> impl Strategy<Value = Line> {
    (
        prop_oneof![Just(HOUR_MS), 1_i64..=HOUR_MS],
        prop::collection::vec(
            (0_i64..=90 * MINUTE_MS, 1_i64..=2 * HOUR_MS, cu_quarters()),
            0..3,
        ),
    )
        .prop_map(|(window_ms, runs)| Line { window_ms, runs })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_bill_total_is_exactly_the_sum_of_its_lines_each_rounded_half_to_even_once(
        (currency, text) in currency().prop_flat_map(|c| (Just(c), price_text(c))),
        lines in prop::collection::vec(line(), 1..40),
        minute in any::<bool>(),
    ) {
        let rate = Rate::parse(&text, currency).unwrap();
        prop_assert_eq!(rate.micro_minor_per_cu_hour(), expected_micro_minor(&text, currency));
        prop_assert_eq!(Rate::parse(&rate.major(), currency).unwrap(), rate);
        prop_assert_eq!(EXACT_PER_MINOR, 1_000_000 * 1_000 * i128::from(HOUR_MS));
        let granularity = if minute { Granularity::Minute } else { Granularity::Second };
        let micro = rate.micro_minor_per_cu_hour();
        let base = utc("2026-11-01T00:00:00Z");
        let mut charges = Vec::new();
        let mut exact_grand_total = 0_i128;
        for (n, line) in lines.iter().enumerate() {
            let start = base + ms(n as i64 * HOUR_MS);
            let window = Window { start, end: start + ms(line.window_ms) };
            let intervals: Vec<RunInterval> = line
                .runs
                .iter()
                .map(|&(at, len, cu_milli)| {
                    let s = start - ms(30 * MINUTE_MS) + ms(at);
                    RunInterval { start: s, end: Some(s + ms(len)), cu_milli }
                })
                .collect();
            let charge = meter::rate_hour(&intervals, window, window.end, rate, granularity).unwrap();
            if !minute {
                prop_assert_eq!(charge.cu_millis, ledger(&intervals, window.start, window.end));
            }
            let compute_exact = micro * charge.cu_millis;
            let management_exact = micro * 2_000 * i128::from(line.window_ms);
            prop_assert_eq!(i128::from(charge.compute.minor()), half_even(compute_exact, EXACT_PER_MINOR));
            prop_assert_eq!(i128::from(charge.management.minor()), half_even(management_exact, EXACT_PER_MINOR));
            prop_assert_eq!(charge.compute.currency(), currency);
            exact_grand_total += compute_exact + management_exact;
            charges.push(charge);
        }
        let totals: Vec<Money> = charges.iter().map(|c| c.total().unwrap()).collect();
        let bill = Money::sum(currency, totals.iter().copied()).unwrap();
        let lines_sum: i64 = charges
            .iter()
            .map(|c| c.compute.minor() + c.management.minor())
            .sum();
        prop_assert_eq!(bill.minor(), lines_sum);
        prop_assert_eq!(bill.currency(), currency);
        // Each line rounds twice by at most half a minor unit: the bill is within one
        // minor unit per line of the exact grand total (and need not equal its rounding).
        let off = (i128::from(bill.minor()) * EXACT_PER_MINOR - exact_grand_total).abs();
        prop_assert!(off <= charges.len() as i128 * EXACT_PER_MINOR, "bill off by {} units", off);
        // Amounts print and parse back exactly.
        prop_assert_eq!(Money::parse_major(&bill.major(), currency).unwrap(), bill);
    }
}
