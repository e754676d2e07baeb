//! Engine clusters: the platform's (no account, offered to every account) and each
//! account's own. An account sees both; it changes only its own. The reconciler keeps
//! each cluster's health, the SQL runner's jar on it and the orphaned jobs found on it
//! through [`AllTenants`].

use crate::all_tenants::AllTenants;
use crate::db::{new_id, now_ms, Db};
use crate::scope::{AccountScope, ProjectScope};
use crate::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClusterRow {
    pub id: String,
    /// Absent: the platform's cluster.
    pub account_id: Option<String>,
    pub name: String,
    pub rest_url: String,
    pub flink_version: String,
    pub engine_version: String,
    pub created_at: i64,
    pub health_checked_at: Option<i64>,
    /// 1 healthy, 0 not, absent never checked.
    pub healthy: Option<i64>,
    pub health_detail: Option<String>,
    /// 1: it takes debug runs of SQL drafts (a session cluster for development).
    pub debug_sessions: i64,
}

/// A cluster to register for the account.
pub struct NewCluster<'a> {
    pub name: &'a str,
    pub rest_url: &'a str,
    pub flink_version: &'a str,
    pub engine_version: &'a str,
    pub debug_sessions: bool,
}

const COLUMNS: &str = "id, account_id, name, rest_url, flink_version, engine_version, created_at, health_checked_at, healthy, health_detail, debug_sessions";

/// The clusters an account may use.
pub struct Clusters<'a>(&'a AccountScope);

impl AccountScope {
    pub fn clusters(&self) -> Clusters<'_> {
        Clusters(self)
    }
}

