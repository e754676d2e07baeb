//! Local stand-ins for the HTTP services notices go to: a DingTalk custom robot, the
//! Alibaba Cloud SMS API and a webhook endpoint, in one axum server on 127.0.0.1. Each
//! checks signatures the way the real service does, with its own code (not Sluice's
//! signing functions), answers in that service's format, and records what it accepted.
//!
//! Faults on demand: `fail_next(n)` answers 500 to the next n requests (any route),
//! `throttle_next(n)` answers the next n with the service's own throttling answer
//! (DingTalk errcode 130101, SMS `isv.BUSINESS_LIMIT_CONTROL`, webhook 429), `delay`
//! holds every answer back, and `stop`/`restart` take the server down and bring it back
//! on the same port.
//!
//! One module per service: `dingtalk`, `sms` and `webhook`.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use delivery::{SmsConfig, Target};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

mod dingtalk;
mod sms;
mod webhook;

pub const DINGTALK_ACCESS_TOKEN: &str = "test-robot-token";
pub const DINGTALK_SECRET: &str = "SECtest0dingtalk0robot0secret";
pub const SMS_ACCESS_KEY_ID: &str = "LTAItestaccesskey";
pub const SMS_ACCESS_KEY_SECRET: &str = "test-access-key-secret";
pub const SMS_SIGN_NAME: &str = "Sluice";
pub const SMS_TEMPLATE_CODE: &str = "SMS_000001";
pub const WEBHOOK_SECRET: &str = "whsec-test-secret";

/// How far a DingTalk robot lets the signed timestamp drift.
pub const DINGTALK_MAX_SKEW: Duration = Duration::from_secs(3600);
/// How far the SMS API lets `Timestamp` drift.
pub const SMS_MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// How old a webhook's timestamp may be before the receiver calls it a replay.
pub const WEBHOOK_MAX_SKEW: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    DingTalk,
    Sms,
    Webhook,
}

/// One accepted (verified) message.
#[derive(Debug, Clone)]
pub struct Received {
    pub channel: Channel,
    /// The webhook's `Idempotency-Key`, the SMS `OutId`; DingTalk has no such field.
    pub idempotency_key: Option<String>,
    /// DingTalk title, SMS template `subject`, webhook `subject`.
    pub subject: String,
    /// DingTalk markdown text, SMS template `text`, webhook `text`.
    pub body: String,
    /// Everything that arrived: DingTalk's JSON body, the SMS parameters (with
    /// `TemplateParam` parsed), the webhook's JSON body.
    pub payload: Value,
}

impl Received {
    /// What duplicates are counted by: the idempotency key, or for DingTalk (which has
    /// none) the title and text.
    pub fn dedup_key(&self) -> String {
        match &self.idempotency_key {
            Some(key) => format!("{:?}:{key}", self.channel),
            None => format!(
                "{:?}:content:{}",
                self.channel,
                hex::encode(Sha256::digest(
                    format!("{}\n{}", self.subject, self.body).as_bytes()
                ))
            ),
        }
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    /// Refusals by signature, token, timestamp or content checks (not injected faults).
    rejected: Vec<(Channel, String)>,
    requests: usize,
    fail_next: usize,
    throttle_next: usize,
    delay: Duration,
    sms_nonces: HashSet<String>,
}

struct Shared {
    inner: Mutex<Inner>,
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("receiver state lock")
    }

    fn accept(&self, received: Received) {
        self.lock().received.push(received);
        self.changed.notify_waiters();
    }

    fn reject(&self, channel: Channel, reason: impl Into<String>) {
        self.lock().rejected.push((channel, reason.into()));
        self.changed.notify_waiters();
    }

