//! Debug runs of SQL drafts and the sample data they read. Samples and runs are read
//! through a [`ProjectScope`]; a run is started inside the project's locked write
//! ([`ProjectWrite`]), so concurrent starts cannot pass the project's limit. What the
//! engine captures arrives through [`AllTenants`] (the capture endpoint knows the run,
//! not the caller), as do the supervisor's reads of open runs.

use crate::all_tenants::AllTenants;
use crate::db::now_ms;
use crate::scope::{ProjectScope, ProjectWrite};
use crate::Error;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SampleRow {
    pub id: String,
    pub name: String,
    /// `csv` or `jsonl`, as uploaded.
    pub format: String,
    /// JSON array of the column names.
    pub columns: String,
    pub row_count: i64,
    pub size_bytes: i64,
    pub created_at: i64,
}

pub struct NewSample<'a> {
    pub name: &'a str,
    pub format: &'a str,
    pub columns: &'a str,
    /// The rows as JSON lines, one object per row keyed by column name.
    pub rows_json: &'a str,
    pub row_count: i64,
    pub size_bytes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunRow {
    pub id: String,
    pub project_id: String,
    pub job_id: String,
    pub cluster_id: String,
    pub engine_job_id: String,
    /// `starting`, `running`, `stopping` (a stop decided, the engine job not yet
    /// cancelled) or `ended`.
    pub status: String,
    pub stop_reason: Option<String>,
    pub error: Option<String>,
    pub record_limit: i64,
    pub time_limit_ms: i64,
    pub records: i64,
    /// JSON: what each capture target is.
    pub targets: String,
    pub started_at: i64,
    pub deadline_at: i64,
    pub ended_at: Option<i64>,
    pub seen_at: i64,
}

pub struct NewRun<'a> {
    pub id: &'a str,
    pub supervisor: &'a str,
    pub supervised_ms: i64,
    pub job_id: &'a str,
    pub cluster_id: &'a str,
    pub engine_job_id: &'a str,
    pub token_hash: &'a str,
    pub record_limit: i64,
    pub time_limit_ms: i64,
    pub targets: &'a str,
    pub created_by: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CapturedRow {
    pub seq: i64,
    pub target: String,
    pub kind: String,
    /// JSON array of the row's values (strings or null).
    pub row_values: String,
}

const SAMPLE_COLUMNS: &str =
    "s.id, s.name, s.format, s.columns, s.row_count, s.size_bytes, s.created_at";
const RUN_COLUMNS: &str = "r.id, r.project_id, r.job_id, r.cluster_id, r.engine_job_id, r.status, r.stop_reason, r.error, r.record_limit, r.time_limit_ms, r.records, r.targets, r.started_at, r.deadline_at, r.ended_at, r.seen_at";

/// The project's samples and runs, as the caller may read them.
pub struct Debug<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn debug(&self) -> Debug<'_> {
        Debug(self)
    }
}

impl Debug<'_> {
    pub async fn samples(&self) -> Result<Vec<SampleRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(&format!(
            "select {SAMPLE_COLUMNS} from debug_samples s join projects p on p.id = s.project_id
              where p.account_id = $1 and s.project_id = $2 order by s.name"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .fetch_all(&scope.db().pool)
        .await?)
    }

    /// A sample with its rows (JSON lines).
    pub async fn sample(&self, id: &str) -> Result<(SampleRow, String), Error> {
        let scope = self.0;
        let sample: SampleRow = sqlx::query_as(&format!(
            "select {SAMPLE_COLUMNS} from debug_samples s join projects p on p.id = s.project_id
              where p.account_id = $1 and s.project_id = $2 and s.id = $3"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(id)
        .fetch_optional(&scope.db().pool)
        .await?
        .ok_or_else(|| Error::not_found("debug sample"))?;
        let (rows,): (String,) =
            sqlx::query_as("select rows_json from debug_samples where id = $1")
                .bind(id)
                .fetch_one(&scope.db().pool)
                .await?;
        Ok((sample, rows))
    }

    pub async fn run(&self, id: &str) -> Result<RunRow, Error> {
        let scope = self.0;
        sqlx::query_as(&format!(
            "select {RUN_COLUMNS} from debug_runs r join projects p on p.id = r.project_id
              where p.account_id = $1 and r.project_id = $2 and r.id = $3"
        ))
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(id)
        .fetch_optional(&scope.db().pool)
        .await?
        .ok_or_else(|| Error::not_found("debug run"))
    }

    /// Someone read the run's results now (a run nobody reads is abandoned).
    pub async fn seen(&self, run_id: &str) -> Result<(), Error> {
        let scope = self.0;
        sqlx::query(
            "update debug_runs set seen_at = $1 where id = $2 and project_id = $3
               and project_id in (select id from projects where account_id = $4)",
        )
        .bind(now_ms())
        .bind(run_id)
        .bind(scope.project_id())
        .bind(scope.account_id())
        .execute(&scope.db().pool)
        .await?;
        Ok(())
    }

    /// The run's captured rows after `after`, in order, at most `limit`.
    pub async fn rows(
        &self,
        run_id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<CapturedRow>, Error> {
        let scope = self.0;
        Ok(sqlx::query_as(
            "select d.seq, d.target, d.kind, d.row_values
               from debug_rows d join debug_runs r on r.id = d.run_id join projects p on p.id = r.project_id
              where p.account_id = $1 and r.project_id = $2 and d.run_id = $3 and d.seq > $4
              order by d.seq limit $5",
        )
        .bind(scope.account_id())
        .bind(scope.project_id())
        .bind(run_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&scope.db().pool)
        .await?)
    }
}

/// The project's samples and runs inside its locked write transaction.
pub struct DebugWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn debug(&mut self) -> DebugWrites<'_> {
        DebugWrites(self)
    }
}

