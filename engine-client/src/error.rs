//! Engine failures, each a decision for the caller. Flink answers errors as
//! `{"errors": ["summary", "java stack trace ..."]}`; the useful words are usually in
//! the last `Caused by:` of the trace.

use reqwest::StatusCode;

use crate::Subject;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("the engine at {url} cannot be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the engine did not answer {url} in time")]
    Timeout { url: String },
    #[error("the engine has no job {job_id}")]
    JobNotFound { job_id: String },
    #[error("the engine has no jar {jar_id} (the cluster may have restarted)")]
    JarNotFound { jar_id: String },
    /// The program could not be built or started: bad SQL, unknown connector, missing class.
    /// `statement` is the 1-based statement the SQL runner was at (its `[statement N]`
    /// mark) and `part` the 1-based INSERT within it when it is a statement set (`[statement
    /// N, insert K]`); `causes` are the messages of the exception chain, outermost first
    /// and whole (several lines each): positions and table names the deepest one leaves out.
    #[error("the engine refused the program: {message}")]
    InvalidProgram {
        message: String,
        statement: Option<usize>,
        part: Option<usize>,
        causes: Vec<String>,
    },
    #[error("the savepoint failed: {reason}")]
    SavepointFailed { reason: String },
    /// A job with the requested id was already submitted (running or ended): a retried
    /// submission that the engine had in fact accepted.
    #[error("the engine already has a job {job_id}")]
    DuplicateJob { job_id: String },
    /// The engine knows no savepoint or stop operation with this trigger id for the job:
    /// never received, or forgotten since (the engine keeps finished ones for minutes).
    #[error("the engine knows no savepoint operation {trigger_id}")]
    UnknownOperation { trigger_id: String },
    /// Any other 4xx: the request was wrong for the engine's current state.
    #[error("the engine rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// A 5xx that is not about the program.
    #[error("the engine failed ({status}): {message}")]
    Internal { status: u16, message: String },
    #[error("the engine answered {url} with something unreadable: {reason}")]
    Malformed { url: String, reason: String },
}

impl EngineError {
    pub(crate) fn from_transport(url: &str, e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout {
                url: url.to_owned(),
            }
        } else {
            Self::Unreachable {
                url: url.to_owned(),
                reason: e.to_string(),
            }
        }
    }

    /// Whether trying again later may succeed (the engine was down or slow).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Timeout { .. } | Self::Internal { .. } => true,
            Self::JobNotFound { .. }
            | Self::JarNotFound { .. }
            | Self::InvalidProgram { .. }
            | Self::SavepointFailed { .. }
            | Self::DuplicateJob { .. }
            | Self::UnknownOperation { .. }
            | Self::Rejected { .. }
            | Self::Malformed { .. } => false,
        }
    }
}

pub(crate) fn from_status(
    status: StatusCode,
    body: &str,
    url: &str,
    subject: Subject<'_>,
) -> EngineError {
    let errors: Vec<String> = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("errors").cloned())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_else(|| vec![body.to_owned()]);
    let message = engine_message(&errors);
    if let Subject::Operation { trigger_id, .. } = subject {
        if errors.iter().any(|e| e.contains("no savepoint operation")) {
            return EngineError::UnknownOperation {
                trigger_id: trigger_id.to_owned(),
            };
        }
    }
    if status == StatusCode::NOT_FOUND {
        match subject {
            Subject::Operation { job_id, .. } => {
                return EngineError::JobNotFound {
                    job_id: job_id.to_owned(),
                }
            }
            Subject::Job(job_id) => {
                return EngineError::JobNotFound {
                    job_id: job_id.to_owned(),
                }
            }
            Subject::Jar(jar_id) | Subject::Run { jar_id, .. } => {
                return EngineError::JarNotFound {
                    jar_id: jar_id.to_owned(),
                }
            }
            Subject::None => {}
        }
    }
    // A missing jar on run/plan comes back as a 400 naming the jar file.
    if let Subject::Jar(jar_id) | Subject::Run { jar_id, .. } = subject {
        if errors
            .iter()
            .any(|e| e.contains("Jar file") && e.contains("does not exist"))
        {
            return EngineError::JarNotFound {
                jar_id: jar_id.to_owned(),
            };
        }
    }
    // 2.x says Application, 1.x Job: either way the id is taken.
    if let Subject::Run {
        job_id: Some(job_id),
        ..
    } = subject
    {
        if errors.iter().any(|e| {
            e.contains("DuplicateApplicationSubmissionException")
                || e.contains("DuplicateJobSubmissionException")
        }) {
            return EngineError::DuplicateJob {
                job_id: job_id.to_owned(),
            };
        }
    }
    let program_failed = errors.iter().any(|e| {
        e.contains("ProgramInvocationException")
            || e.contains("Could not execute application")
            || e.contains("ValidationException")
            || e.contains("SqlParserException")
            || e.contains("ClassNotFoundException")
            || e.contains("Could not find any factory")
    });
    if program_failed && matches!(subject, Subject::Jar(_) | Subject::Run { .. }) {
        let trace = errors.join("\n");
        let (statement, part) = statement_mark(&trace).unzip();
        return EngineError::InvalidProgram {
            message,
            statement,
            part: part.flatten(),
            causes: errors.iter().flat_map(|e| exception_chain(e)).collect(),
        };
    }
    if status.is_server_error() {
        EngineError::Internal {
            status: status.as_u16(),
            message,
        }
    } else if status.is_client_error() {
        EngineError::Rejected {
            status: status.as_u16(),
            message,
        }
    } else {
        EngineError::Malformed {
            url: url.to_owned(),
            reason: format!("unexpected status {status}: {message}"),
        }
    }
}

