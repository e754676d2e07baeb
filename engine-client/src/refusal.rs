//! Where in a script an engine's refusal belongs. The engine's words rarely say it
//! plainly: Calcite gives a position within the statement the SQL runner sent ("at line
//! 2, column 7", "From line 2, column 7 to ..."), relative to that statement (or to one
//! INSERT of a statement set); a failure while the job is translated as a whole names a
//! table ("Unable to create a sink for writing table '...'", "Column types of query
//! result and sink for '...'"), and some name nothing but a word of the statement. This
//! turns each into the script's line and column of the token a person would fix, with a
//! hint where the words alone mislead (a likely typo of a keyword, a reserved word used
//! as a name, a trailing comma), and says so when nothing can be pointed at.

use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::script::{engine_position, Analysis, ScriptError, Statement, StatementKind};

/// What the engine said about a program it refused (`EngineError::InvalidProgram`).
pub struct Refusal<'a> {
    /// The deepest cause's words.
    pub message: &'a str,
    /// The SQL runner's mark: the statement, and the INSERT of a statement set.
    pub statement: Option<usize>,
    pub part: Option<usize>,
    /// The exception chain's messages, outermost first.
    pub causes: &'a [String],
}

/// Said of an error no statement of the script can be found for.
pub const NO_POSITION: &str =
    "the engine gave no position for this error and it names no statement of the script";

/// The error as the script's reader needs it: the engine's message, at its place.
pub fn place(analysis: &Analysis, refusal: &Refusal<'_>) -> ScriptError {
    let message = refusal.message;
    let words = refusal.causes.join("\n");
    // A table the engine could not make a source or sink of: its CREATE TABLE's options
    // are at fault, not the INSERT whose translation found out.
    if let Some(ddl) = table_not_created(&words).and_then(|t| declaring(analysis, &t)) {
        let (token, hint) = in_declaration(ddl, &words);
        return error_at(message, ddl, token, hint);
    }
    if let Some(place) = unknown_factory(&words).and_then(|id| option_value(analysis, &id)) {
        let (ddl, token) = place;
        return error_at(message, ddl, Some(token), None);
    }
    let statement = refusal
        .statement
        .and_then(|i| analysis.statements.iter().find(|s| s.index == i))
        .or_else(|| writing_named_sink(analysis, &words));
    let Some(statement) = statement else {
        return ScriptError::unplaced(message).with_hint(NO_POSITION);
    };
    let tokens = part_tokens(statement, refusal.part);
    if let Some((line, column)) = refusal.causes.iter().find_map(|c| engine_position(c)) {
        let (line, column) = from_sent(tokens, statement, line, column);
        return parse_error_at(message, statement, tokens, line, column, &words);
    }
    let (token, hint) = named_token(statement, tokens, &words);
    error_at(message, statement, token.or(tokens.first()), hint)
}

