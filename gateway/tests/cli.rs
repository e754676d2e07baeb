//! The `sluice` binary as an operator uses it: create an account from the command
//! line, serve, use the printed token, stop with SIGTERM; bad configuration is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sluice(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.env("SLUICE__DATA_DIR", data_dir)
        .env("SLUICE_CONFIG", data_dir.join("sluice.toml"))
        .env("RUST_LOG", "warn");
    cmd.env_remove("SLUICE__DATABASE__URL");
    cmd
}

fn temp_dir(label: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir =
        std::env::temp_dir().join(format!("sluice-cli-{label}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn an_operator_creates_an_account_serves_and_stops_gracefully() {
    let dir = temp_dir("serve");
    let out = sluice(&dir)
        .args([
            "admin",
            "create-account",
            "--name",
            "Acme",
            "--owner-email",
            "ann@example.com",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(
        token.starts_with("slc_") && token.len() == 68,
        "stdout is exactly the token: {token}"
    );
    assert!(
        dir.join("sluice.db").exists(),
        "the SQLite file is created under the data directory"
    );

    let port = free_port();
    let mut server = sluice(&dir)
        .env("SLUICE__LISTEN", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
    let out = sluice(&dir)
        .args([
            "admin",
            "create-account",
            "--name",
            "Acme",
            "--owner-email",
            "ann@example.com",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    let account = stderr
        .split_whitespace()
        .skip_while(|w| *w != "account")
        .nth(1)
        .expect("the account id is printed")
        .to_owned();

    let out = sluice(&dir)
        .args([
            "admin",
            "add-member",
            "--account-id",
            &account,
            "--email",
            "ci@example.com",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("slc_"), "stdout is the token: {token}");

    let out = sluice(&dir)
        .args([
            "admin",
            "add-member",
            "--account-id",
            &account,
            "--email",
            "x@example.com",
            "--role",
            "root",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role"));
    let out = sluice(&dir)
        .args([
            "admin",
            "add-member",
            "--account-id",
            "nope",
            "--email",
            "x@example.com",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("account not found"));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn an_operator_tops_up_a_balance_and_bad_amounts_are_named() {
    let dir = temp_dir("topup");
    let out = sluice(&dir)
        .args([
            "admin",
            "create-account",
            "--name",
            "Acme",
            "--owner-email",
            "ann@example.com",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    let account = stderr
        .split_whitespace()
        .skip_while(|w| *w != "account")
        .nth(1)
        .unwrap()
        .to_owned();
    let ok = sluice(&dir)
        .args([
            "admin",
            "top-up",
            "--account-id",
            &account,
            "--amount",
            "12.50",
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stderr).contains("credited 12.50"));
    let bad = sluice(&dir)
        .args([
            "admin",
            "top-up",
            "--account-id",
            &account,
            "--amount",
            "-1",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--amount"));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn an_operator_schedules_a_product_form_within_the_policy() {
    let dir = temp_dir("lifecycle");
    let run = |eom1: &str| {
        sluice(&dir)
            .args([
                "admin",
                "product-form",
                "--name",
                "fully_managed",
                "--announced-at",
                "2026-01-01T00:00:00Z",
                "--eom1",
                eom1,
                "--eom2",
                "2026-12-01T00:00:00Z",
                "--eofs",
                "2027-02-01T00:00:00Z",
                "--eos",
                "2027-06-01T00:00:00Z",
            ])
            .output()
            .unwrap()
    };
    let ok = run("2026-06-01T00:00:00Z");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let short = run("2026-03-01T00:00:00Z");
    assert!(!short.status.success());
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("notice"),
        "{}",
        String::from_utf8_lossy(&short.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn an_operator_is_granted_by_email() {
    let dir = temp_dir("operator");
    let out = sluice(&dir)
        .args([
            "admin",
            "create-account",
            "--name",
            "Platform",
            "--owner-email",
            "ops@example.com",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = sluice(&dir)
        .args(["admin", "grant-operator", "--email", "ops@example.com"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let unknown = sluice(&dir)
        .args(["admin", "grant-operator", "--email", "nobody@example.com"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not found"));
    std::fs::remove_dir_all(&dir).ok();
}
