//! The development SMTP server (`scripts/dev-smtp`, PyPI aiosmtpd) run as a real process
//! for email tests. It appends each accepted message to a JSON-lines file, parsed by
//! Python's email package, which [`DevSmtp::messages`] reads back.
//!
//! It refuses recipients whose local part starts with `reject` (550), and with `auth`
//! it requires AUTH PLAIN or LOGIN (any password) before MAIL.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use delivery::SmtpConfig;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

pub const USERNAME: &str = "sluice";
pub const PASSWORD: &str = "dev-smtp-password";
pub const FROM: &str = "Sluice Alerts <alerts@sluice.test>";

fn dev_smtp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/dev-smtp")
}

fn venv_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.engine/smtp-venv/bin/python")
}

/// One message as the server received and parsed it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The raw message, as sent after DATA.
    pub data: String,
    /// `PLAIN` or `LOGIN` when the client authenticated.
    pub auth_mechanism: Option<String>,
    pub auth_login: Option<String>,
    /// Headers in order, values decoded (RFC 2047).
    pub headers: Vec<(String, String)>,
    /// Leaf MIME parts: content type and decoded text.
    pub parts: Vec<(String, String)>,
}

impl Mail {
    fn from_json(line: &str) -> Mail {
        let v: Value = serde_json::from_str(line).expect("a JSON line from dev-smtp");
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let pairs = |v: &Value| -> Vec<(String, String)> {
            v.as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|p| match p {
                            Value::Array(kv) => (
                                text(&kv[0]).unwrap_or_default(),
                                text(&kv[1]).unwrap_or_default(),
                            ),
                            obj => (
                                text(&obj["content_type"]).unwrap_or_default(),
                                text(&obj["text"]).unwrap_or_default(),
                            ),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        Mail {
            mail_from: text(&v["mail_from"]).unwrap_or_default(),
            rcpt_tos: v["rcpt_tos"]
                .as_array()
                .map(|a| a.iter().filter_map(text).collect())
                .unwrap_or_default(),
            data: text(&v["data"]).unwrap_or_default(),
            auth_mechanism: text(&v["auth_mechanism"]),
            auth_login: text(&v["auth_login"]),
            headers: pairs(&v["message"]["headers"]),
            parts: pairs(&v["message"]["parts"]),
        }
    }

    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded text of the first part of this content type (`text/plain`, `text/html`).
    pub fn part(&self, content_type: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(content_type))
            .map(|(_, v)| v.as_str())
    }
}

pub struct DevSmtp {
    child: tokio::process::Child,
    pub port: u16,
    pub auth: bool,
    dir: PathBuf,
}

impl Drop for DevSmtp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl DevSmtp {
    /// Starts the server on a free port (with `auth`, requiring AUTH) and waits until it
    /// listens.
    pub async fn start(auth: bool) -> DevSmtp {
        let python = venv_python();
        assert!(
            python.is_file(),
            "{} is missing: run scripts/dev-smtp/install.sh (scripts/test.sh does)",
            python.display()
        );
        let dir =
            std::env::temp_dir().join(format!("sluice-smtp-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let log = std::fs::File::create(dir.join("server.log")).expect("log file");
        let mut cmd = tokio::process::Command::new(&python);
        cmd.arg(dev_smtp_dir().join("server.py"))
            .arg(dir.join("mail.jsonl"))
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        if auth {
            cmd.arg("--auth");
        }
        let mut child = cmd.spawn().expect("python runs the dev SMTP server");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        let port = match first {
            Ok(Ok(Some(line))) => line
                .strip_prefix("dev-smtp port=")
                .and_then(|p| p.trim().parse::<u16>().ok()),
            _ => None,
        };
        let Some(port) = port else {
            let _ = child.start_kill();
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            panic!("the dev SMTP server did not report its port:\n{log}");
        };
        DevSmtp {
            child,
            port,
            auth,
            dir,
        }
    }

    /// Settings that reach this server (plain text; with credentials when it requires
    /// AUTH).
    pub fn smtp_config(&self) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port: self.port,
            tls: "none".to_owned(),
            username: if self.auth {
                USERNAME.to_owned()
            } else {
                String::new()
            },
            password: if self.auth {
                PASSWORD.to_owned()
            } else {
                String::new()
            },
            from: FROM.to_owned(),
        }
    }

    /// Every message accepted so far.
    pub fn messages(&self) -> Vec<Mail> {
        // Each line is written whole before the server answers 250.
        std::fs::read_to_string(self.dir.join("mail.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(Mail::from_json)
            .collect()
    }

    /// Waits until at least `count` messages arrived; panics after `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "waited {timeout:?} for {count} mails, got {}",
                    messages.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Stops the server and waits until it is gone (its port then refuses connections).
    pub async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}
