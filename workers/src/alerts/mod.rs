//! Alert evaluation: every `alerts.interval_ms`, each project's enabled rules are
//! checked against its deployments as the reconciler last saw them. An alert fires once
//! when its condition starts, reminds every `repeat_secs` while it lasts, and sends a
//! "resolved" message when it ends; a silence mutes it (a silenced firing is still
//! recorded, and announced if it outlasts the silence).
//!
//! Exactly once across replicas: a project is evaluated inside one write transaction
//! that first locks the project's row, and the alert rows and the outbox messages they
//! cause are written in that same transaction. A replica killed mid-evaluation commits
//! nothing; the next evaluation (by any replica) sees the same state and does the work
//! once.
//!
//! Grouping: what one pass finds for a project is sent as one message per contact
//! group, so a cluster failing under 30 jobs is one message, not 30.

use std::collections::BTreeMap;
use std::time::Duration;
use store::Error;

use tokio_util::sync::CancellationToken;

use domain::Platform;
use store::alert_rules::AlertRuleRow;
pub use store::alert_rules::Severity;
pub use store::alerts::AlertState;
use store::alerts::WatchedDeploymentRow;
use store::db::{new_id, now_ms};
use store::AllTenantsWrite;

use domain::alert_conditions::holds;
pub use domain::alert_conditions::Condition;

pub async fn run(state: Platform, stop: CancellationToken) {
    let interval = Duration::from_millis(state.config.alerts.interval_ms.max(50));
    crate::every::every(state, stop, "alerts", interval, |state| async move {
        evaluate_all(&state, now_ms()).await.map(|_| ())
    })
    .await;
}

/// Evaluates every project with enabled rules. Returns the messages queued.
pub async fn evaluate_all(state: &Platform, now: i64) -> Result<usize, Error> {
    let projects = state.all_tenants().projects_with_enabled_rules().await?;
    let mut queued = 0;
    for p in projects {
        queued += evaluate_project(state, &p.project_id, &p.account_id, now).await?;
    }
    Ok(queued)
}

type Rule = AlertRuleRow;

/// A deployment as the reconciler last saw it.
type Deployment = WatchedDeploymentRow;

/// One line of a grouped message.
struct Line {
    severity: Severity,
    what: &'static str,
    text: String,
}

