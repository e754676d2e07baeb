//! Which replica acts on a deployment: a row claim that works alike on SQLite and
//! PostgreSQL, renewed while its holder acts and taken over `engine.lease_ms` after
//! the holder died.

use std::time::Duration;
use store::Error;

use crate::AppState;
use store::db::now_ms;

/// The reconciler's identity in leases.
pub struct Replica(pub String);

/// A replica's hold on one deployment: renewed in the background while the replica
/// acts (a submission can take seconds), so the lease itself can be short and another
/// replica takes over within `engine.lease_ms` of the holder dying.
pub(super) struct Claim {
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

pub(super) async fn claim(
    state: &AppState,
    replica: &Replica,
    id: &str,
) -> Result<Option<Claim>, Error> {
    let lease_ms = i64::try_from(state.config.engine.lease_ms).unwrap_or(i64::MAX);
    let now = now_ms();
    let claimed = sqlx::query(
        "update deployments set lease_owner = $1, lease_until = $2
          where id = $3 and (lease_until is null or lease_until < $4 or lease_owner = $1)",
    )
    .bind(&replica.0)
    .bind(now.saturating_add(lease_ms))
    .bind(id)
    .bind(now)
    .execute(&state.db.pool)
    .await?;
    if claimed.rows_affected() != 1 {
        return Ok(None);
    }
    let renewer = {
        let state = state.clone();
        let (owner, id) = (replica.0.clone(), id.to_owned());
        let every = Duration::from_millis((state.config.engine.lease_ms / 3).max(50));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let renewed = sqlx::query(
                    "update deployments set lease_until = $1 where id = $2 and lease_owner = $3",
                )
                .bind(now_ms().saturating_add(lease_ms))
                .bind(&id)
                .bind(&owner)
                .execute(&state.db.pool)
                .await;
                match renewed {
                    Ok(r) if r.rows_affected() == 1 => {}
                    // Taken over (this replica was too slow to renew): what it is doing
                    // is idempotent against the engine, so finishing it is harmless.
                    Ok(_) => return,
                    Err(e) => {
                        tracing::warn!(deployment = %id, error = %e, "cannot renew the lease; will retry")
                    }
                }
            }
        })
    };
    Ok(Some(Claim { renewer }))
}

pub(super) async fn release(
    state: &AppState,
    replica: &Replica,
    id: &str,
    claim: Claim,
) -> Result<(), Error> {
    drop(claim);
    sqlx::query("update deployments set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2")
        .bind(id)
        .bind(&replica.0)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}
