//! The in-site inbox: notices to the caller in the current account, newest first.

use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::Error;
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Path;

#[derive(Serialize, ToSchema)]
pub struct Notice {
    pub id: String,
    /// `product_form_schedule` or `engine_version_schedule`.
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct Inbox {
    pub unread: i64,
    /// The newest 100.
    pub items: Vec<Notice>,
}

#[utoipa::path(get, path = "/notices", tag = "notices",
    responses((status = 200, body = Inbox), (status = 401, body = ErrorBody)))]
pub async fn list_notices(
    access: AccountGuard<can::account::ReadAccountWide>,
) -> ApiResult<JsonResponse<Inbox>> {
    let inboxes = access.scope().inboxes();
    let rows = inboxes.newest(access.user_id()).await?;
    let unread = inboxes.unread(access.user_id()).await?;
    Ok(JsonResponse(Inbox {
        unread,
        items: rows
            .into_iter()
            .map(|row| Notice {
                id: row.id,
                kind: row.kind,
                subject: row.subject,
                body: row.body,
                created_at: rfc3339(row.created_at),
                read_at: row.read_at.map(rfc3339),
            })
            .collect(),
    }))
}

/// Marks one of the caller's notices read.
#[utoipa::path(post, path = "/notices/{notice_id}/read", tag = "notices", params(("notice_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    access: AccountGuard<can::account::ReadAccountWide>,
    Path(notice_id): Path<String>,
) -> ApiResult<StatusCode> {
    let marked = access
        .scope()
        .inboxes()
        .mark_read(access.user_id(), &notice_id)
        .await?;
    if !marked {
        return Err(Error::not_found("notice").into());
    }
    Ok(StatusCode::NO_CONTENT)
}
