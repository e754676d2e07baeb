//! Folders: a tree per project (at most `folders_per_project`, nested at most
//! `folder_depth` deep, at most `entries_per_folder` jobs and folders in one folder).

use std::collections::HashMap;
use store::Error;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::projects::{count_in_project, lock_project};
use super::rfc3339;
use crate::access::{can, ProjectAccess, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{double_option, Json, Path, Query};
use crate::limits::{ensure_below, Limits};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use store::db::{new_id, now_ms, Tx};
use store::names::Name;

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

type FolderRow = (String, String, Option<String>, String, i64, i64);
const FOLDER_COLUMNS: &str = "f.id, f.project_id, f.parent_id, f.name, f.created_at, f.updated_at";

fn folder_from_row((id, project_id, parent_id, name, created, updated): FolderRow) -> Folder {
    Folder {
        id,
        project_id,
        parent_id,
        name,
        created_at: rfc3339(created),
        updated_at: rfc3339(updated),
    }
}

/// The folder tree of one project, read inside the locked transaction.
struct Tree {
    parent: HashMap<String, Option<String>>,
}

impl Tree {
    async fn load(tx: &mut Tx, project_id: &str) -> Result<Self, Error> {
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("select id, parent_id from folders where project_id = $1")
                .bind(project_id)
                .fetch_all(&mut **tx)
                .await?;
        Ok(Self {
            parent: rows.into_iter().collect(),
        })
    }

    fn contains(&self, id: &str) -> bool {
        self.parent.contains_key(id)
    }

    /// Depth of a folder: 1 at the root. `None` (the root itself) has depth 0.
    fn depth(&self, id: Option<&str>) -> i64 {
        let mut depth = 0;
        let mut cursor = id.map(str::to_owned);
        while let Some(current) = cursor {
            depth += 1;
            cursor = self.parent.get(&current).cloned().flatten();
            if depth > self.parent.len() as i64 {
                break; // a cycle cannot be stored, but never loop on bad data
            }
        }
        depth
    }

    /// True when `candidate` is `ancestor` or lies below it.
    fn is_within(&self, candidate: &str, ancestor: &str) -> bool {
        let mut cursor = Some(candidate.to_owned());
        let mut steps = 0;
        while let Some(current) = cursor {
            if current == ancestor {
                return true;
            }
            steps += 1;
            if steps > self.parent.len() {
                return false;
            }
            cursor = self.parent.get(&current).cloned().flatten();
        }
        false
    }

    /// Levels in the subtree rooted at `id`, counting `id` itself as 1.
    fn height(&self, id: &str) -> i64 {
        let own = self.depth(Some(id));
        self.parent
            .keys()
            .filter(|f| self.is_within(f, id))
            .map(|f| self.depth(Some(f)) - own + 1)
            .max()
            .unwrap_or(1)
    }
}

/// Jobs and folders directly inside `folder_id` (`None`: the project root).
pub async fn count_entries(
    tx: &mut Tx,
    project_id: &str,
    folder_id: Option<&str>,
) -> Result<i64, Error> {
    let (n,): (i64,) = sqlx::query_as(
        "select (select count(*) from folders where project_id = $1 and coalesce(parent_id, '') = $2)
              + (select count(*) from jobs where project_id = $1 and coalesce(folder_id, '') = $2)",
    )
    .bind(project_id)
    .bind(folder_id.unwrap_or(""))
    .fetch_one(&mut **tx)
    .await?;
    Ok(n)
}

/// Refuses when `folder_id` (the destination of a new or moved entry) is full.
pub async fn ensure_room_in(
    tx: &mut Tx,
    limits: &Limits,
    project_id: &str,
    folder_id: Option<&str>,
) -> Result<(), Error> {
    let entries = count_entries(tx, project_id, folder_id).await?;
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

/// 422 unless `folder_id` is a folder of this project; the caller holds the project lock.
pub async fn ensure_folder_in_project(
    tx: &mut Tx,
    project_id: &str,
    folder_id: &str,
    field: &str,
) -> Result<(), Error> {
    let found: Option<(String,)> =
        sqlx::query_as("select id from folders where id = $1 and project_id = $2")
            .bind(folder_id)
            .bind(project_id)
            .fetch_optional(&mut **tx)
            .await?;
    found.map(|_| ()).ok_or_else(|| {
        Error::invalid(
            field,
            format!("{field} `{folder_id}` is not a folder of this project"),
        )
    })
}

async fn ensure_folder_name_free(
    tx: &mut Tx,
    project_id: &str,
    parent_id: Option<&str>,
    name: &str,
    except: &str,
) -> Result<(), Error> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from folders where project_id = $1 and coalesce(parent_id, '') = $2 and name = $3 and id <> $4")
        .bind(project_id)
        .bind(parent_id.unwrap_or(""))
        .bind(name)
        .bind(except)
        .fetch_one(&mut **tx)
        .await?;
    if n > 0 {
        return Err(Error::already_exists(
            "name",
            format!("a folder named `{name}` already exists there"),
        ));
    }
    Ok(())
}

#[utoipa::path(get, path = "/projects/{project_id}/folders", tag = "folders", params(("project_id" = String, Path), PageQuery),
    responses((status = 200, body = Paginated<Folder>), (status = 404, body = ErrorBody)))]
