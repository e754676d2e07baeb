//! Contact groups: who a project's alerts go to (email addresses, and the account's
//! notification channels). Reads through a [`ProjectScope`], writes through a
//! [`ProjectWrite`] (the project locked), so every query here is already scoped.

use crate::alerts::AlertPass;
use crate::channels::Channel;
use crate::db::{new_id, now_ms};
use crate::scope::{ProjectScope, ProjectWrite};
use crate::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContactGroupRow {
    pub id: String,
    pub name: String,
    /// The addresses as stored: a JSON array of strings.
    pub emails: String,
    pub created_at: i64,
    /// The group's notification channels, in id order.
    #[sqlx(skip)]
    pub channel_ids: Vec<String>,
}

/// Where a contact group sends.
#[derive(Debug, Clone)]
pub struct Destinations {
    /// The addresses as stored: a JSON array of strings.
    pub emails: String,
    /// The group's channels (id and kind), in id order.
    pub channels: Vec<(String, Channel)>,
}

/// One of the account's notification channels as a contact group names it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelChoiceRow {
    pub id: String,
    pub kind: String,
    pub name: String,
}

/// The project's contact groups, as the caller may read them.
pub struct ContactGroups<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn contact_groups(&self) -> ContactGroups<'_> {
        ContactGroups(self)
    }
}

impl ContactGroups<'_> {
    /// Every group of the project, in name order, with its channels.
    pub async fn list(&self) -> Result<Vec<ContactGroupRow>, Error> {
        let scope = self.0;
        let mut rows: Vec<ContactGroupRow> = sqlx::query_as(
            "select g.id, g.name, g.emails, g.created_at from contact_groups g join projects p on p.id = g.project_id
              where p.account_id = $1 and g.project_id = $2 order by g.name",
        )
        .bind(scope.account_id())
        .bind(scope.project_id())
        .fetch_all(&scope.db().pool)
        .await?;
        for row in &mut rows {
            row.channel_ids = self
                .channels_of(&row.id)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
        }
        Ok(rows)
    }

    /// The addresses and channels of one group of the project.
    pub async fn destinations(&self, group_id: &str) -> Result<Destinations, Error> {
        let scope = self.0;
        let found: Option<(String,)> = sqlx::query_as(
            "select g.emails from contact_groups g join projects p on p.id = g.project_id
              where p.account_id = $1 and g.project_id = $2 and g.id = $3",
        )
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(group_id)
        .fetch_optional(&scope.db().pool)
        .await?;
        let (emails,) = found.ok_or_else(|| Error::not_found("contact group"))?;
        Ok(Destinations {
            emails,
            channels: self.channels_of(group_id).await?,
        })
    }

    /// The channels of a group already found in the project.
    async fn channels_of(&self, group_id: &str) -> Result<Vec<(String, Channel)>, Error> {
        Ok(sqlx::query_as(
            "select c.id, c.kind from contact_group_channels g join notification_channels c on c.id = g.channel_id
              where g.group_id = $1 order by c.id",
        )
        .bind(group_id)
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// The account's notification channels a group of this project may send to, in
    /// name order: their kind and name only.
    pub async fn channel_choices(&self) -> Result<Vec<ChannelChoiceRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select id, kind, name from notification_channels where account_id = $1 order by name",
        )
        .bind(scope.account_id())
        .fetch_all(&scope.db().pool)
        .await?)
    }
}

impl AlertPass<'_> {
    /// Where a contact group sends (it must exist).
    pub async fn destinations(&mut self, group_id: &str) -> Result<Destinations, Error> {
        let tx = self.0.tx();
        let (emails,): (String,) =
            sqlx::query_as("select emails from contact_groups where id = $1")
                .bind(group_id)
                .fetch_one(&mut **tx)
                .await?;
        let channels = sqlx::query_as(
            "select c.id, c.kind from contact_group_channels g join notification_channels c on c.id = g.channel_id
              where g.group_id = $1 order by c.id",
        )
        .bind(group_id)
        .fetch_all(&mut **tx)
        .await?;
        Ok(Destinations { emails, channels })
    }
}

