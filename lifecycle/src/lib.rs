//! Product and engine-version lifecycles: pure rules, no HTTP, no database, no clock
//! (every function takes the instant it decides for, so tests walk any schedule).
//!
//! Product forms move GA -> EOM1 -> EOM2 -> EOFS -> EOS, each milestone announced at
//! least 4 months ahead and the EOM phase (EOM1 to EOFS) at least 4 months long; each
//! stage forbids more actions (see [`ProductStage::allows`]). Engine versions move GA ->
//! EOGS -> EOFS -> EOS with at least 180, 90 and 90 days between, each announced at
//! least 3 months ahead; at EOS nothing on them runs or is created.
//!
//! A schedule's `announced_at` is the instant Sluice recorded the announcement (the
//! server's clock, never the caller's word), and the lead time is measured from it. A
//! published schedule may be replaced, but no milestone may move earlier than already
//! announced ([`ProductSchedule::validate_publication`],
//! [`EngineVersion::validate_publication`]); a milestone kept or postponed keeps the
//! notice it was first given.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Calendar months between a milestone's announcement and the milestone (product forms).
pub const PRODUCT_NOTICE_MONTHS: u32 = 4;
/// Minimum length of a product's EOM phase, in calendar months.
pub const EOM_PHASE_MONTHS: u32 = 4;
/// Calendar months between an engine milestone's announcement and the milestone.
pub const ENGINE_NOTICE_MONTHS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProductStage {
    Ga,
    Eom1,
    Eom2,
    Eofs,
    Eos,
}

/// Actions a product-form stage may forbid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NewPurchase,
    Renewal,
    /// Expansion orders: upgrades and temporary upgrades.
    ScaleOut,
    ScaleIn,
    ConfigurationChange,
    Unsubscribe,
    /// Starting or keeping anything running.
    Run,
}

impl ProductStage {
    /// The product's published table: what each stage still allows.
    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            ProductStage::Ga => true,
            ProductStage::Eom1 => !matches!(action, NewPurchase),
            ProductStage::Eom2 => !matches!(action, NewPurchase | ScaleOut),
            // Scaling in is a configuration change too; what runs may keep running.
            ProductStage::Eofs => matches!(action, Unsubscribe | Run),
            ProductStage::Eos => false,
        }
    }

    /// What a user can do instead, for refusal messages.
    pub fn advice(self) -> &'static str {
        match self {
            ProductStage::Ga => "",
            ProductStage::Eom1 | ProductStage::Eom2 => {
                "this product form is being retired: move the workload to its successor; renewals remain possible"
            }
            ProductStage::Eofs => "this product form has no further support: migrate to its successor; you may unsubscribe",
            ProductStage::Eos => "this product form is retired: migrate to its successor",
        }
    }
}

/// A product form's milestones. `announced_at` is when Sluice recorded the
/// announcement (its own clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSchedule {
    pub announced_at: DateTime<Utc>,
    pub eom1: DateTime<Utc>,
    pub eom2: DateTime<Utc>,
    pub eofs: DateTime<Utc>,
    pub eos: DateTime<Utc>,
}

/// A refused action, with what it needs to be explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub stage: ProductStage,
    pub since: DateTime<Utc>,
    pub advice: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{field} must not be before {previous}")]
    OutOfOrder {
        field: &'static str,
        previous: &'static str,
    },
    #[error("{field} is announced with less than {months} months' notice: it may be at {earliest} at the earliest")]
    TooLittleNotice {
        field: &'static str,
        months: u32,
        earliest: DateTime<Utc>,
    },
    #[error("{field} must be at least {days} days after {previous}")]
    TooSoon {
        field: &'static str,
        previous: &'static str,
        days: i64,
    },
    #[error("the EOM phase (EOM1 to EOFS) must last at least {months} months: EOFS may be at {earliest} at the earliest")]
    EomPhaseTooShort {
        months: u32,
        earliest: DateTime<Utc>,
    },
    #[error("{field} was announced for {}: no milestone may move earlier than already announced ({} is earlier); a later date is allowed", .announced.to_rfc3339(), .proposed.to_rfc3339())]
    MovedEarlier {
        field: &'static str,
        announced: DateTime<Utc>,
        proposed: DateTime<Utc>,
    },
}

