//! A project's alerting: contact groups (emails and the account's notification
//! channels) with a test send, alert rules, silences, and the alert history. Viewers
//! read; editors write rules and silences; project admins manage contact groups, which
//! hold people's addresses.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::rfc3339;
use crate::access::{can, ProjectGuard};
use crate::alerts::Condition;
use crate::db::{new_id, now_ms, Tx};
use crate::domain::{bounded_text, Name};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use delivery::Message;

/// At most this many destinations in one contact group.
const MAX_DESTINATIONS: usize = 50;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContactGroup {
    pub name: String,
    #[serde(default)]
    pub emails: Vec<String>,
    /// Ids of the account's notification channels (SMS, DingTalk, webhooks).
    #[serde(default)]
    pub channel_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ContactGroup {
    pub id: String,
    pub name: String,
    pub emails: Vec<String>,
    pub channel_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// A contact group's fields once checked: a name, sorted unique addresses and channels.
struct CheckedGroup {
    name: String,
    emails: Vec<String>,
    channel_ids: Vec<String>,
}

/// Checks a contact group: valid addresses, at least one and at most
/// `MAX_DESTINATIONS` destinations, channels of the caller's account.
async fn check_group(
    tx: &mut Tx,
    account_id: &str,
    body: &NewContactGroup,
) -> Result<CheckedGroup, ApiError> {
    let name = Name::parse("name", &body.name)?;
    let mut emails = Vec::with_capacity(body.emails.len());
    for raw in &body.emails {
        emails.push(crate::domain::email("emails", raw)?);
    }
    emails.sort();
    emails.dedup();
    let mut channel_ids = body.channel_ids.clone();
    channel_ids.sort();
    channel_ids.dedup();
    if emails.is_empty() && channel_ids.is_empty() {
        return Err(ApiError::invalid(
            "emails",
            "a contact group needs at least one email address or channel",
        ));
    }
    if emails.len() + channel_ids.len() > MAX_DESTINATIONS {
        return Err(ApiError::invalid(
            "emails",
            format!("a contact group has at most {MAX_DESTINATIONS} destinations"),
        ));
    }
    for channel_id in &channel_ids {
        let (found,): (i64,) = sqlx::query_as(
            "select count(*) from notification_channels where id = $1 and account_id = $2",
        )
        .bind(channel_id)
        .bind(account_id)
        .fetch_one(&mut **tx)
        .await?;
        if found == 0 {
            return Err(ApiError::invalid(
                "channel_ids",
                format!("`{channel_id}` is not a notification channel of this account"),
            ));
        }
    }
    Ok(CheckedGroup {
        name: name.as_str().to_owned(),
        emails,
        channel_ids,
    })
}

fn group_name_taken(e: sqlx::Error) -> ApiError {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => ApiError::already_exists(
            "name",
            "the project already has a contact group with this name",
        ),
        other => other.into(),
    }
}

/// Sets the channels a group sends to.
async fn set_group_channels(
    tx: &mut Tx,
    group_id: &str,
    channel_ids: &[String],
) -> Result<(), ApiError> {
    sqlx::query("delete from contact_group_channels where group_id = $1")
        .bind(group_id)
        .execute(&mut **tx)
        .await?;
    for channel_id in channel_ids {
        sqlx::query("insert into contact_group_channels (group_id, channel_id) values ($1, $2)")
            .bind(group_id)
            .bind(channel_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[utoipa::path(post, path = "/projects/{project_id}/contact-groups", tag = "alerts", params(("project_id" = String, Path)),
    request_body = NewContactGroup,
    responses((status = 201, body = ContactGroup), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_contact_group(
    State(state): State<AppState>,
    access: ProjectGuard<can::ManageConnections>,
    Json(body): Json<NewContactGroup>,
) -> ApiResult<(StatusCode, JsonResponse<ContactGroup>)> {
    let mut tx = state.db.begin_write().await?;
    let group = check_group(&mut tx, access.account().as_str(), &body).await?;
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "insert into contact_groups (id, project_id, name, emails, created_by, created_at) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(access.project_id())
    .bind(&group.name)
    .bind(serde_json::to_string(&group.emails).map_err(ApiError::internal)?)
    .bind(access.user_id())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(group_name_taken)?;
    set_group_channels(&mut tx, &id, &group.channel_ids).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(ContactGroup {
            id,
            name: group.name,
            emails: group.emails,
            channel_ids: group.channel_ids,
            created_at: rfc3339(now),
        }),
    ))
}

/// Replaces a contact group's name and destinations, checked as a new group is; the
/// rules sending to it send to the new destinations from their next message on.
#[utoipa::path(put, path = "/projects/{project_id}/contact-groups/{group_id}", tag = "alerts",
    params(("project_id" = String, Path), ("group_id" = String, Path)), request_body = NewContactGroup,
    responses((status = 200, body = ContactGroup), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_contact_group(
    State(state): State<AppState>,
    access: ProjectGuard<can::ManageConnections>,
    Path((_project_id, group_id)): Path<(String, String)>,
    Json(body): Json<NewContactGroup>,
) -> ApiResult<JsonResponse<ContactGroup>> {
    let mut tx = state.db.begin_write().await?;
    let group = check_group(&mut tx, access.account().as_str(), &body).await?;
    let created: Option<(i64,)> = sqlx::query_as(
        "update contact_groups set name = $1, emails = $2 where id = $3 and project_id = $4 returning created_at",
    )
    .bind(&group.name)
    .bind(serde_json::to_string(&group.emails).map_err(ApiError::internal)?)
    .bind(&group_id)
    .bind(access.project_id())
    .fetch_optional(&mut *tx)
    .await
    .map_err(group_name_taken)?;
    let Some((created_at,)) = created else {
        return Err(ApiError::not_found("contact group"));
    };
    set_group_channels(&mut tx, &group_id, &group.channel_ids).await?;
    tx.commit().await?;
    Ok(JsonResponse(ContactGroup {
        id: group_id,
        name: group.name,
        emails: group.emails,
        channel_ids: group.channel_ids,
        created_at: rfc3339(created_at),
    }))
}

#[utoipa::path(get, path = "/projects/{project_id}/contact-groups", tag = "alerts", params(("project_id" = String, Path)),
    responses((status = 200, body = Vec<ContactGroup>), (status = 404, body = ErrorBody)))]
pub async fn list_contact_groups(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
) -> ApiResult<JsonResponse<Vec<ContactGroup>>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "select id, name, created_at from contact_groups where project_id = $1 order by name",
    )
    .bind(access.project_id())
    .fetch_all(&state.db.pool)
    .await?;
    let mut conn = state.db.pool.acquire().await?;
    let mut groups = Vec::with_capacity(rows.len());
    for (id, name, created_at) in rows {
        let (emails, channels) = crate::alerts::destinations(&mut conn, &id).await?;
        groups.push(ContactGroup {
            id,
            name,
            emails,
            channel_ids: channels.into_iter().map(|(c, _)| c).collect(),
            created_at: rfc3339(created_at),
        });
    }
    Ok(JsonResponse(groups))
}

/// A notification channel as a contact group names it.
#[derive(Serialize, ToSchema)]
pub struct ChannelChoice {
    pub id: String,
    /// `sms`, `dingtalk` or `webhook`.
    pub kind: String,
    pub name: String,
}

/// The account's notification channels a contact group of this project may send to:
/// their kind and name only, so the project's people see where groups send and its
/// admins can pick them (addresses and secrets stay with the account's admins).
#[utoipa::path(get, path = "/projects/{project_id}/channel-choices", tag = "alerts", params(("project_id" = String, Path)),
    responses((status = 200, body = Vec<ChannelChoice>), (status = 404, body = ErrorBody)))]
