//! Layered configuration: built-in defaults, then `sluice.toml` (or the file named by
//! `SLUICE_CONFIG`), then `SLUICE__`-prefixed environment variables (`__` separates
//! levels: `SLUICE__DATABASE__URL`). Unknown keys are rejected so a typo never
//! silently falls back to a default.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::limits::Limits;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// Directory for the SQLite file, uploaded artifacts and generated keys.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub secrets: SecretsConfig,
    /// Plan every new account gets.
    pub default_plan: String,
    /// Plans by name; `standard` always exists with the product's published limits.
    pub plans: BTreeMap<String, Limits>,
    /// Largest JSON request body, in bytes.
    pub max_json_body_bytes: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://...`. Empty means `<data_dir>/sluice.db`.
    pub url: String,
    /// Connections in the pool; 0 picks a default per backend.
    pub max_connections: u32,
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// Base64 of the 32-byte AES-256-GCM key that encrypts connection secrets at rest.
    /// Empty means: use `<data_dir>/secret.key`, generating it on first start.
    pub encryption_key: String,
}

impl fmt::Debug for SecretsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = if self.encryption_key.is_empty() {
            "<unset>"
        } else {
            "<redacted>"
        };
        f.debug_struct("SecretsConfig")
            .field("encryption_key", &shown)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        let mut plans = BTreeMap::new();
        plans.insert(crate::limits::STANDARD_PLAN.to_owned(), Limits::default());
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database: DatabaseConfig::default(),
            secrets: SecretsConfig::default(),
            default_plan: crate::limits::STANDARD_PLAN.to_owned(),
            plans,
            max_json_body_bytes: 2 * 1024 * 1024,
        }
    }
}

impl Config {
    /// Loads defaults, then the config file (if it exists), then the environment.
    pub fn load() -> Result<Self, Box<figment::Error>> {
        let file = std::env::var("SLUICE_CONFIG").unwrap_or_else(|_| "sluice.toml".to_owned());
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("SLUICE__").split("__").lowercase(true))
            .extract()
            .map_err(Box::new)?;
        config
            .validate()
            .map_err(|e| Box::new(figment::Error::from(e)))?;
        Ok(config)
    }

    /// Checks what serde cannot: cross-field rules.
    pub fn validate(&self) -> Result<(), String> {
        if !self.plans.contains_key(&self.default_plan) {
            return Err(format!(
                "default_plan `{}` is not one of the configured plans ({})",
                self.default_plan,
                self.plans.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        for (name, limits) in &self.plans {
            limits.validate().map_err(|e| format!("plans.{name}.{e}"))?;
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("sluice.db").display())
        } else {
            self.database.url.clone()
        }
    }

    pub fn limits_for(&self, plan: &str) -> Limits {
        self.plans.get(plan).cloned().unwrap_or_default()
    }
}
