//! Saved versions of a job: immutable snapshots of its draft, numbered 1, 2, ... per
//! job. Reads through a [`ProjectScope`], writes through a [`ProjectWrite`] (the
//! project locked); a version belongs to the project of its job.

use sqlx::AnyConnection;

use crate::db::{now_ms, Tx};
use crate::jobs::{ContentColumns, JobRow};
use crate::scope::{ProjectScope, ProjectWrite};
use crate::{Error, Kind};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub job_id: String,
    pub version: i64,
    pub message: String,
    #[sqlx(flatten)]
    pub content: ContentColumns,
    /// The user who saved it.
    pub created_by: String,
    pub created_at: i64,
}

const COLUMNS: &str = "v.job_id, v.version, v.message, v.kind, v.sql_text, v.artifact_id, v.entry_class, v.args, v.created_by, v.created_at";

/// Which versions a query may see: a `where` over `job_versions v` (joined as needed)
/// and the values of its parameters, numbered from `$1`.
struct Tenant<'a> {
    from_where: &'static str,
    ids: Vec<&'a str>,
}

const IN_ACCOUNT_PROJECT: &str =
    "job_versions v join jobs j on j.id = v.job_id join projects p on p.id = j.project_id
  where p.account_id = $1 and j.project_id = $2";
const IN_PROJECT: &str = "job_versions v join jobs j on j.id = v.job_id where j.project_id = $1";
const ANY_JOB: &str = "job_versions v where 1 = 1";

/// One version of a job; not found names the versions that are kept.
async fn find(
    conn: &mut AnyConnection,
    tenant: &Tenant<'_>,
    job_id: &str,
    version: i64,
) -> Result<VersionRow, Error> {
    let n = tenant.ids.len();
    let sql = format!(
        "select {COLUMNS} from {} and v.job_id = ${} and v.version = ${}",
        tenant.from_where,
        n + 1,
        n + 2
    );
    let mut query = sqlx::query_as(&sql);
    for id in &tenant.ids {
        query = query.bind(*id);
    }
    let row: Option<VersionRow> = query
        .bind(job_id)
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(row) = row {
        return Ok(row);
    }
    let sql = format!(
        "select min(v.version), max(v.version) from {} and v.job_id = ${}",
        tenant.from_where,
        n + 1
    );
    let mut query = sqlx::query_as(&sql);
    for id in &tenant.ids {
        query = query.bind(*id);
    }
    let (low, high): (Option<i64>, Option<i64>) = query.bind(job_id).fetch_one(&mut *conn).await?;
    let kept = match (low, high) {
        (Some(l), Some(h)) => format!("versions kept: {l} to {h}"),
        _ => "this job has no saved versions".to_owned(),
    };
    Err(Error::new(
        Kind::NotFound,
        "not_found",
        format!("version {version} does not exist ({kept})"),
    )
    .with_field("version"))
}

/// A version of any job, for the workers that act on a deployment's job (they hold no
/// scope; the deployment names the job).
pub async fn of_job(tx: &mut Tx, job_id: &str, version: i64) -> Result<VersionRow, Error> {
    let tenant = Tenant {
        from_where: ANY_JOB,
        ids: Vec::new(),
    };
    find(tx, &tenant, job_id, version).await
}

/// The project's saved versions, as the caller may read them.
pub struct Versions<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn versions(&self) -> Versions<'_> {
        Versions(self)
    }
}

impl Versions<'_> {
    fn tenant(&self) -> Tenant<'_> {
        Tenant {
            from_where: IN_ACCOUNT_PROJECT,
            ids: vec![self.0.account_id(), self.0.project_id()],
        }
    }

    /// Every kept version of a job, newest first.
    pub async fn list(&self, job_id: &str) -> Result<Vec<VersionRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {COLUMNS} from {IN_ACCOUNT_PROJECT} and v.job_id = $3 order by v.version desc"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(job_id)
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// Versions of a job read together (one transaction), in the order asked; the
    /// first one missing is the error.
    pub async fn get_many(&self, job_id: &str, versions: &[i64]) -> Result<Vec<VersionRow>, Error> {
        let tenant = self.tenant();
        let mut tx = self.0.db().pool.begin().await?;
        let mut rows = Vec::with_capacity(versions.len());
        for &version in versions {
            rows.push(find(&mut tx, &tenant, job_id, version).await?);
        }
        tx.commit().await?;
        Ok(rows)
    }

    pub async fn get(&self, job_id: &str, version: i64) -> Result<VersionRow, Error> {
        let mut rows = self.get_many(job_id, &[version]).await?;
        rows.pop().ok_or_else(|| Error::not_found("version"))
    }
}

/// The project's saved versions inside its locked write transaction.
pub struct VersionWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn versions(&mut self) -> VersionWrites<'_> {
        VersionWrites(self)
    }
}

impl VersionWrites<'_> {
    pub async fn get(&mut self, job_id: &str, version: i64) -> Result<VersionRow, Error> {
        let (tx, project_id) = self.0.parts();
        let tenant = Tenant {
            from_where: IN_PROJECT,
            ids: vec![project_id],
        };
        find(tx, &tenant, job_id, version).await
    }

    /// Snapshots the draft (read in this transaction) as its next version and records
    /// that number as the job's last; returns the number.
    pub async fn save(
        &mut self,
        job: &JobRow,
        message: &str,
        created_by: &str,
    ) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        let number = job.last_version + 1;
        let content = &job.content;
        sqlx::query(
            "insert into job_versions (job_id, version, message, kind, sql_text, artifact_id, entry_class, args, created_by, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&job.id)
        .bind(number)
        .bind(message)
        .bind(content.kind)
        .bind(&content.sql_text)
        .bind(&content.artifact_id)
        .bind(&content.entry_class)
        .bind(&content.args)
        .bind(created_by)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        sqlx::query("update jobs set last_version = $1 where id = $2 and project_id = $3")
            .bind(number)
            .bind(&job.id)
            .bind(project_id)
            .execute(&mut **tx)
            .await?;
        Ok(number)
    }

    /// Deletes the job's versions numbered below `oldest_kept`; returns their numbers,
    /// oldest first.
    pub async fn prune(&mut self, job_id: &str, oldest_kept: i64) -> Result<Vec<i64>, Error> {
        let (tx, project_id) = self.0.parts();
        let pruned: Vec<(i64,)> = sqlx::query_as(&format!(
            "select v.version from {IN_PROJECT} and v.job_id = $2 and v.version < $3 order by v.version"
        ))
        .bind(project_id)
        .bind(job_id)
        .bind(oldest_kept)
        .fetch_all(&mut **tx)
        .await?;
        sqlx::query(
            "delete from job_versions where job_id = $1 and version < $2
              and job_id in (select id from jobs where project_id = $3)",
        )
        .bind(job_id)
        .bind(oldest_kept)
        .bind(project_id)
        .execute(&mut **tx)
        .await?;
        Ok(pruned.into_iter().map(|(v,)| v).collect())
    }
}
