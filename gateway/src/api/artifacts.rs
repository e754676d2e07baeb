//! Artifacts: UDF and JAR files, at most `artifact_bytes` each and
//! `artifacts_per_project` per project. Uploads stream to a temporary file while their
//! SHA-256 is computed, are refused the moment they pass the size limit, and appear
//! under their final path only once recorded; nothing partial is ever kept.

use std::path::PathBuf;
use store::Error;

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use domain::limits::ensure_below;
use store::artifacts::{ArtifactKind, ArtifactRow};
use store::names::Name;

/// Room for multipart boundaries and part headers on top of the file itself.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

#[derive(Serialize, ToSchema)]
pub struct Artifact {
    pub id: String,
    pub project_id: String,
    /// The uploaded file name.
    pub name: String,
    /// `jar`, `zip` (archives: zip-checked) or `python`.
    pub kind: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<ArtifactRow> for Artifact {
    fn from(row: ArtifactRow) -> Self {
        Artifact {
            id: row.id,
            project_id: row.project_id,
            name: row.name,
            kind: row.kind.as_str().to_owned(),
            size_bytes: row.size_bytes,
            sha256: row.sha256,
            created_at: rfc3339(row.created_at),
        }
    }
}

/// Kind of an artifact by its file name; `None` for a type we do not accept.
fn kind_of(file_name: &str) -> Option<ArtifactKind> {
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".jar") {
        Some(ArtifactKind::Jar)
    } else if lower.ends_with(".zip") {
        Some(ArtifactKind::Zip)
    } else if lower.ends_with(".py") {
        Some(ArtifactKind::Python)
    } else {
        None
    }
}

/// Deletes the temporary upload when dropped, including when the client goes away and
/// the request future is dropped mid-stream.
struct TempUpload {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.keep {
            if let Err(e) = std::fs::remove_file(&self.path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %self.path.display(), error = %e, "could not remove a temporary upload");
                }
            }
        }
    }
}

/// A zip archive starts with a local file header (or, empty, with the end record) and
/// has an end-of-central-directory record within its last 64 KiB + 22 bytes.
async fn looks_like_zip(file: &mut tokio::fs::File, size: u64) -> std::io::Result<bool> {
    if size < 22 {
        return Ok(false);
    }
    let mut head = [0u8; 4];
    file.seek(std::io::SeekFrom::Start(0)).await?;
    file.read_exact(&mut head).await?;
    if head != *b"PK\x03\x04" && head != *b"PK\x05\x06" {
        return Ok(false);
    }
    let tail_len = size.min(65_557);
    let mut tail = vec![0u8; tail_len as usize];
    file.seek(std::io::SeekFrom::Start(size - tail_len)).await?;
    file.read_exact(&mut tail).await?;
    Ok(tail.windows(4).any(|w| w == b"PK\x05\x06"))
}