fn error_at(
    message: &str,
    statement: &Statement,
    token: Option<&TokenWithSpan>,
    hint: Option<String>,
) -> ScriptError {
    let at = token.map_or((statement.line, statement.column), |t| {
        (t.span.start.line, t.span.start.column)
    });
    let error = ScriptError::at(message, at, Some(statement.index));
    match hint {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

/// The tokens the runner sent as one piece: the statement's, or those of the `part`-th
/// INSERT of its statement set (`EXECUTE STATEMENT SET BEGIN ...; ...; END`), or after
/// `EXECUTE` of `EXECUTE INSERT`.
fn part_tokens(statement: &Statement, part: Option<usize>) -> &[TokenWithSpan] {
    let tokens = statement.tokens.as_slice();
    let Some(part) = part else {
        if statement.kind == StatementKind::StatementSet && is_word(tokens.get(1), "INSERT") {
            return &tokens[1..];
        }
        return tokens;
    };
    let Some(begin) = tokens.iter().position(|t| is_word(Some(t), "BEGIN")) else {
        return tokens;
    };
    let mut start = begin + 1;
    let mut seen = 0;
    for (i, t) in tokens.iter().enumerate().skip(begin + 1) {
        let ends = matches!(t.token, Token::SemiColon) || is_word(Some(t), "END");
        if ends {
            if i > start {
                seen += 1;
                if seen == part {
                    return &tokens[start..i];
                }
            }
            start = i + 1;
        }
    }
    tokens
}

/// The script's line and column of a position within the text the runner sent (which
/// starts at the first of `tokens`).
fn from_sent(
    tokens: &[TokenWithSpan],
    statement: &Statement,
    line: u64,
    column: u64,
) -> (u64, u64) {
    let start = tokens
        .first()
        .map_or((statement.line, statement.column), |t| {
            (t.span.start.line, t.span.start.column)
        });
    crate::script::locate_from(start, line, column)
}

/// A position the engine gave; for a parse error, the token a person would fix when the
/// one the parser stumbled on is only where it noticed.
fn parse_error_at(
    message: &str,
    statement: &Statement,
    tokens: &[TokenWithSpan],
    line: u64,
    column: u64,
    words: &str,
) -> ScriptError {
    let here = tokens
        .iter()
        .position(|t| (t.span.start.line, t.span.start.column) == (line, column));
    let error = |token: &TokenWithSpan, hint: Option<String>| {
        let error = ScriptError::at(
            message,
            (token.span.start.line, token.span.start.column),
            Some(statement.index),
        );
        match hint {
            Some(hint) => error.with_hint(hint),
            None => error,
        }
    };
    let Some(i) = here else {
        return ScriptError::at(message, (line, column), Some(statement.index));
    };
    let token = &tokens[i];
    let before = i.checked_sub(1).map(|j| &tokens[j]);
    if words.contains("Encountered") {
        if matches!(token.token, Token::RParen) {
            if let Some(comma) = before.filter(|t| matches!(t.token, Token::Comma)) {
                return error(
                    comma,
                    Some("remove this comma: nothing follows it before `)`".to_owned()),
                );
            }
        }
        if let Some(typo) = before.filter(|b| near_keyword(Some(b)).is_some()) {
            return error(typo, near_keyword(Some(typo)));
        }
        if let Token::Word(w) = &token.token {
            let word = w.value.to_ascii_uppercase();
            if STATEMENT_STARTS.contains(&word.as_str()) && i > 0 {
                return error(
                    token,
                    Some(format!(
                        "a `;` is missing before this {word}: each statement ends with one"
                    )),
                );
            }
            let names_here = before.is_some_and(|b| {
                matches!(b.token, Token::LParen | Token::Comma | Token::Period)
                    || NAME_BEFORE.iter().any(|k| is_word(Some(b), k))
            });
            if names_here && w.quote_style.is_none() {
                return error(
                    token,
                    Some(format!(
                        "{} is a reserved word in Flink SQL: to use it as a name, quote it as `{}`",
                        w.value, w.value
                    )),
                );
            }
        }
    }
    // "Non-query expression encountered in illegal context": a misspelt SELECT.
    let hint = words
        .contains("encountered")
        .then(|| near_keyword(Some(token)))
        .flatten();
    error(token, hint)
}

/// Keywords that start a statement: met where a statement goes on, the `;` before is missing.
const STATEMENT_STARTS: &[&str] = &[
    "CREATE", "INSERT", "SET", "RESET", "EXECUTE", "USE", "DROP", "ALTER", "ADD",
];

/// Words after which the parser expects a name.
const NAME_BEFORE: &[&str] = &["TABLE", "VIEW", "AS", "FROM", "JOIN", "INTO"];

/// Keywords a typo is likely to be of.
const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "ORDER",
    "HAVING",
    "INSERT",
    "INTO",
    "CREATE",
    "TABLE",
    "VIEW",
    "WITH",
    "UNION",
    "VALUES",
    "WATERMARK",
    "PRIMARY",
    "INTERVAL",
    "PARTITION",
    "DISTINCT",
    "BETWEEN",
    "CAST",
    "JOIN",
    "INNER",
    "OUTER",
    "LEFT",
    "RIGHT",
    "LIMIT",
    "WHEN",
    "THEN",
    "ELSE",
    "CASE",
    "EXECUTE",
    "STATEMENT",
    "BEGIN",
    "TEMPORARY",
    "FUNCTION",
    "ENFORCED",
    "DESCRIPTOR",
];

/// "did you mean FROM?" for a plain word one edit away from a keyword (FORM, SELEC, TABEL).
fn near_keyword(token: Option<&TokenWithSpan>) -> Option<String> {
    let Token::Word(w) = &token?.token else {
        return None;
    };
    if w.quote_style.is_some() || w.value.len() < 4 {
        return None;
    }
    let word = w.value.to_ascii_uppercase();
    // A keyword, or a keyword's plural: a name (ORDERS, TABLES), not a typo.
    if KEYWORDS.contains(&word.as_str())
        || word
            .strip_suffix('S')
            .is_some_and(|w| KEYWORDS.contains(&w))
    {
        return None;
    }
    KEYWORDS
        .iter()
        .find(|k| one_edit_apart(&word, k))
        .map(|k| format!("{} is not a keyword: did you mean {k}?", w.value))
}

/// Whether one insertion, deletion, substitution or swap of neighbours turns `a` into `b`.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match (ra.len(), rb.len()) {
        (0, 0) => false,
        (x, y) if x == y => {
            ra[1..] == rb[1..] || (x >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        (x, y) if x + 1 == y => ra == &rb[1..],
        (x, y) if y + 1 == x => &ra[1..] == rb,
        _ => false,
    }
}

fn is_word(token: Option<&TokenWithSpan>, word: &str) -> bool {
    matches!(token.map(|t| &t.token), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// The last part of a table path the engine quotes: `'cat.db.t'`, `` '`cat`.`db`.`t`' ``.
fn table_name(path: &str) -> String {
    path.rsplit('.')
        .next()
        .unwrap_or(path)
        .trim_matches('`')
        .to_owned()
}

/// The quoted text after `prefix` in the engine's words.
fn quoted_after<'a>(words: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &words[words.find(prefix)? + prefix.len()..];
    let rest = rest.strip_prefix('\'')?;
    rest.split('\'').next().filter(|q| !q.is_empty())
}

/// The table of "Unable to create a source for reading table '...'" (or a sink for writing).
fn table_not_created(words: &str) -> Option<String> {
    quoted_after(words, "Unable to create a source for reading table ")
        .or_else(|| quoted_after(words, "Unable to create a sink for writing table "))
        .map(table_name)
}

/// The CREATE TABLE of the script that declares `table`.
fn declaring<'a>(analysis: &'a Analysis, table: &str) -> Option<&'a Statement> {
    analysis
        .statements
        .iter()
        .filter(|s| s.kind == StatementKind::Ddl)
        .find(|s| s.created_name().is_some_and(|t| name_is(t, table)))
}

