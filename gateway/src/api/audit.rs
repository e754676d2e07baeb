//! Reading the audit log: account owners and admins, newest first, with filters.

use axum::extract::State;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::{IntoParams, ToSchema};

use super::rfc3339;
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Query;
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub project_id: Option<String>,
    pub actor_user_id: String,
    /// `session:<id>` or `token:<id>`.
    pub actor_credential: String,
    /// The API operation, e.g. `create_job`.
    pub action: String,
    pub method: String,
    pub path: String,
    /// `success`, `denied` or `failed`.
    pub outcome: String,
    pub status: i64,
    pub request_id: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub project_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// RFC 3339: only entries at or after this instant.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// RFC 3339: only entries before this instant.
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

type AuditRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
);

/// Mutations in this account, newest first.
#[utoipa::path(get, path = "/account/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Paginated<AuditEntry>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ReadAudit>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<JsonResponse<Paginated<AuditEntry>>> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    }
    .page()?;
    let before = page.before();
    let from = q.from.map_or(i64::MIN, |t| t.timestamp_millis());
    let to = q.to.map_or(i64::MAX, |t| t.timestamp_millis());
    if from >= to {
        return Err(Error::invalid("from", "from must be before to").into());
    }
    let rows: Vec<AuditRow> = sqlx::query_as(
        "select id, project_id, actor_user_id, actor_credential, action, method, path, outcome, status, request_id, created_at
           from audit_log
          where account_id = $1 and id < $2
            and ($3 = '' or project_id = $3) and ($4 = '' or actor_user_id = $4)
            and ($5 = '' or action = $5) and ($6 = '' or outcome = $6)
            and created_at >= $8 and created_at < $9
          order by id desc limit $7",
    )
    .bind(access.account().as_str())
    .bind(&before)
    .bind(q.project_id.unwrap_or_default())
    .bind(q.actor_user_id.unwrap_or_default())
    .bind(q.action.unwrap_or_default())
    .bind(q.outcome.unwrap_or_default())
    .bind(page.limit + 1)
    .bind(from)
    .bind(to)
    .fetch_all(&state.db.pool)
    .await?;
    let items = rows
        .into_iter()
        .map(
            |(
                id,
                project_id,
                actor_user_id,
                actor_credential,
                action,
                method,
                path,
                outcome,
                status,
                request_id,
                at,
            )| AuditEntry {
                id,
                project_id,
                actor_user_id,
                actor_credential,
                action,
                method,
                path,
                outcome,
                status,
                request_id,
                created_at: rfc3339(at),
            },
        )
        .collect();
    Ok(JsonResponse(Paginated::from_rows(items, &page, |e| &e.id)))
}
