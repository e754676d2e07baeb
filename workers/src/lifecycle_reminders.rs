//! Reminders before lifecycle milestones: `notices.reminder_days` (120, 30 and 7 days
//! by default) before each milestone of a product form or engine version, the owners
//! and admins of every affected account are reminded of what happens on that date.
//!
//! Each reminder is recorded in `lifecycle_reminders` in the same transaction as its
//! notices, under a key of (subject, milestone, its instant, lead): a rerun, a second
//! replica or a crash before the commit sends it once. A milestone that moves gets new
//! reminders for its new date. Leads already past when the schedule was announced are
//! covered by the announcement itself; when several leads are due at once (a worker
//! that was down), only the nearest is sent.

use std::time::Duration;
use store::Error;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use domain::Platform;
use store::reminders::{Recorded, ReminderKey};

/// How often each replica looks for reminders due; they are days apart.
const INTERVAL: Duration = Duration::from_secs(60);

pub async fn run(state: Platform, stop: CancellationToken) {
    crate::every::every(
        state,
        stop,
        "lifecycle_reminders",
        INTERVAL,
        |state| async move {
            let sent = send_due(&state, Utc::now()).await?;
            if sent > 0 {
                tracing::info!(reminders = sent, "sent lifecycle reminders");
            }
            Ok(())
        },
    )
    .await;
}

struct Milestone {
    subject_kind: &'static str,
    subject_name: String,
    /// e.g. `EOM1`, `EOS`.
    milestone: &'static str,
    at: i64,
    announced_at: i64,
    /// What happens then, for the message.
    consequence: String,
}

fn day(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

async fn milestones(state: &Platform) -> Result<Vec<Milestone>, Error> {
    let mut out = Vec::new();
    let all = state.all_tenants();
    let forms = all.schedules().product_forms().await?;
    for f in forms {
        let (name, announced_at) = (f.name, f.announced_at);
        let (eom1, eom2, eofs, eos) = (f.eom1, f.eom2, f.eofs, f.eos);
        for (milestone, at, consequence) in [
            ("EOM1", eom1, "no new purchases"),
            ("EOM2", eom2, "no new purchases and no scale-out orders"),
            ("EOFS", eofs, "no renewals or configuration changes"),
            ("EOS", eos, "nothing runs on it any more"),
        ] {
            out.push(Milestone {
                subject_kind: "product_form",
                subject_name: name.clone(),
                milestone,
                at,
                announced_at,
                consequence: format!(
                    "the product form `{name}` reaches {milestone}: {consequence}"
                ),
            });
        }
    }
    let versions = all.schedules().engine_versions().await?;
    for v in versions {
        let (label, flink, announced_at) = (v.label, v.flink_version, v.announced_at);
        let (eogs, eofs, eos) = (v.eogs, v.eofs, v.eos);
        for (milestone, at, consequence) in [
            ("EOGS", eogs, "no new features"),
            ("EOFS", eofs, "no patches or support; upgrading is advised"),
            (
                "EOS",
                eos,
                "deployments on it are stopped with a savepoint and can no longer start",
            ),
        ] {
            out.push(Milestone {
                subject_kind: "engine_version",
                subject_name: label.clone(),
                milestone,
                at,
                announced_at,
                consequence: format!(
                    "engine version {label} (Flink {flink}) reaches {milestone}: {consequence}"
                ),
            });
        }
    }
    Ok(out)
}

/// Sends every reminder due at `now` not sent yet. Returns how many were sent.
pub async fn send_due(state: &Platform, now: DateTime<Utc>) -> Result<usize, Error> {
    let now_ms = now.timestamp_millis();
    let mut leads = state.config.notices.reminder_days.clone();
    leads.sort_unstable();
    leads.dedup();
    let mut sent = 0;
    for m in milestones(state).await? {
        if m.at <= now_ms {
            continue;
        }
        // Leads whose moment came after the announcement and has passed, nearest first.
        let due: Vec<i64> = leads
            .iter()
            .copied()
            .filter(|lead| {
                let moment = m.at - lead * 86_400_000;
                moment > m.announced_at && moment <= now_ms
            })
            .collect();
        let Some(&nearest) = due.first() else {
            continue;
        };
        if send_reminder(state, &m, nearest, &due, now_ms).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// Records the due leads and, if this call was first, notifies the affected accounts.
async fn send_reminder(
    state: &Platform,
    m: &Milestone,
    nearest: i64,
    due: &[i64],
    now_ms: i64,
) -> Result<bool, Error> {
    let mut tx = state.all_tenants().write().await?;
    let mut first = false;
    for lead in due {
        let key = ReminderKey {
            subject_kind: m.subject_kind,
            subject_name: &m.subject_name,
            milestone: m.milestone,
            milestone_at: m.at,
            lead_days: *lead,
        };
        match tx.reminders().record(&key, now_ms).await? {
            // Another replica recorded it between the check and the insert.
            Recorded::Raced => return Ok(false),
            recorded if *lead == nearest => first = recorded == Recorded::New,
            Recorded::New | Recorded::Known => {}
        }
    }
    if !first {
        // Dropped uncommitted: nothing recorded is kept.
        drop(tx);
        return Ok(false);
    }
    let accounts = match m.subject_kind {
        "product_form" => tx.lifecycles().accounts_of_form(&m.subject_name).await?,
        _ => tx.lifecycles().accounts_on_engine(&m.subject_name).await?,
    };
    // Whole days left, rounded up: a reminder sent 29.5 days ahead says 30.
    let days_left = (m.at - now_ms + 86_399_999) / 86_400_000;
    let subject = format!(
        "Reminder: {} {} on {}",
        m.subject_name,
        m.milestone,
        day(m.at)
    );
    let body = format!(
        "In {days_left} days, on {} (UTC), {}.",
        day(m.at),
        m.consequence
    );
    domain::notices::notify_accounts(&mut tx, &accounts, "lifecycle_reminder", &subject, &body)
        .await?;
    tx.commit().await?;
    Ok(true)
}
