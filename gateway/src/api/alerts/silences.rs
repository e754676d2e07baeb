//! Silences: a rule (or a deployment, or both) muted until a given time.

use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::alert_silences::SilenceRow;
use store::Error;
use utoipa::ToSchema;

use crate::access::{can, ProjectGuard};
use crate::api::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use store::db::now_ms;
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

impl From<SilenceRow> for Silence {
    fn from(row: SilenceRow) -> Self {
        Silence {
            id: row.id,
            rule_id: row.rule_id,
            deployment_id: row.deployment_id,
            starts_at: rfc3339(row.starts_at),
            ends_at: rfc3339(row.ends_at),
            reason: row.reason,
            created_by: row.created_by,
            created_at: rfc3339(row.created_at),
        }
    }
}

#[utoipa::path(post, path = "/projects/{project_id}/silences", tag = "alerts", params(("project_id" = String, Path)),
    request_body = NewSilence,
    responses((status = 201, body = Silence), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_silence(
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
    let mut write = access.scope().write().await?;
    if let Some(rule_id) = &body.rule_id {
        if !write.alert_rules().exists(rule_id).await? {
            return Err(Error::invalid("rule_id", "not a alert rule of this project").into());
        }
    }
    if let Some(deployment_id) = &body.deployment_id {
        if !write
            .alert_rules()
            .is_project_deployment(deployment_id)
            .await?
        {
            return Err(Error::invalid("deployment_id", "not a deployment of this project").into());
        }
    }
    let row = write
        .silences()
        .insert(
            body.rule_id.as_deref(),
            body.deployment_id.as_deref(),
            starts,
            ends,
            &reason,
            access.user_id(),
        )
        .await?;
    write.commit().await?;
    Ok((StatusCode::CREATED, JsonResponse(row.into())))
}

/// Silences in force or to come.
#[utoipa::path(get, path = "/projects/{project_id}/silences", tag = "alerts", params(("project_id" = String, Path)),
    responses((status = 200, body = Vec<Silence>), (status = 404, body = ErrorBody)))]
pub async fn list_silences(
    access: ProjectGuard<can::Read>,
) -> ApiResult<JsonResponse<Vec<Silence>>> {
    let rows = access.scope().silences().list_current(now_ms()).await?;
    Ok(JsonResponse(rows.into_iter().map(Silence::from).collect()))
}

/// Ends a silence now.
#[utoipa::path(delete, path = "/projects/{project_id}/silences/{silence_id}", tag = "alerts",
    params(("project_id" = String, Path), ("silence_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_silence(
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, silence_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    write.silences().delete(&silence_id).await?;
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
