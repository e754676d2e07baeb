//! Each person's inbox of notices in an account (in-site messages: lifecycle
//! reminders, announcements, alerts), read through the [`AccountScope`]; and what
//! writing a notice needs (its audience, an inbox row, the account's channels),
//! inside the workers' transaction of the change that caused it ([`NoticeWrites`]).

use crate::all_tenants::AllTenantsWrite;
use crate::channels::Channel;
use crate::db::now_ms;
use crate::scope::AccountScope;
use crate::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: String,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// How many of a person's newest notices an inbox shows.
pub const INBOX_SIZE: i64 = 100;

/// The inboxes of the account's people.
pub struct Inboxes<'a>(&'a AccountScope);

impl AccountScope {
    pub fn inboxes(&self) -> Inboxes<'_> {
        Inboxes(self)
    }
}

impl Inboxes<'_> {
    /// A person's newest notices, newest first.
    pub async fn newest(&self, user_id: &str) -> Result<Vec<NoticeRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select id, kind, subject, body, created_at, read_at from notices
              where user_id = $1 and account_id = $2 order by id desc limit $3",
        )
        .bind(user_id)
        .bind(scope.account_id())
        .bind(INBOX_SIZE)
        .fetch_all(&scope.db().pool)
        .await?)
    }

    pub async fn unread(&self, user_id: &str) -> Result<i64, Error> {
        let scope = self.0;
        let (unread,): (i64,) = sqlx::query_as(
            "select count(*) from notices where user_id = $1 and account_id = $2 and read_at is null",
        )
        .bind(user_id)
        .bind(scope.account_id())
        .fetch_one(&scope.db().pool)
        .await?;
        Ok(unread)
    }

    /// Marks one of a person's notices read (once: the first reading's time stays);
    /// false when they have no such notice.
    pub async fn mark_read(&self, user_id: &str, notice_id: &str) -> Result<bool, Error> {
        let scope = self.0;
        let done = sqlx::query(
            "update notices set read_at = coalesce(read_at, $1) where id = $2 and user_id = $3 and account_id = $4",
        )
        .bind(now_ms())
        .bind(notice_id)
        .bind(user_id)
        .bind(scope.account_id())
        .execute(&scope.db().pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

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

/// A person a notice reaches.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecipientRow {
    pub user_id: String,
    pub email: String,
}

/// A notice in one person's inbox.
#[derive(Debug, Clone)]
pub struct NewNotice<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub user_id: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub created_at: i64,
}

/// Notices written inside a workers' write transaction.
pub struct NoticeWrites<'a>(&'a mut AllTenantsWrite);

impl AllTenantsWrite {
    pub fn notices(&mut self) -> NoticeWrites<'_> {
        NoticeWrites(self)
    }
}

impl NoticeWrites<'_> {
    /// The people of `account_id` in `audience`, in id order.
    pub async fn audience(
        &mut self,
        account_id: &str,
        audience: Audience,
    ) -> Result<Vec<RecipientRow>, Error> {
        let tx = self.0.tx();
        Ok(sqlx::query_as(&format!(
            "select m.user_id, u.email from account_members m join users u on u.id = m.user_id
              where m.account_id = $1 and m.role in {} order by m.user_id",
            audience.roles_sql()
        ))
        .bind(account_id)
        .fetch_all(&mut **tx)
        .await?)
    }

    /// Puts a notice in a person's inbox, inside the caller's transaction.
    pub async fn insert(&mut self, notice: &NewNotice<'_>) -> Result<(), Error> {
        let tx = self.0.tx();
        sqlx::query(
            "insert into notices (id, account_id, user_id, kind, subject, body, created_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(notice.id)
        .bind(notice.account_id)
        .bind(notice.user_id)
        .bind(notice.kind)
        .bind(notice.subject)
        .bind(notice.body)
        .bind(notice.created_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The account's notification channels (id and kind), in id order, that every
    /// notice to the account is also sent to.
    pub async fn account_channels(
        &mut self,
        account_id: &str,
    ) -> Result<Vec<(String, Channel)>, Error> {
        let tx = self.0.tx();
        Ok(sqlx::query_as(
            "select id, kind from notification_channels where account_id = $1 order by id",
        )
        .bind(account_id)
        .fetch_all(&mut **tx)
        .await?)
    }
}