impl DebugWrites<'_> {
    pub async fn insert_sample(&mut self, sample: &NewSample<'_>) -> Result<String, Error> {
        let (tx, project_id) = self.0.parts();
        let taken: Option<(String,)> =
            sqlx::query_as("select id from debug_samples where project_id = $1 and name = $2")
                .bind(project_id)
                .bind(sample.name)
                .fetch_optional(&mut **tx)
                .await?;
        if taken.is_some() {
            return Err(Error::already_exists(
                "name",
                format!(
                    "a debug sample named `{}` already exists in this project",
                    sample.name
                ),
            ));
        }
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query("insert into debug_samples (id, project_id, name, format, columns, rows_json, row_count, size_bytes, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&id)
            .bind(project_id)
            .bind(sample.name)
            .bind(sample.format)
            .bind(sample.columns)
            .bind(sample.rows_json)
            .bind(sample.row_count)
            .bind(sample.size_bytes)
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
        Ok(id)
    }

    /// Whether the project had that sample.
    pub async fn delete_sample(&mut self, id: &str) -> Result<bool, Error> {
        let (tx, project_id) = self.0.parts();
        let done = sqlx::query("delete from debug_samples where project_id = $1 and id = $2")
            .bind(project_id)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// How many of the project's runs have not ended.
    pub async fn open_runs(&mut self) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from debug_runs where project_id = $1 and status <> 'ended'",
        )
        .bind(project_id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(n)
    }

    /// Records a run before the engine is asked (status `starting`), watched by
    /// `supervisor`.
    pub async fn insert_run(&mut self, run: &NewRun<'_>) -> Result<(), Error> {
        let (tx, project_id) = self.0.parts();
        let now = now_ms();
        sqlx::query("insert into debug_runs (id, project_id, job_id, cluster_id, engine_job_id, status, token_hash, record_limit, time_limit_ms, targets, created_by, started_at, deadline_at, supervisor, supervised_until, seen_at) values ($1, $2, $3, $4, $5, 'starting', $6, $7, $8, $9, $10, $11, $12, $13, $14, $11)")
            .bind(run.id)
            .bind(project_id)
            .bind(run.job_id)
            .bind(run.cluster_id)
            .bind(run.engine_job_id)
            .bind(run.token_hash)
            .bind(run.record_limit)
            .bind(run.time_limit_ms)
            .bind(run.targets)
            .bind(run.created_by)
            .bind(now)
            .bind(now + run.time_limit_ms)
            .bind(run.supervisor)
            .bind(now + run.supervised_ms)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// Runs as the engine's capture and the supervisor see them, whatever their tenant.
pub struct DebugRuns<'a>(&'a AllTenants);

impl AllTenants {
    pub fn debug_runs(&self) -> DebugRuns<'_> {
        DebugRuns(self)
    }
}

/// What a capture request did: how many rows it kept, and whether the run just
/// reached its record limit.
#[derive(Debug, PartialEq, Eq)]
pub enum Captured {
    Kept {
        rows: usize,
        limit_reached: bool,
    },
    /// The run is over (or never was): the sender stops.
    Over,
}

