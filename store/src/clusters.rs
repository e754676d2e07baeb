//! Engine clusters: the platform's (no account, offered to every account) and each
//! account's own. An account sees both; it changes only its own.

use crate::db::{new_id, now_ms};
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
}

/// A cluster to register for the account.
pub struct NewCluster<'a> {
    pub name: &'a str,
    pub rest_url: &'a str,
    pub flink_version: &'a str,
    pub engine_version: &'a str,
}

const COLUMNS: &str = "id, account_id, name, rest_url, flink_version, engine_version, created_at, health_checked_at, healthy, health_detail";

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

    pub async fn insert(&self, cluster: &NewCluster<'_>) -> Result<String, Error> {
        let scope = self.0;
        let id = new_id();
        sqlx::query(
            "insert into engine_clusters (id, account_id, name, rest_url, flink_version, engine_version, created_at)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(scope.account_id())
        .bind(cluster.name)
        .bind(cluster.rest_url)
        .bind(cluster.flink_version)
        .bind(cluster.engine_version)
        .bind(now_ms())
        .execute(&scope.db().pool)
        .await?;
        Ok(id)
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
