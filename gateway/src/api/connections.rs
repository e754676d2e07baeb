//! Connections: registered data stores (Kafka, MySQL, ...), at most
//! `connections_per_project` per project. Secret properties are sealed with
//! AES-256-GCM (bound to the account and connection id) before they reach the
//! database, are never returned (only their keys are), and never logged.

use std::collections::BTreeMap;
use store::Error;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, AccountId, ProjectAccess, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::limits::ensure_below;
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use store::db::{new_id, now_ms};
use store::names::{property_key, Name};

const MAX_PROPERTIES: usize = 100;
const MAX_VALUE_CHARS: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionKind {
    Kafka,
    Mysql,
    Postgres,
    Elasticsearch,
    Redis,
    Mongodb,
    Hologres,
    Jdbc,
    S3,
}

impl ConnectionKind {
    fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

#[derive(Serialize, ToSchema)]
pub struct Connection {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub kind: ConnectionKind,
    pub properties: BTreeMap<String, String>,
    /// Keys of the secret properties that are set. Their values are write-only.
    pub secret_keys: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

type ConnectionRow = (String, String, String, String, String, String, i64, i64);
/// A connection row followed by its sealed secret properties.
type SealedConnectionRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
);
const CONNECTION_COLUMNS: &str =
    "c.id, c.project_id, c.name, c.kind, c.properties, c.secret_keys, c.created_at, c.updated_at";

fn connection_from_row(
    (id, project_id, name, kind, properties, secret_keys, created, updated): ConnectionRow,
) -> Result<Connection, Error> {
    Ok(Connection {
        id,
        project_id,
        name,
        kind: serde_json::from_value(serde_json::Value::String(kind)).map_err(Error::internal)?,
        properties: serde_json::from_str(&properties).map_err(Error::internal)?,
        secret_keys: serde_json::from_str(&secret_keys).map_err(Error::internal)?,
        created_at: rfc3339(created),
        updated_at: rfc3339(updated),
    })
}

fn check_properties(field: &str, props: &BTreeMap<String, String>) -> Result<(), Error> {
    if props.len() > MAX_PROPERTIES {
        return Err(Error::invalid(
            field,
            format!(
                "{field} holds at most {MAX_PROPERTIES} entries, got {}",
                props.len()
            ),
        ));
    }
    for (key, value) in props {
        property_key(field, key)?;
        if value.chars().count() > MAX_VALUE_CHARS || value.contains('\0') {
            return Err(Error::invalid(
                format!("{field}.{key}"),
                format!("values must be at most {MAX_VALUE_CHARS} characters, without NUL"),
            ));
        }
    }
    Ok(())
}

fn check_disjoint(
    properties: &BTreeMap<String, String>,
    secret_keys: impl IntoIterator<Item = String>,
) -> Result<(), Error> {
    for key in secret_keys {
        if properties.contains_key(&key) {
            return Err(Error::invalid(
                format!("secret_properties.{key}"),
                format!("`{key}` is set both as a property and as a secret property; keep it in one place"),
            ));
        }
    }
    Ok(())
}

/// What the ciphertext is bound to: a sealed value only opens in its own row.
pub fn binding(account_id: &str, connection_id: &str) -> String {
    format!("connection/{account_id}/{connection_id}")
}

fn seal(
    state: &AppState,
    account: &AccountId,
    connection_id: &str,
    secrets: &BTreeMap<String, String>,
) -> Result<String, Error> {
    let plain = serde_json::to_vec(secrets).map_err(Error::internal)?;
    state
        .secrets
        .seal(&plain, &binding(account.as_str(), connection_id))
        .map_err(Error::internal)
}

/// Decrypts a connection's secrets; for the engine when it deploys a job, never for the API.
pub fn open_secrets(
    state: &AppState,
    account: &AccountId,
    connection_id: &str,
    sealed: &str,
) -> Result<BTreeMap<String, String>, Error> {
    let plain = state
        .secrets
        .open(sealed, &binding(account.as_str(), connection_id))
        .map_err(Error::internal)?;
    serde_json::from_slice(&plain).map_err(Error::internal)
}

async fn ensure_connection_name_free(
    tx: &mut store::db::Tx,
    project_id: &str,
    name: &str,
    except: &str,
) -> Result<(), Error> {
    let (n,): (i64,) = sqlx::query_as(
        "select count(*) from connections where project_id = $1 and name = $2 and id <> $3",
    )
    .bind(project_id)
    .bind(name)
    .bind(except)
    .fetch_one(&mut **tx)
    .await?;
    if n > 0 {
        return Err(Error::already_exists(
            "name",
            format!("a connection named `{name}` already exists in this project"),
        ));
    }
    Ok(())
}

#[utoipa::path(get, path = "/projects/{project_id}/connections", tag = "connections", params(("project_id" = String, Path), PageQuery),
    responses((status = 200, body = Paginated<Connection>), (status = 404, body = ErrorBody)))]
