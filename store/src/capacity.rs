//! CU held by projects and used by deployments: what a subscription project bought
//! (plus any temporary upgrade whose window is open) against what its deployments meant
//! to run hold. One place for both sums, so the start check, the order planner, the
//! cost preview and the enforcement when a window closes agree on what "fits" means.

use sqlx::AnyConnection;

use crate::all_tenants::AllTenants;
use crate::scope::{ProjectScope, ProjectWrite};
use crate::Error;

#[derive(Debug, Clone, Copy)]
pub struct Purchased {
    /// The subscription's CU (milli), as bought.
    pub base: i64,
    /// Extra CU (milli) of temporary upgrades open at the instant asked about.
    pub temporary: i64,
    /// When the subscription's term ends (ms).
    pub term_end: i64,
    /// The term had ended at the instant asked about (`billing::term::expired`): the
    /// subscription holds nothing until it is renewed.
    pub expired: bool,
}

impl Purchased {
    /// CU (milli) the project may hold: none once its term has ended.
    pub fn total(&self) -> i64 {
        if self.expired {
            0
        } else {
            self.base + self.temporary
        }
    }
}

/// CU (milli) held by the project's deployments meant to run, less `except` if given.
pub async fn in_use(
    conn: &mut AnyConnection,
    project_id: &str,
    except: Option<&str>,
) -> Result<i64, Error> {
    let (held,): (i64,) = sqlx::query_as(
        "select cast(coalesce(sum(parallelism * cu_per_task_milli), 0) as bigint) from deployments
          where project_id = $1 and desired_state = 'RUNNING' and id <> $2",
    )
    .bind(project_id)
    .bind(except.unwrap_or(""))
    .fetch_one(conn)
    .await?;
    Ok(held)
}

/// What a subscription project may hold at `at_ms`: its CU and the temporary upgrades
/// open then, nothing once its term has ended. `None` for a pay-as-you-go project,
/// which is billed for what runs.
pub async fn purchased(
    conn: &mut AnyConnection,
    project_id: &str,
    at_ms: i64,
) -> Result<Option<Purchased>, Error> {
    let base: Option<(i64, i64)> =
        sqlx::query_as("select cu_milli, term_end from subscriptions where project_id = $1")
            .bind(project_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((base, term_end)) = base else {
        return Ok(None);
    };
    let (temporary,): (i64,) = sqlx::query_as(
        "select cast(coalesce(sum(cu_milli), 0) as bigint) from temporary_upgrades
          where project_id = $1 and starts_at <= $2 and ends_at > $2",
    )
    .bind(project_id)
    .bind(at_ms)
    .fetch_one(conn)
    .await?;
    Ok(Some(Purchased {
        base,
        temporary,
        term_end,
        // As billing::term::expired: the end itself is outside the term.
        expired: at_ms >= term_end,
    }))
}

/// The project's capacity, read outside a write (one connection for both sums).
pub struct Capacity<'a>(&'a ProjectScope);

impl ProjectScope {
    pub fn capacity(&self) -> Capacity<'_> {
        Capacity(self)
    }
}

impl Capacity<'_> {
    /// What the project bought and what its deployments meant to run hold now;
    /// `None` for a pay-as-you-go project.
    pub async fn purchased_and_in_use(
        &self,
        at_ms: i64,
    ) -> Result<Option<(Purchased, i64)>, Error> {
        let mut conn = self.0.db().pool.acquire().await?;
        let Some(bought) = purchased(&mut conn, self.0.project_id(), at_ms).await? else {
            return Ok(None);
        };
        let held = in_use(&mut conn, self.0.project_id(), None).await?;
        Ok(Some((bought, held)))
    }
}

/// The project's capacity inside its locked write transaction: a start checked under
/// the lock cannot interleave with another start.
pub struct CapacityWrites<'a>(&'a mut ProjectWrite);

impl ProjectWrite {
    pub fn capacity(&mut self) -> CapacityWrites<'_> {
        CapacityWrites(self)
    }
}

impl CapacityWrites<'_> {
    pub async fn purchased(&mut self, at_ms: i64) -> Result<Option<Purchased>, Error> {
        let (tx, project_id) = self.0.parts();
        purchased(tx, project_id, at_ms).await
    }

    /// CU (milli) held by the project's deployments meant to run, less `except`.
    pub async fn in_use(&mut self, except: Option<&str>) -> Result<i64, Error> {
        let (tx, project_id) = self.0.parts();
        in_use(tx, project_id, except).await
    }
}

/// A subscription project whose temporary upgrade closed, with what it may hold now
/// and what its deployments meant to run hold.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldAgainstCapacityRow {
    pub project_id: String,
    pub account_id: String,
    /// CU (milli): the subscription's and the temporary upgrades open now.
    pub capacity: i64,
    /// CU (milli) held by deployments meant to run.
    pub held: i64,
}

/// A deployment meant to run, with the CU (milli) it holds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunningDeploymentRow {
    pub id: String,
    pub name: String,
    pub cu_milli: i64,
}

/// Every account's subscription capacity, for the enforcement when a window closes.
pub struct AllCapacity<'a>(&'a AllTenants);

impl AllTenants {
    pub fn capacity(&self) -> AllCapacity<'_> {
        AllCapacity(self)
    }
}

impl AllCapacity<'_> {
    /// Subscription projects with a temporary upgrade closed by `now_ms` (only those
    /// can be over: starts check the rest), with their capacity and what is held.
    pub async fn after_closed_upgrades(
        &self,
        now_ms: i64,
    ) -> Result<Vec<HeldAgainstCapacityRow>, Error> {
        Ok(sqlx::query_as(
            "select s.project_id, s.account_id,
                    s.cu_milli + cast(coalesce((select sum(t.cu_milli) from temporary_upgrades t
                                                 where t.project_id = s.project_id and t.starts_at <= $1 and t.ends_at > $1), 0) as bigint)
                      as capacity,
                    cast(coalesce((select sum(d.parallelism * d.cu_per_task_milli) from deployments d
                                    where d.project_id = s.project_id and d.desired_state = 'RUNNING'), 0) as bigint)
                      as held
               from subscriptions s
              where exists (select 1 from temporary_upgrades t where t.project_id = s.project_id and t.ends_at <= $1)",
        )
        .bind(now_ms)
        .fetch_all(&self.0.db().pool)
        .await?)
    }

    /// The project's deployments meant to run, the most recently started first.
    pub async fn running_newest_first(
        &self,
        project_id: &str,
    ) -> Result<Vec<RunningDeploymentRow>, Error> {
        Ok(sqlx::query_as(
            "select id, name, parallelism * cu_per_task_milli as cu_milli from deployments
              where project_id = $1 and desired_state = 'RUNNING' order by updated_at desc, id desc",
        )
        .bind(project_id)
        .fetch_all(&self.0.db().pool)
        .await?)
    }
}
