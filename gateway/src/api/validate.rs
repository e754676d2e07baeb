//! Validating a job draft before anything is deployed. A SQL job in steps: Sluice's
//! own reading of the script (statements, kinds, tables, errors at line and column),
//! then its references to artifacts and connections (`domain::pipeline`), then, when
//! those pass, the engine's dry run (`/jars/{runner}/plan`): the job graph it would
//! run, or its refusal mapped back to the statement (and the option) it came from. A
//! Python job is PyFlink's dry run of its script, a failure at the script's line.

use axum::extract::State;
use axum::Json as JsonResponse;
use engine_client::refusal::{self, Refusal};
use engine_client::script::{self, Analysis, ScriptError, Statement, TableRef};
use engine_client::{EngineError, Plan};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

use super::clusters::visible_cluster;
use super::jobs::fetch_job;
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use domain::engine::connectors::ConnectorKind;
use domain::engine::{placement, runner};
use domain::jobs::JobContent;
use domain::pipeline::{self, Needs};

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    /// The cluster whose engine checks the job; default: the project's, else the platform's.
    pub cluster_id: Option<String>,
    /// Read the draft as a debug run does (a SELECT on its own is a result to show, not
    /// a mistake): Sluice's own checks and the tables read and written, without the
    /// engine's dry run (a debug run is planned when it starts).
    #[serde(default)]
    pub debug: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ValidationReport {
    /// Both Sluice and the engine accept the job.
    pub valid: bool,
    pub statements: Vec<Statement>,
    pub sources: Vec<TableRef>,
    pub sinks: Vec<TableRef>,
    /// What is wrong, each at its line and column when known.
    pub errors: Vec<ScriptError>,
    pub engine: EngineCheck,
    /// The job graph the engine would run.
    pub plan: Option<Plan>,
}

#[derive(Serialize, ToSchema)]
pub struct EngineCheck {
    /// `planned`, `refused`, `unavailable` (the engine could not be asked; see message)
    /// or `skipped` (Sluice's own checks failed, or no cluster or SQL runner is set up).
    pub status: String,
    pub cluster_id: Option<String>,
    pub message: Option<String>,
}

fn skipped(message: &str) -> EngineCheck {
    EngineCheck {
        status: "skipped".to_owned(),
        cluster_id: None,
        message: Some(message.to_owned()),
    }
}

/// Checks a draft: Sluice's reading of the script, then the engine's dry run.
#[utoipa::path(post, path = "/projects/{project_id}/jobs/{job_id}/validate", tag = "jobs",
    params(("project_id" = String, Path), ("job_id" = String, Path)), request_body = ValidateRequest,
    responses((status = 200, body = ValidationReport), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn validate_job(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, job_id)): Path<(String, String)>,
    Json(body): Json<ValidateRequest>,
) -> ApiResult<JsonResponse<ValidationReport>> {
    let job = fetch_job(access.scope(), &job_id).await?;
    let sql =
        match &job.content {
            JobContent::Sql { sql } => sql,
            JobContent::Python { artifact_id, args } => {
                let report = python_check(
                    &state,
                    &access,
                    body.cluster_id.as_deref(),
                    artifact_id,
                    args,
                )
                .await?;
                return Ok(JsonResponse(report));
            }
            JobContent::Jar { .. } => return Err(Error::invalid(
                "content",
                "SQL and Python jobs are validated here; a JAR job is checked when it is deployed",
            )
            .into()),
        };
    let analyzed = if body.debug {
        script::analyze_debug(sql)
    } else {
        script::analyze(sql)
    };
    let analysis = match analyzed {
        Ok(analysis) => analysis,
        Err(errors) => {
            return Ok(JsonResponse(ValidationReport {
                valid: false,
                statements: Vec::new(),
                sources: Vec::new(),
                sinks: Vec::new(),
                errors,
                engine: skipped("fix the errors Sluice found first"),
                plan: None,
            }))
        }
    };
    // References to artifacts, functions and connections resolve before the engine
    // is asked; nothing is substituted into what this answer shows.
    let resources = access.scope().pipeline_resources().await?;
    let needs = match pipeline::resolve(&analysis.statements, &resources, &state.secrets, &[]) {
        Ok(needs) => needs,
        Err(errors) => {
            return Ok(JsonResponse(ValidationReport {
                valid: false,
                statements: analysis.statements,
                sources: analysis.sources,
                sinks: analysis.sinks,
                errors,
                engine: skipped("fix the references Sluice could not resolve first"),
                plan: None,
            }))
        }
    };
    if body.debug {
        return Ok(JsonResponse(ValidationReport {
            valid: true,
            statements: analysis.statements,
            sources: analysis.sources,
            sinks: analysis.sinks,
            errors: Vec::new(),
            engine: skipped("read as a debug run: the engine plans it when the run starts"),
            plan: None,
        }));
    }
    let (engine, plan, errors) = engine_check(
        &state,
        &access,
        body.cluster_id.as_deref(),
        &job.name,
        &analysis,
        &needs,
    )
    .await?;
    Ok(JsonResponse(ValidationReport {
        valid: errors.is_empty() && plan.is_some(),
        statements: analysis.statements,
        sources: analysis.sources,
        sinks: analysis.sinks,
        errors,
        engine,
        plan,
    }))
}

