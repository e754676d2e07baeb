//! Product-form lifecycles as the gateway enforces them: a schedule per form (set by
//! operators), checked wherever an action happens — orders in `api::orders::plan`,
//! starts in `api::deployments::start_deployment`. A form without a schedule is GA.

use chrono::{DateTime, Utc};
use lifecycle::{Action, ProductSchedule};
use store::Error;

use store::db::{now_ms, Db, Tx};

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The schedule of the project's product form, if it has one.
pub async fn schedule_of(
    tx: &mut Tx,
    project_id: &str,
) -> Result<Option<(String, ProductSchedule)>, Error> {
    let row: Option<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "select f.name, f.announced_at, f.eom1, f.eom2, f.eofs, f.eos
           from projects p join product_forms f on f.name = p.product_form where p.id = $1",
    )
    .bind(project_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(name, announced, eom1, eom2, eofs, eos)| {
        (
            name,
            ProductSchedule {
                announced_at: instant(announced),
                eom1: instant(eom1),
                eom2: instant(eom2),
                eofs: instant(eofs),
                eos: instant(eos),
            },
        )
    }))
}

/// Refuses `action` on the project if its product form's stage forbids it now.
pub async fn ensure_allowed(tx: &mut Tx, project_id: &str, action: Action) -> Result<(), Error> {
    let Some((form, schedule)) = schedule_of(tx, project_id).await? else {
        return Ok(());
    };
    schedule.check(action, Utc::now()).map_err(|refusal| {
        let stage = serde_json::to_value(refusal.stage)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let action = serde_json::to_value(action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Error::conflict(
            "lifecycle_restricted",
            format!(
                "the product form `{form}` is at {stage} since {}: {action} is not allowed any more; {}",
                refusal.since.to_rfc3339(),
                refusal.advice
            ),
        )
    })
}

/// Sets a product form's schedule after checking it against the lifecycle policy.
pub async fn set_schedule(db: &Db, name: &str, schedule: &ProductSchedule) -> Result<(), Error> {
    schedule
        .validate()
        .map_err(|e| Error::invalid("schedule", e.to_string()))?;
    let mut tx = db.begin_write().await?;
    sqlx::query("delete from product_forms where name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into product_forms (name, announced_at, eom1, eom2, eofs, eos, updated_at) values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(name)
    .bind(schedule.announced_at.timestamp_millis())
    .bind(schedule.eom1.timestamp_millis())
    .bind(schedule.eom2.timestamp_millis())
    .bind(schedule.eofs.timestamp_millis())
    .bind(schedule.eos.timestamp_millis())
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    announce_form(&mut tx, name, schedule).await?;
    tx.commit().await?;
    Ok(())
}

type EngineRow = (String, String, i64, i64, i64, i64, i64, i64);

fn engine_from_row(
    (label, flink_version, announced, ga, eogs, eofs, eos, pulled): EngineRow,
) -> lifecycle::EngineVersion {
    lifecycle::EngineVersion {
        label,
        flink_version,
        announced_at: instant(announced),
        ga: instant(ga),
        eogs: instant(eogs),
        eofs: instant(eofs),
        eos: instant(eos),
        pulled: pulled != 0,
    }
}

const ENGINE_COLUMNS: &str = "label, flink_version, announced_at, ga, eogs, eofs, eos, pulled";

/// Every engine version with a schedule.
pub async fn engine_versions(db: &Db) -> Result<Vec<lifecycle::EngineVersion>, Error> {
    let rows: Vec<EngineRow> = sqlx::query_as(&format!(
        "select {ENGINE_COLUMNS} from engine_versions order by label"
    ))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(engine_from_row).collect())
}

/// Sets an engine version's schedule after checking it against the policy.
pub async fn set_engine_version(db: &Db, version: &lifecycle::EngineVersion) -> Result<(), Error> {
    version
        .validate()
        .map_err(|e| Error::invalid("schedule", e.to_string()))?;
    let mut tx = db.begin_write().await?;
    sqlx::query("delete from engine_versions where label = $1")
        .bind(&version.label)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into engine_versions (label, flink_version, announced_at, ga, eogs, eofs, eos, pulled, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&version.label)
    .bind(&version.flink_version)
    .bind(version.announced_at.timestamp_millis())
    .bind(version.ga.timestamp_millis())
    .bind(version.eogs.timestamp_millis())
    .bind(version.eofs.timestamp_millis())
    .bind(version.eos.timestamp_millis())
    .bind(i64::from(version.pulled))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    announce_engine(&mut tx, version).await?;
    tx.commit().await?;
    Ok(())
}

/// The engine version a cluster runs, if it has a schedule.
async fn engine_of_cluster(
    tx: &mut Tx,
    cluster_id: &str,
) -> Result<Option<lifecycle::EngineVersion>, Error> {
    let row: Option<EngineRow> = sqlx::query_as(&format!(
        "select {} from engine_versions v join engine_clusters c on c.engine_version = v.label where c.id = $1",
        ENGINE_COLUMNS.split(", ").map(|c| format!("v.{c}")).collect::<Vec<_>>().join(", ")
    ))
    .bind(cluster_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(engine_from_row))
}

/// Refuses new deployments on a cluster whose engine version was pulled or reached its
/// end of service; `starting` refuses starts at end of service only.
pub async fn ensure_engine_allows(
    tx: &mut Tx,
    cluster_id: &str,
    starting: bool,
) -> Result<(), Error> {
    let Some(version) = engine_of_cluster(tx, cluster_id).await? else {
        return Ok(());
    };
    let now = Utc::now();
    let advice = |v: &lifecycle::EngineVersion| {
        format!("engine version {} (Flink {})", v.label, v.flink_version)
    };
    if !version.may_run(now) {
        return Err(Error::conflict(
            "engine_end_of_service",
            format!("{} reached its end of service on {}; move the deployment to a cluster on a supported version", advice(&version), version.eos.to_rfc3339()),
        ));
    }
    if !starting && !version.accepts_new_deployments(now) {
        return Err(Error::conflict(
            "engine_version_pulled",
            format!(
                "{} was pulled for a defect; deploy to a cluster on its replacement",
                advice(&version)
            ),
        ));
    }
    Ok(())
}

/// Checks, as often as the reconciler passes, for engine versions past their end of
/// service, and stops what still runs on them, until `stop` is cancelled.
pub async fn run(state: crate::AppState, stop: tokio_util::sync::CancellationToken) {
    let interval = std::time::Duration::from_millis(state.config.engine.reconcile_interval_ms);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        let started = std::time::Instant::now();
        let stopped = stop_at_end_of_service(&state, chrono::Utc::now()).await;
        if let Err(e) = &stopped {
            tracing::warn!(error = %e.message, "cannot stop deployments at end of service; will retry");
        }
        state
            .metrics
            .worker_pass("end_of_service", started.elapsed(), stopped.is_ok());
    }
}

