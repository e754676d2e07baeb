//! Python jobs: a PyFlink script (Table API or SQL) run by PyFlink's own driver,
//! `org.apache.flink.client.python.PythonDriver` in `flink-python-<version>.jar`, as a
//! program of the cluster's REST API, like a JAR job. The driver starts the script with
//! the JobManager's Python interpreter (`python.client.executable`), which builds the
//! job; the engine then runs it under the id Sluice chose, restoring the state it is
//! given, and savepoints and stops it like any other job.
//!
//! The script travels as a zip, uploaded through `/jars/upload` (which takes only `.jar`
//! names; Python imports from a zip on its path whatever the extension) and put on the
//! script's path with `-pyfs`: the job's script as [`SCRIPT_MODULE`]`.py`, and
//! [`MODULE`]`.py`, Sluice's entry, which runs it. The driver jar must match the
//! cluster's Flink version: Sluice finds the one for each version it has and uploads it
//! to a cluster once.
//!
//! A session JobManager hands a program its execution context through a static that all
//! the programs it runs at once share, and the script reaches it from the driver's
//! gateway threads, not the thread it was set on: a program starting or ending
//! meanwhile could leave the script without it (its job would then run in a local
//! environment inside the JobManager) or hand it another program's. The entry takes the
//! context before the script runs, checks that it is this program's (it carries the job
//! id Sluice chose), and pins it to the gateway thread the script calls through; a
//! context that is missing or another's ends the script with [`CONTEXT_TAKEN`], and the
//! same submission is sent again on the next pass.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use engine_client::{EngineClient, EngineError, Program, UploadedJar};
use store::artifacts::ArtifactRow;
use store::crypto::sha256_hex;
use store::Error;

use crate::config::EngineConfig;
use crate::Platform;

/// PyFlink's driver: runs a Python module (`-pym`) as a Flink program.
pub const DRIVER_CLASS: &str = engine_client::PYTHON_DRIVER;
/// Sluice's entry module, which runs the job's script.
pub const MODULE: &str = "sluice_job";
/// The name the job's script is imported under.
pub const SCRIPT_MODULE: &str = "sluice_script";
/// The entry's exit status when the program's context was not there to take (the
/// driver reports "Python process exits with code: 75").
pub const CONTEXT_TAKEN: i32 = 75;

/// Sluice's entry: its first argument is the job id, the rest are the script's.
const ENTRY: &str = r#"import runpy
import sys

CONTEXT_TAKEN = 75
ENV = "org.apache.flink.streaming.api.environment.StreamExecutionEnvironment"


def pin_context(job_id):
    from pyflink.java_gateway import get_gateway

    jvm = get_gateway().jvm
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
    env_class = jvm.java.lang.Class.forName(ENV, True, loader)
    shared = env_class.getDeclaredField("contextEnvironmentFactory")
    shared.setAccessible(True)
    factory = shared.get(None)
    if factory is None:
        print("sluice: this program's execution context is gone", file=sys.stderr)
        sys.exit(CONTEXT_TAKEN)
    env = factory.createExecutionEnvironment(jvm.org.apache.flink.configuration.Configuration())
    theirs = env.getConfiguration().toMap().get("$internal.pipeline.job-id")
    if theirs != job_id:
        print(f"sluice: the execution context is job {theirs}'s, not {job_id}'s", file=sys.stderr)
        sys.exit(CONTEXT_TAKEN)
    pinned = env_class.getDeclaredField("threadLocalContextEnvironmentFactory")
    pinned.setAccessible(True)
    pinned.get(None).set(factory)


job_id = sys.argv[1]
sys.argv = [sys.argv[0]] + sys.argv[2:]
pin_context(job_id)
runpy.run_module("sluice_script", run_name="__main__", alter_sys=True)
"#;

/// A driver jar of one Flink version.
pub struct DriverJar {
    pub path: PathBuf,
    /// First 12 hex digits of the jar's SHA-256: another build is uploaded anew.
    pub version: String,
}

/// The driver jars this server has, by Flink version, and the interpreters it sends.
#[derive(Default)]
pub struct PyFlink {
    jars: BTreeMap<String, DriverJar>,
    executables: BTreeMap<String, String>,
}

