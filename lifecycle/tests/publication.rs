#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests of publishing lifecycle schedules: the notice is measured from the
//! instant Sluice records an announcement, and a replacement never moves a milestone
//! earlier than already announced (item 6 of the product's lifecycle rules).
//!
//! Expectations are computed here from scratch (calendar months through chrono's own
//! `checked_add_months`, which clamps to the month's end as the product does).

use chrono::{DateTime, Duration, Months, TimeZone, Utc};
use lifecycle::{EngineVersion, ProductSchedule, ScheduleError};
use proptest::prelude::*;

const DAY: i64 = 86_400;

fn months_after(t: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    t.checked_add_months(Months::new(months)).unwrap()
}

/// An instant between 2020 and 2040, to the second.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (1_577_836_800i64..2_208_988_800).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

/// A schedule that satisfies the policy when first recorded at its `announced_at`:
/// EOM1 at least 4 months after it, then EOM2, EOFS at least 4 months after EOM1, EOS.
fn valid_product() -> impl Strategy<Value = ProductSchedule> {
    (
        instant(),
        0i64..400 * DAY,
        0i64..200 * DAY,
        0i64..200 * DAY,
        0i64..400 * DAY,
    )
        .prop_map(|(announced_at, lead, eom2, phase, eos)| {
            let eom1 = months_after(announced_at, 4) + Duration::seconds(lead);
            let eofs = months_after(eom1, 4) + Duration::seconds(phase);
            let eom2 = (eom1 + Duration::seconds(eom2)).min(eofs);
            ProductSchedule {
                announced_at,
                eom1,
                eom2,
                eofs,
                eos: eofs + Duration::seconds(eos),
            }
        })
}

fn valid_engine() -> impl Strategy<Value = EngineVersion> {
    (
        instant(),
        -400i64..400,
        0i64..100 * DAY,
        0i64..100 * DAY,
        0i64..100 * DAY,
    )
        .prop_map(|(announced_at, ga_days, a, b, c)| {
            let ga = announced_at + Duration::days(ga_days);
            let eogs = (ga + Duration::days(180)).max(months_after(announced_at, 3))
                + Duration::seconds(a);
            let eofs = eogs + Duration::days(90) + Duration::seconds(b);
            EngineVersion {
                label: "1.0.0".to_owned(),
                flink_version: "2.3.0".to_owned(),
                announced_at,
                ga,
                eogs,
                eofs,
                eos: eofs + Duration::days(90) + Duration::seconds(c),
                pulled: false,
            }
        })
}

