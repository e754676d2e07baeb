//! 2. Re-rating bills each CU-millisecond once.

use super::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn billing_in_two_passes_split_at_an_hour_boundary_equals_one_pass(
        s in scenario(),
        split in any::<u64>(),
        anywhere in any::<u64>(),
    ) {
        let (tz, from, now) = (s.tz(), s.from(), s.now());
        let intervals = known_at(&s.intervals(), now);
        let rate = cny("0.0912345");
        let hours = period::hours(from, now, tz).unwrap();
        // A pass crashed after writing the hours before `k`; the next pass starts at `k`.
        let k = hours[(split % hours.len() as u64) as usize].start;
        let before = period::hours(from, k, tz).unwrap();
        let after = period::hours(k, now, tz).unwrap();
        prop_assert!(before.iter().all(|w| w.end <= k) && after.iter().all(|w| w.start >= k));
        let rejoined: Vec<Window> = before.iter().chain(&after).copied().collect();
        prop_assert_eq!(&rejoined, &hours, "the passes cut other hours than one pass");
        for granularity in [Granularity::Second, Granularity::Minute] {
            let one = rate_all(&intervals, &hours, now, rate, granularity);
            let first = rate_all(&intervals, &before, now, rate, granularity);
            let second = rate_all(&intervals, &after, now, rate, granularity);
            let two: Vec<meter::HourCharge> = first.into_iter().chain(second).collect();
            prop_assert_eq!(&two, &one);
            // Rating the same hours again changes nothing: a re-run writes the same rows.
            prop_assert_eq!(&rate_all(&intervals, &hours, now, rate, granularity), &one);
        }
        // Split anywhere (mid-hour), the exact usage still adds up.
        let k = from + ms((anywhere % (now - from).num_milliseconds() as u64) as i64);
        let split_total: i128 = period::hours(from, k, tz)
            .unwrap()
            .into_iter()
            .chain(period::hours(k, now, tz).unwrap())
            .map(|w| meter::cu_millis(&intervals, w, now))
            .sum();
        prop_assert_eq!(split_total, ledger(&intervals, from, now));
    }

    #[test]
    fn a_still_running_interval_rated_early_then_late_is_never_counted_twice(
        s in scenario(),
        later in 1_i64..=2 * DAY_MS,
    ) {
        let (tz, from) = (s.tz(), s.from());
        let (early, late) = (s.now(), s.now() + ms(s.gap(later)));
        let all = s.intervals();
        let (seen_early, seen_late) = (known_at(&all, early), known_at(&all, late));
        let rate = cny("0.09");
        // The pass at `early` bills its settled hours; the pass at `late` goes on from
        // where it stopped.
        let first = settled_hours(from, early, tz);
        let billed_until = first.last().map_or(from, |w| w.end);
        let second = settled_hours(billed_until, late, tz);
        let once = settled_hours(from, late, tz);
        let both: Vec<Window> = first.iter().chain(&second).copied().collect();
        prop_assert_eq!(&both, &once);
        for granularity in [Granularity::Second, Granularity::Minute] {
            let passes: Vec<meter::HourCharge> = rate_all(&seen_early, &first, early, rate, granularity)
                .into_iter()
                .chain(rate_all(&seen_late, &second, late, rate, granularity))
                .collect();
            let single = rate_all(&seen_late, &once, late, rate, granularity);
            prop_assert_eq!(&passes, &single);
        }
        let billed = rate_all(&seen_early, &first, early, rate, Granularity::Second)
            .into_iter()
            .chain(rate_all(&seen_late, &second, late, rate, Granularity::Second));
        let settled_end = once.last().map_or(from, |w| w.end);
        prop_assert_eq!(
            billed.map(|c| c.cu_millis).sum::<i128>(),
            ledger(&seen_late, from, settled_end)
        );
    }
}
