//! The outbox: notifications to deliver, their attempts and outcomes.
//!
//! A message is written inside the transaction of the change that caused it
//! ([`OutboxWrites::enqueue`]); the delivery worker leases due rows
//! ([`OutboxWrites::due`], [`OutboxWrites::lease`]) and records each outcome only
//! while it still holds the lease ([`Outbox::settle`]).

use crate::all_tenants::{AllTenants, AllTenantsWrite};
use crate::channels::Channel;
use crate::db::{new_id, now_ms, Backend, Tx};
use crate::Error;

pub struct NewMessage<'a> {
    pub account_id: &'a str,
    pub source_kind: &'a str,
    pub source_id: &'a str,
    pub channel: Channel,
    /// The email address, or the id of the account's notification channel.
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub markdown: &'a str,
}

/// A leased row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LeasedRow {
    pub id: String,
    pub account_id: String,
    pub channel: String,
    pub recipient: String,
    pub idempotency_key: String,
    pub subject: String,
    pub body_text: String,
    pub body_markdown: String,
    pub attempts: i64,
}

/// Every account's outbox, for the delivery worker and the metrics scrape.
pub struct Outbox<'a>(&'a AllTenants);

impl AllTenants {
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox(self)
    }
}

/// How a delivery attempt ended, as recorded.
#[derive(Debug, Clone)]
pub enum Settled {
    /// Delivered at this instant (ms).
    Sent { at: i64 },
    /// Given up: a permanent failure, or out of attempts.
    Failed { error: String },
    /// A transient failure, tried again at `next_attempt_at` (ms).
    Retry { error: String, next_attempt_at: i64 },
}

impl Outbox<'_> {
    /// Records a delivery's outcome after `attempts` attempts, if `worker` still holds
    /// the row's lease (else nothing changes).
    pub async fn settle(
        &self,
        message_id: &str,
        worker: &str,
        attempts: i64,
        outcome: &Settled,
    ) -> Result<(), Error> {
        let query = match outcome {
            Settled::Sent { at } => sqlx::query(
                "update outbox set status = 'sent', attempts = $1, sent_at = $2, last_error = null, leased_by = null, lease_until = null
                  where id = $3 and leased_by = $4",
            )
            .bind(attempts)
            .bind(*at),
            Settled::Failed { error } => sqlx::query(
                "update outbox set status = 'failed', attempts = $1, last_error = $2, leased_by = null, lease_until = null
                  where id = $3 and leased_by = $4",
            )
            .bind(attempts)
            .bind(error.clone()),
            Settled::Retry {
                error,
                next_attempt_at,
            } => sqlx::query(
                "update outbox set attempts = $1, last_error = $2, next_attempt_at = $3, leased_by = null, lease_until = null
                  where id = $4 and leased_by = $5",
            )
            .bind(attempts)
            .bind(error.clone())
            .bind(*next_attempt_at),
        };
        query
            .bind(message_id)
            .bind(worker)
            .execute(&self.0.db().pool)
            .await?;
        Ok(())
    }

    /// Messages waiting (`pending`) or given up (`failed`): (channel, status, count).
    pub async fn depth(&self) -> Result<Vec<(String, String, i64)>, Error> {
        Ok(sqlx::query_as(
            "select channel, status, count(*) from outbox where status in ('pending', 'failed') group by channel, status",
        )
        .fetch_all(&self.0.db().pool)
        .await?)
    }
}

/// Every account's outbox inside a write transaction: messages queued with the change
/// that caused them, and a batch leased.
pub struct OutboxWrites<'a>(&'a mut AllTenantsWrite);

impl AllTenantsWrite {
    pub fn outbox(&mut self) -> OutboxWrites<'_> {
        OutboxWrites(self)
    }
}