impl DebugRuns<'_> {
    /// A run's capture targets (JSON) and the hash of its capture token, in one read:
    /// what each capture request checks first.
    pub async fn capture_check(&self, id: &str) -> Result<Option<(String, String)>, Error> {
        Ok(
            sqlx::query_as("select targets, token_hash from debug_runs where id = $1")
                .bind(id)
                .fetch_optional(&self.0.db().pool)
                .await?,
        )
    }

    /// Runs that have not ended, oldest first.
    pub async fn open(&self) -> Result<Vec<RunRow>, Error> {
        Ok(sqlx::query_as(&format!(
            "select {RUN_COLUMNS} from debug_runs r where r.status <> 'ended' order by r.started_at"
        ))
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    pub async fn get(&self, id: &str) -> Result<Option<RunRow>, Error> {
        Ok(sqlx::query_as(&format!(
            "select {RUN_COLUMNS} from debug_runs r where r.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.0.db().pool)
        .await?)
    }

    /// Appends captured rows (kind, values JSON) of one target, up to the run's record
    /// limit, numbering them after the run's last; nothing once the run is stopping.
    pub async fn capture(
        &self,
        id: &str,
        target: &str,
        rows: &[(String, String)],
    ) -> Result<Captured, Error> {
        let mut write = self.0.write().await?;
        let (tx, db) = write.parts();
        let found: Option<(String, i64, i64)> = sqlx::query_as(&format!(
            "select status, records, record_limit from debug_runs where id = $1{}",
            db.for_update()
        ))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((status, records, limit)) = found else {
            return Ok(Captured::Over);
        };
        if status != "starting" && status != "running" {
            return Ok(Captured::Over);
        }
        let room = usize::try_from((limit - records).max(0)).unwrap_or(0);
        let kept = rows.len().min(room);
        for (i, (kind, values)) in rows.iter().take(kept).enumerate() {
            sqlx::query("insert into debug_rows (run_id, seq, target, kind, row_values) values ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(records + 1 + i as i64)
                .bind(target)
                .bind(kind)
                .bind(values)
                .execute(&mut **tx)
                .await?;
        }
        let total = records + kept as i64;
        let limit_reached = total >= limit;
        if limit_reached {
            sqlx::query("update debug_runs set records = $2, status = 'stopping', stop_reason = 'record_limit' where id = $1")
                .bind(id)
                .bind(total)
                .execute(&mut **tx)
                .await?;
        } else {
            sqlx::query("update debug_runs set records = $2, status = 'running' where id = $1")
                .bind(id)
                .bind(total)
                .execute(&mut **tx)
                .await?;
        }
        write.commit().await?;
        Ok(Captured::Kept {
            rows: kept,
            limit_reached,
        })
    }

    /// Takes (or renews) the watch of a run: whether `me` holds it now, and who held it
    /// before (another process whose watch lapsed: it died).
    pub async fn supervise(
        &self,
        id: &str,
        me: &str,
        for_ms: i64,
    ) -> Result<Option<String>, Error> {
        let db = self.0.db();
        let Some((before,)): Option<(String,)> =
            sqlx::query_as("select supervisor from debug_runs where id = $1")
                .bind(id)
                .fetch_optional(&db.pool)
                .await?
        else {
            return Ok(None);
        };
        let now = now_ms();
        let done = sqlx::query("update debug_runs set supervisor = $2, supervised_until = $3 where id = $1 and (supervisor = $2 or supervised_until < $4)")
            .bind(id)
            .bind(me)
            .bind(now + for_ms)
            .bind(now)
            .execute(&db.pool)
            .await?;
        Ok((done.rows_affected() > 0).then_some(before))
    }

    /// The engine job ids of runs not ended on a cluster: not orphans.
    pub async fn engine_jobs_open_on(&self, cluster_id: &str) -> Result<Vec<String>, Error> {
        Ok(sqlx::query_scalar(
            "select engine_job_id from debug_runs where cluster_id = $1 and status <> 'ended'",
        )
        .bind(cluster_id)
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// A target's columns, learnt from the engine (a SELECT's result schema).
    pub async fn set_targets(&self, id: &str, targets: &str) -> Result<(), Error> {
        sqlx::query("update debug_runs set targets = $2 where id = $1")
            .bind(id)
            .bind(targets)
            .execute(&self.0.db().pool)
            .await?;
        Ok(())
    }

    /// Running: the engine took the job.
    pub async fn running(&self, id: &str) -> Result<(), Error> {
        sqlx::query(
            "update debug_runs set status = 'running' where id = $1 and status = 'starting'",
        )
        .bind(id)
        .execute(&self.0.db().pool)
        .await?;
        Ok(())
    }

    /// Decides the run's stop (first reason wins); the supervisor cancels the engine job
    /// and ends it. Whether this call decided it.
    pub async fn stop(&self, id: &str, reason: &str, error: Option<&str>) -> Result<bool, Error> {
        let done = sqlx::query("update debug_runs set status = 'stopping', stop_reason = $2, error = $3 where id = $1 and status in ('starting', 'running')")
            .bind(id)
            .bind(reason)
            .bind(error)
            .execute(&self.0.db().pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ended: the engine has no job of the run left running.
    pub async fn end(&self, id: &str, reason: &str, error: Option<&str>) -> Result<(), Error> {
        sqlx::query("update debug_runs set status = 'ended', stop_reason = coalesce(stop_reason, $2), error = coalesce(error, $3), ended_at = $4 where id = $1 and status <> 'ended'")
            .bind(id)
            .bind(reason)
            .bind(error)
            .bind(now_ms())
            .execute(&self.0.db().pool)
            .await?;
        Ok(())
    }
}
