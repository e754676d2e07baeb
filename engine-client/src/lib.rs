//! Typed async client of the Apache Flink JobManager REST API, for Flink 2.x and 1.20.
//!
//! Every failure becomes an [`EngineError`] the caller can act on: the engine could not
//! be reached, timed out, does not know the job or jar, refused the program (with the
//! engine's own words dug out of the Java stack trace), or answered something else.
//! Response types keep only the fields Sluice uses; where the two versions differ
//! (e.g. 2.x adds `applicationId` to a run), the difference is optional here.

mod error;
pub mod refusal;
pub mod script;
mod types;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use error::{engine_message, python_script_line, EngineError};
pub use types::*;

/// Default time allowed for one REST call; uploads and runs get longer.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(120);

/// A Python program has its JobManager to itself, for every client in this process. A
/// session JobManager hands a program its execution context through a static that all
/// the programs it runs at once share, and PyFlink's driver reads it from another
/// thread than the one it was set on: a program that starts or ends meanwhile can leave
/// a Python script without it (the script then runs its job in a local environment
/// inside the JobManager instead of submitting it). Java programs read it on their own
/// thread, so they run side by side and only wait for a Python program (and it for
/// them). Runs and dry runs take seconds.
static PROGRAMS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::RwLock<()>>>>> =
    LazyLock::new(Mutex::default);

/// PyFlink's driver: the entry class of a Python program.
pub const PYTHON_DRIVER: &str = "org.apache.flink.client.python.PythonDriver";

/// Held while a program runs; dropped, the turn passes.
#[allow(dead_code)] // the guards are held, never read
enum Turn {
    Shared(tokio::sync::OwnedRwLockReadGuard<()>),
    Alone(tokio::sync::OwnedRwLockWriteGuard<()>),
}

/// Waits for `program`'s turn on the JobManager at `base` (see [`PROGRAMS`]).
async fn program_turn(base: &str, program: &Program) -> Turn {
    let lock = {
        let mut programs = PROGRAMS.lock().unwrap_or_else(|e| e.into_inner());
        programs.entry(base.to_owned()).or_default().clone()
    };
    if program.entry_class.as_deref() == Some(PYTHON_DRIVER) {
        Turn::Alone(lock.write_owned().await)
    } else {
        Turn::Shared(lock.read_owned().await)
    }
}

#[derive(Clone, Debug)]
pub struct EngineClient {
    base: String,
    http: reqwest::Client,
}

