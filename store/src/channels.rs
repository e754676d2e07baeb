//! An account's notification channels (their kinds, and their addresses and secrets as
//! sealed at rest) and the outbox's deliveries to them. Reads through an
//! [`AccountScope`], writes through an [`AccountWrite`] (the account locked), so every
//! query here is already scoped.

use crate::all_tenants::AllTenants;
use crate::db::{now_ms, Db};
use crate::scope::{AccountScope, AccountWrite, ProjectScope};
use crate::{Error, Page};

crate::stored_enum! {
    /// A notification channel's kind, stored as its name.
    pub enum Channel {
        Email = "email",
        Sms = "sms",
        DingTalk = "dingtalk",
        Webhook = "webhook",
    }
}

impl Channel {
    /// The kind a request names; email is not one an account creates (its address is
    /// a contact's, not a channel's).
    pub fn from_request(text: &str) -> Result<Self, Error> {
        Self::parse(text).ok_or_else(|| {
            Error::invalid(
                "kind",
                format!("`{text}` is not a channel (sms, dingtalk or webhook)"),
            )
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// The address, sealed.
    pub address_enc: String,
    /// The secret, sealed; absent when the channel has none.
    pub secret_enc: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

/// What sending through a channel needs: its kind, and its address and secret sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedChannel {
    pub kind: Channel,
    pub address_enc: String,
    pub secret_enc: Option<String>,
}

/// One of the account's channels to send through; `None` if the account has no such
/// channel.
async fn sealed(
    db: &Db,
    account_id: &str,
    channel_id: &str,
) -> Result<Option<SealedChannel>, Error> {
    Ok(sqlx::query_as(
        "select kind, address_enc, secret_enc from notification_channels where id = $1 and account_id = $2",
    )
    .bind(channel_id)
    .bind(account_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// The account's notification channels, as the caller may read them.
pub struct Channels<'a>(&'a AccountScope);

impl AccountScope {
    pub fn channels(&self) -> Channels<'_> {
        Channels(self)
    }
}

impl Channels<'_> {
    /// Every channel of the account, in name order.
    pub async fn list(&self) -> Result<Vec<ChannelRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select id, kind, name, address_enc, secret_enc, created_by, created_at from notification_channels
              where account_id = $1 order by name",
        )
        .bind(scope.account_id())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// A channel of the account to send through; `None` if there is no such channel.
    pub async fn sealed(&self, channel_id: &str) -> Result<Option<SealedChannel>, Error> {
        sealed(self.0.db(), self.0.account_id(), channel_id).await
    }
}

impl ProjectScope {
    /// A channel of the project's account to send through (a contact group sends to
    /// the account's channels); `None` if the account has no such channel.
    pub async fn account_channel(&self, channel_id: &str) -> Result<Option<SealedChannel>, Error> {
        sealed(self.db(), self.account_id(), channel_id).await
    }
}

impl AllTenants {
    /// A channel of `account_id` to send through, for the outbox's deliveries; `None`
    /// when the channel was removed since the message was queued.
    pub async fn channel_to_send(
        &self,
        account_id: &str,
        channel_id: &str,
    ) -> Result<Option<SealedChannel>, Error> {
        sealed(self.db(), account_id, channel_id).await
    }
}

/// A channel to store; its id is the one its address and secret are sealed to.
#[derive(Debug, Clone)]
pub struct NewChannel<'a> {
    pub id: &'a str,
    pub kind: Channel,
    pub name: &'a str,
    pub address_enc: &'a str,
    pub secret_enc: Option<&'a str>,
    pub created_by: &'a str,
}

/// The account's channels inside its locked write transaction.
pub struct ChannelWrites<'a>(&'a mut AccountWrite);

impl AccountWrite {
    pub fn channels(&mut self) -> ChannelWrites<'_> {
        ChannelWrites(self)
    }
}

impl ChannelWrites<'_> {
    pub async fn insert(&mut self, new: &NewChannel<'_>) -> Result<ChannelRow, Error> {
        let (tx, account_id) = self.0.parts();
        let row = ChannelRow {
            id: new.id.to_owned(),
            kind: new.kind.as_str().to_owned(),
            name: new.name.to_owned(),
            address_enc: new.address_enc.to_owned(),
            secret_enc: new.secret_enc.map(str::to_owned),
            created_by: new.created_by.to_owned(),
            created_at: now_ms(),
        };
        sqlx::query(
            "insert into notification_channels (id, account_id, kind, name, address_enc, secret_enc, created_by, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&row.id)
        .bind(account_id)
        .bind(&row.kind)
        .bind(&row.name)
        .bind(&row.address_enc)
        .bind(&row.secret_enc)
        .bind(&row.created_by)
        .bind(row.created_at)
        .execute(&mut **tx)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Error::already_exists(
                "name",
                "the account already has a notification channel with this name",
            ),
            other => other.into(),
        })?;
        Ok(row)
    }

    /// Not found unless the channel is the account's.
    pub async fn delete(&mut self, channel_id: &str) -> Result<(), Error> {
        let (tx, account_id) = self.0.parts();
        let done =
            sqlx::query("delete from notification_channels where id = $1 and account_id = $2")
                .bind(channel_id)
                .bind(account_id)
                .execute(&mut **tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("notification channel"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub source_kind: String,
    pub source_id: String,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub idempotency_key: String,
}

/// The account's outgoing messages, as the caller may read them.
pub struct Deliveries<'a>(&'a AccountScope);

impl AccountScope {
    pub fn deliveries(&self) -> Deliveries<'_> {
        Deliveries(self)
    }
}

impl Deliveries<'_> {
    /// One page newest first (`page.fetch()` rows: the extra one tells that more
    /// exist), only those in `status` unless it is empty.
    pub async fn list(&self, page: &Page, status: &str) -> Result<Vec<DeliveryRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select id, source_kind, source_id, channel, recipient, subject, status, attempts, last_error, next_attempt_at,
                    created_at, sent_at, idempotency_key
               from outbox where account_id = $1 and id < $2 and ($3 = '' or status = $3)
              order by id desc limit $4",
        )
        .bind(scope.account_id())
        .bind(page.before())
        .bind(status)
        .bind(page.fetch())
        .fetch_all(&scope.db().pool)
        .await?)
    }
}

/// The account's outgoing messages inside its locked write transaction.
pub struct DeliveryWrites<'a>(&'a mut AccountWrite);

impl AccountWrite {
    pub fn deliveries(&mut self) -> DeliveryWrites<'_> {
        DeliveryWrites(self)
    }
}

impl DeliveryWrites<'_> {
    /// A delivery's status (`pending`, `sent` or `failed`); not found unless it is the
    /// account's.
    pub async fn status(&mut self, delivery_id: &str) -> Result<String, Error> {
        let (tx, account_id) = self.0.parts();
        let found: Option<(String,)> =
            sqlx::query_as("select status from outbox where id = $1 and account_id = $2")
                .bind(delivery_id)
                .bind(account_id)
                .fetch_optional(&mut **tx)
                .await?;
        found
            .map(|(status,)| status)
            .ok_or_else(|| Error::not_found("delivery"))
    }

    /// Queues a failed delivery again, due now, with fresh attempts.
    pub async fn retry(&mut self, delivery_id: &str) -> Result<(), Error> {
        let (tx, account_id) = self.0.parts();
        sqlx::query(
            "update outbox set status = 'pending', attempts = 0, next_attempt_at = $1
              where id = $2 and account_id = $3 and status = 'failed'",
        )
        .bind(now_ms())
        .bind(delivery_id)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
