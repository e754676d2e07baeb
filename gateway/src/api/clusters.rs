//! Engine clusters: where deployments run. The platform may provide one to every
//! account (the local cluster); account admins register their own. Each is
//! health-checked on registration and on demand.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use engine_client::{ClusterOverview, EngineError};
use serde::{Deserialize, Serialize};
use store::Error;
use utoipa::ToSchema;

use super::rfc3339;
use crate::access::{can, AccountGuard};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use store::clusters::{ClusterRow, NewCluster};
use store::names::{bounded_text, Name};
use store::{AccountScope, ProjectScope};

#[derive(Serialize, ToSchema)]
pub struct Cluster {
    pub id: String,
    pub name: String,
    pub rest_url: String,
    pub flink_version: String,
    pub engine_version: String,
    /// Provided by the platform to every account; it cannot be changed or removed.
    pub platform: bool,
    /// A session cluster for development: debug runs of SQL drafts go only to such a
    /// cluster (deployments keep their own placement rules).
    pub debug_sessions: bool,
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

impl From<ClusterRow> for Cluster {
    fn from(row: ClusterRow) -> Self {
        let status = match row.healthy {
            Some(1) => "healthy",
            Some(_) => "unhealthy",
            None => "unknown",
        };
        Cluster {
            id: row.id,
            name: row.name,
            rest_url: row.rest_url,
            flink_version: row.flink_version,
            engine_version: row.engine_version,
            platform: row.account_id.is_none(),
            debug_sessions: row.debug_sessions == 1,
            health: Health {
                status: status.to_owned(),
                checked_at: row.health_checked_at.map(rfc3339),
                detail: row.health_detail,
            },
            created_at: rfc3339(row.created_at),
        }
    }
}

/// A cluster this account may use: its own or the platform's. 404 otherwise.
pub async fn visible_cluster(scope: &AccountScope, cluster_id: &str) -> Result<Cluster, Error> {
    Ok(scope.clusters().visible(cluster_id).await?.into())
}

/// The cluster a project deploys to when none is named: its default, else the
/// platform's; its id and REST URL.
pub async fn project_cluster(scope: &ProjectScope) -> Result<Option<(String, String)>, Error> {
    scope
        .default_cluster(domain::engine::PLATFORM_CLUSTER_NAME)
        .await
}

/// Asks the cluster for its overview and records the answer. A cluster that runs
/// another Flink than it was registered with is unhealthy: its engine version's
/// lifecycle would be judged on a version it does not run.
pub async fn check_health(
    state: &AppState,
    scope: &AccountScope,
    cluster_id: &str,
    rest_url: &str,
    registered_flink: &str,
) -> Result<(), Error> {
    let overview = state.engines.client(rest_url)?.overview().await;
    record_health(scope, cluster_id, registered_flink, &overview).await
}

/// Records what the cluster's overview (or the failure to get it) says of its health.
async fn record_health(
    scope: &AccountScope,
    cluster_id: &str,
    registered_flink: &str,
    overview: &Result<ClusterOverview, EngineError>,
) -> Result<(), Error> {
    let (healthy, detail) = match overview {
        Ok(o) if o.flink_version != registered_flink => (
            false,
            format!(
                "runs Flink {}, but is registered as Flink {registered_flink}: deployments are refused until it is registered again with the version it runs",
                o.flink_version
            ),
        ),
        Ok(o) if o.taskmanagers > 0 => (
            true,
            format!(
                "Flink {}: {} task manager(s), {} of {} slots free, {} job(s) running",
                o.flink_version, o.taskmanagers, o.slots_available, o.slots_total, o.jobs_running
            ),
        ),
        Ok(o) => (
            false,
            format!(
                "Flink {} has no task manager: nothing can run",
                o.flink_version
            ),
        ),
        Err(e) => (false, e.to_string()),
    };
    scope
        .clusters()
        .record_health(cluster_id, healthy, &detail)
        .await
}

#[utoipa::path(get, path = "/clusters", tag = "clusters",
    responses((status = 200, body = Vec<Cluster>), (status = 401, body = ErrorBody)))]
