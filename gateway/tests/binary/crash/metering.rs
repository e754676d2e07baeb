//! Metering killed mid-pass.

use std::collections::HashMap;
use std::time::Duration;

use crate::harness::{free_port, setup, sigkill, wait_until};

const HOUR_MS: i64 = 3_600_000;

/// A deterministic generator, so a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn metering_killed_mid_pass_bills_every_cu_millisecond_exactly_once() {
    let s = setup("metering").await;
    let (account, _token) = s.create_account();
    let pool = s.pool().await;
    // Projects created 12 days ago on an hour boundary, each with closed run
    // intervals of random length and CU: about 5,800 hours to rate, more than one
    // pass writes (48 hours per project per pass).
    let now = chrono::Utc::now().timestamp_millis();
    let origin = (now / HOUR_MS - 12 * 24) * HOUR_MS;
    let mut rng = Lcg(20261201);
    let mut ledger: HashMap<String, i128> = HashMap::new();
    for p in 0..20 {
        let project = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "insert into projects (id, account_id, name, description, created_at, updated_at) values ($1, $2, $3, '', $4, $4)",
        )
        .bind(&project)
        .bind(&account)
        .bind(format!("p{p}"))
        .bind(origin)
        .execute(&pool)
        .await
        .unwrap();
        let mut t = origin + rng.next(HOUR_MS as u64) as i64;
        let mut exact = 0_i128;
        // Runs of up to 20 hours with gaps of up to 10, to 11 days in.
        while t < origin + 11 * 24 * HOUR_MS {
            let length = 1_000 + rng.next(20 * HOUR_MS as u64) as i64;
            let cu_milli = 250 * (1 + rng.next(16) as i64);
            sqlx::query(
                "insert into run_intervals (id, deployment_id, project_id, account_id, cu_milli, started_at, ended_at)
                 values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(format!("d-{p}"))
            .bind(&project)
            .bind(&account)
            .bind(cu_milli)
            .bind(t)
            .bind(t + length)
            .execute(&pool)
            .await
            .unwrap();
            exact += i128::from(length) * i128::from(cu_milli);
            t += length + rng.next(10 * HOUR_MS as u64) as i64;
        }
        ledger.insert(project, exact);
    }
    let env = [
        ("SLUICE__BILLING__INTERVAL_SECS", "1"),
        ("SLUICE__BILLING__SETTLE_DELAY_SECS", "0"),
        // Exact rating, so the bill can be compared with the ledger to the millisecond.
        ("SLUICE__BILLING__GRANULARITY", "second"),
    ];
    let hours = || async {
        let (n,): (i64,) = sqlx::query_as("select count(*) from payg_hours")
            .fetch_one(&pool)
            .await
            .unwrap();
        n
    };
    let mut server = s.serve(free_port(), &env).await;
    wait_until(
        "the first pass to write",
        Duration::from_secs(60),
        || async { hours().await > 0 },
    )
    .await;
    sigkill(&mut server);
    let written = hours().await;
    let expected_at_least =
        20 * (chrono::Utc::now().timestamp_millis() / HOUR_MS - origin / HOUR_MS);
    assert!(
        written < expected_at_least,
        "the kill came mid-run ({written} of {expected_at_least} hours written)"
    );

    // Started again (twice at once: two replicas over one database) it finishes the work.
    let (port_a, port_b) = (free_port(), free_port());
    let mut a = s.serve(port_a, &env).await;
    let mut b = s.serve(port_b, &env).await;
    wait_until(
        "every hour to be rated",
        Duration::from_secs(240),
        || async { hours().await >= expected_at_least },
    )
    .await;
    sigkill(&mut a);
    sigkill(&mut b);

    let rows: Vec<(String, i64, i64, String)> = sqlx::query_as(
        "select project_id, window_start, window_end, cu_millis from payg_hours order by project_id, window_start",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut billed: HashMap<String, i128> = HashMap::new();
    let mut previous_end: HashMap<String, i64> = HashMap::new();
    for (project, start, end, cu_millis) in rows {
        // Contiguous, non-overlapping hours from the project's creation: no hour twice, none lost.
        let expected_start = previous_end.get(&project).copied().unwrap_or(origin);
        assert_eq!(start, expected_start, "hours of {project} are contiguous");
        assert_eq!(end - start, HOUR_MS);
        previous_end.insert(project.clone(), end);
        *billed.entry(project).or_default() += cu_millis.parse::<i128>().unwrap();
    }
    assert_eq!(billed.len(), ledger.len());
    for (project, exact) in &ledger {
        assert_eq!(
            billed.get(project),
            Some(exact),
            "project {project}: billed CU-milliseconds equal the interval ledger"
        );
    }
    std::fs::remove_dir_all(&s.dir).ok();
}