impl EngineClient {
    /// `base` is the JobManager's REST URL, e.g. `http://127.0.0.1:8081`.
    pub fn new(base: &str) -> Result<Self, EngineError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| EngineError::Unreachable {
                url: base.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&dyn erased::Body>,
        timeout: Duration,
        subject: Subject<'_>,
    ) -> Result<T, EngineError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url).timeout(timeout);
        if let Some(body) = body {
            request = request.json(&body.to_value());
        }
        let response = request
            .send()
            .await
            .map_err(|e| EngineError::from_transport(&url, e))?;
        read(response, &url, subject).await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        subject: Subject<'_>,
    ) -> Result<T, EngineError> {
        self.call(Method::GET, path, None, DEFAULT_TIMEOUT, subject)
            .await
    }

    /// Cluster summary: task managers, slots, running jobs, Flink version.
    pub async fn overview(&self) -> Result<ClusterOverview, EngineError> {
        self.get("/overview", Subject::None).await
    }

    pub async fn taskmanagers(&self) -> Result<Vec<TaskManager>, EngineError> {
        let list: TaskManagerList = self.get("/taskmanagers", Subject::None).await?;
        Ok(list.taskmanagers)
    }

    /// Uploads a jar (multipart field `jarfile`); returns the engine's jar id.
    pub async fn upload_jar(&self, file_name: &str, bytes: Vec<u8>) -> Result<String, EngineError> {
        Ok(self.upload(file_name, bytes).await?.id)
    }

    /// Uploads a jar (multipart field `jarfile`); returns its id and where the
    /// JobManager keeps it (the path `ADD JAR` reads it from).
    pub async fn upload(
        &self,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<UploadedJar, EngineError> {
        let url = format!("{}/jars/upload", self.base);
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str("application/x-java-archive")
            .map_err(|e| EngineError::Malformed {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let form = reqwest::multipart::Form::new().part("jarfile", part);
        let response = self
            .http
            .post(&url)
            .timeout(SUBMIT_TIMEOUT)
            .multipart(form)
            .send()
            .await
            .map_err(|e| EngineError::from_transport(&url, e))?;
        let uploaded: JarUploaded = read(response, &url, Subject::None).await?;
        // `filename` is the stored path; its last segment is the jar id.
        let id = uploaded
            .filename
            .rsplit('/')
            .next()
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| EngineError::Malformed {
                url,
                reason: format!("upload answered without a jar name: {}", uploaded.filename),
            })?;
        Ok(UploadedJar {
            id,
            path: uploaded.filename,
        })
    }

    pub async fn jars(&self) -> Result<Vec<Jar>, EngineError> {
        let list: JarList = self.get("/jars", Subject::None).await?;
        Ok(list.files)
    }

    pub async fn delete_jar(&self, jar_id: &str) -> Result<(), EngineError> {
        let _: serde_json::Value = self
            .call(
                Method::DELETE,
                &format!("/jars/{jar_id}"),
                None,
                DEFAULT_TIMEOUT,
                Subject::Jar(jar_id),
            )
            .await?;
        Ok(())
    }

    /// Starts the jar's program; returns the new job id. With `program.job_id` set, a
    /// second run under the same id fails with [`EngineError::DuplicateJob`].
    pub async fn run_jar(&self, jar_id: &str, program: &Program) -> Result<String, EngineError> {
        let _turn = program_turn(&self.base, program).await;
        let started: JarRun = self
            .call(
                Method::POST,
                &format!("/jars/{jar_id}/run"),
                Some(program),
                SUBMIT_TIMEOUT,
                Subject::Run {
                    jar_id,
                    job_id: program.job_id.as_deref(),
                },
            )
            .await?;
        Ok(started.jobid)
    }

    /// Builds the program's job graph without running anything: a dry run.
    pub async fn plan_jar(&self, jar_id: &str, program: &Program) -> Result<Plan, EngineError> {
        let _turn = program_turn(&self.base, program).await;
        let planned: PlanResponse = self
            .call(
                Method::POST,
                &format!("/jars/{jar_id}/plan"),
                Some(program),
                SUBMIT_TIMEOUT,
                Subject::Jar(jar_id),
            )
            .await?;
        Ok(planned.plan.into_plain_text())
    }

    pub async fn jobs_overview(&self) -> Result<Vec<JobOverview>, EngineError> {
        let list: JobsOverview = self.get("/jobs/overview", Subject::None).await?;
        Ok(list.jobs)
    }

    pub async fn job(&self, job_id: &str) -> Result<JobDetail, EngineError> {
        self.get(&format!("/jobs/{job_id}"), Subject::Job(job_id))
            .await
    }

    /// Cancels without a savepoint.
    pub async fn cancel(&self, job_id: &str) -> Result<(), EngineError> {
        let _: serde_json::Value = self
            .call(
                Method::PATCH,
                &format!("/jobs/{job_id}?mode=cancel"),
                None,
                DEFAULT_TIMEOUT,
                Subject::Job(job_id),
            )
            .await?;
        Ok(())
    }

    /// Starts a savepoint; poll [`EngineClient::savepoint_status`] with the trigger id.
    /// A caller-chosen `trigger_id` makes the call idempotent: the engine answers a
    /// repeat with the operation it already has.
    pub async fn trigger_savepoint(
        &self,
        job_id: &str,
        target_directory: Option<&str>,
        trigger_id: Option<&str>,
    ) -> Result<String, EngineError> {
        let body = SavepointRequest {
            target_directory,
            cancel_job: false,
            trigger_id,
        };
        let trigger: Trigger = self
            .call(
                Method::POST,
                &format!("/jobs/{job_id}/savepoints"),
                Some(&body),
                DEFAULT_TIMEOUT,
                Subject::Job(job_id),
            )
            .await?;
        Ok(trigger.request_id)
    }

    /// Stops the job with a final savepoint; poll the trigger id as for a savepoint.
    /// A caller-chosen `trigger_id` makes the call idempotent, as for a savepoint.
    pub async fn stop_with_savepoint(
        &self,
        job_id: &str,
        target_directory: Option<&str>,
        drain: bool,
        trigger_id: Option<&str>,
    ) -> Result<String, EngineError> {
        let body = StopRequest {
            target_directory,
            drain,
            trigger_id,
        };
        let trigger: Trigger = self
            .call(
                Method::POST,
                &format!("/jobs/{job_id}/stop"),
                Some(&body),
                DEFAULT_TIMEOUT,
                Subject::Job(job_id),
            )
            .await?;
        Ok(trigger.request_id)
    }

    pub async fn savepoint_status(
        &self,
        job_id: &str,
        trigger_id: &str,
    ) -> Result<SavepointStatus, EngineError> {
        let status: AsyncOperation = self
            .get(
                &format!("/jobs/{job_id}/savepoints/{trigger_id}"),
                Subject::Operation { job_id, trigger_id },
            )
            .await?;
        Ok(status.into_savepoint_status())
    }

    /// Polls a savepoint (or stop) until it completes or fails, or `timeout` passes.
    pub async fn wait_for_savepoint(
        &self,
        job_id: &str,
        trigger_id: &str,
        timeout: Duration,
    ) -> Result<String, EngineError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut delay = Duration::from_millis(100);
        loop {
            match self.savepoint_status(job_id, trigger_id).await? {
                SavepointStatus::Completed { location } => return Ok(location),
                SavepointStatus::Failed { reason } => {
                    return Err(EngineError::SavepointFailed { reason })
                }
                SavepointStatus::InProgress => {}
            }
            if tokio::time::Instant::now() + delay > deadline {
                return Err(EngineError::Timeout {
                    url: format!("{}/jobs/{job_id}/savepoints/{trigger_id}", self.base),
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }

    /// Disposes of a savepoint's files (`/savepoint-disposal`) and waits for the result.
    pub async fn dispose_savepoint(
        &self,
        location: &str,
        timeout: Duration,
    ) -> Result<(), EngineError> {
        let body = DisposalRequest {
            savepoint_path: location,
        };
        let trigger: Trigger = self
            .call(
                Method::POST,
                "/savepoint-disposal",
                Some(&body),
                DEFAULT_TIMEOUT,
                Subject::None,
            )
            .await?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let status: AsyncOperation = self
                .get(
                    &format!("/savepoint-disposal/{}", trigger.request_id),
                    Subject::None,
                )
                .await?;
            if status.status.id == "COMPLETED" {
                return match status
                    .operation
                    .and_then(|o| o.get("failure-cause").cloned())
                {
                    None => Ok(()),
                    Some(cause) => Err(EngineError::Rejected {
                        status: 200,
                        message: engine_message(&[cause
                            .get("stack-trace")
                            .and_then(|t| t.as_str())
                            .unwrap_or("the savepoint could not be disposed of")
                            .to_owned()]),
                    }),
                };
            }
            if tokio::time::Instant::now() > deadline {
                return Err(EngineError::Timeout {
                    url: format!("{}/savepoint-disposal/{}", self.base, trigger.request_id),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn checkpoints(&self, job_id: &str) -> Result<Checkpoints, EngineError> {
        self.get(&format!("/jobs/{job_id}/checkpoints"), Subject::Job(job_id))
            .await
    }

    /// How many times the engine's restart strategy restarted the job (`numRestarts`);
    /// `None` when the engine does not report it (a job that has ended).
    pub async fn job_restarts(&self, job_id: &str) -> Result<Option<u64>, EngineError> {
        let values: Vec<MetricValue> = self
            .get(
                &format!("/jobs/{job_id}/metrics?get=numRestarts"),
                Subject::Job(job_id),
            )
            .await?;
        Ok(values
            .into_iter()
            .find(|m| m.id == "numRestarts")
            .and_then(|m| m.value.parse().ok()))
    }

    pub async fn exceptions(&self, job_id: &str) -> Result<Vec<JobException>, EngineError> {
        let history: Exceptions = self
            .get(&format!("/jobs/{job_id}/exceptions"), Subject::Job(job_id))
            .await?;
        Ok(history.exception_history.entries)
    }

    /// Aggregated subtask metrics of one vertex (e.g. `numRecordsInPerSecond`).
    pub async fn vertex_metrics(
        &self,
        job_id: &str,
        vertex_id: &str,
        names: &[&str],
    ) -> Result<Vec<AggregatedMetric>, EngineError> {
        self.get(
            &format!(
                "/jobs/{job_id}/vertices/{vertex_id}/subtasks/metrics?get={}",
                names
                    .iter()
                    .map(|n| query_escape(n))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Subject::Job(job_id),
        )
        .await
    }

    /// The metrics a vertex's subtasks report, by name (operator metrics carry the
    /// operator's name as a prefix, e.g. `Source__orders[1].pendingRecords`).
    pub async fn vertex_metric_names(
        &self,
        job_id: &str,
        vertex_id: &str,
    ) -> Result<Vec<String>, EngineError> {
        let listed: Vec<MetricName> = self
            .get(
                &format!("/jobs/{job_id}/vertices/{vertex_id}/subtasks/metrics"),
                Subject::Job(job_id),
            )
            .await?;
        Ok(listed.into_iter().map(|m| m.id).collect())
    }

    pub async fn backpressure(
        &self,
        job_id: &str,
        vertex_id: &str,
    ) -> Result<Backpressure, EngineError> {
        self.get(
            &format!("/jobs/{job_id}/vertices/{vertex_id}/backpressure"),
            Subject::Job(job_id),
        )
        .await
    }
}

/// Percent-encodes a query value's reserved characters (metric names hold `[`, `]`,
/// and may hold anything an operator is named with).
fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What a 404 (or a refusal) is about.
#[derive(Clone, Copy)]
pub(crate) enum Subject<'a> {
    None,
    Job(&'a str),
    Jar(&'a str),
    /// A run of a jar, under a chosen job id or not.
    Run {
        jar_id: &'a str,
        job_id: Option<&'a str>,
    },
    /// A savepoint or stop operation of a job.
    Operation {
        job_id: &'a str,
        trigger_id: &'a str,
    },
}

async fn read<T: DeserializeOwned>(
    response: reqwest::Response,
    url: &str,
    subject: Subject<'_>,
) -> Result<T, EngineError> {
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| EngineError::from_transport(url, e))?;
    if status.is_success() {
        // Some operations (cancel, delete) answer an empty body.
        let text = if text.trim().is_empty() {
            "null"
        } else {
            &text
        };
        return serde_json::from_str(text).map_err(|e| EngineError::Malformed {
            url: url.to_owned(),
            reason: format!("{e} in {}", truncate(text)),
        });
    }
    Err(error::from_status(status, &text, url, subject))
}

fn truncate(text: &str) -> String {
    text.chars().take(300).collect()
}

/// Request bodies behind one object-safe trait, so `call` takes any of them.
mod erased {
    pub trait Body: Sync {
        fn to_value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize + Sync> Body for T {
        fn to_value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

#[derive(Serialize)]
struct DisposalRequest<'a> {
    #[serde(rename = "savepoint-path")]
    savepoint_path: &'a str,
}

/// Flink names these fields in kebab case for savepoints, camel case for stop.
#[derive(Serialize)]
struct SavepointRequest<'a> {
    #[serde(rename = "target-directory", skip_serializing_if = "Option::is_none")]
    target_directory: Option<&'a str>,
    #[serde(rename = "cancel-job")]
    cancel_job: bool,
    #[serde(rename = "triggerId", skip_serializing_if = "Option::is_none")]
    trigger_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StopRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    target_directory: Option<&'a str>,
    drain: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger_id: Option<&'a str>,
}
