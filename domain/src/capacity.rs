//! The capacity of a subscription project: the CU it bought plus any temporary upgrade
//! whose window is open, against the CU its running deployments hold. One place for
//! both sums, so the start check, the order planner, the cost preview and the
//! enforcement when a window closes agree on what "fits" means.

use store::Error;

/// When a temporary upgrade's window closes, the deployments that no longer fit are
/// stopped with a savepoint, the most recently started first, until the rest fit;
/// the owners and admins are told which. Returns how many deployments were stopped.
pub async fn enforce(state: &crate::Platform, now_ms: i64) -> Result<usize, Error> {
    // Only projects whose temporary upgrade closed can be over: starts check the rest.
    let all = state.all_tenants();
    let over = all.capacity().after_closed_upgrades(now_ms).await?;
    let mut stopped = 0;
    for row in over {
        let (capacity, mut held) = (row.capacity, row.held);
        if held <= capacity {
            continue;
        }
        let running = all.capacity().running_newest_first(&row.project_id).await?;
        let mut names = Vec::new();
        for deployment in running {
            if held <= capacity {
                break;
            }
            let why = format!(
                "stopped with a savepoint: the project's temporary upgrade ended and its running deployments held {} CU of the {} purchased",
                held as f64 / 1000.0,
                capacity as f64 / 1000.0
            );
            if crate::engine::reconciler::suspend_for(state, &deployment.id, "capacity", &why)
                .await?
            {
                held -= deployment.cu_milli;
                stopped += 1;
                names.push(deployment.name);
            }
        }
        if !names.is_empty() {
            let mut write = all.write().await?;
            let body = format!(
                "A temporary upgrade of a subscription project ended, and its running deployments no longer fitted the {} CU it keeps. \
                 Stopped with a savepoint: {}. Start them again within the capacity, or order more CU.",
                capacity as f64 / 1000.0,
                names.join(", ")
            );
            crate::notices::notify(
                &mut write,
                &row.account_id,
                crate::notices::Audience::OwnersAndAdmins,
                &crate::notices::Notice {
                    kind: "capacity",
                    subject: "Deployments stopped: a temporary upgrade ended",
                    body: &body,
                },
            )
            .await?;
            write.commit().await?;
        }
    }
    Ok(stopped)
}

/// When a subscription's term ended, as its notices and refusals write it.
pub fn term_end_text(term_end_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(term_end_ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string()
}

/// How to renew, for the refusals and notices of an expired subscription.
pub const HOW_TO_RENEW: &str =
    "renew it (an order of kind renew: Billing > Subscriptions in the console, or POST /api/v1/account/orders)";

/// Refuses a start in a subscription project whose term has ended (inside the
/// project's write): an expired subscription holds no CU until it is renewed.
pub async fn ensure_term_active(write: &mut store::ProjectWrite, now_ms: i64) -> Result<(), Error> {
    match write.capacity().purchased(now_ms).await? {
        Some(p) if p.expired => Err(Error::conflict(
            "subscription_expired",
            format!(
                "the project's subscription expired on {}; {HOW_TO_RENEW}, then start again",
                term_end_text(p.term_end)
            ),
        )),
        _ => Ok(()),
    }
}

/// Whether the product form's lifecycle stage still takes renewals (an automatic
/// renewal is checked as a manual one is).
pub fn ensure_renewal_allowed(
    form: Option<store::product_forms::ProductFormRow>,
) -> Result<(), Error> {
    crate::product_forms::ensure_stage_allows(form, lifecycle::Action::Renewal)
}
