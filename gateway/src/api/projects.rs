//! Projects (workspaces): at most `projects_per_account` per account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, AccountGuard, AccountId, ProjectGuard, ProjectVisibility};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::limits::{ensure_below, Limits};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use store::db::{new_id, now_ms, Db, Tx};
use store::names::{bounded_text, Name};

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

type ProjectRow = (String, String, String, Option<String>, i64, i64);
const PROJECT_COLUMNS: &str = "id, name, description, default_cluster_id, created_at, updated_at";

fn project_from_row(
    (id, name, description, default_cluster_id, created, updated): ProjectRow,
) -> Project {
    Project {
        id,
        name,
        description,
        default_cluster_id,
        created_at: rfc3339(created),
        updated_at: rfc3339(updated),
    }
}

/// Locks the project row for the rest of `tx` (404 unless it belongs to `account`).
/// Every create inside a project takes this lock first, which serialises concurrent
/// creates so limit checks and name checks that follow cannot race.
pub async fn lock_project(
    db: &Db,
    tx: &mut Tx,
    account: &AccountId,
    project_id: &str,
) -> Result<(), Error> {
    let found: Option<(String,)> = sqlx::query_as(&format!(
        "select id from projects where id = $1 and account_id = $2{}",
        db.for_update()
    ))
    .bind(project_id)
    .bind(account.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    found.map(|_| ()).ok_or_else(|| Error::not_found("project"))
}

/// Counts rows of `table` in a project; `table` is always a constant of ours.
pub async fn count_in_project(
    tx: &mut Tx,
    table: &'static str,
    project_id: &str,
) -> Result<i64, Error> {
    let (n,): (i64,) = sqlx::query_as(&format!(
        "select count(*) from {table} where project_id = $1"
    ))
    .bind(project_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n)
}

#[utoipa::path(get, path = "/projects", tag = "projects", params(PageQuery),
    responses((status = 200, body = Paginated<Project>), (status = 401, body = ErrorBody)))]
pub async fn list_projects(
    State(state): State<AppState>,
    access: AccountGuard<can::account::Read>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Project>>> {
    let page = q.page()?;
    // Account owners and admins see every project; others those they are members of.
    let (filter, member) = match access.project_visibility() {
        ProjectVisibility::All => ("", String::new()),
        ProjectVisibility::MemberOf(user) => (
            " and exists (select 1 from project_members pm where pm.project_id = projects.id and pm.user_id = $4)",
            user,
        ),
        ProjectVisibility::Only(project) => (" and id = $4", project),
    };
    let sql = format!(
        "select {PROJECT_COLUMNS} from projects where account_id = $1 and id > $2{filter} order by id limit $3"
    );
    let mut query = sqlx::query_as::<_, ProjectRow>(&sql)
        .bind(access.account().as_str())
        .bind(&page.after)
        .bind(page.limit + 1);
    if !filter.is_empty() {
        query = query.bind(member);
    }
    let rows = query.fetch_all(&state.db.pool).await?;
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter().map(project_from_row).collect(),
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
    responses((status = 201, body = Project), (status = 409, body = ErrorBody, description = "duplicate name or `projects_per_account` reached"), (status = 422, body = ErrorBody)))]
pub async fn create_project(
    State(state): State<AppState>,
    access: AccountGuard<can::account::CreateProject>,
    Json(body): Json<CreateProject>,
) -> ApiResult<(StatusCode, JsonResponse<Project>)> {
    let name = Name::parse("name", &body.name)?;
    let description = bounded_text("description", &body.description, MAX_DESCRIPTION_CHARS)?;
    let limits = state.limits(access.plan());
    let db = &state.db;
    let mut tx = db.begin_write().await?;
    // The account row is the lock that serialises project creation in one account.
    sqlx::query(&format!(
        "select id from accounts where id = $1{}",
        db.for_update()
    ))
    .bind(access.account().as_str())
    .fetch_one(&mut *tx)
    .await?;
    let (count,): (i64,) = sqlx::query_as("select count(*) from projects where account_id = $1")
        .bind(access.account().as_str())
        .fetch_one(&mut *tx)
        .await?;
    ensure_below(
        count,
        limits.projects_per_account,
        "projects_per_account",
        "this account",
    )?;
    ensure_project_name_free(&mut tx, access.account(), name.as_str(), None).await?;
    let id = new_id();
    let now = now_ms();
    sqlx::query("insert into projects (id, account_id, name, description, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)")
        .bind(&id)
        .bind(access.account().as_str())
        .bind(name.as_str())
        .bind(&description)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    // The creator owns the project, so it keeps an owner if account roles change later.
    sqlx::query("insert into project_members (project_id, user_id, role, created_at) values ($1, $2, 'owner', $3)")
        .bind(&id)
        .bind(access.user_id())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(project_from_row((
            id,
            name.as_str().to_owned(),
            description,
            None,
            now,
            now,
        ))),
    ))
}

