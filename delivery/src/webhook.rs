//! Signed webhooks: a JSON POST with the idempotency key in a header and in the body,
//! and an HMAC over the timestamp and the exact body bytes, so a receiver can reject a
//! forgery or a replay (by the timestamp's age) before parsing anything.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{parse_http_url, request_error, status_error, DeliveryError, Message};

pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
pub const TIMESTAMP_HEADER: &str = "X-Sluice-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Sluice-Signature";

/// Hex HMAC-SHA256 with key `secret` over `timestamp + "." + body`; the header carries
/// it as `v1=<hex>` (the version leaves room for another scheme).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes a key of any length; this arm cannot run.
        Err(hmac::digest::InvalidLength) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The exact bytes posted (and signed).
pub fn body(message: &Message) -> Vec<u8> {
    serde_json::json!({
        "idempotency_key": message.idempotency_key,
        "subject": message.subject,
        "text": message.text,
        "markdown": message.markdown,
    })
    .to_string()
    .into_bytes()
}

pub(crate) async fn send(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    message: &Message,
) -> Result<(), DeliveryError> {
    let url = parse_http_url(url, "the webhook URL")?;
    let body = body(message);
    let timestamp = chrono::Utc::now().timestamp();
    let signature = signature(secret, timestamp, &body);
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(IDEMPOTENCY_HEADER, &message.idempotency_key)
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, format!("v1={signature}"))
        .body(body)
        .send()
        .await
        .map_err(|e| request_error("webhook", e))?;
    let status = response.status();
    // The body only explains a failure; a receiver that hangs up mid-answer still gave
    // its status, and the status decides.
    let text = response.text().await.unwrap_or_default();
    match status_error("webhook", status, &text) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn signature_matches_an_independently_computed_vector() {
        // printf '%s' '1700000000.{"idempotency_key":"k1"}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, br#"{"idempotency_key":"k1"}"#),
            "67fe0a7311e47562776fcf86819be89da1a25777a181e9838139293dd5bf05f0"
        );
    }

    #[test]
    fn body_carries_every_field() {
        let message = Message {
            idempotency_key: "k".to_owned(),
            subject: "s".to_owned(),
            text: "t".to_owned(),
            markdown: "**m**".to_owned(),
        };
        let value: serde_json::Value = serde_json::from_slice(&body(&message)).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"idempotency_key":"k","subject":"s","text":"t","markdown":"**m**"})
        );
    }

    #[tokio::test]
    async fn statuses_and_unreachable_receivers_are_classified() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        async fn answering(status_line: &'static str) -> String {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let answer = format!(
                    "HTTP/1.1 {status_line}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
            format!("http://{addr}/hook")
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let message = Message {
            idempotency_key: "k".to_owned(),
            subject: "s".to_owned(),
            text: "t".to_owned(),
            markdown: "m".to_owned(),
        };
        for (status_line, outcome) in [
            ("200 OK", None),
            ("204 No Content", None),
            ("500 Internal Server Error", Some(false)),
            ("503 Service Unavailable", Some(false)),
            ("429 Too Many Requests", Some(false)),
            ("408 Request Timeout", Some(false)),
            ("400 Bad Request", Some(true)),
            ("401 Unauthorized", Some(true)),
            ("404 Not Found", Some(true)),
            ("302 Found", Some(true)),
        ] {
            let url = answering(status_line).await;
            let result = send(&http, &url, "s", &message).await;
            assert_eq!(result.err().map(|e| e.permanent), outcome, "{status_line}");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let refused = send(&http, &format!("http://127.0.0.1:{port}/"), "s", &message)
            .await
            .unwrap_err();
        assert!(!refused.permanent, "{refused}");
        assert!(
            send(&http, "ftp://example.com/", "s", &message)
                .await
                .unwrap_err()
                .permanent
        );
        assert!(
            send(&http, "not a url", "s", &message)
                .await
                .unwrap_err()
                .permanent
        );
    }
}
