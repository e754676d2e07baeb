//! Jobs that run on a cluster under this installation's job ids but for no deployment: a
//! submission that landed after it was given up, a job left by a crash that no record
//! explains, or one started by hand with Sluice's ids. Left alone they would run
//! unmanaged and unbilled, so each is reported (a deployment event when the id traces
//! back to one, a warning in the log, the `sluice_engine_orphan_jobs` gauge) once it
//! has been seen for a few seconds, and cancelled after `engine.orphan_grace_ms`.

use std::collections::{HashMap, HashSet};
use store::Error;

use engine_client::JobOverview;

use super::record::event;
use super::submission::job_id_prefix;
use crate::Platform;
use store::db::now_ms;

/// How long a job must stay unaccounted for before it is reported: a job just replaced
/// (an upgrade's old job finishing after its savepoint) is not an orphan.
const CONFIRM_MS: i64 = 5_000;

/// Compares one cluster's jobs with the deployments' current jobs. `jobs` must have
/// been read before this runs: every job it holds was recorded before it was submitted,
/// so the deployments read here account for all that are not orphans.
pub async fn sweep(
    state: &Platform,
    rest_url: &str,
    jobs: &HashMap<String, JobOverview>,
) -> Result<(), Error> {
    let all = state.all_tenants();
    let Some(cluster_id) = all.engine_clusters().at(rest_url).await? else {
        return Ok(());
    };
    let ours = job_id_prefix(state).await?;
    let mut current: HashSet<String> = all
        .deployments()
        .engine_jobs_on(rest_url)
        .await?
        .into_iter()
        .collect();
    // A debug run's job is accounted for while the run is open; after, it is an orphan.
    current.extend(all.debug_runs().engine_jobs_open_on(&cluster_id).await?);
    let orphans: HashMap<&str, &JobOverview> = jobs
        .values()
        .filter(|j| j.jid.starts_with(&ours) && !j.state.is_terminal() && !current.contains(&j.jid))
        .map(|j| (j.jid.as_str(), j))
        .collect();
    let known = all.engine_orphans().known(&cluster_id).await?;
    // No longer running, or claimed after all: forgotten.
    for orphan in known
        .iter()
        .filter(|o| !orphans.contains_key(o.engine_job_id.as_str()))
    {
        all.engine_orphans()
            .forget(&cluster_id, &orphan.engine_job_id)
            .await?;
    }
    let now = now_ms();
    let grace = i64::try_from(state.config.engine.orphan_grace_ms).unwrap_or(i64::MAX);
    for (job_id, job) in orphans {
        let Some(orphan) = known.iter().find(|o| o.engine_job_id == job_id) else {
            let deployment = all.deployments().of_engine_job(job_id).await?;
            all.engine_orphans()
                .note(&cluster_id, job_id, deployment.as_deref(), &job.name, now)
                .await?;
            continue;
        };
        let (first_seen, reported) = (orphan.first_seen_at, orphan.reported_at);
        let age = now - first_seen;
        if reported.is_none() && age >= CONFIRM_MS.min(grace) {
            report(state, &cluster_id, job, grace - age).await?;
        }
        if age >= grace {
            cancel(state, rest_url, &cluster_id, job).await?;
        }
    }
    Ok(())
}

async fn deployment_of(
    state: &Platform,
    cluster_id: &str,
    job_id: &str,
) -> Result<Option<String>, Error> {
    state
        .all_tenants()
        .engine_orphans()
        .deployment_of(cluster_id, job_id)
        .await
}

async fn report(
    state: &Platform,
    cluster_id: &str,
    job: &JobOverview,
    left_ms: i64,
) -> Result<(), Error> {
    let claimed = state
        .all_tenants()
        .engine_orphans()
        .mark_reported(cluster_id, &job.jid)
        .await?;
    if !claimed {
        return Ok(()); // another replica reported it
    }
    let in_secs = (left_ms.max(0) + 999) / 1000;
    tracing::warn!(cluster = %cluster_id, job = %job.jid, name = %job.name, "an engine job under Sluice's ids runs for no deployment; it will be cancelled in {in_secs} s");
    if let Some(deployment) = deployment_of(state, cluster_id, &job.jid).await? {
        event(
            state,
            &deployment,
            "orphan",
            &format!(
                "engine job {} (an earlier job of this deployment) still runs on the cluster although the deployment no longer runs it; it will be cancelled in {in_secs} s",
                job.jid
            ),
        )
        .await?;
    }
    Ok(())
}

async fn cancel(
    state: &Platform,
    rest_url: &str,
    cluster_id: &str,
    job: &JobOverview,
) -> Result<(), Error> {
    let client = state.engines.client(rest_url)?;
    if job.state != engine_client::JobState::Cancelling {
        client.cancel(&job.jid).await.map_err(super::engine_error)?;
    }
    let claimed = state
        .all_tenants()
        .engine_orphans()
        .mark_cancelled(cluster_id, &job.jid)
        .await?;
    if !claimed {
        return Ok(());
    }
    tracing::warn!(cluster = %cluster_id, job = %job.jid, "cancelled an engine job that ran for no deployment");
    if let Some(deployment) = deployment_of(state, cluster_id, &job.jid).await? {
        event(
            state,
            &deployment,
            "orphan_cancelled",
            &format!(
                "engine job {} ran for no deployment and was cancelled",
                job.jid
            ),
        )
        .await?;
    }
    Ok(())
}
