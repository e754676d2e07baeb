//! Reminders before lifecycle milestones: the schedules they are counted from (product
//! forms' and engine versions') and the record of each reminder sent, under a key of (subject, milestone, its instant, lead) so that it is
//! sent once.

use crate::all_tenants::{AllTenants, AllTenantsWrite};
use crate::Error;

/// A product form's retirement schedule (instants in ms).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FormScheduleRow {
    pub name: String,
    pub announced_at: i64,
    pub eom1: i64,
    pub eom2: i64,
    pub eofs: i64,
    pub eos: i64,
}

/// An engine version's lifecycle (instants in ms).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EngineScheduleRow {
    pub label: String,
    pub flink_version: String,
    pub announced_at: i64,
    pub eogs: i64,
    pub eofs: i64,
    pub eos: i64,
}

/// A reminder: what reaches which milestone when, and how many days ahead.
#[derive(Debug, Clone)]
pub struct ReminderKey<'a> {
    /// `product_form` or `engine_version`.
    pub subject_kind: &'a str,
    pub subject_name: &'a str,
    pub milestone: &'a str,
    pub milestone_at: i64,
    pub lead_days: i64,
}

/// What recording a reminder found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded now: this call is the first.
    New,
    /// Recorded before.
    Known,
    /// Another replica recorded it between the check and the insert.
    Raced,
}

/// The lifecycle schedules, for the reminder worker.
pub struct Schedules<'a>(&'a AllTenants);

impl AllTenants {
    pub fn schedules(&self) -> Schedules<'_> {
        Schedules(self)
    }
}

impl Schedules<'_> {
    /// Every product form's schedule, by name.
    pub async fn product_forms(&self) -> Result<Vec<FormScheduleRow>, Error> {
        Ok(sqlx::query_as(
            "select name, announced_at, eom1, eom2, eofs, eos from product_forms order by name",
        )
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// Every engine version's lifecycle, by label.
    pub async fn engine_versions(&self) -> Result<Vec<EngineScheduleRow>, Error> {
        Ok(sqlx::query_as(
            "select label, flink_version, announced_at, eogs, eofs, eos from engine_versions order by label",
        )
        .fetch_all(&self.0.db().pool)
        .await?)
    }
}

/// Reminders recorded inside a write transaction, with the notices they send.
pub struct ReminderWrites<'a>(&'a mut AllTenantsWrite);

impl AllTenantsWrite {
    pub fn reminders(&mut self) -> ReminderWrites<'_> {
        ReminderWrites(self)
    }
}

impl ReminderWrites<'_> {
    /// Records a reminder sent at `sent_at` unless it was recorded before.
    pub async fn record(&mut self, key: &ReminderKey<'_>, sent_at: i64) -> Result<Recorded, Error> {
        let tx = self.0.tx();
        let inserted = sqlx::query(
            "insert into lifecycle_reminders (subject_kind, subject_name, milestone, milestone_at, lead_days, sent_at)
             select $1, $2, $3, $4, $5, $6
              where not exists (select 1 from lifecycle_reminders where subject_kind = $1 and subject_name = $2
                                  and milestone = $3 and milestone_at = $4 and lead_days = $5)",
        )
        .bind(key.subject_kind)
        .bind(key.subject_name)
        .bind(key.milestone)
        .bind(key.milestone_at)
        .bind(key.lead_days)
        .bind(sent_at)
        .execute(&mut **tx)
        .await;
        match inserted {
            Ok(r) if r.rows_affected() > 0 => Ok(Recorded::New),
            Ok(_) => Ok(Recorded::Known),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Ok(Recorded::Raced),
            Err(e) => Err(e.into()),
        }
    }
}