    /// Counts the request, waits out the delay, and answers an injected 500 if one is
    /// due.
    async fn gate(&self) -> Option<Response> {
        let delay = {
            let mut inner = self.lock();
            inner.requests += 1;
            inner.delay
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let fail = {
            let mut inner = self.lock();
            if inner.fail_next > 0 {
                inner.fail_next -= 1;
                true
            } else {
                false
            }
        };
        self.changed.notify_waiters();
        fail.then(|| (StatusCode::INTERNAL_SERVER_ERROR, "injected failure").into_response())
    }

    fn take_throttle(&self) -> bool {
        let mut inner = self.lock();
        if inner.throttle_next > 0 {
            inner.throttle_next -= 1;
            true
        } else {
            false
        }
    }
}

struct Running {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// The receivers' server. Dropping it stops the server.
pub struct Receivers {
    shared: Arc<Shared>,
    pub port: u16,
    running: tokio::sync::Mutex<Option<Running>>,
}

impl Drop for Receivers {
    fn drop(&mut self) {
        if let Ok(mut running) = self.running.try_lock() {
            if let Some(running) = running.take() {
                running.stop.cancel();
                running.task.abort();
            }
        }
    }
}

impl Receivers {
    /// Starts on a free port.
    pub async fn start() -> Receivers {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            changed: Notify::new(),
        });
        let listener = bind(0).await;
        let port = listener.local_addr().expect("receiver address").port();
        let running = serve(listener, shared.clone());
        Receivers {
            shared,
            port,
            running: tokio::sync::Mutex::new(Some(running)),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The robot's webhook URL, as DingTalk shows it (access token included).
    pub fn dingtalk_url(&self) -> String {
        format!(
            "{}/dingtalk/send?access_token={DINGTALK_ACCESS_TOKEN}",
            self.base_url()
        )
    }

    pub fn dingtalk_target(&self) -> Target {
        Target::DingTalk {
            webhook_url: self.dingtalk_url(),
            secret: DINGTALK_SECRET.to_owned(),
        }
    }

    pub fn sms_endpoint(&self) -> String {
        format!("{}/sms", self.base_url())
    }

    /// SMS settings that this receiver accepts.
    pub fn sms_config(&self) -> SmsConfig {
        SmsConfig {
            endpoint: self.sms_endpoint(),
            access_key_id: SMS_ACCESS_KEY_ID.to_owned(),
            access_key_secret: SMS_ACCESS_KEY_SECRET.to_owned(),
            sign_name: SMS_SIGN_NAME.to_owned(),
            template_code: SMS_TEMPLATE_CODE.to_owned(),
            region_id: "cn-hangzhou".to_owned(),
        }
    }

    pub fn webhook_url(&self) -> String {
        format!("{}/webhook", self.base_url())
    }

    pub fn webhook_target(&self) -> Target {
        Target::Webhook {
            url: self.webhook_url(),
            secret: WEBHOOK_SECRET.to_owned(),
        }
    }

    /// Answers the next `n` requests (any route) with HTTP 500.
    pub fn fail_next(&self, n: usize) {
        self.shared.lock().fail_next = n;
    }

    /// Answers the next `n` requests with the service's throttling answer.
    pub fn throttle_next(&self, n: usize) {
        self.shared.lock().throttle_next = n;
    }

    /// Holds every answer back this long (zero: none).
    pub fn delay(&self, delay: Duration) {
        self.shared.lock().delay = delay;
    }

    /// Takes the server down: the port refuses connections until [`Self::restart`].
    pub async fn stop(&self) {
        let running = self.running.lock().await.take();
        if let Some(mut running) = running {
            running.stop.cancel();
            // Graceful, so a delayed answer in flight still goes out; bounded, so a
            // stuck connection cannot hold the test.
            if tokio::time::timeout(Duration::from_secs(5), &mut running.task)
                .await
                .is_err()
            {
                running.task.abort();
            }
        }
    }

    /// Brings the server back on the same port, with everything recorded so far.
    pub async fn restart(&self) {
        let mut running = self.running.lock().await;
        if running.is_none() {
            *running = Some(serve(bind(self.port).await, self.shared.clone()));
        }
    }

    /// Every accepted message, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    pub fn received_on(&self, channel: Channel) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.channel == channel)
            .collect()
    }

    /// Accepted messages counted once per [`Received::dedup_key`].
    pub fn distinct(&self) -> usize {
        self.received()
            .iter()
            .map(Received::dedup_key)
            .collect::<HashSet<_>>()
            .len()
    }

    /// Accepted messages that repeated an earlier one's [`Received::dedup_key`].
    pub fn duplicates(&self) -> usize {
        self.received().len() - self.distinct()
    }

    /// How often each dedup key arrived.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for r in self.received() {
            *counts.entry(r.dedup_key()).or_insert(0) += 1;
        }
        counts
    }

    /// Requests refused by a check, with the reason.
    pub fn rejected(&self) -> Vec<(Channel, String)> {
        self.shared.lock().rejected.clone()
    }

    /// Every request that reached a route, accepted, refused or faulted.
    pub fn requests(&self) -> usize {
        self.shared.lock().requests
    }

    /// Waits until at least `count` messages are accepted; panics after `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        self.wait_until(timeout, |r| r.len() >= count, &format!("{count} messages"))
            .await
    }

    /// Waits until `count` distinct messages are accepted; panics after `timeout`.
    pub async fn wait_for_distinct(&self, count: usize, timeout: Duration) -> Vec<Received> {
        self.wait_until(
            timeout,
            |r| {
                r.iter()
                    .map(Received::dedup_key)
                    .collect::<HashSet<_>>()
                    .len()
                    >= count
            },
            &format!("{count} distinct messages"),
        )
        .await
    }

    async fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&[Received]) -> bool,
        what: &str,
    ) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Created before the check, so a message accepted in between still wakes us.
            let changed = self.shared.changed.notified();
            {
                let inner = self.shared.lock();
                if done(&inner.received) {
                    return inner.received.clone();
                }
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                let inner = self.shared.lock();
                panic!(
                    "waited {timeout:?} for {what}; received {:?}, rejected {:?}",
                    inner.received, inner.rejected
                );
            }
        }
    }
}

async fn bind(port: u16) -> tokio::net::TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    // The restarted server takes its old port while closed connections linger.
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .unwrap_or_else(|e| panic!("bind 127.0.0.1:{port}: {e}"));
    socket.listen(128).expect("listen")
}

fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) -> Running {
    let app = Router::new()
        .route("/dingtalk/send", post(dingtalk::handle))
        .route("/sms", get(sms::handle))
        .route("/webhook", post(webhook::handle))
        .with_state(shared);
    let stop = CancellationToken::new();
    let shutdown = stop.clone();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
    });
    Running { stop, task }
}

fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length")
}
