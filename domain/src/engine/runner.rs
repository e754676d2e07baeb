//! The SQL runner (`engine-client/runner`): a small jar that turns base64 statements
//! into one Flink job. Sluice uploads it to each cluster once per runner version and
//! uploads it again when the cluster lost it (a restarted JobManager forgets its jars).

use std::path::{Path, PathBuf};
use store::Error;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use engine_client::{EngineClient, EngineError, Program};

use store::crypto::sha256_hex;
use store::db::Db;

const JAR_NAME: &str = "sql-runner";

pub struct SqlRunner {
    bytes: Vec<u8>,
    /// First 12 hex digits of the jar's SHA-256: a rebuilt runner is uploaded anew.
    pub version: String,
    pub path: PathBuf,
}

impl SqlRunner {
    /// Loads the configured jar, else the newest `.engine/sql-runner-*.jar`; `None` if
    /// there is none (SQL jobs can then be checked only by Sluice, not the engine).
    pub fn load(configured: &Path) -> anyhow::Result<Option<Self>> {
        let path = if configured.as_os_str().is_empty() {
            match newest_built_runner(Path::new(".engine")) {
                Some(p) => p,
                None => return Ok(None),
            }
        } else {
            configured.to_path_buf()
        };
        let bytes = std::fs::read(&path)
            .map_err(|e| anyhow::anyhow!("engine.sql_runner_jar {}: {e}", path.display()))?;
        let version = sha256_hex(&bytes)[..12].to_owned();
        tracing::info!(path = %path.display(), %version, "SQL runner loaded");
        Ok(Some(Self {
            bytes,
            version,
            path,
        }))
    }

    /// The runner's jar id on this cluster, uploading it if the cluster lacks it.
    pub async fn jar_on(
        &self,
        db: &Db,
        cluster_id: &str,
        client: &EngineClient,
        refresh: bool,
    ) -> Result<String, Error> {
        if !refresh {
            let known =
                store::clusters::uploaded_jar(db, cluster_id, JAR_NAME, &self.version).await?;
            if let Some((jar_id, _)) = known {
                return Ok(jar_id);
            }
        }
        let jar = client
            .upload(
                &format!("sluice-sql-runner-{}.jar", self.version),
                self.bytes.clone(),
            )
            .await
            .map_err(super::engine_error)?;
        store::clusters::record_uploaded_jar(
            db,
            cluster_id,
            JAR_NAME,
            &self.version,
            &jar.id,
            Some(&jar.path),
        )
        .await?;
        Ok(jar.id)
    }

    /// Runs `call` with the runner's jar id, re-uploading once if the cluster lost it.
    pub async fn with_jar<T, F, Fut>(
        &self,
        db: &Db,
        cluster_id: &str,
        client: &EngineClient,
        call: F,
    ) -> Result<Result<T, EngineError>, Error>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, EngineError>>,
    {
        let jar_id = self.jar_on(db, cluster_id, client, false).await?;
        match call(jar_id).await {
            Err(EngineError::JarNotFound { .. }) => {
                tracing::info!(cluster = %cluster_id, "the cluster lost the SQL runner; uploading it again");
                let jar_id = self.jar_on(db, cluster_id, client, true).await?;
                Ok(call(jar_id).await)
            }
            other => Ok(other),
        }
    }
}

/// What the runner puts on the job's classpath before it runs the statements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classpath {
    /// JobManager-local paths of jars (uploaded artifacts): `ADD JAR`, so the job's
    /// user classpath carries them to the TaskManagers.
    pub jars: Vec<String>,
    /// Registered functions the script calls: (SQL name, class), each created as a
    /// temporary catalog function (which cannot shadow a built-in one).
    pub functions: Vec<(String, String)>,
}

/// The runner's program arguments: flags first (`--pipeline-name=`, `--jar=`,
/// `--function=<name>=<class>`), then each statement base64, so no quoting breaks on the
/// way (a base64 argument never starts with `--`).
pub fn program(
    statements: &[String],
    classpath: &Classpath,
    pipeline_name: Option<&str>,
    parallelism: Option<u32>,
    savepoint: Option<String>,
) -> Program {
    let mut args = Vec::with_capacity(statements.len() + 1);
    if let Some(name) = pipeline_name {
        args.push(format!("--pipeline-name={name}"));
    }
    args.extend(classpath.jars.iter().map(|path| format!("--jar={path}")));
    args.extend(
        classpath
            .functions
            .iter()
            .map(|(name, class)| format!("--function={name}={class}")),
    );
    args.extend(statements.iter().map(|s| B64.encode(s.as_bytes())));
    Program {
        entry_class: None,
        program_args_list: args,
        parallelism,
        savepoint_path: savepoint,
        allow_non_restored_state: false,
        job_id: None,
        flink_configuration: Default::default(),
    }
}

fn newest_built_runner(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("sql-runner-") && name.ends_with(".jar")
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
}