/// The engine's own explanation: the last `Caused by:` of the stack trace, without the
/// exception class, else the first error line.
pub fn engine_message(errors: &[String]) -> String {
    let trace = errors.join("\n");
    if let Some(failure) = python_failure(&trace) {
        return failure;
    }
    let last_cause = trace
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Caused by: "))
        .next_back();
    let line = last_cause
        .or_else(|| {
            errors
                .first()
                .map(|e| e.lines().next().unwrap_or("").trim())
        })
        .unwrap_or("no details given");
    strip_exception_class(line).to_owned()
}

/// What a Python program's own traceback says, when the driver reports one (the
/// driver's exception only says the process exited): its last error, and the line of
/// the job's script it came from, as "... (line N of the script)".
fn python_failure(trace: &str) -> Option<String> {
    let out = trace.split("System.out: ").nth(1)?;
    let out = out.split("System.err:").next().unwrap_or(out);
    if !out.contains("Traceback (most recent call last)") {
        return None;
    }
    // The script's own error, or for a call into Flink (Py4JJavaError) the Java
    // exception printed after it (`: org...Exception: ...`), deepest cause last.
    let error = out
        .lines()
        .map(str::trim)
        .map(|l| {
            l.strip_prefix("Caused by: ")
                .or_else(|| l.strip_prefix(": "))
                .unwrap_or(l)
        })
        .rfind(|l| {
            l.split_once(": ").is_some_and(|(name, _)| {
                !name.contains(' ') && (name.ends_with("Error") || name.ends_with("Exception"))
            })
        })?;
    // `pyflink.util.exceptions.TableException: org.apache...TableException: words`.
    let mut words = error;
    loop {
        let shorter = strip_exception_class(words);
        if shorter == words {
            break;
        }
        words = shorter;
    }
    let line = out.rmatch_indices(SCRIPT_FILE).next().and_then(|(at, _)| {
        let digits: String = out[at + SCRIPT_FILE.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse::<u64>().ok()
    });
    Some(match line {
        Some(n) => format!("{words} (line {n} of the script)"),
        None => words.to_owned(),
    })
}

/// How a Python traceback names a line of the job's script (Sluice runs it as the
/// module `sluice_script`).
const SCRIPT_FILE: &str = "sluice_script.py\", line ";

/// The line of the job's script a Python failure names ("... (line N of the script)").
pub fn python_script_line(message: &str) -> Option<u64> {
    let rest = message.rsplit("(line ").next()?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    rest[digits.len()..]
        .starts_with(" of the script)")
        .then(|| digits.parse().ok())
        .flatten()
}

/// The SQL runner marks a failing statement as `[statement N]` in its exception, and an
/// INSERT of a statement set as `[statement N, insert K]`.
fn statement_mark(trace: &str) -> Option<(usize, Option<usize>)> {
    let rest = &trace[trace.find("[statement ")? + 11..];
    let number = |text: &str| -> Option<(usize, usize)> {
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        Some((digits.parse().ok()?, digits.len()))
    };
    let (statement, len) = number(rest)?;
    let part = rest[len..]
        .strip_prefix(", insert ")
        .and_then(number)
        .map(|(k, _)| k);
    Some((statement, part))
}

/// The messages of a Java stack trace's exceptions, outermost first, each whole (a
/// message may run over several lines, up to the first `at` frame) and without its
/// exception class.
pub fn exception_chain(trace: &str) -> Vec<String> {
    let mut chain: Vec<String> = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    let finish = |lines: Option<Vec<&str>>, chain: &mut Vec<String>| {
        if let Some(lines) = lines {
            let text = lines.join("\n");
            let text = strip_exception_class(text.trim()).trim().to_owned();
            if !text.is_empty() {
                chain.push(text);
            }
        }
    };
    for line in trace.lines() {
        let trimmed = line.trim_start();
        let is_frame = trimmed.starts_with("at ") && line.starts_with(char::is_whitespace)
            || trimmed.starts_with("... ") && trimmed.ends_with(" more");
        if let Some(cause) = trimmed.strip_prefix("Caused by: ") {
            finish(current.take(), &mut chain);
            current = Some(vec![cause]);
        } else if is_frame || trimmed.starts_with("Suppressed: ") {
            finish(current.take(), &mut chain);
        } else if let Some(lines) = current.as_mut() {
            lines.push(line);
        } else if chain.is_empty() {
            // The trace's first exception (no "Caused by:" before it).
            current = Some(vec![line]);
        }
    }
    finish(current, &mut chain);
    chain
}

/// `org.apache.flink.table.api.ValidationException: Could not find ...` -> `Could not find ...`.
fn strip_exception_class(line: &str) -> &str {
    match line.split_once(": ") {
        Some((class, rest)) if class.contains('.') && !class.contains(' ') => rest.trim(),
        _ => line.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_call_into_flink_gives_the_java_exceptions_deepest_cause() {
        let errors = vec![
            "x\nSystem.out: Traceback (most recent call last):\n  File \"/tmp/sluice_script.py\", line 15, in main\npy4j.protocol.Py4JJavaError: An error occurred while calling o19.executeSql.\n: org.apache.flink.table.api.SqlParserException: SQL parse failed. Encountered \"TABL\"\n\tat org.apache.flink.Foo.bar(Foo.java:1)\nCaused by: org.apache.calcite.sql.parser.SqlParseException: Encountered \"TABL\" at line 2, column 16.\n\tat x\n\nSystem.err: (none)".to_owned(),
        ];
        assert_eq!(
            engine_message(&errors),
            "Encountered \"TABL\" at line 2, column 16. (line 15 of the script)"
        );
    }

    #[test]
    fn a_python_programs_traceback_gives_its_error_and_script_line() {
        let errors = vec![
            "org.apache.flink.client.program.ProgramInvocationException: The program main method caused an error: Python process exits with code: 1\nClasspath: [x]\n\nSystem.out: Traceback (most recent call last):\n  File \"<frozen runpy>\", line 88, in _run_code\n  File \"/tmp/pyflink/a/b_py/sluice_script.py\", line 12, in <module>\n    t_env.execute_sql(\"CREATE TABL x\")\npyflink.util.exceptions.TableException: org.apache.flink.table.api.SqlParserException: SQL parse failed. Encountered \"TABL\"\n\n\nSystem.err: (none)\nCaused by: java.lang.RuntimeException: Python process exits with code: 1".to_owned(),
        ];
        let message = engine_message(&errors);
        assert_eq!(
            message,
            "SQL parse failed. Encountered \"TABL\" (line 12 of the script)"
        );
        assert_eq!(python_script_line(&message), Some(12));
        assert_eq!(python_script_line("Could not find (line x)"), None);
    }

    #[test]
    fn the_last_cause_is_the_engines_message() {
        let errors = vec![
            "org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.".to_owned(),
            "org.apache.flink.client.program.ProgramInvocationException: The main method caused an error\n\tat x.y(Z.java:1)\nCaused by: org.apache.flink.table.api.ValidationException: Unable to create a source\nCaused by: org.apache.flink.table.api.ValidationException: Could not find any factory for identifier 'nope' that implements 'org.apache.flink.table.factories.DynamicTableFactory' in the classpath.\n\tat a.b(C.java:2)".to_owned(),
        ];
        assert_eq!(
            engine_message(&errors),
            "Could not find any factory for identifier 'nope' that implements 'org.apache.flink.table.factories.DynamicTableFactory' in the classpath."
        );
    }

    #[test]
    fn without_a_cause_the_first_line_is_kept() {
        assert_eq!(
            engine_message(&["Job abc not found".to_owned()]),
            "Job abc not found"
        );
        assert_eq!(engine_message(&[]), "no details given");
    }

    #[test]
    fn a_taken_job_id_and_an_unknown_trigger_are_recognised() {
        let taken = r#"{"errors":["Could not execute application.", "x\nCaused by: org.apache.flink.runtime.client.DuplicateApplicationSubmissionException: Application has already been submitted."]}"#;
        let run = Subject::Run {
            jar_id: "j",
            job_id: Some("511ce0"),
        };
        assert_eq!(
            from_status(StatusCode::BAD_REQUEST, taken, "u", run),
            EngineError::DuplicateJob {
                job_id: "511ce0".into()
            }
        );
        let taken_1x = r#"{"errors":["x\nCaused by: org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted."]}"#;
        assert!(matches!(
            from_status(StatusCode::BAD_REQUEST, taken_1x, "u", run),
            EngineError::DuplicateJob { .. }
        ));
        let unknown = r#"{"errors":["org.apache.flink.runtime.rest.handler.RestHandlerException: There is no savepoint operation with triggerId=t for job 1."]}"#;
        let operation = Subject::Operation {
            job_id: "1",
            trigger_id: "t",
        };
        assert_eq!(
            from_status(StatusCode::NOT_FOUND, unknown, "u", operation),
            EngineError::UnknownOperation {
                trigger_id: "t".into()
            }
        );
        let gone =
            r#"{"errors":["org.apache.flink.runtime.rest.NotFoundException: Job 1 not found"]}"#;
        assert_eq!(
            from_status(StatusCode::NOT_FOUND, gone, "u", operation),
            EngineError::JobNotFound { job_id: "1".into() }
        );
    }

    #[test]
    fn the_exception_chain_keeps_every_message_whole() {
        let trace = "org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: [statement 3, insert 2] Unable to create a source for reading table 'default_catalog.default_database.orders'.\n\nTable options are:\n\n'connector'='datagen'\n\tat org.apache.flink.Foo.bar(Foo.java:1)\n\t... 12 more\nCaused by: org.apache.flink.table.api.ValidationException: Unsupported options found for 'datagen'.\n\nUnsupported options:\n\nrows-per-secnd\n\tat x.y(Z.java:2)";
        let chain = exception_chain(trace);
        assert_eq!(chain.len(), 2, "{chain:?}");
        assert!(chain[0].starts_with("The main method caused an error: [statement 3, insert 2] Unable to create a source for reading table 'default_catalog.default_database.orders'."));
        assert!(chain[0].ends_with("'connector'='datagen'"), "{chain:?}");
        assert_eq!(
            chain[1],
            "Unsupported options found for 'datagen'.\n\nUnsupported options:\n\nrows-per-secnd"
        );
        assert_eq!(statement_mark(trace), Some((3, Some(2))));
        assert_eq!(statement_mark("[statement 12] x"), Some((12, None)));
    }

    #[test]
    fn statuses_map_to_decisions() {
        let body =
            r#"{"errors":["org.apache.flink.runtime.rest.NotFoundException: Job 1 not found"]}"#;
        assert_eq!(
            from_status(StatusCode::NOT_FOUND, body, "u", Subject::Job("1")),
            EngineError::JobNotFound { job_id: "1".into() }
        );
        let body = r#"{"errors":["Could not execute application.", "x\nCaused by: org.apache.flink.sql.parser.impl.ParseException: Encountered \"FROMM\" at line 1, column 10."]}"#;
        assert_eq!(
            from_status(StatusCode::BAD_REQUEST, body, "u", Subject::Jar("j")),
            EngineError::InvalidProgram {
                message: "Encountered \"FROMM\" at line 1, column 10.".into(),
                statement: None,
                part: None,
                causes: vec![
                    "Could not execute application.".into(),
                    "x".into(),
                    "Encountered \"FROMM\" at line 1, column 10.".into()
                ],
            }
        );
        let marked = r#"{"errors":["Could not execute application.", "sluice.SqlRunner$StatementFailed: [statement 2] x\nCaused by: org.apache.flink.table.api.ValidationException: Object 'nope' not found"]}"#;
        assert_eq!(
            from_status(StatusCode::BAD_REQUEST, marked, "u", Subject::Jar("j")),
            EngineError::InvalidProgram {
                message: "Object 'nope' not found".into(),
                statement: Some(2),
                part: None,
                causes: vec![
                    "Could not execute application.".into(),
                    "[statement 2] x".into(),
                    "Object 'nope' not found".into()
                ],
            }
        );
        assert!(matches!(
            from_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "oops",
                "u",
                Subject::None
            ),
            EngineError::Internal { status: 500, .. }
        ));
    }
}
