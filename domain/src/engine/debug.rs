//! Debug runs of a SQL draft: the draft runs on a session cluster with every sink
//! replaced by a capture that sends its rows back to Sluice, sources either live or
//! fed from a sample file, until a record limit, a time limit, the end of its input, a
//! cancel or a failure; the engine job is cancelled at the end whatever ended it.
//!
//! What is sent to the engine: each table an INSERT writes keeps its schema and gets
//! the SQL runner's `sluice-capture` connector instead of its own (so no record
//! reaches the real sink, whatever its type); a source given a sample gets the
//! runner's bounded `sluice-sample` connector with the sample's rows as JSON lines;
//! top-level SELECTs are captured by the runner itself (`--capture-url`). The rows
//! arrive at `POST /internal/debug-capture/{run}` with the run's token.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use engine_client::refusal::{self, Refusal};
use engine_client::script::{self, Analysis, ScriptError, Statement, StatementKind, Token};
use engine_client::{EngineClient, EngineError, JobState};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use store::db::now_ms;
use store::debug::{Captured, NewRun, RunRow};
use store::{Error, ProjectScope};
use tokio_util::sync::CancellationToken;

use super::runner;
use super::submission::{job_id_prefix, new_job_id};
use crate::pipeline;
use crate::Platform;

/// A sample file's rows, read and checked for shape (not yet against a table).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub columns: Vec<String>,
    /// One object per row, keyed by column; values as written (CSV: strings, empty is null).
    pub rows: Vec<Map<String, Value>>,
}

/// Reads an uploaded sample: `csv` (a header row naming the columns) or `jsonl` (one
/// JSON object a line). The bytes must be UTF-8 and at most `max_bytes`.
pub fn read_sample(format: &str, bytes: &[u8], max_bytes: usize) -> Result<Sample, String> {
    if bytes.len() > max_bytes {
        return Err(format!(
            "the sample is {} bytes; a sample file may have at most {max_bytes}",
            bytes.len()
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "the sample is not UTF-8 text (first bad byte at offset {})",
            e.valid_up_to()
        )
    })?;
    match format {
        "csv" => read_csv(text),
        "jsonl" => read_json_lines(text),
        other => Err(format!("format must be csv or jsonl, not `{other}`")),
    }
}

fn read_csv(text: &str) -> Result<Sample, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| format!("the CSV header cannot be read: {e}"))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if columns.is_empty() || columns.iter().any(String::is_empty) {
        return Err("the CSV's first line must name every column".to_owned());
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {}: {e}", i + 1))?;
        if record.len() != columns.len() {
            return Err(format!(
                "row {} has {} values; the header names {} columns",
                i + 1,
                record.len(),
                columns.len()
            ));
        }
        let row = columns
            .iter()
            .zip(record.iter())
            .map(|(c, v)| {
                let value = if v.is_empty() {
                    Value::Null
                } else {
                    Value::String(v.to_owned())
                };
                (c.clone(), value)
            })
            .collect();
        rows.push(row);
    }
    Ok(Sample { columns, rows })
}

fn read_json_lines(text: &str) -> Result<Sample, String> {
    let mut columns: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: Map<String, Value> = match serde_json::from_str(line) {
            Ok(Value::Object(row)) => row,
            Ok(_) => return Err(format!("line {} is not a JSON object", i + 1)),
            Err(e) => return Err(format!("line {} is not JSON: {e}", i + 1)),
        };
        for key in row.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
        rows.push(row);
    }
    Ok(Sample { columns, rows })
}

/// A physical column a table declares: what a sample must give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// As declared, upper case (`DECIMAL(10, 2)`, `TIMESTAMP(3)`).
    pub data_type: String,
}

/// The physical columns of a `CREATE TABLE` (computed and metadata columns, the
/// watermark and constraints are not data a source reads).
pub fn physical_columns(ddl: &Statement) -> Vec<Column> {
    let Some(open) = ddl
        .tokens
        .iter()
        .position(|t| t.token == engine_client::script::Token::LParen)
    else {
        return Vec::new();
    };
    if ddl.created_name().is_none() {
        return Vec::new();
    }
    let mut columns = Vec::new();
    let mut depth = 0usize;
    let mut part: Vec<String> = Vec::new();
    for t in &ddl.tokens[open..] {
        use engine_client::script::Token;
        match &t.token {
            Token::LParen => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    columns.extend(column_of(&part));
                    break;
                }
            }
            Token::Comma if depth == 1 => {
                columns.extend(column_of(&part));
                part.clear();
                continue;
            }
            _ => {}
        }
        part.push(match &t.token {
            Token::Word(w) => w.value.clone(),
            other => other.to_string(),
        });
    }
    columns
}

