//! A project's product form (subscription or pay-as-you-go) and its changes: the
//! schedules operators set on product forms and engine versions (a catalogue, not
//! tenant data), the schedule that applies to a project or a cluster, and who is told
//! of a schedule.

use sqlx::AnyConnection;

use crate::all_tenants::{AllTenants, AllTenantsWrite};
use crate::db::{now_ms, Db};
use crate::scope::ProjectWrite;
use crate::Error;

/// A product form's retirement schedule (instants in ms).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductFormRow {
    pub name: String,
    pub announced_at: i64,
    pub eom1: i64,
    pub eom2: i64,
    pub eofs: i64,
    pub eos: i64,
}

/// An engine version's schedule (instants in ms).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EngineVersionRow {
    pub label: String,
    pub flink_version: String,
    pub announced_at: i64,
    pub ga: i64,
    pub eogs: i64,
    pub eofs: i64,
    pub eos: i64,
    pub pulled: bool,
}

/// The columns of [`EngineVersionRow`], `pulled` read as 0/1 on both databases.
const ENGINE_COLUMNS: &str =
    "v.label, v.flink_version, v.announced_at, v.ga, v.eogs, v.eofs, v.eos, v.pulled";

#[derive(sqlx::FromRow)]
struct StoredEngineVersion {
    label: String,
    flink_version: String,
    announced_at: i64,
    ga: i64,
    eogs: i64,
    eofs: i64,
    eos: i64,
    pulled: i64,
}

impl From<StoredEngineVersion> for EngineVersionRow {
    fn from(v: StoredEngineVersion) -> Self {
        EngineVersionRow {
            label: v.label,
            flink_version: v.flink_version,
            announced_at: v.announced_at,
            ga: v.ga,
            eogs: v.eogs,
            eofs: v.eofs,
            eos: v.eos,
            pulled: v.pulled != 0,
        }
    }
}

/// The schedule of the project's product form, if it has one.
pub async fn schedule_of_project(
    conn: &mut AnyConnection,
    project_id: &str,
) -> Result<Option<ProductFormRow>, Error> {
    Ok(sqlx::query_as(
        "select f.name, f.announced_at, f.eom1, f.eom2, f.eofs, f.eos
           from projects p join product_forms f on f.name = p.product_form where p.id = $1",
    )
    .bind(project_id)
    .fetch_optional(conn)
    .await?)
}

/// Product form `name`'s schedule, if it has one.
pub async fn product_form(db: &Db, name: &str) -> Result<Option<ProductFormRow>, Error> {
    Ok(sqlx::query_as(
        "select name, announced_at, eom1, eom2, eofs, eos from product_forms where name = $1",
    )
    .bind(name)
    .fetch_optional(&db.pool)
    .await?)
}

/// The engine version a cluster runs, if it has a schedule.
pub async fn engine_of_cluster(
    conn: &mut AnyConnection,
    cluster_id: &str,
) -> Result<Option<EngineVersionRow>, Error> {
    let row: Option<StoredEngineVersion> = sqlx::query_as(&format!(
        "select {ENGINE_COLUMNS} from engine_versions v join engine_clusters c on c.engine_version = v.label where c.id = $1"
    ))
    .bind(cluster_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(EngineVersionRow::from))
}

/// Every engine version with a schedule, by label.
pub async fn engine_versions(db: &Db) -> Result<Vec<EngineVersionRow>, Error> {
    let rows: Vec<StoredEngineVersion> = sqlx::query_as(&format!(
        "select {ENGINE_COLUMNS} from engine_versions v order by v.label"
    ))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(EngineVersionRow::from).collect())
}

/// The schedules that apply to one project, inside its locked write transaction.
pub struct LifecycleWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn lifecycle(&mut self) -> LifecycleWrites<'_> {
        LifecycleWrites(self)
    }
}

impl LifecycleWrites<'_> {
    /// The schedule of the project's product form, if it has one.
    pub async fn product_form(&mut self) -> Result<Option<ProductFormRow>, Error> {
        let (tx, project_id) = self.0.parts();
        schedule_of_project(tx, project_id).await
    }

    /// The project's billing model: `payg` or `subscription`.
    pub async fn billing_model(&mut self) -> Result<String, Error> {
        let (tx, project_id) = self.0.parts();
        let (model,): (String,) =
            sqlx::query_as("select billing_model from projects where id = $1")
                .bind(project_id)
                .fetch_one(&mut **tx)
                .await?;
        Ok(model)
    }

    /// The engine version `cluster_id` runs, if it has a schedule.
    pub async fn engine_of_cluster(
        &mut self,
        cluster_id: &str,
    ) -> Result<Option<EngineVersionRow>, Error> {
        let (tx, _) = self.0.parts();
        engine_of_cluster(tx, cluster_id).await
    }
}

