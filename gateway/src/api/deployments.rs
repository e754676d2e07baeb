//! Deployments: a saved job version on an engine cluster with its resources, and the
//! operations on it (start, stop with or without savepoint, upgrade, savepoints).
//! Each operation changes the desired state at once (409 if another operation got
//! there first) and answers 202; the reconciler carries it out on the engine, and the
//! deployment's status and events tell how it went.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::clusters::visible_cluster;
use super::jobs::fetch_job;
use super::rfc3339;
use crate::access::{can, ProjectGuard};
use crate::db::{new_id, now_ms};
use crate::domain::Name;
use crate::engine::engine_error;
use crate::engine::reconciler::kick;
use crate::engine::record::{
    self, DeploymentRow, CANCELLED, CREATED, DEPLOYMENT_SELECT, FAILED, FINISHED, RUNNING,
    STARTING, STOPPING, SUSPENDED, TRANSITIONING,
};
use crate::engine::savepoints::{insert_savepoint, request_user_savepoint};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;

const MAX_PARALLELISM: i64 = 64;

#[derive(Serialize, ToSchema)]
pub struct Deployment {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub job_id: String,
    pub job_version: i64,
    pub cluster_id: String,
    pub parallelism: i64,
    /// CU per parallel task (1 CU = 1 core + 4 GiB).
    pub cu_per_task: f64,
    /// CU held while running: parallelism x cu_per_task.
    pub total_cu: f64,
    /// What was asked for: RUNNING, SUSPENDED or CANCELLED.
    pub desired_state: String,
    /// What the engine was last seen doing: CREATED, STARTING, RUNNING, TRANSITIONING,
    /// STOPPING, SUSPENDED, CANCELLED, FAILED or FINISHED.
    pub status: String,
    pub engine_job_id: Option<String>,
    /// How the next start restores state.
    pub restore_mode: String,
    /// A stateful upgrade waiting for its savepoint.
    pub pending_version: Option<i64>,
    pub last_error: Option<String>,
    /// Restarts Sluice made after the job ended while meant to run.
    pub restart_count: i64,
    /// Restarts the engine made by itself (its restart strategy) of the current job.
    pub engine_restarts: i64,
    /// The failure the engine last restarted the job from (the deepest cause it gave).
    pub last_engine_failure: Option<String>,
    /// Whether the current engine job's submission is still unacknowledged: Sluice
    /// recorded it and is making sure the engine runs it exactly once.
    pub submission_pending: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn cu(milli: i64) -> f64 {
    // Exact: CU are multiples of 0.25.
    milli as f64 / 1000.0
}

impl From<DeploymentRow> for Deployment {
    fn from(d: DeploymentRow) -> Self {
        Deployment {
            total_cu: cu(d.cu_milli()),
            cu_per_task: cu(d.cu_per_task_milli),
            id: d.id,
            project_id: d.project_id,
            name: d.name,
            job_id: d.job_id,
            job_version: d.job_version,
            cluster_id: d.cluster_id,
            parallelism: d.parallelism,
            desired_state: d.desired_state,
            status: d.status,
            engine_job_id: d.engine_job_id,
            restore_mode: d.restore_mode,
            pending_version: d.pending_version,
            last_error: d.last_error,
            restart_count: d.restart_count,
            engine_restarts: d.engine_restarts,
            last_engine_failure: d.last_engine_failure,
            submission_pending: d.intent_state.as_deref()
                == Some(crate::engine::submission::INTENDED),
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
        }
    }
}

pub(crate) async fn fetch(
    state: &AppState,
    access: &crate::access::ProjectAccess,
    id: &str,
) -> Result<DeploymentRow, ApiError> {
    let row: Option<DeploymentRow> = sqlx::query_as(&format!(
        "{DEPLOYMENT_SELECT} where d.id = $1 and d.project_id = $2 and p.account_id = $3"
    ))
    .bind(id)
    .bind(access.project_id())
    .bind(access.account().as_str())
    .fetch_optional(&state.db.pool)
    .await?;
    row.ok_or_else(|| ApiError::not_found("deployment"))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeploymentsQuery {
    /// Only the deployments of this job.
    pub job_id: Option<String>,
    /// Only deployments in this observed status (e.g. `RUNNING`, `FAILED`).
    #[param(
        pattern = "^(CREATED|STARTING|RUNNING|STOPPING|TRANSITIONING|SUSPENDED|CANCELLED|FAILED|FINISHED)?$"
    )]
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/projects/{project_id}/deployments", tag = "deployments", params(("project_id" = String, Path), DeploymentsQuery),
    responses((status = 200, body = Paginated<Deployment>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_deployments(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Query(q): Query<DeploymentsQuery>,
) -> ApiResult<JsonResponse<Paginated<Deployment>>> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let status = q.status.unwrap_or_default();
    const STATUSES: [&str; 9] = [
        CREATED,
        STARTING,
        RUNNING,
        STOPPING,
        TRANSITIONING,
        SUSPENDED,
        CANCELLED,
        FAILED,
        FINISHED,
    ];
    if !status.is_empty() && !STATUSES.contains(&status.as_str()) {
        return Err(ApiError::invalid(
            "status",
            format!("status is one of {}", STATUSES.join(", ")),
        ));
    }
    let rows: Vec<DeploymentRow> = sqlx::query_as(&format!(
        "{DEPLOYMENT_SELECT} where d.project_id = $1 and p.account_id = $2 and d.id > $3
            and ($5 = '' or d.job_id = $5) and ($6 = '' or d.status = $6)
          order by d.id limit $4"
    ))
    .bind(access.project_id())
    .bind(access.account().as_str())
    .bind(&page.after)
    .bind(page.limit + 1)
    .bind(q.job_id.unwrap_or_default())
    .bind(&status)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter().map(Deployment::from).collect(),
        &page,
        |d| &d.id,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeployment {
    pub name: String,
    pub job_id: String,
    /// A saved version of the job; default: its newest.
    pub version: Option<i64>,
    /// Default: the project's cluster, else the platform's.
    pub cluster_id: Option<String>,
    /// 1 to 64 (default 1).
    #[schema(minimum = 1, maximum = 64)]
    pub parallelism: Option<i64>,
    /// CU per parallel task, a multiple of 0.25 from 0.25 to 16 (default 1).
    #[schema(minimum = 0.25, maximum = 16, multiple_of = 0.25)]
    pub cu_per_task: Option<f64>,
}

fn cu_milli(field: &str, value: f64) -> Result<i64, ApiError> {
    let quarters = value * 4.0;
    if !(1.0..=64.0).contains(&quarters) || quarters.fract() != 0.0 {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be a multiple of 0.25 from 0.25 to 16, got {value}"),
        ));
    }
    Ok(quarters as i64 * 250)
}

/// Creates a deployment of a saved job version (not started yet).
#[utoipa::path(post, path = "/projects/{project_id}/deployments", tag = "deployments", params(("project_id" = String, Path)),
    request_body = CreateDeployment,
    responses((status = 201, body = Deployment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_deployment(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Json(body): Json<CreateDeployment>,
) -> ApiResult<(StatusCode, JsonResponse<Deployment>)> {
    let name = Name::parse("name", &body.name)?;
    let parallelism = body.parallelism.unwrap_or(1);
    if !(1..=MAX_PARALLELISM).contains(&parallelism) {
        return Err(ApiError::invalid(
            "parallelism",
            format!("parallelism must be between 1 and {MAX_PARALLELISM}, got {parallelism}"),
        ));
    }
    let cu_per_task = cu_milli("cu_per_task", body.cu_per_task.unwrap_or(1.0))?;
    let job = fetch_job(
        &state.db,
        access.account(),
        access.project_id(),
        &body.job_id,
    )
    .await
    .map_err(|e| e.with_field("job_id"))?;
    let cluster_id = match &body.cluster_id {
        Some(id) => {
            visible_cluster(&state.db, access.account(), id)
                .await
                .map_err(|e| e.with_field("cluster_id"))?
                .id
        }
        None => super::clusters::project_cluster(&state.db, access.project_id())
            .await?
            .map(|(id, _)| id)
            .ok_or_else(|| {
                ApiError::invalid(
                    "cluster_id",
                    "no cluster given, and the project has no default cluster",
                )
            })?,
    };
    let version = match body.version {
        Some(v) => v,
        None if job.last_version > 0 => job.last_version,
        None => return Err(ApiError::invalid("version", "the job has no saved version; save one first (deployments run saved versions, not drafts)")),
    };
    let mut tx = state.db.begin_write().await?;
    crate::api::projects::lock_project(&state.db, &mut tx, access.account(), access.project_id())
        .await?;
    crate::product_forms::ensure_engine_allows(&mut tx, &cluster_id, false).await?;
    let content = crate::api::versions::fetch_version(&mut tx, &job.id, version)
        .await?
        .content;
    let (taken,): (i64,) =
        sqlx::query_as("select count(*) from deployments where project_id = $1 and name = $2")
            .bind(access.project_id())
            .bind(name.as_str())
            .fetch_one(&mut *tx)
            .await?;
    if taken > 0 {
        return Err(ApiError::already_exists(
            "name",
            format!(
                "a deployment named `{}` already exists in this project",
                name.as_str()
            ),
        ));
    }
    let (kind, sql, artifact, entry, args) = content.columns();
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "insert into deployments (id, project_id, job_id, name, job_version, kind, sql_text, artifact_id, entry_class, args,
                                  cluster_id, parallelism, cu_per_task_milli, desired_state, status, restore_mode,
                                  restart_count, revision, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'CANCELLED', 'CREATED', 'NONE', 0, 1, $14, $14)",
    )
    .bind(&id)
    .bind(access.project_id())
    .bind(&job.id)
    .bind(name.as_str())
    .bind(version)
    .bind(kind)
    .bind(sql)
    .bind(artifact)
    .bind(entry)
    .bind(&args)
    .bind(&cluster_id)
    .bind(parallelism)
    .bind(cu_per_task)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    record::event(
        &state,
        &id,
        "created",
        &format!("version {version} of job `{}`", job.name),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(fetch(&state, &access, &id).await?.into()),
    ))
}

