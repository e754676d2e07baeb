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

use crate::channels::Channel;
use crate::engine::record::{DesiredState, Status};
use crate::AppState;
pub use store::alert_rules::Severity;
pub use store::alerts::AlertState;
use store::db::{new_id, now_ms, Tx};

mod conditions;

use conditions::holds;
pub use conditions::Condition;

pub async fn run(state: AppState, stop: CancellationToken) {
    let interval = Duration::from_millis(state.config.alerts.interval_ms.max(50));
    crate::workers::every(state, stop, "alerts", interval, |state| async move {
        evaluate_all(&state, now_ms()).await.map(|_| ())
    })
    .await;
}

/// Evaluates every project with enabled rules. Returns the messages queued.
pub async fn evaluate_all(state: &AppState, now: i64) -> Result<usize, Error> {
    let projects: Vec<(String, String)> = sqlx::query_as(
        "select distinct r.project_id, p.account_id from alert_rules r join projects p on p.id = r.project_id
          where r.enabled = 1 order by r.project_id",
    )
    .fetch_all(&state.db.pool)
    .await?;
    let mut queued = 0;
    for (project_id, account_id) in projects {
        queued += evaluate_project(state, &project_id, &account_id, now).await?;
    }
    Ok(queued)
}

#[derive(sqlx::FromRow)]
struct Rule {
    id: String,
    name: String,
    deployment_id: Option<String>,
    condition: String,
    threshold: i64,
    window_secs: i64,
    severity: Severity,
    contact_group_id: String,
    repeat_secs: i64,
}

#[derive(sqlx::FromRow)]
struct Deployment {
    id: String,
    name: String,
    desired_state: DesiredState,
    status: Status,
    last_error: Option<String>,
    updated_at: i64,
    last_checkpoint_at: Option<i64>,
}

/// One line of a grouped message.
struct Line {
    severity: Severity,
    what: &'static str,
    text: String,
}

async fn evaluate_project(
    state: &AppState,
    project_id: &str,
    account_id: &str,
    now: i64,
) -> Result<usize, Error> {
    let mut tx = state.db.begin_write().await?;
    // One evaluator per project at a time, across replicas.
    let project: Option<(String,)> = sqlx::query_as(&format!(
        "select name from projects where id = $1{}",
        state.db.for_update()
    ))
    .bind(project_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((project_name,)) = project else {
        return Ok(0);
    };
    let rules: Vec<Rule> = sqlx::query_as(
        "select id, name, deployment_id, condition, threshold, window_secs, severity, contact_group_id, repeat_secs
           from alert_rules where project_id = $1 and enabled = 1 order by id",
    )
    .bind(project_id)
    .fetch_all(&mut *tx)
    .await?;
    let deployments: Vec<Deployment> = sqlx::query_as(
        "select id, name, desired_state, status, last_error, updated_at, last_checkpoint_at from deployments
          where project_id = $1 order by id",
    )
    .bind(project_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut by_group: BTreeMap<String, Vec<Line>> = BTreeMap::new();
    for rule in &rules {
        let condition = Condition::parse(&rule.condition)?;
        for d in deployments
            .iter()
            .filter(|d| rule.deployment_id.as_deref().is_none_or(|id| id == d.id))
        {
            let holds = holds(&mut tx, state, condition, rule, d, now).await?;
            let silenced = silenced(&mut tx, project_id, &rule.id, &d.id, now).await?;
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
    tx: &mut Tx,
    project_id: &str,
    rule: &Rule,
    d: &Deployment,
    holds: Option<String>,
    silenced: bool,
    now: i64,
) -> Result<Option<Line>, Error> {
    let firing: Option<(String, i64, Option<i64>, i64)> = sqlx::query_as(
        "select id, started_at, notified_at, announced from alerts
          where rule_id = $1 and deployment_id = $2 and state = $3",
    )
    .bind(&rule.id)
    .bind(&d.id)
    .bind(AlertState::Firing)
    .fetch_optional(&mut **tx)
    .await?;
    let line = |what: &'static str, text: String| {
        Some(Line {
            severity: rule.severity,
            what,
            text,
        })
    };
    match (holds, firing) {
        (Some(summary), None) => {
            sqlx::query(
                "insert into alerts (id, project_id, rule_id, deployment_id, state, summary, started_at, notified_at, announced)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(new_id())
            .bind(project_id)
            .bind(&rule.id)
            .bind(&d.id)
            .bind(AlertState::Firing)
            .bind(&summary)
            .bind(now)
            .bind((!silenced).then_some(now))
            .bind(i64::from(!silenced))
            .execute(&mut **tx)
            .await?;
            if !silenced {
                return Ok(line("FIRING", format!("{}: {summary}", rule.name)));
            }
        }
        (Some(summary), Some((alert_id, _, notified_at, announced))) => {
            let due = announced == 0
                || (rule.repeat_secs > 0
                    && notified_at.is_none_or(|t| now - t >= rule.repeat_secs * 1000));
            if due && !silenced {
                sqlx::query(
                    "update alerts set notified_at = $1, announced = 1, summary = $2 where id = $3",
                )
                .bind(now)
                .bind(&summary)
                .bind(&alert_id)
                .execute(&mut **tx)
                .await?;
                let what = if announced == 0 {
                    "FIRING"
                } else {
                    "STILL FIRING"
                };
                return Ok(line(what, format!("{}: {summary}", rule.name)));
            }
        }
        (None, Some((alert_id, started_at, _, announced))) => {
            sqlx::query("update alerts set state = $1, resolved_at = $2 where id = $3")
                .bind(AlertState::Resolved)
                .bind(now)
                .bind(&alert_id)
                .execute(&mut **tx)
                .await?;
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

async fn silenced(
    tx: &mut Tx,
    project_id: &str,
    rule_id: &str,
    deployment_id: &str,
    now: i64,
) -> Result<bool, Error> {
    let (n,): (i64,) = sqlx::query_as(
        "select count(*) from silences where project_id = $1 and starts_at <= $2 and ends_at > $2
            and (rule_id is null or rule_id = $3) and (deployment_id is null or deployment_id = $4)",
    )
    .bind(project_id)
    .bind(now)
    .bind(rule_id)
    .bind(deployment_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

/// The destinations of a contact group: email addresses and channel ids with kinds.
pub async fn destinations(
    conn: &mut sqlx::AnyConnection,
    group_id: &str,
) -> Result<(Vec<String>, Vec<(String, Channel)>), Error> {
    let (emails,): (String,) = sqlx::query_as("select emails from contact_groups where id = $1")
        .bind(group_id)
        .fetch_one(&mut *conn)
        .await?;
    let emails: Vec<String> = serde_json::from_str(&emails).unwrap_or_default();
    let channels: Vec<(String, Channel)> = sqlx::query_as(
        "select c.id, c.kind from contact_group_channels g join notification_channels c on c.id = g.channel_id
          where g.group_id = $1 order by c.id",
    )
    .bind(group_id)
    .fetch_all(conn)
    .await?;
    Ok((emails, channels))
}

/// One message for a contact group with every line of this pass, to each destination.
async fn send_grouped(
    tx: &mut Tx,
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
    let (emails, channels) = destinations(tx, group_id).await?;
    let source_id = new_id();
    let mut queued = 0;
    for email in &emails {
        crate::outbox::enqueue(
            tx,
            &crate::outbox::NewMessage {
                account_id,
                source_kind: "alert",
                source_id: &source_id,
                channel: crate::channels::Channel::Email,
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
