//! DingTalk custom robots ("sign" security setting). Each request is signed afresh:
//! the robot refuses a timestamp more than an hour off, so a retried notice must never
//! reuse an old signature. DingTalk has no idempotency field; a repeat shows twice.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::{excerpt, parse_http_url, request_error, DeliveryError, Message};

/// The robot is throttled (more than 20 messages a minute): it refuses for 10 minutes.
pub const ERRCODE_THROTTLED: i64 = 130101;
/// Signature, keyword or IP allow-list refused.
pub const ERRCODE_SECURITY_REFUSED: i64 = 310000;
/// DingTalk's "system busy".
pub const ERRCODE_BUSY: i64 = -1;

/// `urlencode(base64(HMAC-SHA256(key = secret, timestamp_ms + "\n" + secret)))`, the
/// value of the `sign` query parameter.
pub fn sign(secret: &str, timestamp_ms: i64) -> String {
    let digest = hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    );
    url_encode(&B64.encode(digest))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(hmac::digest::InvalidLength) => return Vec::new(),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Percent-encodes everything but unreserved characters (base64's `+`, `/` and `=`
/// among them).
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URL to post to: the robot's URL with `timestamp` and `sign` appended when the
/// robot has a secret.
pub fn signed_url(webhook_url: &str, secret: &str, timestamp_ms: i64) -> String {
    if secret.is_empty() {
        return webhook_url.to_owned();
    }
    let separator = if webhook_url.contains('?') { '&' } else { '?' };
    format!(
        "{webhook_url}{separator}timestamp={timestamp_ms}&sign={}",
        sign(secret, timestamp_ms)
    )
}

/// The request body: a markdown message titled with the subject.
pub fn body(message: &Message) -> serde_json::Value {
    serde_json::json!({
        "msgtype": "markdown",
        "markdown": { "title": message.subject, "text": message.markdown },
    })
}

#[derive(Debug, Deserialize)]
struct Answer {
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

pub(crate) async fn send(
    http: &reqwest::Client,
    webhook_url: &str,
    secret: &str,
    message: &Message,
) -> Result<(), DeliveryError> {
    parse_http_url(webhook_url, "the DingTalk webhook URL")?;
    let url = signed_url(webhook_url, secret, chrono::Utc::now().timestamp_millis());
    let response = http
        .post(url)
        .json(&body(message))
        .send()
        .await
        .map_err(|e| request_error("DingTalk", e))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| request_error("DingTalk", e))?;
    classify(status, &text)
}

/// DingTalk answers 200 with an error code for refusals; other statuses come from its
/// gateway.
pub(crate) fn classify(status: reqwest::StatusCode, body: &str) -> Result<(), DeliveryError> {
    if let Some(error) = super::status_error("DingTalk", status, body) {
        return Err(error);
    }
    let answer: Answer = serde_json::from_str(body).map_err(|_| {
        DeliveryError::transient(format!(
            "DingTalk gave an answer that is not its JSON: {}",
            excerpt(body)
        ))
    })?;
    let text = format!(
        "DingTalk errcode {}: {}",
        answer.errcode,
        excerpt(&answer.errmsg)
    );
    match answer.errcode {
        0 => Ok(()),
        ERRCODE_THROTTLED | ERRCODE_BUSY => Err(DeliveryError::transient(text)),
        ERRCODE_SECURITY_REFUSED => Err(DeliveryError::permanent(format!(
            "{text} (signature, keyword or IP refused by the robot's security settings)"
        ))),
        // Unknown robot, bad token, malformed message: the same request fails again.
        _ => Err(DeliveryError::permanent(text)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use reqwest::StatusCode;

    const SECRET: &str = "SEC000000000000000000000000000000000000000000000000000000000000";

    #[test]
    fn sign_matches_an_independently_computed_vector() {
        // printf '%s\n%s' 1700000000000 "$SECRET" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
        // gives 7P/8fhpCVrcCiQPL2iQD78euxebBpOUyg/zGYvWNnDc=; URL-encoded below.
        assert_eq!(
            sign(SECRET, 1_700_000_000_000),
            "7P%2F8fhpCVrcCiQPL2iQD78euxebBpOUyg%2FzGYvWNnDc%3D"
        );
    }

    #[test]
    fn signed_url_appends_timestamp_and_sign() {
        let url = signed_url(
            "https://oapi.dingtalk.com/robot/send?access_token=t",
            SECRET,
            1_700_000_000_000,
        );
        assert_eq!(
            url,
            "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000\
             &sign=7P%2F8fhpCVrcCiQPL2iQD78euxebBpOUyg%2FzGYvWNnDc%3D"
        );
        assert_eq!(
            signed_url("https://h/x?access_token=t", "", 1),
            "https://h/x?access_token=t"
        );
        assert!(signed_url("https://h/x", "s", 1).starts_with("https://h/x?timestamp=1&sign="));
    }

    #[test]
    fn body_is_a_markdown_message() {
        let message = Message {
            idempotency_key: "k".to_owned(),
            subject: "Job failed".to_owned(),
            text: "plain".to_owned(),
            markdown: "**bold**".to_owned(),
        };
        assert_eq!(
            body(&message),
            serde_json::json!({"msgtype":"markdown","markdown":{"title":"Job failed","text":"**bold**"}})
        );
    }

    #[test]
    fn answers_are_classified() {
        assert!(classify(StatusCode::OK, r#"{"errcode":0,"errmsg":"ok"}"#).is_ok());
        let throttled = classify(
            StatusCode::OK,
            r#"{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}"#,
        )
        .unwrap_err();
        assert!(!throttled.permanent);
        assert!(throttled.message.contains("130101"));
        let refused = classify(
            StatusCode::OK,
            r#"{"errcode":310000,"errmsg":"sign not match"}"#,
        )
        .unwrap_err();
        assert!(refused.permanent);
        assert!(refused.message.contains("sign not match"));
        let other = classify(
            StatusCode::OK,
            r#"{"errcode":300001,"errmsg":"token is not exist"}"#,
        )
        .unwrap_err();
        assert!(other.permanent);
        assert!(other.message.contains("token is not exist"));
        assert!(
            !classify(StatusCode::OK, r#"{"errcode":-1,"errmsg":"busy"}"#)
                .unwrap_err()
                .permanent
        );
        assert!(
            !classify(StatusCode::BAD_GATEWAY, "<html>")
                .unwrap_err()
                .permanent
        );
        assert!(
            !classify(StatusCode::SERVICE_UNAVAILABLE, "")
                .unwrap_err()
                .permanent
        );
        assert!(
            !classify(StatusCode::TOO_MANY_REQUESTS, "")
                .unwrap_err()
                .permanent
        );
        assert!(classify(StatusCode::NOT_FOUND, "").unwrap_err().permanent);
        assert!(!classify(StatusCode::OK, "<html>").unwrap_err().permanent);
    }
}
