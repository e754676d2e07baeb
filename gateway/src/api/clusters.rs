//! Engine clusters: where deployments run. The platform may provide one to every
//! account (the local cluster); account admins register their own. Each is
//! health-checked on registration and on demand.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, AccountGuard, AccountId};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use store::db::{new_id, now_ms, Db};
use store::names::{bounded_text, Name};

#[derive(Serialize, ToSchema)]
pub struct Cluster {
    pub id: String,
    pub name: String,
    pub rest_url: String,
    pub flink_version: String,
    pub engine_version: String,
    /// Provided by the platform to every account; it cannot be changed or removed.
    pub platform: bool,
    pub health: Health,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `healthy`, `unhealthy` or `unknown` (never checked).
    pub status: String,
    pub checked_at: Option<DateTime<Utc>>,
    /// Task managers and free slots when healthy; the failure when not.
    pub detail: Option<String>,
}

type ClusterRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
);
const CLUSTER_COLUMNS: &str =
    "id, account_id, name, rest_url, flink_version, engine_version, created_at, health_checked_at, healthy, health_detail";

fn cluster_from_row(row: ClusterRow) -> Cluster {
    let (
        id,
        account,
        name,
        rest_url,
        flink_version,
        engine_version,
        created,
        checked,
        healthy,
        detail,
    ) = row;
    let status = match healthy {
        Some(1) => "healthy",
        Some(_) => "unhealthy",
        None => "unknown",
    };
    Cluster {
        id,
        name,
        rest_url,
        flink_version,
        engine_version,
        platform: account.is_none(),
        health: Health {
            status: status.to_owned(),
            checked_at: checked.map(rfc3339),
            detail,
        },
        created_at: rfc3339(created),
    }
}

/// A cluster this account may use: its own or the platform's. 404 otherwise.
pub async fn visible_cluster(
    db: &Db,
    account: &AccountId,
    cluster_id: &str,
) -> Result<Cluster, Error> {
    let row: Option<ClusterRow> = sqlx::query_as(&format!(
        "select {CLUSTER_COLUMNS} from engine_clusters where id = $1 and (account_id = $2 or account_id is null)"
    ))
    .bind(cluster_id)
    .bind(account.as_str())
    .fetch_optional(&db.pool)
    .await?;
    row.map(cluster_from_row)
        .ok_or_else(|| Error::not_found("cluster"))
}

/// The cluster a project deploys to when none is named: its default, else the
/// platform's; its id and REST URL.
pub async fn project_cluster(db: &Db, project_id: &str) -> Result<Option<(String, String)>, Error> {
    Ok(sqlx::query_as(
        "select c.id, c.rest_url from engine_clusters c
          where c.id = (select default_cluster_id from projects where id = $1)
             or (c.account_id is null and c.name = $2)
          order by case when c.account_id is null then 1 else 0 end limit 1",
    )
    .bind(project_id)
    .bind(crate::engine::PLATFORM_CLUSTER_NAME)
    .fetch_optional(&db.pool)
    .await?)
}

/// Asks the cluster for its overview and records the answer.
pub async fn check_health(state: &AppState, cluster_id: &str, rest_url: &str) -> Result<(), Error> {
    let client = state.engines.client(rest_url)?;
    let (healthy, detail) = match client.overview().await {
        Ok(o) if o.taskmanagers > 0 => (
            1,
            format!(
                "Flink {}: {} task manager(s), {} of {} slots free, {} job(s) running",
                o.flink_version, o.taskmanagers, o.slots_available, o.slots_total, o.jobs_running
            ),
        ),
        Ok(o) => (
            0,
            format!(
                "Flink {} has no task manager: nothing can run",
                o.flink_version
            ),
        ),
        Err(e) => (0, e.to_string()),
    };
    sqlx::query("update engine_clusters set health_checked_at = $1, healthy = $2, health_detail = $3 where id = $4")
        .bind(now_ms())
        .bind(healthy)
        .bind(detail)
        .bind(cluster_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

#[utoipa::path(get, path = "/clusters", tag = "clusters",
    responses((status = 200, body = Vec<Cluster>), (status = 401, body = ErrorBody)))]
