//! The in-site inbox: notices to the caller in the current account, newest first.

use axum::extract::State;
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
use crate::AppState;
use store::db::now_ms;

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
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadAccountWide>,
) -> ApiResult<JsonResponse<Inbox>> {
    let rows: Vec<(String, String, String, String, i64, Option<i64>)> = sqlx::query_as(
        "select id, kind, subject, body, created_at, read_at from notices
          where user_id = $1 and account_id = $2 order by id desc limit 100",
    )
    .bind(access.user_id())
    .bind(access.account().as_str())
    .fetch_all(&state.db.pool)
    .await?;
    let (unread,): (i64,) = sqlx::query_as(
        "select count(*) from notices where user_id = $1 and account_id = $2 and read_at is null",
    )
    .bind(access.user_id())
    .bind(access.account().as_str())
    .fetch_one(&state.db.pool)
    .await?;
    Ok(JsonResponse(Inbox {
        unread,
        items: rows
            .into_iter()
            .map(|(id, kind, subject, body, created, read)| Notice {
                id,
                kind,
                subject,
                body,
                created_at: rfc3339(created),
                read_at: read.map(rfc3339),
            })
            .collect(),
    }))
}

/// Marks one of the caller's notices read.
#[utoipa::path(post, path = "/notices/{notice_id}/read", tag = "notices", params(("notice_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadAccountWide>,
    Path(notice_id): Path<String>,
) -> ApiResult<StatusCode> {
    let done = sqlx::query(
        "update notices set read_at = coalesce(read_at, $1) where id = $2 and user_id = $3 and account_id = $4",
    )
    .bind(now_ms())
    .bind(&notice_id)
    .bind(access.user_id())
    .bind(access.account().as_str())
    .execute(&state.db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("notice").into());
    }
    Ok(StatusCode::NO_CONTENT)
}
