//! A DingTalk custom robot: access token, signed timestamp, markdown message.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::Mac;
use serde_json::{json, Value};

use super::{
    hmac_sha256, Channel, Received, Shared, DINGTALK_ACCESS_TOKEN, DINGTALK_MAX_SKEW,
    DINGTALK_SECRET,
};

fn dingtalk_answer(errcode: i64, errmsg: &str) -> Response {
    Json(json!({ "errcode": errcode, "errmsg": errmsg })).into_response()
}

pub(super) async fn handle(
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
