//! What the engine is sent for a debug run: the draft with every sink replaced by the
//! runner's capture, sampled sources by the runner's bounded sample connector, and live
//! Kafka sources reading under the run's own consumer group.

use std::collections::HashMap;

use engine_client::script::{Analysis, ScriptError, Statement, StatementKind, Token};
use serde::{Deserialize, Serialize};

use super::samples::physical_columns;

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

#[cfg(test)]
mod tests {
    use super::super::SCRIPT;
    use super::*;
    use engine_client::script::analyze_debug;

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
}