impl ScheduleError {
    /// The milestone (request field) the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            ScheduleError::OutOfOrder { field, .. }
            | ScheduleError::TooLittleNotice { field, .. }
            | ScheduleError::TooSoon { field, .. }
            | ScheduleError::MovedEarlier { field, .. } => field,
            ScheduleError::EomPhaseTooShort { .. } => "eofs",
        }
    }
}

/// Refuses a milestone of `next` earlier than the same milestone of `previous` (what was
/// already announced): no stage begins earlier than promised.
pub fn no_milestone_earlier(
    previous: &[(&'static str, DateTime<Utc>)],
    next: &[(&'static str, DateTime<Utc>)],
) -> Result<(), ScheduleError> {
    for (field, proposed) in next {
        if let Some((_, announced)) = previous.iter().find(|(f, _)| f == field) {
            if proposed < announced {
                return Err(ScheduleError::MovedEarlier {
                    field,
                    announced: *announced,
                    proposed: *proposed,
                });
            }
        }
    }
    Ok(())
}

/// Refuses a milestone less than `months` calendar months after `recorded_at` (the
/// instant Sluice records the announcement).
fn notice_from(
    recorded_at: DateTime<Utc>,
    months: u32,
    milestones: &[(&'static str, DateTime<Utc>)],
) -> Result<(), ScheduleError> {
    let earliest = add_months(recorded_at, months);
    for (field, at) in milestones {
        if *at < earliest {
            return Err(ScheduleError::TooLittleNotice {
                field,
                months,
                earliest,
            });
        }
    }
    Ok(())
}

/// `t` plus whole calendar months, the day clamped to the month's length, the time kept.
pub fn add_months(t: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    use chrono::Datelike;
    let date = t.date_naive();
    let total = date.year() * 12 + date.month0() as i32 + months as i32;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    let mut day = date.day();
    let target = loop {
        if let Some(d) = NaiveDate::from_ymd_opt(year, month, day) {
            break d;
        }
        day -= 1;
    };
    target.and_time(t.time()).and_utc()
}

impl ProductSchedule {
    /// The stage at `now`, and since when.
    pub fn stage_at(&self, now: DateTime<Utc>) -> (ProductStage, Option<DateTime<Utc>>) {
        let milestones = [
            (ProductStage::Eos, self.eos),
            (ProductStage::Eofs, self.eofs),
            (ProductStage::Eom2, self.eom2),
            (ProductStage::Eom1, self.eom1),
        ];
        milestones
            .into_iter()
            .find(|(_, at)| now >= *at)
            .map_or((ProductStage::Ga, None), |(stage, at)| (stage, Some(at)))
    }

    /// Whether `action` may happen at `now`; the refusal says why and what to do instead.
    pub fn check(&self, action: Action, now: DateTime<Utc>) -> Result<(), Refusal> {
        let (stage, since) = self.stage_at(now);
        if stage.allows(action) {
            Ok(())
        } else {
            Err(Refusal {
                stage,
                since: since.unwrap_or(now),
                advice: stage.advice(),
            })
        }
    }

    /// The milestones by their names (`eom1`, `eom2`, `eofs`, `eos`), in order.
    pub fn milestones(&self) -> [(&'static str, DateTime<Utc>); 4] {
        [
            ("eom1", self.eom1),
            ("eom2", self.eom2),
            ("eofs", self.eofs),
            ("eos", self.eos),
        ]
    }

    /// The policy for a first announcement: milestones in order, each at least 4 months
    /// after the announcement, and an EOM phase of at least 4 months.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        self.validate_publication(None)
    }

    /// The policy for publishing `self` (its `announced_at` the instant Sluice records
    /// it) in place of `previous`, the schedule already announced, if any: milestones in
    /// order and an EOM phase of at least 4 months; no milestone earlier than
    /// `previous` announced it; and at least 4 months' notice from `announced_at` for a
    /// first announcement. A milestone kept or postponed keeps the notice it was first
    /// given (it was announced at least 4 months before its earlier date), so a
    /// replacement is only checked for moving earlier.
    pub fn validate_publication(
        &self,
        previous: Option<&ProductSchedule>,
    ) -> Result<(), ScheduleError> {
        let order = self.milestones();
        if let Some(previous) = previous {
            no_milestone_earlier(&previous.milestones(), &order)?;
        }
        for pair in order.windows(2) {
            if pair[1].1 < pair[0].1 {
                return Err(ScheduleError::OutOfOrder {
                    field: pair[1].0,
                    previous: pair[0].0,
                });
            }
        }
        if previous.is_none() {
            notice_from(self.announced_at, PRODUCT_NOTICE_MONTHS, &order)?;
        }
        let eom_end = add_months(self.eom1, EOM_PHASE_MONTHS);
        if self.eofs < eom_end {
            return Err(ScheduleError::EomPhaseTooShort {
                months: EOM_PHASE_MONTHS,
                earliest: eom_end,
            });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EngineStage {
    Ga,
    /// End of general support: no new features.
    Eogs,
    /// End of full support: no patches, upgrade advised.
    Eofs,
    /// End of service: nothing on it may be created or run.
    Eos,
}

/// An engine version: a `major.minor.patch`-style label mapped to a Flink version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineVersion {
    pub label: String,
    pub flink_version: String,
    pub announced_at: DateTime<Utc>,
    pub ga: DateTime<Utc>,
    pub eogs: DateTime<Utc>,
    pub eofs: DateTime<Utc>,
    pub eos: DateTime<Utc>,
    /// Pulled for a defect: no new deployments on it, existing owners told at once.
    pub pulled: bool,
}

impl EngineVersion {
    pub fn stage_at(&self, now: DateTime<Utc>) -> EngineStage {
        if now >= self.eos {
            EngineStage::Eos
        } else if now >= self.eofs {
            EngineStage::Eofs
        } else if now >= self.eogs {
            EngineStage::Eogs
        } else {
            EngineStage::Ga
        }
    }

    /// Whether new deployments may be created on it at `now`.
    pub fn accepts_new_deployments(&self, now: DateTime<Utc>) -> bool {
        !self.pulled && self.stage_at(now) < EngineStage::Eos
    }

    /// Whether deployments on it may run at `now`.
    pub fn may_run(&self, now: DateTime<Utc>) -> bool {
        self.stage_at(now) < EngineStage::Eos
    }

    /// The milestones the notice and no-earlier rules cover (`eogs`, `eofs`, `eos`; GA
    /// restricts nothing).
    pub fn milestones(&self) -> [(&'static str, DateTime<Utc>); 3] {
        [("eogs", self.eogs), ("eofs", self.eofs), ("eos", self.eos)]
    }

    /// The policy for a first announcement: EOGS >= GA + 180 days, EOFS >= EOGS + 90,
    /// EOS >= EOFS + 90, and each milestone at least 3 months after the announcement.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        self.validate_publication(None)
    }

    /// The policy for publishing `self` (its `announced_at` the instant Sluice records
    /// it) in place of `previous`: the gaps, no milestone earlier than `previous`
    /// announced it, and 3 months' notice from `announced_at` for a first announcement
    /// (a kept or postponed milestone keeps the notice it was first given). Pulling a
    /// version is urgent and needs no notice.
    pub fn validate_publication(
        &self,
        previous: Option<&EngineVersion>,
    ) -> Result<(), ScheduleError> {
        if let Some(previous) = previous {
            no_milestone_earlier(&previous.milestones(), &self.milestones())?;
        }
        let gaps = [
            ("eogs", self.eogs, "ga", self.ga, 180),
            ("eofs", self.eofs, "eogs", self.eogs, 90),
            ("eos", self.eos, "eofs", self.eofs, 90),
        ];
        for (field, at, previous, before, days) in gaps {
            if at < before + Duration::days(days) {
                return Err(ScheduleError::TooSoon {
                    field,
                    previous,
                    days,
                });
            }
        }
        if previous.is_none() {
            notice_from(self.announced_at, ENGINE_NOTICE_MONTHS, &self.milestones())?;
        }
        Ok(())
    }

    /// Labels are `major.major.minor` (e.g. `4.0.12`): the first two numbers are the
    /// major, the last the minor.
    fn major_minor(&self) -> Option<Parsed> {
        let parts: Vec<u64> = self
            .label
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        if parts.len() != 3 {
            return None;
        }
        Some(((parts[0], parts[1]), parts[2], parts))
    }
}

/// A label's major (its first two numbers), minor, and all its numbers for ordering.
type Parsed = ((u64, u64), u64, Vec<u64>);

/// What to move to from `current`: the newest minor of the same major that accepts
/// deployments (compatible by policy), else the newest of a later major, flagged as
/// needing review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpgradeAdvice {
    pub to: String,
    pub needs_review: bool,
}

pub fn upgrade_advice(
    current: &EngineVersion,
    versions: &[EngineVersion],
    now: DateTime<Utc>,
) -> Option<UpgradeAdvice> {
    let (major, _, parts) = current.major_minor()?;
    let mut candidates: Vec<(&EngineVersion, Parsed)> = versions
        .iter()
        .filter(|v| v.label != current.label && v.accepts_new_deployments(now))
        .filter_map(|v| v.major_minor().map(|mm| (v, mm)))
        .filter(|(_, mm)| mm.2 > parts)
        .collect();
    candidates.sort_by(|a, b| a.1 .2.cmp(&b.1 .2));
    if let Some((v, _)) = candidates.iter().rev().find(|(_, mm)| mm.0 == major) {
        return Some(UpgradeAdvice {
            to: v.label.clone(),
            needs_review: false,
        });
    }
    candidates.last().map(|(v, _)| UpgradeAdvice {
        to: v.label.clone(),
        needs_review: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn schedule() -> ProductSchedule {
        ProductSchedule {
            announced_at: utc("2026-01-15T00:00:00Z"),
            eom1: utc("2026-05-15T00:00:00Z"),
            eom2: utc("2026-07-01T00:00:00Z"),
            eofs: utc("2026-09-15T00:00:00Z"),
            eos: utc("2027-01-15T00:00:00Z"),
        }
    }

    #[test]
    fn a_product_form_walks_its_stages_and_the_action_table_holds() {
        let s = schedule();
        use Action::*;
        let all = [
            NewPurchase,
            Renewal,
            ScaleOut,
            ScaleIn,
            ConfigurationChange,
            Unsubscribe,
            Run,
        ];
        let walk = [
            ("2026-03-01T00:00:00Z", ProductStage::Ga, vec![]),
            (
                "2026-05-15T00:00:00Z",
                ProductStage::Eom1,
                vec![NewPurchase],
            ),
            (
                "2026-07-01T00:00:00Z",
                ProductStage::Eom2,
                vec![NewPurchase, ScaleOut],
            ),
            (
                "2026-09-15T00:00:00Z",
                ProductStage::Eofs,
                vec![NewPurchase, Renewal, ScaleOut, ScaleIn, ConfigurationChange],
            ),
            ("2027-01-15T00:00:00Z", ProductStage::Eos, all.to_vec()),
        ];
        for (at, stage, refused) in walk {
            assert_eq!(s.stage_at(utc(at)).0, stage, "{at}");
            for action in all {
                let result = s.check(action, utc(at));
                assert_eq!(
                    result.is_err(),
                    refused.contains(&action),
                    "{at} {action:?}"
                );
                if let Err(refusal) = result {
                    assert_eq!(refusal.since, utc(at));
                    assert!(!refusal.advice.is_empty());
                }
            }
        }
        // A second before EOM1 is still GA.
        assert_eq!(s.stage_at(utc("2026-05-14T23:59:59Z")).0, ProductStage::Ga);
    }

    #[test]
    fn product_lead_times_hold_to_the_second_and_at_month_ends() {
        assert_eq!(schedule().validate(), Ok(()));
        // Exactly 4 months of notice is enough; a second less is not.
        let mut s = schedule();
        s.eom1 = add_months(s.announced_at, 4);
        assert_eq!(s.validate(), Ok(()));
        s.eom1 -= Duration::seconds(1);
        assert!(matches!(
            s.validate(),
            Err(ScheduleError::TooLittleNotice { field: "eom1", .. })
        ));
        // Announced on Oct 31: four months later is Feb 28 (or 29), not March 3.
        assert_eq!(
            add_months(utc("2026-10-31T12:00:00Z"), 4),
            utc("2027-02-28T12:00:00Z")
        );
        assert_eq!(
            add_months(utc("2027-10-31T12:00:00Z"), 4),
            utc("2028-02-29T12:00:00Z")
        );
        // The EOM phase lasts at least 4 months.
        let mut s = schedule();
        s.eofs = add_months(s.eom1, 4) - Duration::seconds(1);
        assert!(matches!(
            s.validate(),
            Err(ScheduleError::EomPhaseTooShort { .. })
        ));
        let mut s = schedule();
        s.eom2 = s.eom1 - Duration::days(1);
        assert!(matches!(
            s.validate(),
            Err(ScheduleError::OutOfOrder { field: "eom2", .. })
        ));
    }

    fn engine(label: &str, ga: &str) -> EngineVersion {
        let ga = utc(ga);
        EngineVersion {
            label: label.to_owned(),
            flink_version: "2.3.0".to_owned(),
            announced_at: ga,
            ga,
            eogs: ga + Duration::days(180),
            eofs: ga + Duration::days(270),
            eos: ga + Duration::days(360),
            pulled: false,
        }
    }

    #[test]
    fn an_engine_version_walks_its_stages_and_stops_accepting_work_at_eos() {
        let v = engine("1.0.3", "2026-01-01T00:00:00Z");
        assert_eq!(v.validate(), Ok(()));
        assert_eq!(v.stage_at(v.ga), EngineStage::Ga);
        assert_eq!(v.stage_at(v.eogs), EngineStage::Eogs);
        assert_eq!(v.stage_at(v.eofs), EngineStage::Eofs);
        assert!(v.may_run(v.eos - Duration::seconds(1)));
        assert!(!v.may_run(v.eos) && !v.accepts_new_deployments(v.eos));
        let mut pulled = v.clone();
        pulled.pulled = true;
        assert!(!pulled.accepts_new_deployments(v.ga) && pulled.may_run(v.ga));
    }

    #[test]
    fn engine_gaps_and_notice_are_enforced() {
        let mut v = engine("1.0.3", "2026-01-01T00:00:00Z");
        v.eogs = v.ga + Duration::days(180) - Duration::seconds(1);
        assert!(matches!(
            v.validate(),
            Err(ScheduleError::TooSoon {
                field: "eogs",
                days: 180,
                ..
            })
        ));
        let mut v = engine("1.0.3", "2026-01-01T00:00:00Z");
        v.announced_at = v.eogs - Duration::days(60);
        assert!(matches!(
            v.validate(),
            Err(ScheduleError::TooLittleNotice {
                field: "eogs",
                months: 3,
                ..
            })
        ));
    }

    #[test]
    fn upgrade_advice_prefers_the_newest_minor_of_the_same_major() {
        let now = utc("2026-06-01T00:00:00Z");
        let current = engine("1.0.3", "2026-01-01T00:00:00Z");
        let mut pulled = engine("1.0.9", "2026-02-01T00:00:00Z");
        pulled.pulled = true;
        let versions = vec![
            current.clone(),
            engine("1.0.7", "2026-02-01T00:00:00Z"),
            engine("1.1.2", "2026-03-01T00:00:00Z"),
            pulled,
            engine("2.0.1", "2026-04-01T00:00:00Z"),
        ];
        // 1.0 is the major: 1.0.7 (1.0.9 is pulled), not 1.1.2.
        assert_eq!(
            upgrade_advice(&current, &versions, now),
            Some(UpgradeAdvice {
                to: "1.0.7".into(),
                needs_review: false
            })
        );
        let newest_of_major = engine("1.1.2", "2026-03-01T00:00:00Z");
        assert_eq!(
            upgrade_advice(&newest_of_major, &versions, now),
            Some(UpgradeAdvice {
                to: "2.0.1".into(),
                needs_review: true
            })
        );
    }
}
