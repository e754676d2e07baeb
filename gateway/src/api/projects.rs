//! Projects (workspaces): at most `projects_per_account` per account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, AccountGuard, ProjectGuard, ProjectVisibility};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use domain::limits::{ensure_below, Limits};
use store::names::{bounded_text, Name};
use store::projects::{ProjectRow, ProjectUsageRow, Visible};

const MAX_DESCRIPTION_CHARS: usize = 2000;

#[derive(Serialize, ToSchema)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The engine cluster deployments use unless they name another.
    pub default_cluster_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectDetail {
    #[serde(flatten)]
    pub project: Project,
    pub limits: Limits,
    pub usage: ProjectUsage,
    /// The caller's effective role here (`owner`, `admin`, `editor` or `viewer`): an
    /// account admin acts as owner, a token narrowed to a role as at most that role.
    pub my_role: crate::access::roles::ProjectRole,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectUsage {
    pub jobs: i64,
    pub folders: i64,
    pub connections: i64,
    pub artifacts: i64,
}

impl From<ProjectRow> for Project {
    fn from(row: ProjectRow) -> Self {
        Project {
            id: row.id,
            name: row.name,
            description: row.description,
            default_cluster_id: row.default_cluster_id,
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

impl From<ProjectUsageRow> for ProjectUsage {
    fn from(row: ProjectUsageRow) -> Self {
        ProjectUsage {
            jobs: row.jobs,
            folders: row.folders,
            connections: row.connections,
            artifacts: row.artifacts,
        }
    }
}

fn duplicate_name(name: &str) -> Error {
    Error::already_exists(
        "name",
        format!("a project named `{name}` already exists in this account"),
    )
}

#[utoipa::path(get, path = "/projects", tag = "projects", params(PageQuery),
    responses((status = 200, body = Paginated<Project>), (status = 401, body = ErrorBody)))]
pub async fn list_projects(
    access: AccountGuard<can::account::Read>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Project>>> {
    let page = q.page()?;
    // Account owners and admins see every project; others those they are members of.
    let visibility = access.project_visibility();
    let visible = match &visibility {
        ProjectVisibility::All => Visible::All,
        ProjectVisibility::MemberOf(user) => Visible::MemberOf(user),
        ProjectVisibility::Only(project) => Visible::Only(project),
    };
    let rows = access.scope().projects().list(visible, &page).await?;
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter().map(Project::from).collect(),
        &page,
        |p| &p.id,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    pub name: String,
    /// Free text (no control characters but line breaks and tabs).
    #[serde(default)]
    #[schema(pattern = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$")]
    pub description: String,
}

#[utoipa::path(post, path = "/projects", tag = "projects", request_body = CreateProject,
    responses((status = 201, body = Project), (status = 409, body = ErrorBody, description = "duplicate name, `projects_per_account` reached, or `lifecycle_restricted`: the product form is past EOM1 (no new purchases)"), (status = 422, body = ErrorBody)))]
pub async fn create_project(
    State(state): State<AppState>,
    access: AccountGuard<can::account::CreateProject>,
    Json(body): Json<CreateProject>,
) -> ApiResult<(StatusCode, JsonResponse<Project>)> {
    let name = Name::parse("name", &body.name)?;
    let description = bounded_text("description", &body.description, MAX_DESCRIPTION_CHARS)?;
    let limits = state.limits(access.plan());
    // A new project is a new pay-as-you-go purchase: refused from its form's EOM1 on.
    domain::product_forms::ensure_form_allows(
        &state.db,
        domain::product_forms::DEFAULT_PRODUCT_FORM,
        lifecycle::Action::NewPurchase,
    )
    .await?;
    // The account's lock serialises project creation in one account.
    let mut write = access.scope().write().await?;
    ensure_below(
        write.projects().count().await?,
        limits.projects_per_account,
        "projects_per_account",
        "this account",
    )?;
    if write.projects().name_taken(name.as_str()).await? {
        return Err(duplicate_name(name.as_str()).into());
    }
    let project = write
        .projects()
        .insert(name.as_str(), &description, access.user_id())
        .await?;
    write.commit().await?;
    Ok((StatusCode::CREATED, JsonResponse(project.into())))
}

/// A project with its plan's limits and what it uses of them.
#[utoipa::path(get, path = "/projects/{project_id}", tag = "projects", params(("project_id" = String, Path)),
    responses((status = 200, body = ProjectDetail), (status = 404, body = ErrorBody)))]
pub async fn get_project(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path(_project_id): Path<String>,
) -> ApiResult<JsonResponse<ProjectDetail>> {
    let project = access.scope().project().get().await?;
    let usage = access.scope().project().usage().await?;
    Ok(JsonResponse(ProjectDetail {
        project: project.into(),
        limits: state.limits(access.plan()),
        usage: usage.into(),
        my_role: access.role(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    pub name: Option<String>,
    #[schema(pattern = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$")]
    pub description: Option<String>,
    /// A cluster of this account or the platform's; `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>)]
    pub default_cluster_id: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/projects/{project_id}", tag = "projects", params(("project_id" = String, Path)), request_body = UpdateProject,
    responses((status = 200, body = Project), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_project(
    access: ProjectGuard<can::Update>,
    Path(_project_id): Path<String>,
    Json(body): Json<UpdateProject>,
) -> ApiResult<JsonResponse<Project>> {
    let name = body
        .name
        .as_deref()
        .map(|n| Name::parse("name", n))
        .transpose()?;
    let description = body
        .description
        .as_deref()
        .map(|d| bounded_text("description", d, MAX_DESCRIPTION_CHARS))
        .transpose()?;
    let mut write = access.scope().write_with_account().await?;
    if let Some(name) = &name {
        if write.project().name_taken(name.as_str()).await? {
            return Err(duplicate_name(name.as_str()).into());
        }
    }
    write
        .project()
        .update(name.as_ref().map(Name::as_str), description.as_deref())
        .await?;
    if let Some(cluster) = &body.default_cluster_id {
        if let Some(cluster_id) = cluster {
            super::clusters::visible_cluster(&access.scope().account(), cluster_id)
                .await
                .map_err(|_| {
                    Error::invalid(
                        "default_cluster_id",
                        "default_cluster_id names no cluster this account may use",
                    )
                })?;
        }
        write
            .project()
            .set_default_cluster(cluster.as_deref())
            .await?;
    }
    write.commit().await?;
    Ok(JsonResponse(access.scope().project().get().await?.into()))
}

/// Deletes the project with everything in it: folders, jobs, versions, connections and artifacts.
#[utoipa::path(delete, path = "/projects/{project_id}", tag = "projects", params(("project_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_project(
    State(state): State<AppState>,
    access: ProjectGuard<can::Delete>,
    Path(project_id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    let active = write.project().active_deployments().await?;
    if active > 0 {
        return Err(Error::conflict(
            "deployments_active",
            format!("stop the project's {active} running deployment(s) first"),
        )
        .into());
    }
    // Savepoint files are disposed of by deleting the deployments; never dropped silently.
    let saved = write.project().kept_savepoints().await?;
    if saved > 0 {
        return Err(Error::conflict(
            "savepoints_exist",
            format!("the project's deployments keep {saved} savepoint(s); delete the deployments first, which disposes of them"),
        ).into());
    }
    write.project().delete().await?;
    write.commit().await?;
    // Files go after the rows: a crash in between leaves unreferenced bytes, never a row without its file.
    state.files.remove_project(&project_id).await;
    Ok(StatusCode::NO_CONTENT)
}
