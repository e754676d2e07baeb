//! The properties every quote keeps.

use billing::money::Money;
use billing::order::{self, Effect, Order, OrderKind, Refusal, RefusalKind};
use billing::period::Window;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

use crate::arithmetic::*;
use crate::inputs::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_new_purchase_costs_its_cu_for_its_months_exactly_and_ends_at_the_same_local_time_months_later(
        zone in zone(),
        rate in rate(),
        now in any_instant(),
        cu in 1_i64..=1000,
        months in 1_i64..=36,
        running in 0_i64..=1_000_000,
    ) {
        let mut project = payg(zone);
        project.running_cu_milli = running;
        let asked = ask(OrderKind::NewPurchase, Some(cu), Some(months));
        let result = order::quote(&asked, &project, &prices(rate, 100), now);
        if running > cu * 1000 {
            let refusal = result.unwrap_err();
            prop_assert_eq!(refusal.kind(), RefusalKind::InvalidField("cu"));
            return Ok(());
        }
        let q = result.unwrap();
        let price = term_price(rate.micro_minor_per_cu_hour(), cu * 1000, months);
        prop_assert!(q.amount.minor() >= 0);
        prop_assert_eq!(q.amount, Money::from_minor(price, rate.currency()));
        prop_assert_eq!((q.cu_milli, q.months, q.term.months), (cu * 1000, months, months));
        prop_assert_eq!(q.effect, Effect::Subscribes);
        prop_assert_eq!(q.term.start, now);
        let end = expected_end(zone, now, months);
        prop_assert_eq!(q.term.end, end);
        // Between 28 days a month (less an hour of daylight saving) and 31 (plus one).
        let days = q.term.millis() as f64 / DAY_MS as f64;
        prop_assert!(days * 24.0 >= (months * 28 * 24 - 1) as f64, "{} days", days);
        prop_assert!(days * 24.0 <= (months * 31 * 24 + 1) as f64, "{} days", days);
    }

    #[test]
    fn a_renewal_keeps_the_cu_and_the_anchor_and_ends_all_its_months_after_it_or_starts_anew_once_ended(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        cu in 1_i64..=1000,
        (bought, months) in (1_i64..=36, 1_i64..=36),
        later in any::<u64>(),
        lapsed in any::<bool>(),
    ) {
        let project = subscribed(zone, rate, start, cu, bought);
        let term = term_of(&project);
        // Renewed inside the term, or after it has ended.
        let now = if lapsed {
            term.end + Duration::milliseconds(1 + (later % (90 * DAY_MS) as u64) as i64)
        } else {
            between(term.start, term.end, later)
        };
        let q = order::quote(&ask(OrderKind::Renew, None, Some(months)), &project, &prices(rate, 100), now)
            .unwrap();
        prop_assert_eq!(q.cu_milli, cu * 1000);
        prop_assert_eq!(q.months, months);
        prop_assert_eq!(q.effect, Effect::ChangesSubscription);
        let price = term_price(rate.micro_minor_per_cu_hour(), cu * 1000, months);
        prop_assert!(q.amount.minor() >= 0);
        prop_assert_eq!(q.amount, Money::from_minor(price, rate.currency()));
        if lapsed {
            // A new term from the order.
            prop_assert_eq!((q.term.start, q.term.months), (now, months));
            prop_assert_eq!(q.term.end, expected_end(zone, now, months));
        } else {
            // The anchor stays and the end is all the months after it.
            prop_assert_eq!((q.term.start, q.term.months), (term.start, bought + months));
            prop_assert_eq!(q.term.end, expected_end(zone, term.start, bought + months));
            prop_assert!(q.term.end > term.end);
        }
    }

    #[test]
    fn an_upgrade_or_downgrade_costs_the_remaining_share_of_the_terms_price_of_the_changed_cu(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        (cu, new_cu) in (1_i64..=1000, 1_i64..=1000),
        months in 1_i64..=36,
        at in any::<u64>(),
    ) {
        prop_assume!(cu != new_cu);
        let project = subscribed(zone, rate, start, cu, months);
        let term = term_of(&project);
        let now = between(term.start, term.end - Duration::milliseconds(1), at);
        let kind = if new_cu > cu { OrderKind::Upgrade } else { OrderKind::Downgrade };
        let q = order::quote(&ask(kind, Some(new_cu), None), &project, &prices(rate, 100), now)
            .unwrap();
        let whole = term_price(rate.micro_minor_per_cu_hour(), (new_cu - cu).abs() * 1000, months);
        let (elapsed, length) = ((now - term.start).num_milliseconds(), term.millis());
        let left = remaining(whole, elapsed, length);
        let signed = if kind == OrderKind::Upgrade { left } else { -left };
        prop_assert_eq!(q.amount, Money::from_minor(signed, rate.currency()));
        prop_assert!(within_one_minor(left, whole, length - elapsed, length));
        prop_assert!((0..=whole).contains(&left));
        prop_assert_eq!(q.cu_milli, new_cu * 1000);
        prop_assert_eq!((q.months, q.term), (0, term));
        prop_assert_eq!(q.effect, Effect::ChangesSubscription);
        // The same order is refused once the term has ended.
        let refusal = order::quote(&ask(kind, Some(new_cu), None), &project, &prices(rate, 100), term.end)
            .unwrap_err();
        prop_assert_eq!(refusal, Refusal::TermEnded);
    }

    #[test]
    fn cu_held_in_turns_over_the_whole_term_cost_exactly_the_full_terms_price(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        (cu, extra) in (1_i64..=500, 1_i64..=500),
        months in 1_i64..=36,
        cuts in prop::collection::btree_set(any::<u64>(), 1..12),
    ) {
        let base = subscribed(zone, rate, start, cu, months);
        let term = term_of(&base);
        // The term cut at distinct instants; the first stretch starts with the term.
        let mut instants: Vec<DateTime<Utc>> = cuts
            .iter()
            .map(|c| between(term.start, term.end - Duration::milliseconds(1), *c))
            .collect();
        instants.insert(0, term.start);
        instants.dedup();
        // Two projects alike: one holds the extra CU on the even stretches, the other
        // on the odd ones, upgrading where a stretch begins and downgrading where it ends.
        let mut nets = [0_i64, 0_i64];
        let mut held_stretches: [Vec<i64>; 2] = [Vec::new(), Vec::new()];
        for (parity, net) in nets.iter_mut().enumerate() {
            let mut project = base.clone();
            for (i, at) in instants.iter().enumerate() {
                let holds = i % 2 == parity;
                let (kind, target) = if holds {
                    (OrderKind::Upgrade, cu + extra)
                } else if i == 0 {
                    continue;
                } else {
                    (OrderKind::Downgrade, cu)
                };
                let q = order::quote(&ask(kind, Some(target), None), &project, &prices(rate, 100), *at)
                    .unwrap();
                *net += q.amount.minor();
                apply(&mut project, &q);
                if holds {
                    held_stretches[parity].push(i as i64);
                }
            }
        }
        let whole = term_price(rate.micro_minor_per_cu_hour(), extra * 1000, months);
        prop_assert_eq!(nets[0] + nets[1], whole, "nets {:?}", nets);
        // Each project paid exactly the pieces of the stretches it held: the step between
        // the rounded cumulative shares at the stretch's edges.
        let edge = |i: usize| {
            instants
                .get(i)
                .map_or(term.millis(), |t| (*t - term.start).num_milliseconds())
        };
        for parity in 0..2 {
            let pieces: i64 = held_stretches[parity]
                .iter()
                .map(|&i| {
                    let i = i as usize;
                    share(whole, edge(i + 1), term.millis()) - share(whole, edge(i), term.millis())
                })
                .sum();
            prop_assert_eq!(nets[parity], pieces);
            prop_assert!(nets[parity] >= 0);
        }
    }

    #[test]
    fn a_temporary_upgrade_costs_its_windows_share_of_the_terms_price_of_the_extra_cu(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        (cu, extra) in (1_i64..=1000, 1_i64..=1000),
        months in 1_i64..=36,
        (at, from, to) in (any::<u64>(), any::<u64>(), any::<u64>()),
        asked_now in any::<bool>(),
    ) {
        let project = subscribed(zone, rate, start, cu, months);
        let term = term_of(&project);
        let now = between(term.start, term.end - Duration::milliseconds(HOUR_MS), at);
        let starts = if asked_now { now } else { between(now, term.end - Duration::milliseconds(HOUR_MS), from) };
        let ends = between(starts + Duration::milliseconds(HOUR_MS), term.end, to);
        let asked = Order {
            kind: OrderKind::TemporaryUpgrade,
            cu: Some(extra),
            months: None,
            starts_at: (!asked_now).then_some(starts),
            ends_at: Some(ends),
        };
        let q = order::quote(&asked, &project, &prices(rate, 100), now).unwrap();
        let whole = term_price(rate.micro_minor_per_cu_hour(), extra * 1000, months);
        let window = (ends - starts).num_milliseconds();
        prop_assert_eq!(q.amount, Money::from_minor(share(whole, window, term.millis()), rate.currency()));
        prop_assert!((0..=whole).contains(&q.amount.minor()));
        prop_assert!(within_one_minor(q.amount.minor(), whole, window, term.millis()));
        prop_assert_eq!(q.effect, Effect::AddsTemporaryUpgrade(Window { start: starts, end: ends }));
        prop_assert_eq!((q.cu_milli, q.months, q.term), (extra * 1000, 0, term));
        // A millisecond short of an hour, or past the term, is refused.
        let short = Order { ends_at: Some(starts + Duration::milliseconds(HOUR_MS - 1)), ..asked.clone() };
        prop_assert_eq!(order::quote(&short, &project, &prices(rate, 100), now).unwrap_err(), Refusal::WindowTooShort);
        let beyond = Order { ends_at: Some(term.end + Duration::milliseconds(1)), ..asked };
        prop_assert_eq!(
            order::quote(&beyond, &project, &prices(rate, 100), now).unwrap_err().kind(),
            RefusalKind::InvalidField("ends_at")
        );
    }

    #[test]
    fn unsubscribing_refunds_its_percent_of_the_unused_term_and_windows_and_never_more_than_was_paid(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        cu in 1_i64..=1000,
        months in 1_i64..=36,
        percent in prop_oneof![Just(100_i64), 0_i64..=100],
        windows in prop::collection::vec((1_i64..=100, any::<u64>(), any::<u64>()), 0..4),
        at in any::<u64>(),
    ) {
        let mut project = subscribed(zone, rate, start, cu, months);
        let term = term_of(&project);
        let price = term_price(rate.micro_minor_per_cu_hour(), cu * 1000, months);
        let mut paid = price;
        // Temporary upgrades bought at the term's start.
        for (extra, from, to) in &windows {
            let starts = between(term.start, term.end - Duration::milliseconds(HOUR_MS), *from);
            let ends = between(starts + Duration::milliseconds(HOUR_MS), term.end, *to);
            let asked = Order {
                kind: OrderKind::TemporaryUpgrade,
                cu: Some(*extra),
                months: None,
                starts_at: Some(starts),
                ends_at: Some(ends),
            };
            let q = order::quote(&asked, &project, &prices(rate, 100), term.start).unwrap();
            paid += q.amount.minor();
            apply(&mut project, &q);
        }
        let now = between(term.start, term.end, at);
        let now_ms = now.timestamp_millis();
        // The gateway passes the windows not ended yet.
        project.unused_windows.retain(|w| w.window.end > now);
        let unused = remaining(price, (now - term.start).num_milliseconds(), term.millis())
            + project
                .unused_windows
                .iter()
                .map(|w| {
                    let (s, e) = (w.window.start.timestamp_millis(), w.window.end.timestamp_millis());
                    remaining(w.paid.minor(), (now_ms - s).max(0), e - s)
                })
                .sum::<i64>();
        let q = order::quote(&ask(OrderKind::Unsubscribe, None, None), &project, &prices(rate, percent), now)
            .unwrap();
        prop_assert_eq!(q.amount, Money::from_minor(-share(unused, percent, 100), rate.currency()));
        prop_assert!(q.amount.minor() <= 0);
        prop_assert!(-q.amount.minor() <= paid, "refunds {} of {} paid", -q.amount.minor(), paid);
        prop_assert_eq!(q.term.end, now.min(term.end));
        prop_assert_eq!((q.term.start, q.cu_milli, q.effect), (term.start, 0, Effect::Unsubscribes));
        if windows.is_empty() && percent == 100 {
            // What was kept is exactly the share of the term used.
            prop_assert_eq!(price + q.amount.minor(), share(price, (now - term.start).num_milliseconds(), term.millis()));
        }
        // Nothing may be running.
        project.running_cu_milli = 1;
        prop_assert_eq!(
            order::quote(&ask(OrderKind::Unsubscribe, None, None), &project, &prices(rate, percent), now).unwrap_err(),
            Refusal::DeploymentsRunning
        );
    }

    #[test]
    fn any_order_is_charged_for_purchases_credited_for_returns_and_refused_by_field_or_state(
        zone in zone(),
        rate in rate(),
        start in any_instant(),
        has_subscription in any::<bool>(),
        (cu, months) in (1_i64..=1000, 1_i64..=36),
        kind in prop::sample::select(vec![
            OrderKind::NewPurchase, OrderKind::Renew, OrderKind::Upgrade,
            OrderKind::Downgrade, OrderKind::TemporaryUpgrade, OrderKind::Unsubscribe,
        ]),
        asked_cu in prop::option::of(prop_oneof![-5_i64..=1005, 1_i64..=1000]),
        asked_months in prop::option::of(prop_oneof![-2_i64..=40, 1_i64..=36]),
        (at, window) in (any::<u64>(), 0_i64..=40 * DAY_MS),
        (running, open_temporary) in (0_i64..=1_200_000, 0_i64..=100_000),
    ) {
        let mut project = if has_subscription {
            subscribed(zone, rate, start, cu, months)
        } else {
            payg(zone)
        };
        project.running_cu_milli = running;
        project.open_temporary_cu_milli = open_temporary;
        let now = match project.subscription {
            Some(s) => between(s.term.start, s.term.end + Duration::days(30), at),
            None => start,
        };
        let asked = Order {
            kind,
            cu: asked_cu,
            months: asked_months,
            starts_at: None,
            ends_at: Some(now + Duration::milliseconds(window)),
        };
        let needs_cu = !matches!(kind, OrderKind::Renew | OrderKind::Unsubscribe);
        let needs_months = matches!(kind, OrderKind::NewPurchase | OrderKind::Renew);
        match order::quote(&asked, &project, &prices(rate, 100), now) {
            Ok(q) => {
                prop_assert_eq!(q.kind, kind);
                prop_assert_eq!(q.amount.currency(), rate.currency());
                match kind {
                    OrderKind::Downgrade | OrderKind::Unsubscribe => prop_assert!(q.amount.minor() <= 0),
                    _ => prop_assert!(q.amount.minor() >= 0, "{:?} charges {}", kind, q.amount),
                }
                prop_assert_eq!(kind == OrderKind::NewPurchase, !has_subscription);
                if needs_cu {
                    prop_assert!((1..=1000).contains(&asked_cu.unwrap()));
                }
                if needs_months {
                    prop_assert!((1..=36).contains(&asked_months.unwrap()));
                }
                // What runs fits the CU after the order (a downgrade counts the
                // temporary upgrades open now).
                match kind {
                    OrderKind::NewPurchase => prop_assert!(running <= q.cu_milli),
                    OrderKind::Downgrade => prop_assert!(running <= q.cu_milli + open_temporary),
                    OrderKind::Unsubscribe => prop_assert_eq!(running, 0),
                    _ => {}
                }
            }
            Err(refusal) => {
                let message = refusal.to_string();
                // The state is checked before the fields.
                if kind == OrderKind::NewPurchase && has_subscription {
                    prop_assert_eq!(refusal, Refusal::AlreadySubscribed);
                } else if kind != OrderKind::NewPurchase && !has_subscription {
                    prop_assert_eq!(refusal.kind(), RefusalKind::Conflict("not_subscribed"));
                } else if needs_cu && asked_cu.is_none_or(|c| !(1..=1000).contains(&c)) {
                    prop_assert_eq!(refusal.kind(), RefusalKind::InvalidField("cu"), "{}", message);
                    prop_assert!(message.starts_with("cu "), "{}", message);
                } else if needs_months && !needs_cu && asked_months.is_none_or(|m| !(1..=36).contains(&m)) {
                    prop_assert_eq!(refusal.kind(), RefusalKind::InvalidField("months"), "{}", message);
                } else {
                    prop_assert!(refusal.kind() != RefusalKind::Internal, "{}", message);
                }
            }
        }
    }
}
