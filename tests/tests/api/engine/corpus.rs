//! The validation corpus (`tests/corpus/validation/`), on both engine versions: every
//! broken script is refused with its first error at the line and column a person would
//! look for the mistake (its second line, `-- expect: LINE:COLUMN WORDS`, says where,
//! and words its message or hint holds), and every valid script plans. No error of any answer
//! sits at line 1, column 1 unless its script expects it there.
//!
//! The corpus is the engine's and Sluice's reading of SQL, not storage: it runs on
//! SQLite only (the test command runs the suite on PostgreSQL as well).

use std::path::{Path, PathBuf};

use sluice_tests::engine::{flink_1_20_url, local_engine};
use sluice_tests::{backend, json, Backend, Client, TestApp};

struct Script {
    name: String,
    sql: String,
    /// Broken scripts: where the first error must be, and words of its message.
    expect: Option<Expectation>,
}

#[derive(Debug, PartialEq)]
struct Expectation {
    line: u64,
    column: u64,
    says: String,
}

fn corpus(kind: &str) -> Vec<Script> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/validation")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let sql = std::fs::read_to_string(&path).unwrap();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let expect = sql
                .lines()
                .find_map(|l| l.strip_prefix("-- expect: "))
                .map(|e| {
                    parse_expectation(e).unwrap_or_else(|| panic!("{name}: bad expectation {e:?}"))
                });
            Script { name, sql, expect }
        })
        .collect()
}

/// `LINE:COLUMN WORDS...`
fn parse_expectation(text: &str) -> Option<Expectation> {
    let (place, says) = text.split_once(' ').unwrap_or((text, ""));
    let (line, column) = place.split_once(':')?;
    Some(Expectation {
        line: line.parse().ok()?,
        column: column.parse().ok()?,
        says: says.trim().to_owned(),
    })
}

/// Validates every script of the corpus on one cluster (None: the platform's); what
/// did not go as its script says, one line each.
async fn run_corpus(
    owner: &Client,
    project: &str,
    cluster: Option<&str>,
    label: &str,
) -> (Vec<String>, usize) {
    let mut misses = Vec::new();
    let mut landed = 0;
    let broken = corpus("broken");
    let valid = corpus("valid");
    assert!(
        broken.len() >= 30 && valid.len() >= 20,
        "the corpus holds at least 30 broken and 20 valid scripts"
    );
    for script in broken.iter().chain(&valid) {
        let job = owner
            .sql_job(project, &script.name, None, &script.sql)
            .await
            .expect(201)
            .id();
        let report = owner
            .post(
                &format!("/projects/{project}/jobs/{job}/validate"),
                json!({ "cluster_id": cluster }),
            )
            .await
            .expect(200)
            .body;
        let errors = report["errors"].as_array().cloned().unwrap_or_default();
        let place = |e: &serde_json::Value| (e["line"].as_u64(), e["column"].as_u64());
        match &script.expect {
            None => {
                if report["valid"] != true {
                    misses.push(format!(
                        "{label} {}: should plan, got {report}",
                        script.name
                    ));
                }
            }
            Some(expect) => {
                let Some(first) = errors.first() else {
                    misses.push(format!(
                        "{label} {}: accepted, expected an error at {}:{}",
                        script.name, expect.line, expect.column
                    ));
                    continue;
                };
                let message = first["message"].as_str().unwrap_or_default();
                let hint = first["hint"].as_str().unwrap_or_default();
                let at = place(first);
                if at == (Some(expect.line), Some(expect.column))
                    && (message.contains(&expect.says) || hint.contains(&expect.says))
                {
                    landed += 1;
                } else {
                    misses.push(format!(
                        "{label} {}: expected {}:{} saying {:?}, got {:?}:{:?} statement {}: {message} (hint: {hint})",
                        script.name, expect.line, expect.column, expect.says, at.0, at.1, first["statement"]
                    ));
                }
                for error in &errors {
                    if place(error) == (Some(1), Some(1)) && (expect.line, expect.column) != (1, 1)
                    {
                        misses.push(format!(
                            "{label} {}: an error at line 1, column 1: {error}",
                            script.name
                        ));
                    }
                }
            }
        }
    }
    (misses, landed)
}

#[tokio::test]
async fn every_broken_script_is_marked_where_its_mistake_is_and_every_valid_one_plans() {
    let Some(engine) = local_engine() else { return };
    if let Backend::Postgres = backend() {
        return;
    }
    let app = TestApp::spawn_with(|c| engine.configure(c)).await;
    let owner = app.account("Acme").await;
    let mut report = Vec::new();
    let mut misses = Vec::new();

    let project = owner.project("corpus-on-2-3").await;
    let (missed, landed) = run_corpus(&owner, &project, None, "2.3.0").await;
    report.push(format!(
        "Flink 2.3.0: {landed} broken scripts at the expected place"
    ));
    misses.extend(missed);

    if let Some(url) = flink_1_20_url() {
        let cluster = owner.flink_1_20_cluster(&url).await;
        let project = owner.project("corpus-on-1-20").await;
        let (missed, landed) = run_corpus(&owner, &project, Some(&cluster), "1.20.5").await;
        report.push(format!(
            "Flink 1.20.5: {landed} broken scripts at the expected place"
        ));
        misses.extend(missed);
    }
    eprintln!("{}", report.join("\n"));
    assert!(
        misses.is_empty(),
        "{} misses:\n{}",
        misses.len(),
        misses.join("\n")
    );
}

#[test]
fn expectations_read_as_line_column_and_words() {
    assert_eq!(
        parse_expectation("14:3 PRIMARY KEY"),
        Some(Expectation {
            line: 14,
            column: 3,
            says: "PRIMARY KEY".into()
        })
    );
    assert_eq!(
        parse_expectation("2:7"),
        Some(Expectation {
            line: 2,
            column: 7,
            says: String::new()
        })
    );
    assert_eq!(parse_expectation("two:7"), None);
}
