//! Functions registered from a project's UDF artifacts: registering a JAR reads its
//! function classes from their bytecode (`domain::udf`) and makes each callable by
//! name in every SQL job of the project (Sluice adds the JAR and creates the function
//! when a job calls it). Registering again re-reads the JAR; a name another artifact
//! of the project registered is refused, naming both.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::artifacts::ArtifactKind;
use store::pipelines::{FunctionRow, NewFunction};
use store::{Error, ProjectWrite};
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, ProjectGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Path;
use crate::AppState;
use domain::udf::{self, ScanError};

#[derive(Serialize, ToSchema)]
pub struct Function {
    /// The name SQL calls it by: the class's simple name in snake case.
    pub name: String,
    pub artifact_id: String,
    /// The class Flink loads.
    pub class_name: String,
    /// `scalar`, `table`, `aggregate`, `table_aggregate`, `async_scalar`,
    /// `async_table` or `process_table`.
    pub kind: String,
    pub registered_at: DateTime<Utc>,
}

impl From<FunctionRow> for Function {
    fn from(row: FunctionRow) -> Self {
        Function {
            name: row.name,
            artifact_id: row.artifact_id,
            class_name: row.class_name,
            kind: row.kind,
            registered_at: rfc3339(row.registered_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ArtifactFunctions {
    pub artifact_id: String,
    /// Empty when the artifact is not registered as a UDF artifact.
    pub functions: Vec<Function>,
}

#[derive(Serialize, ToSchema)]
pub struct FunctionList {
    pub items: Vec<Function>,
}

/// Registers a JAR artifact as a UDF artifact, or reads it again: its function classes
/// (public, concrete, with a public no-argument constructor, extending Flink's
/// `ScalarFunction`, `TableFunction`, `AggregateFunction`, `TableAggregateFunction`,
/// their async forms or `ProcessTableFunction`) become the project's functions.
#[utoipa::path(put, path = "/projects/{project_id}/artifacts/{artifact_id}/functions", tag = "artifacts",
    params(("project_id" = String, Path), ("artifact_id" = String, Path)),
    responses((status = 200, body = ArtifactFunctions), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register_functions(
    State(state): State<AppState>,
    access: ProjectGuard<can::WriteDrafts>,
    Path((project_id, artifact_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<ArtifactFunctions>> {
    let artifact = access.scope().artifacts().get(&artifact_id).await?;
    if artifact.kind != ArtifactKind::Jar {
        return Err(Error::invalid(
            "artifact_id",
            format!(
                "`{}` is a {} file; only a JAR can be a UDF artifact",
                artifact.name,
                artifact.kind.as_str()
            ),
        )
        .into());
    }
    let bytes = tokio::fs::read(state.files.path(&project_id, &artifact_id)).await?;
    let found = functions_in(&artifact.name, bytes).await?;
    let mut write = access.scope().write().await?;
    record_functions(&mut write, &artifact_id, &artifact.name, &found).await?;
    write.commit().await?;
    artifact_functions(&access, &artifact_id)
        .await
        .map(JsonResponse)
}

/// The function classes in a JAR's bytes; refused (422 on `artifact_id`) when it is not
/// a JAR or holds none.
pub(super) async fn functions_in(
    artifact_name: &str,
    bytes: Vec<u8>,
) -> Result<Vec<udf::FoundFunction>, Error> {
    let found = tokio::task::spawn_blocking(move || udf::scan_jar(&bytes))
        .await
        .map_err(Error::internal)?
        .map_err(|e| match e {
            ScanError::NotAJar(reason) => Error::invalid(
                "artifact_id",
                format!("`{artifact_name}` is not a JAR (zip) archive: {reason}"),
            ),
            e @ ScanError::Unreadable { .. } => {
                Error::invalid("artifact_id", format!("`{artifact_name}`: {e}"))
            }
        })?;
    if found.is_empty() {
        return Err(Error::invalid(
            "artifact_id",
            format!(
                "`{artifact_name}` holds no function class: a function is a public, concrete class with a public no-argument constructor that extends ScalarFunction, TableFunction, AggregateFunction or TableAggregateFunction (org.apache.flink.table.functions)"
            ),
        ));
    }
    Ok(found)
}

/// Makes `found` the artifact's registered functions inside the project's write
/// transaction: refused (409) when two share a name or another artifact has one.
pub(super) async fn record_functions(
    write: &mut ProjectWrite,
    artifact_id: &str,
    artifact_name: &str,
    found: &[udf::FoundFunction],
) -> Result<(), Error> {
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    // One JAR can hold two classes of the same simple name in different packages.
    if let Some(twice) = names
        .iter()
        .enumerate()
        .find_map(|(i, n)| names[..i].contains(n).then_some(n))
    {
        let classes: Vec<&str> = found
            .iter()
            .filter(|f| &f.name.as_str() == twice)
            .map(|f| f.class_name.as_str())
            .collect();
        return Err(Error::already_exists(
            "artifact_id",
            format!(
                "`{artifact_name}` holds two functions named `{twice}` ({}); SQL could call only one",
                classes.join(", ")
            ),
        ));
    }
    let clashes = write.functions().clashes(artifact_id, &names).await?;
    if !clashes.is_empty() {
        let named: Vec<String> = clashes
            .iter()
            .map(|c| format!("`{}` (from `{}`)", c.name, c.artifact_name))
            .collect();
        return Err(Error::already_exists(
            "artifact_id",
            format!(
                "functions of this project already have these names: {}; unregister that artifact's functions first",
                named.join(", ")
            ),
        ));
    }
    let new: Vec<NewFunction> = found
        .iter()
        .map(|f| NewFunction {
            name: &f.name,
            class_name: &f.class_name,
            kind: f.kind.as_str(),
        })
        .collect();
    write.functions().replace(artifact_id, &new).await
}

/// The functions registered from the artifact (none when it is not a UDF artifact).
#[utoipa::path(get, path = "/projects/{project_id}/artifacts/{artifact_id}/functions", tag = "artifacts",
    params(("project_id" = String, Path), ("artifact_id" = String, Path)),
    responses((status = 200, body = ArtifactFunctions), (status = 404, body = ErrorBody)))]
pub async fn get_artifact_functions(
    access: ProjectGuard<can::Read>,
    Path((_project_id, artifact_id)): Path<(String, String)>,
) -> ApiResult<JsonResponse<ArtifactFunctions>> {
    access.scope().artifacts().get(&artifact_id).await?;
    artifact_functions(&access, &artifact_id)
        .await
        .map(JsonResponse)
}

async fn artifact_functions(
    access: &crate::access::ProjectAccess,
    artifact_id: &str,
) -> ApiResult<ArtifactFunctions> {
    let rows = access.scope().functions().of_artifact(artifact_id).await?;
    Ok(ArtifactFunctions {
        artifact_id: artifact_id.to_owned(),
        functions: rows.into_iter().map(Function::from).collect(),
    })
}

/// Unregisters the artifact's functions; refused while a deployment calls one.
#[utoipa::path(delete, path = "/projects/{project_id}/artifacts/{artifact_id}/functions", tag = "artifacts",
    params(("project_id" = String, Path), ("artifact_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn unregister_functions(
    access: ProjectGuard<can::WriteDrafts>,
    Path((_project_id, artifact_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    access.scope().artifacts().get(&artifact_id).await?;
    let resources = access.scope().pipeline_resources().await?;
    let mut write = access.scope().write().await?;
    domain::pipeline::ensure_no_deployment_uses(&mut write, &resources, &artifact_id).await?;
    write.functions().unregister(&artifact_id).await?;
    write.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every function registered in the project, by name.
#[utoipa::path(get, path = "/projects/{project_id}/functions", tag = "artifacts",
    params(("project_id" = String, Path)),
    responses((status = 200, body = FunctionList), (status = 404, body = ErrorBody)))]
pub async fn list_functions(
    access: ProjectGuard<can::Read>,
    Path(_project_id): Path<String>,
) -> ApiResult<JsonResponse<FunctionList>> {
    let rows = access.scope().functions().list().await?;
    Ok(JsonResponse(FunctionList {
        items: rows.into_iter().map(Function::from).collect(),
    }))
}
