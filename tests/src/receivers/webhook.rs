//! A webhook endpoint checking Sluice's signature headers and the idempotency key.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::Mac;
use serde_json::Value;

use super::{hmac_sha256, Channel, Received, Shared, WEBHOOK_MAX_SKEW, WEBHOOK_SECRET};

pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
