//! Sluice's product decisions and the platform they act on: configuration, the
//! product's limits, subscription capacity, the balance and arrears, product-form and
//! engine-version lifecycles, notices, alert conditions, what a job runs, and the
//! engine side of a deployment (the reconciler and its parts). No HTTP here: the
//! gateway serves this over its API, the workers run its periodic passes.

pub mod alert_conditions;
pub mod balance;
pub mod capacity;
pub mod channels;
pub mod config;
pub mod engine;
pub mod failpoint;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod notices;
pub mod pipeline;
pub mod pricing;
pub mod product_forms;
pub mod udf;

use std::ops::Deref;
use std::sync::Arc;

pub use config::Config;

/// What the platform is made of, shared by the API and the workers; cheap to clone.
#[derive(Clone)]
pub struct Platform(Arc<Parts>);

pub struct Parts {
    pub config: Config,
    pub db: store::db::Db,
    pub secrets: store::crypto::SecretBox,
    pub files: store::files::FileStore,
    pub engines: engine::Engines,
    /// Absent when no runner jar is built: SQL is then checked by Sluice alone.
    pub sql_runner: Option<engine::runner::SqlRunner>,
    /// PyFlink's driver jars by Flink version: Python jobs run on those versions only.
    pub pyflink: engine::python::PyFlink,
    /// The connectors and formats each Flink version's clusters carry.
    pub connectors: engine::connectors::Catalogue,
    pub pricing: pricing::Pricing,
    pub channels: delivery::Channels,
    pub metrics: metrics::Metrics,
}

impl Deref for Platform {
    type Target = Parts;
    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl Platform {
    /// Opens the database (running migrations), the secrets key and the file store,
    /// and registers the platform's own engine cluster.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db =
            store::db::Db::connect(&config.database_url(), config.database.max_connections).await?;
        let secrets =
            store::crypto::SecretBox::load(&config.secrets.encryption_key, &config.data_dir)?;
        let files = store::files::FileStore::open(config.data_dir.join("artifacts"))?;
        engine::ensure_platform_cluster(&db, &config.engine)
            .await
            .map_err(|e| {
                anyhow::anyhow!("registering engine.default_cluster_url: {}", e.message)
            })?;
        let sql_runner = engine::runner::SqlRunner::load(&config.engine.sql_runner_jar)?;
        let pyflink = engine::python::PyFlink::load(&config.engine)?;
        let connectors = engine::connectors::Catalogue::load(&config.engine.connectors_dir)?;
        let pricing = pricing::Pricing::from_config(&config.billing)?;
        let channels = delivery::Channels::from_config(&config.delivery)?;
        Ok(Self(Arc::new(Parts {
            config,
            db,
            secrets,
            files,
            engines: engine::Engines::default(),
            sql_runner,
            pyflink,
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
