//! The `sluice` binary as an operator uses it: create an account from the command
//! line, serve, use the printed token, stop with SIGTERM; bad configuration is refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::harness::{self, free_port};

/// The binary over `data_dir`, on the SQLite database it creates there by default.
fn sluice(data_dir: &Path) -> Command {
    let mut cmd = harness::sluice(data_dir);
    cmd.env_remove("SLUICE__DATABASE__URL");
    cmd
}

fn temp_dir(label: &str) -> PathBuf {
    harness::temp_dir(&format!("cli-{label}"))
}

/// Runs `sluice` with `args` and asserts it succeeded.
fn ok(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = sluice(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "sluice {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `sluice` with `args`, asserts it failed, and returns what it said.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = sluice(dir).args(args).output().unwrap();
    assert!(!out.status.success(), "sluice {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Creates an account from the command line and returns its id.
fn create_account(dir: &Path, owner_email: &str) -> String {
    harness::create_account(sluice(dir), owner_email).0
}

#[tokio::test]
async fn an_operator_creates_an_account_serves_and_stops_gracefully() {
    let dir = temp_dir("serve");
    let (_, token) = harness::create_account(sluice(&dir), "ann@example.com");
    assert!(
        token.starts_with("slc_") && token.len() == 68,
        "stdout is exactly the token: {token}"
    );
    assert!(
        dir.join("sluice.db").exists(),
        "the SQLite file is created under the data directory"
    );

    let port = free_port();
    let mut server = harness::serve(sluice(&dir), port, &[], Duration::from_secs(20)).await;
    let base = format!("http://127.0.0.1:{port}");
    let account: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/account"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(account["name"], "Acme");

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_configuration_keys_are_refused_with_their_name() {
    let dir = temp_dir("config");
    let out = sluice(&dir)
        .env("SLUICE__DATABSE__URL", "sqlite://x.db")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("databse"),
        "the error names the unknown key: {err}"
    );

    std::fs::write(
        dir.join("sluice.toml"),
        "listen = \"127.0.0.1:0\"\n[plans.standard]\nprojects_per_acount = 5\n",
    )
    .unwrap();
    let out = sluice(&dir).arg("serve").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("projects_per_acount"),
        "the error names the unknown key: {err}"
    );

    std::fs::write(
        dir.join("sluice.toml"),
        "[plans.standard]\nprojects_per_account = 0\n",
    )
    .unwrap();
    let out = sluice(&dir).arg("serve").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("projects_per_account must be at least 1"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn an_operator_adds_a_member_with_a_role_and_bad_roles_are_named() {
    let dir = temp_dir("member");
    let account = create_account(&dir, "ann@example.com");
    let out = ok(
        &dir,
        &[
            "admin",
            "add-member",
            "--account-id",
            &account,
            "--email",
            "ci@example.com",
            "--role",
            "admin",
        ],
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("slc_"), "stdout is the token: {token}");
    let said = fails(
        &dir,
        &[
            "admin",
            "add-member",
            "--account-id",
            &account,
            "--email",
            "x@example.com",
            "--role",
            "root",
        ],
    );
    assert!(said.contains("--role"), "{said}");
    let said = fails(
        &dir,
        &[
            "admin",
            "add-member",
            "--account-id",
            "nope",
            "--email",
            "x@example.com",
        ],
    );
    assert!(said.contains("account not found"), "{said}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn an_operator_tops_up_a_balance_and_bad_amounts_are_named() {
    let dir = temp_dir("topup");
    let account = create_account(&dir, "ann@example.com");
    let out = ok(
        &dir,
        &[
            "admin",
            "top-up",
            "--account-id",
            &account,
            "--amount",
            "12.50",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("credited 12.50"));
    let said = fails(
        &dir,
        &[
            "admin",
            "top-up",
            "--account-id",
            &account,
            "--amount",
            "-1",
        ],
    );
    assert!(said.contains("--amount"), "{said}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn an_operator_schedules_a_product_form_within_the_policy() {
    let dir = temp_dir("lifecycle");
    // Announced when the command runs: the notice counts from now.
    let now = chrono::Utc::now();
    let months =
        |n: u32| (now + chrono::Months::new(n)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (eom2, eofs, eos) = (months(8), months(11), months(15));
    let args = |eom1: &str| -> Vec<String> {
        [
            "admin",
            "product-form",
            "--name",
            "fully_managed",
            "--eom1",
            eom1,
            "--eom2",
            &eom2,
            "--eofs",
            &eofs,
            "--eos",
            &eos,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    fn run(args: &[String]) -> Vec<&str> {
        args.iter().map(String::as_str).collect()
    }
    // Two months ahead is too little notice.
    let said = fails(&dir, &run(&args(&months(2))));
    assert!(said.contains("notice"), "{said}");
    ok(&dir, &run(&args(&months(6))));
    // A published milestone does not move earlier.
    let said = fails(&dir, &run(&args(&months(5))));
    assert!(said.contains("earlier"), "{said}");
    // Nobody can say when it was announced but Sluice.
    let mut backdated = args(&months(6));
    backdated.extend([
        "--announced-at".to_owned(),
        "2026-01-01T00:00:00Z".to_owned(),
    ]);
    let said = fails(&dir, &run(&backdated));
    assert!(said.contains("--announced-at"), "{said}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn an_operator_is_granted_by_email() {
    let dir = temp_dir("operator");
    create_account(&dir, "ops@example.com");
    ok(
        &dir,
        &["admin", "grant-operator", "--email", "ops@example.com"],
    );
    let said = fails(
        &dir,
        &["admin", "grant-operator", "--email", "nobody@example.com"],
    );
    assert!(said.contains("not found"), "{said}");
    std::fs::remove_dir_all(&dir).ok();
}