impl PyFlink {
    /// The configured driver jars, else those of the local engine venvs. A jar's Flink
    /// version is read from its name, `flink-python-<version>.jar`.
    pub fn load(config: &EngineConfig) -> anyhow::Result<Self> {
        let paths = if config.flink_python_jars.is_empty() {
            installed_driver_jars(Path::new(".engine"))
        } else {
            config.flink_python_jars.clone()
        };
        let mut jars = BTreeMap::new();
        for path in paths {
            let Some(version) = flink_version_of(&path) else {
                anyhow::bail!(
                    "engine.flink_python_jars {}: the name must be flink-python-<flink version>.jar",
                    path.display()
                );
            };
            let bytes = std::fs::read(&path)
                .map_err(|e| anyhow::anyhow!("engine.flink_python_jars {}: {e}", path.display()))?;
            let digest = sha256_hex(&bytes)[..12].to_owned();
            tracing::info!(path = %path.display(), %version, "PyFlink driver found");
            jars.insert(
                version,
                DriverJar {
                    path,
                    version: digest,
                },
            );
        }
        Ok(Self {
            jars,
            executables: config.python_client_executables.clone(),
        })
    }

    /// The driver for a cluster of `flink_version`: the same version's, else one of the
    /// same major.minor (patch releases share the driver's protocol).
    pub fn driver_for(&self, flink_version: &str) -> Option<&DriverJar> {
        self.jars.get(flink_version).or_else(|| {
            let minor = major_minor(flink_version)?;
            self.jars
                .iter()
                .rev()
                .find(|(v, _)| major_minor(v) == Some(minor))
                .map(|(_, jar)| jar)
        })
    }

    /// The engine versions Python jobs can run on.
    pub fn versions(&self) -> Vec<&str> {
        self.jars.keys().map(String::as_str).collect()
    }

    /// The program's own configuration: the interpreter configured for this version.
    fn configuration(&self, flink_version: &str) -> BTreeMap<String, String> {
        let executable = self.executables.get(flink_version).or_else(|| {
            let minor = major_minor(flink_version)?;
            self.executables
                .iter()
                .find(|(v, _)| major_minor(v) == Some(minor))
                .map(|(_, e)| e)
        });
        executable
            .map(|e| BTreeMap::from([("python.client.executable".to_owned(), e.clone())]))
            .unwrap_or_default()
    }
}

/// Why a Python job cannot be submitted, or the engine's answer to the submission.
pub enum Outcome {
    /// The job cannot run on this cluster at all (the deployment fails with this).
    Refused(String),
    /// The script found another program's context: the same submission goes again.
    Retry(String),
    Sent(Result<String, EngineError>),
}

/// What a Python program needs on the cluster, there: PyFlink's driver, the script's
/// zip, and the configuration for the cluster's Flink version.
struct Uploaded {
    driver: UploadedJar,
    script_path: String,
    configuration: BTreeMap<String, String>,
}

/// Uploads what the job needs to the cluster: the driver once per version, the script
/// once per content. `Err(Outcome)`: it cannot go further.
async fn upload(
    platform: &Platform,
    cluster_id: &str,
    client: &EngineClient,
    script: &ArtifactRow,
) -> Result<Result<Uploaded, Outcome>, Error> {
    let flink_version = match client.overview().await {
        Ok(overview) => overview.flink_version,
        Err(e) => return Ok(Err(Outcome::Sent(Err(e)))),
    };
    let Some(driver) = platform.pyflink.driver_for(&flink_version) else {
        let have = platform.pyflink.versions();
        return Ok(Err(Outcome::Refused(format!(
            "this server has no PyFlink driver for Flink {flink_version} (flink-python-{flink_version}.jar, engine.flink_python_jars; it has {}), so Python jobs cannot run on this cluster",
            if have.is_empty() { "none".to_owned() } else { have.join(", ") }
        ))));
    };
    let mut on_cluster = None;
    let driver_jar = match crate::pipeline::jar_on_cluster(
        platform,
        cluster_id,
        client,
        &mut on_cluster,
        "pyflink-driver",
        &driver.version,
        || async {
            let bytes = tokio::fs::read(&driver.path).await.map_err(|e| {
                Error::internal(format!("{} unreadable: {e}", driver.path.display()))
            })?;
            Ok((format!("sluice-pyflink-{}.jar", driver.version), bytes))
        },
    )
    .await?
    {
        Ok(jar) => jar,
        Err(e) => return Ok(Err(Outcome::Sent(Err(e)))),
    };
    // A new entry is uploaded anew with each script.
    let version = format!(
        "{}-{}",
        &script.sha256[..script.sha256.len().min(16)],
        &sha256_hex(ENTRY.as_bytes())[..8]
    );
    let script_zip = match crate::pipeline::jar_on_cluster(
        platform,
        cluster_id,
        client,
        &mut on_cluster,
        &format!("python:{}", script.id),
        &version,
        || async {
            let source = tokio::fs::read(platform.files.path(&script.project_id, &script.id))
                .await
                .map_err(|e| Error::internal(format!("artifact {} unreadable: {e}", script.id)))?;
            Ok((format!("{}-py.jar", script.id), module_zip(&source)?))
        },
    )
    .await?
    {
        Ok(jar) => jar,
        Err(e) => return Ok(Err(Outcome::Sent(Err(e)))),
    };
    Ok(Ok(Uploaded {
        driver: driver_jar,
        script_path: script_zip.path,
        configuration: platform.pyflink.configuration(&flink_version),
    }))
}

