//! Benchmark: the casbin check as requests make it, from many tasks at once, through
//! the shared read-only enforcer Sluice uses, against the same check behind a write
//! lock taken per request (what casbin's axum middleware does). Prints checks per
//! second for both and their ratio, measured side by side in one run.
//!
//!     cargo run --release -p sluice-gateway --example authz_lock

use std::sync::Arc;
use std::time::Instant;

use gateway::access::roles::ProjectRole;
use gateway::access::{Authorizer, ProjectAction};

const TASKS: usize = 64;
const CHECKS_PER_TASK: usize = 5_000;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let shared = Arc::new(Authorizer::load().await?);
        let locked = Arc::new(tokio::sync::RwLock::new(Authorizer::load().await?));
        let roles = [
            ProjectRole::Viewer,
            ProjectRole::Editor,
            ProjectRole::Admin,
            ProjectRole::Owner,
        ];
        let actions = [
            ProjectAction::Read,
            ProjectAction::WriteDrafts,
            ProjectAction::Delete,
        ];

        // Warm up both paths once.
        shared.project_role_allows(ProjectRole::Viewer, ProjectAction::Read);
        locked
            .write()
            .await
            .project_role_allows(ProjectRole::Viewer, ProjectAction::Read);

        let start = Instant::now();
        let mut tasks = Vec::new();
        for t in 0..TASKS {
            let authz = shared.clone();
            tasks.push(tokio::spawn(async move {
                let mut allowed = 0usize;
                for i in 0..CHECKS_PER_TASK {
                    allowed +=
                        usize::from(authz.project_role_allows(roles[(t + i) % 4], actions[i % 3]));
                    tokio::task::yield_now().await;
                }
                allowed
            }));
        }
        let mut allowed_shared = 0;
        for task in tasks {
            allowed_shared += task.await?;
        }
        let shared_secs = start.elapsed().as_secs_f64();

        let start = Instant::now();
        let mut tasks = Vec::new();
        for t in 0..TASKS {
            let authz = locked.clone();
            tasks.push(tokio::spawn(async move {
                let mut allowed = 0usize;
                for i in 0..CHECKS_PER_TASK {
                    let guard = authz.write().await;
                    allowed +=
                        usize::from(guard.project_role_allows(roles[(t + i) % 4], actions[i % 3]));
                    drop(guard);
                    tokio::task::yield_now().await;
                }
                allowed
            }));
        }
        let mut allowed_locked = 0;
        for task in tasks {
            allowed_locked += task.await?;
        }
        let locked_secs = start.elapsed().as_secs_f64();

        anyhow::ensure!(
            allowed_shared == allowed_locked,
            "both paths must decide alike"
        );
        let checks = (TASKS * CHECKS_PER_TASK) as f64;
        println!("{TASKS} tasks x {CHECKS_PER_TASK} checks on 2 worker threads");
        println!(
            "shared read-only enforcer: {:>12.0} checks/s",
            checks / shared_secs
        );
        println!(
            "write lock per check:      {:>12.0} checks/s",
            checks / locked_secs
        );
        println!(
            "ratio shared/locked:       {:>12.2}",
            locked_secs / shared_secs
        );
        Ok(())
    })
}
