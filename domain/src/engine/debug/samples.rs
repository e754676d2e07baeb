//! Samples a debug run feeds its sources with: CSV or JSON lines, read and checked
//! against the physical columns of the table they stand in for.

use engine_client::script::Statement;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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

#[cfg(test)]
mod tests {
    use super::super::SCRIPT;
    use super::*;
    use engine_client::script::analyze_debug;

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
