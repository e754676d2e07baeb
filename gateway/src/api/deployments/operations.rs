//! What a user does to a deployment: start (from the state chosen, within the
//! project's CU), stop with or without a savepoint, upgrade to another version.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use serde::Deserialize;
use store::Error;
use utoipa::ToSchema;

use super::{cu, fetch, Deployment};
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use domain::engine::placement;
use domain::engine::reconciler::kick;
use domain::engine::record::{self, DeploymentRow, DesiredState, RestoreMode};
use domain::jobs::JobContent;
use store::db::now_ms;
use store::ProjectWrite;

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
    let asked = body.restore_mode.as_deref().unwrap_or("LATEST_STATE");
    let mode = RestoreMode::parse(asked).ok_or_else(|| {
        Error::invalid(
            "restore_mode",
            format!("restore_mode must be NONE, LATEST_SAVEPOINT, FROM_SAVEPOINT or LATEST_STATE, got `{asked}`"),
        )
    })?;
    match mode {
        RestoreMode::None | RestoreMode::LatestSavepoint | RestoreMode::LatestState => {}
        RestoreMode::FromSavepoint => {
            let sp = body.savepoint_id.as_deref().ok_or_else(|| {
                Error::invalid("savepoint_id", "FROM_SAVEPOINT needs savepoint_id")
            })?;
            if !access.scope().savepoints().is_completed(sp, &d.id).await? {
                return Err(Error::invalid(
                    "savepoint_id",
                    "savepoint_id names no completed savepoint of this deployment",
                )
                .into());
            }
        }
    }
    let saved = access.scope().savepoints().completed_count(&d.id).await?;
    if !body.allow_empty_state {
        let has_state = saved > 0 || d.last_checkpoint_path.is_some();
        match mode {
            RestoreMode::None if has_state => {
                return Err(Error::conflict(
                    "state_would_be_lost",
                    "this deployment has saved state; starting with NONE starts from empty state. Send allow_empty_state: true to do that, or use LATEST_STATE",
                ).into());
            }
            RestoreMode::LatestSavepoint if saved == 0 => {
                return Err(Error::conflict(
                    "no_state_to_restore",
                    "restore_mode LATEST_SAVEPOINT needs a completed savepoint, and this deployment has none. Send allow_empty_state: true to start from empty state",
                ).into());
            }
            // It ran with state before, and none of it is left: starting would lose it.
            RestoreMode::LatestState if !has_state && d.had_state == 1 => {
                return Err(Error::conflict(
                    "no_state_to_restore",
                    "restore_mode LATEST_STATE found no checkpoint or savepoint left of this deployment, although it ran with state. Send allow_empty_state: true to start from empty state",
                ).into());
            }
            _ => {}
        }
    }
    placement::ensure_cluster_takes(
        access.scope(),
        &d.cluster_id,
        &record::content(&d),
        &d.dependency_ids(),
    )
    .await?;
    // One transaction under the project's lock: the capacity check and the start
    // cannot interleave with another start, so racing starts cannot exceed it.
    let mut write = access.scope().write().await?;
    domain::balance::ensure_not_in_arrears(&mut write).await?;
    domain::capacity::ensure_term_active(&mut write, now_ms()).await?;
    domain::product_forms::ensure_engine_allows(&mut write, &d.cluster_id, true).await?;
    domain::product_forms::ensure_allowed(&mut write, lifecycle::Action::Run).await?;
    ensure_capacity(&mut write, &d).await?;
    // Only one start wins: the others see it already wanting to run. A deployment whose
    // job failed (restarts used up) still wants to run and may be started again.
    let started = write
        .deployments()
        .start(
            &d.id,
            mode,
            body.savepoint_id.as_deref(),
            body.allow_empty_state,
        )
        .await?;
    if !started {
        return Err(Error::conflict(
            "deployment_active",
            "the deployment is already running, starting or stopping",
        )
        .into());
    }
    write.commit().await?;
    record::project_event(
        access.scope(),
        &d.id,
        "start",
        &format!("start requested ({mode})"),
    )
    .await?;
    kick(&state, &d.id);
    Ok((
        StatusCode::ACCEPTED,
        JsonResponse(fetch(&state, &access, &d.id).await?.into()),
    ))
}

/// A subscription project's running deployments may hold at most its purchased CU
/// (with any temporary upgrade open now).
async fn ensure_capacity(write: &mut ProjectWrite, d: &DeploymentRow) -> Result<(), Error> {
    let Some(purchased) = write.capacity().purchased(now_ms()).await? else {
        return Ok(()); // pay-as-you-go: billed for what runs
    };
    let in_use = write.capacity().in_use(Some(&d.id)).await?;
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
        return Err(Error::conflict(
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
        "SUSPEND" => DesiredState::Suspended,
        "CANCEL" => DesiredState::Cancelled,
        other => {
            return Err(Error::invalid(
                "mode",
                format!("mode must be SUSPEND or CANCEL, got `{other}`"),
            )
            .into())
        }
    };
    if !access.scope().deployments().stop(&d.id, desired).await? {
        return Err(
            Error::conflict("deployment_not_running", "the deployment is not running").into(),
        );
    }
    record::project_event(
        access.scope(),
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
    let next: JobContent = access
        .scope()
        .versions()
        .get(&d.job_id, body.version)
        .await?
        .content
        .into();
    placement::ensure_cluster_takes(access.scope(), &d.cluster_id, &next, &d.dependency_ids())
        .await?;
    let upgraded = access
        .scope()
        .deployments()
        .request_upgrade(&d.id, &d.job_id, body.version)
        .await?;
    if !upgraded {
        return Err(Error::conflict(
            "deployment_not_running",
            "only a running deployment without an upgrade in progress can be upgraded",
        )
        .into());
    }
    record::project_event(
        access.scope(),
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
