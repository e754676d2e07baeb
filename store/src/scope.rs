//! Tenant scoping in one place. Tenant data is reached through a handle that says whose
//! it is:
//!
//! - [`ProjectScope`]: one project of one account, opened by the authorizer once it
//!   found that the caller may act on that project. Every read it offers is scoped to
//!   the account and the project here, not in each caller's SQL.
//! - [`AccountScope`]: the caller's account (its members, channels, clusters, billing),
//!   opened by the authorizer after an account-level check.
//! - [`ProjectWrite`]: a write transaction holding the project's row lock, taken only
//!   through a [`ProjectScope`]; the project's limits and invariants are checked and
//!   changed under it.
//!
//! Only the authorizer (`gateway/src/access`) calls [`ProjectScope::granted`] and
//! [`AccountScope::granted`]; a test of the gateway fails on any other caller. The one
//! scope derived here is a project's account ([`ProjectScope::account`]), for what an
//! account offers all its projects.

use crate::db::{Db, Tx};
use crate::Error;

#[derive(Clone)]
pub struct ProjectScope {
    db: Db,
    account_id: String,
    project_id: String,
}

impl std::fmt::Debug for ProjectScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectScope")
            .field("account_id", &self.account_id)
            .field("project_id", &self.project_id)
            .finish()
    }
}

impl ProjectScope {
    /// For the authorizer alone, once the caller passed its check on this project of
    /// this account.
    pub fn granted(db: &Db, account_id: &str, project_id: &str) -> Self {
        Self {
            db: db.clone(),
            account_id: account_id.to_owned(),
            project_id: project_id.to_owned(),
        }
    }

    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// The project's account, for what the account offers all its projects (the
    /// clusters they may deploy to): a project granted is a view into its account.
    pub fn account(&self) -> AccountScope {
        AccountScope {
            db: self.db.clone(),
            account_id: self.account_id.clone(),
        }
    }

    /// Begins a write transaction and locks the project's row, so that writers of one
    /// project serialise: a limit counted under the lock cannot be passed by a
    /// concurrent request. Not found once the project is gone.
    pub async fn write(&self) -> Result<ProjectWrite, Error> {
        let tx = self.db.begin_write().await?;
        self.lock(tx).await
    }

    /// Like [`write`](Self::write), with the account's row locked first (the order
    /// account writers lock in): for changes checked across the account, such as a
    /// project's name.
    pub async fn write_with_account(&self) -> Result<ProjectWrite, Error> {
        let mut tx = self.db.begin_write().await?;
        lock_account(&self.db, &mut tx, &self.account_id).await?;
        self.lock(tx).await
    }

    async fn lock(&self, mut tx: Tx) -> Result<ProjectWrite, Error> {
        let found: Option<(String,)> = sqlx::query_as(&format!(
            "select id from projects where id = $1 and account_id = $2{}",
            self.db.for_update()
        ))
        .bind(&self.project_id)
        .bind(&self.account_id)
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Err(Error::not_found("project"));
        }
        Ok(ProjectWrite {
            tx,
            project_id: self.project_id.clone(),
        })
    }
}

/// A write transaction on one project, its row locked. Dropped without
/// [`commit`](Self::commit), nothing it wrote is kept.
pub struct ProjectWrite {
    tx: Tx,
    project_id: String,
}

impl ProjectWrite {
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    pub(crate) fn parts(&mut self) -> (&mut Tx, &str) {
        (&mut self.tx, &self.project_id)
    }

    pub async fn commit(self) -> Result<(), Error> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// The caller's account, after an account-level check.
#[derive(Clone)]
pub struct AccountScope {
    db: Db,
    account_id: String,
}

impl std::fmt::Debug for AccountScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountScope")
            .field("account_id", &self.account_id)
            .finish()
    }
}

impl AccountScope {
    /// For the authorizer alone, once the caller passed its check on this account.
    pub fn granted(db: &Db, account_id: &str) -> Self {
        Self {
            db: db.clone(),
            account_id: account_id.to_owned(),
        }
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Begins a write transaction and locks the account's row, so that writers of one
    /// account serialise (its limits and invariants are counted under the lock).
    pub async fn write(&self) -> Result<AccountWrite, Error> {
        let mut tx = self.db.begin_write().await?;
        lock_account(&self.db, &mut tx, &self.account_id).await?;
        Ok(AccountWrite {
            tx,
            account_id: self.account_id.clone(),
        })
    }
}

/// Locks the account's row in `tx`; not found once the account is gone.
async fn lock_account(db: &Db, tx: &mut Tx, account_id: &str) -> Result<(), Error> {
    let found: Option<(String,)> = sqlx::query_as(&format!(
        "select id from accounts where id = $1{}",
        db.for_update()
    ))
    .bind(account_id)
    .fetch_optional(&mut **tx)
    .await?;
    found.map(|_| ()).ok_or_else(|| Error::not_found("account"))
}

/// A write transaction on one account, its row locked.
pub struct AccountWrite {
    tx: Tx,
    account_id: String,
}

impl AccountWrite {
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub(crate) fn parts(&mut self) -> (&mut Tx, &str) {
        (&mut self.tx, &self.account_id)
    }

    pub async fn commit(self) -> Result<(), Error> {
        self.tx.commit().await?;
        Ok(())
    }
}
