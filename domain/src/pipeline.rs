//! What a SQL job takes with it to the engine: the project's artifacts, registered
//! functions and connections its script names, resolved by Sluice.
//!
//! A script names them three ways (README, "UDFs, connectors and secrets"):
//! - `'artifact://<artifact name>'` wherever Flink reads a jar's location:
//!   `CREATE TEMPORARY FUNCTION f AS 'com.acme.F' USING JAR 'artifact://udfs.jar'` or
//!   `ADD JAR 'artifact://udfs.jar'`. The reference becomes the path of the artifact
//!   uploaded to the cluster's JobManager; any other jar location is refused, so a
//!   script reaches no file of the cluster's hosts.
//! - `${connections.<connection name>.<property>}`, in option values or anywhere else:
//!   the connection's property or secret property.
//! - a registered function called by name (`mask_email(email)`): its artifact goes on
//!   the classpath and the function is created before the statements run, unless the
//!   script declares a function of that name itself.
//!
//! References are checked at validation, with each error at the reference's line and
//! column, and substituted only when the job goes to the engine: drafts, versions and
//! deployment snapshots keep the references, and every engine answer shown back is
//! redacted (secret values and the JobManager's paths become their references again).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use engine_client::script::{ScriptError, Statement};
use engine_client::{EngineClient, EngineError, UploadedJar};
use store::artifacts::{ArtifactKind, ArtifactRow};
use store::connections::SealedConnectionRow;
use store::crypto::SecretBox;
use store::pipelines::ProjectResources;
use store::{Error, ProjectWrite};

use crate::engine::runner::Classpath;
use crate::Platform;

pub const ARTIFACT_SCHEME: &str = "artifact://";
const CONNECTIONS: &str = "connections.";

/// What a sealed connection secret is bound to: it opens only in its own row.
pub fn connection_binding(account_id: &str, connection_id: &str) -> String {
    format!("connection/{account_id}/{connection_id}")
}

/// A connection's secret properties, opened; for a job going to the engine only.
pub fn open_connection_secrets(
    secrets: &SecretBox,
    account_id: &str,
    connection_id: &str,
    sealed: &str,
) -> Result<BTreeMap<String, String>, Error> {
    let plain = secrets
        .open(sealed, &connection_binding(account_id, connection_id))
        .map_err(Error::internal)?;
    serde_json::from_slice(&plain).map_err(Error::internal)
}

/// What a reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Artifact(String),
    /// A jar location that is not a project artifact (`ADD JAR '/some/path.jar'`):
    /// refused, since it would reach files of the cluster's hosts.
    ForeignJar(String),
    /// The text inside `${connections.` and `}`: the connection name and the property.
    Connection(String),
}

/// A reference in a statement, with where it is.
#[derive(Debug, Clone)]
struct Reference {
    target: Target,
    statement: usize,
    /// Byte range in the statement's text that the substitution replaces.
    start: usize,
    end: usize,
    /// Inside a string literal (a substituted value doubles its quotes there).
    in_string: bool,
    line: u64,
    column: u64,
}

/// What a script names, read statement by statement (comments skipped).
#[derive(Debug, Default)]
struct Scan {
    references: Vec<Reference>,
    /// Identifiers followed by `(`, lower case: the functions it may call.
    calls: BTreeSet<String>,
    /// Functions the script creates itself, lower case.
    declared: BTreeSet<String>,
}

fn scan(statements: &[Statement]) -> Scan {
    let mut out = Scan::default();
    for statement in statements {
        scan_statement(statement, &mut out);
        if let Some(name) = declared_function(&statement.text) {
            out.declared.insert(name);
        }
    }
    out
}

