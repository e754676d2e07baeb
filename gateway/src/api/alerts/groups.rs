//! Contact groups: who is told (emails and the account's notification channels), and
//! a test send to each of them. Project admins manage them: they hold people's
//! addresses.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

use crate::access::{can, ProjectGuard};
use crate::api::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use delivery::Message;
use store::db::{new_id, now_ms, Tx};
use store::names::Name;

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
) -> Result<CheckedGroup, Error> {
    let name = Name::parse("name", &body.name)?;
    let mut emails = Vec::with_capacity(body.emails.len());
    for raw in &body.emails {
        emails.push(store::names::email("emails", raw)?);
    }
    emails.sort();
    emails.dedup();
    let mut channel_ids = body.channel_ids.clone();
    channel_ids.sort();
    channel_ids.dedup();
    if emails.is_empty() && channel_ids.is_empty() {
        return Err(Error::invalid(
            "emails",
            "a contact group needs at least one email address or channel",
        ));
    }
    if emails.len() + channel_ids.len() > MAX_DESTINATIONS {
        return Err(Error::invalid(
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
            return Err(Error::invalid(
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
        sqlx::Error::Database(d) if d.is_unique_violation() => Error::already_exists(
            "name",
            "the project already has a contact group with this name",
        )
        .into(),
        other => other.into(),
    }
}

/// Sets the channels a group sends to.
async fn set_group_channels(
    tx: &mut Tx,
    group_id: &str,
    channel_ids: &[String],
) -> Result<(), Error> {
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
    .bind(serde_json::to_string(&group.emails).map_err(Error::internal)?)
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
    .bind(serde_json::to_string(&group.emails).map_err(Error::internal)?)
    .bind(&group_id)
    .bind(access.project_id())
    .fetch_optional(&mut *tx)
    .await
    .map_err(group_name_taken)?;
    let Some((created_at,)) = created else {
        return Err(Error::not_found("contact group").into());
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
        return Err(Error::conflict(
            "in_use",
            format!("{used} alert rule(s) send to this group; point them elsewhere or delete them first"),
        ).into());
    }
    super::delete_in_project(
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
        return Err(Error::not_found("contact group").into());
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
        let Some(outcome) = crate::api::channels::send_to_channel(
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
            channel: kind.as_str().to_owned(),
            destination: channel_id,
            delivered: outcome.is_ok(),
            error: outcome.err().map(|e| e.message),
        });
    }
    Ok(JsonResponse(results))
}
