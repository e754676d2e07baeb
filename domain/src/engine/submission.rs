//! Starting a deployment's job on the engine, exactly once.
//!
//! Sluice chooses the engine job id and records the submission (`engine_jobs`, state
//! INTENDED, with what it restores from) before it asks the engine. Whatever happens
//! between the request and its answer (a crash, a timeout, a 500 from a proxy after
//! the engine took the job), the next pass finds the record and looks for the job by
//! that id: present, the submission is confirmed; absent, the same request is sent
//! again under the same id, which the engine refuses to run twice. A new id is chosen
//! only for a new run (a start, a restart, an upgrade), never for a retry.

use engine_client::refusal::{self, Refusal};
use engine_client::script::Analysis;
use engine_client::{EngineClient, EngineError};
use rand::RngCore;
use store::Error;

use super::record::{content, event, load, set_status, DeploymentRow, RestoreMode, Status};
use super::{python, runner};
use crate::failpoint;
use crate::jobs::JobContent;
use crate::pipeline::{self, Redactor};
use crate::Platform;
use store::db::now_ms;
use store::deployments::Submission;

/// Recorded, not yet acknowledged by the engine.
pub const INTENDED: &str = "INTENDED";
/// Acknowledged: the engine runs (or ran) it.
pub const SUBMITTED: &str = "SUBMITTED";
/// The engine refused the program.
pub const REFUSED: &str = "REFUSED";
/// Never acknowledged, and no longer wanted (the deployment was stopped meanwhile).
pub const ABANDONED: &str = "ABANDONED";

/// Every engine job id Sluice chooses starts with this and the installation's tag, so
/// its jobs on a cluster can be told apart from anyone else's (see the orphan sweep).
pub const JOB_ID_PREFIX: &str = "511ce0";

/// The start of this installation's job ids: [`JOB_ID_PREFIX`] and its 8-digit tag,
/// chosen by the first replica ever to ask and kept in the database.
pub async fn job_id_prefix(state: &Platform) -> Result<String, Error> {
    if let Some(prefix) = state.engines.job_id_prefix.get() {
        return Ok(prefix.clone());
    }
    let mut tag = [0_u8; 4];
    rand::thread_rng().fill_bytes(&mut tag);
    let tag = store::deployments::installation_tag(&state.db, &hex::encode(tag)).await?;
    let prefix = format!("{JOB_ID_PREFIX}{tag}");
    Ok(state.engines.job_id_prefix.get_or_init(|| prefix).clone())
}

