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
use crate::access::{can, AccountId, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::AppState;
use domain::limits::ensure_below;
use store::connections::{ConnectionRow, ConnectionValues};
use store::db::new_id;
use store::names::{property_key, Name};
use store::ProjectWrite;

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

impl TryFrom<ConnectionRow> for Connection {
    type Error = Error;

    fn try_from(row: ConnectionRow) -> Result<Self, Error> {
        Ok(Connection {
            id: row.id,
            project_id: row.project_id,
            name: row.name,
            kind: serde_json::from_value(serde_json::Value::String(row.kind))
                .map_err(Error::internal)?,
            properties: serde_json::from_str(&row.properties).map_err(Error::internal)?,
            secret_keys: serde_json::from_str(&row.secret_keys).map_err(Error::internal)?,
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        })
    }
}

/// A name as every name is, and without `}`: a job refers to a connection as
/// `${connections.<name>.<property>}`, which ends at the first `}`.
fn connection_name(raw: &str) -> Result<Name, Error> {
    let name = Name::parse("name", raw)?;
    if name.as_str().contains('}') {
        return Err(Error::invalid(
            "name",
            "a connection name cannot contain `}`: jobs refer to it as ${connections.<name>.<property>}, which ends at the first `}`",
        ));
    }
    Ok(name)
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

fn seal(
    state: &AppState,
    account: &AccountId,
    connection_id: &str,
    secrets: &BTreeMap<String, String>,
) -> Result<String, Error> {
    let plain = serde_json::to_vec(secrets).map_err(Error::internal)?;
    state
        .secrets
        .seal(
            &plain,
            &domain::pipeline::connection_binding(account.as_str(), connection_id),
        )
        .map_err(Error::internal)
}

async fn ensure_connection_name_free(
    write: &mut ProjectWrite,
    name: &str,
    except: &str,
) -> Result<(), Error> {
    if write.connections().name_taken(name, except).await? {
        return Err(Error::already_exists(
            "name",
            format!("a connection named `{name}` already exists in this project"),
        ));
    }
    Ok(())
}

fn to_json(value: &impl Serialize) -> Result<String, Error> {
    serde_json::to_string(value).map_err(Error::internal)
}

#[utoipa::path(get, path = "/projects/{project_id}/connections", tag = "connections", params(("project_id" = String, Path), PageQuery),
    responses((status = 200, body = Paginated<Connection>), (status = 404, body = ErrorBody)))]
pub async fn list_connections(
    access: ProjectGuard<can::Read>,
    Path(_project_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<JsonResponse<Paginated<Connection>>> {
    let page = q.page()?;
    let rows = access.scope().connections().list(&page).await?;
    let items = rows
        .into_iter()
        .map(Connection::try_from)
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
    Path(_project_id): Path<String>,
    Json(body): Json<CreateConnection>,
) -> ApiResult<(StatusCode, JsonResponse<Connection>)> {
    let name = connection_name(&body.name)?;
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
    ensure_connection_name_free(&mut write, name.as_str(), "").await?;
    let row = write
        .connections()
        .insert(
            &id,
            &body.kind.as_str(),
            &ConnectionValues {
                name: name.as_str(),
                properties: &to_json(&body.properties)?,
                sealed: &sealed,
                secret_keys: &to_json(&secret_keys)?,
            },
        )
        .await?;
    write.commit().await?;
    Ok((StatusCode::CREATED, JsonResponse(row.try_into()?)))
}

#[utoipa::path(get, path = "/projects/{project_id}/connections/{connection_id}", tag = "connections",
    params(("project_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 200, body = Connection), (status = 404, body = ErrorBody)))]
pub async fn get_connection(
    access: ProjectGuard<can::Read>,
    Path((_project_id, connection_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<Connection>> {
    let row = access.scope().connections().get(&connection_id).await?;
    Ok(JsonResponse(row.try_into()?))
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
    Path((_project_id, connection_id)): Path<(String, String)>,
    Json(body): Json<UpdateConnection>,
) -> ApiResult<JsonResponse<Connection>> {
    let name = body.name.as_deref().map(connection_name).transpose()?;
    if let Some(p) = &body.properties {
        check_properties("properties", p)?;
    }
    let mut write = access.scope().write().await?;
    let sealed = write.connections().get_sealed(&connection_id).await?;
    let current = Connection::try_from(sealed.connection)?;
    let mut secrets = domain::pipeline::open_connection_secrets(
        &state.secrets,
        access.account().as_str(),
        &connection_id,
        &sealed.secret_properties,
    )?;
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
    ensure_connection_name_free(&mut write, &name, &connection_id).await?;
    let secret_keys: Vec<String> = secrets.keys().cloned().collect();
    write
        .connections()
        .update(
            &connection_id,
            &ConnectionValues {
                name: &name,
                properties: &to_json(&properties)?,
                sealed: &seal(&state, access.account(), &connection_id, &secrets)?,
                secret_keys: &to_json(&secret_keys)?,
            },
        )
        .await?;
    write.commit().await?;
    let row = access.scope().connections().get(&connection_id).await?;
    Ok(JsonResponse(row.try_into()?))
}

#[utoipa::path(delete, path = "/projects/{project_id}/connections/{connection_id}", tag = "connections",
    params(("project_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_connection(
    access: ProjectGuard<can::ManageConnections>,
    Path((_project_id, connection_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut write = access.scope().write().await?;
    if !write.connections().delete(&connection_id).await? {
        return Err(Error::not_found("connection").into());
    }
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
