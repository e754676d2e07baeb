//! Product-form lifecycles as Sluice enforces them: a schedule per form (set by
//! operators), checked wherever an action happens — an order when it is placed, a
//! deployment when it is created or started — each inside its write transaction.
//! A form without a schedule is GA.

use chrono::{DateTime, Utc};
use lifecycle::{Action, ProductSchedule};
use store::Error;

use store::db::Db;
use store::product_forms::{EngineVersionRow, ProductFormRow};
use store::{AllTenants, AllTenantsWrite, ProjectWrite};

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn schedule_from_row(row: ProductFormRow) -> (String, ProductSchedule) {
    (
        row.name,
        ProductSchedule {
            announced_at: instant(row.announced_at),
            eom1: instant(row.eom1),
            eom2: instant(row.eom2),
            eofs: instant(row.eofs),
            eos: instant(row.eos),
        },
    )
}

/// Refuses `action` on the project if its product form's stage forbids it now.
pub async fn ensure_allowed(write: &mut ProjectWrite, action: Action) -> Result<(), Error> {
    let form = write.lifecycle().product_form().await?;
    ensure_stage_allows(form, action)
}

/// Refuses `action` if the stage of the product form `form` (the project's, as read by
/// the caller; `None`: no schedule) forbids it now.
pub fn ensure_stage_allows(form: Option<ProductFormRow>, action: Action) -> Result<(), Error> {
    let Some((form, schedule)) = form.map(schedule_from_row) else {
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

/// Sets a product form's schedule after checking it against the lifecycle policy, and
/// tells the accounts with projects of that form in the same transaction.
pub async fn set_schedule(db: &Db, name: &str, schedule: &ProductSchedule) -> Result<(), Error> {
    schedule
        .validate()
        .map_err(|e| Error::invalid("schedule", e.to_string()))?;
    let mut write = AllTenants::for_workers(db).write().await?;
    write
        .lifecycles()
        .set_product_form(&ProductFormRow {
            name: name.to_owned(),
            announced_at: schedule.announced_at.timestamp_millis(),
            eom1: schedule.eom1.timestamp_millis(),
            eom2: schedule.eom2.timestamp_millis(),
            eofs: schedule.eofs.timestamp_millis(),
            eos: schedule.eos.timestamp_millis(),
        })
        .await?;
    announce_form(&mut write, name, schedule).await?;
    write.commit().await?;
    Ok(())
}

fn engine_from_row(row: EngineVersionRow) -> lifecycle::EngineVersion {
    lifecycle::EngineVersion {
        label: row.label,
        flink_version: row.flink_version,
        announced_at: instant(row.announced_at),
        ga: instant(row.ga),
        eogs: instant(row.eogs),
        eofs: instant(row.eofs),
        eos: instant(row.eos),
        pulled: row.pulled,
    }
}

/// Every engine version with a schedule.
pub async fn engine_versions(db: &Db) -> Result<Vec<lifecycle::EngineVersion>, Error> {
    Ok(store::product_forms::engine_versions(db)
        .await?
        .into_iter()
        .map(engine_from_row)
        .collect())
}

/// Sets an engine version's schedule after checking it against the policy, and tells
/// the accounts with deployments on it in the same transaction.
pub async fn set_engine_version(db: &Db, version: &lifecycle::EngineVersion) -> Result<(), Error> {
    version
        .validate()
        .map_err(|e| Error::invalid("schedule", e.to_string()))?;
    let mut write = AllTenants::for_workers(db).write().await?;
    write
        .lifecycles()
        .set_engine_version(&EngineVersionRow {
            label: version.label.clone(),
            flink_version: version.flink_version.clone(),
            announced_at: version.announced_at.timestamp_millis(),
            ga: version.ga.timestamp_millis(),
            eogs: version.eogs.timestamp_millis(),
            eofs: version.eofs.timestamp_millis(),
            eos: version.eos.timestamp_millis(),
            pulled: version.pulled,
        })
        .await?;
    announce_engine(&mut write, version).await?;
    write.commit().await?;
    Ok(())
}

/// Refuses new deployments on a cluster whose engine version was pulled or reached its
/// end of service; `starting` refuses starts at end of service only.
pub async fn ensure_engine_allows(
    write: &mut ProjectWrite,
    cluster_id: &str,
    starting: bool,
) -> Result<(), Error> {
    let Some(version) = write
        .lifecycle()
        .engine_of_cluster(cluster_id)
        .await?
        .map(engine_from_row)
    else {
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
pub async fn run(state: crate::Platform, stop: tokio_util::sync::CancellationToken) {
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
    state: &crate::Platform,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let rows = state
        .all_tenants()
        .lifecycles()
        .running_past_end_of_service(now.timestamp_millis())
        .await?;
    let mut stopped = 0;
    for row in rows {
        let (deployment_id, label) = (row.deployment_id, row.label);
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

pub(crate) async fn announce_form(
    write: &mut AllTenantsWrite,
    name: &str,
    s: &ProductSchedule,
) -> Result<usize, Error> {
    let accounts = write.lifecycles().accounts_of_form(name).await?;
    let body = format!(
        "The product form `{name}` is being retired. From {} (EOM1) no new purchases; from {} (EOM2) no scale-out orders; \
         from {} (EOFS) no renewals or changes; on {} (EOS) it stops. Move your projects to its successor before then.",
        day(s.eom1), day(s.eom2), day(s.eofs), day(s.eos)
    );
    crate::notices::notify_accounts(
        write,
        &accounts,
        "product_form_schedule",
        &format!("`{name}` retirement schedule"),
        &body,
    )
    .await
}

pub(crate) async fn announce_engine(
    write: &mut AllTenantsWrite,
    v: &lifecycle::EngineVersion,
) -> Result<usize, Error> {
    let accounts = write.lifecycles().accounts_on_engine(&v.label).await?;
    let body = if v.pulled {
        format!("Engine version {} (Flink {}) was pulled for a defect: no new deployments can use it. Move your deployments to its replacement.", v.label, v.flink_version)
    } else {
        format!(
            "Engine version {} (Flink {}): no new features from {} (EOGS), no support from {} (EOFS); on {} (EOS) deployments on it are stopped with a savepoint. Upgrade to the newest minor of its major before then.",
            v.label, v.flink_version, day(v.eogs), day(v.eofs), day(v.eos)
        )
    };
    crate::notices::notify_accounts(
        write,
        &accounts,
        "engine_version_schedule",
        &format!("engine version {} lifecycle", v.label),
        &body,
    )
    .await
}