fn set(s: &mut ProductSchedule, field: &str, at: DateTime<Utc>) {
    match field {
        "eom1" => s.eom1 = at,
        "eom2" => s.eom2 = at,
        "eofs" => s.eofs = at,
        _ => s.eos = at,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// A first announcement is accepted exactly when every milestone is at least 4
    /// calendar months after the instant it is recorded: recording the same milestones
    /// later than that (as the server's clock moves on) is refused, naming the earliest
    /// milestone that falls short.
    #[test]
    fn the_notice_counts_from_the_recorded_instant(s in valid_product(), late in 0i64..300 * DAY) {
        prop_assert_eq!(s.validate_publication(None), Ok(()));
        let mut later = s.clone();
        later.announced_at = s.announced_at + Duration::seconds(late);
        let earliest = months_after(later.announced_at, 4);
        let expected_ok = later.eom1 >= earliest;
        match later.validate_publication(None) {
            Ok(()) => prop_assert!(expected_ok),
            Err(ScheduleError::TooLittleNotice { field, months, earliest: e }) => {
                prop_assert!(!expected_ok);
                prop_assert_eq!((field, months, e), ("eom1", 4, earliest));
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    /// Replacing a schedule: moving any milestone earlier than announced is refused with
    /// that milestone and its announced date, whatever the new record instant.
    #[test]
    fn no_milestone_moves_earlier_than_announced(
        s in valid_product(),
        which in 0usize..4,
        earlier in 1i64..100 * DAY,
        after in 0i64..300 * DAY,
    ) {
        let field = ["eom1", "eom2", "eofs", "eos"][which];
        let announced = s.milestones()[which].1;
        let mut next = s.clone();
        next.announced_at = s.announced_at + Duration::seconds(after);
        set(&mut next, field, announced - Duration::seconds(earlier));
        prop_assert_eq!(
            next.validate_publication(Some(&s)),
            Err(ScheduleError::MovedEarlier {
                field,
                announced,
                proposed: announced - Duration::seconds(earlier),
            })
        );
    }

    /// Postponing (every milestone the same or later, order and the EOM phase kept) is
    /// accepted at any later record instant, even one closer than 4 months to a
    /// milestone: the milestone was announced with notice before its earlier date.
    /// (EOFS and EOS move 5 days more than EOM1: 4 calendar months are 119 to 123
    /// days, so the same shift in seconds could shorten the EOM phase.)
    #[test]
    fn postponing_is_allowed_and_keeps_its_notice(
        s in valid_product(),
        shift in 0i64..200 * DAY,
        after in 0i64..400 * DAY,
    ) {
        let mut next = s.clone();
        next.announced_at = s.announced_at + Duration::seconds(after);
        for (field, at) in s.milestones() {
            let extra = if matches!(field, "eofs" | "eos") { 5 * DAY } else { 0 };
            set(&mut next, field, at + Duration::seconds(shift + extra));
        }
        prop_assert_eq!(next.validate_publication(Some(&s)), Ok(()));
        for ((_, before), (_, now)) in s.milestones().into_iter().zip(next.milestones()) {
            prop_assert!(now >= before);
        }
    }

    /// Whatever a replacement proposes, an accepted one starts no stage earlier than the
    /// schedule it replaces: at every instant, its stage is at most the old one's.
    #[test]
    fn an_accepted_replacement_never_brings_a_stage_forward(
        s in valid_product(),
        deltas in proptest::collection::vec(-100i64 * DAY..100 * DAY, 4),
        probe in 0i64..1500 * DAY,
    ) {
        let mut next = s.clone();
        for ((field, at), delta) in s.milestones().into_iter().zip(deltas) {
            set(&mut next, field, at + Duration::seconds(delta));
        }
        if next.validate_publication(Some(&s)).is_ok() {
            let t = s.announced_at + Duration::seconds(probe);
            prop_assert!(next.stage_at(t).0 <= s.stage_at(t).0);
        }
    }

    /// Engine versions: the same two rules with 3 months' notice; GA is not a promise
    /// of a restriction and may move either way; pulling needs no notice.
    #[test]
    fn engine_versions_follow_the_same_rules(
        v in valid_engine(),
        which in 0usize..3,
        earlier in 1i64..50 * DAY,
        late in 0i64..300 * DAY,
    ) {
        prop_assert_eq!(v.validate_publication(None), Ok(()));
        let mut later = v.clone();
        later.announced_at = v.announced_at + Duration::seconds(late);
        let short = v.eogs < months_after(later.announced_at, 3);
        prop_assert_eq!(later.validate_publication(None).is_err(), short);
        // Re-published (say, pulled) at that later instant: accepted.
        later.pulled = true;
        prop_assert_eq!(later.validate_publication(Some(&v)), Ok(()));
        let (field, announced) = v.milestones()[which];
        let mut next = v.clone();
        match field {
            "eogs" => next.eogs -= Duration::seconds(earlier),
            "eofs" => next.eofs -= Duration::seconds(earlier),
            _ => next.eos -= Duration::seconds(earlier),
        }
        prop_assert_eq!(
            next.validate_publication(Some(&v)),
            Err(ScheduleError::MovedEarlier { field, announced, proposed: announced - Duration::seconds(earlier) })
        );
    }
}
