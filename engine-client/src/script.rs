//! Flink SQL scripts, before they reach the engine: split into statements with a real
//! tokenizer (quotes, comments and semicolons inside strings are handled), classified,
//! checked for what a deployable job needs, with errors at their line and column; and
//! the tables the job reads and writes, with their connectors, extracted for display.
//!
//! sqlparser's tokenizer does the lexing under a small Flink dialect (backtick
//! identifiers); its parser does not know Flink's DDL (`WATERMARK FOR`, computed
//! columns, window TVFs, `CREATE FUNCTION ... LANGUAGE JAVA`), so statements are not
//! parsed here: the engine's dry run (`/jars/{id}/plan`) is the final word on validity.

use serde::Serialize;
use sqlparser::dialect::Dialect;
use sqlparser::keywords::Keyword;
pub use sqlparser::tokenizer::{Location, Token, TokenWithSpan};
use sqlparser::tokenizer::{Tokenizer, Whitespace};

/// Lexical rules of Flink SQL for sqlparser's tokenizer.
#[derive(Debug)]
pub struct FlinkDialect;

impl Dialect for FlinkDialect {
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_alphabetic() || ch == '_'
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_alphanumeric() || ch == '_' || ch == '$'
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`'
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// CREATE / DROP / ALTER of tables, views, functions, catalogs, databases; ADD JAR.
    Ddl,
    /// INSERT INTO / INSERT OVERWRITE.
    Insert,
    /// EXECUTE STATEMENT SET BEGIN ... END (or BEGIN STATEMENT SET ... END).
    StatementSet,
    /// SET 'key' = 'value' / RESET.
    Set,
    /// USE [CATALOG] ...
    Use,
    /// A bare SELECT: it has no sink in a deployed job.
    Query,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    /// 1-based position in the script.
    pub index: usize,
    pub kind: StatementKind,
    /// The statement as the engine gets it: its characters in the script, from its first
    /// token to its last, comments blanked out (so a position within it is a position in
    /// the script).
    pub text: String,
    pub line: u64,
    pub column: u64,
    /// Its tokens (no whitespace, no comments), each with its place in the script.
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub tokens: Vec<TokenWithSpan>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptError {
    /// What is wrong: Sluice's words, or the engine's own.
    pub message: String,
    /// 1-based line of the mistake; null when nothing in the script can be pointed at
    /// (the engine named no statement and no position).
    pub line: Option<u64>,
    /// 1-based column of the mistake, with `line`.
    pub column: Option<u64>,
    /// The statement the error is in; null when it belongs to no one statement.
    pub statement: Option<usize>,
    /// One line of advice where Sluice knows more than the message says (what the
    /// engine offers instead, a likely typo, a reserved word to quote).
    pub hint: Option<String>,
}

impl ScriptError {
    /// An error at a place of the script, in a statement.
    pub fn at(
        message: impl Into<String>,
        (line, column): (u64, u64),
        statement: Option<usize>,
    ) -> Self {
        ScriptError {
            message: message.into(),
            line: Some(line),
            column: Some(column),
            statement,
            hint: None,
        }
    }

    /// An error about the script as a whole, at no place in it.
    pub fn unplaced(message: impl Into<String>) -> Self {
        ScriptError {
            message: message.into(),
            line: None,
            column: None,
            statement: None,
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRef {
    pub name: String,
    /// The `'connector'` option of the table's CREATE TABLE in this script, if any.
    pub connector: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub statements: Vec<Statement>,
    /// Tables read (FROM / JOIN).
    pub sources: Vec<TableRef>,
    /// Tables written (INSERT INTO).
    pub sinks: Vec<TableRef>,
}

fn is_blank(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

fn keyword(token: &Token) -> Option<Keyword> {
    match token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    }
}

fn word_is(token: &Token, text: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(text))
}

/// Splits a script into statements (without their semicolons).
fn split(script: &str) -> Result<Vec<Vec<TokenWithSpan>>, ScriptError> {
    // Strings stay as written (`''` inside is kept): statements are cut from the script.
    let tokens = Tokenizer::new(&FlinkDialect, script)
        .with_unescape(false)
        .tokenize_with_location()
        .map_err(|e| unclosed(script, e))?;
    let mut statements = Vec::new();
    let mut current: Vec<TokenWithSpan> = Vec::new();
    // Inside BEGIN ... END of a statement set, semicolons separate its INSERTs.
    let mut in_block = false;
    for token in tokens {
        let significant: Vec<&Token> = current
            .iter()
            .map(|t| &t.token)
            .filter(|t| !is_blank(t))
            .collect();
        match &token.token {
            Token::SemiColon if !in_block => {
                if !significant.is_empty() {
                    statements.push(std::mem::take(&mut current));
                } else {
                    current.clear();
                }
                continue;
            }
            t if keyword(t) == Some(Keyword::BEGIN)
                && significant
                    .iter()
                    .any(|s| word_is(s, "SET") || word_is(s, "EXECUTE"))
                || (keyword(t) == Some(Keyword::BEGIN) && significant.is_empty()) =>
            {
                in_block = true;
            }
            t if in_block && keyword(t) == Some(Keyword::END) => in_block = false,
            _ => {}
        }
        current.push(token);
    }
    if current.iter().any(|t| !is_blank(&t.token)) {
        statements.push(current);
    }
    Ok(statements)
}

/// Where the tokenizer gave up on a string or comment that never closes: at the quote or
/// `/*` that opened it, which is where the mistake is, not where the script ended. A
/// string that never closes swallows the script up to the next quote, so the opening
/// quote is that of the first string running over a line end, when there is one.
fn unclosed(script: &str, e: sqlparser::tokenizer::TokenizerError) -> ScriptError {
    let at = (e.location.line, e.location.column);
    let (opened, hint) = if e.message.contains("multi-line comment") {
        (
            openings(script).comment.unwrap_or(at),
            "this comment is never closed with */",
        )
    } else if e.message.contains("Unterminated string") {
        (
            openings(script).multiline_string.unwrap_or(at),
            "this string is never closed: its closing ' is missing",
        )
    } else {
        return ScriptError::at(e.message, at, None);
    };
    ScriptError::at(e.message, opened, None).with_hint(hint)
}

