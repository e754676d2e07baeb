//! Notices to the people of an account: lifecycle announcements and reminders, arrears,
//! capacity taken away. A notice is written inside the caller's transaction, so it
//! exists exactly when the change that caused it does, as an in-site message to each
//! person of the audience, an email to each of them, and a message to each of the
//! account's SMS, DingTalk and webhook channels, all through the outbox
//! ([`crate::outbox`]), which delivers them after the commit.

use store::db::{new_id, now_ms};
use store::notices::NewNotice;
use store::{AllTenantsWrite, Error};

pub use store::notices::Audience;

pub struct Notice<'a> {
    /// What it is about, e.g. `engine_version_schedule`, `lifecycle_reminder`, `arrears`.
    pub kind: &'a str,
    pub subject: &'a str,
    /// Plain text; the outbox sends it as text and as markdown.
    pub body: &'a str,
}

/// Writes `notice` for `audience` of `account_id` inside `write`: an in-site message per
/// person, and outbox rows for their email and the account's channels. Returns how
/// many people it reached.
pub async fn notify(
    write: &mut AllTenantsWrite,
    account_id: &str,
    audience: Audience,
    notice: &Notice<'_>,
) -> Result<usize, Error> {
    let people = write.notices().audience(account_id, audience).await?;
    let now = now_ms();
    let notice_id = new_id();
    for person in &people {
        let id = new_id();
        write
            .notices()
            .insert(&NewNotice {
                id: &id,
                account_id,
                user_id: &person.user_id,
                kind: notice.kind,
                subject: notice.subject,
                body: notice.body,
                created_at: now,
            })
            .await?;
        write
            .outbox()
            .enqueue(&store::outbox::NewMessage {
                account_id,
                source_kind: "notice",
                source_id: &id,
                channel: crate::channels::Channel::Email,
                recipient: &person.email,
                subject: notice.subject,
                text: notice.body,
                markdown: notice.body,
            })
            .await?;
    }
    // Account channels get one message per notice, not one per person.
    let channels = write.notices().account_channels(account_id).await?;
    for (channel_id, channel) in channels {
        write
            .outbox()
            .enqueue(&store::outbox::NewMessage {
                account_id,
                source_kind: "notice",
                source_id: &notice_id,
                channel,
                recipient: &channel_id,
                subject: notice.subject,
                text: notice.body,
                markdown: notice.body,
            })
            .await?;
    }
    Ok(people.len())
}

/// Notifies the owners and admins of each account in `accounts` (inside the caller's
/// transaction, so the notice exists exactly when the change does). Returns how many
/// people it reached.
pub async fn notify_accounts(
    write: &mut AllTenantsWrite,
    accounts: &[String],
    kind: &str,
    subject: &str,
    body: &str,
) -> Result<usize, Error> {
    let mut written = 0;
    for account in accounts {
        written += notify(
            write,
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
