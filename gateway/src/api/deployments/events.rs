//! What happened to a deployment: its events, and the exceptions its engine job
//! reported.

use axum::extract::State;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::fetch;
use crate::access::{can, ProjectGuard};
use crate::api::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use domain::engine::engine_error;

#[derive(Serialize, ToSchema)]
pub struct DeploymentEvent {
    pub id: String,
    pub kind: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

#[utoipa::path(get, path = "/projects/{project_id}/deployments/{deployment_id}/events", tag = "deployments",
    params(("project_id" = String, Path), ("deployment_id" = String, Path), PageQuery),
    responses((status = 200, body = Paginated<DeploymentEvent>), (status = 404, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path((_project_id, deployment_id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<DeploymentEvent>>> {
    let page = q.page()?;
    let d = fetch(&state, &access, &deployment_id).await?;
    let rows = access
        .scope()
        .deployment_history()
        .events(&d.id, &page)
        .await?;
    let items = rows
        .into_iter()
        .map(|row| DeploymentEvent {
            id: row.id,
            kind: row.kind,
            message: row.message,
            created_at: rfc3339(row.created_at),
        })
        .collect();
    Ok(JsonResponse(Paginated::from_rows(items, &page, |e| &e.id)))
}

#[derive(Serialize, ToSchema)]
pub struct JobExceptionView {
    /// The outermost exception's class and message (often a wrapper such as
    /// `java.util.concurrent.CompletionException`).
    pub exception_name: String,
    /// What went wrong in the engine's words: the deepest cause of the stack trace
    /// (e.g. "Could not acquire the minimum required resources").
    pub root_cause: String,
    pub stacktrace: String,
    pub timestamp: DateTime<Utc>,
}

/// The engine's exception history of the deployment's current job.
#[utoipa::path(get, path = "/projects/{project_id}/deployments/{deployment_id}/exceptions", tag = "deployments",
    params(("project_id" = String, Path), ("deployment_id" = String, Path)),
    responses((status = 200, body = Vec<JobExceptionView>), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn list_exceptions(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path((_project_id, deployment_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<Vec<JobExceptionView>>> {
    let d = fetch(&state, &access, &deployment_id).await?;
    let Some(job_id) = &d.engine_job_id else {
        return Ok(JsonResponse(Vec::new()));
    };
    // A submission the engine has not confirmed has reported nothing yet (the engine may
    // not even have it): nothing to ask it.
    if d.intent_state.as_deref() == Some(domain::engine::submission::INTENDED) {
        return Ok(JsonResponse(Vec::new()));
    }
    let client = state.engines.client(&d.rest_url)?;
    let exceptions = client.exceptions(job_id).await.map_err(engine_error)?;
    // The engine's words may quote a value substituted into the job (a secret).
    let redactor = match (&d.sql_text, exceptions.is_empty()) {
        (Some(sql), false) => {
            let resources = access.scope().pipeline_resources().await?;
            domain::pipeline::secrets_redactor(sql, &resources, &state.secrets)
        }
        _ => domain::pipeline::Redactor::default(),
    };
    Ok(JsonResponse(
        exceptions
            .into_iter()
            .map(|e| JobExceptionView {
                exception_name: redactor.redact(&e.exception_name),
                root_cause: redactor.redact(&engine_client::engine_message(std::slice::from_ref(
                    &e.stacktrace,
                ))),
                stacktrace: redactor.redact(&e.stacktrace),
                timestamp: rfc3339(e.timestamp),
            })
            .collect(),
    ))
}
