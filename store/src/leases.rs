//! The reconciler's lease: which replica acts on the engine.
//!
//! A claim on a deployment's row that works alike on SQLite and PostgreSQL: taken when
//! free, expired or already the claimant's, renewed while its holder acts, released
//! when it is done.

use crate::all_tenants::AllTenants;
use crate::db::now_ms;
use crate::Error;

/// The deployments' leases, claimed by each replica's reconciler.
pub struct Leases<'a>(&'a AllTenants);

impl AllTenants {
    pub fn leases(&self) -> Leases<'_> {
        Leases(self)
    }
}

impl Leases<'_> {
    /// Claims the deployment for `owner` for `lease_ms` from now, if no one else holds
    /// it; false if someone does.
    pub async fn claim(
        &self,
        deployment_id: &str,
        owner: &str,
        lease_ms: i64,
    ) -> Result<bool, Error> {
        let now = now_ms();
        let claimed = sqlx::query(
            "update deployments set lease_owner = $1, lease_until = $2
              where id = $3 and (lease_until is null or lease_until < $4 or lease_owner = $1)",
        )
        .bind(owner)
        .bind(now.saturating_add(lease_ms))
        .bind(deployment_id)
        .bind(now)
        .execute(&self.0.db().pool)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// Extends `owner`'s lease to `lease_ms` from now; false if `owner` no longer holds it.
    pub async fn renew(
        &self,
        deployment_id: &str,
        owner: &str,
        lease_ms: i64,
    ) -> Result<bool, Error> {
        let renewed = sqlx::query(
            "update deployments set lease_until = $1 where id = $2 and lease_owner = $3",
        )
        .bind(now_ms().saturating_add(lease_ms))
        .bind(deployment_id)
        .bind(owner)
        .execute(&self.0.db().pool)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Lets go of `owner`'s lease, if it still holds it.
    pub async fn release(&self, deployment_id: &str, owner: &str) -> Result<(), Error> {
        sqlx::query("update deployments set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2")
            .bind(deployment_id)
            .bind(owner)
            .execute(&self.0.db().pool)
            .await?;
        Ok(())
    }
}
