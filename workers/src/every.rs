//! The loop every periodic background worker runs: wait an interval, run one pass,
//! record its duration and outcome in the metrics, log a failure (the next pass
//! retries), until shutdown is asked for. Each worker runs in a span of its name.

use std::future::Future;
use std::time::Duration;
use store::Error;

use tokio_util::sync::CancellationToken;

use domain::Platform;

pub async fn every<F, Fut>(
    state: Platform,
    stop: CancellationToken,
    name: &'static str,
    interval: Duration,
    mut pass: F,
) where
    F: FnMut(Platform) -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    use tracing::Instrument;
    async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
            let started = std::time::Instant::now();
            let outcome = pass(state.clone()).await;
            state
                .metrics
                .worker_pass(name, started.elapsed(), outcome.is_ok());
            if let Err(e) = outcome {
                tracing::warn!(error = %e.message, "pass failed; the next pass retries");
            }
        }
    }
    .instrument(tracing::info_span!("worker", name))
    .await;
}
