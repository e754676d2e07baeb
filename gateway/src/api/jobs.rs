//! Job drafts: a Flink SQL script or a JAR (artifact, entry class, arguments), named
//! uniquely within their folder, at most `jobs_per_project` per project. Drafts carry a
//! revision exposed as a strong `ETag`; writes must send it back in `If-Match`, so two
//! editors cannot silently overwrite each other (a stale write gets 412).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::{IntoParams, ToSchema};

use super::folders::{ensure_folder_in_project, ensure_room_in};
use super::rfc3339;
use crate::access::{can, ProjectGuard};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{double_option, Json, Path, Query};
use crate::pagination::Paginated;
use crate::AppState;
use domain::jobs::JobContent;
use domain::limits::ensure_below;

use store::jobs::JobRow;
use store::names::Name;
use store::{ProjectScope, ProjectWrite};

#[derive(Debug, Serialize, ToSchema)]
pub struct Job {
    pub id: String,
    pub project_id: String,
    /// Absent for a job at the project root.
    pub folder_id: Option<String>,
    pub name: String,
    pub content: JobContent,
    /// Increases with every write; the `ETag` is this number in quotes.
    pub revision: i64,
    /// Highest version saved so far (0 when none).
    pub last_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<JobRow> for Job {
    fn from(row: JobRow) -> Self {
        Job {
            id: row.id,
            project_id: row.project_id,
            folder_id: row.folder_id,
            name: row.name,
            content: row.content.into(),
            revision: row.revision,
            last_version: row.last_version,
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

/// A job of the project in scope, read outside any transaction.
pub async fn fetch_job(scope: &ProjectScope, job_id: &str) -> Result<Job, Error> {
    Ok(scope.jobs().get(job_id).await?.into())
}

/// "1 deployment", "2 deployments".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn etag(revision: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{revision}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// Responds with the job and its `ETag`.
pub fn job_response(status: StatusCode, job: Job) -> Response {
    let tag = etag(job.revision);
    let mut response = (status, JsonResponse(job)).into_response();
    response.headers_mut().insert(header::ETAG, tag);
    response
}

/// Enforces `If-Match` against the draft's current revision. `*` accepts any revision.
pub fn check_if_match(headers: &HeaderMap, revision: i64) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            "send the draft's ETag in `If-Match` so a concurrent edit is not overwritten",
        )
        .with_field("If-Match"));
    };
    let value = value.to_str().unwrap_or("");
    let matches = value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == format!("\"{revision}\""));
    if !matches {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            format!("the draft changed since you read it (now at revision {revision}); reload it and apply your edit again"),
        )
        .with_field("If-Match"));
    }
    Ok(())
}

async fn ensure_job_name_free(
    write: &mut ProjectWrite,
    folder_id: Option<&str>,
    name: &str,
    except: &str,
) -> Result<(), Error> {
    if write.jobs().name_taken(folder_id, name, except).await? {
        return Err(Error::already_exists(
            "name",
            format!("a job named `{name}` already exists in that folder"),
        ));
    }
    Ok(())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobListQuery {
    /// Only jobs directly in this folder.
    pub folder_id: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/projects/{project_id}/jobs", tag = "jobs", params(("project_id" = String, Path), JobListQuery),
    responses((status = 200, body = Paginated<Job>), (status = 404, body = ErrorBody)))]
