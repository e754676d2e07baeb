//! Debug runs of a SQL draft on a session cluster, their results, and the sample data
//! they read (`domain::engine::debug` does the work). The engine's capture sends its
//! rows to `/internal/debug-capture/{run_id}`, outside the documented API, with the
//! run's own token.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use domain::engine::debug::{self as runs, CaptureBatch, CaptureOutcome, Refused, Start, Target};
use domain::jobs::JobContent;
use serde::{Deserialize, Serialize};
use store::debug::{NewSample, RunRow, SampleRow};
use store::names::Name;
use store::Error;
use utoipa::{IntoParams, ToSchema};

use super::clusters::{project_cluster, visible_cluster};
use super::jobs::fetch_job;
use super::rfc3339;
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody, ErrorDetail};
use crate::extract::{Json, Path, Query};
use crate::AppState;

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DebugRequest {
    /// A session cluster (one marked `debug_sessions`); default: the project's, else
    /// the platform's.
    pub cluster_id: Option<String>,
    /// Source tables (as the script names them) to read from a sample instead of
    /// their live source; the others read live.
    #[serde(default)]
    pub sources: BTreeMap<String, DebugSource>,
    /// Records to capture before the run stops (all statements together); at most,
    /// and by default, the server's limit (1,000 unless configured).
    pub record_limit: Option<u64>,
    /// How long the run may last; at most, and by default, the server's limit (180
    /// seconds unless configured).
    pub time_limit_seconds: Option<u64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DebugSource {
    /// A debug sample of the project.
    pub sample_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct DebugRun {
    pub id: String,
    pub job_id: String,
    pub cluster_id: String,
    /// `starting`, `running`, `stopping` or `ended`.
    pub status: String,
    /// Why it stopped: `record_limit`, `time_limit`, `input_exhausted`, `cancelled`,
    /// `failed`, `abandoned` (nobody read its results for 30 seconds) or `interrupted`
    /// (the Sluice process running it stopped); null while it runs.
    pub stop_reason: Option<String>,
    /// The engine's words when it failed, at the script's line.
    pub error: Option<String>,
    pub record_limit: i64,
    pub time_limit_seconds: i64,
    /// Records captured so far.
    pub records: i64,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// What each statement's results are, in the script's order.
    pub results: Vec<DebugResult>,
    /// Captured rows after `after`, in capture order (at most 500 a read).
    pub rows: Vec<DebugRow>,
}

#[derive(Serialize, ToSchema)]
pub struct DebugResult {
    /// The rows' `target`: the sink table's name, or `statement:N` for a SELECT.
    pub target: String,
    /// The statement (1-based) whose results these are.
    pub statement: usize,
    /// The sink table, for an INSERT.
    pub table: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DebugRow {
    /// Position in the run's capture, from 1: read on with `after`.
    pub seq: i64,
    pub target: String,
    /// The change: `+I` insert, `-U` / `+U` an update's old and new row, `-D` delete.
    pub kind: String,
    /// The row's values as text, in the result's column order; null is null.
    pub values: Vec<Option<String>>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RowsQuery {
    /// Only rows after this position (the last `seq` read); 0 or absent: from the start.
    pub after: Option<i64>,
}

/// Rows a read returns at most.
const ROWS_PER_READ: i64 = 500;

fn run_view(run: RunRow, rows: Vec<store::debug::CapturedRow>) -> DebugRun {
    let targets: Vec<Target> = serde_json::from_str(&run.targets).unwrap_or_default();
    DebugRun {
        id: run.id,
        job_id: run.job_id,
        cluster_id: run.cluster_id,
        status: run.status,
        stop_reason: run.stop_reason,
        error: run.error,
        record_limit: run.record_limit,
        time_limit_seconds: run.time_limit_ms / 1000,
        records: run.records,
        started_at: rfc3339(run.started_at),
        ended_at: run.ended_at.map(rfc3339),
        results: targets
            .into_iter()
            .map(|t| DebugResult {
                target: t.target,
                statement: t.statement,
                table: t.table,
                columns: t.columns,
            })
            .collect(),
        rows: rows
            .into_iter()
            .map(|r| DebugRow {
                seq: r.seq,
                target: r.target,
                kind: r.kind,
                values: serde_json::from_str(&r.row_values).unwrap_or_default(),
            })
            .collect(),
    }
}

/// Debugs the job's current draft (not a saved version) on a session cluster: every
/// sink replaced by a capture (nothing reaches the real sinks), sources live or from
/// samples. Answers at once; read the results with `GET .../debug-runs/{run_id}`.
#[utoipa::path(post, path = "/projects/{project_id}/jobs/{job_id}/debug", tag = "jobs",
    params(("project_id" = String, Path), ("job_id" = String, Path)), request_body = DebugRequest,
    responses((status = 202, body = DebugRun), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn start_debug_run(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, job_id)): Path<(String, String)>,
    Json(body): Json<DebugRequest>,
) -> ApiResult<Response> {
    let job = fetch_job(access.scope(), &job_id).await?;
    let JobContent::Sql { sql } = &job.content else {
        return Err(Error::invalid(
            "content",
            "only SQL drafts are debugged; a JAR or Python job runs as a deployment",
        )
        .into());
    };
    let debug = &state.config.engine.debug;
    let record_limit = match body.record_limit {
        Some(0) => {
            return Err(Error::invalid("record_limit", "record_limit must be at least 1").into())
        }
        Some(n) if n > debug.record_limit => {
            return Err(Error::invalid(
                "record_limit",
                format!(
                    "record_limit may be at most {} on this server",
                    debug.record_limit
                ),
            )
            .into())
        }
        Some(n) => n,
        None => debug.record_limit,
    };
    let time_limit = match body.time_limit_seconds {
        Some(0) => {
            return Err(Error::invalid(
                "time_limit_seconds",
                "time_limit_seconds must be at least 1",
            )
            .into())
        }
        Some(n) if n > debug.time_limit_secs => {
            return Err(Error::invalid(
                "time_limit_seconds",
                format!(
                    "time_limit_seconds may be at most {} on this server",
                    debug.time_limit_secs
                ),
            )
            .into())
        }
        Some(n) => n,
        None => debug.time_limit_secs,
    };
    let (cluster_id, rest_url) = match &body.cluster_id {
        Some(id) => {
            let cluster = visible_cluster(&access.scope().account(), id)
                .await
                .map_err(|e| e.with_field("cluster_id"))?;
            (cluster.id, cluster.rest_url)
        }
        None => project_cluster(access.scope()).await?.ok_or_else(|| {
            Error::invalid(
                "cluster_id",
                "no engine cluster is registered for this project",
            )
        })?,
    };
    let cluster = visible_cluster(&access.scope().account(), &cluster_id).await?;
    if !cluster.debug_sessions {
        return Err(Error::invalid(
            "cluster_id",
            format!(
                "cluster `{}` is not a session cluster for debug runs (an account admin marks one with debug_sessions)",
                cluster.name
            ),
        )
        .into());
    }
    let samples: HashMap<String, String> = body
        .sources
        .into_iter()
        .map(|(table, source)| (table, source.sample_id))
        .collect();
    let limits = state.limits(access.access.plan());
    let started = runs::start(
        &state,
        access.scope(),
        &Start {
            job_id: &job.id,
            job_name: &job.name,
            sql,
            cluster_id: &cluster_id,
            rest_url: &rest_url,
            samples: &samples,
            record_limit,
            time_limit: Duration::from_secs(time_limit),
            created_by: Some(access.principal.user_id()),
            concurrent_runs: limits.concurrent_debug_runs,
        },
    )
    .await?;
    Ok(match started {
        Ok(run) => (
            StatusCode::ACCEPTED,
            JsonResponse(run_view(run, Vec::new())),
        )
            .into_response(),
        Err(Refused::Script(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            JsonResponse(ErrorBody {
                error: ErrorDetail {
                    code: "invalid_script",
                    message: errors
                        .first()
                        .map(|e| match (e.line, e.column) {
                            (Some(l), Some(c)) => format!("line {l}, column {c}: {}", e.message),
                            _ => e.message.clone(),
                        })
                        .unwrap_or_default(),
                    field: Some("content".to_owned()),
                    limit: None,
                },
                errors: Some(errors),
            }),
        )
            .into_response(),
    })
}

/// A debug run with its rows after `after`. Reading it is what keeps it going: a run
/// nobody reads for 30 seconds stops (`abandoned`).
#[utoipa::path(get, path = "/projects/{project_id}/debug-runs/{run_id}", tag = "jobs",
    params(("project_id" = String, Path), ("run_id" = String, Path), RowsQuery),
    responses((status = 200, body = DebugRun), (status = 404, body = ErrorBody)))]
pub async fn get_debug_run(
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, run_id)): Path<(String, String)>,
    Query(q): Query<RowsQuery>,
) -> ApiResult<JsonResponse<DebugRun>> {
    let debug = access.scope().debug();
    let run = debug.run(&run_id).await?;
    if run.status != "ended" {
        debug.seen(&run.id).await?;
    }
    let rows = debug
        .rows(&run.id, q.after.unwrap_or(0).max(0), ROWS_PER_READ)
        .await?;
    Ok(JsonResponse(run_view(run, rows)))
}

