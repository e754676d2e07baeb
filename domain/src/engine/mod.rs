//! Sluice's side of the engine: the clusters it deploys to, one client per cluster,
//! and the SQL runner jar it uploads to each of them.

pub mod bundle;
pub mod connectors;
pub mod debug;
pub mod lease;
pub mod observe;
pub mod orphans;
pub mod placement;
pub mod python;
pub mod reconciler;
pub mod record;
pub mod runner;
pub mod savepoints;
pub mod submission;

use std::collections::HashMap;
use std::sync::RwLock;
use store::Error;

use engine_client::{EngineClient, EngineError};

use crate::config::EngineConfig;
use store::db::Db;

pub const PLATFORM_CLUSTER_NAME: &str = "local";

/// Clients by REST URL, built once: each holds a connection pool.
#[derive(Default)]
pub struct Engines {
    clients: RwLock<HashMap<String, EngineClient>>,
    /// When each deployment's checkpoints were last asked for.
    checkpoint_probes: std::sync::Mutex<HashMap<String, std::time::Instant>>,
    /// This installation's job id prefix, once read (see `submission::job_id_prefix`).
    pub job_id_prefix: std::sync::OnceLock<String>,
}

/// Checkpoints are asked for at most this often per deployment (one request each).
const CHECKPOINT_PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl Engines {
    /// Whether it is time to ask again for a deployment's newest checkpoint; records the ask.
    pub fn checkpoint_probe_due(&self, deployment_id: &str) -> bool {
        let Ok(mut probes) = self.checkpoint_probes.lock() else {
            return true;
        };
        let now = std::time::Instant::now();
        match probes.get(deployment_id) {
            Some(last) if now.duration_since(*last) < CHECKPOINT_PROBE_EVERY => false,
            _ => {
                probes.insert(deployment_id.to_owned(), now);
                true
            }
        }
    }

    pub fn client(&self, rest_url: &str) -> Result<EngineClient, Error> {
        if let Ok(clients) = self.clients.read() {
            if let Some(client) = clients.get(rest_url) {
                return Ok(client.clone());
            }
        }
        let client = EngineClient::new(rest_url).map_err(engine_error)?;
        if let Ok(mut clients) = self.clients.write() {
            clients.insert(rest_url.to_owned(), client.clone());
        }
        Ok(client)
    }
}

/// Registers (or updates) the platform's default cluster from the configuration.
pub async fn ensure_platform_cluster(db: &Db, config: &EngineConfig) -> Result<(), Error> {
    if config.default_cluster_url.is_empty() {
        return Ok(());
    }
    store::clusters::ensure_platform(
        db,
        PLATFORM_CLUSTER_NAME,
        &config.default_cluster_url,
        &config.default_flink_version,
        &config.default_engine_version,
        config.debug.platform_sessions,
    )
    .await
}

/// An engine failure as the API reports it: the engine's own words, a status that
/// says whose problem it is.
pub fn engine_error(e: EngineError) -> Error {
    use store::Kind;
    let (kind, code) = match &e {
        EngineError::Unreachable { .. } | EngineError::Timeout { .. } => {
            (Kind::Upstream, "engine_unavailable")
        }
        EngineError::Internal { .. } | EngineError::Malformed { .. } => {
            (Kind::Upstream, "engine_failed")
        }
        EngineError::JobNotFound { .. }
        | EngineError::JarNotFound { .. }
        | EngineError::UnknownOperation { .. } => (Kind::Conflict, "engine_state_lost"),
        EngineError::DuplicateJob { .. } => (Kind::Conflict, "engine_job_exists"),
        EngineError::InvalidProgram { .. } => (Kind::Invalid, "invalid_program"),
        EngineError::SavepointFailed { .. } => (Kind::Conflict, "savepoint_failed"),
        EngineError::Rejected { .. } => (Kind::Conflict, "engine_rejected"),
    };
    if e.is_transient() {
        tracing::warn!(error = %e, "engine call failed");
    }
    Error::new(kind, code, e.to_string())
}
