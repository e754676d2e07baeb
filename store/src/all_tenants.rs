//! Every tenant's data at once, for the background workers (the reconciler, billing,
//! the outbox, metrics and alert passes, reminders) and the operator's CLI.
//!
//! A request never holds one: handlers reach tenant data only through the scopes the
//! authorizer opens ([`crate::ProjectScope`], [`crate::AccountScope`]). The name is
//! meant to stand out in review, and a test of the gateway fails when an HTTP handler
//! names it. Each resource module adds the queries its workers need as methods on
//! [`AllTenants`] (reads) or [`AllTenantsWrite`] (a write transaction).

use crate::db::{Db, Tx};
use crate::Error;

/// Unscoped access to every account's rows.
#[derive(Clone)]
pub struct AllTenants {
    db: Db,
}

impl std::fmt::Debug for AllTenants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AllTenants")
    }
}

impl AllTenants {
    /// For the workers' start-up and the operator's CLI alone.
    pub fn for_workers(db: &Db) -> Self {
        Self { db: db.clone() }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Begins a write transaction over any tenant's rows; what it locks is up to the
    /// named queries called on it.
    pub async fn write(&self) -> Result<AllTenantsWrite, Error> {
        Ok(AllTenantsWrite {
            tx: self.db.begin_write().await?,
            db: self.db.clone(),
        })
    }
}

/// A write transaction over any tenant's rows. Dropped without
/// [`commit`](Self::commit), nothing it wrote is kept.
pub struct AllTenantsWrite {
    tx: Tx,
    db: Db,
}

impl AllTenantsWrite {
    pub(crate) fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// The transaction and the database it belongs to (for `for update`, which only
    /// PostgreSQL takes).
    pub(crate) fn parts(&mut self) -> (&mut Tx, &Db) {
        (&mut self.tx, &self.db)
    }

    pub async fn commit(self) -> Result<(), Error> {
        self.tx.commit().await?;
        Ok(())
    }
}
