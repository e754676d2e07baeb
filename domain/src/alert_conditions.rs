//! The conditions a rule can watch, and whether one holds for a deployment now.

use crate::engine::record::{DesiredState, Status};
use crate::Platform;
use store::alert_rules::AlertRuleRow as Rule;
use store::alerts::WatchedDeploymentRow as Deployment;
use store::metric_samples::AlertSampleRow as Sample;
use store::{AllTenantsWrite, Error};

/// Conditions a rule can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The deployment is meant to run and the engine's job failed (restarts used up),
    /// or the engine is restarting it (its latest sample says `RESTARTING`).
    JobFailed,
    /// The job was restarted (by Sluice, or by the engine's own restart strategy) more
    /// than `threshold` times within `window_secs`.
    Restarts,
    /// The observed state has differed from the desired one for `window_secs`.
    StateMismatch,
    /// More than `threshold` checkpoints failed within `window_secs`.
    CheckpointFailures,
    /// No checkpoint completed within `window_secs` of a running job.
    NoCheckpoint,
    /// The sources emitted fewer than `threshold` records a second throughout
    /// `window_secs` (input stopped).
    InputStopped,
    /// Some vertex was backpressured at least `threshold` percent of the time
    /// throughout `window_secs`.
    BackpressureHigh,
    /// The sources' event-time lag stayed above `threshold` ms throughout `window_secs`.
    LagHigh,
    /// More than `threshold` records waited at the sources throughout `window_secs`.
    PendingRecordsHigh,
    /// An earlier engine job of the deployment still runs on its cluster, unmanaged and
    /// unbilled (Sluice cancels it after `engine.orphan_grace_ms`).
    OrphanJob,
}

