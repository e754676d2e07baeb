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
