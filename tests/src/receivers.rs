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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use delivery::{SmsConfig, Target};
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

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

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

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
        .route("/dingtalk/send", post(dingtalk))
        .route("/sms", get(sms))
        .route("/webhook", post(webhook))
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

fn dingtalk_answer(errcode: i64, errmsg: &str) -> Response {
    Json(json!({ "errcode": errcode, "errmsg": errmsg })).into_response()
}

async fn dingtalk(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Some(fault) = shared.gate().await {
        return fault;
    }
    if shared.take_throttle() {
        return dingtalk_answer(130101, "send too fast, exceed 20 times per minute");
    }
    let refuse = |errcode: i64, reason: &str| {
        shared.reject(Channel::DingTalk, reason);
        dingtalk_answer(errcode, reason)
    };
    if query.get("access_token").map(String::as_str) != Some(DINGTALK_ACCESS_TOKEN) {
        return refuse(300001, "token is not exist");
    }
    let (Some(timestamp), Some(sign)) = (query.get("timestamp"), query.get("sign")) else {
        return refuse(310000, "sign not match: timestamp or sign missing");
    };
    let Ok(timestamp_ms) = timestamp.parse::<i64>() else {
        return refuse(310000, "sign not match: timestamp is not a number");
    };
    let skew_ms = (chrono::Utc::now().timestamp_millis() - timestamp_ms).unsigned_abs();
    if u128::from(skew_ms) > DINGTALK_MAX_SKEW.as_millis() {
        return refuse(310000, "sign not match: timestamp more than an hour off");
    }
    // The query is already percent-decoded: what remains must be the base64 HMAC.
    let Ok(given) = B64.decode(sign) else {
        return refuse(310000, "sign not match: sign is not base64");
    };
    let mut mac = hmac_sha256(DINGTALK_SECRET.as_bytes());
    mac.update(format!("{timestamp}\n{DINGTALK_SECRET}").as_bytes());
    if mac.verify_slice(&given).is_err() {
        return refuse(310000, "sign not match");
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return refuse(40035, "body is not JSON");
    };
    let (Some("markdown"), Some(title), Some(text)) = (
        payload["msgtype"].as_str(),
        payload["markdown"]["title"].as_str(),
        payload["markdown"]["text"].as_str(),
    ) else {
        return refuse(40035, "expected a markdown message with title and text");
    };
    shared.accept(Received {
        channel: Channel::DingTalk,
        idempotency_key: None,
        subject: title.to_owned(),
        body: text.to_owned(),
        payload: payload.clone(),
    });
    dingtalk_answer(0, "ok")
}

fn sms_answer(status: StatusCode, code: &str, message: &str) -> Response {
    let request_id = uuid::Uuid::now_v7().to_string();
    let mut body = json!({ "Code": code, "Message": message, "RequestId": request_id });
    if code == "OK" {
        body["BizId"] = json!(format!("biz-{}", uuid::Uuid::now_v7().simple()));
    }
    (status, Json(body)).into_response()
}