pub async fn list_clusters(
    State(state): State<AppState>,
    access: AccountGuard<can::account::Read>,
) -> ApiResult<JsonResponse<Vec<Cluster>>> {
    let rows: Vec<ClusterRow> = sqlx::query_as(&format!(
        "select {CLUSTER_COLUMNS} from engine_clusters where account_id = $1 or account_id is null order by name, id"
    ))
    .bind(access.account().as_str())
    .fetch_all(&state.db.pool)
    .await?;
    Ok(JsonResponse(
        rows.into_iter().map(cluster_from_row).collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterCluster {
    pub name: String,
    /// The JobManager's REST URL, e.g. `http://flink-jm:8081`.
    pub rest_url: String,
    /// e.g. `2.3.0` or `1.20.5`.
    pub flink_version: String,
    /// The product's engine version label, e.g. `1.0.3`.
    pub engine_version: String,
}

fn version_label(field: &str, raw: &str) -> Result<String, Error> {
    let ok = !raw.is_empty()
        && raw.len() <= 32
        && raw.split('.').count() >= 2
        && raw
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Error::invalid(
            field,
            format!("{field} must be dotted numbers like 2.3.0, got `{raw}`"),
        ))
    }
}

/// Registers a cluster for this account and checks its health at once.
#[utoipa::path(post, path = "/clusters", tag = "clusters", request_body = RegisterCluster,
    responses((status = 201, body = Cluster), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register_cluster(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageClusters>,
    Json(body): Json<RegisterCluster>,
) -> ApiResult<(StatusCode, JsonResponse<Cluster>)> {
    let name = Name::parse("name", &body.name)?;
    let rest_url = bounded_text("rest_url", body.rest_url.trim(), 500)?;
    let parsed = reqwest::Url::parse(&rest_url)
        .map_err(|e| Error::invalid("rest_url", format!("rest_url is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(
            Error::invalid("rest_url", "rest_url must be an http(s) URL with a host").into(),
        );
    }
    let flink_version = version_label("flink_version", &body.flink_version)?;
    let engine_version = version_label("engine_version", &body.engine_version)?;
    let (taken,): (i64,) = sqlx::query_as(
        "select count(*) from engine_clusters where (account_id = $1 or account_id is null) and name = $2",
    )
    .bind(access.account().as_str())
    .bind(name.as_str())
    .fetch_one(&state.db.pool)
    .await?;
    if taken > 0 {
        return Err(Error::already_exists(
            "name",
            format!("a cluster named `{}` already exists", name.as_str()),
        )
        .into());
    }
    let id = new_id();
    sqlx::query(
        "insert into engine_clusters (id, account_id, name, rest_url, flink_version, engine_version, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(access.account().as_str())
    .bind(name.as_str())
    .bind(rest_url.trim_end_matches('/'))
    .bind(&flink_version)
    .bind(&engine_version)
    .bind(now_ms())
    .execute(&state.db.pool)
    .await?;
    check_health(&state, &id, rest_url.trim_end_matches('/')).await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(visible_cluster(&state.db, access.account(), &id).await?),
    ))
}

#[utoipa::path(get, path = "/clusters/{cluster_id}", tag = "clusters", params(("cluster_id" = String, Path)),
    responses((status = 200, body = Cluster), (status = 404, body = ErrorBody)))]
pub async fn get_cluster(
    State(state): State<AppState>,
    access: AccountGuard<can::account::Read>,
    Path(cluster_id): Path<String>,
) -> ApiResult<JsonResponse<Cluster>> {
    Ok(JsonResponse(
        visible_cluster(&state.db, access.account(), &cluster_id).await?,
    ))
}

/// Checks the cluster now and answers with the result.
#[utoipa::path(post, path = "/clusters/{cluster_id}/health-check", tag = "clusters", params(("cluster_id" = String, Path)),
    responses((status = 200, body = Cluster), (status = 404, body = ErrorBody)))]
pub async fn check_cluster(
    State(state): State<AppState>,
    access: AccountGuard<can::account::Read>,
    Path(cluster_id): Path<String>,
) -> ApiResult<JsonResponse<Cluster>> {
    let cluster = visible_cluster(&state.db, access.account(), &cluster_id).await?;
    check_health(&state, &cluster.id, &cluster.rest_url).await?;
    Ok(JsonResponse(
        visible_cluster(&state.db, access.account(), &cluster_id).await?,
    ))
}

/// Removes one of this account's clusters from Sluice (the cluster itself is untouched).
#[utoipa::path(delete, path = "/clusters/{cluster_id}", tag = "clusters", params(("cluster_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_cluster(
    State(state): State<AppState>,
    access: AccountGuard<can::account::ManageClusters>,
    Path(cluster_id): Path<String>,
) -> ApiResult<StatusCode> {
    let cluster = visible_cluster(&state.db, access.account(), &cluster_id).await?;
    if cluster.platform {
        return Err(Error::forbidden("the platform's cluster cannot be removed").into());
    }
    sqlx::query("delete from engine_clusters where id = $1 and account_id = $2")
        .bind(&cluster_id)
        .bind(access.account().as_str())
        .execute(&state.db.pool)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
