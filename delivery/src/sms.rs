//! SMS through Alibaba Cloud's SendSms (RPC style, signature version 1.0). A message
//! fills an approved template with the variables `subject` and `text`; the notice's
//! idempotency key travels as `OutId`, which the provider echoes in delivery receipts.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;

use super::{excerpt, parse_http_url, request_error, DeliveryError, Message, SmsConfig};

pub const API_VERSION: &str = "2017-05-25";

/// Alibaba Cloud caps a template variable's value (35 characters for most kinds);
/// longer values are refused, so they are cut with an ellipsis here instead.
pub const TEMPLATE_VALUE_MAX_CHARS: usize = 35;

/// RFC 3986 percent-encoding as the signature needs it: only `A-Z a-z 0-9 - _ . ~`
/// stay as they are (so a space is `%20`, `*` is `%2A`, `~` is kept).
pub fn percent_encode(text: &str) -> String {
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

/// `k=v&...` sorted by key, each key and value percent-encoded.
pub fn canonicalized_query(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `base64(HMAC-SHA1(key = secret + "&", "GET&%2F&" + pct(canonicalized query)))`, for
/// every parameter but `Signature` itself.
pub fn signature(access_key_secret: &str, params: &BTreeMap<String, String>) -> String {
    let string_to_sign = format!(
        "GET&{}&{}",
        percent_encode("/"),
        percent_encode(&canonicalized_query(params))
    );
    let key = format!("{access_key_secret}&");
    let mut mac = match Hmac::<Sha1>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes a key of any length; this arm cannot run.
        Err(hmac::digest::InvalidLength) => return String::new(),
    };
    mac.update(string_to_sign.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

#[derive(Clone)]
pub(crate) struct SmsClient {
    endpoint: reqwest::Url,
    access_key_id: String,
    access_key_secret: String,
    sign_name: String,
    template_code: String,
    region_id: String,
}

impl SmsClient {
    pub(crate) fn from_config(cfg: &SmsConfig) -> anyhow::Result<Self> {
        let endpoint = parse_http_url(&cfg.endpoint, "delivery.sms.endpoint")
            .map_err(|e| anyhow::anyhow!(e.message))?;
        if endpoint.query().is_some() {
            anyhow::bail!("delivery.sms.endpoint must not have a query string");
        }
        for (name, value) in [
            ("access_key_id", &cfg.access_key_id),
            ("access_key_secret", &cfg.access_key_secret),
            ("sign_name", &cfg.sign_name),
            ("template_code", &cfg.template_code),
            ("region_id", &cfg.region_id),
        ] {
            if value.is_empty() {
                anyhow::bail!("delivery.sms.{name} is required when delivery.sms.endpoint is set");
            }
        }
        Ok(Self {
            endpoint,
            access_key_id: cfg.access_key_id.clone(),
            access_key_secret: cfg.access_key_secret.clone(),
            sign_name: cfg.sign_name.clone(),
            template_code: cfg.template_code.clone(),
            region_id: cfg.region_id.clone(),
        })
    }

    /// Every parameter of one SendSms call but `Signature`.
    pub(crate) fn params(
        &self,
        phone: &str,
        message: &Message,
        timestamp: chrono::DateTime<chrono::Utc>,
        nonce: &str,
    ) -> BTreeMap<String, String> {
        let fixed = [
            ("AccessKeyId", self.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("RegionId", self.region_id.as_str()),
            ("SignName", self.sign_name.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", self.template_code.as_str()),
            ("Version", API_VERSION),
        ];
        let mut params: BTreeMap<String, String> = fixed
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        params.insert("PhoneNumbers".to_owned(), phone.to_owned());
        params.insert("SignatureNonce".to_owned(), nonce.to_owned());
        params.insert(
            "Timestamp".to_owned(),
            timestamp.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        params.insert("TemplateParam".to_owned(), template_param(message));
        params.insert("OutId".to_owned(), message.idempotency_key.clone());
        params
    }

    /// The signed GET URL.
    pub(crate) fn url(&self, params: &BTreeMap<String, String>) -> String {
        let signature = signature(&self.access_key_secret, params);
        let mut url = self.endpoint.clone();
        url.set_query(Some(&format!(
            "Signature={}&{}",
            percent_encode(&signature),
            canonicalized_query(params)
        )));
        url.to_string()
    }

    pub(crate) async fn send(
        &self,
        http: &reqwest::Client,
        phone: &str,
        message: &Message,
    ) -> Result<(), DeliveryError> {
        if phone.trim().is_empty() {
            return Err(DeliveryError::permanent("the phone number is empty"));
        }
        // A fresh nonce per attempt: the API refuses a nonce it has seen.
        let nonce = uuid::Uuid::now_v7().to_string();
        let params = self.params(phone.trim(), message, chrono::Utc::now(), &nonce);
        let response = http
            .get(self.url(&params))
            .send()
            .await
            .map_err(|e| request_error("SMS", e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| request_error("SMS", e))?;
        classify(status, &text)
    }
}

/// `{"subject": .., "text": ..}`, each cut to what a template variable may hold.
pub fn template_param(message: &Message) -> String {
    serde_json::json!({
        "subject": truncate(&message.subject, TEMPLATE_VALUE_MAX_CHARS),
        "text": truncate(&message.text, TEMPLATE_VALUE_MAX_CHARS),
    })
    .to_string()
}

/// At most `max` characters (not bytes: most notices here are Chinese), the last an
/// ellipsis when cut; line breaks folded into spaces, which templates show badly.
fn truncate(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: String,
    #[serde(default)]
    message: String,
}

/// The API answers its JSON with a `Code` on success and failure alike; refusals of the
/// request itself come with 4xx, its own trouble with 5xx.
pub(crate) fn classify(status: reqwest::StatusCode, body: &str) -> Result<(), DeliveryError> {
    let Ok(answer) = serde_json::from_str::<Answer>(body) else {
        return Err(super::status_error("SMS", status, body).unwrap_or_else(|| {
            DeliveryError::transient(format!(
                "SMS gave an answer that is not its JSON: {}",
                excerpt(body)
            ))
        }));
    };
    let code = answer.code.as_str();
    let text = format!("SMS {code}: {}", excerpt(&answer.message));
    if code == "OK" && status.is_success() {
        return Ok(());
    }
    let transient = code == "isv.BUSINESS_LIMIT_CONTROL"
        || code.starts_with("Throttling")
        || code == "ServiceUnavailable"
        || code == "InternalError"
        || code == "SignatureNonceUsed"
        || status.is_server_error();
    // Everything else (isv.MOBILE_NUMBER_ILLEGAL, InvalidAccessKeyId.*,
    // SignatureDoesNotMatch, a template or sign name not approved...) fails again.
    if transient {
        Err(DeliveryError::transient(text))
    } else {
        Err(DeliveryError::permanent(text))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use reqwest::StatusCode;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn signature_matches_the_providers_published_example() {
        // The worked SendSms example of Alibaba Cloud's signature documentation
        // (secret "testSecret"); recomputed with Python's hmac module as well.
        let params = map(&[
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", r#"{"customer":"test"}"#),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]);
        assert_eq!(
            signature("testSecret", &params),
            "zJDF+Lrzhj/ThnlvIToysFRq6t4="
        );
    }

    #[test]
    fn percent_encoding_follows_rfc_3986() {
        assert_eq!(percent_encode("a b*c~d+e/f=g"), "a%20b%2Ac~d%2Be%2Ff%3Dg");
        assert_eq!(percent_encode("短"), "%E7%9F%AD");
        assert_eq!(
            canonicalized_query(&map(&[("b", "2 3"), ("a", "1")])),
            "a=1&b=2%203"
        );
    }

    #[test]
    fn request_carries_every_parameter_and_a_signature_over_them() {
        let client = SmsClient::from_config(&SmsConfig {
            endpoint: "https://dysmsapi.aliyuncs.com/".to_owned(),
            access_key_id: "id".to_owned(),
            access_key_secret: "secret".to_owned(),
            sign_name: "Sluice".to_owned(),
            template_code: "SMS_1".to_owned(),
            region_id: "cn-hangzhou".to_owned(),
        })
        .unwrap();
        let message = Message {
            idempotency_key: "notice-1".to_owned(),
            subject: "Job failed".to_owned(),
            text: "orders-etl failed".to_owned(),
            markdown: String::new(),
        };
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .to_utc();
        let params = client.params("13800000000", &message, at, "nonce-1");
        assert_eq!(params["Timestamp"], "2026-01-02T03:04:05Z");
        assert_eq!(params["OutId"], "notice-1");
        assert_eq!(params["Version"], API_VERSION);
        assert_eq!(
            params["TemplateParam"],
            r#"{"subject":"Job failed","text":"orders-etl failed"}"#
        );
        let url = client.url(&params);
        let expected = format!(
            "https://dysmsapi.aliyuncs.com/?Signature={}&AccessKeyId=id&Action=SendSms",
            percent_encode(&signature("secret", &params))
        );
        assert!(url.starts_with(&expected), "{url}");
    }

    #[test]
    fn template_values_are_cut_by_characters() {
        assert_eq!(truncate("short", 35), "short");
        assert_eq!(truncate("a\nb  c", 35), "a b c");
        let long = "作业失败".repeat(20);
        let cut = truncate(&long, 35);
        assert_eq!(cut.chars().count(), 35);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn answers_are_classified() {
        let ok = r#"{"Code":"OK","Message":"OK","BizId":"1","RequestId":"r"}"#;
        assert!(classify(StatusCode::OK, ok).is_ok());
        for (status, code, permanent) in [
            (StatusCode::OK, "isv.BUSINESS_LIMIT_CONTROL", false),
            (StatusCode::BAD_REQUEST, "Throttling.User", false),
            (StatusCode::OK, "Throttling", false),
            (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", false),
            (StatusCode::INTERNAL_SERVER_ERROR, "InternalError", false),
            (StatusCode::OK, "isv.MOBILE_NUMBER_ILLEGAL", true),
            (StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound", true),
            (StatusCode::BAD_REQUEST, "InvalidAccessKeyId.Inactive", true),
            (StatusCode::BAD_REQUEST, "SignatureDoesNotMatch", true),
            (StatusCode::OK, "isv.SMS_TEMPLATE_ILLEGAL", true),
        ] {
            let body = format!(r#"{{"Code":"{code}","Message":"m"}}"#);
            let err = classify(status, &body).unwrap_err();
            assert_eq!(err.permanent, permanent, "{code}");
            assert!(err.message.contains(code));
        }
        assert!(
            !classify(StatusCode::BAD_GATEWAY, "<html>")
                .unwrap_err()
                .permanent
        );
        assert!(
            classify(StatusCode::FORBIDDEN, "<html>")
                .unwrap_err()
                .permanent
        );
        assert!(!classify(StatusCode::OK, "<html>").unwrap_err().permanent);
    }
}