impl Condition {
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "job_failed" => Ok(Self::JobFailed),
            "restarts" => Ok(Self::Restarts),
            "state_mismatch" => Ok(Self::StateMismatch),
            "checkpoint_failures" => Ok(Self::CheckpointFailures),
            "no_checkpoint" => Ok(Self::NoCheckpoint),
            "input_stopped" => Ok(Self::InputStopped),
            "backpressure_high" => Ok(Self::BackpressureHigh),
            "lag_high" => Ok(Self::LagHigh),
            "pending_records_high" => Ok(Self::PendingRecordsHigh),
            "orphan_job" => Ok(Self::OrphanJob),
            other => Err(Error::invalid(
                "condition",
                format!("`{other}` is not a condition (job_failed, restarts, state_mismatch, checkpoint_failures, no_checkpoint, input_stopped, backpressure_high, lag_high, pending_records_high or orphan_job)"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::JobFailed => "job_failed",
            Self::Restarts => "restarts",
            Self::StateMismatch => "state_mismatch",
            Self::CheckpointFailures => "checkpoint_failures",
            Self::NoCheckpoint => "no_checkpoint",
            Self::InputStopped => "input_stopped",
            Self::BackpressureHigh => "backpressure_high",
            Self::LagHigh => "lag_high",
            Self::PendingRecordsHigh => "pending_records_high",
            Self::OrphanJob => "orphan_job",
        }
    }
}

/// Whether `condition` holds for `d` at `now`, and if so what to say about it.
pub async fn holds(
    tx: &mut AllTenantsWrite,
    state: &Platform,
    condition: Condition,
    rule: &Rule,
    d: &Deployment,
    now: i64,
) -> Result<Option<String>, Error> {
    match condition {
        Condition::JobFailed => job_failed(tx, state, d, now).await,
        Condition::Restarts => restarts(tx, rule, d, now).await,
        Condition::OrphanJob => orphan_job(tx, d).await,
        Condition::CheckpointFailures => checkpoint_failures(tx, rule, d, now).await,
        Condition::NoCheckpoint => no_checkpoint(tx, rule, d, now).await,
        Condition::InputStopped
        | Condition::BackpressureHigh
        | Condition::LagHigh
        | Condition::PendingRecordsHigh => sampled(tx, state, condition, rule, d, now).await,
        Condition::StateMismatch => state_mismatch(tx, rule, d, now).await,
    }
}

/// Meant to run and FAILED, or RESTARTING in the engine's latest sample.
async fn job_failed(
    tx: &mut AllTenantsWrite,
    state: &Platform,
    d: &Deployment,
    now: i64,
) -> Result<Option<String>, Error> {
    Ok(if d.desired_state != DesiredState::Running {
        None
    } else if d.status == Status::Failed {
        Some(format!(
            "deployment `{}` FAILED: {}",
            d.name,
            d.last_error
                .as_deref()
                .unwrap_or("the job ended while meant to run")
        ))
    } else if matches!(d.status, Status::Running | Status::Transitioning)
        && latest_engine_state(tx, state, d, now).await?.as_deref() == Some("RESTARTING")
    {
        Some(format!(
            "deployment `{}` is RESTARTING: the engine is recovering its job from a failure",
            d.name
        ))
    } else {
        None
    })
}

/// Restarted (by Sluice or by the engine) more than `threshold` times in the window.
async fn restarts(
    tx: &mut AllTenantsWrite,
    rule: &Rule,
    d: &Deployment,
    now: i64,
) -> Result<Option<String>, Error> {
    let restarts = tx
        .alert_pass()
        .restarts_since(&d.id, now - rule.window_secs * 1000)
        .await?;
    Ok((restarts > rule.threshold).then(|| {
        format!(
            "deployment `{}` was restarted {restarts} times in the last {} s",
            d.name, rule.window_secs
        )
    }))
}

/// An earlier engine job of the deployment still runs, reported and not yet cancelled.
async fn orphan_job(tx: &mut AllTenantsWrite, d: &Deployment) -> Result<Option<String>, Error> {
    let orphan = tx.alert_pass().reported_orphan(&d.id).await?;
    Ok(orphan.map(|job| {
        format!(
            "deployment `{}`: its earlier engine job {job} still runs on the cluster, unmanaged; it is cancelled after the grace",
            d.name
        )
    }))
}

/// More than `threshold` checkpoints failed in the window.
async fn checkpoint_failures(
    tx: &mut AllTenantsWrite,
    rule: &Rule,
    d: &Deployment,
    now: i64,
) -> Result<Option<String>, Error> {
    let counts = tx
        .alert_pass()
        .failed_checkpoint_counts(&d.id, now - rule.window_secs * 1000)
        .await?;
    // Increases only: a resubmitted job's counter starts over.
    let failed: i64 = counts.windows(2).map(|w| (w[1] - w[0]).max(0)).sum();
    Ok((failed > rule.threshold).then(|| {
        format!(
            "deployment `{}`: {failed} checkpoint(s) failed in the last {} s",
            d.name, rule.window_secs
        )
    }))
}

/// Running for the whole window without a completed checkpoint.
async fn no_checkpoint(
    tx: &mut AllTenantsWrite,
    rule: &Rule,
    d: &Deployment,
    now: i64,
) -> Result<Option<String>, Error> {
    Ok(if d.status != Status::Running {
        None
    } else {
        let running_since = status_since(tx, d).await?;
        let window = rule.window_secs * 1000;
        let last = d.last_checkpoint_at.unwrap_or(0);
        (now - running_since >= window && now - last >= window).then(|| {
            format!(
                "deployment `{}`: no checkpoint completed in the last {} s",
                d.name, rule.window_secs
            )
        })
    })
}

/// The conditions judged from the metric samples, which must cover the window.
async fn sampled(
    tx: &mut AllTenantsWrite,
    state: &Platform,
    condition: Condition,
    rule: &Rule,
    d: &Deployment,
    now: i64,
) -> Result<Option<String>, Error> {
    if d.status != Status::Running {
        return Ok(None);
    }
    let samples = tx
        .alert_pass()
        .samples(&d.id, now - rule.window_secs * 1000, now)
        .await?;
    // The samples must cover the window: its first within 1.5 intervals of its
    // start, one more where a lag turn may stand between two samples.
    let config = &state.config.job_metrics;
    let interval = config.interval_ms as i64;
    let slack = if config.lag_every > 0 {
        interval * 5 / 2
    } else {
        interval * 3 / 2
    };
    let covered = samples.len() >= 2 && samples[0].at <= now - rule.window_secs * 1000 + slack;
    if !covered {
        return Ok(None);
    }
    let limit = rule.threshold as f64;
    // A sample without the value (no lag reported) proves nothing.
    let all_above = |value: fn(&Sample) -> Option<f64>, limit: f64| {
        samples.iter().all(|s| value(s).is_some_and(|v| v > limit))
    };
    let last = |value: fn(&Sample) -> Option<f64>| samples.last().and_then(value).unwrap_or(0.0);
    Ok(match condition {
        Condition::InputStopped => {
            samples
                .iter()
                .all(|s| s.records_in_per_sec < limit)
                .then(|| {
                    format!(
                "deployment `{}`: its sources emitted under {} records/s for {} s (last {:.1}/s)",
                d.name,
                rule.threshold,
                rule.window_secs,
                samples.last().map_or(0.0, |s| s.records_in_per_sec)
            )
                })
        }
        Condition::BackpressureHigh => samples
            .iter()
            .all(|s| s.backpressure_ratio >= limit / 100.0)
            .then(|| {
                format!(
                    "deployment `{}`: backpressured at least {}% of the time for {} s",
                    d.name, rule.threshold, rule.window_secs
                )
            }),
        Condition::LagHigh => all_above(|s| s.source_lag_ms, limit).then(|| {
            format!(
                "deployment `{}`: its sources lagged over {} ms for {} s (last {:.0} ms)",
                d.name,
                rule.threshold,
                rule.window_secs,
                last(|s| s.source_lag_ms)
            )
        }),
        _ => all_above(|s| s.pending_records, limit).then(|| {
            format!(
                "deployment `{}`: over {} records waited at its sources for {} s (last {:.0})",
                d.name,
                rule.threshold,
                rule.window_secs,
                last(|s| s.pending_records)
            )
        }),
    })
}

/// Observed differs from desired for the whole window.
async fn state_mismatch(
    tx: &mut AllTenantsWrite,
    rule: &Rule,
    d: &Deployment,
    now: i64,
) -> Result<Option<String>, Error> {
    let matches = match d.desired_state {
        DesiredState::Running => d.status == Status::Running,
        // Stopped or cancelled: anything but a running job is as desired.
        DesiredState::Suspended | DesiredState::Cancelled => {
            !matches!(d.status, Status::Running | Status::Starting)
        }
    };
    Ok(if matches {
        None
    } else {
        let since = status_since(tx, d).await?;
        (now - since >= rule.window_secs * 1000).then(|| {
            format!(
                "deployment `{}` is {} but should be {} (for {} s)",
                d.name,
                d.status,
                d.desired_state,
                (now - since) / 1000
            )
        })
    })
}

/// The job's state in the deployment's latest sample, if it is recent: within three
/// intervals (a lag turn may stand between two samples).
async fn latest_engine_state(
    tx: &mut AllTenantsWrite,
    state: &Platform,
    d: &Deployment,
    now: i64,
) -> Result<Option<String>, Error> {
    let recent = now - 3 * state.config.job_metrics.interval_ms as i64;
    let latest = tx
        .alert_pass()
        .latest_engine_state(&d.id, recent, now)
        .await?;
    Ok(latest.flatten())
}

/// Since when the deployment has been in its status: the last status change (or start)
/// the reconciler recorded.
async fn status_since(tx: &mut AllTenantsWrite, d: &Deployment) -> Result<i64, Error> {
    let since = tx.alert_pass().last_status_change(&d.id).await?;
    Ok(since.unwrap_or(d.updated_at))
}