#[derive(ToSchema)]
#[allow(dead_code)] // documents the multipart body for OpenAPI
pub struct UploadForm {
    /// The file; its name (with `.jar`, `.zip` or `.py`) becomes the artifact name.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A file received whole into a temporary upload (removed when dropped unless kept).
struct Received {
    temp: TempUpload,
    name: Name,
    kind: ArtifactKind,
    size: u64,
    sha256: String,
}

/// Reads the body's `file` part into a temporary upload: at most `artifact_bytes`,
/// refused the moment it passes them, an archive checked to be a zip.
async fn receive_file(
    state: &AppState,
    access: &crate::access::ProjectAccess,
    headers: &HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Received, Error> {
    let limits = state.limits(access.plan());
    let max = limits.artifact_bytes as u64;
    let too_large = || {
        Error::too_large(
            limits.artifact_bytes,
            format!("an artifact may be at most {max} bytes (artifact_bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max + MULTIPART_OVERHEAD) {
        return Err(too_large());
    }
    let mut multipart = multipart.map_err(|e| {
        Error::malformed(format!(
            "expected a multipart/form-data body: {}",
            e.body_text()
        ))
    })?;

    let mut field = file_part(&mut multipart).await?;
    let file_name = field
        .file_name()
        .map(str::to_owned)
        .ok_or_else(|| Error::invalid("file", "the `file` part must carry a file name"))?;
    let name = Name::parse("file.filename", &file_name)?;
    let kind = kind_of(name.as_str()).ok_or_else(|| {
        Error::invalid(
            "file.filename",
            "an artifact must be a .jar, .zip or .py file",
        )
    })?;

    let temp = TempUpload {
        path: state.files.temp_path(),
        keep: false,
    };
    let (size, sha256) = receive(&mut field, &temp.path, max, kind, &name)
        .await
        .map_err(|e| match e {
            Receiving::TooLarge => too_large(),
            Receiving::Failed(e) => e,
        })?;
    Ok(Received {
        temp,
        name,
        kind,
        size,
        sha256,
    })
}

/// Uploads a file as multipart/form-data with one part named `file`.
#[utoipa::path(post, path = "/projects/{project_id}/artifacts", tag = "artifacts", params(("project_id" = String, Path)),
    request_body(content_type = "multipart/form-data", content = UploadForm),
    responses((status = 201, body = Artifact), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_artifact(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path(project_id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, JsonResponse<Artifact>)> {
    let Received {
        mut temp,
        name,
        kind,
        size,
        sha256,
    } = receive_file(&state, &access, &headers, multipart).await?;
    let limits = state.limits(access.plan());
    let mut write = access.scope().write().await?;
    ensure_below(
        write.artifacts().count().await?,
        limits.artifacts_per_project,
        "artifacts_per_project",
        "this project",
    )?;
    if write.artifacts().name_taken(name.as_str()).await? {
        return Err(Error::already_exists(
            "file.filename",
            format!(
                "an artifact named `{}` already exists in this project",
                name.as_str()
            ),
        )
        .into());
    }
    let artifact = write
        .artifacts()
        .insert(name.as_str(), kind, size as i64, &sha256)
        .await?;
    state
        .files
        .install(&temp.path, &project_id, &artifact.id)
        .await?;
    temp.keep = true;
    if let Err(e) = write.commit().await {
        state.files.remove(&project_id, &artifact.id).await;
        return Err(e.into());
    }
    Ok((StatusCode::CREATED, JsonResponse(artifact.into())))
}

/// Replaces an artifact's content (multipart/form-data, one part named `file` of the
/// same kind); its name, id and the references to it stay. The functions of a UDF
/// artifact are read again from the new content (refused, changing nothing, when it
/// holds none or one clashes). Deployments running the old content keep it until they
/// start again.
#[utoipa::path(put, path = "/projects/{project_id}/artifacts/{artifact_id}/content", tag = "artifacts",
    params(("project_id" = String, Path), ("artifact_id" = String, Path)),
    request_body(content_type = "multipart/form-data", content = UploadForm),
    responses((status = 200, body = Artifact), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace_artifact_content(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path((project_id, artifact_id)): Path<(String, String)>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<JsonResponse<Artifact>> {
    let current = access.scope().artifacts().get(&artifact_id).await?;
    let Received {
        mut temp,
        name,
        kind,
        size,
        sha256,
    } = receive_file(&state, &access, &headers, multipart).await?;
    if kind != current.kind {
        return Err(Error::invalid(
            "file.filename",
            format!(
                "`{}` is a {} file; the new content of `{}` must be one too",
                name.as_str(),
                kind.as_str(),
                current.name
            ),
        )
        .into());
    }
    let registered = !access
        .scope()
        .functions()
        .of_artifact(&artifact_id)
        .await?
        .is_empty();
    let found = if registered {
        let bytes = tokio::fs::read(&temp.path).await?;
        Some(super::functions::functions_in(&current.name, bytes).await?)
    } else {
        None
    };
    let mut write = access.scope().write().await?;
    if let Some(found) = &found {
        super::functions::record_functions(&mut write, &artifact_id, &current.name, found).await?;
    }
    if !write
        .artifacts()
        .replace_content(&artifact_id, size as i64, &sha256)
        .await?
    {
        return Err(Error::not_found("artifact").into());
    }
    // The old file stays beside until the new content is committed, so a failed commit
    // leaves the artifact as it was.
    let path = state.files.path(&project_id, &artifact_id);
    let previous = path.with_extension("previous");
    tokio::fs::rename(&path, &previous).await?;
    if let Err(e) = state
        .files
        .install(&temp.path, &project_id, &artifact_id)
        .await
    {
        tokio::fs::rename(&previous, &path).await?;
        return Err(Error::from(e).into());
    }
    temp.keep = true;
    if let Err(e) = write.commit().await {
        tokio::fs::rename(&previous, &path).await?;
        return Err(e.into());
    }
    store::files::remove_logged(&previous).await;
    Ok(JsonResponse(
        access.scope().artifacts().get(&artifact_id).await?.into(),
    ))
}

/// The body's one part, named `file`.
async fn file_part<'a>(multipart: &'a mut Multipart) -> Result<Field<'a>, Error> {
    let next = multipart
        .next_field()
        .await
        .map_err(|e| Error::malformed(format!("could not read the multipart body: {e}")))?;
    match next {
        None => Err(Error::invalid(
            "file",
            "the multipart body has no part named `file`",
        )),
        Some(f) if f.name() == Some("file") => Ok(f),
        Some(f) => {
            let name = f.name().unwrap_or("").to_owned();
            Err(Error::invalid(
                name.clone(),
                format!("unexpected multipart part `{name}`; send the file in a part named `file`"),
            ))
        }
    }
}

/// Why a part was not received whole.
enum Receiving {
    TooLarge,
    Failed(Error),
}

impl<E: Into<Error>> From<E> for Receiving {
    fn from(e: E) -> Self {
        Receiving::Failed(e.into())
    }
}

/// Streams the part into `path` (synced to disk), at most `max` bytes, and checks that
/// an archive is one; returns its size and SHA-256.
async fn receive(
    field: &mut Field<'_>,
    path: &std::path::Path,
    max: u64,
    kind: ArtifactKind,
    name: &Name,
) -> Result<(u64, String), Receiving> {
    let mut file = tokio::fs::OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(path)
        .await?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| Error::malformed(format!("the upload was interrupted: {e}")))?
    {
        size += chunk.len() as u64;
        if size > max {
            return Err(Receiving::TooLarge);
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    file.sync_all().await?;
    if matches!(kind, ArtifactKind::Jar | ArtifactKind::Zip)
        && !looks_like_zip(&mut file, size).await?
    {
        return Err(Receiving::Failed(Error::invalid(
            "file",
            format!(
                "`{}` is not a valid {} archive (JAR files are zip archives)",
                name.as_str(),
                kind.as_str().to_uppercase()
            ),
        )));
    }
    Ok((size, hex::encode(hasher.finalize())))
}

#[utoipa::path(get, path = "/projects/{project_id}/artifacts", tag = "artifacts", params(("project_id" = String, Path), PageQuery),
    responses((status = 200, body = Paginated<Artifact>), (status = 404, body = ErrorBody)))]
pub async fn list_artifacts(
    access: ProjectGuard<can::Read>,
    Path(_project_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Artifact>>> {
    let page = q.page()?;
    let rows = access.scope().artifacts().list(&page).await?;
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter().map(Artifact::from).collect(),
        &page,
        |a| &a.id,
    )))
}

#[utoipa::path(get, path = "/projects/{project_id}/artifacts/{artifact_id}", tag = "artifacts",
    params(("project_id" = String, Path), ("artifact_id" = String, Path)),
    responses((status = 200, body = Artifact), (status = 404, body = ErrorBody)))]
pub async fn get_artifact(
    access: ProjectGuard<can::Read>,
    Path((_project_id, artifact_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<Artifact>> {
    let artifact = access.scope().artifacts().get(&artifact_id).await?;
    Ok(JsonResponse(artifact.into()))
}

/// Streams the file back, with its SHA-256 as the `ETag`.
#[utoipa::path(get, path = "/projects/{project_id}/artifacts/{artifact_id}/content", tag = "artifacts",
    params(("project_id" = String, Path), ("artifact_id" = String, Path)),
    responses((status = 200, description = "the file: a JAR or ZIP as `application/java-archive`, a Python file as `text/x-python`",
        content((Vec<u8> = "application/java-archive"), (Vec<u8> = "text/x-python"))), (status = 404, body = ErrorBody)))]
pub async fn download_artifact(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path((project_id, artifact_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let artifact = access.scope().artifacts().get(&artifact_id).await?;
    let file = tokio::fs::File::open(state.files.path(&project_id, &artifact_id)).await?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let content_type = if artifact.kind == ArtifactKind::Python {
        "text/x-python"
    } else {
        "application/java-archive"
    };
    let disposition = format!(
        "attachment; filename=\"{}\"",
        artifact.name.replace(['"', '\\'], "_")
    );
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(artifact.size_bytes as u64),
    );
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{}\"", artifact.sha256)).map_err(Error::internal)?,
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// Deletes an artifact that no job draft or saved version and no deployment uses.
#[utoipa::path(delete, path = "/projects/{project_id}/artifacts/{artifact_id}", tag = "artifacts",
    params(("project_id" = String, Path), ("artifact_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_artifact(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path((project_id, artifact_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let resources = access.scope().pipeline_resources().await?;
    let mut write = access.scope().write().await?;
    if write.artifacts().kind(&artifact_id).await?.is_none() {
        return Err(Error::not_found("artifact").into());
    }
    domain::pipeline::ensure_no_deployment_uses(&mut write, &resources, &artifact_id).await?;
    let names = write.artifacts().used_by(&artifact_id).await?;
    if !names.is_empty() {
        return Err(Error::conflict(
            "in_use",
            format!(
                "the artifact is used by these jobs (drafts or saved versions): {}",
                names.join(", ")
            ),
        )
        .into());
    }
    write.artifacts().delete(&artifact_id).await?;
    write.commit().await?;
    state.files.remove(&project_id, &artifact_id).await;
    Ok(StatusCode::NO_CONTENT)
}
