//! The one error of everything below the HTTP edge: the store, the product's rules, the
//! workers and the CLI. It says what went wrong in the product's terms (a kind, a
//! stable code, words a person can act on, the field concerned); the HTTP edge maps
//! each [`Kind`] to a status in one place. Database and unexpected errors become
//! [`Kind::Internal`], whose detail is logged where it happens and never shown.

use std::fmt;

/// What kind of failure, independent of how it is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request could not be read at all (bad JSON, a cursor that is not one).
    Malformed,
    /// A value that parsed but breaks a rule; `field` names it.
    Invalid,
    /// No credential, or one that is not (or no longer) valid.
    Unauthenticated,
    /// The caller may see the object but their role does not allow the action.
    Forbidden,
    /// Absent, or another tenant's: existence is not disclosed.
    NotFound,
    /// The object's state forbids the change: it exists already, is in use, a limit is
    /// reached, the deployment is in the wrong state.
    Conflict,
    /// A body or file over its size limit.
    TooLarge,
    /// Sluice cannot serve this now (a feature not configured, a dependency starting).
    Unavailable,
    /// A system Sluice called failed or answered nonsense (the engine, the identity
    /// provider).
    Upstream,
    /// A fault of Sluice itself; logged, never detailed to the caller.
    Internal,
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: Kind,
    /// Stable machine-readable code, e.g. `limit_exceeded`, `invalid_field`, `not_found`.
    pub code: &'static str,
    pub message: String,
    /// The request field (or, for `limit_exceeded`, the limit setting) concerned.
    pub field: Option<String>,
    /// The limit that was reached.
    pub limit: Option<i64>,
}

impl Error {
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            field: None,
            limit: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// A value that parsed but breaks a rule: names the field and the rule.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Kind::Invalid, "invalid_field", message).with_field(field)
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(Kind::Malformed, "malformed_request", message)
    }

    /// Also used for objects of other tenants: their existence is not disclosed.
    pub fn not_found(what: &str) -> Self {
        Self::new(Kind::NotFound, "not_found", format!("{what} not found"))
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, code, message)
    }

    pub fn already_exists(field: &str, message: impl Into<String>) -> Self {
        Self::conflict("already_exists", message).with_field(field)
    }

    pub fn limit_exceeded(name: &'static str, limit: i64, message: impl Into<String>) -> Self {
        let mut e = Self::conflict("limit_exceeded", message).with_field(name);
        e.limit = Some(limit);
        e
    }

    pub fn too_large(limit: i64, message: impl Into<String>) -> Self {
        let mut e = Self::new(Kind::TooLarge, "payload_too_large", message);
        e.limit = Some(limit);
        e
    }

    /// The caller may see the object but their role does not allow the action.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, "forbidden", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Kind::Unauthenticated, "unauthorized", message)
    }

    /// Logs the cause with the current span (and so the request id) and hides it.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            Kind::Internal,
            "internal",
            "internal error; see the server log for this request id",
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The request field a unique index guards, by the index's name (PostgreSQL names the
/// constraint; SQLite names an index on expressions, or else its table's columns).
const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    // (index, table, field)
    ("projects_name", "projects", "name"),
    ("folders_name", "folders", "name"),
    ("artifacts_name", "artifacts", "name"),
    ("jobs_name", "jobs", "name"),
    ("connections_name", "connections", "name"),
    ("engine_clusters_name", "engine_clusters", "name"),
    ("deployments_name", "deployments", "name"),
    (
        "notification_channels_name",
        "notification_channels",
        "name",
    ),
    ("contact_groups_name", "contact_groups", "name"),
    ("alert_rules_name", "alert_rules", "name"),
    ("users_email_key", "users", "email"),
];

fn unique_field(db: &dyn sqlx::error::DatabaseError) -> Option<&'static str> {
    if let Some(constraint) = db.constraint() {
        return UNIQUE_FIELDS
            .iter()
            .find(|(index, _, _)| *index == constraint)
            .map(|(_, _, field)| *field);
    }
    // SQLite: "UNIQUE constraint failed: index 'jobs_name'" or
    // "UNIQUE constraint failed: projects.account_id, projects.name".
    let detail = db.message().split("failed: ").nth(1)?;
    if let Some(index) = detail
        .strip_prefix("index '")
        .and_then(|s| s.strip_suffix('\''))
    {
        return UNIQUE_FIELDS
            .iter()
            .find(|(name, _, _)| *name == index)
            .map(|(_, _, field)| *field);
    }
    let table = detail.split('.').next()?;
    UNIQUE_FIELDS
        .iter()
        .find(|(_, t, field)| *t == table && detail.contains(&format!("{table}.{field}")))
        .map(|(_, _, field)| *field)
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            // Uniqueness is checked before insert inside a locked transaction; this is the
            // backstop should a check ever be missed, so the caller still gets a conflict
            // that names the field.
            if db.is_unique_violation() {
                let field = unique_field(db.as_ref());
                let mut e = Error::conflict(
                    "already_exists",
                    match field {
                        Some(field) => format!("an object with the same {field} already exists"),
                        None => "an object with the same name already exists".to_owned(),
                    },
                );
                e.field = field.map(str::to_owned);
                return e;
            }
            if db.is_foreign_key_violation() {
                return Error::conflict("in_use", "the object is referenced by another object or refers to one that no longer exists");
            }
        }
        Error::internal(err)
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::internal(err)
    }
}