/// `name TYPE [NOT NULL] [COMMENT '...']` of a column list; None for a computed or
/// metadata column, a watermark or a constraint.
fn column_of(part: &[String]) -> Option<Column> {
    let (name, rest) = part.split_first()?;
    let upper = |s: &String| s.to_ascii_uppercase();
    if ["WATERMARK", "PRIMARY", "CONSTRAINT", "PERIOD", "UNIQUE"].contains(&upper(name).as_str())
        || rest.first().is_some_and(|t| upper(t) == "AS")
        || rest.iter().any(|t| upper(t) == "METADATA")
    {
        return None;
    }
    let end = rest
        .iter()
        .position(|t| ["NOT", "NULL", "COMMENT", "PRIMARY"].contains(&upper(t).as_str()))
        .unwrap_or(rest.len());
    let mut data_type = String::new();
    for t in &rest[..end] {
        if t == "," {
            data_type.push_str(", ");
        } else {
            data_type.push_str(&t.to_ascii_uppercase());
        }
    }
    Some(Column {
        name: name.clone(),
        data_type,
    })
}

/// Checks a sample against a table's physical columns, naming the first mismatch (row
/// and column); the rows as JSON lines for the engine's JSON format, each value in the
/// form its column's type reads (numbers and booleans as JSON's).
pub fn sample_rows_for(
    table: &str,
    columns: &[Column],
    sample: &Sample,
    sample_name: &str,
) -> Result<String, String> {
    let known = |name: &str| columns.iter().any(|c| c.name.eq_ignore_ascii_case(name));
    if let Some(extra) = sample.columns.iter().find(|c| !known(c)) {
        return Err(format!(
            "sample `{sample_name}` has a column `{extra}` that table `{table}` does not declare (its columns: {})",
            names(columns)
        ));
    }
    if let Some(missing) = columns.iter().find(|c| {
        !sample
            .columns
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&c.name))
    }) {
        return Err(format!(
            "sample `{sample_name}` has no column `{}`, which table `{table}` declares (its columns: {})",
            missing.name,
            names(columns)
        ));
    }
    let mut lines = String::new();
    for (i, row) in sample.rows.iter().enumerate() {
        let mut out = Map::new();
        for column in columns {
            let value = row
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&column.name))
                .map_or(&Value::Null, |(_, v)| v);
            let converted = as_type(value, &column.data_type).ok_or_else(|| {
                format!(
                    "sample `{sample_name}`, row {}, column `{}`: {} is not a {}",
                    i + 1,
                    column.name,
                    value,
                    column.data_type
                )
            })?;
            out.insert(column.name.clone(), converted);
        }
        lines.push_str(&Value::Object(out).to_string());
        lines.push('\n');
    }
    Ok(lines)
}

fn names(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| format!("{} {}", c.name, c.data_type))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A sample value as the engine's JSON format reads a column of `data_type`; None when
/// it is not one.
fn as_type(value: &Value, data_type: &str) -> Option<Value> {
    if value.is_null() {
        return Some(Value::Null);
    }
    let base = data_type
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("");
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    };
    match base {
        "TINYINT" | "SMALLINT" | "INT" | "INTEGER" | "BIGINT" => {
            text.parse::<i64>().ok().map(Value::from)
        }
        "FLOAT" | "DOUBLE" | "REAL" | "DECIMAL" | "DEC" | "NUMERIC" => {
            text.parse::<f64>().ok()?;
            serde_json::from_str::<Value>(&text)
                .ok()
                .filter(Value::is_number)
        }
        "BOOLEAN" => match text.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        "DATE" => is_date(&text).then_some(Value::String(text)),
        "TIME" => is_time(&text).then_some(Value::String(text)),
        "TIMESTAMP" => {
            let (date, time) = text.split_once([' ', 'T'])?;
            (is_date(date) && is_time(time)).then(|| Value::String(format!("{date} {time}")))
        }
        _ => Some(match value {
            Value::String(_) => Value::String(text),
            other => other.clone(),
        }),
    }
}

fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn is_time(s: &str) -> bool {
    let (hms, fraction) = s.split_once('.').unwrap_or((s, "0"));
    let parts: Vec<&str> = hms.split(':').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_digit()))
        && !fraction.is_empty()
        && fraction.chars().all(|c| c.is_ascii_digit())
}

/// Where a run's rows go: one per table an INSERT writes, one per top-level SELECT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The capture's name: the table's, or `statement:N` for a SELECT.
    pub target: String,
    /// The statement whose results these are (the first INSERT into the table).
    pub statement: usize,
    pub table: Option<String>,
    /// Column names; a SELECT's arrive with its first rows.
    pub columns: Vec<String>,
}

