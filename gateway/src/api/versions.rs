//! Versions of a job: immutable snapshots of its draft, numbered 1, 2, ... per job.
//! Only the newest `versions_per_job` are kept; saving one more prunes the oldest, and
//! the response lists what was pruned. Numbers are never reused.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use similar::TextDiff;
use store::Error;
use utoipa::{IntoParams, ToSchema};

use super::jobs::{check_if_match, fetch_job, job_response};
use super::rfc3339;
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::AppState;
use domain::jobs::JobContent;
use store::db::Tx;
use store::names::bounded_text;
use store::versions::VersionRow;

const MAX_MESSAGE_CHARS: usize = 1000;

#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    pub job_id: String,
    pub version: i64,
    pub message: String,
    pub content: JobContent,
    /// The user who saved it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<VersionRow> for Version {
    fn from(row: VersionRow) -> Self {
        Version {
            job_id: row.job_id,
            version: row.version,
            message: row.message,
            content: row.content.into(),
            created_by: row.created_by,
            created_at: rfc3339(row.created_at),
        }
    }
}

/// A version of a deployment's job, for the workers and deployment operations that
/// read it inside their own transaction.
pub async fn fetch_version(tx: &mut Tx, job_id: &str, version: i64) -> Result<Version, Error> {
    Ok(store::versions::of_job(tx, job_id, version).await?.into())
}

#[derive(Serialize, ToSchema)]
pub struct VersionList {
    /// Newest first.
    pub items: Vec<Version>,
}

#[utoipa::path(get, path = "/projects/{project_id}/jobs/{job_id}/versions", tag = "versions",
    params(("project_id" = String, Path), ("job_id" = String, Path)),
    responses((status = 200, body = VersionList), (status = 404, body = ErrorBody)))]
pub async fn list_versions(
    access: ProjectGuard<can::Read>,
    Path((_project_id, job_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<VersionList>> {
    fetch_job(access.scope(), &job_id).await?;
    let rows = access.scope().versions().list(&job_id).await?;
    Ok(JsonResponse(VersionList {
        items: rows.into_iter().map(Version::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveVersion {
    /// What changed, for the history (no control characters but line breaks and tabs).
    #[serde(default)]
    #[schema(
        pattern = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$",
        max_length = 1000
    )]
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct SavedVersion {
    pub version: Version,
    /// Versions deleted to stay within `versions_per_job`, oldest first.
    pub pruned_versions: Vec<i64>,
}

/// Snapshots the current draft as a new version. `If-Match` is honoured when sent.
#[utoipa::path(post, path = "/projects/{project_id}/jobs/{job_id}/versions", tag = "versions",
    params(("project_id" = String, Path), ("job_id" = String, Path), ("If-Match" = Option<String>, Header, description = "the ETag of the draft read; when sent, a draft changed since is not saved (412)")), request_body = SaveVersion,
    responses((status = 201, body = SavedVersion), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn save_version(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, job_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<SaveVersion>,
) -> ApiResult<(StatusCode, JsonResponse<SavedVersion>)> {
    let message = bounded_text("message", &body.message, MAX_MESSAGE_CHARS)?;
    let keep = state.limits(access.plan()).versions_per_job;
    let mut write = access.scope().write().await?;
    let job = write.jobs().get(&job_id).await?;
    if headers.contains_key(axum::http::header::IF_MATCH) {
        check_if_match(&headers, job.revision)?;
    }
    let number = write
        .versions()
        .save(&job, &message, access.user_id())
        .await?;
    let pruned = write.versions().prune(&job_id, number - keep + 1).await?;
    let version = write.versions().get(&job_id, number).await?.into();
    write.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(SavedVersion {
            version,
            pruned_versions: pruned,
        }),
    ))
}

#[utoipa::path(get, path = "/projects/{project_id}/jobs/{job_id}/versions/{version}", tag = "versions",
    params(("project_id" = String, Path), ("job_id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = Version), (status = 404, body = ErrorBody)))]
pub async fn get_version(
    access: ProjectGuard<can::Read>,
    Path((_project_id, job_id, version)): Path<(String, String, i64)>,
) -> ApiResult<JsonResponse<Version>> {
    fetch_job(access.scope(), &job_id).await?;
    let version = access.scope().versions().get(&job_id, version).await?;
    Ok(JsonResponse(version.into()))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older side: a version number.
    pub from: i64,
    /// The newer side: a version number; absent compares with the current draft.
    pub to: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct VersionDiff {
    pub from: i64,
    /// A version number, or absent for the draft.
    pub to: Option<i64>,
    /// Unified diff (3 lines of context); empty when both sides are the same.
    pub diff: String,
}

#[utoipa::path(get, path = "/projects/{project_id}/jobs/{job_id}/diff", tag = "versions",
    params(("project_id" = String, Path), ("job_id" = String, Path), DiffQuery),
    responses((status = 200, body = VersionDiff), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn diff_versions(
    access: ProjectGuard<can::Read>,
    Path((_project_id, job_id)): Path<(String, String)>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<JsonResponse<VersionDiff>> {
    let job = fetch_job(access.scope(), &job_id).await?;
    let asked: Vec<i64> = std::iter::once(q.from).chain(q.to).collect();
    let mut sides = access
        .scope()
        .versions()
        .get_many(&job_id, &asked)
        .await?
        .into_iter()
        .map(|row| JobContent::from(row.content).diff_text());
    let old_text = sides.next().unwrap_or_default();
    let (new_text, new_label) = match (q.to, sides.next()) {
        (Some(n), Some(text)) => (text, format!("version {n}")),
        _ => (job.content.diff_text(), "draft".to_owned()),
    };
    let diff = TextDiff::from_lines(&old_text, &new_text)
        .unified_diff()
        .context_radius(3)
        .header(&format!("version {}", q.from), &new_label)
        .to_string();
    let diff = if old_text == new_text {
        String::new()
    } else {
        diff
    };
    Ok(JsonResponse(VersionDiff {
        from: q.from,
        to: q.to,
        diff,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    pub version: i64,
}

/// Replaces the draft's content with a saved version's. Requires `If-Match`.
#[utoipa::path(post, path = "/projects/{project_id}/jobs/{job_id}/rollback", tag = "versions",
    params(("project_id" = String, Path), ("job_id" = String, Path), ("If-Match" = String, Header)), request_body = Rollback,
    responses((status = 200, body = super::jobs::Job), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn rollback(
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, job_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Rollback>,
) -> ApiResult<Response> {
    let mut write = access.scope().write().await?;
    let job = write.jobs().get(&job_id).await?;
    check_if_match(&headers, job.revision)?;
    let version = Version::from(write.versions().get(&job_id, body.version).await?);
    // The artifact a JAR version names may have been deleted since; re-check it.
    version.content.validate(&mut write).await?;
    let job = write
        .jobs()
        .write_content(&job_id, &version.content.stored())
        .await?
        .into();
    write.commit().await?;
    Ok(job_response(StatusCode::OK, job))
}