pub async fn list_channel_choices(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
) -> ApiResult<JsonResponse<Vec<ChannelChoice>>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "select id, kind, name from notification_channels where account_id = $1 order by name",
    )
    .bind(access.account().as_str())
    .fetch_all(&state.db.pool)
    .await?;
    Ok(JsonResponse(
        rows.into_iter()
            .map(|(id, kind, name)| ChannelChoice { id, kind, name })
            .collect(),
    ))
}

/// Removes a contact group no rule uses any more.
#[utoipa::path(delete, path = "/projects/{project_id}/contact-groups/{group_id}", tag = "alerts",
    params(("project_id" = String, Path), ("group_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_contact_group(
    State(state): State<AppState>,
    access: ProjectGuard<can::ManageConnections>,
    Path((_project_id, group_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (used,): (i64,) = sqlx::query_as(
        "select count(*) from alert_rules where contact_group_id = $1 and project_id = $2",
    )
    .bind(&group_id)
    .bind(access.project_id())
    .fetch_one(&state.db.pool)
    .await?;
    if used > 0 {
        return Err(ApiError::conflict(
            "in_use",
            format!("{used} alert rule(s) send to this group; point them elsewhere or delete them first"),
        ));
    }
    delete_in_project(
        &state,
        "contact_groups",
        &group_id,
        access.project_id(),
        "contact group",
    )
    .await
}

#[derive(Serialize, ToSchema)]
pub struct TestResult {
    /// `email` or the channel's kind.
    pub channel: String,
    /// The email address, or the channel's id.
    pub destination: String,
    pub delivered: bool,
    pub error: Option<String>,
}

/// Sends a sample alert to every destination of the group right away.
#[utoipa::path(post, path = "/projects/{project_id}/contact-groups/{group_id}/test", tag = "alerts",
    params(("project_id" = String, Path), ("group_id" = String, Path)),
    responses((status = 200, body = Vec<TestResult>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn test_contact_group(
    State(state): State<AppState>,
    access: ProjectGuard<can::ManageConnections>,
    Path((_project_id, group_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<Vec<TestResult>>> {
    let (found,): (i64,) =
        sqlx::query_as("select count(*) from contact_groups where id = $1 and project_id = $2")
            .bind(&group_id)
            .bind(access.project_id())
            .fetch_one(&state.db.pool)
            .await?;
    if found == 0 {
        return Err(ApiError::not_found("contact group"));
    }
    let mut conn = state.db.pool.acquire().await?;
    let (emails, channels) = crate::alerts::destinations(&mut conn, &group_id).await?;
    drop(conn);
    let text =
        "[P3] TEST: a sample alert from Sluice; this contact group receives the project's alerts.";
    let message = |key: String| Message {
        idempotency_key: key,
        subject: "[P3] Sluice test alert".to_owned(),
        text: text.to_owned(),
        markdown: text.to_owned(),
    };
    let mut results = Vec::new();
    for email in emails {
        let outcome = state
            .channels
            .send(
                &delivery::Target::Email {
                    address: email.clone(),
                },
                &message(format!("sluice-test-{}", new_id())),
            )
            .await;
        results.push(TestResult {
            channel: "email".to_owned(),
            destination: email,
            delivered: outcome.is_ok(),
            error: outcome.err().map(|e| e.message),
        });
    }
    for (channel_id, kind) in channels {
        let Some(outcome) = super::channels::send_to_channel(
            &state,
            access.account().as_str(),
            &channel_id,
            &message(format!("sluice-test-{}", new_id())),
        )
        .await?
        else {
            continue; // removed since the group was read
        };
        results.push(TestResult {
            channel: kind,
            destination: channel_id,
            delivered: outcome.is_ok(),
            error: outcome.err().map(|e| e.message),
        });
    }
    Ok(JsonResponse(results))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAlertRule {
    pub name: String,
    /// One deployment; absent: every deployment of the project.
    pub deployment_id: Option<String>,
    /// `job_failed` (FAILED, or RESTARTING in the engine); `restarts` or
    /// `checkpoint_failures` (more than `threshold` within
    /// `window_secs`); `state_mismatch` (observed differs from desired for
    /// `window_secs`); `no_checkpoint` (none completed within `window_secs`);
    /// `input_stopped` (sources under `threshold` records/s throughout `window_secs`);
    /// `backpressure_high` (at least `threshold` percent backpressured throughout);
    /// `lag_high` (sources' event-time lag over `threshold` ms throughout);
    /// `pending_records_high` (over `threshold` records waiting at the sources
    /// throughout). The lag conditions need a connector that reports lag.
    /// `orphan_job` (an earlier engine job of the deployment still runs, unmanaged).
    /// Restarts count Sluice's and the engine's own.
    #[schema(
        pattern = "^(job_failed|restarts|state_mismatch|checkpoint_failures|no_checkpoint|input_stopped|backpressure_high|lag_high|pending_records_high|orphan_job)$"
    )]
    pub condition: String,
    pub threshold: Option<i64>,
    pub window_secs: Option<i64>,
    /// `P0` (most urgent) to `P3`; default P1.
    #[schema(pattern = "^P[0-3]$")]
    pub severity: Option<String>,
    pub contact_group_id: String,
    /// While firing, remind this often; 0 or absent: never. At most a week.
    #[schema(minimum = 0, maximum = 604800)]
    pub repeat_secs: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertRule {
    pub id: String,
    pub name: String,
    pub deployment_id: Option<String>,
    pub condition: String,
    pub threshold: i64,
    pub window_secs: i64,
    pub severity: String,
    pub contact_group_id: String,
    pub repeat_secs: i64,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

fn ranged(field: &str, value: i64, range: std::ops::RangeInclusive<i64>) -> Result<i64, ApiError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::invalid(
            field,
            format!(
                "{field} must be from {} to {}, got {value}",
                range.start(),
                range.end()
            ),
        ))
    }
}

fn rule_name_taken(e: sqlx::Error) -> ApiError {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => ApiError::already_exists(
            "name",
            "the project already has an alert rule with this name",
        ),
        other => other.into(),
    }
}

/// A rule as stored, once checked.
struct CheckedRule {
    name: String,
    condition: Condition,
    threshold: i64,
    window_secs: i64,
    severity: String,
    repeat_secs: i64,
}

/// Checks a rule's fields (each against its condition's range, defaults filled in) and
/// that its contact group and deployment are the project's, inside `tx`.
async fn check_rule(
    tx: &mut Tx,
    project_id: &str,
    body: &NewAlertRule,
) -> Result<CheckedRule, ApiError> {
    let name = Name::parse("name", &body.name)?;
    let condition = Condition::parse(&body.condition)?;
    let (threshold, window_secs) = match condition {
        Condition::JobFailed | Condition::OrphanJob => (0, 0),
        Condition::Restarts => (
            ranged("threshold", body.threshold.unwrap_or(0), 0..=1000)?,
            ranged("window_secs", body.window_secs.unwrap_or(600), 10..=86_400)?,
        ),
        Condition::StateMismatch => (
            0,
            ranged("window_secs", body.window_secs.unwrap_or(300), 1..=86_400)?,
        ),
        Condition::CheckpointFailures => (
            ranged("threshold", body.threshold.unwrap_or(0), 0..=1000)?,
            ranged("window_secs", body.window_secs.unwrap_or(600), 10..=86_400)?,
        ),
        // The product's P0: no successful checkpoint in 5 minutes.
        Condition::NoCheckpoint => (
            0,
            ranged("window_secs", body.window_secs.unwrap_or(300), 10..=86_400)?,
        ),
        // Records per second below which the input counts as stopped.
        Condition::InputStopped => (
            ranged("threshold", body.threshold.unwrap_or(1), 1..=100_000_000)?,
            ranged("window_secs", body.window_secs.unwrap_or(300), 1..=86_400)?,
        ),
        // Percent of the time backpressured.
        Condition::BackpressureHigh => (
            ranged("threshold", body.threshold.unwrap_or(50), 1..=100)?,
            ranged("window_secs", body.window_secs.unwrap_or(300), 1..=86_400)?,
        ),
        // Milliseconds of event-time lag.
        Condition::LagHigh => (
            ranged(
                "threshold",
                body.threshold.unwrap_or(60_000),
                1..=86_400_000,
            )?,
            ranged("window_secs", body.window_secs.unwrap_or(300), 1..=86_400)?,
        ),
        // Records waiting.
        Condition::PendingRecordsHigh => (
            ranged(
                "threshold",
                body.threshold.unwrap_or(100_000),
                1..=i64::MAX / 2,
            )?,
            ranged("window_secs", body.window_secs.unwrap_or(300), 1..=86_400)?,
        ),
    };
    let severity = body.severity.clone().unwrap_or_else(|| "P1".to_owned());
    if !["P0", "P1", "P2", "P3"].contains(&severity.as_str()) {
        return Err(ApiError::invalid(
            "severity",
            "severity is P0, P1, P2 or P3",
        ));
    }
    let repeat_secs = ranged("repeat_secs", body.repeat_secs.unwrap_or(0), 0..=604_800)?;
    if repeat_secs > 0 && repeat_secs < 60 {
        return Err(ApiError::invalid(
            "repeat_secs",
            "reminders are at least 60 s apart (or 0 for none)",
        ));
    }
    let (group,): (i64,) =
        sqlx::query_as("select count(*) from contact_groups where id = $1 and project_id = $2")
            .bind(&body.contact_group_id)
            .bind(project_id)
            .fetch_one(&mut **tx)
            .await?;
    if group == 0 {
        return Err(ApiError::invalid(
            "contact_group_id",
            "not a contact group of this project",
        ));
    }
    if let Some(d) = &body.deployment_id {
        let (found,): (i64,) =
            sqlx::query_as("select count(*) from deployments where id = $1 and project_id = $2")
                .bind(d)
                .bind(project_id)
                .fetch_one(&mut **tx)
                .await?;
        if found == 0 {
            return Err(ApiError::invalid(
                "deployment_id",
                "not a deployment of this project",
            ));
        }
    }
    Ok(CheckedRule {
        name: name.as_str().to_owned(),
        condition,
        threshold,
        window_secs,
        severity,
        repeat_secs,
    })
}

#[utoipa::path(post, path = "/projects/{project_id}/alert-rules", tag = "alerts", params(("project_id" = String, Path)),
    request_body = NewAlertRule,
    responses((status = 201, body = AlertRule), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_alert_rule(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Json(body): Json<NewAlertRule>,
) -> ApiResult<(StatusCode, JsonResponse<AlertRule>)> {
    let mut tx = state.db.begin_write().await?;
    let rule = check_rule(&mut tx, access.project_id(), &body).await?;
    let CheckedRule {
        name,
        condition,
        threshold,
        window_secs,
        severity,
        repeat_secs,
    } = rule;
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "insert into alert_rules (id, project_id, name, deployment_id, condition, threshold, window_secs, severity,
                                  contact_group_id, repeat_secs, enabled, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12)",
    )
    .bind(&id)
    .bind(access.project_id())
    .bind(&name)
    .bind(&body.deployment_id)
    .bind(condition.as_str())
    .bind(threshold)
    .bind(window_secs)
    .bind(&severity)
    .bind(&body.contact_group_id)
    .bind(repeat_secs)
    .bind(access.user_id())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(rule_name_taken)?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(AlertRule {
            id,
            name,
            deployment_id: body.deployment_id,
            condition: condition.as_str().to_owned(),
            threshold,
            window_secs,
            severity,
            contact_group_id: body.contact_group_id,
            repeat_secs,
            enabled: true,
            created_at: rfc3339(now),
        }),
    ))
}

type RuleRow = (
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    String,
    String,
    i64,
    i64,
    i64,
);

#[utoipa::path(get, path = "/projects/{project_id}/alert-rules", tag = "alerts", params(("project_id" = String, Path)),
    responses((status = 200, body = Vec<AlertRule>), (status = 404, body = ErrorBody)))]