async fn sms(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    if let Some(fault) = shared.gate().await {
        return fault;
    }
    let refuse = |status: StatusCode, code: &str, message: &str| {
        shared.reject(Channel::Sms, format!("{code}: {message}"));
        sms_answer(status, code, message)
    };
    // Decoded by hand, not as a form: `+` is a literal plus in RFC 3986 queries.
    let mut params = BTreeMap::new();
    for pair in query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Ok(k), Ok(v)) = (
            percent_decode_str(k).decode_utf8(),
            percent_decode_str(v).decode_utf8(),
        ) else {
            return refuse(StatusCode::BAD_REQUEST, "InvalidParameter", "not UTF-8");
        };
        params.insert(k.into_owned(), v.into_owned());
    }
    let Some(given) = params.remove("Signature") else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "MissingSignature",
            "Signature is mandatory",
        );
    };
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
    if param("AccessKeyId") != SMS_ACCESS_KEY_ID {
        return refuse(
            StatusCode::NOT_FOUND,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        );
    }
    if param("SignatureMethod") != "HMAC-SHA1" || param("SignatureVersion") != "1.0" {
        return refuse(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0",
        );
    }
    let Ok(at) = chrono::NaiveDateTime::parse_from_str(param("Timestamp"), "%Y-%m-%dT%H:%M:%SZ")
    else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Format",
            "Timestamp must be YYYY-MM-DDThh:mm:ssZ",
        );
    };
    let skew = (chrono::Utc::now().naive_utc() - at)
        .num_seconds()
        .unsigned_abs();
    if skew > SMS_MAX_SKEW.as_secs() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Expired",
            "Timestamp is more than 15 minutes off",
        );
    }
    let canonical = params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, RFC3986),
                utf8_percent_encode(v, RFC3986)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let string_to_sign = format!("GET&%2F&{}", utf8_percent_encode(&canonical, RFC3986));
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(format!("{SMS_ACCESS_KEY_SECRET}&").as_bytes())
            .expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    let valid = B64
        .decode(&given)
        .map(|g| mac.verify_slice(&g).is_ok())
        .unwrap_or(false);
    if !valid {
        return refuse(
            StatusCode::BAD_REQUEST,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        );
    }
    let nonce = param("SignatureNonce").to_owned();
    if nonce.is_empty() || !shared.lock().sms_nonces.insert(nonce) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        );
    }
    if param("Action") != "SendSms" || param("Version") != "2017-05-25" || param("Format") != "JSON"
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "expected Action=SendSms, Version=2017-05-25, Format=JSON",
        );
    }
    if shared.take_throttle() {
        return sms_answer(
            StatusCode::OK,
            "isv.BUSINESS_LIMIT_CONTROL",
            "触发号码天级流控Permits:10",
        );
    }
    let phone = param("PhoneNumbers");
    let phone_ok = phone.split(',').all(|p| {
        let digits = p.strip_prefix('+').unwrap_or(p);
        (6..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if !phone_ok {
        return refuse(StatusCode::OK, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号");
    }
    if param("SignName") != SMS_SIGN_NAME {
        return refuse(
            StatusCode::OK,
            "isv.SMS_SIGNATURE_ILLEGAL",
            "该账号下找不到对应签名",
        );
    }
    if param("TemplateCode") != SMS_TEMPLATE_CODE {
        return refuse(
            StatusCode::OK,
            "isv.SMS_TEMPLATE_ILLEGAL",
            "该账号下找不到对应模板",
        );
    }
    let Ok(template) = serde_json::from_str::<Value>(param("TemplateParam")) else {
        return refuse(StatusCode::OK, "isv.INVALID_JSON_PARAM", "JSON参数不合法");
    };
    let (Some(subject), Some(text)) = (template["subject"].as_str(), template["text"].as_str())
    else {
        return refuse(
            StatusCode::OK,
            "isv.TEMPLATE_MISSING_PARAMETERS",
            "模板变量缺少对应参数值",
        );
    };
    let mut payload: serde_json::Map<String, Value> = params
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    payload.insert("TemplateParam".to_owned(), template.clone());
    shared.accept(Received {
        channel: Channel::Sms,
        idempotency_key: params.get("OutId").cloned(),
        subject: subject.to_owned(),
        body: text.to_owned(),
        payload: Value::Object(payload),
    });
    sms_answer(StatusCode::OK, "OK", "OK")
}

async fn webhook(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(fault) = shared.gate().await {
        return fault;
    }
    if shared.take_throttle() {
        return (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response();
    }
    let refuse = |status: StatusCode, reason: &str| {
        shared.reject(Channel::Webhook, reason);
        (status, reason.to_owned()).into_response()
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(key), Some(timestamp), Some(signature)) = (
        header("idempotency-key"),
        header("x-sluice-timestamp"),
        header("x-sluice-signature"),
    ) else {
        return refuse(StatusCode::BAD_REQUEST, "a signing header is missing");
    };
    let Ok(timestamp_secs) = timestamp.parse::<i64>() else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "X-Sluice-Timestamp is not a number",
        );
    };
    let skew = (chrono::Utc::now().timestamp() - timestamp_secs).unsigned_abs();
    if skew > WEBHOOK_MAX_SKEW.as_secs() {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "timestamp outside the 5 minute window",
        );
    }
    let Some(Ok(given)) = signature.strip_prefix("v1=").map(hex::decode) else {
        return refuse(StatusCode::UNAUTHORIZED, "signature is not v1=<hex>");
    };
    let mut mac = hmac_sha256(WEBHOOK_SECRET.as_bytes());
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&body);
    if mac.verify_slice(&given).is_err() {
        return refuse(StatusCode::UNAUTHORIZED, "signature does not match");
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    if payload["idempotency_key"].as_str() != Some(key) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "body and header disagree on the idempotency key",
        );
    }
    shared.accept(Received {
        channel: Channel::Webhook,
        idempotency_key: Some(key.to_owned()),
        subject: payload["subject"].as_str().unwrap_or_default().to_owned(),
        body: payload["text"].as_str().unwrap_or_default().to_owned(),
        payload: payload.clone(),
    });
    StatusCode::NO_CONTENT.into_response()
}