fn scan_statement(statement: &Statement, out: &mut Scan) {
    let text = statement.text.as_str();
    let bytes = text.as_bytes();
    let position = |offset: usize| {
        let before = &text[..offset];
        let line = before.matches('\n').count() as u64 + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
        statement.locate(line, column)
    };
    let placeholders = |from: usize, to: usize, in_string: bool, out: &mut Scan| {
        let mut at = from;
        while let Some(found) = text[at..to].find("${") {
            let start = at + found;
            let Some(close) = text[start..to].find('}') else {
                break;
            };
            let end = start + close + 1;
            let inner = &text[start + 2..end - 1];
            if let Some(rest) = inner.strip_prefix(CONNECTIONS) {
                let (line, column) = position(start);
                out.references.push(Reference {
                    target: Target::Connection(rest.to_owned()),
                    statement: statement.index,
                    start,
                    end,
                    in_string,
                    line,
                    column,
                });
            }
            at = end;
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        // Bytes, not chars: every boundary looked for is ASCII, and a byte inside a
        // multi-byte character (a Chinese comment, say) is never one of them.
        if bytes[i..].starts_with(b"--") {
            i = find(bytes, i, b"\n").map_or(bytes.len(), |n| n + 1);
        } else if bytes[i..].starts_with(b"/*") {
            i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |n| n + 2);
        } else if c == b'\'' {
            let end = closing_quote(bytes, i, b'\'');
            let content = &text[i + 1..end.min(bytes.len())];
            if let Some(name) = content.strip_prefix(ARTIFACT_SCHEME) {
                let (line, column) = position(i);
                out.references.push(Reference {
                    target: Target::Artifact(name.replace("''", "'")),
                    statement: statement.index,
                    start: i + 1,
                    end: end.min(bytes.len()),
                    in_string: true,
                    line,
                    column,
                });
            } else if ends_with_jar(&text[..i]) {
                let (line, column) = position(i);
                out.references.push(Reference {
                    target: Target::ForeignJar(content.to_owned()),
                    statement: statement.index,
                    start: i + 1,
                    end: end.min(bytes.len()),
                    in_string: true,
                    line,
                    column,
                });
            } else {
                placeholders(i + 1, end.min(bytes.len()), true, out);
            }
            i = end + 1;
        } else if c == b'"' || c == b'`' {
            let end = closing_quote(bytes, i, c);
            let name = text[i + 1..end.min(bytes.len())].to_lowercase();
            i = end + 1;
            if followed_by_paren(bytes, i) {
                out.calls.insert(name);
            }
        } else if c == b'$' && bytes.get(i + 1) == Some(&b'{') {
            let end = find(bytes, i, b"}").map_or(bytes.len(), |n| n + 1);
            placeholders(i, end, false, out);
            i = end;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            if followed_by_paren(bytes, i) {
                out.calls.insert(text[start..i].to_ascii_lowercase());
            }
        } else {
            i += 1;
        }
    }
}

/// Whether `text` ends with the keyword `JAR` (a jar's location follows it).
fn ends_with_jar(text: &str) -> bool {
    let bytes = text.trim_end().as_bytes();
    bytes.len() >= 3 && bytes[bytes.len() - 3..].eq_ignore_ascii_case(b"JAR")
}

/// Where `needle` next starts at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|n| from + n)
}

/// The index of the quote closing the one at `open` (doubled quotes inside are kept);
/// the text's length when it never closes.
fn closing_quote(bytes: &[u8], open: usize, quote: u8) -> usize {
    let mut j = open + 1;
    while j < bytes.len() {
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j;
        }
        j += 1;
    }
    bytes.len()
}

fn followed_by_paren(bytes: &[u8], mut i: usize) -> bool {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    bytes.get(i) == Some(&b'(')
}

/// The function a `CREATE [TEMPORARY] [SYSTEM] FUNCTION [IF NOT EXISTS] name` creates.
fn declared_function(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .collect();
    let mut words = words.iter().map(|w| w.to_ascii_uppercase());
    if words.next()? != "CREATE" {
        return None;
    }
    let mut word = words.next()?;
    for optional in ["TEMPORARY", "SYSTEM"] {
        if word == optional {
            word = words.next()?;
        }
    }
    if word != "FUNCTION" {
        return None;
    }
    let mut name = words.next()?;
    if name == "IF" {
        words.next(); // NOT
        words.next(); // EXISTS
        name = words.next()?;
    }
    let last = name.rsplit('.').next()?.trim_matches('`');
    Some(last.to_ascii_lowercase())
}

