//! Reading the audit log: account owners and admins, newest first, with filters.

use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::audit::{AuditFilter, AuditRow};
use store::Error;
use utoipa::{IntoParams, ToSchema};

use super::rfc3339;
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Query;
use crate::pagination::{PageQuery, Paginated};

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

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> Self {
        AuditEntry {
            id: row.id,
            project_id: row.project_id,
            actor_user_id: row.actor_user_id,
            actor_credential: row.actor_credential,
            action: row.action,
            method: row.method,
            path: row.path,
            outcome: row.outcome,
            status: row.status,
            request_id: row.request_id,
            created_at: rfc3339(row.created_at),
        }
    }
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

/// Mutations in this account, newest first.
#[utoipa::path(get, path = "/account/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Paginated<AuditEntry>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_audit(
    access: AccountGuard<can::account::ReadAudit>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<JsonResponse<Paginated<AuditEntry>>> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    }
    .page()?;
    let from = q.from.map_or(i64::MIN, |t| t.timestamp_millis());
    let to = q.to.map_or(i64::MAX, |t| t.timestamp_millis());
    if from >= to {
        return Err(Error::invalid("from", "from must be before to").into());
    }
    let filter = AuditFilter {
        project_id: q.project_id.unwrap_or_default(),
        actor_user_id: q.actor_user_id.unwrap_or_default(),
        action: q.action.unwrap_or_default(),
        outcome: q.outcome.unwrap_or_default(),
        from,
        to,
    };
    let rows = access.scope().audit().list(&filter, &page).await?;
    let items = rows.into_iter().map(AuditEntry::from).collect();
    Ok(JsonResponse(Paginated::from_rows(items, &page, |e| &e.id)))
}
