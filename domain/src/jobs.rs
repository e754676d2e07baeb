//! What a job runs: a Flink SQL script, a JAR or a PyFlink script of the project, its
//! own rules, and the
//! columns drafts, versions and deployments store it in.

use serde::{Deserialize, Serialize};
use store::artifacts::ArtifactKind;
use store::jobs::{ContentColumns, JobKind};
use store::{Error, ProjectWrite};
use utoipa::ToSchema;

pub const MAX_SQL_BYTES: usize = 1024 * 1024;
const MAX_ARGS: usize = 200;
const MAX_ARG_CHARS: usize = 4096;

/// What a job runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum JobContent {
    /// A Flink SQL script: DDL, then one or more INSERT statements.
    Sql { sql: String },
    /// A Flink program packaged as a JAR artifact of the same project.
    Jar {
        artifact_id: String,
        entry_class: String,
        #[serde(default)]
        args: Vec<String>,
    },
    /// A PyFlink (Table API or SQL) script: a Python artifact of the same project, run
    /// as the job's main module with these arguments (`sys.argv[1:]`).
    Python {
        artifact_id: String,
        #[serde(default)]
        args: Vec<String>,
    },
}

impl JobContent {
    /// Checks the content's own rules and that a JAR (Python) job names a JAR (Python)
    /// artifact of the project.
    pub async fn validate(&self, write: &mut ProjectWrite) -> Result<(), Error> {
        match self {
            JobContent::Sql { sql } => {
                if sql.len() > MAX_SQL_BYTES {
                    return Err(Error::invalid(
                        "content.sql",
                        format!(
                            "content.sql must be at most {MAX_SQL_BYTES} bytes, got {}",
                            sql.len()
                        ),
                    ));
                }
                if sql.contains('\0') {
                    return Err(Error::invalid(
                        "content.sql",
                        "content.sql must not contain NUL characters",
                    ));
                }
            }
            JobContent::Jar {
                artifact_id,
                entry_class,
                args,
            } => {
                if !is_java_class_name(entry_class) {
                    return Err(Error::invalid("content.entry_class", "content.entry_class must be a fully qualified Java class name such as com.example.Main"));
                }
                check_args(args)?;
                check_artifact(write, artifact_id, ArtifactKind::Jar, "a JAR").await?;
            }
            JobContent::Python { artifact_id, args } => {
                check_args(args)?;
                check_artifact(write, artifact_id, ArtifactKind::Python, "a Python").await?;
            }
        }
        Ok(())
    }

    /// The columns (kind, sql_text, artifact_id, entry_class, args) this content is stored in.
    pub fn columns(
        &self,
    ) -> (
        &'static str,
        Option<&str>,
        Option<&str>,
        Option<&str>,
        Option<String>,
    ) {
        match self {
            JobContent::Sql { sql } => ("sql", Some(sql), None, None, None),
            JobContent::Jar {
                artifact_id,
                entry_class,
                args,
            } => (
                "jar",
                None,
                Some(artifact_id),
                Some(entry_class),
                Some(serde_json::to_string(args).unwrap_or_else(|_| "[]".to_owned())),
            ),
            JobContent::Python { artifact_id, args } => (
                "python",
                None,
                Some(artifact_id),
                None,
                Some(serde_json::to_string(args).unwrap_or_else(|_| "[]".to_owned())),
            ),
        }
    }

    /// The content as drafts and versions store it.
    pub fn stored(&self) -> ContentColumns {
        match self {
            JobContent::Sql { sql } => ContentColumns {
                kind: JobKind::Sql,
                sql_text: Some(sql.clone()),
                artifact_id: None,
                entry_class: None,
                args: None,
            },
            JobContent::Jar {
                artifact_id,
                entry_class,
                args,
            } => ContentColumns {
                kind: JobKind::Jar,
                sql_text: None,
                artifact_id: Some(artifact_id.clone()),
                entry_class: Some(entry_class.clone()),
                args: Some(serde_json::to_string(args).unwrap_or_else(|_| "[]".to_owned())),
            },
            JobContent::Python { artifact_id, args } => ContentColumns {
                kind: JobKind::Python,
                sql_text: None,
                artifact_id: Some(artifact_id.clone()),
                entry_class: None,
                args: Some(serde_json::to_string(args).unwrap_or_else(|_| "[]".to_owned())),
            },
        }
    }

    pub fn from_columns(
        kind: &str,
        sql: Option<String>,
        artifact_id: Option<String>,
        entry_class: Option<String>,
        args: Option<String>,
    ) -> Self {
        match kind {
            "jar" => JobContent::Jar {
                artifact_id: artifact_id.unwrap_or_default(),
                entry_class: entry_class.unwrap_or_default(),
                args: args
                    .and_then(|a| serde_json::from_str(&a).ok())
                    .unwrap_or_default(),
            },
            "python" => JobContent::Python {
                artifact_id: artifact_id.unwrap_or_default(),
                args: args
                    .and_then(|a| serde_json::from_str(&a).ok())
                    .unwrap_or_default(),
            },
            _ => JobContent::Sql {
                sql: sql.unwrap_or_default(),
            },
        }
    }

    /// Text that a unified diff of two versions compares.
    pub fn diff_text(&self) -> String {
        match self {
            JobContent::Sql { sql } => sql.clone(),
            JobContent::Jar {
                artifact_id,
                entry_class,
                args,
            } => {
                let mut text =
                    format!("artifact_id: {artifact_id}\nentry_class: {entry_class}\nargs:\n");
                for a in args {
                    text.push_str(&format!("  {a}\n"));
                }
                text
            }
            JobContent::Python { artifact_id, args } => {
                let mut text = format!("artifact_id: {artifact_id}\nargs:\n");
                for a in args {
                    text.push_str(&format!("  {a}\n"));
                }
                text
            }
        }
    }
}

/// At most [`MAX_ARGS`] arguments, each at most [`MAX_ARG_CHARS`] characters, no NUL.
fn check_args(args: &[String]) -> Result<(), Error> {
    if args.len() > MAX_ARGS {
        return Err(Error::invalid(
            "content.args",
            format!(
                "content.args holds at most {MAX_ARGS} arguments, got {}",
                args.len()
            ),
        ));
    }
    if let Some(i) = args
        .iter()
        .position(|a| a.chars().count() > MAX_ARG_CHARS || a.contains('\0'))
    {
        return Err(Error::invalid(
            format!("content.args[{i}]"),
            format!("each argument must be at most {MAX_ARG_CHARS} characters, without NUL"),
        ));
    }
    Ok(())
}

/// `artifact_id` names an artifact of the project of this kind (`what`: "a JAR").
async fn check_artifact(
    write: &mut ProjectWrite,
    artifact_id: &str,
    kind: ArtifactKind,
    what: &str,
) -> Result<(), Error> {
    match write.artifacts().kind(artifact_id).await? {
        None => Err(Error::invalid(
            "content.artifact_id",
            format!("content.artifact_id `{artifact_id}` is not an artifact of this project"),
        )),
        Some(k) if k != kind => Err(Error::invalid(
            "content.artifact_id",
            format!("content.artifact_id must name {what} artifact, this one is `{k}`"),
        )),
        Some(_) => Ok(()),
    }
}

fn is_java_class_name(s: &str) -> bool {
    s.len() <= 512
        && !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_' || c == '$')
                && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
}

impl From<ContentColumns> for JobContent {
    fn from(c: ContentColumns) -> Self {
        JobContent::from_columns(
            c.kind.as_str(),
            c.sql_text,
            c.artifact_id,
            c.entry_class,
            c.args,
        )
    }
}