impl Clusters<'_> {
    pub async fn list(&self) -> Result<Vec<ClusterRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {COLUMNS} from engine_clusters where account_id = $1 or account_id is null order by name, id"
        ))
        .bind(scope.account_id())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// The account's own cluster or the platform's; not found otherwise.
    pub async fn visible(&self, cluster_id: &str) -> Result<ClusterRow, Error> {
        let scope = self.0;
        let row: Option<ClusterRow> = sqlx::query_as(&format!(
            "select {COLUMNS} from engine_clusters where id = $1 and (account_id = $2 or account_id is null)"
        ))
        .bind(cluster_id)
        .bind(scope.account_id())
        .fetch_optional(&scope.db().pool)
        .await?;
        row.ok_or_else(|| Error::not_found("cluster"))
    }

    /// Whether a cluster the account sees is named `name`.
    pub async fn name_taken(&self, name: &str) -> Result<bool, Error> {
        let scope = self.0;
        let (taken,): (i64,) = sqlx::query_as(
            "select count(*) from engine_clusters where (account_id = $1 or account_id is null) and name = $2",
        )
        .bind(scope.account_id())
        .bind(name)
        .fetch_one(&scope.db().pool)
        .await?;
        Ok(taken > 0)
    }

    /// The clusters the account sees at `rest_url`: their names and engine versions.
    pub async fn at_address(&self, rest_url: &str) -> Result<Vec<(String, String)>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select name, engine_version from engine_clusters
              where (account_id = $1 or account_id is null) and rest_url = $2 order by name",
        )
        .bind(scope.account_id())
        .bind(rest_url)
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// The Flink version of engine version `label` as operators scheduled it, if they did.
    pub async fn scheduled_flink_version(&self, label: &str) -> Result<Option<String>, Error> {
        Ok(
            sqlx::query_scalar("select flink_version from engine_versions where label = $1")
                .bind(label)
                .fetch_optional(&self.0.db().pool)
                .await?,
        )
    }

    /// The engine versions operators scheduled for Flink `flink_version`.
    pub async fn scheduled_labels(&self, flink_version: &str) -> Result<Vec<String>, Error> {
        Ok(sqlx::query_scalar(
            "select label from engine_versions where flink_version = $1 order by label",
        )
        .bind(flink_version)
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    pub async fn insert(&self, cluster: &NewCluster<'_>) -> Result<String, Error> {
        let scope = self.0;
        let id = new_id();
        sqlx::query(
            "insert into engine_clusters (id, account_id, name, rest_url, flink_version, engine_version, created_at, debug_sessions)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(scope.account_id())
        .bind(cluster.name)
        .bind(cluster.rest_url)
        .bind(cluster.flink_version)
        .bind(cluster.engine_version)
        .bind(now_ms())
        .bind(i64::from(cluster.debug_sessions))
        .execute(&scope.db().pool)
        .await?;
        Ok(id)
    }

    /// Marks one of the account's own clusters as taking debug runs, or not.
    pub async fn set_debug_sessions(&self, cluster_id: &str, on: bool) -> Result<(), Error> {
        let scope = self.0;
        sqlx::query(
            "update engine_clusters set debug_sessions = $1 where id = $2 and account_id = $3",
        )
        .bind(i64::from(on))
        .bind(cluster_id)
        .bind(scope.account_id())
        .execute(&scope.db().pool)
        .await?;
        Ok(())
    }

    /// Removes one of the account's own clusters (never the platform's).
    pub async fn delete(&self, cluster_id: &str) -> Result<(), Error> {
        let scope = self.0;
        sqlx::query("delete from engine_clusters where id = $1 and account_id = $2")
            .bind(cluster_id)
            .bind(scope.account_id())
            .execute(&scope.db().pool)
            .await?;
        Ok(())
    }

    /// The Flink version of the first cluster the account sees that runs engine
    /// version `label` (the platform's first).
    pub async fn flink_version_of(&self, label: &str) -> Result<Option<String>, Error> {
        let scope = self.0;
        Ok(sqlx::query_scalar(
            "select flink_version from engine_clusters
              where engine_version = $1 and (account_id = $2 or account_id is null)
              order by case when account_id is null then 0 else 1 end, name limit 1",
        )
        .bind(label)
        .bind(scope.account_id())
        .fetch_optional(&scope.db().pool)
        .await?)
    }

    /// Records a health check of a cluster the account sees (in the same statement
    /// that checks it sees it: the callers looked the cluster up already).
    pub async fn record_health(
        &self,
        cluster_id: &str,
        healthy: bool,
        detail: &str,
    ) -> Result<(), Error> {
        let scope = self.0;
        let done = sqlx::query(
            "update engine_clusters set health_checked_at = $1, healthy = $2, health_detail = $3
              where id = $4 and (account_id = $5 or account_id is null)",
        )
        .bind(now_ms())
        .bind(i64::from(healthy))
        .bind(detail)
        .bind(cluster_id)
        .bind(scope.account_id())
        .execute(&scope.db().pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("cluster"));
        }
        Ok(())
    }
}

impl ProjectScope {
    /// The cluster the project deploys to when none is named: its default, else the
    /// platform's (named `platform_cluster`); its id and REST URL.
    pub async fn default_cluster(
        &self,
        platform_cluster: &str,
    ) -> Result<Option<(String, String)>, Error> {
        Ok(sqlx::query_as(
            "select c.id, c.rest_url from engine_clusters c
              where c.id = (select default_cluster_id from projects where id = $1 and account_id = $3)
                 or (c.account_id is null and c.name = $2)
              order by case when c.account_id is null then 1 else 0 end limit 1",
        )
        .bind(self.project_id())
        .bind(platform_cluster)
        .bind(self.account_id())
        .fetch_optional(&self.db().pool)
        .await?)
    }
}

/// Registers the platform's cluster named `name`, or updates it to the configuration.
pub async fn ensure_platform(
    db: &Db,
    name: &str,
    rest_url: &str,
    flink_version: &str,
    engine_version: &str,
    debug_sessions: bool,
) -> Result<(), Error> {
    let existing: Option<(String,)> =
        sqlx::query_as("select id from engine_clusters where account_id is null and name = $1")
            .bind(name)
            .fetch_optional(&db.pool)
            .await?;
    match existing {
        Some((id,)) => {
            sqlx::query("update engine_clusters set rest_url = $1, flink_version = $2, engine_version = $3, debug_sessions = $5 where id = $4")
                .bind(rest_url)
                .bind(flink_version)
                .bind(engine_version)
                .bind(&id)
                .bind(i64::from(debug_sessions))
                .execute(&db.pool)
                .await?;
        }
        None => {
            // Two replicas starting together may both try; the unique name lets one win.
            let inserted = sqlx::query(
                "insert into engine_clusters (id, account_id, name, rest_url, flink_version, engine_version, created_at, debug_sessions)
                 values ($1, null, $2, $3, $4, $5, $6, $7)",
            )
            .bind(new_id())
            .bind(name)
            .bind(rest_url)
            .bind(flink_version)
            .bind(engine_version)
            .bind(now_ms())
            .bind(i64::from(debug_sessions))
            .execute(&db.pool)
            .await;
            if let Err(e) = inserted {
                let lost_race = matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation());
                if !lost_race {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}

/// The jar id of version `version` of jar `name` uploaded to the cluster, and where
/// the JobManager keeps it (unknown for uploads recorded before paths were), if known.
pub async fn uploaded_jar(
    db: &Db,
    cluster_id: &str,
    name: &str,
    version: &str,
) -> Result<Option<(String, Option<String>)>, Error> {
    Ok(sqlx::query_as(
        "select jar_id, path from engine_jars where cluster_id = $1 and name = $2 and version = $3",
    )
    .bind(cluster_id)
    .bind(name)
    .bind(version)
    .fetch_optional(&db.pool)
    .await?)
}

/// Remembers version `version` of jar `name` just uploaded to the cluster (its id and
/// JobManager path), in place of any earlier upload of it; two replicas uploading at
/// once leave one row, either's.
pub async fn record_uploaded_jar(
    db: &Db,
    cluster_id: &str,
    name: &str,
    version: &str,
    jar_id: &str,
    path: Option<&str>,
) -> Result<(), Error> {
    sqlx::query(
        "insert into engine_jars (cluster_id, name, version, jar_id, path, uploaded_at) values ($1, $2, $3, $4, $5, $6)
         on conflict (cluster_id, name, version) do update
            set jar_id = excluded.jar_id, path = excluded.path, uploaded_at = excluded.uploaded_at",
    )
    .bind(cluster_id)
    .bind(name)
    .bind(version)
    .bind(jar_id)
    .bind(path)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Every cluster, as the reconciler watches them.
pub struct EngineClusters<'a>(&'a AllTenants);

impl AllTenants {
    pub fn engine_clusters(&self) -> EngineClusters<'_> {
        EngineClusters(self)
    }
}

impl EngineClusters<'_> {
    /// The REST URLs of the clusters that have deployments.
    pub async fn with_deployments(&self) -> Result<Vec<String>, Error> {
        Ok(sqlx::query_scalar(
            "select distinct c.rest_url from engine_clusters c where exists (select 1 from deployments d where d.cluster_id = c.id)",
        )
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// The REST URL of a cluster.
    pub async fn rest_url(&self, cluster_id: &str) -> Result<Option<String>, Error> {
        Ok(
            sqlx::query_scalar("select rest_url from engine_clusters where id = $1")
                .bind(cluster_id)
                .fetch_optional(&self.0.db().pool)
                .await?,
        )
    }

    /// The Flink version and engine version a cluster was registered with.
    pub async fn versions(&self, cluster_id: &str) -> Result<Option<(String, String)>, Error> {
        Ok(sqlx::query_as(
            "select flink_version, engine_version from engine_clusters where id = $1",
        )
        .bind(cluster_id)
        .fetch_optional(&self.0.db().pool)
        .await?)
    }

    /// The cluster at `rest_url` (the platform's first, should several share it).
    pub async fn at(&self, rest_url: &str) -> Result<Option<String>, Error> {
        Ok(sqlx::query_scalar(
            "select id from engine_clusters where rest_url = $1 order by account_id is not null, id limit 1",
        )
        .bind(rest_url)
        .fetch_optional(&self.0.db().pool)
        .await?)
    }

    /// Records the health of the clusters at `rest_url` where it changed; whether any did.
    pub async fn record_health_change(
        &self,
        rest_url: &str,
        healthy: bool,
        detail: &str,
    ) -> Result<bool, Error> {
        let recorded = sqlx::query(
            "update engine_clusters set healthy = $1, health_detail = $2, health_checked_at = $3
              where rest_url = $4 and (healthy is null or healthy <> $1)",
        )
        .bind(i64::from(healthy))
        .bind(detail)
        .bind(now_ms())
        .bind(rest_url)
        .execute(&self.0.db().pool)
        .await?;
        Ok(recorded.rows_affected() > 0)
    }
}

/// A job found running on a cluster under this installation's ids for no deployment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrphanRow {
    pub engine_job_id: String,
    pub first_seen_at: i64,
    pub reported_at: Option<i64>,
}

/// The orphaned jobs found on the clusters.
pub struct EngineOrphans<'a>(&'a AllTenants);

impl AllTenants {
    pub fn engine_orphans(&self) -> EngineOrphans<'_> {
        EngineOrphans(self)
    }
}

impl EngineOrphans<'_> {
    fn db(&self) -> &Db {
        self.0.db()
    }

    /// The cluster's orphans not cancelled yet.
    pub async fn known(&self, cluster_id: &str) -> Result<Vec<OrphanRow>, Error> {
        Ok(sqlx::query_as(
            "select engine_job_id, first_seen_at, reported_at from engine_orphans where cluster_id = $1 and cancelled_at is null",
        )
        .bind(cluster_id)
        .fetch_all(&self.db().pool)
        .await?)
    }

    /// An orphan not cancelled that no longer runs, or was claimed after all.
    pub async fn forget(&self, cluster_id: &str, job_id: &str) -> Result<(), Error> {
        sqlx::query("delete from engine_orphans where cluster_id = $1 and engine_job_id = $2 and cancelled_at is null")
            .bind(cluster_id)
            .bind(job_id)
            .execute(&self.db().pool)
            .await?;
        Ok(())
    }

    /// A job first seen as an orphan now (`at`), with the deployment it was submitted
    /// for if known; nothing if it is noted already.
    pub async fn note(
        &self,
        cluster_id: &str,
        job_id: &str,
        deployment_id: Option<&str>,
        job_name: &str,
        at: i64,
    ) -> Result<(), Error> {
        sqlx::query(
            "insert into engine_orphans (cluster_id, engine_job_id, deployment_id, job_name, first_seen_at)
             values ($1, $2, $3, $4, $5) on conflict do nothing",
        )
        .bind(cluster_id)
        .bind(job_id)
        .bind(deployment_id)
        .bind(job_name)
        .bind(at)
        .execute(&self.db().pool)
        .await?;
        Ok(())
    }

    /// The deployment an orphan was submitted for, if known.
    pub async fn deployment_of(
        &self,
        cluster_id: &str,
        job_id: &str,
    ) -> Result<Option<String>, Error> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "select deployment_id from engine_orphans where cluster_id = $1 and engine_job_id = $2",
        )
        .bind(cluster_id)
        .bind(job_id)
        .fetch_optional(&self.db().pool)
        .await?;
        Ok(row.and_then(|(d,)| d))
    }

    /// Claims the report of an orphan; false if it was reported already (by another replica).
    pub async fn mark_reported(&self, cluster_id: &str, job_id: &str) -> Result<bool, Error> {
        let claimed = sqlx::query(
            "update engine_orphans set reported_at = $1 where cluster_id = $2 and engine_job_id = $3 and reported_at is null",
        )
        .bind(now_ms())
        .bind(cluster_id)
        .bind(job_id)
        .execute(&self.db().pool)
        .await?;
        Ok(claimed.rows_affected() > 0)
    }

    /// Records an orphan cancelled; false if it was recorded cancelled already.
    pub async fn mark_cancelled(&self, cluster_id: &str, job_id: &str) -> Result<bool, Error> {
        let claimed = sqlx::query(
            "update engine_orphans set cancelled_at = $1 where cluster_id = $2 and engine_job_id = $3 and cancelled_at is null",
        )
        .bind(now_ms())
        .bind(cluster_id)
        .bind(job_id)
        .execute(&self.db().pool)
        .await?;
        Ok(claimed.rows_affected() > 0)
    }
}
