//! Sluice's storage and the vocabulary its rows are made of.
//!
//! - [`db`]: the database on SQLite or PostgreSQL, its migrations and transactions;
//! - [`files`]: artifact files on disk; [`crypto`]: secrets sealed at rest;
//! - [`names`]: values that parse (names, emails, property keys);
//! - [`Error`]: the domain error every layer below the HTTP edge returns.
//!
//! Nothing here knows HTTP.

pub mod crypto;
pub mod db;
pub mod error;
pub mod files;
pub mod names;

pub use error::{Error, Kind};
/// For [`stored_enum!`] expanded in other crates.
pub use sqlx;
