//! The background workers and the engine's actions survive SIGKILL: the real `sluice`
//! binary is killed in the middle of a metering pass (metering), an outbox batch
//! (outbox), an alert evaluation (alerts), concurrent creates (audit) or at each of the
//! engine's crash points (engine), started again over the same database, and every
//! CU-millisecond is billed exactly once and every message arrives, none twice once the
//! receiver drops repeats by idempotency key.
//!
//! Runs on SQLite, or on PostgreSQL with `SLUICE_TEST_DATABASE=postgres` (a fresh
//! database on `SLUICE_TEST_POSTGRES_URL`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};

mod alerts;
mod audit;
mod engine;
mod metering;
mod outbox;

/// A webhook receiver that checks signatures and counts every key it is sent.
#[derive(Clone, Default)]
struct Receiver {
    keys: Arc<Mutex<HashMap<String, usize>>>,
}

impl Receiver {
    async fn start(secret: &'static str, delay: Duration) -> (Self, u16) {
        let receiver = Self::default();
        let keys = receiver.keys.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let keys = keys.clone();
                async move {
                    tokio::time::sleep(delay).await;
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    let timestamp: i64 = header("x-sluice-timestamp").parse().unwrap_or(0);
                    let expected = format!(
                        "v1={}",
                        delivery::webhook::signature(secret, timestamp, &body)
                    );
                    if header("x-sluice-signature") != expected {
                        return StatusCode::UNAUTHORIZED;
                    }
                    *keys
                        .lock()
                        .unwrap()
                        .entry(header("idempotency-key"))
                        .or_default() += 1;
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, port)
    }

    fn distinct(&self) -> usize {
        self.keys.lock().unwrap().len()
    }

    fn total(&self) -> usize {
        self.keys.lock().unwrap().values().sum()
    }
}

/// An API client of one running server.
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let res = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }
}