pub async fn list_folders(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path(project_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Folder>>> {
    let page = q.page()?;
    let rows: Vec<FolderRow> = sqlx::query_as(&format!(
        "select {FOLDER_COLUMNS} from folders f join projects p on p.id = f.project_id
          where p.account_id = $1 and f.project_id = $2 and f.id > $3 order by f.id limit $4"
    ))
    .bind(access.account().as_str())
    .bind(&project_id)
    .bind(&page.after)
    .bind(page.limit + 1)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter().map(folder_from_row).collect(),
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
    Path(project_id): Path<String>,
    Json(body): Json<CreateFolder>,
) -> ApiResult<(StatusCode, JsonResponse<Folder>)> {
    let name = Name::parse("name", &body.name)?;
    let limits = state.limits(access.plan());
    let mut tx = state.db.begin_write().await?;
    lock_project(&state.db, &mut tx, access.account(), &project_id).await?;
    let tree = Tree::load(&mut tx, &project_id).await?;
    let parent = body.parent_id.as_deref();
    if let Some(parent) = parent {
        if !tree.contains(parent) {
            return Err(Error::invalid(
                "parent_id",
                format!("parent_id `{parent}` is not a folder of this project"),
            )
            .into());
        }
    }
    ensure_below(
        count_in_project(&mut tx, "folders", &project_id).await?,
        limits.folders_per_project,
        "folders_per_project",
        "this project",
    )?;
    let depth = tree.depth(parent) + 1;
    if depth > limits.folder_depth {
        return Err(Error::limit_exceeded(
            "folder_depth",
            limits.folder_depth,
            format!(
                "folders nest at most {} deep; this folder would be at depth {depth}",
                limits.folder_depth
            ),
        )
        .into());
    }
    ensure_room_in(&mut tx, &limits, &project_id, parent).await?;
    ensure_folder_name_free(&mut tx, &project_id, parent, name.as_str(), "").await?;
    let id = new_id();
    let now = now_ms();
    sqlx::query("insert into folders (id, project_id, parent_id, name, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)")
        .bind(&id)
        .bind(&project_id)
        .bind(parent)
        .bind(name.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let folder = folder_from_row((
        id,
        project_id,
        body.parent_id,
        name.as_str().to_owned(),
        now,
        now,
    ));
    Ok((StatusCode::CREATED, JsonResponse(folder)))
}

async fn fetch_folder(
    state: &AppState,
    access: &ProjectAccess,
    project_id: &str,
    folder_id: &str,
) -> Result<Folder, Error> {
    let row: Option<FolderRow> = sqlx::query_as(&format!(
        "select {FOLDER_COLUMNS} from folders f join projects p on p.id = f.project_id
          where p.account_id = $1 and f.project_id = $2 and f.id = $3"
    ))
    .bind(access.account().as_str())
    .bind(project_id)
    .bind(folder_id)
    .fetch_optional(&state.db.pool)
    .await?;
    row.map(folder_from_row)
        .ok_or_else(|| Error::not_found("folder"))
}

#[utoipa::path(get, path = "/projects/{project_id}/folders/{folder_id}", tag = "folders",
    params(("project_id" = String, Path), ("folder_id" = String, Path)),
    responses((status = 200, body = Folder), (status = 404, body = ErrorBody)))]
pub async fn get_folder(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path((project_id, folder_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<Folder>> {
    Ok(JsonResponse(
        fetch_folder(&state, &access, &project_id, &folder_id).await?,
    ))
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
    Path((project_id, folder_id)): Path<(String, String)>,
    Json(body): Json<UpdateFolder>,
) -> ApiResult<JsonResponse<Folder>> {
    let new_name = body
        .name
        .as_deref()
        .map(|n| Name::parse("name", n))
        .transpose()?;
    let limits = state.limits(access.plan());
    let mut tx = state.db.begin_write().await?;
    lock_project(&state.db, &mut tx, access.account(), &project_id).await?;
    let tree = Tree::load(&mut tx, &project_id).await?;
    let Some(current_parent) = tree.parent.get(&folder_id).cloned() else {
        return Err(Error::not_found("folder").into());
    };
    let (current_name,): (String,) = sqlx::query_as("select name from folders where id = $1")
        .bind(&folder_id)
        .fetch_one(&mut *tx)
        .await?;
    let parent = match &body.parent_id {
        None => current_parent.clone(),
        Some(None) => None,
        Some(Some(p)) => {
            if !tree.contains(p) {
                return Err(Error::invalid(
                    "parent_id",
                    format!("parent_id `{p}` is not a folder of this project"),
                )
                .into());
            }
            if tree.is_within(p, &folder_id) {
                return Err(Error::invalid(
                    "parent_id",
                    "a folder cannot be moved into itself or one of its own subfolders",
                )
                .into());
            }
            Some(p.clone())
        }
    };
    if parent != current_parent {
        let depth = tree.depth(parent.as_deref()) + tree.height(&folder_id);
        if depth > limits.folder_depth {
            return Err(Error::limit_exceeded(
                "folder_depth",
                limits.folder_depth,
                format!("folders nest at most {} deep; after this move the deepest folder would be at depth {depth}", limits.folder_depth),
            ).into());
        }
        ensure_room_in(&mut tx, &limits, &project_id, parent.as_deref()).await?;
    }
    let name = new_name
        .map(|n| n.as_str().to_owned())
        .unwrap_or(current_name);
    ensure_folder_name_free(&mut tx, &project_id, parent.as_deref(), &name, &folder_id).await?;
    sqlx::query("update folders set name = $1, parent_id = $2, updated_at = $3 where id = $4 and project_id = $5")
        .bind(&name)
        .bind(parent.as_deref())
        .bind(now_ms())
        .bind(&folder_id)
        .bind(&project_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(JsonResponse(
        fetch_folder(&state, &access, &project_id, &folder_id).await?,
    ))
}

/// Deletes an empty folder; a folder with jobs or folders in it is refused.
#[utoipa::path(delete, path = "/projects/{project_id}/folders/{folder_id}", tag = "folders",
    params(("project_id" = String, Path), ("folder_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_folder(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path((project_id, folder_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    lock_project(&state.db, &mut tx, access.account(), &project_id).await?;
    ensure_folder_in_project(&mut tx, &project_id, &folder_id, "folder_id")
        .await
        .map_err(|_| Error::not_found("folder"))?;
    let entries = count_entries(&mut tx, &project_id, Some(&folder_id)).await?;
    if entries > 0 {
        return Err(Error::conflict(
            "folder_not_empty",
            format!("the folder still holds {entries} jobs or folders; move or delete them first"),
        )
        .into());
    }
    sqlx::query("delete from folders where id = $1 and project_id = $2")
        .bind(&folder_id)
        .bind(&project_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
