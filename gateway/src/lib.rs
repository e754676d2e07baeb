//! Sluice gateway: the control plane's HTTP API over SQLite or PostgreSQL.
//!
//! `main.rs` is thin: it loads [`Config`], builds [`AppState`] and calls [`serve`]
//! with a listener and a shutdown future, exactly as the end-to-end tests do.

pub mod access;
pub mod admin;
pub mod alerts;
pub mod api;
pub mod balance;
pub mod billing;
pub mod capacity;
pub mod channels;
pub mod config;
pub mod console;
pub mod engine;
pub mod error;
pub mod extract;
pub mod failpoint;
pub mod job_metrics;
pub mod lifecycle_reminders;
pub mod limits;
pub mod metrics;
pub mod notices;
pub mod outbox;
pub mod pagination;
pub mod product_forms;
pub mod server;
pub mod web_security;
pub mod workers;

use std::ops::Deref;
use std::sync::Arc;

pub use config::Config;
pub use server::{app, serve};

/// Shared by every request handler; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<State>);

pub struct State {
    pub config: Config,
    pub db: store::db::Db,
    pub secrets: store::crypto::SecretBox,
    pub files: store::files::FileStore,
    pub authz: access::Authorizer,
    pub session_keys: access::jwt::SessionKeys,
    /// Absent when no identity provider is configured.
    pub oidc: Option<access::oidc::Oidc>,
    pub engines: engine::Engines,
    /// Absent when no runner jar is built: SQL is then checked by Sluice alone.
    pub sql_runner: Option<engine::runner::SqlRunner>,
    /// The connectors and formats each Flink version's clusters carry.
    pub connectors: engine::connectors::Catalogue,
    pub pricing: billing::Pricing,
    pub channels: delivery::Channels,
    pub metrics: metrics::Metrics,
}

impl Deref for AppState {
    type Target = State;
    fn deref(&self) -> &State {
        &self.0
    }
}

impl AppState {
    /// Opens the database (running migrations), the secrets key and the file store.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db =
            store::db::Db::connect(&config.database_url(), config.database.max_connections).await?;
        let secrets =
            store::crypto::SecretBox::load(&config.secrets.encryption_key, &config.data_dir)?;
        let files = store::files::FileStore::open(config.data_dir.join("artifacts"))?;
        let authz = access::Authorizer::load().await?;
        let session_keys = access::jwt::SessionKeys::load(&config.auth, &config.data_dir)?;
        let oidc = access::oidc::Oidc::new(&config.auth.oidc, &config.auth.public_url)?;
        engine::ensure_platform_cluster(&db, &config.engine)
            .await
            .map_err(|e| {
                anyhow::anyhow!("registering engine.default_cluster_url: {}", e.message)
            })?;
        let sql_runner = engine::runner::SqlRunner::load(&config.engine.sql_runner_jar)?;
        let connectors = engine::connectors::Catalogue::load(&config.engine.connectors_dir)?;
        let pricing = billing::Pricing::from_config(&config.billing)?;
        let channels = delivery::Channels::from_config(&config.delivery)?;
        Ok(Self(Arc::new(State {
            config,
            db,
            secrets,
            files,
            authz,
            session_keys,
            oidc,
            engines: engine::Engines::default(),
            sql_runner,
            connectors,
            pricing,
            channels,
            metrics: metrics::Metrics::new()?,
        })))
    }

    /// Every tenant's rows, for the background workers and the operator's CLI; an HTTP
    /// handler never calls this (a test of the layers fails if one does).
    pub fn all_tenants(&self) -> store::AllTenants {
        store::AllTenants::for_workers(&self.db)
    }

    pub fn limits(&self, plan: &str) -> limits::Limits {
        self.config.limits_for(plan)
    }
}
