//! What fired and when: the alert history, newest first.

use axum::extract::State;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::{IntoParams, ToSchema};

use crate::access::{can, ProjectGuard};
use crate::alerts::AlertState;
use crate::api::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Query;
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;

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
    AlertState,
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
    let before = page.before();
    let rows: Vec<AlertRow> = sqlx::query_as(
        "select id, rule_id, deployment_id, state, summary, started_at, resolved_at, notified_at from alerts
          where project_id = $1 and id < $2 and ($3 = '' or state = $3) order by id desc limit $4",
    )
    .bind(access.project_id())
    .bind(&before)
    .bind(wanted.map_or("", AlertState::as_str))
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
                state: state.as_str().to_owned(),
                summary,
                started_at: rfc3339(started),
                resolved_at: resolved.map(rfc3339),
                notified_at: notified.map(rfc3339),
            },
        )
        .collect();
    Ok(JsonResponse(Paginated::from_rows(items, &page, |a| &a.id)))
}
