//! Notices to the people of an account: lifecycle announcements and reminders, arrears,
//! capacity taken away. A notice is written inside the caller's transaction, so it
//! exists exactly when the change that caused it does, as an in-site message to each
//! person of the audience, an email to each of them, and a message to each of the
//! account's SMS, DingTalk and webhook channels, all through the outbox
//! ([`crate::outbox`]), which delivers them after the commit.

use store::db::{new_id, now_ms, Tx};
use store::Error;

/// Who in an account a notice is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Lifecycle changes: the people who manage the account's projects.
    OwnersAndAdmins,
    /// Money: the people who see and pay bills.
    OwnersAndBillingManagers,
}

impl Audience {
    fn roles_sql(self) -> &'static str {
        match self {
            Self::OwnersAndAdmins => "('owner', 'admin')",
            Self::OwnersAndBillingManagers => "('owner', 'billing_manager')",
        }
    }
}

pub struct Notice<'a> {
    /// What it is about, e.g. `engine_version_schedule`, `lifecycle_reminder`, `arrears`.
    pub kind: &'a str,
    pub subject: &'a str,
    /// Plain text; the outbox sends it as text and as markdown.
    pub body: &'a str,
}

/// Writes `notice` for `audience` of `account_id` inside `tx`: an in-site message per
/// person, and outbox rows for their email and the account's channels. Returns how
/// many people it reached.
pub async fn notify(
    tx: &mut Tx,
    account_id: &str,
    audience: Audience,
    notice: &Notice<'_>,
) -> Result<usize, Error> {
    let people: Vec<(String, String)> = sqlx::query_as(&format!(
        "select m.user_id, u.email from account_members m join users u on u.id = m.user_id
          where m.account_id = $1 and m.role in {} order by m.user_id",
        audience.roles_sql()
    ))
    .bind(account_id)
    .fetch_all(&mut **tx)
    .await?;
    let now = now_ms();
    let notice_id = new_id();
    for (user_id, email) in &people {
        let id = new_id();
        sqlx::query(
            "insert into notices (id, account_id, user_id, kind, subject, body, created_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(account_id)
        .bind(user_id)
        .bind(notice.kind)
        .bind(notice.subject)
        .bind(notice.body)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        crate::outbox::enqueue(
            tx,
            &crate::outbox::NewMessage {
                account_id,
                source_kind: "notice",
                source_id: &id,
                channel: crate::channels::Channel::Email,
                recipient: email,
                subject: notice.subject,
                text: notice.body,
                markdown: notice.body,
            },
        )
        .await?;
    }
    // Account channels get one message per notice, not one per person.
    let channels: Vec<(String, crate::channels::Channel)> = sqlx::query_as(
        "select id, kind from notification_channels where account_id = $1 order by id",
    )
    .bind(account_id)
    .fetch_all(&mut **tx)
    .await?;
    for (channel_id, channel) in channels {
        crate::outbox::enqueue(
            tx,
            &crate::outbox::NewMessage {
                account_id,
                source_kind: "notice",
                source_id: &notice_id,
                channel,
                recipient: &channel_id,
                subject: notice.subject,
                text: notice.body,
                markdown: notice.body,
            },
        )
        .await?;
    }
    Ok(people.len())
}

/// Notifies the owners and admins of each account in `accounts` (inside the caller's
/// transaction, so the notice exists exactly when the change does). Returns how many
/// people it reached.
pub async fn notify_accounts(
    tx: &mut Tx,
    accounts: &[String],
    kind: &str,
    subject: &str,
    body: &str,
) -> Result<usize, Error> {
    let mut written = 0;
    for account in accounts {
        written += notify(
            tx,
            account,
            Audience::OwnersAndAdmins,
            &Notice {
                kind,
                subject,
                body,
            },
        )
        .await?;
    }
    Ok(written)
}