/// Stops (with a savepoint) every deployment still meant to run on an engine version
/// that reached its end of service. Returns how many were stopped.
pub async fn stop_at_end_of_service(
    state: &crate::AppState,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select d.id, v.label from deployments d
           join engine_clusters c on c.id = d.cluster_id
           join engine_versions v on v.label = c.engine_version
          where d.desired_state = 'RUNNING' and v.eos <= $1",
    )
    .bind(now.timestamp_millis())
    .fetch_all(&state.db.pool)
    .await?;
    let mut stopped = 0;
    for (deployment_id, label) in rows {
        let why = format!("engine version {label} reached its end of service: stopped with a savepoint; resume it on a supported version");
        if crate::engine::reconciler::suspend_for(state, &deployment_id, "end_of_service", &why)
            .await?
        {
            stopped += 1;
        }
    }
    Ok(stopped)
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Accounts with at least one project of this product form.
pub(crate) async fn accounts_of_form(tx: &mut Tx, form: &str) -> Result<Vec<String>, Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select distinct account_id from projects where product_form = $1 order by account_id",
    )
    .bind(form)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(a,)| a).collect())
}

/// Accounts with deployments on clusters that run this engine version.
pub(crate) async fn accounts_on_engine(tx: &mut Tx, label: &str) -> Result<Vec<String>, Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select distinct p.account_id from deployments d join projects p on p.id = d.project_id
           join engine_clusters c on c.id = d.cluster_id where c.engine_version = $1 order by p.account_id",
    )
    .bind(label)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(a,)| a).collect())
}

pub(crate) async fn announce_form(
    tx: &mut Tx,
    name: &str,
    s: &ProductSchedule,
) -> Result<usize, Error> {
    let accounts = accounts_of_form(tx, name).await?;
    let body = format!(
        "The product form `{name}` is being retired. From {} (EOM1) no new purchases; from {} (EOM2) no scale-out orders; \
         from {} (EOFS) no renewals or changes; on {} (EOS) it stops. Move your projects to its successor before then.",
        day(s.eom1), day(s.eom2), day(s.eofs), day(s.eos)
    );
    crate::notices::notify_accounts(
        tx,
        &accounts,
        "product_form_schedule",
        &format!("`{name}` retirement schedule"),
        &body,
    )
    .await
}

pub(crate) async fn announce_engine(
    tx: &mut Tx,
    v: &lifecycle::EngineVersion,
) -> Result<usize, Error> {
    let accounts = accounts_on_engine(tx, &v.label).await?;
    let body = if v.pulled {
        format!("Engine version {} (Flink {}) was pulled for a defect: no new deployments can use it. Move your deployments to its replacement.", v.label, v.flink_version)
    } else {
        format!(
            "Engine version {} (Flink {}): no new features from {} (EOGS), no support from {} (EOFS); on {} (EOS) deployments on it are stopped with a savepoint. Upgrade to the newest minor of its major before then.",
            v.label, v.flink_version, day(v.eogs), day(v.eofs), day(v.eos)
        )
    };
    crate::notices::notify_accounts(
        tx,
        &accounts,
        "engine_version_schedule",
        &format!("engine version {} lifecycle", v.label),
        &body,
    )
    .await
}
