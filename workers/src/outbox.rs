//! The transactional outbox: messages are committed with the change that caused them
//! ([`enqueue`] takes the caller's transaction) and delivered afterwards by a worker in
//! every replica ([`run`]).
//!
//! Delivery is at least once, made exactly once at the receiver: a worker leases a
//! batch of due rows (`for update skip locked` on PostgreSQL, so replicas take disjoint
//! batches; SQLite has one writer), sends each through its channel, and records the
//! outcome only while it still holds the lease. A worker that dies mid-batch leaves
//! leased rows that become due again when the lease runs out; the repeat carries the
//! same idempotency key, which every channel sends (`Idempotency-Key` header, email
//! Message-ID, SMS OutId), so the receiver drops it. Transient failures are retried with
//! exponential backoff; permanent ones, and rows out of attempts, are marked `failed`
//! with the last error, visible through the API.

use std::collections::HashMap;
use std::time::Duration;
use store::Error;

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use delivery::{DeliveryError, Message, Target};
use domain::channels::Channel;
use domain::Platform;
use store::db::{new_id, now_ms};
pub use store::outbox::NewMessage;
use store::outbox::{LeasedRow, Settled};
use store::AllTenantsWrite;

/// DingTalk robots accept at most 20 messages a minute; more throttles the robot for
/// ten minutes. Sends to one robot are counted over the last minute, and what is over
/// is held back when leasing ([`dingtalk_allowance`]).
const DINGTALK_PER_MINUTE: i64 = 20;

/// Adds a message inside the caller's transaction; it is delivered after the commit.
/// Returns its id. The idempotency key is derived from the id, which no other tenant's
/// message can share.
pub async fn enqueue(
    write: &mut AllTenantsWrite,
    message: &NewMessage<'_>,
) -> Result<String, Error> {
    write.outbox().enqueue(message).await
}

