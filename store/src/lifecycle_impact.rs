//! What of an account the product's lifecycles reach: each project's product form with
//! its schedule, and the engine version each deployment runs on.

use crate::scope::AccountScope;
use crate::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectFormRow {
    pub project_id: String,
    pub product_form: String,
    pub announced_at: i64,
    pub eom1: i64,
    pub eom2: i64,
    pub eofs: i64,
    pub eos: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeploymentEngineRow {
    pub project_id: String,
    pub deployment_id: String,
    pub engine_version: String,
}

/// The account's exposure to the product's lifecycles.
pub struct LifecycleImpact<'a>(&'a AccountScope);

impl AccountScope {
    pub fn lifecycle_impact(&self) -> LifecycleImpact<'_> {
        LifecycleImpact(self)
    }
}

impl LifecycleImpact<'_> {
    pub async fn project_forms(&self) -> Result<Vec<ProjectFormRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select p.id as project_id, f.name as product_form, f.announced_at, f.eom1, f.eom2, f.eofs, f.eos
               from projects p join product_forms f on f.name = p.product_form where p.account_id = $1 order by p.id",
        )
        .bind(scope.account_id())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    pub async fn deployment_engines(&self) -> Result<Vec<DeploymentEngineRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select d.project_id, d.id as deployment_id, c.engine_version
               from deployments d join projects p on p.id = d.project_id
               join engine_clusters c on c.id = d.cluster_id where p.account_id = $1 order by d.id",
        )
        .bind(scope.account_id())
        .fetch_all(&scope.db().pool)
        .await?)
    }
}
