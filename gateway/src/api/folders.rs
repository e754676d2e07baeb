//! Folders: a tree per project (at most `folders_per_project`, nested at most
//! `folder_depth` deep, at most `entries_per_folder` jobs and folders in one folder).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::folders::FolderRow;
use store::names::Name;
use store::{Error, ProjectWrite};
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{double_option, Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use domain::limits::{ensure_below, Limits};

#[derive(Serialize, ToSchema)]
pub struct Folder {
    pub id: String,
    pub project_id: String,
    /// Absent for a folder at the project root.
    pub parent_id: Option<String>,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<FolderRow> for Folder {
    fn from(row: FolderRow) -> Self {
        Folder {
            id: row.id,
            project_id: row.project_id,
            parent_id: row.parent_id,
            name: row.name,
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

/// Refuses when `folder_id` (the destination of a new or moved entry) is full.
pub async fn ensure_room_in(
    write: &mut ProjectWrite,
    limits: &Limits,
    folder_id: Option<&str>,
) -> Result<(), Error> {
    let entries = write.folders().count_entries(folder_id).await?;
    let what = if folder_id.is_some() {
        "the folder"
    } else {
        "the project root"
    };
    ensure_below(
        entries,
        limits.entries_per_folder,
        "entries_per_folder",
        what,
    )
}

/// 422 unless `folder_id` is a folder of this project.
pub async fn ensure_folder_in_project(
    write: &mut ProjectWrite,
    folder_id: &str,
    field: &str,
) -> Result<(), Error> {
    if write.folders().exists(folder_id).await? {
        return Ok(());
    }
    Err(Error::invalid(
        field,
        format!("{field} `{folder_id}` is not a folder of this project"),
    ))
}

async fn ensure_folder_name_free(
    write: &mut ProjectWrite,
    parent_id: Option<&str>,
    name: &str,
    except: &str,
) -> Result<(), Error> {
    if write.folders().name_taken(parent_id, name, except).await? {
        return Err(Error::already_exists(
            "name",
            format!("a folder named `{name}` already exists there"),
        ));
    }
    Ok(())
}

fn too_deep(limits: &Limits, depth: i64, what: &str) -> Error {
    Error::limit_exceeded(
        "folder_depth",
        limits.folder_depth,
        format!(
            "folders nest at most {} deep; {what} at depth {depth}",
            limits.folder_depth
        ),
    )
}

fn not_a_folder(parent: &str) -> Error {
    Error::invalid(
        "parent_id",
        format!("parent_id `{parent}` is not a folder of this project"),
    )
}

#[utoipa::path(get, path = "/projects/{project_id}/folders", tag = "folders", params(("project_id" = String, Path), PageQuery),
    responses((status = 200, body = Paginated<Folder>), (status = 404, body = ErrorBody)))]
pub async fn list_folders(
    access: ProjectGuard<can::Read>,
    Path(_project_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Folder>>> {
    let page = q.page()?;
    let rows = access.scope().folders().list(&page).await?;
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter().map(Folder::from).collect(),
        &page,
        |f| &f.id,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFolder {
    pub name: String,
    /// The parent folder; absent or null creates the folder at the project root.
    pub parent_id: Option<String>,
}

#[utoipa::path(post, path = "/projects/{project_id}/folders", tag = "folders", params(("project_id" = String, Path)), request_body = CreateFolder,
    responses((status = 201, body = Folder), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_folder(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path(_project_id): Path<String>,
    Json(body): Json<CreateFolder>,
) -> ApiResult<(StatusCode, JsonResponse<Folder>)> {
    let name = Name::parse("name", &body.name)?;
    let limits = state.limits(access.plan());
    let mut write = access.scope().write().await?;
    let tree = write.folders().tree().await?;
    let parent = body.parent_id.as_deref();
    if let Some(parent) = parent.filter(|p| !tree.contains(p)) {
        return Err(not_a_folder(parent).into());
    }
    ensure_below(
        write.folders().count().await?,
        limits.folders_per_project,
        "folders_per_project",
        "this project",
    )?;
    let depth = tree.depth(parent) + 1;
    if depth > limits.folder_depth {
        return Err(too_deep(&limits, depth, "this folder would be").into());
    }
    ensure_room_in(&mut write, &limits, parent).await?;
    ensure_folder_name_free(&mut write, parent, name.as_str(), "").await?;
    let folder = write.folders().insert(parent, name.as_str()).await?;
    write.commit().await?;
    Ok((StatusCode::CREATED, JsonResponse(folder.into())))
}

#[utoipa::path(get, path = "/projects/{project_id}/folders/{folder_id}", tag = "folders",
    params(("project_id" = String, Path), ("folder_id" = String, Path)),
    responses((status = 200, body = Folder), (status = 404, body = ErrorBody)))]
pub async fn get_folder(
    access: ProjectGuard<can::Read>,
    Path((_project_id, folder_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<Folder>> {
    let folder = access.scope().folders().get(&folder_id).await?;
    Ok(JsonResponse(folder.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFolder {
    pub name: Option<String>,
    /// Move the folder: a folder id, or null for the project root.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
}

/// Renames and/or moves a folder (with everything in it).
#[utoipa::path(patch, path = "/projects/{project_id}/folders/{folder_id}", tag = "folders",
    params(("project_id" = String, Path), ("folder_id" = String, Path)), request_body = UpdateFolder,
    responses((status = 200, body = Folder), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_folder(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, folder_id)): Path<(String, String)>,
    Json(body): Json<UpdateFolder>,
) -> ApiResult<JsonResponse<Folder>> {
    let new_name = body
        .name
        .as_deref()
        .map(|n| Name::parse("name", n))
        .transpose()?;
    let limits = state.limits(access.plan());
    let mut write = access.scope().write().await?;
    let tree = write.folders().tree().await?;
    let Some(current_parent) = tree.parent_of(&folder_id) else {
        return Err(Error::not_found("folder").into());
    };
    let current_name = write.folders().name_of(&folder_id).await?;
    let parent = match &body.parent_id {
        None => current_parent.clone(),
        Some(None) => None,
        Some(Some(p)) if !tree.contains(p) => return Err(not_a_folder(p).into()),
        Some(Some(p)) if tree.is_within(p, &folder_id) => {
            return Err(Error::invalid(
                "parent_id",
                "a folder cannot be moved into itself or one of its own subfolders",
            )
            .into());
        }
        Some(Some(p)) => Some(p.clone()),
    };
    if parent != current_parent {
        let depth = tree.depth(parent.as_deref()) + tree.height(&folder_id);
        if depth > limits.folder_depth {
            return Err(too_deep(
                &limits,
                depth,
                "after this move the deepest folder would be",
            )
            .into());
        }
        ensure_room_in(&mut write, &limits, parent.as_deref()).await?;
    }
    let name = new_name
        .map(|n| n.as_str().to_owned())
        .unwrap_or(current_name);
    ensure_folder_name_free(&mut write, parent.as_deref(), &name, &folder_id).await?;
    write
        .folders()
        .update(&folder_id, &name, parent.as_deref())
        .await?;
    write.commit().await?;
    let folder = access.scope().folders().get(&folder_id).await?;
    Ok(JsonResponse(folder.into()))
}

/// Deletes an empty folder; a folder with jobs or folders in it is refused.
#[utoipa::path(delete, path = "/projects/{project_id}/folders/{folder_id}", tag = "folders",
    params(("project_id" = String, Path), ("folder_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_folder(
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, folder_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    if !write.folders().exists(&folder_id).await? {
        return Err(Error::not_found("folder").into());
    }
    let entries = write.folders().count_entries(Some(&folder_id)).await?;
    if entries > 0 {
        return Err(Error::conflict(
            "folder_not_empty",
            if entries == 1 {
                "the folder still holds 1 job or folder; move or delete it first".to_owned()
            } else {
                format!(
                    "the folder still holds {entries} jobs or folders; move or delete them first"
                )
            },
        )
        .into());
    }
    write.folders().delete(&folder_id).await?;
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