pub async fn list_connections(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path(project_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Connection>>> {
    let page = q.page()?;
    let rows: Vec<ConnectionRow> = sqlx::query_as(&format!(
        "select {CONNECTION_COLUMNS} from connections c join projects p on p.id = c.project_id
          where p.account_id = $1 and c.project_id = $2 and c.id > $3 order by c.id limit $4"
    ))
    .bind(access.account().as_str())
    .bind(&project_id)
    .bind(&page.after)
    .bind(page.limit + 1)
    .fetch_all(&state.db.pool)
    .await?;
    let items = rows
        .into_iter()
        .map(connection_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(JsonResponse(Paginated::from_rows(items, &page, |c| &c.id)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    pub name: String,
    pub kind: ConnectionKind,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Passwords, keys and tokens. Stored encrypted; never returned.
    #[serde(default)]
    pub secret_properties: BTreeMap<String, String>,
}

#[utoipa::path(post, path = "/projects/{project_id}/connections", tag = "connections", params(("project_id" = String, Path)), request_body = CreateConnection,
    responses((status = 201, body = Connection), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_connection(
    State(state): State<AppState>,
    access: ProjectGuard<can::ManageConnections>,
    Path(project_id): Path<String>,
    Json(body): Json<CreateConnection>,
) -> ApiResult<(StatusCode, JsonResponse<Connection>)> {
    let name = Name::parse("name", &body.name)?;
    check_properties("properties", &body.properties)?;
    check_properties("secret_properties", &body.secret_properties)?;
    check_disjoint(&body.properties, body.secret_properties.keys().cloned())?;
    let limits = state.limits(access.plan());
    let id = new_id();
    let sealed = seal(&state, access.account(), &id, &body.secret_properties)?;
    let secret_keys: Vec<String> = body.secret_properties.keys().cloned().collect();
    let mut write = access.scope().write().await?;
    ensure_below(
        write.connections().count().await?,
        limits.connections_per_project,
        "connections_per_project",
        "this project",
    )?;
    ensure_connection_name_free(write.tx(), &project_id, name.as_str(), "").await?;
    let now = now_ms();
    sqlx::query(
        "insert into connections (id, project_id, name, kind, properties, secret_properties, secret_keys, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&id)
    .bind(&project_id)
    .bind(name.as_str())
    .bind(body.kind.as_str())
    .bind(serde_json::to_string(&body.properties).map_err(Error::internal)?)
    .bind(&sealed)
    .bind(serde_json::to_string(&secret_keys).map_err(Error::internal)?)
    .bind(now)
    .execute(&mut **write.tx())
    .await?;
    write.commit().await?;
    let created = Connection {
        id,
        project_id,
        name: name.as_str().to_owned(),
        kind: body.kind,
        properties: body.properties,
        secret_keys,
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
    };
    Ok((StatusCode::CREATED, JsonResponse(created)))
}

async fn fetch_connection<'c>(
    db: impl sqlx::any::AnyExecutor<'c>,
    access: &ProjectAccess,
    project_id: &str,
    connection_id: &str,
) -> Result<(Connection, String), Error> {
    let row: Option<SealedConnectionRow> = sqlx::query_as(&format!(
        "select {CONNECTION_COLUMNS}, c.secret_properties from connections c join projects p on p.id = c.project_id
          where p.account_id = $1 and c.project_id = $2 and c.id = $3"
    ))
    .bind(access.account().as_str())
    .bind(project_id)
    .bind(connection_id)
    .fetch_optional(db)
    .await?;
    let (id, project, name, kind, props, keys, created, updated, sealed) =
        row.ok_or_else(|| Error::not_found("connection"))?;
    Ok((
        connection_from_row((id, project, name, kind, props, keys, created, updated))?,
        sealed,
    ))
}

#[utoipa::path(get, path = "/projects/{project_id}/connections/{connection_id}", tag = "connections",
    params(("project_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 200, body = Connection), (status = 404, body = ErrorBody)))]
pub async fn get_connection(
    State(state): State<AppState>,
    access: ProjectGuard<can::Read>,
    Path((project_id, connection_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<Connection>> {
    Ok(JsonResponse(
        fetch_connection(&state.db.pool, &access, &project_id, &connection_id)
            .await?
            .0,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConnection {
    pub name: Option<String>,
    /// Replaces all (non-secret) properties.
    pub properties: Option<BTreeMap<String, String>>,
    /// Sets the given secret properties; a null value removes that key. Others are kept.
    pub secret_properties: Option<BTreeMap<String, Option<String>>>,
}

#[utoipa::path(patch, path = "/projects/{project_id}/connections/{connection_id}", tag = "connections",
    params(("project_id" = String, Path), ("connection_id" = String, Path)), request_body = UpdateConnection,
    responses((status = 200, body = Connection), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_connection(
    State(state): State<AppState>,
    access: ProjectGuard<can::ManageConnections>,
    Path((project_id, connection_id)): Path<(String, String)>,
    Json(body): Json<UpdateConnection>,
) -> ApiResult<JsonResponse<Connection>> {
    let name = body
        .name
        .as_deref()
        .map(|n| Name::parse("name", n))
        .transpose()?;
    if let Some(p) = &body.properties {
        check_properties("properties", p)?;
    }
    let mut write = access.scope().write().await?;
    let (current, sealed) =
        fetch_connection(&mut **write.tx(), &access, &project_id, &connection_id).await?;
    let mut secrets = open_secrets(&state, access.account(), &connection_id, &sealed)?;
    if let Some(changes) = body.secret_properties {
        for (key, value) in changes {
            match value {
                Some(v) => {
                    secrets.insert(key, v);
                }
                None => {
                    secrets.remove(&key);
                }
            }
        }
        check_properties("secret_properties", &secrets)?;
    }
    let properties = body.properties.unwrap_or(current.properties);
    check_disjoint(&properties, secrets.keys().cloned())?;
    let name = name.map(|n| n.as_str().to_owned()).unwrap_or(current.name);
    ensure_connection_name_free(write.tx(), &project_id, &name, &connection_id).await?;
    let secret_keys: Vec<String> = secrets.keys().cloned().collect();
    sqlx::query(
        "update connections set name = $1, properties = $2, secret_properties = $3, secret_keys = $4, updated_at = $5
          where id = $6 and project_id = $7",
    )
    .bind(&name)
    .bind(serde_json::to_string(&properties).map_err(Error::internal)?)
    .bind(seal(&state, access.account(), &connection_id, &secrets)?)
    .bind(serde_json::to_string(&secret_keys).map_err(Error::internal)?)
    .bind(now_ms())
    .bind(&connection_id)
    .bind(&project_id)
    .execute(&mut **write.tx())
    .await?;
    write.commit().await?;
    Ok(JsonResponse(
        fetch_connection(&state.db.pool, &access, &project_id, &connection_id)
            .await?
            .0,
    ))
}

#[utoipa::path(delete, path = "/projects/{project_id}/connections/{connection_id}", tag = "connections",
    params(("project_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_connection(
    State(state): State<AppState>,
    access: ProjectGuard<can::ManageConnections>,
    Path((project_id, connection_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let done = sqlx::query("delete from connections where id = $1 and project_id in (select id from projects where id = $2 and account_id = $3)")
        .bind(&connection_id)
        .bind(&project_id)
        .bind(access.account().as_str())
        .execute(&state.db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("connection").into());
    }
    Ok(StatusCode::NO_CONTENT)
}
