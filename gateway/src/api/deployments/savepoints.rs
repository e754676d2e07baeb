//! A deployment's savepoints: listed, taken on request, disposed of.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::Error;
use utoipa::ToSchema;

use super::fetch;
use crate::access::{can, ProjectGuard};
use crate::api::rfc3339;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use domain::engine::engine_error;
use domain::engine::reconciler::kick;
use domain::engine::record::{self, DesiredState, Status};
use domain::engine::savepoints::{new_trigger, request_user_savepoint, RequestedSavepoint};
use store::savepoints::{NewSavepoint, SavepointRow};

#[derive(Serialize, ToSchema)]
pub struct Savepoint {
    pub id: String,
    pub engine_job_id: String,
    /// USER_REQUEST, SUSPEND or SUSPEND_AND_UPGRADE.
    pub origin: String,
    /// STARTED, COMPLETED or FAILED.
    pub state: String,
    /// Where the engine wrote it, on a cluster of the account's own; null on the
    /// platform's cluster (its file paths are the platform's) and until it completes.
    pub location: Option<String>,
    /// Bytes of state, as the engine reported them; null where it did not.
    pub size_bytes: Option<i64>,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<SavepointRow> for Savepoint {
    fn from(row: SavepointRow) -> Self {
        Savepoint {
            id: row.id,
            engine_job_id: row.engine_job_id,
            origin: row.origin,
            state: row.state,
            location: row.location,
            size_bytes: row.size_bytes,
            failure: row.failure,
            created_at: rfc3339(row.created_at),
            completed_at: row.completed_at.map(rfc3339),
        }
    }
}

#[utoipa::path(get, path = "/projects/{project_id}/deployments/{deployment_id}/savepoints", tag = "deployments",
    params(("project_id" = String, Path), ("deployment_id" = String, Path), PageQuery),
    responses((status = 200, body = Paginated<Savepoint>), (status = 404, body = ErrorBody)))]
pub async fn list_savepoints(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path((_project_id, deployment_id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Savepoint>>> {
    let page = q.page()?;
    let d = fetch(&state, &access, &deployment_id).await?;
    let rows = access.scope().savepoints().list(&d.id, &page).await?;
    // On the platform's cluster the files are the platform's: where they lie says how
    // its hosts are laid out, which is not the tenant's to know (a savepoint is chosen
    // by its id). On a cluster of the account's own, the location is theirs.
    let platform =
        super::super::clusters::visible_cluster(&access.scope().account(), &d.cluster_id)
            .await
            .map(|c| c.platform)
            .unwrap_or(true);
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter()
            .map(Savepoint::from)
            .map(|mut s| {
                if platform {
                    s.location = None;
                }
                s
            })
            .collect(),
        &page,
        |s| &s.id,
    )))
}

/// Triggers a savepoint of the running job; it completes in the background.
#[utoipa::path(post, path = "/projects/{project_id}/deployments/{deployment_id}/savepoints", tag = "deployments",
    params(("project_id" = String, Path), ("deployment_id" = String, Path)),
    responses((status = 202, body = Savepoint), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn trigger_savepoint(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, deployment_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, JsonResponse<Savepoint>)> {
    let d = fetch(&state, &access, &deployment_id).await?;
    let (Some(job_id), true) = (&d.engine_job_id, d.status == Status::Running) else {
        return Err(
            Error::conflict("deployment_not_running", "a savepoint needs a running job").into(),
        );
    };
    let client = state.engines.client(&d.rest_url)?;
    // Recorded before the engine is asked, under the trigger id the request carries.
    let trigger = new_trigger();
    let id = access
        .scope()
        .savepoints()
        .insert_started(&NewSavepoint {
            deployment_id: &d.id,
            engine_job_id: job_id,
            trigger_id: &trigger,
            origin: "USER_REQUEST",
        })
        .await?;
    let savepoint = RequestedSavepoint { id, trigger };
    request_user_savepoint(access.scope(), &client, job_id, &savepoint).await?;
    let id = savepoint.id;
    record::project_event(access.scope(), &d.id, "savepoint", "savepoint requested").await?;
    kick(&state, &d.id);
    let row = access.scope().savepoints().get(&id).await?;
    Ok((StatusCode::ACCEPTED, JsonResponse(row.into())))
}

/// Disposes of a savepoint's files on the engine, then forgets it. A savepoint a
/// pending start is about to restore from is kept.
#[utoipa::path(delete, path = "/projects/{project_id}/deployments/{deployment_id}/savepoints/{savepoint_id}", tag = "deployments",
    params(("project_id" = String, Path), ("deployment_id" = String, Path), ("savepoint_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn delete_savepoint(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, deployment_id, savepoint_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let d = fetch(&state, &access, &deployment_id).await?;
    let row = access
        .scope()
        .savepoints()
        .state_of(&savepoint_id, &d.id)
        .await?;
    let (sp_state, location) = row.ok_or_else(|| Error::not_found("savepoint"))?;
    if sp_state == "STARTED" {
        return Err(Error::conflict(
            "savepoint_in_progress",
            "the savepoint is still being taken",
        )
        .into());
    }
    if d.restore_savepoint_id.as_deref() == Some(savepoint_id.as_str())
        && d.engine_job_id.is_none()
        && d.desired_state == DesiredState::Running
    {
        return Err(Error::conflict(
            "savepoint_in_use",
            "a start is about to restore from this savepoint",
        )
        .into());
    }
    // Files first: a record is never dropped while its files may still exist.
    if let Some(location) = location {
        let client = state.engines.client(&d.rest_url)?;
        client
            .dispose_savepoint(&location, std::time::Duration::from_secs(60))
            .await
            .map_err(engine_error)?;
    }
    access.scope().savepoints().delete(&savepoint_id).await?;
    record::project_event(
        access.scope(),
        &d.id,
        "savepoint",
        "savepoint disposed of and deleted",
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
