//! Each person's inbox of notices in an account (in-site messages: lifecycle
//! reminders, announcements, alerts).

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