/// A fresh id under `prefix`, filled to the engine's 32 hex digits with random ones
/// (72 random bits after the installation's prefix).
pub fn new_job_id(prefix: &str) -> String {
    let mut bytes = [0_u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    let random = hex::encode(bytes);
    let fill = 32_usize.saturating_sub(prefix.len());
    format!("{prefix}{}", &random[..fill])
}

/// Starts a new run of the deployment: decides what it restores from, records the
/// submission under a new job id, then asks the engine.
pub async fn submit(
    state: &Platform,
    client: &EngineClient,
    d: &DeploymentRow,
) -> Result<(), Error> {
    let restore = match restore_point(state, d).await? {
        Ok(point) => point,
        Err(message) => return refuse(state, d, &message).await,
    };
    if let Err(message) = runnable(state, d) {
        return refuse(state, d, &message).await;
    }
    if let Err(message) = runs_registered_flink(state, client, d).await? {
        return refuse(state, d, &message).await;
    }
    let job_id = new_job_id(&job_id_prefix(state).await?);
    let now = now_ms();
    let mut write = state.all_tenants().write().await?;
    write
        .deployments()
        .record_submission(&Submission {
            job_id: &job_id,
            deployment_id: &d.id,
            cluster_id: &d.cluster_id,
            job_version: d.job_version,
            restore_path: restore.as_deref(),
            state: INTENDED,
            created_at: now,
        })
        .await?;
    write
        .deployments()
        .mark_starting(&d.id, &job_id, now)
        .await?;
    write.commit().await?;
    let mut d = d.clone();
    d.status = Status::Starting;
    d.engine_job_id = Some(job_id);
    d.intent_state = Some(INTENDED.to_owned());
    d.intent_restore_path = restore;
    d.last_error = None;
    d.engine_restarts = 0;
    send(state, client, &d).await
}

/// Asks the engine to run the deployment's recorded submission, under its recorded id
/// and restore point. Safe to repeat: a repeat the engine already took is recognised.
pub async fn send(state: &Platform, client: &EngineClient, d: &DeploymentRow) -> Result<(), Error> {
    let Some(job_id) = d.engine_job_id.clone() else {
        return Ok(());
    };
    let restore = d.intent_restore_path.clone();
    let parallelism = u32::try_from(d.parallelism).ok();
    // Engine answers may quote what was substituted into the job: shown redacted.
    let mut redactor = Redactor::default();
    // A SQL job's statements, to say where in the script a refusal is.
    let mut script = None;
    let submitted = match content(d) {
        JobContent::Sql { sql } => {
            let (Some(runner), Ok(analysis)) =
                (&state.sql_runner, engine_client::script::analyze(&sql))
            else {
                let message = runnable(state, d)
                    .err()
                    .unwrap_or_else(|| "the script cannot be run".to_owned());
                return refuse(state, d, &message).await;
            };
            let resources = state
                .all_tenants()
                .pipeline_resources(&d.project_id)
                .await?;
            let needs = match pipeline::resolve(
                &analysis.statements,
                &resources,
                &state.secrets,
                &d.dependency_ids(),
            ) {
                Ok(needs) => needs,
                Err(errors) => {
                    let first = errors.first().map_or("", |e| e.message.as_str());
                    return refuse(state, d, &format!("the script does not resolve: {first}"))
                        .await;
                }
            };
            let shipped =
                match pipeline::ship(state, &d.cluster_id, client, &analysis.statements, &needs)
                    .await?
                {
                    Ok(shipped) => shipped,
                    Err(e) => {
                        let message =
                            format!("the engine cannot take the job's artifacts yet: {e}");
                        return set_status(
                            state,
                            d,
                            Status::Starting,
                            Some(&job_id),
                            Some(&message),
                        )
                        .await;
                    }
                };
            let mut program = runner::program(
                &shipped.statements,
                &shipped.classpath,
                Some(&d.name),
                parallelism,
                restore.clone(),
            );
            program.job_id = Some(job_id.clone());
            program.flink_configuration = shipped.program_configuration();
            redactor = shipped.redactor;
            script = Some(analysis);
            let ran = runner
                .with_jar(&state.db, &d.cluster_id, client, |jar| {
                    let client = client.clone();
                    let program = program.clone();
                    async move { client.run_jar(&jar, &program).await }
                })
                .await;
            match ran {
                Ok(result) => result,
                // The runner could not even be uploaded: the engine is not taking jobs now.
                Err(e) => {
                    let message = format!("the engine cannot take the job yet: {}", e.message);
                    return set_status(state, d, Status::Starting, Some(&job_id), Some(&message))
                        .await;
                }
            }
        }
        JobContent::Jar {
            artifact_id,
            entry_class,
            args,
        } => {
            let resources = state
                .all_tenants()
                .pipeline_resources(&d.project_id)
                .await?;
            let Some(artifact) = resources.artifacts.iter().find(|a| a.id == artifact_id) else {
                let message = format!("the job's JAR artifact {artifact_id} no longer exists");
                return refuse(state, d, &message).await;
            };
            let mut dependencies = Vec::new();
            for id in d.dependency_ids() {
                match resources.artifacts.iter().find(|a| a.id == id) {
                    Some(found) => dependencies.push(found.clone()),
                    None => {
                        let message = format!("the deployment's dependency {id} no longer exists");
                        return refuse(state, d, &message).await;
                    }
                }
            }
            let program = engine_client::Program {
                entry_class: Some(entry_class),
                program_args_list: args,
                parallelism,
                savepoint_path: restore.clone(),
                allow_non_restored_state: false,
                job_id: Some(job_id.clone()),
                flink_configuration: Default::default(),
            };
            match pipeline::jar_job_on(state, &d.cluster_id, client, artifact, &dependencies)
                .await?
            {
                Ok(jar) => client.run_jar(&jar.id, &program).await,
                Err(e) => Err(e),
            }
        }
        JobContent::Python { artifact_id, args } => {
            let resources = state
                .all_tenants()
                .pipeline_resources(&d.project_id)
                .await?;
            let Some(script) = resources.artifacts.iter().find(|a| a.id == artifact_id) else {
                let message = format!("the job's Python artifact {artifact_id} no longer exists");
                return refuse(state, d, &message).await;
            };
            let outcome = python::run(
                state,
                &d.cluster_id,
                client,
                script,
                &args,
                parallelism,
                restore.clone(),
                &job_id,
            )
            .await?;
            match outcome {
                python::Outcome::Sent(result) => result,
                python::Outcome::Refused(message) => return refuse(state, d, &message).await,
                // Nothing ran: the record stays, and the next pass sends it again.
                python::Outcome::Retry(message) => {
                    return set_status(state, d, Status::Starting, Some(&job_id), Some(&message))
                        .await
                }
            }
        }
    };
    match submitted {
        Ok(_) => {
            failpoint::hit(failpoint::ENGINE_SUBMITTED);
            confirm(state, d).await
        }
        // An earlier attempt under this id reached the engine after all.
        Err(EngineError::DuplicateJob { .. }) => confirm(state, d).await,
        // Checkpoints of a stopped job may be gone (the cluster does not keep them):
        // forget that one and start a new run from the newest state that is left.
        Err(EngineError::InvalidProgram { message, .. })
            if restore.is_some()
                && restore == d.last_checkpoint_path
                && message.contains("Cannot find checkpoint or savepoint") =>
        {
            mark(state, &job_id, REFUSED).await?;
            state
                .all_tenants()
                .deployments()
                .forget_checkpoint(&d.id)
                .await?;
            event(
                state,
                &d.id,
                "restore",
                // Not its path: that says how the cluster's hosts are laid out.
                "the checkpoint it was to restore from no longer exists; restoring from the newest state that does",
            )
            .await?;
            let d = load(state, &d.id)
                .await?
                .ok_or_else(|| Error::not_found("deployment"))?;
            Box::pin(submit(state, client, &d)).await
        }
        // The request may or may not have reached the engine: the record stays, and the
        // next pass looks for the job before it sends the same request again.
        Err(e) if e.is_transient() => {
            let message = redactor.redact(&format!("the engine cannot take the job yet: {e}"));
            set_status(state, d, Status::Starting, Some(&job_id), Some(&message)).await
        }
        Err(e) => {
            let message = match (&e, &script) {
                (
                    EngineError::InvalidProgram {
                        message,
                        statement,
                        part,
                        causes,
                    },
                    Some(analysis),
                ) => refused_at(
                    analysis,
                    &Refusal {
                        message,
                        statement: *statement,
                        part: *part,
                        causes,
                    },
                ),
                _ => format!("the engine refused the job: {e}"),
            };
            refuse(state, d, &redactor.redact(&message)).await
        }
    }
}

/// A SQL job's refusal with its place in the script, as validation shows it.
fn refused_at(analysis: &Analysis, refusal: &Refusal<'_>) -> String {
    let error = refusal::place(analysis, refusal);
    let place = match (error.line, error.column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        _ => String::new(),
    };
    let hint = error.hint.map_or_else(String::new, |h| format!(" ({h})"));
    format!("the engine refused the job{place}: {}{hint}", error.message)
}

/// The engine has the recorded job: the submission is done.
pub async fn confirm(state: &Platform, d: &DeploymentRow) -> Result<(), Error> {
    let Some(job_id) = &d.engine_job_id else {
        return Ok(());
    };
    let deployments = state.all_tenants();
    let deployments = deployments.deployments();
    if !deployments
        .confirm_submission(job_id, SUBMITTED, INTENDED)
        .await?
    {
        return Ok(());
    }
    deployments.clear_error(&d.id, job_id).await?;
    let from = d
        .intent_restore_path
        .as_deref()
        .map_or_else(|| "without state".to_owned(), |p| format!("from {p}"));
    event(
        state,
        &d.id,
        "submitted",
        &format!(
            "version {} submitted as engine job {job_id}, {from}",
            d.job_version
        ),
    )
    .await
}

/// A submission never acknowledged, for a deployment no longer meant to run: dropped.
/// Should the request still reach the engine, the orphan sweep finds the job.
pub async fn abandon(state: &Platform, d: &DeploymentRow) -> Result<(), Error> {
    let Some(job_id) = &d.engine_job_id else {
        return Ok(());
    };
    mark(state, job_id, ABANDONED).await?;
    state
        .all_tenants()
        .deployments()
        .drop_engine_job(&d.id, job_id)
        .await
}

async fn mark(state: &Platform, job_id: &str, to: &str) -> Result<(), Error> {
    state
        .all_tenants()
        .deployments()
        .mark_submission(job_id, to, INTENDED)
        .await?;
    Ok(())
}

/// The start cannot go ahead: the deployment is FAILED with the reason, until the user
/// starts it again.
async fn refuse(state: &Platform, d: &DeploymentRow, message: &str) -> Result<(), Error> {
    if let Some(job_id) = &d.engine_job_id {
        mark(state, job_id, REFUSED).await?;
    }
    event(state, &d.id, "failed", message).await?;
    set_status(state, d, Status::Failed, None, Some(message)).await
}

/// Whether the cluster still runs the Flink it was registered with: the engine
/// version's lifecycle (its end of service among it) is judged by that registration, so
/// a cluster upgraded or replaced behind it takes no new run. An engine that does not
/// answer is left to the submission, which retries.
async fn runs_registered_flink(
    state: &Platform,
    client: &EngineClient,
    d: &DeploymentRow,
) -> Result<Result<(), String>, Error> {
    let Some((registered, label)) = state
        .all_tenants()
        .engine_clusters()
        .versions(&d.cluster_id)
        .await?
    else {
        return Ok(Ok(()));
    };
    Ok(match client.overview().await {
        Ok(overview) if overview.flink_version != registered => Err(format!(
            "the cluster runs Flink {}, but is registered as Flink {registered} (engine version {label}): register it again with the version it runs",
            overview.flink_version
        )),
        _ => Ok(()),
    })
}

/// Whether this server can run the deployment's content at all.
fn runnable(state: &Platform, d: &DeploymentRow) -> Result<(), String> {
    let JobContent::Sql { sql } = content(d) else {
        return Ok(());
    };
    if state.sql_runner.is_none() {
        return Err(
            "this server has no SQL runner (scripts/build-sql-runner.sh), so SQL jobs cannot run"
                .to_owned(),
        );
    }
    match engine_client::script::analyze(&sql) {
        Ok(_) => Ok(()),
        Err(errors) => Err(format!(
            "the script does not validate: {}",
            errors.first().map_or("", |e| e.message.as_str())
        )),
    }
}

/// Where the next run restores from, per the deployment's restore mode: `Err` says why
/// it cannot start (the state it asked for is gone and starting empty was not allowed).
async fn restore_point(
    state: &Platform,
    d: &DeploymentRow,
) -> Result<Result<Option<String>, String>, Error> {
    let empty_allowed = d.allow_empty_state == 1;
    let all = state.all_tenants();
    let newest_savepoint = all.savepoints().newest_completed(&d.id).await?;
    Ok(match d.restore_mode {
        RestoreMode::None => Ok(None),
        RestoreMode::LatestSavepoint => match newest_savepoint {
            Some((location, _)) => Ok(Some(location)),
            None if empty_allowed => Ok(None),
            None => Err(
                "LATEST_SAVEPOINT was asked for, but this deployment has no completed savepoint; start it with allow_empty_state: true to start from empty state"
                    .to_owned(),
            ),
        },
        RestoreMode::FromSavepoint => {
            let row = all
                .savepoints()
                .state_of(d.restore_savepoint_id.as_deref().unwrap_or(""), &d.id)
                .await?;
            match row {
                Some((s, Some(location))) if s == "COMPLETED" => Ok(Some(location)),
                _ => Err("the chosen savepoint is not a completed savepoint of this deployment".to_owned()),
            }
        }
        // The newer of the last checkpoint seen and the newest savepoint.
        RestoreMode::LatestState => {
            let checkpoint: Option<(String, i64)> = match &d.last_checkpoint_path {
                Some(path) => {
                    let at = all.deployments().last_checkpoint_at(&d.id).await?;
                    Some((path.clone(), at.unwrap_or(0)))
                }
                None => None,
            };
            let newest = match (checkpoint, newest_savepoint) {
                (Some(c), Some(s)) => Some(if c.1 > s.1 { c.0 } else { s.0 }),
                (Some(c), None) => Some(c.0),
                (None, Some(s)) => Some(s.0),
                (None, None) => None,
            };
            match newest {
                Some(path) => Ok(Some(path)),
                // Never ran with state: nothing to lose.
                None if d.had_state == 0 || empty_allowed => Ok(None),
                None => Err(
                    "the latest state was asked for, but none of this deployment's checkpoints or savepoints is left; start it with allow_empty_state: true to start from empty state, or FROM_SAVEPOINT with a savepoint you keep elsewhere"
                        .to_owned(),
                ),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_follow_the_scheme_and_differ() {
        let prefix = format!("{JOB_ID_PREFIX}0badcafe");
        let a = new_job_id(&prefix);
        let b = new_job_id(&prefix);
        assert_eq!(a.len(), 32);
        assert!(a.starts_with(&prefix));
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