fn name_is(token: &TokenWithSpan, name: &str) -> bool {
    matches!(&token.token, Token::Word(w) if w.value.eq_ignore_ascii_case(name))
}

/// Within a table's declaration, the token the engine's complaint is about.
fn in_declaration<'a>(
    ddl: &'a Statement,
    words: &str,
) -> (Option<&'a TokenWithSpan>, Option<String>) {
    let tokens = &ddl.tokens;
    if let Some(id) = unknown_factory(words) {
        if let Some(value) = option_value_in(ddl, &id) {
            return (Some(value), None);
        }
    }
    if let Some(key) = words
        .split("Unsupported options:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
    {
        if let Some(found) = option_key(ddl, key) {
            return (
                Some(found),
                Some(format!(
                    "'{key}' is not an option of this connector (a typo?)"
                )),
            );
        }
    }
    if let Some(missing) = words.split("Missing required options are:").nth(1) {
        // The option names, one a line, after a blank line and up to the next.
        let missing: Vec<&str> = missing
            .lines()
            .map(str::trim)
            .skip_while(|l| l.is_empty())
            .take_while(|l| !l.is_empty() && !l.contains(' '))
            .collect();
        let hint = format!("this connector also needs: {}", missing.join(", "));
        return (
            option_key(ddl, "connector").or_else(|| ddl.created_name()),
            Some(hint),
        );
    }
    if let (Some(value), Some(key)) = (
        quoted_after(words, "Could not parse value "),
        words
            .split("Could not parse value ")
            .nth(1)
            .and_then(|rest| quoted_after(rest, "for key ")),
    ) {
        let literal = option_key(ddl, key).and_then(|k| {
            let i = tokens.iter().position(|t| std::ptr::eq(t, k))?;
            tokens
                .get(i + 2)
                .filter(|v| matches!(&v.token, Token::SingleQuotedString(s) if s == value))
        });
        if literal.is_some() {
            return (literal, None);
        }
    }
    if words.contains("PRIMARY KEY") {
        if let Some(primary) = tokens.iter().find(|t| is_word(Some(t), "PRIMARY")) {
            return (Some(primary), None);
        }
    }
    (ddl.created_name(), None)
}

/// The `'key'` literal of an option `'key' = '...'` in a statement.
fn option_key<'a>(statement: &'a Statement, key: &str) -> Option<&'a TokenWithSpan> {
    statement
        .tokens
        .windows(2)
        .find_map(|w| match (&w[0].token, &w[1].token) {
            (Token::SingleQuotedString(k), Token::Eq) if k == key => Some(&w[0]),
            _ => None,
        })
}