/// Runs delivery passes until `stop` is cancelled.
pub async fn run(state: Platform, stop: CancellationToken) {
    use tracing::Instrument;
    let worker = format!("outbox-{}", new_id());
    let interval = Duration::from_millis(state.config.outbox.interval_ms.max(10));
    async move {
        loop {
            let started = std::time::Instant::now();
            let delivered = deliver_due(&state, &worker).await;
            state
                .metrics
                .worker_pass("outbox", started.elapsed(), delivered.is_ok());
            match delivered {
                // A full batch: more may be waiting, go on at once.
                Ok(n) if n >= state.config.outbox.batch_size => {
                    if stop.is_cancelled() {
                        return;
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e.message, "outbox pass failed; the next pass retries")
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
    .instrument(tracing::info_span!("outbox"))
    .await;
}

/// Leases up to a batch of due messages and delivers them. Returns how many it leased.
pub async fn deliver_due(state: &Platform, worker: &str) -> Result<usize, Error> {
    let config = &state.config.outbox;
    let now = now_ms();
    let all = state.all_tenants();
    let mut write = all.write().await?;
    let due = write.outbox().due(now, config.batch_size as i64).await?;
    // What each DingTalk robot may still take this minute, decided under a lock on the
    // robot's row so that two replicas leasing at once cannot both spend it.
    let mut allowance: HashMap<String, i64> = HashMap::new();
    let mut leased = Vec::with_capacity(due.len());
    let mut held_back = Vec::new();
    for row in due {
        if row.channel == Channel::DingTalk.as_str() {
            if !allowance.contains_key(&row.recipient) {
                let left = dingtalk_allowance(&mut write, &row.recipient, now).await?;
                allowance.insert(row.recipient.clone(), left);
            }
            let left = allowance.entry(row.recipient.clone()).or_default();
            if *left <= 0 {
                held_back.push(row.id);
                continue;
            }
            *left -= 1;
        }
        leased.push(row);
    }
    // Held back, not failed: no attempt is counted.
    write.outbox().hold_back(&held_back, now + 10_000).await?;
    let lease_ids: Vec<String> = leased.iter().map(|r| r.id.clone()).collect();
    write
        .outbox()
        .lease(&lease_ids, now + config.lease_ms as i64, worker)
        .await?;
    write.commit().await?;
    if leased.is_empty() {
        return Ok(0);
    }
    // Each destination is looked up and decrypted once per batch.
    let mut targets: HashMap<String, Result<Target, DeliveryError>> = HashMap::new();
    for row in &leased {
        if !targets.contains_key(&row.recipient) {
            let target = match resolve(state, row).await {
                Ok(Some(target)) => Ok(target),
                Ok(None) => Err(DeliveryError::permanent(
                    "the notification channel was removed",
                )),
                Err(e) => Err(DeliveryError::permanent(format!(
                    "the channel's settings cannot be read: {e}"
                ))),
            };
            targets.insert(row.recipient.clone(), target);
        }
    }
    let count = leased.len();
    let targets = &targets;
    let results: Vec<Result<(), Error>> = futures_util::stream::iter(leased)
        .map(|row| async move {
            let outcome = match targets.get(&row.recipient) {
                Some(Ok(target)) => {
                    let message = Message {
                        idempotency_key: row.idempotency_key.clone(),
                        subject: row.subject.clone(),
                        text: row.body_text.clone(),
                        markdown: row.body_markdown.clone(),
                    };
                    state.channels.send(target, &message).await
                }
                Some(Err(e)) => Err(e.clone()),
                None => Err(DeliveryError::permanent("no destination")),
            };
            settle(state, worker, &row, outcome).await
        })
        .buffer_unordered(config.concurrency.max(1))
        .collect()
        .await;
    for result in results {
        if let Err(e) = result {
            // The row stays leased and becomes due again when the lease runs out.
            tracing::warn!(error = %e.message, "recording a delivery failed");
        }
    }
    Ok(count)
}

/// The destination of a row: an email address, or the account's channel decrypted.
/// `None` when the channel was removed since the message was queued.
async fn resolve(state: &Platform, row: &LeasedRow) -> anyhow::Result<Option<Target>> {
    if row.channel == Channel::Email.as_str() {
        return Ok(Some(Target::Email {
            address: row.recipient.clone(),
        }));
    }
    let Some(found) = state
        .all_tenants()
        .channel_to_send(&row.account_id, &row.recipient)
        .await?
    else {
        return Ok(None);
    };
    let (address, secret) = domain::channels::open_channel(
        state,
        &row.recipient,
        &found.address_enc,
        found.secret_enc.as_deref(),
    )?;
    Ok(Some(domain::channels::target(found.kind, address, secret)))
}

/// Records a delivery's outcome, if this worker still holds the row's lease.
async fn settle(
    state: &Platform,
    worker: &str,
    row: &LeasedRow,
    outcome: Result<(), DeliveryError>,
) -> Result<(), Error> {
    let config = &state.config.outbox;
    let now = now_ms();
    let attempts = row.attempts + 1;
    let settled = match &outcome {
        Ok(()) => Settled::Sent { at: now },
        Err(e) if e.permanent || attempts >= config.max_attempts => Settled::Failed {
            error: e.message.clone(),
        },
        Err(e) => Settled::Retry {
            error: e.message.clone(),
            next_attempt_at: now + backoff_ms(config.retry_base_ms, attempts),
        },
    };
    match &outcome {
        Ok(()) => {}
        Err(e) => {
            state.metrics.delivery_failed(&row.channel, e.permanent);
            tracing::warn!(
            message = %row.id, channel = %row.channel, attempts, permanent = e.permanent,
            error = %e.message, "delivery failed"
            )
        }
    }
    state
        .all_tenants()
        .outbox()
        .settle(&row.id, worker, attempts, &settled)
        .await
}

/// Messages a DingTalk robot may still take now: 20 a minute, less those sent in the
/// last minute and those leased (in flight) to any worker.
async fn dingtalk_allowance(
    write: &mut AllTenantsWrite,
    recipient: &str,
    now: i64,
) -> Result<i64, Error> {
    let recent = write
        .outbox()
        .sent_or_in_flight(recipient, now - 60_000, now)
        .await?;
    Ok(DINGTALK_PER_MINUTE - recent)
}

/// Delay before retry `attempts` + 1: base x 2^(attempts - 1), at most an hour.
pub fn backoff_ms(base_ms: u64, attempts: i64) -> i64 {
    let exponent = u32::try_from((attempts - 1).clamp(0, 20)).unwrap_or(20);
    let delay = base_ms.saturating_mul(1_u64 << exponent).min(3_600_000);
    i64::try_from(delay).unwrap_or(3_600_000)
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_an_hour() {
        assert_eq!(backoff_ms(1_000, 1), 1_000);
        assert_eq!(backoff_ms(1_000, 2), 2_000);
        assert_eq!(backoff_ms(1_000, 5), 16_000);
        assert_eq!(backoff_ms(1_000, 40), 3_600_000);
        assert_eq!(backoff_ms(u64::MAX, 3), 3_600_000);
    }
}