#[derive(Default)]
struct Openings {
    /// The first single-quoted string that runs over a line end.
    multiline_string: Option<(u64, u64)>,
    /// A `/*` comment still open at the end of the script.
    comment: Option<(u64, u64)>,
}

/// A scan of the script's quotes and comments (the tokenizer stops at the first error).
fn openings(script: &str) -> Openings {
    let mut found = Openings::default();
    let (mut line, mut column) = (1u64, 0u64);
    let mut chars = script.chars().peekable();
    // What the scan is inside of, with where it opened.
    enum In {
        Code,
        Str((u64, u64)),
        Quoted(char),
        LineComment,
        BlockComment((u64, u64)),
    }
    let mut inside = In::Code;
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
            column = 0;
        } else {
            column += 1;
        }
        inside = match inside {
            In::Code => match c {
                '\'' => In::Str((line, column)),
                '`' | '"' => In::Quoted(c),
                '-' if chars.peek() == Some(&'-') => In::LineComment,
                '/' if chars.peek() == Some(&'*') => {
                    let start = (line, column);
                    chars.next();
                    column += 1;
                    In::BlockComment(start)
                }
                _ => In::Code,
            },
            In::Str(start) => match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    column += 1;
                    In::Str(start)
                }
                '\'' => In::Code,
                '\n' => {
                    found.multiline_string.get_or_insert(start);
                    In::Str(start)
                }
                _ => In::Str(start),
            },
            In::Quoted(q) if c == q => In::Code,
            In::LineComment if c == '\n' => In::Code,
            In::BlockComment(_) if c == '*' && chars.peek() == Some(&'/') => {
                chars.next();
                column += 1;
                In::Code
            }
            other => other,
        };
    }
    if let In::BlockComment(start) = inside {
        found.comment = Some(start);
    }
    found
}