/// Uploads what the job needs to the cluster and runs the program under `job_id`.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    platform: &Platform,
    cluster_id: &str,
    client: &EngineClient,
    script: &ArtifactRow,
    args: &[String],
    parallelism: Option<u32>,
    restore: Option<String>,
    job_id: &str,
) -> Result<Outcome, Error> {
    let uploaded = match upload(platform, cluster_id, client, script).await? {
        Ok(uploaded) => uploaded,
        Err(outcome) => return Ok(outcome),
    };
    let mut program = program(&uploaded.script_path, job_id, args, parallelism, restore);
    program.flink_configuration = uploaded.configuration;
    let sent = client.run_jar(&uploaded.driver.id, &program).await;
    let taken = format!("Python process exits with code: {CONTEXT_TAKEN}");
    match sent {
        Err(e) if e.to_string().contains(&taken) => Ok(Outcome::Retry(
            "the JobManager was starting another program at the same time; trying again".to_owned(),
        )),
        sent => Ok(Outcome::Sent(sent)),
    }
}

/// The engine's dry run of the script: the job graph it would run, or its refusal.
/// `Err(message)`: the script cannot be checked on this cluster (no driver for it).
pub async fn plan(
    platform: &Platform,
    cluster_id: &str,
    client: &EngineClient,
    script: &ArtifactRow,
    args: &[String],
    job_id: &str,
) -> Result<Result<Result<engine_client::Plan, EngineError>, String>, Error> {
    let uploaded = match upload(platform, cluster_id, client, script).await? {
        Ok(uploaded) => uploaded,
        Err(Outcome::Sent(Err(e))) => return Ok(Ok(Err(e))),
        Err(Outcome::Refused(message) | Outcome::Retry(message)) => return Ok(Err(message)),
        Err(Outcome::Sent(Ok(_))) => return Ok(Err("nothing was planned".to_owned())),
    };
    let mut program = program(&uploaded.script_path, job_id, args, None, None);
    program.flink_configuration = uploaded.configuration;
    Ok(Ok(client.plan_jar(&uploaded.driver.id, &program).await))
}

/// The driver's program under `job_id`: Sluice's entry from the zip at `script_path` (a
/// JobManager path), given the job id, then the job's own arguments.
pub fn program(
    script_path: &str,
    job_id: &str,
    args: &[String],
    parallelism: Option<u32>,
    savepoint: Option<String>,
) -> Program {
    let mut program_args = vec![
        "-pym".to_owned(),
        MODULE.to_owned(),
        "-pyfs".to_owned(),
        script_path.to_owned(),
        job_id.to_owned(),
    ];
    program_args.extend(args.iter().cloned());
    Program {
        entry_class: Some(DRIVER_CLASS.to_owned()),
        program_args_list: program_args,
        parallelism,
        savepoint_path: savepoint,
        allow_non_restored_state: false,
        job_id: Some(job_id.to_owned()),
        flink_configuration: Default::default(),
    }
}