pub async fn list_alert_rules(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
) -> ApiResult<JsonResponse<Vec<AlertRule>>> {
    let rows: Vec<RuleRow> = sqlx::query_as(
        "select id, name, deployment_id, condition, threshold, window_secs, severity, contact_group_id, repeat_secs, enabled, created_at
           from alert_rules where project_id = $1 order by name",
    )
    .bind(access.project_id())
    .fetch_all(&state.db.pool)
    .await?;
    Ok(JsonResponse(
        rows.into_iter()
            .map(
                |(
                    id,
                    name,
                    deployment_id,
                    condition,
                    threshold,
                    window_secs,
                    severity,
                    contact_group_id,
                    repeat_secs,
                    enabled,
                    at,
                )| {
                    AlertRule {
                        id,
                        name,
                        deployment_id,
                        condition,
                        threshold,
                        window_secs,
                        severity,
                        contact_group_id,
                        repeat_secs,
                        enabled: enabled == 1,
                        created_at: rfc3339(at),
                    }
                },
            )
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleChange {
    pub enabled: Option<bool>,
    pub name: Option<String>,
    pub threshold: Option<i64>,
    pub window_secs: Option<i64>,
    #[schema(pattern = "^P[0-3]$")]
    pub severity: Option<String>,
    pub contact_group_id: Option<String>,
    /// 0: no reminders. At most a week.
    #[schema(minimum = 0, maximum = 604800)]
    pub repeat_secs: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct StoredRule {
    name: String,
    deployment_id: Option<String>,
    condition: String,
    threshold: i64,
    window_secs: i64,
    severity: String,
    contact_group_id: String,
    repeat_secs: i64,
    enabled: i64,
}

/// Changes a rule (its condition and deployment stay: another watch is another rule),
/// checked as a new one would be, or turns it on or off. What it has firing ends now,
/// unannounced, when it is turned off or its threshold or window change: the next pass
/// judges by the new ones.
#[utoipa::path(patch, path = "/projects/{project_id}/alert-rules/{rule_id}", tag = "alerts",
    params(("project_id" = String, Path), ("rule_id" = String, Path)), request_body = RuleChange,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_alert_rule(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, rule_id)): Path<(String, String)>,
    Json(change): Json<RuleChange>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let current: Option<StoredRule> = sqlx::query_as(
        "select name, deployment_id, condition, threshold, window_secs, severity, contact_group_id, repeat_secs, enabled
           from alert_rules where id = $1 and project_id = $2",
    )
    .bind(&rule_id)
    .bind(access.project_id())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(current) = current else {
        return Err(ApiError::not_found("alert rule"));
    };
    let (stored_threshold, stored_window) = (current.threshold, current.window_secs);
    let merged = NewAlertRule {
        name: change.name.unwrap_or(current.name),
        deployment_id: current.deployment_id,
        condition: current.condition,
        threshold: Some(change.threshold.unwrap_or(current.threshold)),
        window_secs: Some(change.window_secs.unwrap_or(current.window_secs)),
        severity: Some(change.severity.unwrap_or(current.severity)),
        contact_group_id: change.contact_group_id.unwrap_or(current.contact_group_id),
        repeat_secs: Some(change.repeat_secs.unwrap_or(current.repeat_secs)),
    };
    let rule = check_rule(&mut tx, access.project_id(), &merged).await?;
    let enabled = change.enabled.unwrap_or(current.enabled == 1);
    // What the condition is judged by; a new name, severity, group or reminder changes
    // how it is told, and a firing alert goes on under them.
    let terms_change = rule.threshold != stored_threshold || rule.window_secs != stored_window;
    sqlx::query(
        "update alert_rules set name = $1, threshold = $2, window_secs = $3, severity = $4, contact_group_id = $5,
                                repeat_secs = $6, enabled = $7
          where id = $8 and project_id = $9",
    )
    .bind(&rule.name)
    .bind(rule.threshold)
    .bind(rule.window_secs)
    .bind(&rule.severity)
    .bind(&merged.contact_group_id)
    .bind(rule.repeat_secs)
    .bind(i64::from(enabled))
    .bind(&rule_id)
    .bind(access.project_id())
    .execute(&mut *tx)
    .await
    .map_err(rule_name_taken)?;
    if !enabled || terms_change {
        sqlx::query("update alerts set state = 'resolved', resolved_at = $1 where rule_id = $2 and state = 'firing'")
            .bind(now_ms())
            .bind(&rule_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/projects/{project_id}/alert-rules/{rule_id}", tag = "alerts",
    params(("project_id" = String, Path), ("rule_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_alert_rule(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, rule_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    delete_in_project(
        &state,
        "alert_rules",
        &rule_id,
        access.project_id(),
        "alert rule",
    )
    .await
}

/// Deletes a row of `table` (one of this module's) by id, within the project only.
async fn delete_in_project(
    state: &AppState,
    table: &'static str,
    id: &str,
    project_id: &str,
    what: &str,
) -> ApiResult<StatusCode> {
    let done = sqlx::query(&format!(
        "delete from {table} where id = $1 and project_id = $2"
    ))
    .bind(id)
    .bind(project_id)
    .execute(&state.db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found(what));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSilence {
    /// Mute one rule (with `deployment_id`: only for that deployment).
    pub rule_id: Option<String>,
    /// Mute every rule for one deployment.
    pub deployment_id: Option<String>,
    /// Default: now.
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: DateTime<Utc>,
    /// Why alerts are muted: some text beyond spaces.
    #[schema(pattern = "\\S", max_length = 500)]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct Silence {
    pub id: String,
    pub rule_id: Option<String>,
    pub deployment_id: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[utoipa::path(post, path = "/projects/{project_id}/silences", tag = "alerts", params(("project_id" = String, Path)),
    request_body = NewSilence,
    responses((status = 201, body = Silence), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_silence(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Json(body): Json<NewSilence>,
) -> ApiResult<(StatusCode, JsonResponse<Silence>)> {
    if body.rule_id.is_none() && body.deployment_id.is_none() {
        return Err(ApiError::invalid(
            "rule_id",
            "a silence names a rule, a deployment or both",
        ));
    }
    let reason = bounded_text("reason", body.reason.trim(), 500)?;
    if reason.is_empty() {
        return Err(ApiError::invalid("reason", "say why alerts are muted"));
    }
    let now = now_ms();
    let starts = body.starts_at.map_or(now, |t| t.timestamp_millis());
    let ends = body.ends_at.timestamp_millis();
    if ends <= starts.max(now) {
        return Err(ApiError::invalid(
            "ends_at",
            "ends_at must be after starts_at and in the future",
        ));
    }
    if ends - starts > 30 * 86_400_000 {
        return Err(ApiError::invalid(
            "ends_at",
            "a silence lasts at most 30 days",
        ));
    }
    for (field, table, id) in [
        ("rule_id", "alert_rules", &body.rule_id),
        ("deployment_id", "deployments", &body.deployment_id),
    ] {
        if let Some(id) = id {
            let (found,): (i64,) = sqlx::query_as(&format!(
                "select count(*) from {table} where id = $1 and project_id = $2"
            ))
            .bind(id)
            .bind(access.project_id())
            .fetch_one(&state.db.pool)
            .await?;
            if found == 0 {
                return Err(ApiError::invalid(
                    field,
                    format!(
                        "not a {} of this project",
                        &table[..table.len() - 1].replace('_', " ")
                    ),
                ));
            }
        }
    }
    let id = new_id();
    sqlx::query(
        "insert into silences (id, project_id, rule_id, deployment_id, starts_at, ends_at, reason, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(access.project_id())
    .bind(&body.rule_id)
    .bind(&body.deployment_id)
    .bind(starts)
    .bind(ends)
    .bind(&reason)
    .bind(access.user_id())
    .bind(now)
    .execute(&state.db.pool)
    .await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(Silence {
            id,
            rule_id: body.rule_id,
            deployment_id: body.deployment_id,
            starts_at: rfc3339(starts),
            ends_at: rfc3339(ends),
            reason,
            created_by: access.user_id().to_owned(),
            created_at: rfc3339(now),
        }),
    ))
}

type SilenceRow = (
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    String,
    String,
    i64,
);

/// Silences in force or to come.
#[utoipa::path(get, path = "/projects/{project_id}/silences", tag = "alerts", params(("project_id" = String, Path)),
    responses((status = 200, body = Vec<Silence>), (status = 404, body = ErrorBody)))]
pub async fn list_silences(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
) -> ApiResult<JsonResponse<Vec<Silence>>> {
    let rows: Vec<SilenceRow> = sqlx::query_as(
        "select id, rule_id, deployment_id, starts_at, ends_at, reason, created_by, created_at
           from silences where project_id = $1 and ends_at > $2 order by starts_at",
    )
    .bind(access.project_id())
    .bind(now_ms())
    .fetch_all(&state.db.pool)
    .await?;
    Ok(JsonResponse(
        rows.into_iter()
            .map(
                |(id, rule_id, deployment_id, starts, ends, reason, created_by, at)| Silence {
                    id,
                    rule_id,
                    deployment_id,
                    starts_at: rfc3339(starts),
                    ends_at: rfc3339(ends),
                    reason,
                    created_by,
                    created_at: rfc3339(at),
                },
            )
            .collect(),
    ))
}

/// Ends a silence now.
#[utoipa::path(delete, path = "/projects/{project_id}/silences/{silence_id}", tag = "alerts",
    params(("project_id" = String, Path), ("silence_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_silence(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, silence_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    delete_in_project(
        &state,
        "silences",
        &silence_id,
        access.project_id(),
        "silence",
    )
    .await
}

#[derive(Serialize, ToSchema)]
pub struct Alert {
    pub id: String,
    pub rule_id: String,
    pub deployment_id: String,
    /// `firing` or `resolved`.
    pub state: String,
    pub summary: String,
    pub started_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// When people were last told; absent while it was silenced throughout.
    pub notified_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `firing` or `resolved`.
    #[param(pattern = "^(firing|resolved)?$")]
    pub state: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

type AlertRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

/// The project's alerts, newest first: what fires now and what fired before.
#[utoipa::path(get, path = "/projects/{project_id}/alerts", tag = "alerts", params(("project_id" = String, Path), AlertQuery),
    responses((status = 200, body = Paginated<Alert>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_alerts(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Query(q): Query<AlertQuery>,
) -> ApiResult<JsonResponse<Paginated<Alert>>> {
    let wanted = q.state.unwrap_or_default();
    if !["", "firing", "resolved"].contains(&wanted.as_str()) {
        return Err(ApiError::invalid("state", "state is firing or resolved"));
    }
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let before = page.before();
    let rows: Vec<AlertRow> = sqlx::query_as(
        "select id, rule_id, deployment_id, state, summary, started_at, resolved_at, notified_at from alerts
          where project_id = $1 and id < $2 and ($3 = '' or state = $3) order by id desc limit $4",
    )
    .bind(access.project_id())
    .bind(&before)
    .bind(&wanted)
    .bind(page.limit + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let items = rows
        .into_iter()
        .map(
            |(id, rule_id, deployment_id, state, summary, started, resolved, notified)| Alert {
                id,
                rule_id,
                deployment_id,
                state,
                summary,
                started_at: rfc3339(started),
                resolved_at: resolved.map(rfc3339),
                notified_at: notified.map(rfc3339),
            },
        )
        .collect();
    Ok(JsonResponse(Paginated::from_rows(items, &page, |a| &a.id)))
}
