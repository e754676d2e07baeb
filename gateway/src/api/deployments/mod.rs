//! Deployments: a saved job version on an engine cluster with its resources, and the
//! operations on it (start, stop with or without savepoint, upgrade, savepoints).
//! Each operation changes the desired state at once (409 if another operation got
//! there first) and answers 202; the reconciler carries it out on the engine, and the
//! deployment's status and events tell how it went.

pub mod cost;
pub mod events;
pub mod operations;
pub mod savepoints;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::{IntoParams, ToSchema};

use super::clusters::visible_cluster;
use super::jobs::fetch_job;
use super::rfc3339;
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use domain::engine::engine_error;
use domain::engine::placement;
use domain::engine::record::{self, DeploymentRow, DesiredState, Status};
use domain::jobs::JobContent;
use store::deployments::{ContentRef, NewDeployment};
use store::names::Name;

pub(super) const MAX_PARALLELISM: i64 = 64;

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
    /// Artifact ids on the job's classpath beside what its SQL references.
    pub dependencies: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(super) fn cu(milli: i64) -> f64 {
    // Exact: CU are multiples of 0.25.
    milli as f64 / 1000.0
}

impl From<DeploymentRow> for Deployment {
    fn from(d: DeploymentRow) -> Self {
        Deployment {
            dependencies: d.dependency_ids(),
            total_cu: cu(d.cu_milli()),
            cu_per_task: cu(d.cu_per_task_milli),
            id: d.id,
            project_id: d.project_id,
            name: d.name,
            job_id: d.job_id,
            job_version: d.job_version,
            cluster_id: d.cluster_id,
            parallelism: d.parallelism,
            desired_state: d.desired_state.as_str().to_owned(),
            status: d.status.as_str().to_owned(),
            engine_job_id: d.engine_job_id,
            restore_mode: d.restore_mode.as_str().to_owned(),
            pending_version: d.pending_version,
            last_error: d.last_error,
            restart_count: d.restart_count,
            engine_restarts: d.engine_restarts,
            last_engine_failure: d.last_engine_failure,
            submission_pending: d.intent_state.as_deref()
                == Some(domain::engine::submission::INTENDED),
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
        }
    }
}

pub(crate) async fn fetch(
    _state: &AppState,
    access: &crate::access::ProjectAccess,
    id: &str,
) -> Result<DeploymentRow, Error> {
    access.scope().deployments().get(id).await
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
    access: ProjectGuard<can::Read>,
    Query(q): Query<DeploymentsQuery>,
) -> ApiResult<JsonResponse<Paginated<Deployment>>> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let status = q.status.unwrap_or_default();
    if !status.is_empty() && Status::parse(&status).is_none() {
        let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        return Err(
            Error::invalid("status", format!("status is one of {}", names.join(", "))).into(),
        );
    }
    let rows = access
        .scope()
        .deployments()
        .list(&page, &q.job_id.unwrap_or_default(), &status)
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
    /// Default: the project's cluster, else the platform's. A JAR job needs a cluster
    /// the account registered: the platform's runs no custom code.
    pub cluster_id: Option<String>,
    /// 1 to 64 (default 1).
    #[schema(minimum = 1, maximum = 64)]
    pub parallelism: Option<i64>,
    /// CU per parallel task, a multiple of 0.25 from 0.25 to 16 (default 1).
    #[schema(minimum = 0.25, maximum = 16, multiple_of = 0.25)]
    pub cu_per_task: Option<f64>,
    /// JAR artifacts of the project put on the job's classpath beside what its SQL
    /// references (libraries its UDFs or connectors need), at most 20. Custom code:
    /// not on the platform's cluster.
    #[schema(max_items = 20)]
    pub dependencies: Option<Vec<String>>,
}

/// At most this many dependencies on a deployment.
const MAX_DEPENDENCIES: usize = 20;

