//! Examples: the words of each refusal and worked prices.

use billing::money::{Currency, Rate};
use billing::order::{self, Order, OrderKind, Project, RefusalKind};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::inputs::*;

/// A term whose end falls in the hour a daylight-saving jump skips ends when the clock
/// jumps: it is not empty, so it can be upgraded and unsubscribed (it once ended at its
/// own start, which refused upgrades and failed an unsubscribe).
#[test]
fn a_term_ending_in_a_skipped_hour_ends_when_the_clock_jumps() {
    let zone: Tz = "Europe/Berlin".parse().unwrap();
    let rate = Rate::parse("50", Currency::CNY).unwrap();
    let start = DateTime::parse_from_rfc3339("2026-01-29T02:30:00+01:00")
        .unwrap()
        .with_timezone(&Utc);
    let project = subscribed(zone, rate, start, 2, 2);
    let term = term_of(&project);
    // 2026-03-29 02:30 does not exist in Berlin: the clock goes from 02:00 to 03:00 CEST.
    assert_eq!(
        term.end,
        DateTime::parse_from_rfc3339("2026-03-29T03:00:00+02:00").unwrap()
    );
    let halfway = start + (term.end - start) / 2;
    let upgrade = order::quote(
        &ask(OrderKind::Upgrade, Some(3), None),
        &project,
        &prices(rate, 100),
        halfway,
    )
    .unwrap();
    assert!(upgrade.amount.minor() > 0, "{upgrade:?}");
    let refund = order::quote(
        &ask(OrderKind::Unsubscribe, None, None),
        &project,
        &prices(rate, 100),
        halfway,
    )
    .unwrap();
    assert!(refund.amount.minor() < 0, "{refund:?}");
}

#[test]
fn three_cu_for_two_months_at_fifty_a_cu_month_cost_three_hundred_and_upgrades_prorate() {
    let zone: Tz = "Asia/Shanghai".parse().unwrap();
    let rate = Rate::parse("50", Currency::CNY).unwrap();
    let start = DateTime::parse_from_rfc3339("2026-01-31T10:00:00+08:00")
        .unwrap()
        .with_timezone(&Utc);
    let project = subscribed(zone, rate, start, 3, 2);
    let term = term_of(&project);
    // Jan 31 + 2 months is Mar 31, at the same local time.
    assert_eq!(
        term.end,
        DateTime::parse_from_rfc3339("2026-03-31T10:00:00+08:00").unwrap()
    );
    let bought = order::quote(
        &ask(OrderKind::NewPurchase, Some(3), Some(2)),
        &payg(zone),
        &prices(rate, 100),
        start,
    )
    .unwrap();
    assert_eq!(bought.amount.major(), "300.00");
    // Halfway through, 2 more CU cost half of 2 x 2 x 50.00.
    let half = term.start + Duration::milliseconds(term.millis() / 2);
    let up = order::quote(
        &ask(OrderKind::Upgrade, Some(5), None),
        &project,
        &prices(rate, 100),
        half,
    )
    .unwrap();
    assert_eq!(up.amount.major(), "100.00");
}

#[test]
fn refusals_say_what_is_wrong_and_how_they_are_reported() {
    let zone: Tz = "UTC".parse().unwrap();
    let rate = Rate::parse("50", Currency::CNY).unwrap();
    let start = DateTime::parse_from_rfc3339("2026-05-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut project = subscribed(zone, rate, start, 3, 1);
    let now = start + Duration::days(1);
    let refuse = |project: &Project, order: Order| {
        order::quote(&order, project, &prices(rate, 100), now).unwrap_err()
    };
    let cases = [
        (
            refuse(&project, ask(OrderKind::Upgrade, None, None)),
            "cu is required for this order",
            RefusalKind::InvalidField("cu"),
        ),
        (
            refuse(&project, ask(OrderKind::Renew, None, Some(37))),
            "months must be whole months from 1 to 36, got 37",
            RefusalKind::InvalidField("months"),
        ),
        (
            refuse(&project, ask(OrderKind::Upgrade, Some(3), None)),
            "an upgrade needs more than the current 3 CU",
            RefusalKind::InvalidField("cu"),
        ),
        (
            refuse(&project, ask(OrderKind::Downgrade, Some(4), None)),
            "a downgrade needs fewer than the current 3 CU",
            RefusalKind::InvalidField("cu"),
        ),
        (
            refuse(&project, ask(OrderKind::NewPurchase, Some(1), Some(1))),
            "the project already has a subscription; renew or change it instead",
            RefusalKind::Conflict("already_subscribed"),
        ),
        (
            refuse(&payg(zone), ask(OrderKind::Renew, None, None)),
            "the project is pay-as-you-go; place a new_purchase first",
            RefusalKind::Conflict("not_subscribed"),
        ),
        (
            refuse(
                &project,
                Order {
                    ends_at: Some(now + Duration::hours(2)),
                    ..ask(OrderKind::TemporaryUpgrade, Some(0), None)
                },
            ),
            "cu must be a whole number of extra CU from 1 to 1000, got 0",
            RefusalKind::InvalidField("cu"),
        ),
        (
            refuse(&project, ask(OrderKind::TemporaryUpgrade, Some(1), None)),
            "ends_at is required for a temporary upgrade",
            RefusalKind::InvalidField("ends_at"),
        ),
        (
            refuse(
                &project,
                Order {
                    starts_at: Some(now - Duration::minutes(2)),
                    ends_at: Some(now + Duration::hours(2)),
                    ..ask(OrderKind::TemporaryUpgrade, Some(1), None)
                },
            ),
            "a temporary upgrade cannot start in the past",
            RefusalKind::InvalidField("starts_at"),
        ),
        (
            refuse(
                &project,
                Order {
                    ends_at: Some(now + Duration::days(40)),
                    ..ask(OrderKind::TemporaryUpgrade, Some(1), None)
                },
            ),
            "a temporary upgrade ends within the subscription's term (by 2026-06-01T00:00:00+00:00); renew first to go beyond it",
            RefusalKind::InvalidField("ends_at"),
        ),
    ];
    for (refusal, message, kind) in cases {
        assert_eq!(refusal.to_string(), message);
        assert_eq!(refusal.kind(), kind, "{message}");
    }
    project.running_cu_milli = 2_500;
    project.open_temporary_cu_milli = 500;
    let below = refuse(&project, ask(OrderKind::Downgrade, Some(1), None));
    assert_eq!(
        below.to_string(),
        "the project's running deployments hold 2 CU; a downgrade cannot go below that"
    );
    let mut payg_running = payg(zone);
    payg_running.running_cu_milli = 2_500;
    let too_small = refuse(&payg_running, ask(OrderKind::NewPurchase, Some(2), Some(1)));
    assert_eq!(
        too_small.to_string(),
        "the project's running deployments hold 2.5 CU; buy at least that much"
    );
    assert_eq!(
        refuse(&project, ask(OrderKind::Unsubscribe, None, None)).kind(),
        RefusalKind::Conflict("deployments_running")
    );
}
