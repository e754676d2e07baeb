//! 1. Metering is exact.

use super::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn hours_in_any_zone_partition_the_span_and_their_exact_usage_sums_to_the_ledger(
        s in scenario()
    ) {
        let (tz, from, now) = (s.tz(), s.from(), s.now());
        let intervals = known_at(&s.intervals(), now);
        let hours = period::hours(from, now, tz).unwrap();
        assert_partition(&hours, from, now)?;
        assert_local_hours(&hours, tz)?;
        // Every sampled instant lies in exactly one hour.
        let span = (now - from).num_milliseconds() as u64;
        for x in &s.samples {
            let t = from + ms((x % span) as i64);
            let containing = hours.iter().filter(|w| w.start <= t && t < w.end).count();
            prop_assert_eq!(containing, 1, "{} is in {} hours", t, containing);
        }
        let charges = rate_all(&intervals, &hours, now, cny("0.09"), Granularity::Second);
        for (w, c) in hours.iter().zip(&charges) {
            prop_assert_eq!(c.cu_millis, ledger(&intervals, w.start, w.end), "hour {:?}", w);
        }
        prop_assert_eq!(total_cu(&charges), ledger(&intervals, from, now));
    }

    #[test]
    fn minute_rating_bills_each_minute_at_its_peak_concurrent_cu_never_below_exact_nor_above_a_peak_minute_per_change(
        s in scenario()
    ) {
        let (tz, from, now) = (s.tz(), s.from(), s.now());
        let intervals = known_at(&s.intervals(), now);
        let peak = i128::from(peak_concurrent_cu(&intervals, now));
        let hours = period::hours(from, now, tz).unwrap();
        let charges = rate_all(&intervals, &hours, now, cny("0.09"), Granularity::Minute);
        let mut exact_total = 0_i128;
        for (w, c) in hours.iter().zip(&charges) {
            let exact = ledger(&intervals, w.start, w.end);
            let changed = i128::from(minutes_with_a_change(&intervals, *w));
            prop_assert!(c.cu_millis >= exact, "hour {:?}: rated {} < exact {}", w, c.cu_millis, exact);
            prop_assert!(
                c.cu_millis <= exact + changed * peak * i128::from(MINUTE_MS),
                "hour {:?}: rated {} > exact {} + {} changed minutes x peak {}",
                w, c.cu_millis, exact, changed, peak
            );
            prop_assert_eq!(c.cu_millis, minute_model(&intervals, *w, now), "hour {:?}", w);
            if changed == 0 {
                // Usage constant over every minute: a minute sampler sees it exactly.
                prop_assert_eq!(c.cu_millis, exact, "hour {:?}", w);
            }
            exact_total += exact;
        }
        prop_assert_eq!(exact_total, ledger(&intervals, from, now));
        if s.resolution == MINUTE_MS {
            // Everything on whole minutes, every zone's hours too: nothing to round up.
            prop_assert_eq!(total_cu(&charges), exact_total);
        }
    }

    #[test]
    fn local_days_partition_the_span_at_hour_edges_and_meter_the_same_total_as_hours(
        s in scenario()
    ) {
        let (tz, from, now) = (s.tz(), s.from(), s.now());
        let intervals = known_at(&s.intervals(), now);
        let days = period::days(from, now, tz).unwrap();
        let hours = period::hours(from, now, tz).unwrap();
        assert_partition(&days, from, now)?;
        let hour_edges: BTreeSet<DateTime<Utc>> = hours.iter().map(|w| w.start).collect();
        for d in &days {
            prop_assert!(d.millis() <= 25 * HOUR_MS);
            let first = d.start.with_timezone(&tz);
            let last = (d.end - ms(1)).with_timezone(&tz);
            prop_assert_eq!(first.date_naive(), last.date_naive(), "day {:?} spans two dates", d);
            prop_assert!(hour_edges.contains(&d.start), "day {:?} does not start an hour", d);
        }
        for pair in days.windows(2) {
            let local = pair[0].end.with_timezone(&tz);
            prop_assert_eq!(
                (local.hour(), local.minute(), local.second(), local.nanosecond()),
                (0, 0, 0, 0),
                "day edge {} is not a local midnight", local
            );
        }
        let by_day: i128 = days
            .iter()
            .map(|d| meter::rated_cu_millis(&intervals, *d, now, Granularity::Second))
            .sum();
        let by_hour: i128 = hours
            .iter()
            .map(|h| meter::rated_cu_millis(&intervals, *h, now, Granularity::Second))
            .sum();
        prop_assert_eq!(by_day, by_hour);
        prop_assert_eq!(by_day, ledger(&intervals, from, now));
    }
}
