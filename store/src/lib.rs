//! Sluice's storage and the vocabulary its rows are made of.
//!
//! - [`db`]: the database on SQLite or PostgreSQL, its migrations and transactions;
//! - [`files`]: artifact files on disk; [`crypto`]: secrets sealed at rest;
//! - [`names`]: values that parse (names, emails, property keys);
//! - [`scope`]: tenant data through handles the authorizer opens, and per resource
//!   its rows and named queries ([`folders`]);
//! - [`Error`]: the domain error every layer below the HTTP edge returns.
//!
//! Nothing here knows HTTP.

pub mod alert_rules;
pub mod alert_silences;
pub mod alerts;
pub mod artifacts;
pub mod audit;
pub mod channels;
pub mod clusters;
pub mod connections;
pub mod contact_groups;
pub mod crypto;
pub mod db;
pub mod deployment_history;
pub mod error;
pub mod files;
pub mod folders;
pub mod jobs;
pub mod lifecycle_impact;
pub mod names;
pub mod notices;
pub mod page;
pub mod projects;
pub mod scope;
pub mod tokens;
pub mod versions;

pub use error::{Error, Kind};
pub use page::Page;
pub use scope::{AccountScope, AccountWrite, ProjectScope, ProjectWrite};
/// For [`stored_enum!`] expanded in other crates.
pub use sqlx;