/// Deployments meant to run on engine versions at their end of service.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PastEndOfServiceRow {
    pub deployment_id: String,
    pub label: String,
}

/// Deployments meant to run in projects whose product form reached its end of service.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FormPastEndOfServiceRow {
    pub deployment_id: String,
    pub project_id: String,
    pub account_id: String,
    pub form: String,
    pub eos: i64,
}

/// Every tenant's deployments as their engine versions' schedules concern them.
pub struct Lifecycles<'a>(&'a AllTenants);

impl AllTenants {
    pub fn lifecycles(&self) -> Lifecycles<'_> {
        Lifecycles(self)
    }
}

impl Lifecycles<'_> {
    /// Every deployment still meant to run on an engine version whose end of service
    /// is at or before `now_ms`.
    pub async fn running_past_end_of_service(
        &self,
        now_ms: i64,
    ) -> Result<Vec<PastEndOfServiceRow>, Error> {
        Ok(sqlx::query_as(
            "select d.id as deployment_id, v.label from deployments d
               join engine_clusters c on c.id = d.cluster_id
               join engine_versions v on v.label = c.engine_version
              where d.desired_state = 'RUNNING' and v.eos <= $1",
        )
        .bind(now_ms)
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// Every deployment still meant to run in a project whose product form's end of
    /// service is at or before `now_ms`.
    pub async fn running_on_retired_forms(
        &self,
        now_ms: i64,
    ) -> Result<Vec<FormPastEndOfServiceRow>, Error> {
        Ok(sqlx::query_as(
            "select d.id as deployment_id, p.id as project_id, p.account_id, f.name as form, f.eos
               from deployments d
               join projects p on p.id = d.project_id
               join product_forms f on f.name = p.product_form
              where d.desired_state = 'RUNNING' and f.eos <= $1
              order by p.account_id, d.id",
        )
        .bind(now_ms)
        .fetch_all(&self.0.db().pool)
        .await?)
    }
}

/// Schedules set, and who is told, inside one write transaction.
pub struct LifecycleChanges<'a>(&'a mut AllTenantsWrite);

impl AllTenantsWrite {
    pub fn lifecycles(&mut self) -> LifecycleChanges<'_> {
        LifecycleChanges(self)
    }
}