async fn evaluate_project(
    state: &Platform,
    project_id: &str,
    account_id: &str,
    now: i64,
) -> Result<usize, Error> {
    let mut tx = state.all_tenants().write().await?;
    // One evaluator per project at a time, across replicas.
    let Some(project_name) = tx.alert_pass().lock_project(project_id).await? else {
        return Ok(0);
    };
    let rules = tx.alert_pass().enabled_rules(project_id).await?;
    let deployments = tx.alert_pass().deployments(project_id).await?;
    let mut by_group: BTreeMap<String, Vec<Line>> = BTreeMap::new();
    for rule in &rules {
        let condition = Condition::parse(&rule.condition)?;
        for d in deployments
            .iter()
            .filter(|d| rule.deployment_id.as_deref().is_none_or(|id| id == d.id))
        {
            let holds = holds(&mut tx, state, condition, rule, d, now).await?;
            let silenced = tx
                .alert_pass()
                .silenced(project_id, &rule.id, &d.id, now)
                .await?;
            let told = record(&mut tx, project_id, rule, d, holds, silenced, now).await?;
            if let Some(line) = told {
                by_group
                    .entry(rule.contact_group_id.clone())
                    .or_default()
                    .push(line);
            }
        }
    }
    let mut queued = 0;
    for (group_id, lines) in by_group {
        queued += send_grouped(
            &mut tx,
            account_id,
            project_id,
            &project_name,
            &group_id,
            &lines,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(queued)
}

/// Records what a rule's condition on one deployment now means for its alert (a new
/// alert, a reminder, a resolution), and returns the line to tell, if any: nothing is
/// told while silenced, nor twice within `repeat_secs`.
async fn record(
    tx: &mut AllTenantsWrite,
    project_id: &str,
    rule: &Rule,
    d: &Deployment,
    holds: Option<String>,
    silenced: bool,
    now: i64,
) -> Result<Option<Line>, Error> {
    let firing = tx.alert_pass().firing(&rule.id, &d.id).await?;
    let line = |what: &'static str, text: String| {
        Some(Line {
            severity: rule.severity,
            what,
            text,
        })
    };
    match (holds, firing) {
        (Some(summary), None) => {
            tx.alert_pass()
                .open(project_id, &rule.id, &d.id, &summary, now, silenced)
                .await?;
            if !silenced {
                return Ok(line("FIRING", format!("{}: {summary}", rule.name)));
            }
        }
        (Some(summary), Some(alert)) => {
            let (notified_at, announced) = (alert.notified_at, alert.announced);
            let due = announced == 0
                || (rule.repeat_secs > 0
                    && notified_at.is_none_or(|t| now - t >= rule.repeat_secs * 1000));
            if due && !silenced {
                tx.alert_pass().notified(&alert.id, now, &summary).await?;
                let what = if announced == 0 {
                    "FIRING"
                } else {
                    "STILL FIRING"
                };
                return Ok(line(what, format!("{}: {summary}", rule.name)));
            }
        }
        (None, Some(alert)) => {
            let (started_at, announced) = (alert.started_at, alert.announced);
            tx.alert_pass().resolve(&alert.id, now).await?;
            if announced == 1 && !silenced {
                let lasted = (now - started_at) / 1000;
                return Ok(line(
                    "RESOLVED",
                    format!(
                        "{}: deployment `{}` is back to normal after {lasted} s",
                        rule.name, d.name
                    ),
                ));
            }
        }
        (None, None) => {}
    }
    Ok(None)
}

/// One message for a contact group with every line of this pass, to each destination.
async fn send_grouped(
    tx: &mut AllTenantsWrite,
    account_id: &str,
    project_id: &str,
    project_name: &str,
    group_id: &str,
    lines: &[Line],
) -> Result<usize, Error> {
    let firing = lines.iter().filter(|l| l.what != "RESOLVED").count();
    let resolved = lines.len() - firing;
    let top = lines
        .iter()
        .filter(|l| l.what != "RESOLVED")
        .map(|l| l.severity.as_str())
        .min()
        .unwrap_or("resolved");
    let subject = match (firing, resolved) {
        (0, r) => format!("[resolved] {r} alert(s) resolved in project {project_name}"),
        (f, 0) => format!("[{top}] {f} alert(s) firing in project {project_name}"),
        (f, r) => format!("[{top}] {f} alert(s) firing, {r} resolved in project {project_name}"),
    };
    let text = lines
        .iter()
        .map(|l| format!("- [{}] {} {}", l.severity, l.what, l.text))
        .collect::<Vec<_>>()
        .join("\n");
    let markdown = format!("**{subject}**\n\n{text}");
    let destinations = tx.alert_pass().destinations(group_id).await?;
    let emails: Vec<String> = serde_json::from_str(&destinations.emails).unwrap_or_default();
    let channels = destinations.channels;
    let source_id = new_id();
    let mut queued = 0;
    for email in &emails {
        crate::outbox::enqueue(
            tx,
            &crate::outbox::NewMessage {
                account_id,
                source_kind: "alert",
                source_id: &source_id,
                channel: domain::channels::Channel::Email,
                recipient: email,
                subject: &subject,
                text: &text,
                markdown: &markdown,
            },
        )
        .await?;
        queued += 1;
    }
    for (channel_id, kind) in &channels {
        crate::outbox::enqueue(
            tx,
            &crate::outbox::NewMessage {
                account_id,
                source_kind: "alert",
                source_id: &source_id,
                channel: *kind,
                recipient: channel_id,
                subject: &subject,
                text: &text,
                markdown: &markdown,
            },
        )
        .await?;
        queued += 1;
    }
    tracing::info!(project = %project_id, group = %group_id, lines = lines.len(), "alert message queued");
    Ok(queued)
}