/// The project's contact groups inside its locked write transaction.
pub struct ContactGroupWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn contact_groups(&mut self) -> ContactGroupWrites<'_> {
        ContactGroupWrites(self)
    }
}

/// A unique index caught a name already taken in the project.
fn name_taken(e: sqlx::Error) -> Error {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => Error::already_exists(
            "name",
            "the project already has a contact group with this name",
        ),
        other => other.into(),
    }
}

impl ContactGroupWrites<'_> {
    /// Whether `channel_id` is a notification channel of the project's account.
    pub async fn is_account_channel(&mut self, channel_id: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let (found,): (i64,) = sqlx::query_as(
            "select count(*) from notification_channels c join projects p on p.account_id = c.account_id
              where c.id = $1 and p.id = $2",
        )
        .bind(channel_id)
        .bind(project_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(found > 0)
    }

    /// A new group; `emails` is the JSON array to store. Its channels are set apart
    /// ([`set_channels`](Self::set_channels)).
    pub async fn insert(
        &mut self,
        name: &str,
        emails: &str,
        created_by: &str,
    ) -> Result<ContactGroupRow, Error> {
        let (tx, project_id) = self.0.parts();
        let row = ContactGroupRow {
            id: new_id(),
            name: name.to_owned(),
            emails: emails.to_owned(),
            created_at: now_ms(),
            channel_ids: Vec::new(),
        };
        sqlx::query(
            "insert into contact_groups (id, project_id, name, emails, created_by, created_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&row.id)
        .bind(project_id)
        .bind(&row.name)
        .bind(&row.emails)
        .bind(created_by)
        .bind(row.created_at)
        .execute(&mut **tx)
        .await
        .map_err(name_taken)?;
        Ok(row)
    }

    /// Replaces a group's name and addresses; returns when it was created. Not found
    /// unless the group is the project's.
    pub async fn update(&mut self, group_id: &str, name: &str, emails: &str) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        let created: Option<(i64,)> = sqlx::query_as(
            "update contact_groups set name = $1, emails = $2 where id = $3 and project_id = $4 returning created_at",
        )
        .bind(name)
        .bind(emails)
        .bind(group_id)
        .bind(project_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(name_taken)?;
        created
            .map(|(created_at,)| created_at)
            .ok_or_else(|| Error::not_found("contact group"))
    }

    /// Sets the channels a group of the project sends to.
    pub async fn set_channels(
        &mut self,
        group_id: &str,
        channel_ids: &[String],
    ) -> Result<(), Error> {
        if !self.exists(group_id).await? {
            return Err(Error::not_found("contact group"));
        }
        let (tx, _) = self.0.parts();
        sqlx::query("delete from contact_group_channels where group_id = $1")
            .bind(group_id)
            .execute(&mut **tx)
            .await?;
        for channel_id in channel_ids {
            sqlx::query(
                "insert into contact_group_channels (group_id, channel_id) values ($1, $2)",
            )
            .bind(group_id)
            .bind(channel_id)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Whether `group_id` is a contact group of the project.
    pub async fn exists(&mut self, group_id: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let (found,): (i64,) =
            sqlx::query_as("select count(*) from contact_groups where id = $1 and project_id = $2")
                .bind(group_id)
                .bind(project_id)
                .fetch_one(&mut **tx)
                .await?;
        Ok(found > 0)
    }

    /// How many of the project's alert rules send to the group.
    pub async fn rules_using(&mut self, group_id: &str) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        let (used,): (i64,) = sqlx::query_as(
            "select count(*) from alert_rules where contact_group_id = $1 and project_id = $2",
        )
        .bind(group_id)
        .bind(project_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(used)
    }

    /// Not found unless the group is the project's.
    pub async fn delete(&mut self, group_id: &str) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        let done = sqlx::query("delete from contact_groups where id = $1 and project_id = $2")
            .bind(group_id)
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("contact group"));
        }
        Ok(())
    }
}