/// A Python job's check: the engine's dry run of its script (PyFlink's driver runs it to
/// the job graph), on a cluster of the account's own (the platform's runs no custom
/// code). A failure is placed at the script's line the traceback names.
async fn python_check(
    state: &AppState,
    access: &ProjectGuard<can::WriteDrafts>,
    asked: Option<&str>,
    artifact_id: &str,
    args: &[String],
) -> Result<ValidationReport, Error> {
    let report =
        |engine: EngineCheck, plan: Option<Plan>, errors: Vec<ScriptError>| ValidationReport {
            valid: errors.is_empty() && plan.is_some(),
            statements: Vec::new(),
            sources: Vec::new(),
            sinks: Vec::new(),
            errors,
            engine,
            plan,
        };
    let Some((cluster_id, rest_url)) = choose_cluster(access, asked).await? else {
        return Ok(report(
            skipped("no engine cluster is registered for this project"),
            None,
            Vec::new(),
        ));
    };
    let check = |status: &str, message: Option<String>| EngineCheck {
        status: status.to_owned(),
        cluster_id: Some(cluster_id.clone()),
        message,
    };
    let cluster = visible_cluster(&access.scope().account(), &cluster_id).await?;
    if cluster.platform {
        let error = ScriptError::unplaced(placement::PYTHON_ON_PLATFORM_CLUSTER);
        return Ok(report(
            check("skipped", Some(error.message.clone())),
            None,
            vec![error],
        ));
    }
    let script = access.scope().artifacts().get(artifact_id).await?;
    let client = state.engines.client(&rest_url)?;
    // A dry run's job id: the entry checks its context by it; nothing runs under it.
    let job_id = domain::engine::submission::new_job_id(domain::engine::submission::JOB_ID_PREFIX);
    let planned =
        domain::engine::python::plan(state, &cluster_id, &client, &script, args, &job_id).await?;
    Ok(match planned {
        Err(message) => report(check("unavailable", Some(message)), None, Vec::new()),
        Ok(Ok(plan)) => report(check("planned", None), Some(plan), Vec::new()),
        Ok(Err(EngineError::InvalidProgram { message, .. })) => {
            let error = match engine_client::python_script_line(&message) {
                Some(line) => ScriptError::at(message.clone(), (line, 1), None),
                None => ScriptError::unplaced(message.clone())
                    .with_hint("the engine's traceback names no line of the script"),
            };
            report(check("refused", Some(message)), None, vec![error])
        }
        Ok(Err(e)) => report(check("unavailable", Some(e.to_string())), None, Vec::new()),
    })
}

/// The cluster to use: the one asked for, else the project's default, else the platform's.
async fn choose_cluster(
    access: &ProjectGuard<can::WriteDrafts>,
    asked: Option<&str>,
) -> Result<Option<(String, String)>, Error> {
    if let Some(id) = asked {
        let cluster = visible_cluster(&access.scope().account(), id)
            .await
            .map_err(|e| e.with_field("cluster_id"))?;
        return Ok(Some((cluster.id, cluster.rest_url)));
    }
    super::clusters::project_cluster(access.scope()).await
}

