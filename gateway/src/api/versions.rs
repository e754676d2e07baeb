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

use super::jobs::{check_if_match, fetch_job, job_response, Job, JobContent};
use super::rfc3339;
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::AppState;
use store::db::{now_ms, Tx};
use store::names::bounded_text;

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

type VersionRow = (
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
);
const VERSION_COLUMNS: &str = "v.job_id, v.version, v.message, v.kind, v.sql_text, v.artifact_id, v.entry_class, v.args, v.created_by, v.created_at";

fn version_from_row(row: VersionRow) -> Version {
    let (job_id, version, message, kind, sql, artifact_id, entry_class, args, created_by, created) =
        row;
    Version {
        job_id,
        version,
        message,
        content: JobContent::from_columns(&kind, sql, artifact_id, entry_class, args),
        created_by,
        created_at: rfc3339(created),
    }
}

pub async fn fetch_version(tx: &mut Tx, job_id: &str, version: i64) -> Result<Version, Error> {
    let row: Option<VersionRow> = sqlx::query_as(&format!(
        "select {VERSION_COLUMNS} from job_versions v where v.job_id = $1 and v.version = $2"
    ))
    .bind(job_id)
    .bind(version)
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        Some(row) => Ok(version_from_row(row)),
        None => {
            let (low, high): (Option<i64>, Option<i64>) = sqlx::query_as(
                "select min(version), max(version) from job_versions where job_id = $1",
            )
            .bind(job_id)
            .fetch_one(&mut **tx)
            .await?;
            let kept = match (low, high) {
                (Some(l), Some(h)) => format!("versions kept: {l} to {h}"),
                _ => "this job has no saved versions".to_owned(),
            };
            Err(Error::new(
                store::Kind::NotFound,
                "not_found",
                format!("version {version} does not exist ({kept})"),
            )
            .with_field("version"))
        }
    }
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
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path((_project_id, job_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<VersionList>> {
    fetch_job(access.scope(), &job_id).await?;
    let rows: Vec<VersionRow> = sqlx::query_as(&format!(
        "select {VERSION_COLUMNS} from job_versions v where v.job_id = $1 order by v.version desc"
    ))
    .bind(&job_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(JsonResponse(VersionList {
        items: rows.into_iter().map(version_from_row).collect(),
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
    params(("project_id" = String, Path), ("job_id" = String, Path)), request_body = SaveVersion,
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
    let job = Job::from(write.jobs().get(&job_id).await?);
    if headers.contains_key(axum::http::header::IF_MATCH) {
        check_if_match(&headers, job.revision)?;
    }
    let number = job.last_version + 1;
    let (kind, sql, artifact, entry, args) = job.content.columns();
    sqlx::query(
        "insert into job_versions (job_id, version, message, kind, sql_text, artifact_id, entry_class, args, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&job_id)
    .bind(number)
    .bind(&message)
    .bind(kind)
    .bind(sql)
    .bind(artifact)
    .bind(entry)
    .bind(args)
    .bind(access.user_id())
    .bind(now_ms())
    .execute(&mut **write.tx())
    .await?;
    sqlx::query("update jobs set last_version = $1 where id = $2")
        .bind(number)
        .bind(&job_id)
        .execute(&mut **write.tx())
        .await?;
    let oldest_kept = number - keep + 1;
    let pruned: Vec<(i64,)> = sqlx::query_as(
        "select version from job_versions where job_id = $1 and version < $2 order by version",
    )
    .bind(&job_id)
    .bind(oldest_kept)
    .fetch_all(&mut **write.tx())
    .await?;
    sqlx::query("delete from job_versions where job_id = $1 and version < $2")
        .bind(&job_id)
        .bind(oldest_kept)
        .execute(&mut **write.tx())
        .await?;
    let version = fetch_version(write.tx(), &job_id, number).await?;
    write.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(SavedVersion {
            version,
            pruned_versions: pruned.into_iter().map(|(v,)| v).collect(),
        }),
    ))
}

#[utoipa::path(get, path = "/projects/{project_id}/jobs/{job_id}/versions/{version}", tag = "versions",
    params(("project_id" = String, Path), ("job_id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = Version), (status = 404, body = ErrorBody)))]
pub async fn get_version(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path((_project_id, job_id, version)): Path<(String, String, i64)>,
) -> ApiResult<JsonResponse<Version>> {
    fetch_job(access.scope(), &job_id).await?;
    let mut tx = state.db.pool.begin().await?;
    let version = fetch_version(&mut tx, &job_id, version).await?;
    tx.commit().await?;
    Ok(JsonResponse(version))
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
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path((_project_id, job_id)): Path<(String, String)>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<JsonResponse<VersionDiff>> {
    let job = fetch_job(access.scope(), &job_id).await?;
    let mut tx = state.db.pool.begin().await?;
    let old = fetch_version(&mut tx, &job_id, q.from).await?;
    let (new_text, new_label) = match q.to {
        Some(n) => (
            fetch_version(&mut tx, &job_id, n)
                .await?
                .content
                .diff_text(),
            format!("version {n}"),
        ),
        None => (job.content.diff_text(), "draft".to_owned()),
    };
    tx.commit().await?;
    let old_text = old.content.diff_text();
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
    let job = Job::from(write.jobs().get(&job_id).await?);
    check_if_match(&headers, job.revision)?;
    let version = fetch_version(write.tx(), &job_id, body.version).await?;
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
