//! Sluice gateway: the control plane's HTTP API over SQLite or PostgreSQL.
//!
//! `main.rs` is thin: it loads [`Config`], builds [`AppState`] and calls [`serve`]
//! with a listener and a shutdown future, exactly as the end-to-end tests do.

pub mod access;
pub mod admin;
pub mod api;
pub mod console;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod pagination;
pub mod server;
pub mod web_security;

use std::ops::Deref;
use std::sync::Arc;

pub use domain::{Config, Platform};
pub use server::{app, serve};

/// Shared by every request handler; cheap to clone. The platform (database, engines,
/// configuration ...) and what only requests need: who may do what, session keys,
/// the identity provider.
#[derive(Clone)]
pub struct AppState(Arc<State>);

pub struct State {
    pub platform: Platform,
    pub authz: access::Authorizer,
    pub session_keys: access::jwt::SessionKeys,
    /// Absent when no identity provider is configured.
    pub oidc: Option<access::oidc::Oidc>,
}

impl Deref for AppState {
    type Target = State;
    fn deref(&self) -> &State {
        &self.0
    }
}

/// A request's state reads as the platform's (`state.db`, `state.config`).
impl Deref for State {
    type Target = Platform;
    fn deref(&self) -> &Platform {
        &self.platform
    }
}

impl AppState {
    /// Builds the platform, then the authorizer, the session keys and the identity
    /// provider.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let platform = Platform::build(config).await?;
        let config = &platform.config;
        let authz = access::Authorizer::load().await?;
        let session_keys = access::jwt::SessionKeys::load(&config.auth, &config.data_dir)?;
        let oidc = access::oidc::Oidc::new(&config.auth.oidc, &config.auth.public_url)?;
        Ok(Self(Arc::new(State {
            platform,
            authz,
            session_keys,
            oidc,
        })))
    }
}
