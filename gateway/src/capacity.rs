//! The capacity of a subscription project: the CU it bought plus any temporary upgrade
//! whose window is open, against the CU its running deployments hold. One place for
//! both sums, so the start check, the order planner, the cost preview and the
//! enforcement when a window closes agree on what "fits" means.

use sqlx::AnyConnection;
use store::Error;

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
/// open then. `None` for a pay-as-you-go project, which is billed for what runs.
pub async fn purchased(
    conn: &mut AnyConnection,
    project_id: &str,
    at_ms: i64,
) -> Result<Option<Purchased>, Error> {
    let base: Option<(i64,)> =
        sqlx::query_as("select cu_milli from subscriptions where project_id = $1")
            .bind(project_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((base,)) = base else {
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
    Ok(Some(Purchased { base, temporary }))
}

#[derive(Debug, Clone, Copy)]
pub struct Purchased {
    /// The subscription's CU (milli).
    pub base: i64,
    /// Extra CU (milli) of temporary upgrades open at the instant asked about.
    pub temporary: i64,
}

impl Purchased {
    pub fn total(&self) -> i64 {
        self.base + self.temporary
    }
}

/// When a temporary upgrade's window closes, the deployments that no longer fit are
/// stopped with a savepoint, the most recently started first, until the rest fit;
/// the owners and admins are told which. Returns how many deployments were stopped.
pub async fn enforce(state: &crate::AppState, now_ms: i64) -> Result<usize, Error> {
    // Only projects whose temporary upgrade closed can be over: starts check the rest.
    let over: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "select s.project_id, s.account_id,
                s.cu_milli + cast(coalesce((select sum(t.cu_milli) from temporary_upgrades t
                                             where t.project_id = s.project_id and t.starts_at <= $1 and t.ends_at > $1), 0) as bigint),
                cast(coalesce((select sum(d.parallelism * d.cu_per_task_milli) from deployments d
                                where d.project_id = s.project_id and d.desired_state = 'RUNNING'), 0) as bigint)
           from subscriptions s
          where exists (select 1 from temporary_upgrades t where t.project_id = s.project_id and t.ends_at <= $1)",
    )
    .bind(now_ms)
    .fetch_all(&state.db.pool)
    .await?;
    let mut stopped = 0;
    for (project_id, account_id, capacity, mut held) in over {
        if held <= capacity {
            continue;
        }
        let running: Vec<(String, String, i64)> = sqlx::query_as(
            "select id, name, parallelism * cu_per_task_milli from deployments
              where project_id = $1 and desired_state = 'RUNNING' order by updated_at desc, id desc",
        )
        .bind(&project_id)
        .fetch_all(&state.db.pool)
        .await?;
        let mut names = Vec::new();
        for (deployment_id, name, cu_milli) in running {
            if held <= capacity {
                break;
            }
            let why = format!(
                "stopped with a savepoint: the project's temporary upgrade ended and its running deployments held {} CU of the {} purchased",
                held as f64 / 1000.0,
                capacity as f64 / 1000.0
            );
            if crate::engine::reconciler::suspend_for(state, &deployment_id, "capacity", &why)
                .await?
            {
                held -= cu_milli;
                stopped += 1;
                names.push(name);
            }
        }
        if !names.is_empty() {
            let mut tx = state.db.begin_write().await?;
            let body = format!(
                "A temporary upgrade of a subscription project ended, and its running deployments no longer fitted the {} CU it keeps. \
                 Stopped with a savepoint: {}. Start them again within the capacity, or order more CU.",
                capacity as f64 / 1000.0,
                names.join(", ")
            );
            crate::notices::notify(
                &mut tx,
                &account_id,
                crate::notices::Audience::OwnersAndAdmins,
                &crate::notices::Notice {
                    kind: "capacity",
                    subject: "Deployments stopped: a temporary upgrade ended",
                    body: &body,
                },
            )
            .await?;
            tx.commit().await?;
        }
    }
    Ok(stopped)
}