/// Whether the script brings the tenant's code to the engine: an artifact reference or
/// a call of a registered function it does not declare itself.
pub fn uses_custom_code(statements: &[Statement], resources: &ProjectResources) -> bool {
    let scan = scan(statements);
    scan.references
        .iter()
        .any(|r| matches!(r.target, Target::Artifact(_) | Target::ForeignJar(_)))
        || scan
            .calls
            .difference(&scan.declared)
            .any(|name| resources.functions.iter().any(|f| &f.name == name))
}

/// The artifacts a job puts on its classpath: its JAR, its dependencies, the
/// artifacts its SQL references and those of the registered functions it calls.
pub fn artifacts_used(
    code: &store::deployments::DeploymentCode,
    resources: &ProjectResources,
) -> BTreeSet<String> {
    let mut used: BTreeSet<String> = serde_json::from_str::<Vec<String>>(&code.dependencies)
        .unwrap_or_default()
        .into_iter()
        .collect();
    used.extend(code.artifact_id.clone());
    let Some(Ok(analysis)) = code.sql_text.as_deref().map(engine_client::script::analyze) else {
        return used;
    };
    let scan = scan(&analysis.statements);
    for reference in &scan.references {
        if let Target::Artifact(name) = &reference.target {
            used.extend(
                resources
                    .artifacts
                    .iter()
                    .filter(|a| &a.name == name)
                    .map(|a| a.id.clone()),
            );
        }
    }
    for name in scan.calls.difference(&scan.declared) {
        used.extend(
            resources
                .functions
                .iter()
                .filter(|f| &f.name == name)
                .map(|f| f.artifact_id.clone()),
        );
    }
    used
}

/// Refuses (409 `in_use`, naming them) while a deployment of the project puts the
/// artifact on its classpath: as its JAR, a dependency, a reference in its SQL or the
/// JAR of a registered function it calls.
pub async fn ensure_no_deployment_uses(
    write: &mut ProjectWrite,
    resources: &ProjectResources,
    artifact_id: &str,
) -> Result<(), Error> {
    let users: Vec<String> = write
        .deployments()
        .code()
        .await?
        .into_iter()
        .filter(|code| artifacts_used(code, resources).contains(artifact_id))
        .map(|code| code.name)
        .collect();
    if users.is_empty() {
        return Ok(());
    }
    Err(Error::conflict(
        "in_use",
        format!(
            "these deployments use the artifact: {}; delete them or deploy versions that do not use it first",
            users.join(", ")
        ),
    ))
}

/// The value a reference stands for. No `Debug`: it may hold an opened secret.
#[derive(Clone)]
enum Replacement {
    ArtifactPath(String),
    Value { text: String, secret: bool },
}

#[derive(Clone)]
struct Substitution {
    statement: usize,
    start: usize,
    end: usize,
    in_string: bool,
    /// The reference as written, shown in place of a secret.
    written: String,
    with: Replacement,
}

/// A script's references, resolved against its project: what to upload, what to
/// create and what to substitute. Holds opened secrets: never logged, never stored.
#[derive(Clone, Default)]
pub struct Needs {
    /// Artifacts to put on the job's classpath (each once).
    pub artifacts: Vec<ArtifactRow>,
    functions: Vec<(String, String)>,
    substitutions: Vec<Substitution>,
}

impl std::fmt::Debug for Needs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Needs")
            .field(
                "artifacts",
                &self.artifacts.iter().map(|a| &a.name).collect::<Vec<_>>(),
            )
            .field("functions", &self.functions)
            .finish_non_exhaustive()
    }
}

impl Needs {
    /// Whether the job brings code of the tenant's (artifacts) to the engine.
    pub fn custom_code(&self) -> bool {
        !self.artifacts.is_empty()
    }

