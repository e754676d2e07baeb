//! 4. Proration.

use super::*;

fn real_date(years: std::ops::RangeInclusive<i32>) -> impl Strategy<Value = NaiveDate> {
    (years, 1_u32..=12, prop_oneof![1_u32..=31, 28_u32..=31])
        .prop_filter_map("a real date", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

/// `|piece - whole x part / term| <= 1` minor unit, checked in integers.
fn within_one_minor(piece: i64, whole: i64, part: i64, term: i64) -> bool {
    let exact = i128::from(whole) * i128::from(part);
    (i128::from(piece) * i128::from(term) - exact).abs() <= i128::from(term)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn prorated_pieces_of_a_price_always_add_up_to_the_whole(
        whole in -10_000_000_000_i64..=10_000_000_000,
        stretches in prop::collection::vec(prop_oneof![0_i64..=1_000, 0_i64..=40 * DAY_MS], 1..16),
    ) {
        let term: i64 = stretches.iter().sum();
        prop_assume!(term > 0);
        let whole = Money::from_minor(whole, Currency::CNY);
        let pieces = prorate::pieces(whole, &stretches).unwrap();
        prop_assert_eq!(pieces.len(), stretches.len());
        prop_assert_eq!(Money::sum(Currency::CNY, pieces.iter().copied()).unwrap(), whole);
        let mut elapsed = 0;
        for (piece, stretch) in pieces.iter().zip(&stretches) {
            prop_assert!(within_one_minor(piece.minor(), whole.minor(), *stretch, term),
                "piece {} for {} of {} ms of {}", piece.minor(), stretch, term, whole.minor());
            if whole.minor() >= 0 {
                prop_assert!(piece.minor() >= 0);
            }
            // Each piece is the step between rounded cumulative shares.
            let before = prorate::share(whole, elapsed, term).unwrap().minor();
            elapsed += stretch;
            let after = prorate::share(whole, elapsed, term).unwrap().minor();
            prop_assert_eq!(piece.minor(), after - before);
        }
    }

    #[test]
    fn an_upgrade_then_a_downgrade_of_the_same_cu_nets_exactly_to_the_piece_between(
        whole in 0_i64..=100_000_000,
        term in 1_i64..=62 * DAY_MS,
        a in any::<u64>(),
        b in any::<u64>(),
    ) {
        let (t1, t2) = {
            let (x, y) = ((a % (term as u64 + 1)) as i64, (b % (term as u64 + 1)) as i64);
            (x.min(y), x.max(y))
        };
        let whole = Money::from_minor(whole, Currency::CNY);
        let charged = prorate::remaining(whole, t1, term).unwrap().minor();
        let refunded = prorate::remaining(whole, t2, term).unwrap().minor();
        let net = charged - refunded;
        let pieces = prorate::pieces(whole, &[t1, t2 - t1, term - t2]).unwrap();
        prop_assert_eq!(net, pieces[1].minor(), "net is the piece between");
        prop_assert_eq!(
            net,
            prorate::share(whole, t2, term).unwrap().minor()
                - prorate::share(whole, t1, term).unwrap().minor()
        );
        // The piece between differs from the share of its length, rounded alone, by at
        // most the one minor unit the cumulative rounding may move.
        let alone = prorate::share(whole, t2 - t1, term).unwrap().minor();
        prop_assert!((net - alone).abs() <= 1, "net {} vs share {}", net, alone);
        prop_assert!(within_one_minor(net, whole.minor(), t2 - t1, term));
        prop_assert_eq!(prorate::remaining(whole, 0, term).unwrap(), whole);
        prop_assert_eq!(prorate::remaining(whole, term, term).unwrap().minor(), 0);
        prop_assert!(prorate::remaining(whole, term + 1, term).is_err());
        prop_assert!(prorate::share(whole, -1, term).is_err());
    }

    #[test]
    fn add_months_clamps_to_the_target_months_length_by_the_gregorian_calendar(
        date in real_date(1600..=2400),
        n in 0_u32..=48,
    ) {
        let got = period::add_months(date, n).unwrap();
        prop_assert_eq!((got.year(), got.month(), got.day()), expected_add_months(date, n));
        prop_assert_eq!(period::add_months(date, 0).unwrap(), date);
    }

    #[test]
    fn a_month_from_the_last_days_of_january_ends_on_february_28_or_the_leap_day(
        year in 1600_i32..=2400,
        day in 29_u32..=31,
    ) {
        let jan = NaiveDate::from_ymd_opt(year, 1, day).unwrap();
        let feb_end = if is_leap(year) { 29 } else { 28 };
        prop_assert_eq!(period::add_months(jan, 1).unwrap(), NaiveDate::from_ymd_opt(year, 2, feb_end).unwrap());
        if is_leap(year) {
            let leap_day = NaiveDate::from_ymd_opt(year, 2, 29).unwrap();
            prop_assert_eq!(period::add_months(leap_day, 12).unwrap(), NaiveDate::from_ymd_opt(year + 1, 2, 28).unwrap());
            let in_four = if is_leap(year + 4) { 29 } else { 28 };
            prop_assert_eq!(period::add_months(leap_day, 48).unwrap(), NaiveDate::from_ymd_opt(year + 4, 2, in_four).unwrap());
        }
    }

    #[test]
    fn a_monthly_term_across_a_month_end_prorates_by_its_real_days_to_the_last_millisecond(
        start in real_date(2026..=2029),
        zone in prop::sample::select(ZONES.to_vec()),
        whole in 1_i64..=10_000_000,
        change in any::<u64>(),
    ) {
        let tz: Tz = zone.parse().unwrap();
        let midnight = |d: NaiveDate| {
            tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
                .earliest()
                .unwrap()
                .with_timezone(&Utc)
        };
        let end = period::add_months(start, 1).unwrap();
        let (term_start, term_end) = (midnight(start), midnight(end));
        let term_ms = (term_end - term_start).num_milliseconds();
        // Its real days: the rest of this month, then up to the same day of the next.
        let (y, m, d) = (start.year(), start.month(), start.day());
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let expected_days = (month_len(y, m) - d) + d.min(month_len(ny, nm));
        let days = period::days(term_start, term_end, tz).unwrap();
        prop_assert_eq!(days.len() as u32, expected_days);
        assert_partition(&days, term_start, term_end)?;
        // 24-hour days but for at most one daylight-saving change of an hour or less.
        let drift = term_ms - i64::from(expected_days) * DAY_MS;
        prop_assert!(drift.abs() <= HOUR_MS, "term of {} days is {} ms", expected_days, term_ms);
        if matches!(zone, "UTC" | "Asia/Shanghai" | "Asia/Kolkata") {
            prop_assert_eq!(drift, 0);
        }
        // Day by day, the pieces add up to the whole.
        let whole = Money::from_minor(whole, Currency::CNY);
        let by_day: Vec<i64> = days.iter().map(Window::millis).collect();
        let pieces = prorate::pieces(whole, &by_day).unwrap();
        prop_assert_eq!(Money::sum(Currency::CNY, pieces).unwrap(), whole);
        // A change in the term's last millisecond leaves one millisecond's share.
        let last = prorate::remaining(whole, term_ms - 1, term_ms).unwrap().minor();
        prop_assert!(within_one_minor(last, whole.minor(), 1, term_ms));
        prop_assert_eq!(prorate::remaining(whole, term_ms, term_ms).unwrap().minor(), 0);
        // Upgraded at some instant, downgraded in the last millisecond: net is the piece
        // between, and the refund of the last millisecond is the last piece.
        let t1 = (change % term_ms as u64) as i64;
        let split = prorate::pieces(whole, &[t1, term_ms - 1 - t1, 1]).unwrap();
        let net = prorate::remaining(whole, t1, term_ms).unwrap().minor() - last;
        prop_assert_eq!(net, split[1].minor());
        prop_assert_eq!(last, split[2].minor());
    }

    #[test]
    fn a_calendar_month_in_any_zone_is_its_local_days_back_to_back(
        year in 2026_i32..=2030,
        month in 1_u32..=12,
        zone in prop::sample::select(ZONES.to_vec()),
    ) {
        let tz: Tz = zone.parse().unwrap();
        let window = period::month(year, month, tz).unwrap();
        let first = window.start.with_timezone(&tz);
        prop_assert_eq!(
            (first.year(), first.month(), first.day(), first.hour(), first.minute()),
            (year, month, 1, 0, 0)
        );
        let days = period::days(window.start, window.end, tz).unwrap();
        prop_assert_eq!(days.len() as u32, month_len(year, month));
        assert_partition(&days, window.start, window.end)?;
        let next = period::add_months(NaiveDate::from_ymd_opt(year, month, 1).unwrap(), 1).unwrap();
        prop_assert_eq!(window.end.with_timezone(&tz).date_naive(), next);
    }
}