pub async fn list_jobs(
    access: ProjectGuard<can::Read>,
    Path(_project_id): Path<String>,
    Query(q): Query<JobListQuery>,
) -> ApiResult<JsonResponse<Paginated<Job>>> {
    let page = crate::pagination::PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let rows = access
        .scope()
        .jobs()
        .list(q.folder_id.as_deref(), &page)
        .await?;
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter().map(Job::from).collect(),
        &page,
        |j| &j.id,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJob {
    pub name: String,
    /// Folder to create the job in; absent or null for the project root.
    pub folder_id: Option<String>,
    pub content: JobContent,
}

#[utoipa::path(post, path = "/projects/{project_id}/jobs", tag = "jobs", params(("project_id" = String, Path)), request_body = CreateJob,
    responses((status = 201, body = Job, headers(("ETag" = String))), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_job(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path(_project_id): Path<String>,
    Json(body): Json<CreateJob>,
) -> ApiResult<Response> {
    let name = Name::parse("name", &body.name)?;
    let limits = state.limits(access.plan());
    let mut write = access.scope().write().await?;
    let folder = body.folder_id.as_deref();
    if let Some(folder) = folder {
        ensure_folder_in_project(&mut write, folder, "folder_id").await?;
    }
    body.content.validate(&mut write).await?;
    ensure_below(
        write.jobs().count().await?,
        limits.jobs_per_project,
        "jobs_per_project",
        "this project",
    )?;
    ensure_room_in(&mut write, &limits, folder).await?;
    ensure_job_name_free(&mut write, folder, name.as_str(), "").await?;
    let job = write
        .jobs()
        .insert(folder, name.as_str(), &body.content.stored())
        .await?;
    write.commit().await?;
    Ok(job_response(StatusCode::CREATED, job.into()))
}

#[utoipa::path(get, path = "/projects/{project_id}/jobs/{job_id}", tag = "jobs", params(("project_id" = String, Path), ("job_id" = String, Path)),
    responses((status = 200, body = Job, headers(("ETag" = String))), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    access: ProjectGuard<can::Read>,
    Path((_project_id, job_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(job_response(
        StatusCode::OK,
        fetch_job(access.scope(), &job_id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateJob {
    pub name: Option<String>,
    /// Move the job: a folder id, or null for the project root.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub folder_id: Option<Option<String>>,
    pub content: Option<JobContent>,
}

/// Edits a draft: rename, move and/or replace its content. Requires `If-Match`.
#[utoipa::path(patch, path = "/projects/{project_id}/jobs/{job_id}", tag = "jobs",
    params(("project_id" = String, Path), ("job_id" = String, Path), ("If-Match" = String, Header, description = "the ETag of the draft this edit is based on")),
    request_body = UpdateJob,
    responses((status = 200, body = Job, headers(("ETag" = String))), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 412, body = ErrorBody), (status = 422, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn update_job(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, job_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<UpdateJob>,
) -> ApiResult<Response> {
    let new_name = body
        .name
        .as_deref()
        .map(|n| Name::parse("name", n))
        .transpose()?;
    let limits = state.limits(access.plan());
    let mut write = access.scope().write().await?;
    let job = Job::from(write.jobs().get(&job_id).await?);
    check_if_match(&headers, job.revision)?;
    let folder = match &body.folder_id {
        None => job.folder_id.clone(),
        Some(None) => None,
        Some(Some(f)) => {
            ensure_folder_in_project(&mut write, f, "folder_id").await?;
            Some(f.clone())
        }
    };
    if folder != job.folder_id {
        ensure_room_in(&mut write, &limits, folder.as_deref()).await?;
    }
    let name = new_name
        .map(|n| n.as_str().to_owned())
        .unwrap_or(job.name.clone());
    ensure_job_name_free(&mut write, folder.as_deref(), &name, &job_id).await?;
    let content = match body.content {
        Some(c) => {
            c.validate(&mut write).await?;
            c
        }
        None => job.content.clone(),
    };
    write
        .jobs()
        .rename_move(&job_id, &name, folder.as_deref())
        .await?;
    let job = write
        .jobs()
        .write_content(&job_id, &content.stored())
        .await?;
    write.commit().await?;
    Ok(job_response(StatusCode::OK, job.into()))
}

/// Deletes a draft with its versions. `If-Match` is honoured when sent.
#[utoipa::path(delete, path = "/projects/{project_id}/jobs/{job_id}", tag = "jobs",
    params(("project_id" = String, Path), ("job_id" = String, Path), ("If-Match" = Option<String>, Header, description = "the ETag of the draft read; when sent, a draft changed since is not deleted (412)")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn delete_job(
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, job_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    let job = write.jobs().get(&job_id).await?;
    if headers.contains_key(header::IF_MATCH) {
        check_if_match(&headers, job.revision)?;
    }
    let deployments = write.deployments().of_job(&job_id).await?;
    if !deployments.is_empty() {
        let named: Vec<String> = deployments
            .iter()
            .map(|(name, status)| format!("`{name}` ({status})"))
            .collect();
        return Err(Error::conflict(
            "in_use",
            format!(
                "job `{}` has {}: {}; delete {} first",
                job.name,
                plural(deployments.len(), "deployment", "deployments"),
                named.join(", "),
                if deployments.len() == 1 { "it" } else { "them" }
            ),
        )
        .into());
    }
    write.jobs().delete(&job_id).await?;
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
