//! What fired and when: the alert history, newest first.

use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::alerts::{AlertRow, AlertState};
use store::Error;
use utoipa::{IntoParams, ToSchema};

use crate::access::{can, ProjectGuard};
use crate::api::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Query;
use crate::pagination::{PageQuery, Paginated};

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

impl From<AlertRow> for Alert {
    fn from(row: AlertRow) -> Self {
        Alert {
            id: row.id,
            rule_id: row.rule_id,
            deployment_id: row.deployment_id,
            state: row.state.as_str().to_owned(),
            summary: row.summary,
            started_at: rfc3339(row.started_at),
            resolved_at: row.resolved_at.map(rfc3339),
            notified_at: row.notified_at.map(rfc3339),
        }
    }
}

/// The project's alerts, newest first: what fires now and what fired before.
#[utoipa::path(get, path = "/projects/{project_id}/alerts", tag = "alerts", params(("project_id" = String, Path), AlertQuery),
    responses((status = 200, body = Paginated<Alert>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_alerts(
    access: ProjectGuard<can::Read>,
    Query(q): Query<AlertQuery>,
) -> ApiResult<JsonResponse<Paginated<Alert>>> {
    let wanted = match q.state.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            AlertState::parse(text)
                .ok_or_else(|| Error::invalid("state", "state is firing or resolved"))?,
        ),
    };
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let rows = access.scope().alerts().list(&page, wanted).await?;
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter().map(Alert::from).collect(),
        &page,
        |a| &a.id,
    )))
}