/// What the engine is sent for a debug run.
pub struct Rewritten {
    pub statements: Vec<Statement>,
    pub targets: Vec<Target>,
}

/// Rewrites a draft for a debug run: sinks to the capture, sampled sources to their
/// rows, live Kafka sources to `consumer_group`. `samples` maps a source table (lower case) to the JSON lines it reads.
/// Refused: CTAS/CDAS, an INSERT into a table the script does not declare.
pub fn rewrite(
    analysis: &Analysis,
    samples: &HashMap<String, String>,
    capture_url: &str,
    token: &str,
    consumer_group: &str,
) -> Result<Rewritten, Vec<ScriptError>> {
    let mut errors = Vec::new();
    let place = |s: &Statement| (s.line, s.column);
    for s in &analysis.statements {
        if s.creates_from_query() {
            errors.push(ScriptError::at(
                "CREATE TABLE ... AS (CTAS) and CREATE DATABASE ... AS (CDAS) create real tables; a debug run only reads and shows. Debug the query on its own (a SELECT) or an INSERT into a declared table",
                place(s),
                Some(s.index),
            ));
        }
    }
    let declared = |name: &str| {
        analysis.statements.iter().find(|s| {
            s.kind == StatementKind::Ddl
                && s.created_name().is_some_and(
                    |t| matches!(&t.token, engine_client::script::Token::Word(w) if w.value.eq_ignore_ascii_case(name)),
                )
                && s.with_options().is_some()
        })
    };
    let mut targets = Vec::new();
    let mut replacements: HashMap<usize, String> = HashMap::new();
    for sink in &analysis.sinks {
        let name = sink.name.rsplit('.').next().unwrap_or(&sink.name);
        let writer = analysis
            .statements
            .iter()
            .find(|s| {
                matches!(s.kind, StatementKind::Insert | StatementKind::StatementSet)
                    && s.text
                        .to_ascii_lowercase()
                        .contains(&name.to_ascii_lowercase())
            })
            .map_or(0, |s| s.index);
        let Some(ddl) = declared(name) else {
            let at = analysis
                .statements
                .iter()
                .find(|s| s.index == writer)
                .map_or((1, 1), place);
            errors.push(ScriptError::at(
                format!("`{name}` is written but not declared in the script: a debug run replaces every sink with a capture, so each must be a CREATE TABLE of the draft"),
                at,
                Some(writer),
            ));
            continue;
        };
        let options = format!(
            "'connector' = 'sluice-capture', 'url' = {}, 'token' = {}, 'target' = {}",
            quoted(capture_url),
            quoted(token),
            quoted(name)
        );
        replacements.insert(ddl.index, options);
        targets.push(Target {
            target: name.to_owned(),
            statement: writer,
            table: Some(name.to_owned()),
            columns: physical_columns(ddl).into_iter().map(|c| c.name).collect(),
        });
    }
    for (table, rows) in samples {
        let Some(ddl) = declared(table) else {
            errors.push(ScriptError::unplaced(format!(
                "sample data is given for `{table}`, which the script does not declare"
            )));
            continue;
        };
        if replacements.contains_key(&ddl.index) {
            errors.push(ScriptError::at(
                format!(
                    "`{table}` is written by the script: sample data is for the tables it reads"
                ),
                place(ddl),
                Some(ddl.index),
            ));
            continue;
        }
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(rows);
        replacements.insert(
            ddl.index,
            format!(
                "'connector' = 'sluice-sample', 'format' = 'json', 'rows' = {}",
                quoted(&encoded)
            ),
        );
    }
    // A live Kafka source reads under a consumer group of the run's own: the offsets a
    // debug run commits must not move those of the job's deployments.
    for s in &analysis.statements {
        if replacements.contains_key(&s.index) || s.created_name().is_none() {
            continue;
        }
        let Some((open, close)) = s.with_options() else {
            continue;
        };
        let options = &s.tokens[open + 1..close];
        let value_of = |key: &str| {
            options
                .windows(3)
                .find_map(|w| match (&w[0].token, &w[1].token, &w[2].token) {
                    (Token::SingleQuotedString(k), Token::Eq, Token::SingleQuotedString(v))
                        if k == key =>
                    {
                        Some((v.clone(), &w[2]))
                    }
                    _ => None,
                })
        };
        if !value_of("connector").is_some_and(|(c, _)| c == "kafka" || c == "upsert-kafka") {
            continue;
        }
        let from = s.offset_of(s.tokens[open].span.end);
        let to = s.offset_of(s.tokens[close].span.start);
        let group = quoted(consumer_group);
        let rewritten = match value_of("properties.group.id") {
            Some((_, value)) => {
                let (start, end) = (s.offset_of(value.span.start), s.offset_of(value.span.end));
                format!("{}{group}{}", &s.text[from..start], &s.text[end..to])
            }
            None => format!(
                "{}, 'properties.group.id' = {group}",
                s.text[from..to].trim_end()
            ),
        };
        replacements.insert(s.index, rewritten);
    }
    for s in &analysis.statements {
        if s.kind == StatementKind::Query {
            targets.push(Target {
                target: format!("statement:{}", s.index),
                statement: s.index,
                table: None,
                columns: Vec::new(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let statements = analysis
        .statements
        .iter()
        .map(|s| match (replacements.get(&s.index), s.with_options()) {
            (Some(options), Some((open, close))) => {
                let from = s.offset_of(s.tokens[open].span.end);
                let to = s.offset_of(s.tokens[close].span.start);
                let mut rewritten = s.clone();
                rewritten.text = format!("{}{options}{}", &s.text[..from], &s.text[to..]);
                rewritten
            }
            _ => s.clone(),
        })
        .collect();
    targets.sort_by_key(|t| t.statement);
    Ok(Rewritten {
        statements,
        targets,
    })
}

fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Why a run stopped.
pub mod reason {
    pub const RECORD_LIMIT: &str = "record_limit";
    pub const TIME_LIMIT: &str = "time_limit";
    pub const INPUT_EXHAUSTED: &str = "input_exhausted";
    pub const CANCELLED: &str = "cancelled";
    pub const FAILED: &str = "failed";
    /// Nobody read its results for a while: the browser went away.
    pub const ABANDONED: &str = "abandoned";
    /// The process watching it died.
    pub const INTERRUPTED: &str = "interrupted";
}

/// A run nobody has read the results of for this long is stopped.
const ABANDONED_AFTER_MS: i64 = 30_000;

/// This process, as the watcher of the runs it starts.
fn this_process() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::new_v4().to_string())
}

/// How long a watch lasts unless renewed: a few of the supervisor's passes.
fn watch_ms(platform: &Platform) -> i64 {
    i64::try_from(
        platform
            .config
            .engine
            .reconcile_interval_ms
            .saturating_mul(3),
    )
    .unwrap_or(i64::MAX)
}

/// What a debug run is asked for.
pub struct Start<'a> {
    pub job_id: &'a str,
    pub job_name: &'a str,
    pub sql: &'a str,
    pub cluster_id: &'a str,
    pub rest_url: &'a str,
    /// Source tables (as the script names them) to read from a sample of the project.
    pub samples: &'a HashMap<String, String>,
    pub record_limit: u64,
    pub time_limit: Duration,
    pub created_by: Option<&'a str>,
    /// Plan limit of runs at once in the project.
    pub concurrent_runs: i64,
}

/// Why a run could not start: the script (errors in place), or the request.
pub enum Refused {
    Script(Vec<ScriptError>),
}

/// Starts a debug run: checks and rewrites the draft, records the run (with the engine
/// job id Sluice chose) and asks the engine; the run as recorded.
pub async fn start(
    platform: &Platform,
    scope: &ProjectScope,
    request: &Start<'_>,
) -> Result<Result<RunRow, Refused>, Error> {
    let Some(sql_runner) = &platform.sql_runner else {
        return Err(Error::new(
            store::error::Kind::Unavailable,
            "sql_runner_missing",
            "no SQL runner is built on this server (scripts/build-sql-runner.sh)",
        ));
    };
    let analysis = match script::analyze_debug(request.sql) {
        Ok(analysis) => analysis,
        Err(errors) => return Ok(Err(Refused::Script(errors))),
    };
    let resources = scope.pipeline_resources().await?;
    let needs = match pipeline::resolve(&analysis.statements, &resources, &platform.secrets, &[]) {
        Ok(needs) => needs,
        Err(errors) => return Ok(Err(Refused::Script(errors))),
    };
    let mut sample_rows = HashMap::new();
    for (table, sample_id) in request.samples {
        let (sample, rows) = scope
            .debug()
            .sample(sample_id)
            .await
            .map_err(|e| e.with_field("sources"))?;
        let Some(ddl) = analysis.statements.iter().find(|s| {
            s.created_name().is_some_and(|t| matches!(&t.token, script::Token::Word(w) if w.value.eq_ignore_ascii_case(table)))
        }) else {
            return Err(Error::invalid("sources", format!("the draft declares no table `{table}` to read sample `{}` into", sample.name)));
        };
        let stored = stored_sample(&sample.columns, &rows)?;
        let lines = sample_rows_for(table, &physical_columns(ddl), &stored, &sample.name)
            .map_err(|m| Error::invalid("sources", m))?;
        sample_rows.insert(table.to_ascii_lowercase(), lines);
    }
    let run_id = uuid::Uuid::now_v7().to_string();
    let token = hex::encode(rand::random::<[u8; 32]>());
    let group = format!("sluice-debug-{run_id}");
    let rewritten = match rewrite(
        &analysis,
        &sample_rows,
        &capture_url(platform, &run_id),
        &token,
        &group,
    ) {
        Ok(rewritten) => rewritten,
        Err(errors) => return Ok(Err(Refused::Script(errors))),
    };
    let client = platform.engines.client(request.rest_url)?;
    // A run that cannot get a slot says so rather than waiting for one.
    match client.overview().await {
        Ok(overview) if overview.slots_available == 0 => {
            return Err(Error::conflict("no_free_slot", format!(
                "the session cluster has no free task slot ({} in all, all taken): stop another run or deployment on it, or try again later",
                overview.slots_total
            )))
        }
        Ok(_) => {}
        Err(e) => return Err(upstream(format!("the session cluster cannot be reached: {e}"))),
    }
    let shipped = match pipeline::ship(
        platform,
        request.cluster_id,
        &client,
        &rewritten.statements,
        &needs,
    )
    .await?
    {
        Ok(shipped) => shipped,
        Err(e) => {
            return Err(upstream(format!(
                "the session cluster cannot take the job's artifacts: {e}"
            )))
        }
    };
    let engine_job_id = new_job_id(&job_id_prefix(platform).await?);
    let targets = serde_json::to_string(&rewritten.targets).unwrap_or_else(|_| "[]".to_owned());
    let mut write = scope.write().await?;
    let open = write.debug().open_runs().await?;
    crate::limits::ensure_below(
        open,
        request.concurrent_runs,
        "concurrent_debug_runs",
        "this project's debug runs",
    )?;
    write
        .debug()
        .insert_run(&NewRun {
            id: &run_id,
            supervisor: this_process(),
            supervised_ms: watch_ms(platform),
            job_id: request.job_id,
            cluster_id: request.cluster_id,
            engine_job_id: &engine_job_id,
            token_hash: &token_hash(&token),
            record_limit: i64::try_from(request.record_limit).unwrap_or(i64::MAX),
            time_limit_ms: i64::try_from(request.time_limit.as_millis()).unwrap_or(i64::MAX),
            targets: &targets,
            created_by: request.created_by,
        })
        .await?;
    write.commit().await?;

    let mut program = runner::program(
        &shipped.statements,
        &shipped.classpath,
        Some(&format!("debug: {}", request.job_name)),
        None,
        None,
    );
    program.program_args_list.splice(
        0..0,
        [
            format!("--capture-url={}", capture_url(platform, &run_id)),
            format!("--capture-token={token}"),
        ],
    );
    program.job_id = Some(engine_job_id.clone());
    program.flink_configuration = shipped.program_configuration();
    // A failing debug job fails the run at once instead of restarting (the runner's
    // debug mode says so too), and a cancelled one leaves no checkpoints behind.
    program
        .flink_configuration
        .insert("restart-strategy.type".to_owned(), "none".to_owned());
    program.flink_configuration.insert(
        "execution.checkpointing.externalized-checkpoint-retention".to_owned(),
        "DELETE_ON_CANCELLATION".to_owned(),
    );
    let ran = sql_runner
        .with_jar(&platform.db, request.cluster_id, &client, |jar| {
            let client = client.clone();
            let program = program.clone();
            async move { client.run_jar(&jar, &program).await }
        })
        .await;
    let runs = platform.all_tenants();
    let runs = runs.debug_runs();
    match ran {
        Ok(Ok(_)) => {
            crate::failpoint::hit(crate::failpoint::DEBUG_SUBMITTED);
            runs.running(&run_id).await?
        }
        Ok(Err(EngineError::InvalidProgram {
            message,
            statement,
            part,
            causes,
        })) => {
            let error = refusal::place(
                &analysis,
                &Refusal {
                    message: &message,
                    statement,
                    part,
                    causes: &causes,
                },
            );
            let said = shipped.redactor.redact(&describe(&error));
            runs.stop(&run_id, reason::FAILED, Some(&said)).await?;
        }
        Ok(Err(e)) => {
            let said = shipped
                .redactor
                .redact(&format!("the engine did not take the run: {e}"));
            runs.stop(&run_id, reason::FAILED, Some(&said)).await?;
        }
        Err(e) => {
            runs.stop(
                &run_id,
                reason::FAILED,
                Some(&format!(
                    "the SQL runner could not be put on the cluster: {}",
                    e.message
                )),
            )
            .await?;
        }
    }
    let run = runs
        .get(&run_id)
        .await?
        .ok_or_else(|| Error::not_found("debug run"))?;
    if run.status == "stopping" {
        finish(platform, &run).await?;
    }
    Ok(Ok(runs.get(&run_id).await?.unwrap_or(run)))
}

/// An error with its place, in one line.
fn describe(error: &ScriptError) -> String {
    let place = match (error.line, error.column) {
        (Some(line), Some(column)) => format!("line {line}, column {column}: "),
        _ => String::new(),
    };
    let hint = error
        .hint
        .as_ref()
        .map_or_else(String::new, |h| format!(" ({h})"));
    format!("{place}{}{hint}", error.message)
}

/// A stored sample (its columns as JSON and its rows as JSON lines) as read.
fn stored_sample(columns: &str, rows: &str) -> Result<Sample, Error> {
    let columns: Vec<String> = serde_json::from_str(columns)
        .map_err(|e| Error::internal(format!("a stored sample's columns: {e}")))?;
    let rows = rows
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| Error::internal(format!("a stored sample's row: {e}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(Sample { columns, rows })
}

fn upstream(message: String) -> Error {
    Error::new(store::error::Kind::Upstream, "engine_unavailable", message)
}

fn capture_url(platform: &Platform, run_id: &str) -> String {
    let base = &platform.config.engine.debug.capture_base_url;
    let base = if base.is_empty() {
        &platform.config.auth.public_url
    } else {
        base
    };
    format!(
        "{}/internal/debug-capture/{run_id}",
        base.trim_end_matches('/')
    )
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What the SQL runner's capture sends: rows of one target.
#[derive(Debug, Deserialize)]
pub struct CaptureBatch {
    pub target: String,
    #[serde(default)]
    pub columns: Vec<String>,
    pub rows: Vec<CapturedValues>,
}

#[derive(Debug, Deserialize)]
pub struct CapturedValues {
    /// `+I`, `-U`, `+U` or `-D`.
    pub kind: String,
    pub values: Vec<Option<String>>,
}

/// What became of a capture request.
pub enum CaptureOutcome {
    Kept,
    /// The run is over: the sender stops.
    Over,
    /// No such run, or not its token.
    Unknown,
}

/// Keeps what the engine captured for a run, up to its record limit; reaching it stops
/// the run (its engine job cancelled now, not at the next pass).
pub async fn capture(
    platform: &Platform,
    run_id: &str,
    token: &str,
    batch: &CaptureBatch,
) -> Result<CaptureOutcome, Error> {
    let all = platform.all_tenants();
    let runs = all.debug_runs();
    let Some((stored_targets, hash)) = runs.capture_check(run_id).await? else {
        return Ok(CaptureOutcome::Unknown);
    };
    let given = token_hash(token);
    if given.len() != hash.len()
        || !given
            .bytes()
            .zip(hash.bytes())
            .fold(true, |same, (a, b)| same & (a == b))
    {
        return Ok(CaptureOutcome::Unknown);
    }
    let mut targets: Vec<Target> = serde_json::from_str(&stored_targets).unwrap_or_default();
    if let Some(target) = targets.iter_mut().find(|t| t.target == batch.target) {
        if target.columns.is_empty() && !batch.columns.is_empty() {
            target.columns.clone_from(&batch.columns);
            runs.set_targets(run_id, &serde_json::to_string(&targets).unwrap_or_default())
                .await?;
        }
    }
    let rows: Vec<(String, String)> = batch
        .rows
        .iter()
        .filter(|r| matches!(r.kind.as_str(), "+I" | "-U" | "+U" | "-D"))
        .map(|r| {
            (
                r.kind.clone(),
                serde_json::to_string(&r.values).unwrap_or_default(),
            )
        })
        .collect();
    match runs.capture(run_id, &batch.target, &rows).await? {
        Captured::Over => Ok(CaptureOutcome::Over),
        Captured::Kept { limit_reached, .. } => {
            if limit_reached {
                let platform = platform.clone();
                let run_id = run_id.to_owned();
                tokio::spawn(async move {
                    if let Ok(Some(run)) = platform.all_tenants().debug_runs().get(&run_id).await {
                        if let Err(e) = finish(&platform, &run).await {
                            tracing::warn!(run = %run_id, error = %e.message, "cannot end a debug run yet; the supervisor will");
                        }
                    }
                });
            }
            Ok(CaptureOutcome::Kept)
        }
    }
}

/// Stops a run at its user's request; its engine job is cancelled now.
pub async fn cancel(platform: &Platform, run: &RunRow) -> Result<(), Error> {
    platform
        .all_tenants()
        .debug_runs()
        .stop(&run.id, reason::CANCELLED, None)
        .await?;
    if let Some(run) = platform.all_tenants().debug_runs().get(&run.id).await? {
        finish(platform, &run).await?;
    }
    Ok(())
}

/// Cancels a stopping run's engine job and ends the run.
async fn finish(platform: &Platform, run: &RunRow) -> Result<(), Error> {
    let client = cluster_client(platform, &run.cluster_id).await?;
    match client.cancel(&run.engine_job_id).await {
        Ok(()) | Err(EngineError::JobNotFound { .. }) => {}
        // Already over (finished, failed): nothing left to cancel.
        Err(EngineError::Rejected { .. }) => {}
        Err(e) => return Err(upstream(format!("cannot cancel the run's engine job: {e}"))),
    }
    let reason = run.stop_reason.as_deref().unwrap_or(reason::CANCELLED);
    platform
        .all_tenants()
        .debug_runs()
        .end(&run.id, reason, None)
        .await
}

async fn cluster_client(platform: &Platform, cluster_id: &str) -> Result<EngineClient, Error> {
    let rest_url = platform
        .all_tenants()
        .engine_clusters()
        .rest_url(cluster_id)
        .await?
        .ok_or_else(|| Error::not_found("cluster"))?;
    platform.engines.client(&rest_url)
}

/// Watches every open run until `stop`: limits, the engine job's end, a reader gone,
/// a watcher that died.
pub async fn supervise_forever(platform: Platform, stop: CancellationToken) {
    let interval = Duration::from_millis(platform.config.engine.reconcile_interval_ms);
    // A pass at once: runs a process that died left behind are ended as soon as its
    // watch has lapsed, not an interval later.
    loop {
        if let Err(e) = supervise(&platform).await {
            tracing::warn!(error = %e.message, "cannot supervise debug runs; will retry");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// One pass over the open runs.
pub async fn supervise(platform: &Platform) -> Result<(), Error> {
    let all = platform.all_tenants();
    let runs = all.debug_runs();
    for run in runs.open().await? {
        let Some(before) = runs
            .supervise(&run.id, this_process(), watch_ms(platform))
            .await?
        else {
            // Another live process watches it.
            continue;
        };
        if before != this_process() {
            runs.stop(
                &run.id,
                reason::INTERRUPTED,
                Some("the Sluice process running it stopped; its engine job is cancelled"),
            )
            .await?;
        } else if run.status != "stopping" {
            let now = now_ms();
            if now >= run.deadline_at {
                runs.stop(&run.id, reason::TIME_LIMIT, None).await?;
            } else if now - run.seen_at > ABANDONED_AFTER_MS {
                runs.stop(
                    &run.id,
                    reason::ABANDONED,
                    Some("nobody has read its results for 30 seconds"),
                )
                .await?;
            } else if run.status == "running" {
                engine_state(platform, &run).await?;
            }
        }
        if let Some(run) = runs.get(&run.id).await? {
            if run.status == "stopping" {
                if let Err(e) = finish(platform, &run).await {
                    tracing::warn!(run = %run.id, error = %e.message, "cannot cancel a debug run's engine job; will retry");
                }
            }
        }
    }
    Ok(())
}

/// Ends a run whose engine job ended by itself: its input exhausted, or a failure.
async fn engine_state(platform: &Platform, run: &RunRow) -> Result<(), Error> {
    let client = cluster_client(platform, &run.cluster_id).await?;
    let runs = platform.all_tenants();
    let runs = runs.debug_runs();
    match client.job(&run.engine_job_id).await {
        Ok(job) => match job.state {
            JobState::Finished => runs.end(&run.id, reason::INPUT_EXHAUSTED, None).await,
            JobState::Canceled => {
                runs.end(&run.id, reason::CANCELLED, Some("cancelled in the engine"))
                    .await
            }
            JobState::Failed | JobState::Failing => {
                let why = client
                    .exceptions(&run.engine_job_id)
                    .await
                    .ok()
                    .and_then(|e| e.into_iter().next())
                    .map_or_else(
                        || "the engine job failed".to_owned(),
                        |e| engine_client::engine_message(&[e.stacktrace]),
                    );
                runs.stop(&run.id, reason::FAILED, Some(&why))
                    .await
                    .map(|_| ())
            }
            _ => Ok(()),
        },
        Err(EngineError::JobNotFound { .. }) => {
            runs.end(
                &run.id,
                reason::FAILED,
                Some("the engine no longer knows the run's job"),
            )
            .await
        }
        Err(e) => {
            tracing::debug!(run = %run.id, error = %e, "cannot read a debug run's engine job");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine_client::script::analyze_debug;

    const SCRIPT: &str = "CREATE TABLE orders (
  id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  ts TIMESTAMP(3),
  seen AS PROCTIME(),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'kafka', 'topic' = 'orders');
CREATE TABLE totals (customer STRING, n BIGINT) WITH ('connector' = 'kafka', 'topic' = 'totals');
INSERT INTO totals SELECT customer, COUNT(*) FROM orders GROUP BY customer;
SELECT * FROM orders WHERE amount > 10;";

    #[test]
    fn sinks_become_captures_samples_feed_sources_and_selects_are_targets() {
        let analysis = analyze_debug(SCRIPT).unwrap();
        let samples = HashMap::from([("orders".to_owned(), "{\"id\":1}\n".to_owned())]);
        let out = rewrite(
            &analysis,
            &samples,
            "http://s/internal/debug-capture/r",
            "tok",
            "g",
        )
        .unwrap();
        let sink = &out.statements[1].text;
        assert!(sink.starts_with("CREATE TABLE totals (customer STRING, n BIGINT) WITH ('connector' = 'sluice-capture', 'url' = 'http://s/internal/debug-capture/r', 'token' = 'tok', 'target' = 'totals')"), "{sink}");
        assert!(!sink.contains("kafka"));
        let source = &out.statements[0].text;
        assert!(
            source.contains("WATERMARK FOR ts"),
            "the schema stays: {source}"
        );
        assert!(
            source.contains(
                "'connector' = 'sluice-sample', 'format' = 'json', 'rows' = 'eyJpZCI6MX0K'"
            ),
            "{source}"
        );
        let targets: Vec<_> = out
            .targets
            .iter()
            .map(|t| (t.target.as_str(), t.statement))
            .collect();
        assert_eq!(targets, [("totals", 3), ("statement:4", 4)]);
    }

    #[test]
    fn ctas_and_undeclared_sinks_are_refused_at_their_statement() {
        let analysis = analyze_debug("CREATE TABLE copy WITH ('connector' = 'print') AS SELECT 1;\nINSERT INTO elsewhere SELECT 1;").unwrap();
        let errors = rewrite(&analysis, &HashMap::new(), "u", "t", "g")
            .err()
            .unwrap();
        assert!(errors[0].message.contains("CTAS"), "{errors:?}");
        assert_eq!((errors[1].line, errors[1].statement), (Some(2), Some(2)));
        assert!(errors[1].message.contains("elsewhere"));
    }

    #[test]
    fn a_sample_is_checked_against_the_tables_physical_columns() {
        let analysis = analyze_debug(SCRIPT).unwrap();
        let columns = physical_columns(&analysis.statements[0]);
        let names: Vec<_> = columns
            .iter()
            .map(|c| (c.name.as_str(), c.data_type.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("id", "BIGINT"),
                ("customer", "STRING"),
                ("amount", "DECIMAL(10, 2)"),
                ("ts", "TIMESTAMP(3)")
            ]
        );

        let csv =
            "id,customer,amount,ts\n1,ann,10.50,2026-01-01 00:00:01\n2,bob,7,2026-01-01T00:00:02\n";
        let sample = read_sample("csv", csv.as_bytes(), 1024).unwrap();
        let lines = sample_rows_for("orders", &columns, &sample, "s").unwrap();
        assert_eq!(lines, "{\"amount\":10.5,\"customer\":\"ann\",\"id\":1,\"ts\":\"2026-01-01 00:00:01\"}\n{\"amount\":7,\"customer\":\"bob\",\"id\":2,\"ts\":\"2026-01-01 00:00:02\"}\n");

        let bad = read_sample("csv", b"id,customer,amount,ts\n1,ann,10,2026-01-01 00:00:01\n2,bob,lots,2026-01-01 00:00:02\n", 1024).unwrap();
        let err = sample_rows_for("orders", &columns, &bad, "s").unwrap_err();
        assert!(
            err.contains("row 2, column `amount`") && err.contains("DECIMAL(10, 2)"),
            "{err}"
        );

        let short = read_sample(
            "jsonl",
            b"{\"id\": 1, \"customer\": \"x\", \"amount\": 1}\n",
            1024,
        )
        .unwrap();
        let err = sample_rows_for("orders", &columns, &short, "s").unwrap_err();
        assert!(err.contains("no column `ts`"), "{err}");

        assert!(read_sample("csv", &[0xff, 0xfe], 1024)
            .unwrap_err()
            .contains("UTF-8"));
        assert!(read_sample("csv", &[b'a'; 2048], 1024)
            .unwrap_err()
            .contains("at most 1024"));
        assert!(read_sample("csv", b"a,b\n1\n", 1024)
            .unwrap_err()
            .contains("row 1"));
    }
}