/// The identifier of "Could not find any factory for identifier 'x' ..." or "Could not
/// find any format factory for identifier 'x' ..." (the engine's words for a connector
/// or format it does not have).
pub fn unknown_factory(words: &str) -> Option<String> {
    let rest = words.split("Could not find any ").nth(1)?;
    let id = rest
        .split("factory for identifier '")
        .nth(1)?
        .split('\'')
        .next()?;
    (!id.is_empty()).then(|| id.to_owned())
}

/// The value literal of a `'connector'` or `'…format'` option naming `id`, in a statement.
fn option_value_in<'a>(statement: &'a Statement, id: &str) -> Option<&'a TokenWithSpan> {
    statement
        .tokens
        .windows(3)
        .find_map(|w| match (&w[0].token, &w[1].token, &w[2].token) {
            (Token::SingleQuotedString(k), Token::Eq, Token::SingleQuotedString(v))
                if v == id && (k == "connector" || k.ends_with("format")) =>
            {
                Some(&w[2])
            }
            _ => None,
        })
}

/// The first statement with an option naming `id`, and that option's value.
fn option_value<'a>(
    analysis: &'a Analysis,
    id: &str,
) -> Option<(&'a Statement, &'a TokenWithSpan)> {
    analysis
        .statements
        .iter()
        .find_map(|s| option_value_in(s, id).map(|t| (s, t)))
}

/// The INSERT writing the sink a message names ("sink for 'x'", "Table sink 'x'").
fn writing_named_sink<'a>(analysis: &'a Analysis, words: &str) -> Option<&'a Statement> {
    let sink = quoted_after(words, "sink for ").or_else(|| quoted_after(words, "Table sink "))?;
    let name = table_name(sink);
    analysis
        .statements
        .iter()
        .find(|s| insert_target(&s.tokens).is_some_and(|t| name_is(t, &name)))
}

/// The table token of `INSERT INTO|OVERWRITE name` (the last part of a dotted name).
fn insert_target(tokens: &[TokenWithSpan]) -> Option<&TokenWithSpan> {
    let at = tokens
        .iter()
        .position(|t| is_word(Some(t), "INTO") || is_word(Some(t), "OVERWRITE"))?;
    let mut at = at + 1;
    while matches!(tokens.get(at + 1).map(|t| &t.token), Some(Token::Period)) {
        at += 2;
    }
    tokens.get(at)
}

