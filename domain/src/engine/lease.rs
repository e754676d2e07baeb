//! Which replica acts on a deployment: a row claim that works alike on SQLite and
//! PostgreSQL, renewed while its holder acts and taken over `engine.lease_ms` after
//! the holder died.

use std::time::Duration;
use store::Error;

use crate::Platform;

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
    state: &Platform,
    replica: &Replica,
    id: &str,
) -> Result<Option<Claim>, Error> {
    let lease_ms = i64::try_from(state.config.engine.lease_ms).unwrap_or(i64::MAX);
    let leases = state.all_tenants();
    if !leases.leases().claim(id, &replica.0, lease_ms).await? {
        return Ok(None);
    }
    let renewer = {
        let (owner, id) = (replica.0.clone(), id.to_owned());
        let every = Duration::from_millis((state.config.engine.lease_ms / 3).max(50));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let renewed = leases.leases().renew(&id, &owner, lease_ms).await;
                match renewed {
                    Ok(true) => {}
                    // Taken over (this replica was too slow to renew): what it is doing
                    // is idempotent against the engine, so finishing it is harmless.
                    Ok(false) => return,
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
    state: &Platform,
    replica: &Replica,
    id: &str,
    claim: Claim,
) -> Result<(), Error> {
    drop(claim);
    state.all_tenants().leases().release(id, &replica.0).await
}
