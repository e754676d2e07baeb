//! Invitations to join an account: listed, created and revoked through the account's
//! scope; accepted at sign-in ([`SignIn`]), before any tenant is known.

use crate::db::{new_id, now_ms};
use crate::members::{insert_account_member, is_account_member};
use crate::scope::{AccountScope, AccountWrite};
use crate::sessions::SignIn;
use crate::{Error, Page};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub project_id: Option<String>,
    pub project_role: Option<String>,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str =
    "id, email, role, project_id, project_role, invited_by, created_at, expires_at, accepted_at, revoked_at";

/// An invitation to store.
pub struct NewInvitation<'a> {
    pub email: &'a str,
    pub role: &'a str,
    /// A project the invitee joins too, with this project role.
    pub project: Option<(&'a str, &'a str)>,
    pub invited_by: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The account's invitations.
pub struct Invitations<'a>(&'a AccountScope);

impl AccountScope {
    pub fn invitations(&self) -> Invitations<'_> {
        Invitations(self)
    }
}

impl Invitations<'_> {
    /// One page in id order (`page.fetch()` rows: the extra one tells that more exist).
    pub async fn list(&self, page: &Page) -> Result<Vec<InvitationRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {COLUMNS} from invitations where account_id = $1 and id > $2 order by id limit $3"
        ))
        .bind(scope.account_id())
        .bind(&page.after)
        .bind(page.fetch())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// Revokes a pending (neither accepted nor revoked) invitation; false when there is
    /// no such invitation.
    pub async fn revoke(&self, invitation_id: &str) -> Result<bool, Error> {
        let scope = self.0;
        let done = sqlx::query(
            "update invitations set revoked_at = $1 where id = $2 and account_id = $3 and accepted_at is null and revoked_at is null",
        )
        .bind(now_ms())
        .bind(invitation_id)
        .bind(scope.account_id())
        .execute(&scope.db().pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// The account's invitations inside its locked write transaction.
pub struct InvitationWrites<'a>(&'a mut AccountWrite);

impl AccountWrite {
    pub fn invitations(&mut self) -> InvitationWrites<'_> {
        InvitationWrites(self)
    }
}

impl InvitationWrites<'_> {
    /// Whether `project_id` names a project of the account.
    pub async fn project_exists(&mut self, project_id: &str) -> Result<bool, Error> {
        let (tx, account_id) = self.0.parts();
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from projects where id = $1 and account_id = $2")
                .bind(project_id)
                .bind(account_id)
                .fetch_one(&mut **tx)
                .await?;
        Ok(n > 0)
    }

    /// Whether `email` has an invitation still pending at `now`.
    pub async fn pending_for(&mut self, email: &str, now: i64) -> Result<bool, Error> {
        let (tx, account_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from invitations where account_id = $1 and email = $2
                and accepted_at is null and revoked_at is null and expires_at > $3",
        )
        .bind(account_id)
        .bind(email)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        Ok(n > 0)
    }

    /// Stores the invitation; returns its id.
    pub async fn insert(&mut self, invitation: &NewInvitation<'_>) -> Result<String, Error> {
        let (tx, account_id) = self.0.parts();
        let id = new_id();
        sqlx::query(
            "insert into invitations (id, account_id, email, role, project_id, project_role, invited_by, created_at, expires_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(account_id)
        .bind(invitation.email)
        .bind(invitation.role)
        .bind(invitation.project.map(|(p, _)| p))
        .bind(invitation.project.map(|(_, r)| r))
        .bind(invitation.invited_by)
        .bind(invitation.created_at)
        .bind(invitation.expires_at)
        .execute(&mut **tx)
        .await?;
        Ok(id)
    }
}

/// An invitation waiting for the email that signs in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingInvitationRow {
    pub id: String,
    pub account_id: String,
    pub role: String,
    pub project_id: Option<String>,
    pub project_role: Option<String>,
}

impl SignIn {
    /// The invitations for `email` still pending at `now`, oldest first.
    pub async fn pending_invitations(
        &mut self,
        email: &str,
        now: i64,
    ) -> Result<Vec<PendingInvitationRow>, Error> {
        Ok(sqlx::query_as(
            "select id, account_id, role, project_id, project_role from invitations
              where email = $1 and accepted_at is null and revoked_at is null and expires_at > $2 order by id",
        )
        .bind(email)
        .bind(now)
        .fetch_all(&mut **self.tx())
        .await?)
    }

    /// Accepts an invitation for `user_id`: a member of its account (unless already
    /// one) and of its project (unless already one), and the invitation marked accepted.
    pub async fn accept_invitation(
        &mut self,
        invitation: &PendingInvitationRow,
        user_id: &str,
        now: i64,
    ) -> Result<(), Error> {
        let tx = self.tx();
        if !is_account_member(&mut **tx, &invitation.account_id, user_id).await? {
            insert_account_member(tx, &invitation.account_id, user_id, &invitation.role, now)
                .await?;
        }
        if let (Some(project), Some(project_role)) =
            (&invitation.project_id, &invitation.project_role)
        {
            sqlx::query(
                "insert into project_members (project_id, user_id, role, created_at)
                 select $1, $2, $3, $4 where not exists (select 1 from project_members where project_id = $1 and user_id = $2)",
            )
            .bind(project)
            .bind(user_id)
            .bind(project_role)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query("update invitations set accepted_at = $1, accepted_by = $2 where id = $3")
            .bind(now)
            .bind(user_id)
            .bind(&invitation.id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}
