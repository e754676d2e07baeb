//! Request and response bodies of Flink's REST API, trimmed to what Sluice uses.
//! Field names follow Flink (`rest_v1_dispatcher.yml`), which mixes kebab and camel case.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct ClusterOverview {
    pub taskmanagers: u32,
    #[serde(rename = "slots-total")]
    pub slots_total: u32,
    #[serde(rename = "slots-available")]
    pub slots_available: u32,
    #[serde(rename = "jobs-running")]
    pub jobs_running: u32,
    #[serde(rename = "flink-version", default)]
    pub flink_version: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TaskManagerList {
    pub taskmanagers: Vec<TaskManager>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TaskManager {
    pub id: String,
    #[serde(rename = "slotsNumber")]
    pub slots_number: u32,
    #[serde(rename = "freeSlots")]
    pub free_slots: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct JarUploaded {
    pub filename: String,
}

/// A jar on a cluster: its id and where the JobManager keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedJar {
    pub id: String,
    /// The JobManager-local path (gone when the JobManager restarts).
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct JarList {
    pub files: Vec<Jar>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Jar {
    pub id: String,
    pub name: String,
}

/// What to run from an uploaded jar (body of `/jars/{id}/run` and `/plan`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Program {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_class: Option<String>,
    pub program_args_list: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallelism: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub savepoint_path: Option<String>,
    pub allow_non_restored_state: bool,
    /// The job id to run under, chosen by the caller (32 hex digits). The engine refuses
    /// a second submission with the same id, so a retried submission cannot start a
    /// second job: see [`crate::EngineError::DuplicateJob`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Configuration for this program only (`flinkConfiguration`, Flink 1.17 and later).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub flink_configuration: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct JarRun {
    pub jobid: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PlanResponse {
    pub plan: Plan,
}

/// The job graph the engine would run.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Plan {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub nodes: Vec<PlanNode>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PlanNode {
    pub id: String,
    #[serde(default)]
    pub parallelism: u32,
    #[serde(default)]
    pub operator: String,
    /// Plain text: the engine's HTML line breaks and entities are decoded.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub inputs: Vec<PlanInput>,
}

impl Plan {
    /// Flink writes node descriptions as HTML (`<br/>` between lines, `&gt;` for `>`):
    /// makes them plain text.
    pub fn into_plain_text(mut self) -> Self {
        for node in &mut self.nodes {
            node.description = plain_text(&node.description);
        }
        self
    }
}

fn plain_text(html: &str) -> String {
    html.replace("<br/>", "\n")
        .replace("<br>", "\n")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PlanInput {
    pub id: String,
    #[serde(default)]
    pub ship_strategy: String,
}

/// A job's state as the engine reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Initializing,
    Created,
    Running,
    Failing,
    Failed,
    Cancelling,
    Canceled,
    Finished,
    Restarting,
    Suspended,
    Reconciling,
}

impl JobState {
    /// The name the engine gives the state, e.g. `RESTARTING`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initializing => "INITIALIZING",
            Self::Created => "CREATED",
            Self::Running => "RUNNING",
            Self::Failing => "FAILING",
            Self::Failed => "FAILED",
            Self::Cancelling => "CANCELLING",
            Self::Canceled => "CANCELED",
            Self::Finished => "FINISHED",
            Self::Restarting => "RESTARTING",
            Self::Suspended => "SUSPENDED",
            Self::Reconciling => "RECONCILING",
        }
    }

    /// The job will not change state again by itself.
    pub fn is_terminal(self) -> bool {
        match self {
            Self::Failed | Self::Canceled | Self::Finished | Self::Suspended => true,
            Self::Initializing
            | Self::Created
            | Self::Running
            | Self::Failing
            | Self::Cancelling
            | Self::Restarting
            | Self::Reconciling => false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct JobsOverview {
    pub jobs: Vec<JobOverview>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct JobOverview {
    pub jid: String,
    pub name: String,
    pub state: JobState,
    #[serde(rename = "start-time", default)]
    pub start_time: i64,
    #[serde(rename = "end-time", default)]
    pub end_time: i64,
    pub tasks: TaskCounts,
}

/// Task counts of a job. Unlike `/jobs/{id}`, whose answer Flink caches for a few
/// seconds, `/jobs/overview` is fresh.
#[derive(Debug, Clone, Deserialize)]
pub struct TaskCounts {
    pub running: u32,
    pub total: u32,
}

impl JobOverview {
    /// RUNNING with every task running: Flink says RUNNING while tasks still deploy.
    pub fn is_fully_running(&self) -> bool {
        self.state == JobState::Running
            && self.tasks.total > 0
            && self.tasks.running == self.tasks.total
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct JobDetail {
    pub jid: String,
    pub name: String,
    pub state: JobState,
    #[serde(rename = "start-time", default)]
    pub start_time: i64,
    #[serde(default)]
    pub vertices: Vec<Vertex>,
    /// The job graph: which vertex feeds which (sources have no inputs).
    #[serde(default)]
    pub plan: Option<JobPlan>,
}

impl JobDetail {
    /// Vertices that read from outside the job (no inputs in the plan).
    pub fn sources(&self) -> Vec<&Vertex> {
        let Some(plan) = &self.plan else {
            return Vec::new();
        };
        let fed: std::collections::HashSet<&str> = plan
            .nodes
            .iter()
            .filter(|n| !n.inputs.is_empty())
            .map(|n| n.id.as_str())
            .collect();
        self.vertices
            .iter()
            .filter(|v| !fed.contains(v.id.as_str()))
            .collect()
    }

    /// Vertices that write out of the job (no vertex takes their output).
    pub fn sinks(&self) -> Vec<&Vertex> {
        let Some(plan) = &self.plan else {
            return Vec::new();
        };
        let feeding: std::collections::HashSet<&str> = plan
            .nodes
            .iter()
            .flat_map(|n| n.inputs.iter().map(|i| i.id.as_str()))
            .collect();
        self.vertices
            .iter()
            .filter(|v| !feeding.contains(v.id.as_str()))
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct JobPlan {
    #[serde(default)]
    pub nodes: Vec<PlanNode>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Vertex {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub parallelism: u32,
    #[serde(default)]
    pub status: String,
    /// Counters summed over the vertex's subtasks since the job started.
    #[serde(default)]
    pub metrics: Option<VertexMetrics>,
}

/// A vertex's I/O counters (Flink's IOMetricsInfo). Times are milliseconds summed over
/// subtasks; the busy time is a float that Flink sends as the string "NaN" while it
/// has none.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct VertexMetrics {
    #[serde(default)]
    pub read_records: u64,
    #[serde(default)]
    pub write_records: u64,
    #[serde(default)]
    pub accumulated_backpressured_time: u64,
    #[serde(default)]
    pub accumulated_idle_time: u64,
    #[serde(default)]
    pub accumulated_busy_time: serde_json::Value,
}

impl VertexMetrics {
    pub fn busy_ms(&self) -> Option<f64> {
        self.accumulated_busy_time
            .as_f64()
            .filter(|v| v.is_finite())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Trigger {
    #[serde(rename = "request-id")]
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SavepointStatus {
    InProgress,
    Completed { location: String },
    Failed { reason: String },
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AsyncOperation {
    pub status: AsyncStatus,
    #[serde(default)]
    pub operation: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AsyncStatus {
    pub id: String,
}

impl AsyncOperation {
    pub(crate) fn into_savepoint_status(self) -> SavepointStatus {
        if self.status.id != "COMPLETED" {
            return SavepointStatus::InProgress;
        }
        let operation = self.operation.unwrap_or_default();
        if let Some(location) = operation.get("location").and_then(|l| l.as_str()) {
            return SavepointStatus::Completed {
                location: location.to_owned(),
            };
        }
        let trace = operation
            .get("failure-cause")
            .and_then(|c| c.get("stack-trace"))
            .and_then(|t| t.as_str())
            .unwrap_or("the engine gave no reason");
        SavepointStatus::Failed {
            reason: crate::engine_message(&[trace.to_owned()]),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Checkpoints {
    pub counts: CheckpointCounts,
    pub latest: LatestCheckpoints,
    /// The most recent checkpoints and savepoints, newest first (the engine keeps a few).
    #[serde(default)]
    pub history: Vec<CheckpointRecord>,
}

/// One entry of a job's checkpoint history.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckpointRecord {
    pub id: u64,
    /// COMPLETED, IN_PROGRESS or FAILED.
    pub status: String,
    #[serde(default)]
    pub is_savepoint: bool,
    #[serde(default)]
    pub trigger_timestamp: i64,
    #[serde(default)]
    pub external_path: String,
    /// Bytes of state it holds.
    #[serde(default)]
    pub state_size: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckpointCounts {
    pub completed: u64,
    pub failed: u64,
    #[serde(default)]
    pub restored: u64,
    #[serde(default)]
    pub in_progress: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LatestCheckpoints {
    pub completed: Option<CompletedCheckpoint>,
    pub savepoint: Option<CompletedCheckpoint>,
    pub restored: Option<RestoredCheckpoint>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CompletedCheckpoint {
    pub id: u64,
    #[serde(default)]
    pub external_path: String,
    #[serde(default)]
    pub latest_ack_timestamp: i64,
    #[serde(default)]
    pub end_to_end_duration: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RestoredCheckpoint {
    pub id: u64,
    pub is_savepoint: bool,
    #[serde(default)]
    pub external_path: String,
    /// Bytes of state it holds.
    #[serde(default)]
    pub state_size: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Exceptions {
    #[serde(rename = "exceptionHistory")]
    pub exception_history: ExceptionHistory,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ExceptionHistory {
    pub entries: Vec<JobException>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct JobException {
    #[serde(rename = "exceptionName")]
    pub exception_name: String,
    pub stacktrace: String,
    pub timestamp: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct MetricName {
    pub id: String,
}

/// A job-level metric as `/jobs/{id}/metrics?get=` answers it (values are strings).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct MetricValue {
    pub id: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AggregatedMetric {
    pub id: String,
    #[serde(default, deserialize_with = "finite")]
    pub min: Option<f64>,
    #[serde(default, deserialize_with = "finite")]
    pub max: Option<f64>,
    #[serde(default, deserialize_with = "finite")]
    pub avg: Option<f64>,
    #[serde(default, deserialize_with = "finite")]
    pub sum: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Backpressure {
    /// `ok` once sampled; `deprecated` while the engine is still sampling.
    pub status: String,
    /// `ok`, `low` or `high`. Flink sends it twice, as `backpressureLevel` and the
    /// older `backpressure-level`; the newer name is read (an alias would see a
    /// duplicate field and refuse the answer).
    #[serde(rename = "backpressureLevel", default)]
    pub level: Option<String>,
    #[serde(default)]
    pub subtasks: Vec<SubtaskBackpressure>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubtaskBackpressure {
    pub subtask: u32,
    #[serde(default, deserialize_with = "ratio_or_zero")]
    pub ratio: f64,
    /// Absent, or "NaN" from the engine while the subtask has no busy time yet.
    #[serde(rename = "busyRatio", default, deserialize_with = "finite")]
    pub busy_ratio: Option<f64>,
}

/// Flink writes a float it has no value for as the string "NaN" (Jackson's way):
/// a number is kept, anything else is none.
fn finite<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(value.as_f64().filter(|v| v.is_finite()))
}

fn ratio_or_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(finite(d)?.unwrap_or(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backpressure_answer_with_nan_ratios_and_both_level_names_is_read() {
        let b: Backpressure = serde_json::from_str(
            r#"{"status":"ok","backpressureLevel":"ok","subtasks":[{"subtask":0,"backpressureLevel":"ok","ratio":0.0,"busyRatio":"NaN","backpressure-level":"ok"},{"subtask":1,"ratio":"NaN","busyRatio":0.25}],"backpressure-level":"ok"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.subtasks[0].busy_ratio, None);
        assert_eq!(b.subtasks[1].busy_ratio, Some(0.25));
        assert_eq!(b.subtasks[1].ratio, 0.0);
        assert_eq!(b.level.as_deref(), Some("ok"));
    }

    #[test]
    fn a_completed_savepoint_has_its_location_and_a_failed_one_its_reason() {
        let done: AsyncOperation = serde_json::from_str(
            r#"{"status":{"id":"COMPLETED"},"operation":{"location":"file:/tmp/sp/savepoint-1"}}"#,
        )
        .unwrap();
        assert_eq!(
            done.into_savepoint_status(),
            SavepointStatus::Completed {
                location: "file:/tmp/sp/savepoint-1".into()
            }
        );
        let failed: AsyncOperation = serde_json::from_str(
            r#"{"status":{"id":"COMPLETED"},"operation":{"failure-cause":{"class":"x","stack-trace":"java.util.concurrent.CompletionException: a\nCaused by: org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint Coordinator is suspending."}}}"#,
        )
        .unwrap();
        assert_eq!(
            failed.into_savepoint_status(),
            SavepointStatus::Failed {
                reason: "Checkpoint Coordinator is suspending.".into()
            }
        );
        let running: AsyncOperation =
            serde_json::from_str(r#"{"status":{"id":"IN_PROGRESS"}}"#).unwrap();
        assert_eq!(running.into_savepoint_status(), SavepointStatus::InProgress);
    }

    #[test]
    fn plan_descriptions_become_plain_text() {
        let plan: Plan = serde_json::from_str(
            r#"{"name":"j","nodes":[{"id":"a","description":"[1]:TableSourceScan(table=[[src]])<br/>+- Calc(select=[n], where=[(n &gt; 10)])<br/>&quot;x&quot; &amp; &lt;y&gt;"}]}"#,
        )
        .unwrap();
        assert_eq!(
            plan.into_plain_text().nodes[0].description,
            "[1]:TableSourceScan(table=[[src]])\n+- Calc(select=[n], where=[(n > 10)])\n\"x\" & <y>"
        );
    }

    #[test]
    fn both_versions_run_answers_parse() {
        let v1_20: JarRun = serde_json::from_str(r#"{"jobid":"a"}"#).unwrap();
        let v2_3: JarRun = serde_json::from_str(r#"{"jobid":"b","applicationId":"c"}"#).unwrap();
        assert_eq!((v1_20.jobid.as_str(), v2_3.jobid.as_str()), ("a", "b"));
    }
}
