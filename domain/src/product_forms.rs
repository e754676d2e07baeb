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

/// The product form a project is created on (every project's, until forms are chosen).
pub const DEFAULT_PRODUCT_FORM: &str = "fully_managed";

/// Refuses `action` if the stage of product form `form` forbids it now: creating a
/// project is a new (pay-as-you-go) purchase, refused from EOM1 on.
pub async fn ensure_form_allows(db: &Db, form: &str, action: Action) -> Result<(), Error> {
    ensure_stage_allows(store::product_forms::product_form(db, form).await?, action)
}

/// Refuses a deployment's creation or a change of its size, cluster or engine version
/// if the project's product form forbids it now: each is a configuration change
/// (refused from EOFS on), and one that adds CU to a pay-as-you-go project
/// (`adds_cu`: a new deployment, or more parallelism or CU per task) is a scale-out
/// (refused from EOM2 on). A subscription's CU only grows by an order, checked there.
pub async fn ensure_deployment_change_allowed(
    write: &mut ProjectWrite,
    adds_cu: bool,
) -> Result<(), Error> {
    let form = write.lifecycle().product_form().await?;
    if form.is_none() {
        return Ok(());
    }
    ensure_stage_allows(form.clone(), Action::ConfigurationChange)?;
    if adds_cu && write.lifecycle().billing_model().await? == "payg" {
        ensure_stage_allows(form, Action::ScaleOut)?;
    }
    Ok(())
}

/// A schedule refused by the policy, as a 422 naming the milestone and the rule.
fn refused(e: lifecycle::ScheduleError) -> Error {
    Error::invalid(e.field(), e.to_string())
}

/// [`publish_schedule`] from the command line (no operator account).
pub async fn set_schedule(db: &Db, name: &str, schedule: &ProductSchedule) -> Result<(), Error> {
    publish_schedule(db, name, schedule, "").await
}

/// Publishes a product form's schedule: `schedule.announced_at` is the instant Sluice
/// records it (the caller passes its clock's now, never a requester's word), the notice
/// is measured from it, and no milestone may move earlier than the schedule already
/// published announced it. The schedule is kept as the form's next version in its
/// history, and the accounts with projects of that form are told, in one transaction.
pub async fn publish_schedule(
    db: &Db,
    name: &str,
    schedule: &ProductSchedule,
    announced_by: &str,
) -> Result<(), Error> {
    let mut write = AllTenants::for_workers(db).write().await?;
    let previous = write
        .lifecycles()
        .product_form(name)
        .await?
        .map(|row| schedule_from_row(row).1);
    schedule
        .validate_publication(previous.as_ref())
        .map_err(refused)?;
    write
        .lifecycles()
        .set_product_form(
            &ProductFormRow {
                name: name.to_owned(),
                announced_at: schedule.announced_at.timestamp_millis(),
                eom1: schedule.eom1.timestamp_millis(),
                eom2: schedule.eom2.timestamp_millis(),
                eofs: schedule.eofs.timestamp_millis(),
                eos: schedule.eos.timestamp_millis(),
            },
            announced_by,
        )
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

/// [`publish_engine_version`] from the command line (no operator account).
pub async fn set_engine_version(db: &Db, version: &lifecycle::EngineVersion) -> Result<(), Error> {
    publish_engine_version(db, version, "").await
}

/// Publishes an engine version's schedule as [`publish_schedule`] does a product
/// form's (`version.announced_at` is the instant Sluice records it; no milestone earlier
/// than already announced; kept in the version's history), and tells the accounts with
/// deployments on it in the same transaction.
pub async fn publish_engine_version(
    db: &Db,
    version: &lifecycle::EngineVersion,
    announced_by: &str,
) -> Result<(), Error> {
    let mut write = AllTenants::for_workers(db).write().await?;
    let previous = write
        .lifecycles()
        .engine_version(&version.label)
        .await?
        .map(engine_from_row);
    version
        .validate_publication(previous.as_ref())
        .map_err(refused)?;
    write
        .lifecycles()
        .set_engine_version(
            &EngineVersionRow {
                label: version.label.clone(),
                flink_version: version.flink_version.clone(),
                announced_at: version.announced_at.timestamp_millis(),
                ga: version.ga.timestamp_millis(),
                eogs: version.eogs.timestamp_millis(),
                eofs: version.eofs.timestamp_millis(),
                eos: version.eos.timestamp_millis(),
                pulled: version.pulled,
            },
            announced_by,
        )
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
        let now = chrono::Utc::now();
        let stopped = match stop_at_end_of_service(&state, now).await {
            Ok(_) => stop_retired_forms(&state, now).await,
            Err(e) => Err(e),
        };
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

/// Stops (with a savepoint) every deployment still meant to run in a project whose
/// product form reached its end of service (at EOS a form runs nothing), says why in
/// its events, and tells the owners and admins of each account that had one stopped.
/// Returns how many were stopped.
pub async fn stop_retired_forms(
    state: &crate::Platform,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let rows = state
        .all_tenants()
        .lifecycles()
        .running_on_retired_forms(now.timestamp_millis())
        .await?;
    // Per account: the form and the deployments this pass stopped.
    let mut told: Vec<(String, String, DateTime<Utc>, usize)> = Vec::new();
    for row in rows {
        let eos = instant(row.eos);
        let why = format!(
            "the product form `{}` reached its end of service on {} (EOS): stopped with a savepoint; move the project's workloads to the form's successor and resume from that savepoint there",
            row.form,
            day(eos)
        );
        if !crate::engine::reconciler::suspend_for(
            state,
            &row.deployment_id,
            "end_of_service",
            &why,
        )
        .await?
        {
            continue;
        }
        match told
            .iter_mut()
            .find(|(account, form, ..)| *account == row.account_id && *form == row.form)
        {
            Some(entry) => entry.3 += 1,
            None => told.push((row.account_id, row.form, eos, 1)),
        }
    }
    let stopped = told.iter().map(|t| t.3).sum();
    if told.is_empty() {
        return Ok(0);
    }
    let mut write = state.all_tenants().write().await?;
    for (account, form, eos, count) in told {
        let body = format!(
            "The product form `{form}` reached its end of service on {} (EOS) and runs nothing any more: \
             {count} running deployment(s) of your projects on it were stopped with a savepoint (each one's events say so). \
             Move the workloads to the form's successor and resume them from those savepoints.",
            day(eos)
        );
        crate::notices::notify_accounts(
            &mut write,
            std::slice::from_ref(&account),
            "product_form_end_of_service",
            &format!("`{form}` reached its end of service: deployments stopped"),
            &body,
        )
        .await?;
    }
    write.commit().await?;
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