/// A zip holding Sluice's entry as [`MODULE`]`.py` and the script as
/// [`SCRIPT_MODULE`]`.py`.
pub fn module_zip(source: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let mut add = |name: String, bytes: &[u8]| {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .map_err(|e| e.to_string())
            .and_then(|()| zip.write_all(bytes).map_err(|e| e.to_string()))
    };
    let zipped = add(format!("{MODULE}.py"), ENTRY.as_bytes())
        .and_then(|()| add(format!("{SCRIPT_MODULE}.py"), source))
        .and_then(|()| zip.finish().map(|_| ()).map_err(|e| e.to_string()));
    zipped.map_err(|e| Error::internal(format!("zipping the script: {e}")))?;
    Ok(out.into_inner())
}

/// `flink-python-<version>.jar` of each venv `scripts/flink.sh` installed under `dir`.
fn installed_driver_jars(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(engines) = std::fs::read_dir(dir) else {
        return found;
    };
    for engine in engines.filter_map(Result::ok) {
        let Ok(pythons) = std::fs::read_dir(engine.path().join("venv/lib")) else {
            continue;
        };
        for python in pythons.filter_map(Result::ok) {
            let opt = python.path().join("site-packages/pyflink/opt");
            let Ok(jars) = std::fs::read_dir(&opt) else {
                continue;
            };
            found.extend(
                jars.filter_map(Result::ok)
                    .map(|j| j.path())
                    .filter(|p| flink_version_of(p).is_some()),
            );
        }
    }
    found.sort();
    found
}

/// `2.3.0` of `.../flink-python-2.3.0.jar`.
fn flink_version_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let version = name.strip_prefix("flink-python-")?.strip_suffix(".jar")?;
    major_minor(version).map(|_| version.to_owned())
}

fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_jars_are_matched_by_version() {
        assert_eq!(
            flink_version_of(Path::new("/x/pyflink/opt/flink-python-1.20.5.jar")).as_deref(),
            Some("1.20.5")
        );
        assert_eq!(
            flink_version_of(Path::new("/x/flink-sql-client-2.3.0.jar")),
            None
        );
        let jar = |v: &str| DriverJar {
            path: PathBuf::from(format!("flink-python-{v}.jar")),
            version: v.to_owned(),
        };
        let pyflink = PyFlink {
            jars: BTreeMap::from([
                ("1.20.5".to_owned(), jar("1.20.5")),
                ("2.3.0".to_owned(), jar("2.3.0")),
            ]),
            executables: BTreeMap::from([("2.3.0".to_owned(), "/venv/bin/python".to_owned())]),
        };
        assert_eq!(pyflink.driver_for("2.3.0").unwrap().version, "2.3.0");
        assert_eq!(pyflink.driver_for("1.20.1").unwrap().version, "1.20.5");
        assert!(pyflink.driver_for("1.19.0").is_none());
        assert_eq!(
            pyflink.configuration("2.3.1")["python.client.executable"],
            "/venv/bin/python"
        );
        assert!(pyflink.configuration("1.20.5").is_empty());
    }

    #[test]
    fn the_program_runs_the_module_from_the_zip_with_the_jobs_arguments() {
        let program = program(
            "/jm/abc-py.jar",
            "511ce0ab",
            &["--rate".into(), "5".into()],
            Some(2),
            None,
        );
        assert_eq!(program.entry_class.as_deref(), Some(DRIVER_CLASS));
        assert_eq!(program.job_id.as_deref(), Some("511ce0ab"));
        assert_eq!(
            program.program_args_list,
            [
                "-pym",
                MODULE,
                "-pyfs",
                "/jm/abc-py.jar",
                "511ce0ab",
                "--rate",
                "5"
            ]
        );
        let zip = module_zip(b"print('hi')\n").unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let mut read = |name: &str| {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut archive.by_name(name).unwrap(), &mut text).unwrap();
            text
        };
        assert_eq!(read("sluice_script.py"), "print('hi')\n");
        let entry = read("sluice_job.py");
        assert!(entry.contains("runpy.run_module(\"sluice_script\""));
        assert!(entry.contains(&format!("CONTEXT_TAKEN = {CONTEXT_TAKEN}")));
    }
}