    /// Shows secret values as the references they came from.
    pub fn redactor(&self) -> Redactor {
        Redactor {
            pairs: self
                .substitutions
                .iter()
                .filter_map(|s| match &s.with {
                    Replacement::Value { text, secret: true } if !text.is_empty() => {
                        Some((text.clone(), s.written.clone()))
                    }
                    _ => None,
                })
                .collect(),
        }
    }

    fn add_artifact(&mut self, artifact: &ArtifactRow) {
        if !self.artifacts.iter().any(|a| a.id == artifact.id) {
            self.artifacts.push(artifact.clone());
        }
    }
}

/// Resolves the script's references against the project's resources. `dependencies`
/// are artifact ids the deployment adds to the classpath. Every reference that does
/// not resolve is an error at its line and column; nothing is half-resolved.
pub fn resolve(
    statements: &[Statement],
    resources: &ProjectResources,
    secrets: &SecretBox,
    dependencies: &[String],
) -> Result<Needs, Vec<ScriptError>> {
    let scan = scan(statements);
    let mut needs = Needs::default();
    let mut errors = Vec::new();
    let mut opened: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for reference in &scan.references {
        let error = |message: String| {
            ScriptError::at(
                message,
                (reference.line, reference.column),
                Some(reference.statement),
            )
        };
        let substitution = |written: String, with: Replacement| Substitution {
            statement: reference.statement,
            start: reference.start,
            end: reference.end,
            in_string: reference.in_string,
            written,
            with,
        };
        match &reference.target {
            Target::Artifact(name) => match artifact_jar(resources, name) {
                Ok(artifact) => {
                    needs.add_artifact(artifact);
                    needs.substitutions.push(substitution(
                        format!("{ARTIFACT_SCHEME}{name}"),
                        Replacement::ArtifactPath(artifact.id.clone()),
                    ));
                }
                Err(message) => errors.push(error(message)),
            },
            Target::ForeignJar(location) => errors.push(error(format!(
                "'{location}': a job's jars are artifacts of its project; upload the JAR and write '{ARTIFACT_SCHEME}<its file name>'"
            ))),
            Target::Connection(inner) => {
                match connection_value(resources, secrets, inner, &mut opened) {
                    Ok(Ok((text, secret))) => needs.substitutions.push(substitution(
                        format!("${{{CONNECTIONS}{inner}}}"),
                        Replacement::Value { text, secret },
                    )),
                    Ok(Err(message)) => errors.push(error(message)),
                    Err(e) => return Err(vec![error(e.message)]),
                }
            }
        }
    }
    for name in scan.calls.difference(&scan.declared) {
        if let Some(function) = resources.functions.iter().find(|f| &f.name == name) {
            if let Some(artifact) = resources
                .artifacts
                .iter()
                .find(|a| a.id == function.artifact_id)
            {
                needs.add_artifact(artifact);
                needs
                    .functions
                    .push((function.name.clone(), function.class_name.clone()));
            }
        }
    }
    for id in dependencies {
        match resources.artifacts.iter().find(|a| &a.id == id) {
            Some(artifact) if artifact.kind == ArtifactKind::Jar => needs.add_artifact(artifact),
            _ => errors.push(ScriptError::unplaced(format!(
                "the deployment's dependency {id} is not a JAR artifact of this project"
            ))),
        }
    }
    if errors.is_empty() {
        Ok(needs)
    } else {
        Err(errors)
    }
}

fn artifact_jar<'r>(
    resources: &'r ProjectResources,
    name: &str,
) -> Result<&'r ArtifactRow, String> {
    let Some(artifact) = resources.artifacts.iter().find(|a| a.name == name) else {
        let jars: Vec<&str> = resources
            .artifacts
            .iter()
            .filter(|a| a.kind == ArtifactKind::Jar)
            .map(|a| a.name.as_str())
            .collect();
        return Err(if jars.is_empty() {
            format!("{ARTIFACT_SCHEME}{name}: this project has no artifact named `{name}` (upload the JAR under Artifacts first)")
        } else {
            format!(
                "{ARTIFACT_SCHEME}{name}: this project has no artifact named `{name}`; its JARs are: {}",
                jars.join(", ")
            )
        });
    };
    if artifact.kind != ArtifactKind::Jar {
        return Err(format!(
            "{ARTIFACT_SCHEME}{name}: the artifact is a {} file, not a JAR",
            artifact.kind.as_str()
        ));
    }
    Ok(artifact)
}