#[utoipa::path(get, path = "/projects/{project_id}/deployments/{deployment_id}", tag = "deployments",
    params(("project_id" = String, Path), ("deployment_id" = String, Path)),
    responses((status = 200, body = Deployment), (status = 404, body = ErrorBody)))]
pub async fn get_deployment(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path((_project_id, deployment_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<Deployment>> {
    Ok(JsonResponse(
        fetch(&state, &access, &deployment_id).await?.into(),
    ))
}

/// Deletes a stopped deployment (its run history stays for billing).
#[utoipa::path(delete, path = "/projects/{project_id}/deployments/{deployment_id}", tag = "deployments",
    params(("project_id" = String, Path), ("deployment_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_deployment(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, deployment_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let d = fetch(&state, &access, &deployment_id).await?;
    if d.desired_state == record::RUNNING || d.engine_job_id.is_some() {
        return Err(ApiError::conflict(
            "deployment_active",
            "stop the deployment first; it is running or stopping",
        ));
    }
    // Its savepoints' files go first: a record is never dropped while its files may exist.
    let savepoints: Vec<(String, String)> = sqlx::query_as(
        "select id, location from savepoints where deployment_id = $1 and location is not null",
    )
    .bind(&d.id)
    .fetch_all(&state.db.pool)
    .await?;
    if !savepoints.is_empty() {
        let client = state.engines.client(&d.rest_url)?;
        for (id, location) in savepoints {
            client
                .dispose_savepoint(&location, std::time::Duration::from_secs(60))
                .await
                .map_err(engine_error)?;
            sqlx::query("delete from savepoints where id = $1")
                .bind(&id)
                .execute(&state.db.pool)
                .await?;
        }
    }
    let deleted = sqlx::query(
        "delete from deployments where id = $1 and desired_state <> 'RUNNING' and engine_job_id is null",
    )
    .bind(&d.id)
    .execute(&state.db.pool)
    .await?;
    if deleted.rows_affected() == 0 {
        return Err(ApiError::conflict(
            "deployment_active",
            "stop the deployment first; it is running or stopping",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StartDeployment {
    /// NONE (stateless), LATEST_SAVEPOINT, FROM_SAVEPOINT (with savepoint_id) or
    /// LATEST_STATE (newest checkpoint or savepoint). Default LATEST_STATE.
    #[schema(pattern = "^(NONE|LATEST_SAVEPOINT|FROM_SAVEPOINT|LATEST_STATE)$")]
    pub restore_mode: Option<String>,
    pub savepoint_id: Option<String>,
    /// Consent to start from empty state: needed to start with NONE a deployment that
    /// has state to lose, and to start when the state asked for (LATEST_SAVEPOINT, or
    /// LATEST_STATE of a deployment that ran with state) cannot be found. Without it
    /// such a start is refused (409 `no_state_to_restore`), before or on the engine.
    #[serde(default)]
    pub allow_empty_state: bool,
}

/// Starts the deployment. 409 if it is already running or starting.
#[utoipa::path(post, path = "/projects/{project_id}/deployments/{deployment_id}/start", tag = "deployments",
    params(("project_id" = String, Path), ("deployment_id" = String, Path)), request_body = StartDeployment,
    responses((status = 202, body = Deployment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start_deployment(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, deployment_id)): Path<(String, String)>,
    Json(body): Json<StartDeployment>,
) -> ApiResult<(StatusCode, JsonResponse<Deployment>)> {
    let d = fetch(&state, &access, &deployment_id).await?;
    let mode = body.restore_mode.as_deref().unwrap_or("LATEST_STATE");
    match mode {
        "NONE" | "LATEST_SAVEPOINT" | "LATEST_STATE" => {}
        "FROM_SAVEPOINT" => {
            let sp = body.savepoint_id.as_deref().ok_or_else(|| ApiError::invalid("savepoint_id", "FROM_SAVEPOINT needs savepoint_id"))?;
            let (n,): (i64,) = sqlx::query_as(
                "select count(*) from savepoints where id = $1 and deployment_id = $2 and state = 'COMPLETED'",
            )
            .bind(sp)
            .bind(&d.id)
            .fetch_one(&state.db.pool)
            .await?;
            if n == 0 {
                return Err(ApiError::invalid("savepoint_id", "savepoint_id names no completed savepoint of this deployment"));
            }
        }
        other => {
            return Err(ApiError::invalid(
                "restore_mode",
                format!("restore_mode must be NONE, LATEST_SAVEPOINT, FROM_SAVEPOINT or LATEST_STATE, got `{other}`"),
            ))
        }
    }
    let (saved,): (i64,) = sqlx::query_as(
        "select count(*) from savepoints where deployment_id = $1 and state = 'COMPLETED'",
    )
    .bind(&d.id)
    .fetch_one(&state.db.pool)
    .await?;
    if !body.allow_empty_state {
        let has_state = saved > 0 || d.last_checkpoint_path.is_some();
        match mode {
            "NONE" if has_state => {
                return Err(ApiError::conflict(
                    "state_would_be_lost",
                    "this deployment has saved state; starting with NONE starts from empty state. Send allow_empty_state: true to do that, or use LATEST_STATE",
                ));
            }
            "LATEST_SAVEPOINT" if saved == 0 => {
                return Err(ApiError::conflict(
                    "no_state_to_restore",
                    "restore_mode LATEST_SAVEPOINT needs a completed savepoint, and this deployment has none. Send allow_empty_state: true to start from empty state",
                ));
            }
            // It ran with state before, and none of it is left: starting would lose it.
            "LATEST_STATE" if !has_state && d.had_state == 1 => {
                return Err(ApiError::conflict(
                    "no_state_to_restore",
                    "restore_mode LATEST_STATE found no checkpoint or savepoint left of this deployment, although it ran with state. Send allow_empty_state: true to start from empty state",
                ));
            }
            _ => {}
        }
    }
    // One transaction under the project's lock: the capacity check and the start
    // cannot interleave with another start, so racing starts cannot exceed it.
    let mut tx = state.db.begin_write().await?;
    crate::api::projects::lock_project(&state.db, &mut tx, access.account(), access.project_id())
        .await?;
    crate::balance::ensure_not_in_arrears(&mut tx, access.account().as_str()).await?;
    crate::product_forms::ensure_engine_allows(&mut tx, &d.cluster_id, true).await?;
    crate::product_forms::ensure_allowed(&mut tx, access.project_id(), lifecycle::Action::Run)
        .await?;
    ensure_capacity(&mut tx, &d).await?;
    // Only one start wins: the others see it already wanting to run. A deployment whose
    // job failed (restarts used up) still wants to run and may be started again.
    let started = sqlx::query(
        "update deployments set desired_state = 'RUNNING', status = 'STARTING', restore_mode = $1, restore_savepoint_id = $2,
                restart_count = 0, last_error = null, allow_empty_state = $3, revision = revision + 1, updated_at = $4
          where id = $5 and (desired_state <> 'RUNNING' or status = 'FAILED') and engine_job_id is null",
    )
    .bind(mode)
    .bind(&body.savepoint_id)
    .bind(i64::from(body.allow_empty_state))
    .bind(now_ms())
    .bind(&d.id)
    .execute(&mut *tx)
    .await?;
    if started.rows_affected() == 0 {
        return Err(ApiError::conflict(
            "deployment_active",
            "the deployment is already running, starting or stopping",
        ));
    }
    tx.commit().await?;
    record::event(&state, &d.id, "start", &format!("start requested ({mode})")).await?;
    kick(&state, &d.id);
    Ok((
        StatusCode::ACCEPTED,
        JsonResponse(fetch(&state, &access, &d.id).await?.into()),
    ))
}

/// A subscription project's running deployments may hold at most its purchased CU
/// (with any temporary upgrade open now).
async fn ensure_capacity(tx: &mut crate::db::Tx, d: &DeploymentRow) -> Result<(), ApiError> {
    let Some(purchased) = crate::capacity::purchased(tx, &d.project_id, now_ms()).await? else {
        return Ok(()); // pay-as-you-go: billed for what runs
    };
    let in_use = crate::capacity::in_use(tx, &d.project_id, Some(&d.id)).await?;
    let needed = d.cu_milli();
    let total = purchased.total();
    if in_use + needed > total {
        let temporary = if purchased.temporary > 0 {
            format!(
                " ({} of them from a temporary upgrade)",
                cu(purchased.temporary)
            )
        } else {
            String::new()
        };
        return Err(ApiError::conflict(
            "capacity_exceeded",
            format!(
                "this start needs {} CU, but {} of the project's {} purchased CU{temporary} are held by running deployments ({} free); stop one or buy more CU",
                cu(needed),
                cu(in_use),
                cu(total),
                cu((total - in_use).max(0))
            ),
        ));
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopDeployment {
    /// SUSPEND: stop with a savepoint, resumable (default). CANCEL: stop without one.
    #[schema(pattern = "^(SUSPEND|CANCEL)$")]
    pub mode: Option<String>,
}

/// Stops the deployment, with a savepoint (SUSPEND) or without (CANCEL).
#[utoipa::path(post, path = "/projects/{project_id}/deployments/{deployment_id}/stop", tag = "deployments",
    params(("project_id" = String, Path), ("deployment_id" = String, Path)), request_body = StopDeployment,
    responses((status = 202, body = Deployment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn stop_deployment(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, deployment_id)): Path<(String, String)>,
    Json(body): Json<StopDeployment>,
) -> ApiResult<(StatusCode, JsonResponse<Deployment>)> {
    let d = fetch(&state, &access, &deployment_id).await?;
    let desired = match body.mode.as_deref().unwrap_or("SUSPEND") {
        "SUSPEND" => record::SUSPENDED,
        "CANCEL" => record::CANCELLED,
        other => {
            return Err(ApiError::invalid(
                "mode",
                format!("mode must be SUSPEND or CANCEL, got `{other}`"),
            ))
        }
    };
    let stopped = sqlx::query(
        "update deployments set desired_state = $1, pending_version = null, revision = revision + 1, updated_at = $2
          where id = $3 and desired_state = 'RUNNING'",
    )
    .bind(desired)
    .bind(now_ms())
    .bind(&d.id)
    .execute(&state.db.pool)
    .await?;
    if stopped.rows_affected() == 0 {
        return Err(ApiError::conflict(
            "deployment_not_running",
            "the deployment is not running",
        ));
    }
    record::event(
        &state,
        &d.id,
        "stop",
        &format!("stop requested ({desired})"),
    )
    .await?;
    kick(&state, &d.id);
    Ok((
        StatusCode::ACCEPTED,
        JsonResponse(fetch(&state, &access, &d.id).await?.into()),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeDeployment {
    /// The saved version to run next.
    pub version: i64,
}

/// Stateful upgrade of a running deployment: savepoint, then the new version from it.
#[utoipa::path(post, path = "/projects/{project_id}/deployments/{deployment_id}/upgrade", tag = "deployments",
    params(("project_id" = String, Path), ("deployment_id" = String, Path)), request_body = UpgradeDeployment,
    responses((status = 202, body = Deployment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn upgrade_deployment(
    State(state): State<AppState>,
    access: ProjectGuard<can::Deploy>,
    Path((_project_id, deployment_id)): Path<(String, String)>,
    Json(body): Json<UpgradeDeployment>,
) -> ApiResult<(StatusCode, JsonResponse<Deployment>)> {
    let d = fetch(&state, &access, &deployment_id).await?;
    let mut tx = state.db.begin_write().await?;
    crate::api::versions::fetch_version(&mut tx, &d.job_id, body.version).await?;
    let upgraded = sqlx::query(
        "update deployments set pending_version = $1, revision = revision + 1, updated_at = $2
          where id = $3 and desired_state = 'RUNNING' and status = 'RUNNING' and pending_version is null",
    )
    .bind(body.version)
    .bind(now_ms())
    .bind(&d.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if upgraded.rows_affected() == 0 {
        return Err(ApiError::conflict(
            "deployment_not_running",
            "only a running deployment without an upgrade in progress can be upgraded",
        ));
    }
    record::event(
        &state,
        &d.id,
        "upgrade",
        &format!("upgrade to version {} requested", body.version),
    )
    .await?;
    kick(&state, &d.id);
    Ok((
        StatusCode::ACCEPTED,
        JsonResponse(fetch(&state, &access, &d.id).await?.into()),
    ))
}

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
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "select id, kind, message, created_at from deployment_events where deployment_id = $1 and id > $2 order by id limit $3",
    )
    .bind(&d.id)
    .bind(&page.after)
    .bind(page.limit + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let items = rows
        .into_iter()
        .map(|(id, kind, message, at)| DeploymentEvent {
            id,
            kind,
            message,
            created_at: rfc3339(at),
        })
        .collect();
    Ok(JsonResponse(Paginated::from_rows(items, &page, |e| &e.id)))
}

#[derive(Serialize, ToSchema)]
pub struct Savepoint {
    pub id: String,
    pub engine_job_id: String,
    /// USER_REQUEST, SUSPEND or SUSPEND_AND_UPGRADE.
    pub origin: String,
    /// STARTED, COMPLETED or FAILED.
    pub state: String,
    pub location: Option<String>,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

type SavepointRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

fn savepoint_from_row(
    (id, engine_job_id, origin, state, location, failure, created, completed): SavepointRow,
) -> Savepoint {
    Savepoint {
        id,
        engine_job_id,
        origin,
        state,
        location,
        failure,
        created_at: rfc3339(created),
        completed_at: completed.map(rfc3339),
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
    let rows: Vec<SavepointRow> = sqlx::query_as(
        "select id, engine_job_id, origin, state, location, failure, created_at, completed_at
           from savepoints where deployment_id = $1 and id > $2 order by id limit $3",
    )
    .bind(&d.id)
    .bind(&page.after)
    .bind(page.limit + 1)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(JsonResponse(Paginated::from_rows(
        rows.into_iter().map(savepoint_from_row).collect(),
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
    let (Some(job_id), true) = (&d.engine_job_id, d.status == record::RUNNING) else {
        return Err(ApiError::conflict(
            "deployment_not_running",
            "a savepoint needs a running job",
        ));
    };
    let client = state.engines.client(&d.rest_url)?;
    // Recorded before the engine is asked, under the trigger id the request carries.
    let savepoint = insert_savepoint(&state, &d.id, job_id, "USER_REQUEST").await?;
    request_user_savepoint(&state, &client, job_id, &savepoint).await?;
    let id = savepoint.id;
    record::event(&state, &d.id, "savepoint", "savepoint requested").await?;
    kick(&state, &d.id);
    let row: SavepointRow = sqlx::query_as(
        "select id, engine_job_id, origin, state, location, failure, created_at, completed_at from savepoints where id = $1",
    )
    .bind(&id)
    .fetch_one(&state.db.pool)
    .await?;
    Ok((StatusCode::ACCEPTED, JsonResponse(savepoint_from_row(row))))
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
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "select state, location from savepoints where id = $1 and deployment_id = $2",
    )
    .bind(&savepoint_id)
    .bind(&d.id)
    .fetch_optional(&state.db.pool)
    .await?;
    let (sp_state, location) = row.ok_or_else(|| ApiError::not_found("savepoint"))?;
    if sp_state == "STARTED" {
        return Err(ApiError::conflict(
            "savepoint_in_progress",
            "the savepoint is still being taken",
        ));
    }
    if d.restore_savepoint_id.as_deref() == Some(savepoint_id.as_str())
        && d.engine_job_id.is_none()
        && d.desired_state == record::RUNNING
    {
        return Err(ApiError::conflict(
            "savepoint_in_use",
            "a start is about to restore from this savepoint",
        ));
    }
    // Files first: a record is never dropped while its files may still exist.
    if let Some(location) = location {
        let client = state.engines.client(&d.rest_url)?;
        client
            .dispose_savepoint(&location, std::time::Duration::from_secs(60))
            .await
            .map_err(engine_error)?;
    }
    sqlx::query("delete from savepoints where id = $1")
        .bind(&savepoint_id)
        .execute(&state.db.pool)
        .await?;
    record::event(
        &state,
        &d.id,
        "savepoint",
        "savepoint disposed of and deleted",
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct JobExceptionView {
    pub exception_name: String,
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
    let client = state.engines.client(&d.rest_url)?;
    let exceptions = client.exceptions(job_id).await.map_err(engine_error)?;
    Ok(JsonResponse(
        exceptions
            .into_iter()
            .map(|e| JobExceptionView {
                exception_name: e.exception_name,
                stacktrace: e.stacktrace,
                timestamp: rfc3339(e.timestamp),
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostPreviewRequest {
    /// 1 to 64 (default 1).
    #[schema(minimum = 1, maximum = 64)]
    pub parallelism: Option<i64>,
    /// A multiple of 0.25 from 0.25 to 16 (default 1).
    #[schema(minimum = 0.25, maximum = 16, multiple_of = 0.25)]
    pub cu_per_task: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct CostPreview {
    /// `payg` or `subscription`.
    pub billing_model: String,
    pub total_cu: f64,
    /// Pay-as-you-go: what one full hour of running costs (compute + management fee).
    pub hourly_compute: Option<String>,
    pub hourly_management: Option<String>,
    pub hourly_total: Option<String>,
    pub currency: String,
    /// Subscription: purchased CU, CU held by running deployments, and whether this fits.
    pub purchased_cu: Option<f64>,
    pub cu_in_use: Option<f64>,
    pub fits: bool,
}

/// What running a deployment of this size would cost (pay-as-you-go) or whether it fits
/// the purchased capacity (subscription), before deploying it.
#[utoipa::path(post, path = "/projects/{project_id}/deployments/cost-preview", tag = "deployments",
    params(("project_id" = String, Path)), request_body = CostPreviewRequest,
    responses((status = 200, body = CostPreview), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn preview_cost(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Json(body): Json<CostPreviewRequest>,
) -> ApiResult<JsonResponse<CostPreview>> {
    let parallelism = body.parallelism.unwrap_or(1);
    if !(1..=MAX_PARALLELISM).contains(&parallelism) {
        return Err(ApiError::invalid(
            "parallelism",
            format!("parallelism must be between 1 and {MAX_PARALLELISM}, got {parallelism}"),
        ));
    }
    let total_milli = parallelism * cu_milli("cu_per_task", body.cu_per_task.unwrap_or(1.0))?;
    let pricing = &state.pricing;
    let currency = pricing.currency.code().to_owned();
    let mut conn = state.db.pool.acquire().await?;
    let purchased = crate::capacity::purchased(&mut conn, access.project_id(), now_ms()).await?;
    let subscription = match purchased {
        Some(p) => Some((
            p.total(),
            crate::capacity::in_use(&mut conn, access.project_id(), None).await?,
        )),
        None => None,
    };
    drop(conn);
    if let Some((purchased, in_use)) = subscription {
        return Ok(JsonResponse(CostPreview {
            billing_model: "subscription".to_owned(),
            total_cu: cu(total_milli),
            hourly_compute: None,
            hourly_management: None,
            hourly_total: None,
            currency,
            purchased_cu: Some(cu(purchased)),
            cu_in_use: Some(cu(in_use)),
            fits: in_use + total_milli <= purchased,
        }));
    }
    let now = chrono::Utc::now();
    let hour = billing::period::Window {
        start: now,
        end: now + chrono::Duration::hours(1),
    };
    let run = [billing::meter::RunInterval {
        start: hour.start,
        end: Some(hour.end),
        cu_milli: total_milli,
    }];
    let rate = pricing
        .book
        .at(now)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let charge = billing::meter::rate_hour(
        &run,
        hour,
        hour.end,
        rate,
        billing::meter::Granularity::Second,
    )
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let total = charge
        .total()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(JsonResponse(CostPreview {
        billing_model: "payg".to_owned(),
        total_cu: cu(total_milli),
        hourly_compute: Some(charge.compute.major()),
        hourly_management: Some(charge.management.major()),
        hourly_total: Some(total.major()),
        currency,
        purchased_cu: None,
        cu_in_use: None,
        fits: true,
    }))
}
