//! The product's limits. Each is a per-plan setting whose default is the number the
//! product publishes; the server enforces them inside the same transaction that
//! creates the object, with the parent row locked, so concurrent requests cannot
//! overshoot (see `db::Db::begin_write`).

use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

pub const STANDARD_PLAN: &str = "standard";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub projects_per_account: i64,
    pub jobs_per_project: i64,
    pub folders_per_project: i64,
    /// Depth of the deepest folder; a folder at the project root has depth 1.
    pub folder_depth: i64,
    /// Jobs and folders directly inside one folder (or the project root).
    pub entries_per_folder: i64,
    pub artifacts_per_project: i64,
    pub connections_per_project: i64,
    pub versions_per_job: i64,
    pub artifact_bytes: i64,
    /// Debug runs of one project's drafts at the same time.
    pub concurrent_debug_runs: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            projects_per_account: 20,
            jobs_per_project: 100,
            folders_per_project: 100,
            folder_depth: 5,
            entries_per_folder: 500,
            artifacts_per_project: 200,
            connections_per_project: 50,
            versions_per_job: 20,
            artifact_bytes: 200 * 1024 * 1024,
            concurrent_debug_runs: 1,
        }
    }
}

impl Limits {
    pub fn validate(&self) -> Result<(), String> {
        let all = [
            ("projects_per_account", self.projects_per_account),
            ("jobs_per_project", self.jobs_per_project),
            ("folders_per_project", self.folders_per_project),
            ("folder_depth", self.folder_depth),
            ("entries_per_folder", self.entries_per_folder),
            ("artifacts_per_project", self.artifacts_per_project),
            ("connections_per_project", self.connections_per_project),
            ("versions_per_job", self.versions_per_job),
            ("artifact_bytes", self.artifact_bytes),
            ("concurrent_debug_runs", self.concurrent_debug_runs),
        ];
        for (name, value) in all {
            if value < 1 {
                return Err(format!("{name} must be at least 1, got {value}"));
            }
        }
        Ok(())
    }
}

/// Refuses to add one more object when `current` already reached `max`.
pub fn ensure_below(current: i64, max: i64, name: &'static str, what: &str) -> Result<(), Error> {
    if current >= max {
        return Err(Error::limit_exceeded(
            name,
            max,
            format!("{what} already has {current}, the most its plan allows ({name} = {max})"),
        ));
    }
    Ok(())
}