/// The value of `<connection name>.<property>`: `Ok(Err)` says why it does not resolve.
fn connection_value(
    resources: &ProjectResources,
    secrets: &SecretBox,
    inner: &str,
    opened: &mut BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Result<(String, bool), String>, Error> {
    let written = format!("${{{CONNECTIONS}{inner}}}");
    // The longest connection name that prefixes the reference (names may hold dots).
    let connection: Option<&SealedConnectionRow> = resources
        .connections
        .iter()
        .filter(|c| {
            inner
                .strip_prefix(c.connection.name.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .max_by_key(|c| c.connection.name.len());
    let Some(connection) = connection else {
        let names: Vec<&str> = resources
            .connections
            .iter()
            .map(|c| c.connection.name.as_str())
            .collect();
        return Ok(Err(format!(
            "{written}: this project has no connection by that name (write ${{connections.<connection>.<property>}}; its connections: {})",
            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
        )));
    };
    let key = &inner[connection.connection.name.len() + 1..];
    let properties: BTreeMap<String, String> =
        serde_json::from_str(&connection.connection.properties).map_err(Error::internal)?;
    if let Some(value) = properties.get(key) {
        return Ok(Ok((value.clone(), false)));
    }
    let secret_keys: Vec<String> =
        serde_json::from_str(&connection.connection.secret_keys).map_err(Error::internal)?;
    if secret_keys.iter().any(|k| k == key) {
        if !opened.contains_key(&connection.connection.id) {
            let values = open_connection_secrets(
                secrets,
                &resources.account_id,
                &connection.connection.id,
                &connection.secret_properties,
            )?;
            opened.insert(connection.connection.id.clone(), values);
        }
        if let Some(value) = opened
            .get(&connection.connection.id)
            .and_then(|v| v.get(key))
        {
            return Ok(Ok((value.clone(), true)));
        }
    }
    let mut keys: Vec<&str> = properties.keys().map(String::as_str).collect();
    keys.extend(secret_keys.iter().map(String::as_str));
    keys.sort_unstable();
    Ok(Err(format!(
        "{written}: connection `{}` has no property `{key}` (it has: {})",
        connection.connection.name,
        keys.join(", ")
    )))
}

/// The redactor for what a running job reports (its exceptions): the secret values its
/// script references, shown as the references. Empty when nothing resolves (a script
/// that no longer resolves substituted nothing that could come back).
pub fn secrets_redactor(sql: &str, resources: &ProjectResources, secrets: &SecretBox) -> Redactor {
    engine_client::script::analyze(sql)
        .ok()
        .and_then(|analysis| resolve(&analysis.statements, resources, secrets, &[]).ok())
        .map(|needs| needs.redactor())
        .unwrap_or_default()
}

/// Replaces secret values (and JobManager paths) in engine answers with the references
/// they came from.
#[derive(Clone, Default)]
pub struct Redactor {
    pairs: Vec<(String, String)>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} values)", self.pairs.len())
    }
}

impl Redactor {
    pub fn redact(&self, text: &str) -> String {
        // Longest first, so a value that contains another is replaced whole.
        let mut pairs: Vec<&(String, String)> = self.pairs.iter().collect();
        pairs.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        let mut out = text.to_owned();
        for (value, shown) in pairs {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), shown);
            }
        }
        out
    }

    fn hide(&mut self, value: String, shown: String) {
        if !value.is_empty() {
            self.pairs.push((value, shown));
        }
    }
}

/// A job ready for the runner: statements with every reference substituted, the
/// classpath, and the redactor for whatever the engine answers.
pub struct Shipped {
    pub statements: Vec<String>,
    pub classpath: Classpath,
    /// Where every artifact of the job sits on the JobManager, also those the script
    /// adds itself (`USING JAR`, `ADD JAR`): what a dry run needs on its classpath.
    pub uploaded: Vec<String>,
    pub redactor: Redactor,
}