/// The token of a statement (or INSERT of a set) a position-less message is about, and
/// a hint when the words alone would mislead.
fn named_token<'a>(
    statement: &'a Statement,
    tokens: &'a [TokenWithSpan],
    words: &str,
) -> (Option<&'a TokenWithSpan>, Option<String>) {
    let target = insert_target(tokens);
    // "Non-query expression encountered in illegal context": what follows the INSERT's
    // target (and its column list) is not a query, most often a misspelt SELECT.
    if words.contains("Non-query expression") {
        if let Some(query) = target.and_then(|t| after_target(tokens, t)) {
            let hint = near_keyword(Some(query)).unwrap_or_else(|| {
                "an INSERT takes a query here: SELECT ..., VALUES (...) or WITH ...".to_owned()
            });
            return (Some(query), Some(hint));
        }
    }
    // A window TVF's time column that is no time attribute: the one in DESCRIPTOR(...).
    if words.contains("DESCRIPTOR(timecol)") {
        if let Some(i) = tokens.iter().position(|t| is_word(Some(t), "DESCRIPTOR")) {
            let column = tokens.get(i + 2);
            let hint = column.map(|c| format!(
                "{} is not a time attribute: a window needs a column declared with WATERMARK FOR (event time) or AS PROCTIME() (processing time)",
                c.token
            ));
            return (column, hint);
        }
    }
    (named_in(statement, tokens, target, words), None)
}

