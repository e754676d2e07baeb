//! The Alibaba Cloud SMS API's SendSms: signature version 1.0 over the query, a nonce
//! used once, then the message's own checks.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use super::{
    Channel, Received, Shared, SMS_ACCESS_KEY_ID, SMS_ACCESS_KEY_SECRET, SMS_MAX_SKEW,
    SMS_SIGN_NAME, SMS_TEMPLATE_CODE,
};

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn sms_answer(status: StatusCode, code: &str, message: &str) -> Response {
    let request_id = uuid::Uuid::now_v7().to_string();
    let mut body = json!({ "Code": code, "Message": message, "RequestId": request_id });
    if code == "OK" {
        body["BizId"] = json!(format!("biz-{}", uuid::Uuid::now_v7().simple()));
    }
    (status, Json(body)).into_response()
}

/// A refusal in the SMS API's words: HTTP status, error code and message.
type Refusal = (StatusCode, &'static str, &'static str);

/// SendSms: the query decoded, its signature, nonce and action checked, then the
/// message itself; throttled (on demand) between the two, as the real API throttles
/// only requests it has authenticated.
pub(super) async fn handle(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(fault) = shared.gate().await {
        return fault;
    }
    let refuse = |(status, code, message): Refusal| {
        shared.reject(Channel::Sms, format!("{code}: {message}"));
        sms_answer(status, code, message)
    };
    let mut params = match decoded(query.as_deref().unwrap_or("")) {
        Ok(params) => params,
        Err(refusal) => return refuse(refusal),
    };
    if let Err(refusal) = signed(&shared, &mut params) {
        return refuse(refusal);
    }
    if shared.take_throttle() {
        return sms_answer(
            StatusCode::OK,
            "isv.BUSINESS_LIMIT_CONTROL",
            "触发号码天级流控Permits:10",
        );
    }
    match message(&params) {
        Ok(received) => {
            shared.accept(received);
            sms_answer(StatusCode::OK, "OK", "OK")
        }
        Err(refusal) => refuse(refusal),
    }
}

/// The query's parameters, decoded by hand, not as a form: `+` is a literal plus in
/// RFC 3986 queries.
fn decoded(query: &str) -> Result<BTreeMap<String, String>, Refusal> {
    let mut params = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Ok(k), Ok(v)) = (
            percent_decode_str(k).decode_utf8(),
            percent_decode_str(v).decode_utf8(),
        ) else {
            return Err((StatusCode::BAD_REQUEST, "InvalidParameter", "not UTF-8"));
        };
        params.insert(k.into_owned(), v.into_owned());
    }
    Ok(params)
}

/// The access key, signature method, timestamp, signature (removed from `params`),
/// nonce and action, checked as the API checks them.
fn signed(shared: &Shared, params: &mut BTreeMap<String, String>) -> Result<(), Refusal> {
    let Some(given) = params.remove("Signature") else {
        return Err((
            StatusCode::BAD_REQUEST,
            "MissingSignature",
            "Signature is mandatory",
        ));
    };
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
    if param("AccessKeyId") != SMS_ACCESS_KEY_ID {
        return Err((
            StatusCode::NOT_FOUND,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        ));
    }
    if param("SignatureMethod") != "HMAC-SHA1" || param("SignatureVersion") != "1.0" {
        return Err((
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0",
        ));
    }
    let Ok(at) = chrono::NaiveDateTime::parse_from_str(param("Timestamp"), "%Y-%m-%dT%H:%M:%SZ")
    else {
        return Err((
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Format",
            "Timestamp must be YYYY-MM-DDThh:mm:ssZ",
        ));
    };
    let skew = (chrono::Utc::now().naive_utc() - at)
        .num_seconds()
        .unsigned_abs();
    if skew > SMS_MAX_SKEW.as_secs() {
        return Err((
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Expired",
            "Timestamp is more than 15 minutes off",
        ));
    }
    if !signature_matches(params, &given) {
        return Err((
            StatusCode::BAD_REQUEST,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        ));
    }
    let nonce = param("SignatureNonce").to_owned();
    if nonce.is_empty() || !shared.lock().sms_nonces.insert(nonce) {
        return Err((
            StatusCode::BAD_REQUEST,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    if param("Action") != "SendSms" || param("Version") != "2017-05-25" || param("Format") != "JSON"
    {
        return Err((
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "expected Action=SendSms, Version=2017-05-25, Format=JSON",
        ));
    }
    Ok(())
}

/// Whether `given` (base64) is the HMAC-SHA1 of the canonical query, signature
/// version 1.0.
fn signature_matches(params: &BTreeMap<String, String>, given: &str) -> bool {
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
    B64.decode(given)
        .map(|g| mac.verify_slice(&g).is_ok())
        .unwrap_or(false)
}

/// The message: phone numbers, sign name, template and its parameters, as received.
fn message(params: &BTreeMap<String, String>) -> Result<Received, Refusal> {
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
    let phone = param("PhoneNumbers");
    let phone_ok = phone.split(',').all(|p| {
        let digits = p.strip_prefix('+').unwrap_or(p);
        (6..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if !phone_ok {
        return Err((StatusCode::OK, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"));
    }
    if param("SignName") != SMS_SIGN_NAME {
        return Err((
            StatusCode::OK,
            "isv.SMS_SIGNATURE_ILLEGAL",
            "该账号下找不到对应签名",
        ));
    }
    if param("TemplateCode") != SMS_TEMPLATE_CODE {
        return Err((
            StatusCode::OK,
            "isv.SMS_TEMPLATE_ILLEGAL",
            "该账号下找不到对应模板",
        ));
    }
    let Ok(template) = serde_json::from_str::<Value>(param("TemplateParam")) else {
        return Err((StatusCode::OK, "isv.INVALID_JSON_PARAM", "JSON参数不合法"));
    };
    let (Some(subject), Some(text)) = (template["subject"].as_str(), template["text"].as_str())
    else {
        return Err((
            StatusCode::OK,
            "isv.TEMPLATE_MISSING_PARAMETERS",
            "模板变量缺少对应参数值",
        ));
    };
    let mut payload: serde_json::Map<String, Value> = params
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    payload.insert("TemplateParam".to_owned(), template.clone());
    Ok(Received {
        channel: Channel::Sms,
        idempotency_key: params.get("OutId").cloned(),
        subject: subject.to_owned(),
        body: text.to_owned(),
        payload: Value::Object(payload),
    })
}