impl Shipped {
    /// The runner's configuration for this job. The engine builds the job graph after
    /// the runner returns (a dry run on every version, a run on 1.20), under the
    /// program's own class loader, which sees the runner's jar only: the planner's
    /// generated code cannot name a UDF's class unless the jars are on the program's
    /// classpath too. (On the TaskManagers the classes come with the job's jars.)
    pub fn program_configuration(&self) -> BTreeMap<String, String> {
        let mut configuration = BTreeMap::new();
        if !self.uploaded.is_empty() {
            let urls: Vec<String> = self
                .uploaded
                .iter()
                .map(|path| format!("file://{path}"))
                .collect();
            configuration.insert("pipeline.classpaths".to_owned(), urls.join(";"));
        }
        configuration
    }
}

/// Uploads the artifacts the job needs to the cluster (once per content; again when
/// the JobManager lost them) and substitutes every reference. `Ok(Err)`: the engine
/// did not take an upload.
pub async fn ship(
    platform: &Platform,
    cluster_id: &str,
    client: &EngineClient,
    statements: &[Statement],
    needs: &Needs,
) -> Result<Result<Shipped, EngineError>, Error> {
    let mut redactor = needs.redactor();
    let mut paths: BTreeMap<String, String> = BTreeMap::new();
    let mut on_cluster: Option<HashSet<String>> = None;
    for artifact in &needs.artifacts {
        let path =
            match artifact_on(platform, cluster_id, client, artifact, &mut on_cluster).await? {
                Ok(jar) => jar.path,
                Err(e) => return Ok(Err(e)),
            };
        redactor.hide(path.clone(), format!("{ARTIFACT_SCHEME}{}", artifact.name));
        paths.insert(artifact.id.clone(), path);
    }
    let mut texts: Vec<String> = statements.iter().map(|s| s.text.clone()).collect();
    let mut substitutions: Vec<&Substitution> = needs.substitutions.iter().collect();
    // From the end of each statement backwards, so earlier ranges stay valid.
    substitutions.sort_by_key(|s| (s.statement, std::cmp::Reverse(s.start)));
    for s in substitutions {
        let Some(text) = statements
            .iter()
            .position(|st| st.index == s.statement)
            .and_then(|i| texts.get_mut(i))
        else {
            continue;
        };
        let value = match &s.with {
            Replacement::ArtifactPath(id) => paths.get(id).cloned().unwrap_or_default(),
            Replacement::Value { text, .. } => text.clone(),
        };
        let value = if s.in_string {
            value.replace('\'', "''")
        } else {
            value
        };
        text.replace_range(s.start..s.end, &value);
    }
    // A jar the script adds itself is not added again: Flink's resource manager fails
    // on a jar registered twice.
    let referenced: HashSet<&str> = needs
        .substitutions
        .iter()
        .filter_map(|s| match &s.with {
            Replacement::ArtifactPath(id) => Some(id.as_str()),
            Replacement::Value { .. } => None,
        })
        .collect();
    let jars = needs
        .artifacts
        .iter()
        .filter(|a| !referenced.contains(a.id.as_str()))
        .filter_map(|a| paths.get(&a.id).cloned())
        .collect();
    let uploaded = needs
        .artifacts
        .iter()
        .filter_map(|a| paths.get(&a.id).cloned())
        .collect();
    Ok(Ok(Shipped {
        statements: texts,
        classpath: Classpath {
            jars,
            functions: needs.functions.clone(),
        },
        uploaded,
        redactor,
    }))
}

