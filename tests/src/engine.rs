//! The real Flink cluster of the test run. `scripts/test.sh` starts it with
//! `scripts/flink.sh`, builds the SQL runner, and passes both on in
//! `SLUICE_TEST_FLINK_URL` and `SLUICE_TEST_SQL_RUNNER`. Engine tests skip (saying so)
//! only where there is no Java; under `CI=true` a missing engine fails them instead.

use gateway::Config;

pub struct LocalEngine {
    pub rest_url: String,
    pub runner_jar: String,
}

pub fn local_engine() -> Option<LocalEngine> {
    let rest_url = std::env::var("SLUICE_TEST_FLINK_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let runner_jar = std::env::var("SLUICE_TEST_SQL_RUNNER")
        .ok()
        .filter(|v| !v.is_empty());
    match (rest_url, runner_jar) {
        (Some(rest_url), Some(runner_jar)) => Some(LocalEngine {
            rest_url,
            runner_jar,
        }),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI runs the engine tests: SLUICE_TEST_FLINK_URL and SLUICE_TEST_SQL_RUNNER must be set (scripts/test.sh does)"
            );
            eprintln!("no local Flink cluster for this run (see scripts/test.sh); skipping an engine test");
            None
        }
    }
}

impl LocalEngine {
    /// Points a test server's platform cluster and SQL runner at this engine.
    pub fn configure(&self, config: &mut Config) {
        config.engine.default_cluster_url = self.rest_url.clone();
        config.engine.sql_runner_jar = self.runner_jar.clone().into();
    }
}
