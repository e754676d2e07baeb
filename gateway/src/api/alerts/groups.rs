//! Contact groups: who is told (emails and the account's notification channels), and
//! a test send to each of them. Project admins manage them: they hold people's
//! addresses.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::contact_groups::ContactGroupRow;
use store::{Error, ProjectWrite};
use utoipa::ToSchema;

use crate::access::{can, ProjectGuard};
use crate::api::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use delivery::Message;
use store::db::new_id;
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

impl From<ContactGroupRow> for ContactGroup {
    fn from(row: ContactGroupRow) -> Self {
        ContactGroup {
            id: row.id,
            name: row.name,
            emails: stored_emails(&row.emails),
            channel_ids: row.channel_ids,
            created_at: rfc3339(row.created_at),
        }
    }
}

/// A group's addresses from their stored form, a JSON array.
fn stored_emails(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// A contact group's fields once checked: a name, sorted unique addresses and channels.
struct CheckedGroup {
    name: String,
    emails: Vec<String>,
    channel_ids: Vec<String>,
}

impl CheckedGroup {
    /// The addresses in their stored form, a JSON array.
    fn stored_emails(&self) -> Result<String, Error> {
        serde_json::to_string(&self.emails).map_err(Error::internal)
    }
}

/// Checks a contact group: valid addresses, at least one and at most
/// `MAX_DESTINATIONS` destinations, channels of the caller's account.
async fn check_group(
    write: &mut ProjectWrite,
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
        if !write
            .contact_groups()
            .is_account_channel(channel_id)
            .await?
        {
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

#[utoipa::path(post, path = "/projects/{project_id}/contact-groups", tag = "alerts", params(("project_id" = String, Path)),
    request_body = NewContactGroup,
    responses((status = 201, body = ContactGroup), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_contact_group(
    access: ProjectGuard<can::ManageConnections>,
    Json(body): Json<NewContactGroup>,
) -> ApiResult<(StatusCode, JsonResponse<ContactGroup>)> {
    let mut write = access.scope().write().await?;
    let group = check_group(&mut write, &body).await?;
    let row = write
        .contact_groups()
        .insert(&group.name, &group.stored_emails()?, access.user_id())
        .await?;
    write
        .contact_groups()
        .set_channels(&row.id, &group.channel_ids)
        .await?;
    write.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(ContactGroup {
            id: row.id,
            name: group.name,
            emails: group.emails,
            channel_ids: group.channel_ids,
            created_at: rfc3339(row.created_at),
        }),
    ))
}

/// Replaces a contact group's name and destinations, checked as a new group is; the
/// rules sending to it send to the new destinations from their next message on.
#[utoipa::path(put, path = "/projects/{project_id}/contact-groups/{group_id}", tag = "alerts",
    params(("project_id" = String, Path), ("group_id" = String, Path)), request_body = NewContactGroup,
    responses((status = 200, body = ContactGroup), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_contact_group(
    access: ProjectGuard<can::ManageConnections>,
    Path((_project_id, group_id)): Path<(String, String)>,
    Json(body): Json<NewContactGroup>,
) -> ApiResult<JsonResponse<ContactGroup>> {
    let mut write = access.scope().write().await?;
    let group = check_group(&mut write, &body).await?;
    let created_at = write
        .contact_groups()
        .update(&group_id, &group.name, &group.stored_emails()?)
        .await?;
    write
        .contact_groups()
        .set_channels(&group_id, &group.channel_ids)
        .await?;
    write.commit().await?;
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
    access: ProjectGuard<can::Read>,
) -> ApiResult<JsonResponse<Vec<ContactGroup>>> {
    let rows = access.scope().contact_groups().list().await?;
    Ok(JsonResponse(
        rows.into_iter().map(ContactGroup::from).collect(),
    ))
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
    access: ProjectGuard<can::Read>,
) -> ApiResult<JsonResponse<Vec<ChannelChoice>>> {
    let rows = access.scope().contact_groups().channel_choices().await?;
    Ok(JsonResponse(
        rows.into_iter()
            .map(|c| ChannelChoice {
                id: c.id,
                kind: c.kind,
                name: c.name,
            })
            .collect(),
    ))
}

/// Removes a contact group no rule uses any more.
#[utoipa::path(delete, path = "/projects/{project_id}/contact-groups/{group_id}", tag = "alerts",
    params(("project_id" = String, Path), ("group_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_contact_group(
    access: ProjectGuard<can::ManageConnections>,
    Path((_project_id, group_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    let used = write.contact_groups().rules_using(&group_id).await?;
    if used > 0 {
        return Err(Error::conflict(
            "in_use",
            format!("{used} alert rule(s) send to this group; point them elsewhere or delete them first"),
        ).into());
    }
    write.contact_groups().delete(&group_id).await?;
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
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
    let destinations = access
        .scope()
        .contact_groups()
        .destinations(&group_id)
        .await?;
    let emails = stored_emails(&destinations.emails);
    let channels = destinations.channels;
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
        let Some(channel) = access.scope().account_channel(&channel_id).await? else {
            continue; // removed since the group was read
        };
        let outcome = crate::api::channels::send_to_channel(
            &state,
            &channel_id,
            channel,
            &message(format!("sluice-test-{}", new_id())),
        )
        .await?;
        results.push(TestResult {
            channel: kind.as_str().to_owned(),
            destination: channel_id,
            delivered: outcome.is_ok(),
            error: outcome.err().map(|e| e.message),
        });
    }
    Ok(JsonResponse(results))
}