/// The jar recorded as `name`/`version` on the cluster, if the cluster still holds it
/// (a restarted JobManager forgets its uploads), else uploaded anew from `make`.
pub(crate) async fn jar_on_cluster<F, Fut>(
    platform: &Platform,
    cluster_id: &str,
    client: &EngineClient,
    on_cluster: &mut Option<HashSet<String>>,
    name: &str,
    version: &str,
    make: F,
) -> Result<Result<UploadedJar, EngineError>, Error>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(String, Vec<u8>), Error>>,
{
    let known = store::clusters::uploaded_jar(&platform.db, cluster_id, name, version).await?;
    if let Some((jar_id, Some(path))) = known {
        if on_cluster.is_none() {
            match client.jars().await {
                Ok(jars) => *on_cluster = Some(jars.into_iter().map(|j| j.id).collect()),
                Err(e) => return Ok(Err(e)),
            }
        }
        if on_cluster.as_ref().is_some_and(|ids| ids.contains(&jar_id)) {
            return Ok(Ok(UploadedJar { id: jar_id, path }));
        }
    }
    let (file_name, bytes) = make().await?;
    let uploaded = match client.upload(&file_name, bytes).await {
        Ok(uploaded) => uploaded,
        Err(e) => return Ok(Err(e)),
    };
    store::clusters::record_uploaded_jar(
        &platform.db,
        cluster_id,
        name,
        version,
        &uploaded.id,
        Some(&uploaded.path),
    )
    .await?;
    Ok(Ok(uploaded))
}

/// The artifact as a jar on the cluster (its id and JobManager path), uploading it only
/// when the cluster does not hold this content: starting a job again does not pile up
/// copies. `on_cluster` caches the cluster's list of jars for one job's artifacts.
pub async fn artifact_on(
    platform: &Platform,
    cluster_id: &str,
    client: &EngineClient,
    artifact: &ArtifactRow,
    on_cluster: &mut Option<HashSet<String>>,
) -> Result<Result<UploadedJar, EngineError>, Error> {
    let version = &artifact.sha256[..artifact.sha256.len().min(16)];
    jar_on_cluster(
        platform,
        cluster_id,
        client,
        on_cluster,
        &format!("artifact:{}", artifact.id),
        version,
        || async {
            let bytes = read_artifact(platform, artifact).await?;
            Ok((format!("{}.jar", artifact.id), bytes))
        },
    )
    .await
}

async fn read_artifact(platform: &Platform, artifact: &ArtifactRow) -> Result<Vec<u8>, Error> {
    tokio::fs::read(platform.files.path(&artifact.project_id, &artifact.id))
        .await
        .map_err(|e| Error::internal(format!("artifact {} unreadable: {e}", artifact.id)))
}