impl OutboxWrites<'_> {
    /// Adds a message inside the caller's transaction; it is delivered after the
    /// commit. Returns its id. The idempotency key is derived from the id, which no
    /// other tenant's message can share.
    pub async fn enqueue(&mut self, message: &NewMessage<'_>) -> Result<String, Error> {
        let tx = self.0.tx();
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "insert into outbox (id, account_id, source_kind, source_id, channel, recipient, idempotency_key, subject,
                                 body_text, body_markdown, status, attempts, next_attempt_at, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 0, $11, $11)",
        )
        .bind(&id)
        .bind(message.account_id)
        .bind(message.source_kind)
        .bind(message.source_id)
        .bind(message.channel.as_str())
        .bind(message.recipient)
        .bind(format!("sluice-{id}"))
        .bind(message.subject)
        .bind(message.text)
        .bind(message.markdown)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(id)
    }

    /// Up to `limit` due rows not leased now, oldest due first; locked on PostgreSQL
    /// (`for update skip locked`, so replicas take disjoint batches; SQLite has one
    /// writer).
    pub async fn due(&mut self, now: i64, limit: i64) -> Result<Vec<LeasedRow>, Error> {
        let (tx, db) = self.0.parts();
        let skip_locked = match db.backend {
            Backend::Postgres => " for update skip locked",
            Backend::Sqlite => "",
        };
        Ok(sqlx::query_as(&format!(
            "select id, account_id, channel, recipient, idempotency_key, subject, body_text, body_markdown, attempts
               from outbox where status = 'pending' and next_attempt_at <= $1
                and (lease_until is null or lease_until < $1)
              order by next_attempt_at, id limit $2{skip_locked}"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&mut **tx)
        .await?)
    }

    /// Locks the channel `recipient`'s row (so that two replicas leasing at once
    /// cannot both spend its allowance) and counts its messages sent since `since` and
    /// those leased (in flight) at `now`.
    pub async fn sent_or_in_flight(
        &mut self,
        recipient: &str,
        since: i64,
        now: i64,
    ) -> Result<i64, Error> {
        let (tx, db) = self.0.parts();
        sqlx::query(&format!(
            "select id from notification_channels where id = $1{}",
            db.for_update()
        ))
        .bind(recipient)
        .fetch_optional(&mut **tx)
        .await?;
        let (recent,): (i64,) = sqlx::query_as(
            "select count(*) from outbox where recipient = $1
                and ((status = 'sent' and sent_at > $2) or (status = 'pending' and lease_until > $3))",
        )
        .bind(recipient)
        .bind(since)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        Ok(recent)
    }

    /// Holds messages back until `until` (ms): no attempt is counted.
    pub async fn hold_back(&mut self, ids: &[String], until: i64) -> Result<(), Error> {
        update_many(
            self.0.tx(),
            "update outbox set next_attempt_at = $1 where id in",
            until,
            None,
            ids,
        )
        .await
    }

    /// Leases messages to `worker` until `until` (ms).
    pub async fn lease(&mut self, ids: &[String], until: i64, worker: &str) -> Result<(), Error> {
        update_many(
            self.0.tx(),
            "update outbox set lease_until = $1, leased_by = $2 where id in",
            until,
            Some(worker),
            ids,
        )
        .await
    }
}

/// Runs `sql` (ending in `where id in`) for `ids`, 100 at a time: `$1` is `value`, and
/// `$2` the worker when given.
async fn update_many(
    tx: &mut Tx,
    sql: &str,
    value: i64,
    worker: Option<&str>,
    ids: &[String],
) -> Result<(), Error> {
    let first = if worker.is_some() { 3 } else { 2 };
    for chunk in ids.chunks(100) {
        let placeholders: Vec<String> = (0..chunk.len())
            .map(|i| format!("${}", i + first))
            .collect();
        let statement = format!("{sql} ({})", placeholders.join(", "));
        let mut query = sqlx::query(&statement).bind(value);
        if let Some(worker) = worker {
            query = query.bind(worker);
        }
        for id in chunk {
            query = query.bind(id);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}
