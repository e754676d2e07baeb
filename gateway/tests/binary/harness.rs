//! Spawning the `sluice` binary: a data directory and a database of its own (SQLite,
//! or PostgreSQL with `SLUICE_TEST_DATABASE=postgres`), the command with its
//! configuration, an account created from the command line, a server waited for until
//! it answers, and killing it.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{AnyPool, Connection};

/// The `sluice` binary over the data directory `dir`, its configuration file there.
pub fn sluice(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.env("SLUICE__DATA_DIR", dir)
        .env("SLUICE_CONFIG", dir.join("sluice.toml"))
        .env("RUST_LOG", "warn");
    cmd
}

/// A fresh directory under the system's temporary one, named after `label`.
pub fn temp_dir(label: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("sluice-{label}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Creates the account Acme owned by `owner_email` with `sluice` (the binary in its
/// environment); returns (account id, owner token).
pub fn create_account(mut sluice: Command, owner_email: &str) -> (String, String) {
    let out = sluice
        .args([
            "admin",
            "create-account",
            "--name",
            "Acme",
            "--owner-email",
            owner_email,
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
    (
        account,
        String::from_utf8(out.stdout).unwrap().trim().to_owned(),
    )
}

/// Serves with `sluice` on `port`, with `env` added, and waits up to `within` until it
/// answers.
pub async fn serve(
    mut sluice: Command,
    port: u16,
    env: &[(&str, &str)],
    within: Duration,
) -> Child {
    sluice
        .env("SLUICE__LISTEN", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stderr(Stdio::null());
    for (k, v) in env {
        sluice.env(k, v);
    }
    let child = sluice.spawn().unwrap();
    let deadline = Instant::now() + within;
    while reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn sigkill(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL on Unix: no shutdown path runs
    child.wait().unwrap();
}

/// A server process that is killed when the test ends, passed or not: a server left
/// running would go on submitting to the shared engine.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An installation for the crash tests: a data directory and a database of its own.
pub struct Setup {
    pub dir: PathBuf,
    database_url: String,
}

pub async fn setup(label: &str) -> Setup {
    let dir = temp_dir(&format!("crash-{label}"));
    let database_url = if std::env::var("SLUICE_TEST_DATABASE").as_deref() == Ok("postgres") {
        let server = std::env::var("SLUICE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
        let name = format!("sluice_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
            .await
            .unwrap();
        sqlx::Executor::execute(&mut admin, format!("create database {name}").as_str())
            .await
            .unwrap();
        format!("{server}/{name}")
    } else {
        format!("sqlite://{}/sluice.db", dir.display())
    };
    Setup { dir, database_url }
}

impl Setup {
    pub fn sluice(&self) -> Command {
        let mut cmd = sluice(&self.dir);
        cmd.env("SLUICE__DATABASE__URL", &self.database_url).env(
            "SLUICE__SECRETS__ENCRYPTION_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        );
        cmd
    }

    /// Creates an account; returns (account id, owner token).
    pub fn create_account(&self) -> (String, String) {
        create_account(self.sluice(), "ann@example.com")
    }

    pub async fn serve(&self, port: u16, env: &[(&str, &str)]) -> Child {
        serve(self.sluice(), port, env, Duration::from_secs(30)).await
    }

    pub async fn pool(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::any::AnyPoolOptions::new()
            .max_connections(2)
            .connect(&self.database_url)
            .await
            .unwrap()
    }
}