async fn engine_check(
    state: &AppState,
    access: &ProjectGuard<can::WriteDrafts>,
    asked: Option<&str>,
    job_name: &str,
    analysis: &Analysis,
    needs: &Needs,
) -> Result<(EngineCheck, Option<Plan>, Vec<ScriptError>), Error> {
    let Some(runner) = &state.sql_runner else {
        return Ok((
            skipped("no SQL runner is built on this server (scripts/build-sql-runner.sh)"),
            None,
            Vec::new(),
        ));
    };
    let Some((cluster_id, rest_url)) = choose_cluster(access, asked).await? else {
        return Ok((
            skipped("no engine cluster is registered for this project"),
            None,
            Vec::new(),
        ));
    };
    let check = |status: &str, message: Option<String>| EngineCheck {
        status: status.to_owned(),
        cluster_id: Some(cluster_id.clone()),
        message,
    };
    if needs.custom_code() {
        let cluster = visible_cluster(&access.scope().account(), &cluster_id).await?;
        if cluster.platform {
            let error = ScriptError::unplaced(placement::CUSTOM_CODE_ON_PLATFORM_CLUSTER);
            return Ok((
                check("skipped", Some(error.message.clone())),
                None,
                vec![error],
            ));
        }
    }
    let client = state.engines.client(&rest_url)?;
    let shipped =
        match pipeline::ship(state, &cluster_id, &client, &analysis.statements, needs).await? {
            Ok(shipped) => shipped,
            Err(e) => return Ok((check("unavailable", Some(e.to_string())), None, Vec::new())),
        };
    let mut program = runner::program(
        &shipped.statements,
        &shipped.classpath,
        Some(job_name),
        None,
        None,
    );
    program.flink_configuration = shipped.program_configuration();
    let redactor = shipped.redactor;
    let planned = runner
        .with_jar(&state.db, &cluster_id, &client, |jar| {
            let client = client.clone();
            let program = program.clone();
            async move { client.plan_jar(&jar, &program).await }
        })
        .await;
    let planned = match planned {
        Ok(result) => result,
        // Uploading the runner failed: the engine could not be asked.
        Err(e) => return Ok((check("unavailable", Some(e.message)), None, Vec::new())),
    };
    match planned {
        Ok(plan) => Ok((check("planned", None), Some(plan), Vec::new())),
        Err(EngineError::InvalidProgram {
            message,
            statement,
            part,
            causes,
        }) => {
            let message = redactor.redact(&message);
            let causes: Vec<String> = causes.iter().map(|c| redactor.redact(c)).collect();
            let mut error = refusal::place(
                analysis,
                &Refusal {
                    message: &message,
                    statement,
                    part,
                    causes: &causes,
                },
            );
            if let Some(id) = refusal::unknown_factory(&causes.join("\n")) {
                let cluster = visible_cluster(&access.scope().account(), &cluster_id).await?;
                error.hint = Some(offered(
                    state,
                    &id,
                    &cluster.engine_version,
                    &cluster.flink_version,
                ));
            }
            Ok((check("refused", Some(message)), None, vec![error]))
        }
        Err(
            e @ (EngineError::Unreachable { .. }
            | EngineError::Timeout { .. }
            | EngineError::Internal { .. }),
        ) => Ok((
            check("unavailable", Some(redactor.redact(&e.to_string()))),
            None,
            Vec::new(),
        )),
        Err(
            e @ (EngineError::JobNotFound { .. }
            | EngineError::JarNotFound { .. }
            | EngineError::SavepointFailed { .. }
            | EngineError::DuplicateJob { .. }
            | EngineError::UnknownOperation { .. }
            | EngineError::Rejected { .. }
            | EngineError::Malformed { .. }),
        ) => Ok((
            check("unavailable", Some(redactor.redact(&e.to_string()))),
            None,
            Vec::new(),
        )),
    }
}

/// The hint for a connector or format the engine lacks: what the cluster's engine version
/// offers, from the connector catalogue (the engine names the factories of the kind it
/// looked for; this names every kind).
fn offered(state: &AppState, id: &str, engine_version: &str, flink_version: &str) -> String {
    let all = state.connectors.for_flink_version(flink_version);
    let of = |kind: ConnectorKind| -> String {
        all.iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.identifier.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "'{id}' is not in engine version {engine_version}'s catalogue (Flink {flink_version}): available are the connectors {} and the formats {}; a connector of your own needs its JAR on the job's classpath",
        of(ConnectorKind::Connector),
        of(ConnectorKind::Format)
    )
}
