//! 5. Price versions apply from their effective instant.

use super::bills::price_text;
use super::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_price_change_splits_a_window_exactly_at_its_effective_instant_and_never_applies_before(
        first_at in 0_i64..=365 * DAY_MS,
        change_after in prop_oneof![1_i64..=HOUR_MS, 1_i64..=30 * DAY_MS],
        anchor in 0_u8..4,
        window_from_change in -3 * HOUR_MS..=HOUR_MS,
        window_ms in prop_oneof![1_i64..=1_000, 1_i64..=4 * HOUR_MS],
        (old_text, new_text) in (price_text(Currency::CNY), price_text(Currency::CNY)),
        newest_first in any::<bool>(),
        cu_milli in cu_quarters(),
    ) {
        let (old, new) = (cny(&old_text), cny(&new_text));
        let e1 = utc("2026-01-01T00:00:00Z") + ms(first_at);
        let e2 = e1 + ms(change_after);
        let mut versions = vec![
            PriceVersion { effective_from: e1, cu_hour: old, cu_month: old },
            PriceVersion { effective_from: e2, cu_hour: new, cu_month: new },
        ];
        if newest_first {
            versions.reverse();
        }
        let book = PriceBook::new(versions).unwrap();
        prop_assert_eq!(book.at(e2 - ms(1)).unwrap(), old);
        prop_assert_eq!(book.at(e2).unwrap(), new);
        prop_assert_eq!(book.at(e1).unwrap(), old);
        prop_assert!(book.at(e1 - ms(1)).is_err(), "a price applied before it took effect");
        prop_assert_eq!(book.cu_month_at(e2).unwrap(), new);

        // The window starts exactly at the change, ends exactly at it, starts exactly at
        // the first version, or lies anywhere around the change.
        let start = match anchor {
            0 => e2,
            1 => e2 - ms(window_ms),
            2 => e1,
            _ => e2 + ms(window_from_change),
        };
        let window = Window { start, end: start + ms(window_ms) };
        let pieces = match book.pieces(window) {
            Ok(pieces) => pieces,
            Err(_) => {
                // Only a window starting before any price has none.
                prop_assert!(window.start < e1, "no pieces for {:?}", window);
                return Ok(());
            }
        };
        prop_assert!(window.start >= e1, "priced a window before the first version");
        let expected = if window.start < e2 && e2 < window.end {
            vec![
                (Window { start: window.start, end: e2 }, old),
                (Window { start: e2, end: window.end }, new),
            ]
        } else if window.start >= e2 {
            vec![(window, new)]
        } else {
            vec![(window, old)]
        };
        prop_assert_eq!(&pieces, &expected);
        prop_assert_eq!(pieces.iter().map(|(w, _)| w.millis()).sum::<i64>(), window.millis());
        for (piece, rate) in &pieces {
            prop_assert!(piece.start < piece.end, "empty piece {:?}", piece);
            prop_assert_eq!(book.at(piece.start).unwrap(), *rate);
            prop_assert_eq!(book.at(piece.end - ms(1)).unwrap(), *rate);
        }
        // Rated piece by piece, usage before the change pays the old price only.
        let run = [RunInterval {
            start: window.start - ms(HOUR_MS),
            end: None,
            cu_milli,
        }];
        let now = window.end + ms(HOUR_MS);
        for (piece, rate) in &pieces {
            let charge = meter::rate_hour(&run, *piece, now, *rate, Granularity::Second).unwrap();
            let used = ledger(&run, piece.start, piece.end);
            prop_assert_eq!(used, i128::from(cu_milli) * i128::from(piece.millis()));
            prop_assert_eq!(
                i128::from(charge.compute.minor()),
                half_even(rate.micro_minor_per_cu_hour() * used, EXACT_PER_MINOR)
            );
        }
        let clash = PriceBook::new(vec![
            PriceVersion { effective_from: e2, cu_hour: old, cu_month: old },
            PriceVersion { effective_from: e2, cu_hour: new, cu_month: new },
        ]);
        prop_assert!(clash.is_err(), "two versions at one instant");
    }
}
