//! A deployment's metrics series, for charts: throughput, backpressure, busy time and
//! checkpoints as Sluice sampled them from the engine (see `crate::job_metrics`).

use axum::extract::State;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::{IntoParams, ToSchema};

use super::rfc3339;
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Path, Query};
use crate::AppState;

/// Points one answer carries at most.
const MAX_POINTS: i64 = 2_000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// RFC 3339; default: an hour before `to`.
    pub from: Option<DateTime<Utc>>,
    /// RFC 3339; default: now.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct MetricsPoint {
    pub at: DateTime<Utc>,
    /// 0 for a raw sample; else the seconds an averaged point stands for.
    pub resolution_secs: i64,
    pub records_in_per_sec: f64,
    pub records_out_per_sec: f64,
    /// Share of time the most backpressured vertex was backpressured, 0 to 1.
    pub backpressure_ratio: f64,
    /// Share of time the busiest vertex was busy, 0 to 1.
    pub busy_ratio: f64,
    pub checkpoints_completed: i64,
    pub checkpoints_failed: i64,
    /// The job's state as the engine reported it (e.g. `RESTARTING`); raw samples only.
    pub engine_state: Option<String>,
    /// Event-time lag of the records the sources emit (the largest), in ms, where the
    /// connector reports it.
    pub source_lag_ms: Option<f64>,
    /// Records waiting at the sources, where the connector reports them.
    pub pending_records: Option<f64>,
    /// False when part of the job reports no record counts to the engine (a source or
    /// sink chained into one task with no counter of its own): the rates then leave out
    /// what that part reads or writes.
    pub throughput_reported: bool,
}

#[utoipa::path(get, path = "/projects/{project_id}/deployments/{deployment_id}/metrics", tag = "deployments",
    params(("project_id" = String, Path), ("deployment_id" = String, Path), MetricsQuery),
    responses((status = 200, body = Vec<MetricsPoint>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deployment_metrics(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path((_project_id, deployment_id)): Path<(String, String)>,
    Query(q): Query<MetricsQuery>,
) -> ApiResult<JsonResponse<Vec<MetricsPoint>>> {
    let d = super::deployments::fetch(&state, &access, &deployment_id).await?;
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - chrono::Duration::hours(1));
    if from >= to {
        return Err(Error::invalid("from", "from must be before to").into());
    }
    let rows = access
        .scope()
        .deployment_history()
        .metrics(
            &d.id,
            from.timestamp_millis(),
            to.timestamp_millis(),
            MAX_POINTS,
        )
        .await?;
    Ok(JsonResponse(
        rows.into_iter()
            .map(|row| MetricsPoint {
                at: rfc3339(row.at),
                resolution_secs: row.resolution,
                records_in_per_sec: row.records_in_per_sec,
                records_out_per_sec: row.records_out_per_sec,
                backpressure_ratio: row.backpressure_ratio,
                busy_ratio: row.busy_ratio,
                checkpoints_completed: row.checkpoints_completed,
                checkpoints_failed: row.checkpoints_failed,
                engine_state: row.engine_state,
                source_lag_ms: row.source_lag_ms,
                pending_records: row.pending_records,
                throughput_reported: row.throughput_reported != 0,
            })
            .collect(),
    ))
}
