//! Sluice's storage and the vocabulary its rows are made of.
//!
//! - [`db`]: the database on SQLite or PostgreSQL, its migrations and transactions;
//! - [`files`]: artifact files on disk; [`crypto`]: secrets sealed at rest;
//! - [`names`]: values that parse (names, emails, property keys);
//! - [`scope`]: tenant data through handles the authorizer opens, and per resource
//!   its rows and named queries ([`folders`]);
//! - [`all_tenants`]: every tenant's rows at once, for the background workers alone;
//! - [`Error`]: the domain error every layer below the HTTP edge returns.
//!
//! Nothing here knows HTTP.

pub mod accounts;
pub mod alert_rules;
pub mod alert_silences;
pub mod alerts;
pub mod all_tenants;
pub mod artifacts;
pub mod audit;
pub mod balance;
pub mod bills;
pub mod capacity;
pub mod channels;
pub mod clusters;
pub mod connections;
pub mod contact_groups;
pub mod crypto;
pub mod db;
pub mod debug;
pub mod deployment_history;
pub mod deployments;
pub mod error;
pub mod files;
pub mod folders;
pub mod invitations;
pub mod jobs;
pub mod leases;
pub mod lifecycle_impact;
pub mod members;
pub mod metric_samples;
pub mod names;
pub mod notices;
pub mod orders;
pub mod outbox;
pub mod page;
pub mod pipelines;
pub mod product_forms;
pub mod projects;
pub mod reminders;
pub mod savepoints;
pub mod scope;
pub mod sessions;
pub mod subscriptions;
pub mod tokens;
pub mod versions;

pub use all_tenants::{AllTenants, AllTenantsWrite};
pub use error::{Error, Kind};
pub use page::Page;
pub use scope::{AccountScope, AccountWrite, ProjectScope, ProjectWrite};
/// For [`stored_enum!`] expanded in other crates.
pub use sqlx;
