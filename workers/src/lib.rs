//! The background workers every replica runs: the reconciler, the debug runs'
//! supervisor and the end-of-service pass (the domain's, started here), outbox delivery, billing, alert evaluation, job
//! metrics and lifecycle reminders. Each is a loop until the stop token is cancelled;
//! what a pass does lives in its module, what it decides in `domain`.

pub mod alerts;
pub mod billing;
pub mod every;
pub mod job_metrics;
pub mod lifecycle_reminders;
pub mod outbox;
pub mod subscriptions;

use domain::Platform;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Starts every worker; each stops when `stop` is cancelled.
pub fn spawn_all(platform: &Platform, stop: &CancellationToken) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(domain::engine::reconciler::run(
            platform.clone(),
            stop.clone(),
        )),
        // Debug runs: their limits, their engine jobs' end, readers gone, watchers dead.
        tokio::spawn(domain::engine::debug::supervise_forever(
            platform.clone(),
            stop.clone(),
        )),
        // Engine versions past their end of service stop what still runs on them.
        tokio::spawn(domain::product_forms::run(platform.clone(), stop.clone())),
        tokio::spawn(billing::run(platform.clone(), stop.clone())),
        tokio::spawn(outbox::run(platform.clone(), stop.clone())),
        tokio::spawn(alerts::run(platform.clone(), stop.clone())),
        tokio::spawn(job_metrics::run(platform.clone(), stop.clone())),
        tokio::spawn(lifecycle_reminders::run(platform.clone(), stop.clone())),
        tokio::spawn(subscriptions::run(platform.clone(), stop.clone())),
    ]
}
