//! A subscription term's lifecycle at an instant: which stage it is in, which reminders
//! before its end are due, which daily attempt at an automatic renewal it is, and when
//! it is released. Pure: the instant is passed in, instants are UTC milliseconds.
//!
//! - active: the term has not ended and no automatic renewal is due yet;
//! - renewal due: within [`Rules::auto_renew_days_before`] days of the end (an account
//!   that opted in is charged then, one attempt a day until the end);
//! - expired: the end has passed (and no renewal moved it): the subscription holds no
//!   CU, its deployments are stopped and starts refused until it is renewed;
//! - released: [`Rules::release_after_days`] days after the end: the subscription is
//!   removed and the project is pay-as-you-go again.

/// One day in milliseconds (terms end on a wall-clock instant; leads and grace are
/// counted in whole 24-hour days from it).
pub const DAY_MS: i64 = 86_400_000;

/// The operator's settings the stages are counted with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Days before the end that reminders are sent (each once).
    pub reminder_days: Vec<i64>,
    /// Days before the end that an automatic renewal is charged.
    pub auto_renew_days_before: i64,
    /// Days after the end that an expired subscription is released.
    pub release_after_days: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Active,
    RenewalDue,
    Expired,
    Released,
}

/// The stage of a term ending at `end` at the instant `now`.
pub fn stage(end: i64, now: i64, rules: &Rules) -> Stage {
    if now >= release_at(end, rules) {
        Stage::Released
    } else if expired(end, now) {
        Stage::Expired
    } else if now >= end - rules.auto_renew_days_before * DAY_MS {
        Stage::RenewalDue
    } else {
        Stage::Active
    }
}

/// Whether a term ending at `end` has ended at `now` (the end itself is outside it).
pub fn expired(end: i64, now: i64) -> bool {
    now >= end
}

/// When a term ending at `end` is released if it is not renewed.
pub fn release_at(end: i64, rules: &Rules) -> i64 {
    end + rules.release_after_days * DAY_MS
}

/// The reminders due at `now` for a term `[start, end)`: the leads (days before the
/// end) whose moment has passed, is after the term started and before its end,
/// nearest first. A caller sends only the first and records them all, so a worker
/// that was down sends one reminder, not several at once.
pub fn reminders_due(start: i64, end: i64, now: i64, rules: &Rules) -> Vec<i64> {
    if expired(end, now) {
        return Vec::new();
    }
    let mut leads: Vec<i64> = rules
        .reminder_days
        .iter()
        .copied()
        .filter(|lead| {
            let moment = end - lead * DAY_MS;
            moment > start && moment <= now
        })
        .collect();
    leads.sort_unstable();
    leads.dedup();
    leads
}

/// Which daily attempt at an automatic renewal `now` falls in (0 on the day it becomes
/// due, counted in 24-hour steps from then), or `None` outside the renewal-due stage.
pub fn renewal_attempt(end: i64, now: i64, rules: &Rules) -> Option<i64> {
    let due = end - rules.auto_renew_days_before * DAY_MS;
    (now >= due && !expired(end, now)).then(|| (now - due) / DAY_MS)
}

/// Whole days from `now` to `end`, rounded up (a reminder sent 2.5 days ahead says 3).
pub fn days_left(end: i64, now: i64) -> i64 {
    ((end - now).max(0) + DAY_MS - 1) / DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            reminder_days: vec![1, 7, 3],
            auto_renew_days_before: 9,
            release_after_days: 15,
        }
    }

    const END: i64 = 100 * DAY_MS;

    #[test]
    fn stages_follow_each_other_at_their_instants() {
        let r = rules();
        assert_eq!(stage(END, 0, &r), Stage::Active);
        assert_eq!(stage(END, END - 9 * DAY_MS - 1, &r), Stage::Active);
        assert_eq!(stage(END, END - 9 * DAY_MS, &r), Stage::RenewalDue);
        assert_eq!(stage(END, END - 1, &r), Stage::RenewalDue);
        assert_eq!(stage(END, END, &r), Stage::Expired);
        assert_eq!(stage(END, END + 15 * DAY_MS - 1, &r), Stage::Expired);
        assert_eq!(stage(END, END + 15 * DAY_MS, &r), Stage::Released);
    }

    #[test]
    fn no_automatic_renewal_stage_when_it_is_set_to_zero_days() {
        let r = Rules {
            auto_renew_days_before: 0,
            ..rules()
        };
        assert_eq!(stage(END, END - 1, &r), Stage::Active);
        assert_eq!(renewal_attempt(END, END - 1, &r), None);
    }

    #[test]
    fn reminders_are_due_nearest_first_once_their_moment_passed() {
        let r = rules();
        assert!(reminders_due(0, END, END - 7 * DAY_MS - 1, &r).is_empty());
        assert_eq!(reminders_due(0, END, END - 7 * DAY_MS, &r), vec![7]);
        // A worker down from day 8 to day 2 before the end: 3 and 7 due, 3 first.
        assert_eq!(reminders_due(0, END, END - 2 * DAY_MS, &r), vec![3, 7]);
        assert_eq!(reminders_due(0, END, END - 1, &r), vec![1, 3, 7]);
        assert!(reminders_due(0, END, END, &r).is_empty(), "ended");
    }

    #[test]
    fn a_lead_before_the_term_began_is_never_due() {
        let r = rules();
        let start = END - 5 * DAY_MS;
        assert_eq!(reminders_due(start, END, END - DAY_MS, &r), vec![1, 3]);
    }

    #[test]
    fn renewal_attempts_are_one_a_day_until_the_end() {
        let r = rules();
        let due = END - 9 * DAY_MS;
        assert_eq!(renewal_attempt(END, due - 1, &r), None);
        assert_eq!(renewal_attempt(END, due, &r), Some(0));
        assert_eq!(renewal_attempt(END, due + DAY_MS - 1, &r), Some(0));
        assert_eq!(renewal_attempt(END, due + DAY_MS, &r), Some(1));
        assert_eq!(renewal_attempt(END, END - 1, &r), Some(8));
        assert_eq!(renewal_attempt(END, END, &r), None, "expired: too late");
    }

    #[test]
    fn days_left_round_up() {
        assert_eq!(days_left(END, END - 2 * DAY_MS - DAY_MS / 2), 3);
        assert_eq!(days_left(END, END - 3 * DAY_MS), 3);
        assert_eq!(days_left(END, END + 1), 0);
    }
}
