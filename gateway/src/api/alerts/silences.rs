//! Silences: a rule (or a deployment, or both) muted until a given time.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

use crate::access::{can, ProjectGuard};
use crate::api::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use store::db::{new_id, now_ms};
use store::names::bounded_text;

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
        return Err(
            Error::invalid("rule_id", "a silence names a rule, a deployment or both").into(),
        );
    }
    let reason = bounded_text("reason", body.reason.trim(), 500)?;
    if reason.is_empty() {
        return Err(Error::invalid("reason", "say why alerts are muted").into());
    }
    let now = now_ms();
    let starts = body.starts_at.map_or(now, |t| t.timestamp_millis());
    let ends = body.ends_at.timestamp_millis();
    if ends <= starts.max(now) {
        return Err(Error::invalid(
            "ends_at",
            "ends_at must be after starts_at and in the future",
        )
        .into());
    }
    if ends - starts > 30 * 86_400_000 {
        return Err(Error::invalid("ends_at", "a silence lasts at most 30 days").into());
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
                return Err(Error::invalid(
                    field,
                    format!(
                        "not a {} of this project",
                        &table[..table.len() - 1].replace('_', " ")
                    ),
                )
                .into());
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
    super::delete_in_project(
        &state,
        "silences",
        &silence_id,
        access.project_id(),
        "silence",
    )
    .await
}