/// Stops a debug run now: its engine job is cancelled.
#[utoipa::path(post, path = "/projects/{project_id}/debug-runs/{run_id}/cancel", tag = "jobs",
    params(("project_id" = String, Path), ("run_id" = String, Path)),
    responses((status = 202, body = DebugRun), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn cancel_debug_run(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, run_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, JsonResponse<DebugRun>)> {
    let debug = access.scope().debug();
    let run = debug.run(&run_id).await?;
    if run.status != "ended" {
        runs::cancel(&state, &run).await?;
    }
    Ok((
        StatusCode::ACCEPTED,
        JsonResponse(run_view(debug.run(&run_id).await?, Vec::new())),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct DebugSample {
    pub id: String,
    pub name: String,
    /// `csv` or `jsonl`, as uploaded.
    pub format: String,
    pub columns: Vec<String>,
    pub row_count: i64,
    pub size_bytes: i64,
    pub created_at: DateTime<Utc>,
}

impl From<SampleRow> for DebugSample {
    fn from(row: SampleRow) -> Self {
        DebugSample {
            id: row.id,
            name: row.name,
            format: row.format,
            columns: serde_json::from_str(&row.columns).unwrap_or_default(),
            row_count: row.row_count,
            size_bytes: row.size_bytes,
            created_at: rfc3339(row.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDebugSample {
    pub name: String,
    /// `csv` (a header row naming the columns first) or `jsonl` (a JSON object a line).
    pub format: String,
    /// The file's text (UTF-8), at most the server's sample size (1 MiB unless
    /// configured). Its columns are checked against a table when a run reads it.
    pub content: String,
}

/// The project's debug samples.
#[utoipa::path(get, path = "/projects/{project_id}/debug-samples", tag = "jobs",
    params(("project_id" = String, Path)),
    responses((status = 200, body = Vec<DebugSample>), (status = 404, body = ErrorBody)))]
pub async fn list_debug_samples(
    access: ProjectGuard<can::Read>,
) -> ApiResult<JsonResponse<Vec<DebugSample>>> {
    let samples = access.scope().debug().samples().await?;
    Ok(JsonResponse(samples.into_iter().map(Into::into).collect()))
}

/// Keeps sample data for debug runs of the project's drafts.
#[utoipa::path(post, path = "/projects/{project_id}/debug-samples", tag = "jobs",
    params(("project_id" = String, Path)), request_body = NewDebugSample,
    responses((status = 201, body = DebugSample), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_debug_sample(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Json(body): Json<NewDebugSample>,
) -> ApiResult<(StatusCode, JsonResponse<DebugSample>)> {
    let name = Name::parse("name", &body.name)?;
    let max = state.config.engine.debug.sample_max_bytes;
    if body.content.len() > max {
        return Err(Error::too_large(
            i64::try_from(max).unwrap_or(i64::MAX),
            format!(
                "a debug sample may be at most {max} bytes; this one is {}",
                body.content.len()
            ),
        )
        .into());
    }
    let sample = runs::read_sample(&body.format, body.content.as_bytes(), max).map_err(|m| {
        let field = if body.format == "csv" || body.format == "jsonl" {
            "content"
        } else {
            "format"
        };
        Error::invalid(field, m)
    })?;
    let rows_json: String = sample
        .rows
        .iter()
        .map(|r| format!("{}\n", serde_json::Value::Object(r.clone())))
        .collect();
    let columns = serde_json::to_string(&sample.columns).unwrap_or_else(|_| "[]".to_owned());
    let mut write = access.scope().write().await?;
    let id = write
        .debug()
        .insert_sample(&NewSample {
            name: name.as_str(),
            format: &body.format,
            columns: &columns,
            rows_json: &rows_json,
            row_count: i64::try_from(sample.rows.len()).unwrap_or(i64::MAX),
            size_bytes: i64::try_from(body.content.len()).unwrap_or(i64::MAX),
        })
        .await?;
    write.commit().await?;
    let samples = access.scope().debug().samples().await?;
    let created = samples
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| Error::not_found("debug sample"))?;
    Ok((StatusCode::CREATED, JsonResponse(created.into())))
}

/// Deletes a debug sample.
#[utoipa::path(delete, path = "/projects/{project_id}/debug-samples/{sample_id}", tag = "jobs",
    params(("project_id" = String, Path), ("sample_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_debug_sample(
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, sample_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    if !write.debug().delete_sample(&sample_id).await? {
        return Err(Error::not_found("debug sample").into());
    }
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where the SQL runner's capture sends a run's rows (`Authorization: Bearer <the
/// run's token>`): 200 taken, 410 the run is over (the sender stops), 404 no such run
/// or not its token.
pub async fn capture(
    State(state): State<AppState>,
    axum::extract::Path(run_id): axum::extract::Path<String>,
    headers: HeaderMap,
    axum::Json(batch): axum::Json<CaptureBatch>,
) -> Response {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match runs::capture(&state, &run_id, token, &batch).await {
        Ok(CaptureOutcome::Kept) => StatusCode::OK.into_response(),
        Ok(CaptureOutcome::Over) => StatusCode::GONE.into_response(),
        Ok(CaptureOutcome::Unknown) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => crate::error::respond(e),
    }
}
