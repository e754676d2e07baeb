//! What the engine runs: one `/jobs/overview` per cluster per pass, asked again for a
//! job the pass's snapshot lacks before anyone concludes the engine lost it.

use std::collections::HashMap;

use engine_client::{EngineError, JobOverview};

use crate::Platform;

/// The jobs each cluster reported in this pass.
pub(super) type Snapshot = Result<HashMap<String, JobOverview>, EngineError>;

#[derive(Default)]
pub(super) struct Snapshots(HashMap<String, Snapshot>);

impl Snapshots {
    pub(super) async fn of(&mut self, state: &Platform, rest_url: &str) -> &Snapshot {
        let snapshot = match self.0.remove(rest_url) {
            Some(s) => s,
            None => fetch_snapshot(state, rest_url).await,
        };
        self.0.entry(rest_url.to_owned()).or_insert(snapshot)
    }
}

impl Snapshots {
    /// Looks for orphaned jobs on every cluster that has deployments (those without an
    /// active one are read for it too).
    pub(super) async fn sweep_orphans(&mut self, state: &Platform) {
        let submitted_to = match state
            .all_tenants()
            .engine_clusters()
            .with_deployments()
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list clusters to sweep for orphaned jobs");
                return;
            }
        };
        for rest_url in submitted_to {
            let Ok(jobs) = self.of(state, &rest_url).await else {
                continue;
            };
            if let Err(e) = super::orphans::sweep(state, &rest_url, jobs).await {
                tracing::warn!(%rest_url, error = %e.message, "sweeping for orphaned jobs failed; will retry");
            }
        }
    }

    /// What each cluster's answer this pass says about its health, kept on the cluster.
    pub(super) async fn record_health(&self, state: &Platform) {
        for (rest_url, snapshot) in &self.0 {
            let (healthy, detail) = match snapshot {
                Ok(jobs) => (true, format!("answering; {} job(s) known", jobs.len())),
                Err(e) => (false, e.to_string()),
            };
            let recorded = state
                .all_tenants()
                .engine_clusters()
                .record_health_change(rest_url, healthy, &detail)
                .await;
            match recorded {
                Ok(true) => {
                    tracing::info!(%rest_url, healthy, %detail, "cluster health changed")
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, %rest_url, "cannot record cluster health"),
            }
        }
    }
}

pub(super) async fn fetch_snapshot(state: &Platform, rest_url: &str) -> Snapshot {
    let client = state
        .engines
        .client(rest_url)
        .map_err(|e| EngineError::Unreachable {
            url: rest_url.to_owned(),
            reason: e.message,
        })?;
    let jobs = client.jobs_overview().await?;
    Ok(jobs.into_iter().map(|j| (j.jid.clone(), j)).collect())
}

/// What the engine says about one job: from the pass's snapshot, or asked now.
///
/// A job missing from the snapshot is looked for again before anyone concludes the
/// engine lost it: the snapshot was read at the start of the pass, and the job may
/// have been submitted since (by this replica's API or another replica).
pub(super) async fn observe(
    state: &Platform,
    rest_url: &str,
    job_id: &str,
    snapshot: Option<&Snapshot>,
) -> Result<JobOverview, EngineError> {
    match snapshot {
        Some(Ok(jobs)) => {
            if let Some(job) = jobs.get(job_id) {
                return Ok(job.clone());
            }
        }
        // The cluster did not answer this pass: asking again per deployment would only
        // multiply the wait.
        Some(Err(e)) => return Err(e.clone()),
        None => {}
    }
    let fresh = fetch_snapshot(state, rest_url).await?;
    fresh
        .get(job_id)
        .cloned()
        .ok_or_else(|| EngineError::JobNotFound {
            job_id: job_id.to_owned(),
        })
}
