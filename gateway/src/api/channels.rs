//! Where an account's notices go besides the inbox and email: SMS numbers, DingTalk
//! robots and webhooks (owners and admins), a test send through one of them, and the
//! outbox's deliveries with their outcome and last error.
//!
//! A channel's address and secret are encrypted at rest, bound to the channel's row;
//! the API never returns a secret and shows only a masked address.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::channels::{ChannelRow, DeliveryRow, NewChannel as NewChannelRow, SealedChannel};
use store::Error;
use utoipa::{IntoParams, ToSchema};

use super::rfc3339;
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use delivery::Message;
use domain::channels::{associated, open_channel, target, Channel};
use store::db::new_id;
use store::names::Name;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    /// `sms`, `dingtalk` or `webhook`.
    pub kind: String,
    pub name: String,
    /// sms: a phone number (`+8613800000000`); dingtalk: the robot's webhook URL with
    /// its access token; webhook: an http(s) URL.
    pub address: String,
    /// dingtalk: the robot's signing secret (`SEC...`); webhook: the HMAC key, at
    /// least 16 characters. Write-only.
    pub secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NotificationChannel {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// The address with its sensitive part hidden.
    pub address: String,
    pub has_secret: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct TestSend {
    pub delivered: bool,
    /// Why it was not, in the receiver's words.
    pub error: Option<String>,
    /// Whether retrying could help.
    pub permanent: Option<bool>,
}

/// One attempt to send `message` through `channel` (one of the account's, by id
/// `channel_id`), right away (not through the outbox).
pub async fn send_to_channel(
    state: &AppState,
    channel_id: &str,
    channel: SealedChannel,
    message: &Message,
) -> Result<Result<(), delivery::DeliveryError>, Error> {
    let (address, secret) = open_channel(
        state,
        channel_id,
        &channel.address_enc,
        channel.secret_enc.as_deref(),
    )
    .map_err(|e| Error::internal(e.to_string()))?;
    let target = target(channel.kind, address, secret);
    Ok(state.channels.send(&target, message).await)
}

/// Where a channel's messages go, from its kind and decrypted settings.
fn http_url(field: &str, value: &str) -> Result<(), Error> {
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 2000
        && !value.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "address must be an http:// or https:// URL of at most 2000 characters",
        ))
    }
}

fn validate(kind: Channel, body: &NewChannel) -> Result<Option<String>, Error> {
    let address = body.address.trim();
    let secret = body
        .secret
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match kind {
        Channel::Sms => {
            let digits = address.strip_prefix('+').unwrap_or(address);
            if !(6..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(Error::invalid(
                    "address",
                    "an SMS address is a phone number of 6 to 15 digits, optionally after +",
                ));
            }
            if secret.is_some() {
                return Err(Error::invalid(
                    "secret",
                    "an SMS channel has no secret; the provider's keys are server configuration",
                ));
            }
            Ok(None)
        }
        Channel::DingTalk => {
            http_url("address", address)?;
            let secret = secret.ok_or_else(|| {
                Error::invalid(
                    "secret",
                    "a DingTalk robot needs its signing secret (the robot's \"sign\" security setting)",
                )
            })?;
            Ok(Some(secret.to_owned()))
        }
        Channel::Webhook => {
            http_url("address", address)?;
            let secret = secret.filter(|s| s.len() >= 16).ok_or_else(|| {
                Error::invalid(
                    "secret",
                    "a webhook needs a signing secret of at least 16 characters",
                )
            })?;
            Ok(Some(secret.to_owned()))
        }
        Channel::Email => Err(Error::invalid(
            "kind",
            "email goes to each person's own address; a channel is sms, dingtalk or webhook",
        )),
    }
}

/// An address as lists show it: a phone number's last four digits, a URL's host.
fn mask(kind: &str, address: &str) -> String {
    if kind == "sms" {
        let keep: String = address
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return format!("****{keep}");
    }
    let rest = address.split_once("://").map_or(address, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    format!(
        "{}://{host}/…",
        address.split("://").next().unwrap_or("https")
    )
}

/// Registers a channel; every later notice of the account is also sent there.
#[utoipa::path(post, path = "/account/notification-channels", tag = "notices", request_body = NewChannel,
    responses((status = 201, body = NotificationChannel), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_channel(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageNotifications>,
    Json(body): Json<NewChannel>,
) -> ApiResult<(StatusCode, JsonResponse<NotificationChannel>)> {
    let kind = Channel::from_request(body.kind.trim())?;
    let name = Name::parse("name", &body.name)?;
    let secret = validate(kind, &body)?;
    let address = body.address.trim().to_owned();
    let id = new_id();
    let sealed_address = state
        .secrets
        .seal(address.as_bytes(), &associated(&id, "address"))
        .map_err(|e| Error::internal(e.to_string()))?;
    let sealed_secret = secret
        .as_deref()
        .map(|s| state.secrets.seal(s.as_bytes(), &associated(&id, "secret")))
        .transpose()
        .map_err(|e| Error::internal(e.to_string()))?;
    let mut write = access.scope().write().await?;
    let row = write
        .channels()
        .insert(&NewChannelRow {
            id: &id,
            kind,
            name: name.as_str(),
            address_enc: &sealed_address,
            secret_enc: sealed_secret.as_deref(),
            created_by: access.user_id(),
        })
        .await?;
    write.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(NotificationChannel {
            id: row.id,
            kind: row.kind,
            name: row.name,
            address: mask(kind.as_str(), &address),
            has_secret: secret.is_some(),
            created_by: row.created_by,
            created_at: rfc3339(row.created_at),
        }),
    ))
}