/// A JAR job's program on the cluster: its artifact as it is, or, with dependencies,
/// the bundle of it with each dependency under `lib/` (built and uploaded once per
/// content and cluster).
pub async fn jar_job_on(
    platform: &Platform,
    cluster_id: &str,
    client: &EngineClient,
    main: &ArtifactRow,
    dependencies: &[ArtifactRow],
) -> Result<Result<UploadedJar, EngineError>, Error> {
    if dependencies.is_empty() {
        return artifact_on(platform, cluster_id, client, main, &mut None).await;
    }
    let version = crate::engine::bundle::version(main, dependencies);
    jar_on_cluster(
        platform,
        cluster_id,
        client,
        &mut None,
        &format!("bundle:{}", main.id),
        &version,
        || async {
            let main_bytes = read_artifact(platform, main).await?;
            let mut nested = Vec::with_capacity(dependencies.len());
            for d in dependencies {
                nested.push((d.name.clone(), read_artifact(platform, d).await?));
            }
            let bytes = tokio::task::spawn_blocking(move || {
                crate::engine::bundle::bundle(&main_bytes, &nested)
            })
            .await
            .map_err(Error::internal)?
            .map_err(|e| {
                Error::invalid(
                    "dependencies",
                    format!("the job's JAR cannot take its dependencies: {e}"),
                )
            })?;
            Ok((format!("{}-bundle.jar", main.id), bytes))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine_client::script::analyze;

    #[test]
    fn references_calls_and_declarations_are_read_outside_comments() {
        let analysis = analyze(
            "-- mask_email(x) in a comment is no call; '${connections.gone.x}' neither\n\
             CREATE TABLE t (a STRING) WITH ('connector' = 'kafka',\n  'properties.bootstrap.servers' = '${connections.local kafka.bootstrap}');\n\
             CREATE TEMPORARY FUNCTION add_tax AS 'com.acme.tax.AddTax' USING JAR 'artifact://acme-tax.jar';\n\
             INSERT INTO t SELECT Mask_Email(a) || add_tax(1) FROM t /* shout(a) */;",
        )
        .unwrap();
        let scan = scan(&analysis.statements);
        let targets: Vec<(&Target, u64, u64)> = scan
            .references
            .iter()
            .map(|r| (&r.target, r.line, r.column))
            .collect();
        assert_eq!(
            targets,
            vec![
                (
                    &Target::Connection("local kafka.bootstrap".to_owned()),
                    3,
                    37
                ),
                (&Target::Artifact("acme-tax.jar".to_owned()), 4, 70),
            ]
        );
        assert!(scan.calls.contains("mask_email"));
        assert!(scan.calls.contains("add_tax"));
        assert!(!scan.calls.contains("shout"));
        assert_eq!(scan.declared, BTreeSet::from(["add_tax".to_owned()]));
    }

    #[test]
    fn scripts_in_any_language_are_read_without_tripping_on_characters() {
        let analysis = analyze(
            "-- 订单 → 掩码\nCREATE TABLE t (a STRING) WITH ('connector' = 'kafka', 'topic' = '订单',\n  'properties.bootstrap.servers' = '${connections.卡夫卡.地址}');\nINSERT INTO t SELECT mask_email(a) /* 注释 */ FROM t;",
        )
        .unwrap();
        let scan = scan(&analysis.statements);
        assert_eq!(scan.references.len(), 1);
        assert_eq!(
            scan.references[0].target,
            Target::Connection("卡夫卡.地址".to_owned())
        );
        assert_eq!(
            (scan.references[0].line, scan.references[0].column),
            (3, 37)
        );
        assert!(scan.calls.contains("mask_email"));
    }

    #[test]
    fn a_jar_location_other_than_an_artifact_is_refused_at_its_place() {
        let analysis = analyze(
            "ADD JAR '/opt/flink/lib/other.jar';\nCREATE TEMPORARY FUNCTION f AS 'x.F' USING JAR 'file:///tmp/f.jar';\nCREATE TABLE t (a STRING) WITH ('connector' = 'datagen');\nINSERT INTO t SELECT f(a) FROM t;",
        )
        .unwrap();
        let key = SecretBox::from_key(&[7; 32]).unwrap();
        let errors = resolve(
            &analysis.statements,
            &ProjectResources::default(),
            &key,
            &[],
        )
        .unwrap_err();
        let places: Vec<_> = errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(places, [(Some(1), Some(9)), (Some(2), Some(48))]);
        assert!(
            errors[0].message.contains("artifact://"),
            "{}",
            errors[0].message
        );
        assert!(uses_custom_code(
            &analysis.statements,
            &ProjectResources::default()
        ));
    }

    #[test]
    fn declared_functions_are_named_whatever_the_form() {
        assert_eq!(
            declared_function("create temporary system function IF NOT EXISTS `Db`.`F` as 'x'"),
            Some("f".to_owned())
        );
        assert_eq!(
            declared_function("CREATE FUNCTION g AS 'x'"),
            Some("g".to_owned())
        );
        assert_eq!(declared_function("CREATE TABLE f (a INT)"), None);
    }

    #[test]
    fn secrets_are_shown_as_their_references() {
        let mut redactor = Redactor::default();
        redactor.hide("s3cret".to_owned(), "${connections.k.password}".to_owned());
        redactor.hide(
            "s3cret-longer".to_owned(),
            "${connections.k.token}".to_owned(),
        );
        assert_eq!(
            redactor.redact("login failed for s3cret-longer and s3cret"),
            "login failed for ${connections.k.token} and ${connections.k.password}"
        );
    }
}