/// The statement's characters in the script, first token to last, with its comments
/// blanked out (each of their characters a space, line ends kept): positions in the
/// text are positions in the script.
fn render(script: &Source<'_>, tokens: &[TokenWithSpan]) -> String {
    let Some(first) = tokens.iter().position(|t| !is_blank(&t.token)) else {
        return String::new();
    };
    let last = tokens
        .iter()
        .rposition(|t| !is_blank(&t.token))
        .unwrap_or(first);
    let mut text = String::new();
    for t in &tokens[first..=last] {
        let written = script.slice(t.span.start, t.span.end);
        match &t.token {
            Token::Whitespace(
                Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_),
            ) => {
                text.extend(written.chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
            }
            _ => text.push_str(written),
        }
    }
    text.trim_end().to_owned()
}

/// A script with its lines indexed, to cut out the text between two token locations.
struct Source<'a> {
    text: &'a str,
    /// Byte offset of each line's start.
    lines: Vec<usize>,
}

impl<'a> Source<'a> {
    fn new(text: &'a str) -> Self {
        let lines = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Source { text, lines }
    }

    /// Byte offset of a 1-based line and column (columns count characters).
    fn offset(&self, at: sqlparser::tokenizer::Location) -> usize {
        let Some(&start) = self.lines.get((at.line as usize).saturating_sub(1)) else {
            return self.text.len();
        };
        self.text[start..]
            .char_indices()
            .nth((at.column as usize).saturating_sub(1))
            .map_or(self.text.len(), |(i, _)| start + i)
    }

    fn slice(
        &self,
        from: sqlparser::tokenizer::Location,
        to: sqlparser::tokenizer::Location,
    ) -> &'a str {
        let (from, to) = (self.offset(from), self.offset(to));
        &self.text[from..to.max(from)]
    }
}

impl Statement {
    /// Where a position the engine reports within this statement's text (1-based line
    /// and column, as in "at line 2, column 7") is in the whole script.
    pub fn locate(&self, line: u64, column: u64) -> (u64, u64) {
        locate_from((self.line, self.column), line, column)
    }
}

/// Where a position within a text that starts at `start` in the script (1-based line
/// and column within that text) is in the script.
pub fn locate_from((start_line, start_column): (u64, u64), line: u64, column: u64) -> (u64, u64) {
    if line <= 1 {
        (start_line, start_column + column.saturating_sub(1))
    } else {
        (start_line + line - 1, column)
    }
}

impl Statement {
    /// The name token of `CREATE [TEMPORARY] TABLE|VIEW [IF NOT EXISTS] name` (the last
    /// part of a dotted name).
    pub fn created_name(&self) -> Option<&TokenWithSpan> {
        let tokens = &self.tokens;
        if !tokens.first().is_some_and(|t| word_is(&t.token, "CREATE")) {
            return None;
        }
        let at = tokens
            .iter()
            .position(|t| word_is(&t.token, "TABLE") || word_is(&t.token, "VIEW"))?;
        let mut at = at + 1;
        if tokens.get(at).is_some_and(|t| word_is(&t.token, "IF")) {
            at += 3;
        }
        while matches!(tokens.get(at + 1).map(|t| &t.token), Some(Token::Period)) {
            at += 2;
        }
        tokens.get(at)
    }

    /// The byte offset in [`text`](Self::text) of a place in the script within it.
    pub fn offset_of(&self, at: sqlparser::tokenizer::Location) -> usize {
        let line = at.line.saturating_sub(self.line) as usize;
        let Some(start) = std::iter::once(0)
            .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
            .nth(line)
        else {
            return self.text.len();
        };
        let column = if line == 0 {
            at.column.saturating_sub(self.column)
        } else {
            at.column.saturating_sub(1)
        } as usize;
        self.text[start..]
            .char_indices()
            .nth(column)
            .map_or(self.text.len(), |(i, _)| start + i)
    }