impl LifecycleChanges<'_> {
    /// A product form's current schedule, locked until the transaction ends (PostgreSQL)
    /// so that two publications cannot both compare against the same one.
    pub async fn product_form(&mut self, name: &str) -> Result<Option<ProductFormRow>, Error> {
        let tx = self.0.tx();
        let for_update = crate::db::for_update_in(tx);
        Ok(sqlx::query_as(&format!(
            "select name, announced_at, eom1, eom2, eofs, eos from product_forms where name = $1{for_update}"
        ))
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?)
    }

    /// An engine version's current schedule, locked like [`Self::product_form`].
    pub async fn engine_version(&mut self, label: &str) -> Result<Option<EngineVersionRow>, Error> {
        let tx = self.0.tx();
        let for_update = crate::db::for_update_in(tx);
        let row: Option<StoredEngineVersion> = sqlx::query_as(&format!(
            "select {ENGINE_COLUMNS} from engine_versions v where v.label = $1{for_update}"
        ))
        .bind(label)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(row.map(EngineVersionRow::from))
    }

    /// Replaces a product form's schedule and keeps it as the form's next version in
    /// its history, published by `announced_by` (a user id; empty: the command line).
    pub async fn set_product_form(
        &mut self,
        form: &ProductFormRow,
        announced_by: &str,
    ) -> Result<(), Error> {
        let tx = self.0.tx();
        sqlx::query(
            "insert into product_form_schedule_versions (name, version, announced_at, eom1, eom2, eofs, eos, announced_by)
             select $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7
               from product_form_schedule_versions where name = $1",
        )
        .bind(&form.name)
        .bind(form.announced_at)
        .bind(form.eom1)
        .bind(form.eom2)
        .bind(form.eofs)
        .bind(form.eos)
        .bind(announced_by)
        .execute(&mut **tx)
        .await?;
        sqlx::query("delete from product_forms where name = $1")
            .bind(&form.name)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "insert into product_forms (name, announced_at, eom1, eom2, eofs, eos, updated_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&form.name)
        .bind(form.announced_at)
        .bind(form.eom1)
        .bind(form.eom2)
        .bind(form.eofs)
        .bind(form.eos)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Replaces an engine version's schedule and keeps it as the version's next entry
    /// in its history, published by `announced_by`.
    pub async fn set_engine_version(
        &mut self,
        version: &EngineVersionRow,
        announced_by: &str,
    ) -> Result<(), Error> {
        let tx = self.0.tx();
        sqlx::query(
            "insert into engine_version_schedule_versions
                    (label, version, flink_version, announced_at, ga, eogs, eofs, eos, pulled, announced_by)
             select $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9
               from engine_version_schedule_versions where label = $1",
        )
        .bind(&version.label)
        .bind(&version.flink_version)
        .bind(version.announced_at)
        .bind(version.ga)
        .bind(version.eogs)
        .bind(version.eofs)
        .bind(version.eos)
        .bind(i64::from(version.pulled))
        .bind(announced_by)
        .execute(&mut **tx)
        .await?;
        sqlx::query("delete from engine_versions where label = $1")
            .bind(&version.label)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "insert into engine_versions (label, flink_version, announced_at, ga, eogs, eofs, eos, pulled, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&version.label)
        .bind(&version.flink_version)
        .bind(version.announced_at)
        .bind(version.ga)
        .bind(version.eogs)
        .bind(version.eofs)
        .bind(version.eos)
        .bind(i64::from(version.pulled))
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Accounts with at least one project of this product form.
    pub async fn accounts_of_form(&mut self, form: &str) -> Result<Vec<String>, Error> {
        accounts_of_form(self.0.tx(), form).await
    }

    /// Accounts with deployments on clusters that run this engine version.
    pub async fn accounts_on_engine(&mut self, label: &str) -> Result<Vec<String>, Error> {
        accounts_on_engine(self.0.tx(), label).await
    }
}

/// Accounts with at least one project of this product form.
async fn accounts_of_form(conn: &mut AnyConnection, form: &str) -> Result<Vec<String>, Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select distinct account_id from projects where product_form = $1 order by account_id",
    )
    .bind(form)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(a,)| a).collect())
}

/// Accounts with deployments on clusters that run this engine version.
async fn accounts_on_engine(conn: &mut AnyConnection, label: &str) -> Result<Vec<String>, Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select distinct p.account_id from deployments d join projects p on p.id = d.project_id
           join engine_clusters c on c.id = d.cluster_id where c.engine_version = $1 order by p.account_id",
    )
    .bind(label)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(a,)| a).collect())
}

/// One published version of a product form's schedule.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductFormVersionRow {
    pub version: i64,
    pub announced_at: i64,
    pub eom1: i64,
    pub eom2: i64,
    pub eofs: i64,
    pub eos: i64,
    pub announced_by: String,
}

/// Every schedule published for product form `name`, oldest first (a catalogue, not
/// tenant data: for the platform's operators).
pub async fn product_form_history(
    db: &Db,
    name: &str,
) -> Result<Vec<ProductFormVersionRow>, Error> {
    Ok(sqlx::query_as(
        "select version, announced_at, eom1, eom2, eofs, eos, announced_by
           from product_form_schedule_versions where name = $1 order by version",
    )
    .bind(name)
    .fetch_all(&db.pool)
    .await?)
}

/// One published version of an engine version's schedule.
#[derive(Debug, Clone)]
pub struct EngineVersionVersionRow {
    pub version: i64,
    pub schedule: EngineVersionRow,
    pub announced_by: String,
}

/// Every schedule published for engine version `label`, oldest first.
pub async fn engine_version_history(
    db: &Db,
    label: &str,
) -> Result<Vec<EngineVersionVersionRow>, Error> {
    #[derive(sqlx::FromRow)]
    struct Stored {
        version: i64,
        announced_by: String,
        #[sqlx(flatten)]
        schedule: StoredEngineVersion,
    }
    let rows: Vec<Stored> = sqlx::query_as(&format!(
        "select v.version, v.announced_by, {ENGINE_COLUMNS}
           from engine_version_schedule_versions v where v.label = $1 order by v.version"
    ))
    .bind(label)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| EngineVersionVersionRow {
            version: r.version,
            schedule: r.schedule.into(),
            announced_by: r.announced_by,
        })
        .collect())
}