/// The account's channels; secrets are never shown.
#[utoipa::path(get, path = "/account/notification-channels", tag = "notices",
    responses((status = 200, body = Vec<NotificationChannel>), (status = 403, body = ErrorBody)))]
pub async fn list_channels(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageNotifications>,
) -> ApiResult<JsonResponse<Vec<NotificationChannel>>> {
    let rows = access.scope().channels().list().await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(listed(&state, row)?);
    }
    Ok(JsonResponse(items))
}

/// A channel as lists show it: its address decrypted and masked.
fn listed(state: &AppState, row: ChannelRow) -> Result<NotificationChannel, Error> {
    let (address, _) = open_channel(state, &row.id, &row.address_enc, None)
        .map_err(|e| Error::internal(e.to_string()))?;
    Ok(NotificationChannel {
        address: mask(&row.kind, &address),
        id: row.id,
        kind: row.kind,
        name: row.name,
        has_secret: row.secret_enc.is_some(),
        created_by: row.created_by,
        created_at: rfc3339(row.created_at),
    })
}

/// Removes a channel; messages still queued for it fail with that reason.
#[utoipa::path(delete, path = "/account/notification-channels/{channel_id}", tag = "notices",
    params(("channel_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_channel(
    access: AccountGuard<can::account::ManageNotifications>,
    Path(channel_id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    write.channels().delete(&channel_id).await?;
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a sample message through a channel right away and says whether it arrived.
#[utoipa::path(post, path = "/account/notification-channels/{channel_id}/test", tag = "notices",
    params(("channel_id" = String, Path)),
    responses((status = 200, body = TestSend), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn test_channel(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageNotifications>,
    Path(channel_id): Path<String>,
) -> ApiResult<JsonResponse<TestSend>> {
    let text = "This is a test message from Sluice: this channel receives the account's notices.";
    let message = Message {
        idempotency_key: format!("sluice-test-{}", new_id()),
        subject: "Sluice test message".to_owned(),
        text: text.to_owned(),
        markdown: text.to_owned(),
    };
    let channel = access
        .scope()
        .channels()
        .sealed(&channel_id)
        .await?
        .ok_or_else(|| Error::not_found("notification channel"))?;
    let outcome = send_to_channel(&state, &channel_id, channel, &message).await?;
    Ok(JsonResponse(match outcome {
        Ok(()) => TestSend {
            delivered: true,
            error: None,
            permanent: None,
        },
        Err(e) => TestSend {
            delivered: false,
            error: Some(e.message),
            permanent: Some(e.permanent),
        },
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Delivery {
    pub id: String,
    /// `notice` (or `alert` for alerts).
    pub source_kind: String,
    pub source_id: String,
    /// `email`, `sms`, `dingtalk` or `webhook`.
    pub channel: String,
    /// The email address, or the channel's id.
    pub recipient: String,
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Sent with every attempt, so the receiver can drop repeats.
    pub idempotency_key: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `sent` or `failed`.
    #[param(pattern = "^(pending|sent|failed)?$")]
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Self {
        Delivery {
            next_attempt_at: (row.status == "pending").then(|| rfc3339(row.next_attempt_at)),
            id: row.id,
            source_kind: row.source_kind,
            source_id: row.source_id,
            channel: row.channel,
            recipient: row.recipient,
            subject: row.subject,
            status: row.status,
            attempts: row.attempts,
            last_error: row.last_error,
            created_at: rfc3339(row.created_at),
            sent_at: row.sent_at.map(rfc3339),
            idempotency_key: row.idempotency_key,
        }
    }
}

/// The account's outgoing messages, newest first, with their outcome.
#[utoipa::path(get, path = "/account/deliveries", tag = "notices", params(DeliveryQuery),
    responses((status = 200, body = Paginated<Delivery>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_deliveries(
    access: AccountGuard<can::account::ManageNotifications>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<JsonResponse<Paginated<Delivery>>> {
    let status = q.status.unwrap_or_default();
    if !["", "pending", "sent", "failed"].contains(&status.as_str()) {
        return Err(Error::invalid(
            "status",
            format!("status is pending, sent or failed, got `{status}`"),
        )
        .into());
    }
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let rows = access.scope().deliveries().list(&page, &status).await?;
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter().map(Delivery::from).collect(),
        &page,
        |d| &d.id,
    )))
}

/// Queues a failed delivery again, with fresh attempts (after its channel was fixed).
#[utoipa::path(post, path = "/account/deliveries/{delivery_id}/retry", tag = "notices",
    params(("delivery_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_delivery(
    access: AccountGuard<can::account::ManageNotifications>,
    Path(delivery_id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    let status = write.deliveries().status(&delivery_id).await?;
    if status != "failed" {
        return Err(Error::conflict(
            "not_failed",
            format!("only a failed delivery can be retried; this one is {status}"),
        )
        .into());
    }
    write.deliveries().retry(&delivery_id).await?;
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