    /// The tokens of a `CREATE TABLE`'s `WITH ( ... )` options: its parentheses (at depth 0
    /// of the statement, so not a column's), as indexes into [`tokens`](Self::tokens).
    pub fn with_options(&self) -> Option<(usize, usize)> {
        let tokens = &self.tokens;
        let mut depth = 0usize;
        let mut open = None;
        for (i, t) in tokens.iter().enumerate() {
            match t.token {
                Token::LParen => {
                    if depth == 0 && i > 0 && word_is(&tokens[i - 1].token, "WITH") {
                        open = Some(i);
                    }
                    depth += 1;
                }
                Token::RParen => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        if let Some(open) = open {
                            return Some((open, i));
                        }
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// `CREATE TABLE ... AS SELECT` or `CREATE DATABASE ... AS ...` (CTAS, CDAS): an `AS`
    /// outside every parenthesis of a CREATE TABLE or DATABASE.
    pub fn creates_from_query(&self) -> bool {
        let tokens = &self.tokens;
        let creates = tokens.first().is_some_and(|t| word_is(&t.token, "CREATE"))
            && tokens
                .iter()
                .take(4)
                .any(|t| word_is(&t.token, "TABLE") || word_is(&t.token, "DATABASE"));
        let mut depth = 0usize;
        creates
            && tokens.iter().any(|t| match t.token {
                Token::LParen => {
                    depth += 1;
                    false
                }
                Token::RParen => {
                    depth = depth.saturating_sub(1);
                    false
                }
                _ => depth == 0 && word_is(&t.token, "AS"),
            })
    }
}

/// Reads "line L, column C" out of an engine message (Calcite's parse errors).
pub fn engine_position(message: &str) -> Option<(u64, u64)> {
    let at = message.find("line ")?;
    let rest = &message[at + 5..];
    let line: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let rest = rest[line.len()..].strip_prefix(", column ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.parse().ok()?, column.parse().ok()?))
}

fn classify(tokens: &[&TokenWithSpan]) -> Option<StatementKind> {
    let first = tokens.first().map(|t| &t.token)?;
    let kind = match keyword(first) {
        // ADD JAR puts a jar on the job's classpath (Flink's JAR statements).
        Some(Keyword::CREATE | Keyword::DROP | Keyword::ALTER | Keyword::ADD) => StatementKind::Ddl,
        Some(Keyword::INSERT) => StatementKind::Insert,
        Some(Keyword::SET | Keyword::RESET) => StatementKind::Set,
        Some(Keyword::USE) => StatementKind::Use,
        Some(Keyword::SELECT | Keyword::WITH) => StatementKind::Query,
        Some(Keyword::EXECUTE | Keyword::BEGIN) => StatementKind::StatementSet,
        _ => return None,
    };
    Some(kind)
}

/// A dotted name starting at `tokens[at]` (`cat`.db.t) and the index after it.
fn dotted_name(tokens: &[&TokenWithSpan], mut at: usize) -> Option<(String, usize)> {
    let mut parts = Vec::new();
    while let Some(Token::Word(w)) = tokens.get(at).map(|t| &t.token) {
        parts.push(w.value.clone());
        at += 1;
        if matches!(tokens.get(at).map(|t| &t.token), Some(Token::Period)) {
            at += 1;
        } else {
            break;
        }
    }
    (!parts.is_empty()).then(|| (parts.join("."), at))
}

fn connector_option(tokens: &[&TokenWithSpan]) -> Option<String> {
    tokens
        .windows(3)
        .find_map(|w| match (&w[0].token, &w[1].token, &w[2].token) {
            (Token::SingleQuotedString(k), Token::Eq, Token::SingleQuotedString(v))
                if k == "connector" =>
            {
                Some(v.clone())
            }
            _ => None,
        })
}

/// Splits, classifies and checks a script meant to run as one streaming job.
pub fn analyze(script: &str) -> Result<Analysis, Vec<ScriptError>> {
    analyze_as(script, false)
}

/// Like [`analyze`], for a debug run: a SELECT on its own is shown, not refused, and a
/// script of SELECTs alone is a job.
pub fn analyze_debug(script: &str) -> Result<Analysis, Vec<ScriptError>> {
    analyze_as(script, true)
}

fn analyze_as(script: &str, queries_shown: bool) -> Result<Analysis, Vec<ScriptError>> {
    let raw = split(script).map_err(|e| vec![e])?;
    if raw.is_empty() {
        return Err(vec![ScriptError::unplaced("the script is empty")]);
    }
    let source = Source::new(script);
    let mut errors = Vec::new();
    let mut statements = Vec::new();
    let mut connectors: Vec<(String, String)> = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    let mut sinks: Vec<String> = Vec::new();
    for (i, tokens) in raw.iter().enumerate() {
        let index = i + 1;
        let significant: Vec<&TokenWithSpan> =
            tokens.iter().filter(|t| !is_blank(&t.token)).collect();
        let Some(first) = significant.first() else {
            continue;
        };
        let (line, column) = (first.span.start.line, first.span.start.column);
        let error = |message: String, at: &TokenWithSpan| {
            ScriptError::at(
                message,
                (at.span.start.line, at.span.start.column),
                Some(index),
            )
        };
        for (message, at) in unbalanced_parentheses(&significant) {
            errors.push(error(message.to_owned(), at));
        }
        let Some(kind) = classify(&significant) else {
            errors.push(error(
                format!("`{}` does not start a Flink SQL statement (CREATE, INSERT, SET, USE, EXECUTE STATEMENT SET ...)", first.token),
                first,
            ));
            continue;
        };
        if kind == StatementKind::Query && !queries_shown {
            errors.push(error(
                "a SELECT on its own has nowhere to write in a deployed job; write INSERT INTO <sink> SELECT ...".to_owned(),
                first,
            ));
        }
        if kind == StatementKind::Ddl {
            connectors.extend(created_table_connector(&significant));
        }
        table_references(&significant, kind, &mut sources, &mut sinks);
        statements.push(Statement {
            index,
            kind,
            text: render(&source, tokens),
            line,
            column,
            tokens: significant.into_iter().cloned().collect(),
        });
    }
    if errors.is_empty()
        && !statements.iter().any(|s| {
            matches!(s.kind, StatementKind::Insert | StatementKind::StatementSet)
                || queries_shown && s.kind == StatementKind::Query
                // CREATE TABLE ... AS SELECT writes too.
                || s.creates_from_query()
        })
    {
        errors.push(ScriptError::unplaced(
            "a job needs at least one INSERT INTO (or a statement set); nothing would be written",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Analysis {
        statements,
        sources: with_connector(sources, &connectors),
        sinks: with_connector(sinks, &connectors),
    })
}

/// Parentheses must balance within a statement: each `)` without its `(`, and the
/// last `(` never closed.
fn unbalanced_parentheses<'a>(
    significant: &[&'a TokenWithSpan],
) -> Vec<(&'static str, &'a TokenWithSpan)> {
    let mut found = Vec::new();
    let mut open: Vec<&TokenWithSpan> = Vec::new();
    for t in significant {
        match t.token {
            Token::LParen => open.push(t),
            Token::RParen if open.pop().is_none() => {
                found.push(("`)` without a matching `(`", *t));
            }
            _ => {}
        }
    }
    if let Some(unclosed) = open.last() {
        found.push(("`(` is never closed", *unclosed));
    }
    found
}

/// The table a `CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name ... WITH ('connector' =
/// '...')` creates, with its connector.
fn created_table_connector(significant: &[&TokenWithSpan]) -> Option<(String, String)> {
    if keyword(&significant.first()?.token) != Some(Keyword::CREATE) {
        return None;
    }
    let mut at = 1;
    while significant
        .get(at)
        .is_some_and(|t| word_is(&t.token, "TEMPORARY"))
    {
        at += 1;
    }
    if keyword(&significant.get(at)?.token) != Some(Keyword::TABLE) {
        return None;
    }
    at += 1;
    if significant
        .get(at)
        .is_some_and(|t| keyword(&t.token) == Some(Keyword::IF))
    {
        at += 3;
    }
    let (name, _) = dotted_name(significant, at)?;
    Some((name, connector_option(significant)?))
}

/// The tables a statement writes (`INSERT INTO`, `INSERT OVERWRITE`) and reads (`FROM`,
/// `JOIN`, a window function's `TABLE t`).
fn table_references(
    significant: &[&TokenWithSpan],
    kind: StatementKind,
    sources: &mut Vec<String>,
    sinks: &mut Vec<String>,
) {
    for (j, t) in significant.iter().enumerate() {
        match keyword(&t.token) {
            Some(Keyword::INTO)
                if j > 0 && keyword(&significant[j - 1].token) == Some(Keyword::INSERT) =>
            {
                if let Some((name, _)) = dotted_name(significant, j + 1) {
                    sinks.push(name);
                }
            }
            Some(Keyword::OVERWRITE) => {
                if let Some((name, _)) = dotted_name(significant, j + 1) {
                    sinks.push(name);
                }
            }
            Some(Keyword::FROM | Keyword::JOIN) if kind != StatementKind::Ddl => {
                if let Some((name, _)) = dotted_name(significant, j + 1) {
                    if keyword(&significant[j + 1].token) != Some(Keyword::TABLE) {
                        sources.push(name);
                    }
                }
            }
            // Window TVFs: TABLE(TUMBLE(TABLE t, ...)) reads t.
            Some(Keyword::TABLE)
                if kind != StatementKind::Ddl
                    && j > 0
                    && matches!(significant[j - 1].token, Token::LParen | Token::Comma) =>
            {
                if let Some((name, _)) = dotted_name(significant, j + 1) {
                    sources.push(name);
                }
            }
            _ => {}
        }
    }
}

/// Each table once, in order of first mention, with the connector its `CREATE TABLE`
/// named in the script, if any.
fn with_connector(names: Vec<String>, connectors: &[(String, String)]) -> Vec<TableRef> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for name in names {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        let connector = connectors
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, c)| c.clone());
        out.push(TableRef { name, connector });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOWED: &str = "
-- clicks from a generator
CREATE TABLE clicks (
  user_id BIGINT,
  url STRING,
  ts AS PROCTIME()
) WITH ('connector' = 'datagen', 'rows-per-second' = '5');
CREATE TABLE counts (w_end TIMESTAMP(3), n BIGINT) WITH ('connector' = 'blackhole');
SET 'pipeline.name' = 'a;b';
INSERT INTO counts
SELECT window_end, COUNT(*) FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end;
";

    #[test]
    fn a_windowed_job_splits_into_classified_statements_with_its_tables() {
        let analysis = analyze(WINDOWED).unwrap();
        let kinds: Vec<_> = analysis.statements.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StatementKind::Ddl,
                StatementKind::Ddl,
                StatementKind::Set,
                StatementKind::Insert
            ]
        );
        // The semicolon inside the string did not split.
        assert!(analysis.statements[2].text.contains("'a;b'"));
        assert_eq!(analysis.statements[0].line, 3);
        assert_eq!(
            analysis.sources,
            [TableRef {
                name: "clicks".into(),
                connector: Some("datagen".into())
            }]
        );
        assert_eq!(
            analysis.sinks,
            [TableRef {
                name: "counts".into(),
                connector: Some("blackhole".into())
            }]
        );
        assert!(
            !analysis.statements[0].text.contains("generator"),
            "comments are dropped"
        );
    }

    #[test]
    fn a_statement_set_keeps_its_inner_semicolons() {
        let script = "CREATE TABLE a (x INT) WITH ('connector'='datagen');
EXECUTE STATEMENT SET BEGIN
  INSERT INTO b SELECT * FROM a;
  INSERT INTO c SELECT * FROM a;
END;";
        let analysis = analyze(script).unwrap();
        assert_eq!(analysis.statements.len(), 2);
        assert_eq!(analysis.statements[1].kind, StatementKind::StatementSet);
        assert_eq!(analysis.sinks.len(), 2);
    }

    #[test]
    fn engine_positions_map_back_to_the_script() {
        let analysis = analyze("CREATE TABLE a (x INT) WITH ('connector'='datagen');\n\nINSERT INTO b\n-- note\nSELECT y FROMM a;").unwrap();
        let insert = &analysis.statements[1];
        assert_eq!((insert.line, insert.column), (3, 1));
        let (l, c) = engine_position("Encountered \"a\" at line 3, column 15.").unwrap();
        assert_eq!(insert.locate(l, c), (5, 15));
        assert_eq!(insert.locate(1, 5), (3, 5));
        assert_eq!(engine_position("no position here"), None);
    }

    #[test]
    fn errors_carry_line_and_column() {
        let err = analyze("CREATE TABLE a (x INT) WITH ('connector'='datagen');\nINSERT INTO b SELECT 'oops FROM a;").unwrap_err();
        assert_eq!((err[0].line, err[0].column), (Some(2), Some(22)), "{err:?}");

        let err = analyze("CREATE TABLE a (x INT;\nINSERT INTO b SELECT * FROM a;").unwrap_err();
        assert_eq!(
            (err[0].line, err[0].column, err[0].statement),
            (Some(1), Some(16), Some(1)),
            "{err:?}"
        );

        let err =
            analyze("CREATE TABLE a (x INT) WITH ('connector'='datagen');\n  SELEC * FROM a;")
                .unwrap_err();
        assert_eq!((err[0].line, err[0].column), (Some(2), Some(3)), "{err:?}");

        let err = analyze("CREATE TABLE a (x INT) WITH ('connector'='datagen');\nSELECT * FROM a;")
            .unwrap_err();
        assert!(err[0].message.contains("INSERT INTO"), "{err:?}");

        let err = analyze("CREATE TABLE a (x INT) WITH ('connector'='datagen');").unwrap_err();
        assert!(err[0].message.contains("at least one INSERT"), "{err:?}");

        let err = analyze("  -- nothing\n ;; ").unwrap_err();
        assert!(err[0].message.contains("empty"), "{err:?}");
        assert_eq!(
            err[0].line, None,
            "an empty script has no place to point at"
        );
    }

    #[test]
    fn an_unclosed_string_or_comment_is_marked_where_it_opens() {
        // The string opened on line 1 runs on to the quote of line 2, and the tokenizer
        // ends at the odd quote near the end.
        let err = analyze("CREATE TABLE a (x INT) WITH ('connector' = 'datagen);\nCREATE TABLE b (x INT) WITH ('connector' = 'print');\nINSERT INTO b SELECT x FROM a;").unwrap_err();
        assert_eq!((err[0].line, err[0].column), (Some(1), Some(44)), "{err:?}");
        assert!(err[0].hint.as_deref().unwrap().contains("never closed"));

        let err = analyze("CREATE TABLE a (x INT) WITH ('connector' = 'datagen');\n  /* copy\nINSERT INTO b SELECT x FROM a;").unwrap_err();
        assert_eq!((err[0].line, err[0].column), (Some(2), Some(3)), "{err:?}");
    }

    #[test]
    fn a_statement_is_its_text_in_the_script_with_comments_blanked() {
        let analysis =
            analyze("INSERT INTO b /* two */ SELECT 'it''s', x -- why\nFROM a;").unwrap();
        let text = &analysis.statements[0].text;
        assert_eq!(
            text,
            "INSERT INTO b           SELECT 'it''s', x       \nFROM a"
        );
        let from = analysis.statements[0]
            .tokens
            .iter()
            .find(|t| t.token.to_string() == "FROM")
            .unwrap();
        assert_eq!((from.span.start.line, from.span.start.column), (2, 1));
    }
}