async fn ensure_project_name_free(
    tx: &mut Tx,
    account: &AccountId,
    name: &str,
    except: Option<&str>,
) -> Result<(), Error> {
    let (n,): (i64,) = sqlx::query_as(
        "select count(*) from projects where account_id = $1 and name = $2 and id <> $3",
    )
    .bind(account.as_str())
    .bind(name)
    .bind(except.unwrap_or(""))
    .fetch_one(&mut **tx)
    .await?;
    if n > 0 {
        return Err(Error::already_exists(
            "name",
            format!("a project named `{name}` already exists in this account"),
        ));
    }
    Ok(())
}

async fn fetch_project(db: &Db, account: &AccountId, project_id: &str) -> Result<Project, Error> {
    let row: Option<ProjectRow> = sqlx::query_as(&format!(
        "select {PROJECT_COLUMNS} from projects where id = $1 and account_id = $2"
    ))
    .bind(project_id)
    .bind(account.as_str())
    .fetch_optional(&db.pool)
    .await?;
    row.map(project_from_row)
        .ok_or_else(|| Error::not_found("project"))
}

/// A project with its plan's limits and what it uses of them.
#[utoipa::path(get, path = "/projects/{project_id}", tag = "projects", params(("project_id" = String, Path)),
    responses((status = 200, body = ProjectDetail), (status = 404, body = ErrorBody)))]
pub async fn get_project(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path(project_id): Path<String>,
) -> ApiResult<JsonResponse<ProjectDetail>> {
    let project = fetch_project(&state.db, access.account(), &project_id).await?;
    let (jobs, folders, connections, artifacts): (i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from jobs where project_id = $1), (select count(*) from folders where project_id = $1),
                (select count(*) from connections where project_id = $1), (select count(*) from artifacts where project_id = $1)",
    )
    .bind(&project_id)
    .fetch_one(&state.db.pool)
    .await?;
    Ok(JsonResponse(ProjectDetail {
        project,
        limits: state.limits(access.plan()),
        usage: ProjectUsage {
            jobs,
            folders,
            connections,
            artifacts,
        },
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
    State(state): State<AppState>,
    access: ProjectGuard<can::Update>,
    Path(project_id): Path<String>,
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
    let db = &state.db;
    let mut tx = db.begin_write().await?;
    sqlx::query(&format!(
        "select id from accounts where id = $1{}",
        db.for_update()
    ))
    .bind(access.account().as_str())
    .fetch_one(&mut *tx)
    .await?;
    lock_project(db, &mut tx, access.account(), &project_id).await?;
    if let Some(name) = &name {
        ensure_project_name_free(&mut tx, access.account(), name.as_str(), Some(&project_id))
            .await?;
    }
    sqlx::query(
        "update projects set name = coalesce($1, name), description = coalesce($2, description), updated_at = $3
          where id = $4 and account_id = $5",
    )
    .bind(name.as_ref().map(Name::as_str))
    .bind(description)
    .bind(now_ms())
    .bind(&project_id)
    .bind(access.account().as_str())
    .execute(&mut *tx)
    .await?;
    if let Some(cluster) = &body.default_cluster_id {
        if let Some(cluster_id) = cluster {
            super::clusters::visible_cluster(db, access.account(), cluster_id)
                .await
                .map_err(|_| {
                    Error::invalid(
                        "default_cluster_id",
                        "default_cluster_id names no cluster this account may use",
                    )
                })?;
        }
        sqlx::query("update projects set default_cluster_id = $1 where id = $2")
            .bind(cluster)
            .bind(&project_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(JsonResponse(
        fetch_project(db, access.account(), &project_id).await?,
    ))
}

/// Deletes the project with everything in it: folders, jobs, versions, connections and artifacts.
#[utoipa::path(delete, path = "/projects/{project_id}", tag = "projects", params(("project_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_project(
    State(state): State<AppState>,
    access: ProjectGuard<can::Delete>,
    Path(project_id): Path<String>,
) -> ApiResult<StatusCode> {
    let (active,): (i64,) = sqlx::query_as(
        "select count(*) from deployments where project_id = $1 and (desired_state = 'RUNNING' or engine_job_id is not null)",
    )
    .bind(&project_id)
    .fetch_one(&state.db.pool)
    .await?;
    if active > 0 {
        return Err(Error::conflict(
            "deployments_active",
            format!("stop the project's {active} running deployment(s) first"),
        )
        .into());
    }
    // Savepoint files are disposed of by deleting the deployments; never dropped silently.
    let (saved,): (i64,) = sqlx::query_as(
        "select count(*) from savepoints s join deployments d on d.id = s.deployment_id
          where d.project_id = $1 and s.location is not null",
    )
    .bind(&project_id)
    .fetch_one(&state.db.pool)
    .await?;
    if saved > 0 {
        return Err(Error::conflict(
            "savepoints_exist",
            format!("the project's deployments keep {saved} savepoint(s); delete the deployments first, which disposes of them"),
        ).into());
    }
    let done = sqlx::query("delete from projects where id = $1 and account_id = $2")
        .bind(&project_id)
        .bind(access.account().as_str())
        .execute(&state.db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("project").into());
    }
    // Files go after the rows: a crash in between leaves unreferenced bytes, never a row without its file.
    state.files.remove_project(&project_id).await;
    Ok(StatusCode::NO_CONTENT)
}
