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
use crate::AppState;
use store::db::now_ms;

/// How long a job must stay unaccounted for before it is reported: a job just replaced
/// (an upgrade's old job finishing after its savepoint) is not an orphan.
const CONFIRM_MS: i64 = 5_000;

/// Compares one cluster's jobs with the deployments' current jobs. `jobs` must have
/// been read before this runs: every job it holds was recorded before it was submitted,
/// so the deployments read here account for all that are not orphans.
pub async fn sweep(
    state: &AppState,
    rest_url: &str,
    jobs: &HashMap<String, JobOverview>,
) -> Result<(), Error> {
    let Some((cluster_id,)): Option<(String,)> = sqlx::query_as(
        "select id from engine_clusters where rest_url = $1 order by account_id is not null, id limit 1",
    )
    .bind(rest_url)
    .fetch_optional(&state.db.pool)
    .await?
    else {
        return Ok(());
    };
    let ours = job_id_prefix(state).await?;
    let current: HashSet<String> = sqlx::query_as::<_, (String,)>(
        "select d.engine_job_id from deployments d join engine_clusters c on c.id = d.cluster_id
          where c.rest_url = $1 and d.engine_job_id is not null",
    )
    .bind(rest_url)
    .fetch_all(&state.db.pool)
    .await?
    .into_iter()
    .map(|(id,)| id)
    .collect();
    let orphans: HashMap<&str, &JobOverview> = jobs
        .values()
        .filter(|j| j.jid.starts_with(&ours) && !j.state.is_terminal() && !current.contains(&j.jid))
        .map(|j| (j.jid.as_str(), j))
        .collect();
    let known: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "select engine_job_id, first_seen_at, reported_at from engine_orphans where cluster_id = $1 and cancelled_at is null",
    )
    .bind(&cluster_id)
    .fetch_all(&state.db.pool)
    .await?;
    // No longer running, or claimed after all: forgotten.
    for (job_id, _, _) in known
        .iter()
        .filter(|(id, _, _)| !orphans.contains_key(id.as_str()))
    {
        sqlx::query("delete from engine_orphans where cluster_id = $1 and engine_job_id = $2 and cancelled_at is null")
            .bind(&cluster_id)
            .bind(job_id)
            .execute(&state.db.pool)
            .await?;
    }
    let now = now_ms();
    let grace = i64::try_from(state.config.engine.orphan_grace_ms).unwrap_or(i64::MAX);
    for (job_id, job) in orphans {
        let Some((_, first_seen, reported)) = known.iter().find(|(id, _, _)| id == job_id) else {
            let deployment: Option<(String,)> =
                sqlx::query_as("select deployment_id from engine_jobs where id = $1")
                    .bind(job_id)
                    .fetch_optional(&state.db.pool)
                    .await?;
            sqlx::query(
                "insert into engine_orphans (cluster_id, engine_job_id, deployment_id, job_name, first_seen_at)
                 values ($1, $2, $3, $4, $5) on conflict do nothing",
            )
            .bind(&cluster_id)
            .bind(job_id)
            .bind(deployment.map(|(d,)| d))
            .bind(&job.name)
            .bind(now)
            .execute(&state.db.pool)
            .await?;
            continue;
        };
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
    state: &AppState,
    cluster_id: &str,
    job_id: &str,
) -> Result<Option<String>, Error> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "select deployment_id from engine_orphans where cluster_id = $1 and engine_job_id = $2",
    )
    .bind(cluster_id)
    .bind(job_id)
    .fetch_optional(&state.db.pool)
    .await?;
    Ok(row.and_then(|(d,)| d))
}

async fn report(
    state: &AppState,
    cluster_id: &str,
    job: &JobOverview,
    left_ms: i64,
) -> Result<(), Error> {
    let claimed = sqlx::query(
        "update engine_orphans set reported_at = $1 where cluster_id = $2 and engine_job_id = $3 and reported_at is null",
    )
    .bind(now_ms())
    .bind(cluster_id)
    .bind(&job.jid)
    .execute(&state.db.pool)
    .await?;
    if claimed.rows_affected() == 0 {
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
    state: &AppState,
    rest_url: &str,
    cluster_id: &str,
    job: &JobOverview,
) -> Result<(), Error> {
    let client = state.engines.client(rest_url)?;
    if job.state != engine_client::JobState::Cancelling {
        client.cancel(&job.jid).await.map_err(super::engine_error)?;
    }
    let claimed = sqlx::query(
        "update engine_orphans set cancelled_at = $1 where cluster_id = $2 and engine_job_id = $3 and cancelled_at is null",
    )
    .bind(now_ms())
    .bind(cluster_id)
    .bind(&job.jid)
    .execute(&state.db.pool)
    .await?;
    if claimed.rows_affected() == 0 {
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
