//! Crash points for tests: `SLUICE_FAILPOINTS=engine.submitted,...` makes the process
//! SIGKILL itself when it reaches one of the named points, so a test can prove that
//! what was recorded before that point is enough to finish the work after a restart.
//!
//! Only debug builds read the variable; in a release build [`hit`] does nothing.

/// The engine accepted a submission; Sluice has not yet recorded the answer.
pub const ENGINE_SUBMITTED: &str = "engine.submitted";
/// The engine completed a stop with savepoint; Sluice has not yet recorded it.
pub const SAVEPOINT_COMPLETED: &str = "savepoint.completed";
/// The engine accepted a debug run's job; Sluice has not yet recorded it running.
pub const DEBUG_SUBMITTED: &str = "debug.submitted";
/// An upgrade's savepoint is recorded and the old job stopped; the new version is not
/// yet submitted.
pub const UPGRADE_STOPPED: &str = "upgrade.stopped";

#[cfg(debug_assertions)]
pub fn hit(name: &str) {
    use std::sync::OnceLock;
    static ARMED: OnceLock<Vec<String>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| {
        std::env::var("SLUICE_FAILPOINTS")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    });
    if !armed.iter().any(|a| a == name) {
        return;
    }
    eprintln!("failpoint {name} reached: killing the process");
    // A real SIGKILL (no shutdown path, no destructors), sent by the process to itself.
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &std::process::id().to_string()])
        .status();
    // The signal is asynchronous: never run on past the point.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn hit(_name: &str) {}