/// The first token after an INSERT's target and its optional column list.
fn after_target<'a>(
    tokens: &'a [TokenWithSpan],
    target: &TokenWithSpan,
) -> Option<&'a TokenWithSpan> {
    let at = tokens.iter().position(|t| std::ptr::eq(t, target))? + 1;
    if !matches!(tokens.get(at).map(|t| &t.token), Some(Token::LParen)) {
        return tokens.get(at);
    }
    let mut depth = 0;
    for (i, t) in tokens.iter().enumerate().skip(at) {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return tokens.get(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn named_in<'a>(
    statement: &'a Statement,
    tokens: &'a [TokenWithSpan],
    target: Option<&'a TokenWithSpan>,
    words: &str,
) -> Option<&'a TokenWithSpan> {
    // About the sink: the INSERT's target.
    let about_the_sink = quoted_after(words, "sink for ").is_some()
        || quoted_after(words, "Table sink ").is_some()
        || words.contains("sink table");
    if about_the_sink && target.is_some() {
        return target;
    }
    if statement.kind == StatementKind::Ddl {
        // A watermark's time column.
        if words.to_ascii_lowercase().contains("watermark") {
            if let Some(i) = tokens.iter().position(|t| is_word(Some(t), "WATERMARK")) {
                if is_word(tokens.get(i + 1), "FOR") {
                    return tokens.get(i + 2);
                }
            }
        }
        if words.contains("already exists") {
            return statement.created_name();
        }
    }
    // A name the message quotes, where it is written in the statement.
    let mut rest = words;
    while let Some(at) = rest.find('\'') {
        let after = &rest[at + 1..];
        let Some(end) = after.find('\'') else { break };
        let quoted = &after[..end];
        rest = &after[end + 1..];
        let name = table_name(quoted);
        if !name.is_empty() && !name.contains(' ') {
            if let Some(t) = tokens.iter().find(|t| name_is(t, &name)) {
                return Some(t);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::analyze;

    fn placed(
        script: &str,
        statement: Option<usize>,
        part: Option<usize>,
        causes: &[&str],
    ) -> ScriptError {
        let analysis = analyze(script).unwrap();
        let causes: Vec<String> = causes.iter().map(|c| (*c).to_owned()).collect();
        place(
            &analysis,
            &Refusal {
                message: causes.last().unwrap(),
                statement,
                part,
                causes: &causes,
            },
        )
    }

    const TABLES: &str = "CREATE TABLE src (x BIGINT, name STRING) WITH ('connector' = 'datagen');\nCREATE TABLE snk (x BIGINT) WITH ('connector' = 'print');\n";

    #[test]
    fn calcites_position_is_taken_from_the_statement_the_runner_sent() {
        let script = format!("{TABLES}INSERT INTO snk\nSELECT nope(x) FROM src;");
        let error = placed(
            &script,
            Some(3),
            None,
            &["[statement 3] SQL validation failed. From line 2, column 8 to line 2, column 14: No match found", "No match found for function signature nope(<NUMERIC>)"],
        );
        assert_eq!(
            (error.line, error.column, error.statement),
            (Some(4), Some(8), Some(3))
        );
    }

    #[test]
    fn a_position_in_a_statement_sets_insert_is_relative_to_that_insert() {
        let script = format!("{TABLES}EXECUTE STATEMENT SET BEGIN\n  INSERT INTO snk SELECT x FROM src;\n  INSERT INTO snk SELECT nope FROM src;\nEND;");
        let error = placed(
            &script,
            Some(3),
            Some(2),
            &["From line 1, column 24 to line 1, column 27: Column 'nope' not found in any table"],
        );
        assert_eq!((error.line, error.column), (Some(5), Some(26)));
    }

    #[test]
    fn a_sink_mismatch_without_a_mark_is_the_insert_target() {
        let script = format!("{TABLES}INSERT INTO snk SELECT name FROM src;");
        let error = placed(&script, None, None, &["Column types of query result and sink for 'default_catalog.default_database.snk' do not match."]);
        assert_eq!(
            (error.line, error.column, error.statement),
            (Some(3), Some(13), Some(3))
        );
    }

    #[test]
    fn options_the_engine_refuses_are_marked_in_the_tables_declaration() {
        let script = "CREATE TABLE src (x BIGINT) WITH (\n  'connector' = 'datagen',\n  'rows-per-secnd' = '1');\nCREATE TABLE snk (x BIGINT) WITH ('connector' = 'print');\nINSERT INTO snk SELECT x FROM src;";
        let error = placed(script, Some(3), None, &["[statement 3] Unable to create a source for reading table 'default_catalog.default_database.src'.\n\nTable options are: ...", "Unsupported options found for 'datagen'.\n\nUnsupported options:\n\nrows-per-secnd\n\nSupported options:\n\nconnector"]);
        assert_eq!(
            (error.line, error.column, error.statement),
            (Some(3), Some(3), Some(1))
        );
        assert!(error.hint.unwrap().contains("rows-per-secnd"));
    }

    #[test]
    fn with_no_statement_to_be_found_the_error_says_so_instead_of_pointing_at_line_one() {
        let error = placed(
            &format!("{TABLES}INSERT INTO snk SELECT x FROM src;"),
            None,
            None,
            &["Something failed in the cluster"],
        );
        assert_eq!(
            (error.line, error.column, error.statement),
            (None, None, None)
        );
        assert_eq!(error.hint.as_deref(), Some(NO_POSITION));
    }

    #[test]
    fn parse_errors_point_at_the_typo_the_comma_or_the_reserved_word() {
        let script = format!("{TABLES}INSERT INTO snk\nSELECT x FORM src;");
        let error = placed(
            &script,
            Some(3),
            None,
            &["Encountered \"src\" at line 2, column 15."],
        );
        assert_eq!((error.line, error.column), (Some(4), Some(10)));
        assert!(error.hint.unwrap().contains("did you mean FROM"));

        let script = "CREATE TABLE src (x BIGINT,\n) WITH ('connector' = 'datagen');\nINSERT INTO snk SELECT x FROM src;";
        let error = placed(
            script,
            Some(1),
            None,
            &["Encountered \")\" at line 2, column 1."],
        );
        assert_eq!((error.line, error.column), (Some(1), Some(27)));

        let script = "CREATE TABLE returns (x BIGINT) WITH ('connector' = 'datagen');\nINSERT INTO snk SELECT x FROM src;";
        let error = placed(
            script,
            Some(1),
            None,
            &["Encountered \"returns\" at line 1, column 14."],
        );
        assert_eq!((error.line, error.column), (Some(1), Some(14)));
        assert!(error.hint.unwrap().contains("`returns`"));
    }

    #[test]
    fn one_edit_is_a_typo_and_more_is_another_word() {
        assert!(one_edit_apart("FORM", "FROM"));
        assert!(one_edit_apart("SELEC", "SELECT"));
        assert!(one_edit_apart("GROUPP", "GROUP"));
        assert!(one_edit_apart("WHERA", "WHERE"));
        assert!(!one_edit_apart("FROM", "FROM"));
        assert!(!one_edit_apart("ORDERS", "ORDER BY"));
        assert!(!one_edit_apart("TOTALS", "TABLE"));
    }
}