pub async fn list_clusters(
    access: AccountGuard<can::account::Read>,
) -> ApiResult<JsonResponse<Vec<Cluster>>> {
    let rows = access.scope().clusters().list().await?;
    Ok(JsonResponse(rows.into_iter().map(Cluster::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterCluster {
    pub name: String,
    /// The JobManager's REST URL, e.g. `http://flink-jm:8081`.
    pub rest_url: String,
    /// e.g. `2.3.0` or `1.20.5`. Read from the engine: if given, it must be what the
    /// engine reports; needed only when the engine does not answer at registration.
    #[serde(default)]
    pub flink_version: Option<String>,
    /// The product's engine version label, e.g. `1.0.3`. Where operators scheduled
    /// engine versions for the cluster's Flink version, one of those.
    pub engine_version: String,
    /// A session cluster for development: debug runs of SQL drafts may go to it.
    #[serde(default)]
    pub debug_sessions: bool,
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

/// The Flink version the cluster runs, as its `overview` says; the one `claimed` only
/// when it does not answer (checked again by every health check and before every run).
fn engine_flink_version(
    overview: &Result<ClusterOverview, EngineError>,
    rest_url: &str,
    claimed: Option<String>,
) -> Result<String, Error> {
    match overview {
        Ok(overview) => match claimed {
            Some(claimed) if claimed != overview.flink_version => Err(Error::invalid(
                "flink_version",
                format!(
                    "the cluster at {rest_url} runs Flink {}, not {claimed}",
                    overview.flink_version
                ),
            )),
            _ => Ok(overview.flink_version.clone()),
        },
        Err(e) => claimed.ok_or_else(|| {
            Error::invalid(
                "flink_version",
                format!("the cluster at {rest_url} does not answer ({e}), so its Flink version cannot be read from it: name it in flink_version"),
            )
        }),
    }
}

/// An engine version label must be one operators scheduled for the cluster's Flink
/// version, where they scheduled any: a label of another version (or one they never
/// scheduled) would put the cluster under another lifecycle than the Flink it runs.
async fn check_engine_version(
    clusters: &store::clusters::Clusters<'_>,
    label: &str,
    flink_version: &str,
) -> Result<(), Error> {
    match clusters.scheduled_flink_version(label).await? {
        Some(scheduled) if scheduled != flink_version => Err(Error::invalid(
            "engine_version",
            format!("engine version {label} is Flink {scheduled}; the cluster runs Flink {flink_version}"),
        )),
        Some(_) => Ok(()),
        None => {
            let labels = clusters.scheduled_labels(flink_version).await?;
            if labels.is_empty() {
                Ok(())
            } else {
                Err(Error::invalid(
                    "engine_version",
                    format!(
                        "Flink {flink_version} is engine version {}: name one of them, not {label}",
                        labels.join(", ")
                    ),
                ))
            }
        }
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
    let claimed = body
        .flink_version
        .as_deref()
        .map(|v| version_label("flink_version", v))
        .transpose()?;
    let engine_version = version_label("engine_version", &body.engine_version)?;
    let clusters = access.scope().clusters();
    if clusters.name_taken(name.as_str()).await? {
        return Err(Error::already_exists(
            "name",
            format!("a cluster named `{}` already exists", name.as_str()),
        )
        .into());
    }
    let rest_url = rest_url.trim_end_matches('/');
    // One address runs one engine version: under another label it would follow another
    // lifecycle (the platform's cluster included).
    for (existing, label) in clusters.at_address(rest_url).await? {
        if label != engine_version {
            return Err(Error::already_exists(
                "rest_url",
                format!("cluster `{existing}` is registered at {rest_url} as engine version {label}; one address runs one engine version"),
            )
            .into());
        }
    }
    // One request answers both the version and the first health check.
    let overview = state.engines.client(rest_url)?.overview().await;
    let flink_version = engine_flink_version(&overview, rest_url, claimed)?;
    check_engine_version(&clusters, &engine_version, &flink_version).await?;
    let id = clusters
        .insert(&NewCluster {
            name: name.as_str(),
            rest_url,
            flink_version: &flink_version,
            engine_version: &engine_version,
            debug_sessions: body.debug_sessions,
        })
        .await?;
    record_health(access.scope(), &id, &flink_version, &overview).await?;
    Ok((
        StatusCode::CREATED,
        JsonResponse(visible_cluster(access.scope(), &id).await?),
    ))
}

#[utoipa::path(get, path = "/clusters/{cluster_id}", tag = "clusters", params(("cluster_id" = String, Path)),
    responses((status = 200, body = Cluster), (status = 404, body = ErrorBody)))]
pub async fn get_cluster(
    access: AccountGuard<can::account::Read>,
    Path(cluster_id): Path<String>,
) -> ApiResult<JsonResponse<Cluster>> {
    Ok(JsonResponse(
        visible_cluster(access.scope(), &cluster_id).await?,
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
    let cluster = visible_cluster(access.scope(), &cluster_id).await?;
    check_health(
        &state,
        access.scope(),
        &cluster.id,
        &cluster.rest_url,
        &cluster.flink_version,
    )
    .await?;
    Ok(JsonResponse(
        visible_cluster(access.scope(), &cluster_id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCluster {
    /// Whether debug runs of SQL drafts may go to this cluster.
    pub debug_sessions: bool,
}

/// Changes one of this account's clusters (the platform's is the configuration's).
#[utoipa::path(patch, path = "/clusters/{cluster_id}", tag = "clusters", params(("cluster_id" = String, Path)),
    request_body = UpdateCluster,
    responses((status = 200, body = Cluster), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_cluster(
    access: AccountGuard<can::account::ManageClusters>,
    Path(cluster_id): Path<String>,
    Json(body): Json<UpdateCluster>,
) -> ApiResult<JsonResponse<Cluster>> {
    let cluster = visible_cluster(access.scope(), &cluster_id).await?;
    if cluster.platform {
        return Err(Error::forbidden(
            "the platform's cluster is changed by the platform's configuration",
        )
        .into());
    }
    access
        .scope()
        .clusters()
        .set_debug_sessions(&cluster_id, body.debug_sessions)
        .await?;
    Ok(JsonResponse(
        visible_cluster(access.scope(), &cluster_id).await?,
    ))
}

/// Removes one of this account's clusters from Sluice (the cluster itself is untouched).
#[utoipa::path(delete, path = "/clusters/{cluster_id}", tag = "clusters", params(("cluster_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_cluster(
    access: AccountGuard<can::account::ManageClusters>,
    Path(cluster_id): Path<String>,
) -> ApiResult<StatusCode> {
    let cluster = visible_cluster(access.scope(), &cluster_id).await?;
    if cluster.platform {
        return Err(Error::forbidden("the platform's cluster cannot be removed").into());
    }
    access.scope().clusters().delete(&cluster_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