/// The deployment's dependencies, checked: each a JAR artifact of the project, once.
async fn checked_dependencies(
    scope: &store::ProjectScope,
    asked: Option<&[String]>,
) -> Result<Vec<String>, Error> {
    let asked = asked.unwrap_or_default();
    if asked.len() > MAX_DEPENDENCIES {
        return Err(Error::invalid(
            "dependencies",
            format!(
                "a deployment may have at most {MAX_DEPENDENCIES} dependencies, got {}",
                asked.len()
            ),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(asked.len());
    for (i, id) in asked.iter().enumerate() {
        let field = format!("dependencies[{i}]");
        let artifact = scope.artifacts().get(id).await.map_err(|e| {
            if e.kind == store::Kind::NotFound {
                Error::invalid(&field, format!("no artifact {id} in this project"))
            } else {
                e
            }
        })?;
        if artifact.kind != store::artifacts::ArtifactKind::Jar {
            return Err(Error::invalid(
                &field,
                format!(
                    "artifact `{}` is a {} file; dependencies must be JARs",
                    artifact.name,
                    artifact.kind.as_str()
                ),
            ));
        }
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    Ok(out)
}

pub(super) fn cu_milli(field: &str, value: f64) -> Result<i64, Error> {
    let quarters = value * 4.0;
    if !(1.0..=64.0).contains(&quarters) || quarters.fract() != 0.0 {
        return Err(Error::invalid(
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
        return Err(Error::invalid(
            "parallelism",
            format!("parallelism must be between 1 and {MAX_PARALLELISM}, got {parallelism}"),
        )
        .into());
    }
    let cu_per_task = cu_milli("cu_per_task", body.cu_per_task.unwrap_or(1.0))?;
    let job = fetch_job(access.scope(), &body.job_id)
        .await
        .map_err(|e| e.with_field("job_id"))?;
    let cluster_id = match &body.cluster_id {
        Some(id) => {
            visible_cluster(&access.scope().account(), id)
                .await
                .map_err(|e| e.with_field("cluster_id"))?
                .id
        }
        None => super::clusters::project_cluster(access.scope())
            .await?
            .map(|(id, _)| id)
            .ok_or_else(|| {
                Error::invalid(
                    "cluster_id",
                    "no cluster given, and the project has no default cluster",
                )
            })?,
    };
    let version = match body.version {
        Some(v) => v,
        None if job.last_version > 0 => job.last_version,
        None => return Err(Error::invalid("version", "the job has no saved version; save one first (deployments run saved versions, not drafts)").into()),
    };
    // Saved versions do not change: what it runs is read here, to refuse before writing.
    let runs: JobContent = access
        .scope()
        .versions()
        .get(&job.id, version)
        .await?
        .content
        .into();
    let dependencies = checked_dependencies(access.scope(), body.dependencies.as_deref()).await?;
    placement::ensure_cluster_takes(access.scope(), &cluster_id, &runs, &dependencies).await?;
    let dependencies_json = serde_json::to_string(&dependencies).map_err(Error::internal)?;
    let mut write = access.scope().write().await?;
    domain::product_forms::ensure_engine_allows(&mut write, &cluster_id, false).await?;
    // A new deployment sets a size, a cluster and an engine version, and adds CU.
    domain::product_forms::ensure_deployment_change_allowed(&mut write, true).await?;
    let content: JobContent = write.versions().get(&job.id, version).await?.content.into();
    if write.deployments().name_taken(name.as_str()).await? {
        return Err(Error::already_exists(
            "name",
            format!(
                "a deployment named `{}` already exists in this project",
                name.as_str()
            ),
        )
        .into());
    }
    let (kind, sql_text, artifact_id, entry_class, args) = content.columns();
    let id = write
        .deployments()
        .insert(&NewDeployment {
            job_id: &job.id,
            name: name.as_str(),
            job_version: version,
            content: ContentRef {
                kind,
                sql_text,
                artifact_id,
                entry_class,
                args: args.as_deref(),
            },
            cluster_id: &cluster_id,
            parallelism,
            cu_per_task_milli: cu_per_task,
            dependencies: &dependencies_json,
        })
        .await?;
    write.commit().await?;
    record::project_event(
        access.scope(),
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
    if d.desired_state == DesiredState::Running || d.engine_job_id.is_some() {
        return Err(Error::conflict(
            "deployment_active",
            "stop the deployment first; it is running or stopping",
        )
        .into());
    }
    // Its savepoints' files go first: a record is never dropped while its files may exist.
    let savepoints = access.scope().savepoints().with_files(&d.id).await?;
    if !savepoints.is_empty() {
        let client = state.engines.client(&d.rest_url)?;
        for (id, location) in savepoints {
            client
                .dispose_savepoint(&location, std::time::Duration::from_secs(60))
                .await
                .map_err(engine_error)?;
            access.scope().savepoints().delete(&id).await?;
        }
    }
    if !access.scope().deployments().delete_stopped(&d.id).await? {
        return Err(Error::conflict(
            "deployment_active",
            "stop the deployment first; it is running or stopping",
        )
        .into());
    }
    Ok(StatusCode::NO_CONTENT)
}
