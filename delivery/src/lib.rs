//! Delivery channels for notices: email over SMTP, DingTalk custom robots, Alibaba Cloud
//! SMS and signed webhooks. One [`Channels`] is built from configuration at start and
//! shared; [`Channels::send`] makes one attempt and says whether a failure is worth
//! retrying ([`DeliveryError::permanent`]). Retries, de-duplication and bookkeeping
//! belong to the caller: every channel carries the message's idempotency key where the
//! receiving side has a place for it, so a receiver can drop a repeat.

pub mod dingtalk;
pub mod email;
pub mod markdown;
pub mod sms;
pub mod webhook;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One notice, rendered for every channel by whoever queues it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Stable across retries of the same notice; receivers de-duplicate on it.
    pub idempotency_key: String,
    pub subject: String,
    /// Plain-text body (email text part, SMS, webhook).
    pub text: String,
    /// Markdown body (DingTalk; rendered to HTML for the email's HTML part).
    pub markdown: String,
}

/// Where one notice goes.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    Email {
        address: String,
    },
    Sms {
        phone: String,
    },
    /// A custom robot's webhook URL (with its `access_token`) and its signing secret;
    /// an empty secret is a robot secured by keyword or IP allow-list instead.
    DingTalk {
        webhook_url: String,
        secret: String,
    },
    Webhook {
        url: String,
        secret: String,
    },
}

impl Target {
    /// The channel's name, for logs and metrics.
    pub fn channel(&self) -> &'static str {
        match self {
            Target::Email { .. } => "email",
            Target::Sms { .. } => "sms",
            Target::DingTalk { .. } => "dingtalk",
            Target::Webhook { .. } => "webhook",
        }
    }
}

// The DingTalk URL carries the robot's access token, which is as good as a password.
impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Email { address } => f.debug_struct("Email").field("address", address).finish(),
            Target::Sms { phone } => f.debug_struct("Sms").field("phone", phone).finish(),
            Target::DingTalk {
                webhook_url,
                secret,
            } => f
                .debug_struct("DingTalk")
                .field("webhook_url", &without_query(webhook_url))
                .field("secret", &redacted(secret))
                .finish(),
            Target::Webhook { url, secret } => f
                .debug_struct("Webhook")
                .field("url", &without_query(url))
                .field("secret", &redacted(secret))
                .finish(),
        }
    }
}

/// One failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    /// Retrying cannot help (bad address, refused signature, a 4xx); otherwise the
    /// failure is transient (connection refused, timeout, 5xx, throttled).
    pub permanent: bool,
    /// What went wrong, safe to store and show: never a secret or a signed URL.
    pub message: String,
}

impl DeliveryError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            permanent: true,
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            permanent: false,
            message: message.into(),
        }
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.permanent {
            "permanent"
        } else {
            "transient"
        };
        write!(f, "{kind} delivery failure: {}", self.message)
    }
}

impl std::error::Error for DeliveryError {}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    pub smtp: SmtpConfig,
    pub sms: SmsConfig,
    /// Timeout of one DingTalk, SMS or webhook request, and of each SMTP command.
    pub http_timeout_secs: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            smtp: SmtpConfig::default(),
            sms: SmsConfig::default(),
            http_timeout_secs: 10,
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// The relay's host name; empty turns email off.
    pub host: String,
    pub port: u16,
    /// `none` (plain text, for a local relay only), `starttls` (required, not
    /// opportunistic) or `tls` (implicit TLS, usually port 465).
    pub tls: String,
    /// Empty: no AUTH.
    pub username: String,
    pub password: String,
    /// The sender, e.g. `Sluice <alerts@example.com>`.
    pub from: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            tls: "starttls".to_owned(),
            username: String::new(),
            password: String::new(),
            from: "Sluice <sluice@localhost>".to_owned(),
        }
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("from", &self.from)
            .finish()
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// The SMS API endpoint (`https://dysmsapi.aliyuncs.com/`); empty turns SMS off.
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    /// The approved signature shown as the sender.
    pub sign_name: String,
    /// An approved template with the variables `${subject}` and `${text}`.
    pub template_code: String,
    pub region_id: String,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            access_key_id: String::new(),
            access_key_secret: String::new(),
            sign_name: String::new(),
            template_code: String::new(),
            region_id: "cn-hangzhou".to_owned(),
        }
    }
}

impl fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsConfig")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &redacted(&self.access_key_secret))
            .field("sign_name", &self.sign_name)
            .field("template_code", &self.template_code)
            .field("region_id", &self.region_id)
            .finish()
    }
}

/// Every channel, ready to send. Cheap to clone: the clients inside are shared handles.
#[derive(Clone)]
pub struct Channels {
    http: reqwest::Client,
    /// Absent when `smtp.host` is empty.
    email: Option<email::Mailer>,
    /// Absent when `sms.endpoint` is empty.
    sms: Option<sms::SmsClient>,
}

impl fmt::Debug for Channels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channels")
            .field("email", &self.email.is_some())
            .field("sms", &self.sms.is_some())
            .finish()
    }
}

impl Channels {
    /// Checks the configuration and builds the clients; it connects to nothing, so a
    /// relay that is down at start only fails the sends.
    pub fn from_config(cfg: &DeliveryConfig) -> anyhow::Result<Self> {
        if cfg.http_timeout_secs == 0 {
            anyhow::bail!("delivery.http_timeout_secs must be at least 1");
        }
        let timeout = Duration::from_secs(cfg.http_timeout_secs);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A receiver that redirects is misconfigured; following it would carry the
            // signed request (and for DingTalk the access token) to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let email = if cfg.smtp.host.is_empty() {
            None
        } else {
            Some(email::Mailer::from_config(&cfg.smtp, timeout)?)
        };
        let sms = if cfg.sms.endpoint.is_empty() {
            None
        } else {
            Some(sms::SmsClient::from_config(&cfg.sms)?)
        };
        Ok(Self { http, email, sms })
    }

    pub fn email_enabled(&self) -> bool {
        self.email.is_some()
    }

    pub fn sms_enabled(&self) -> bool {
        self.sms.is_some()
    }

    /// One attempt to deliver `message` to `target`.
    pub async fn send(&self, target: &Target, message: &Message) -> Result<(), DeliveryError> {
        match target {
            Target::Email { address } => match &self.email {
                Some(mailer) => mailer.send(address, message).await,
                // Permanent: the same process will never have a relay to retry with.
                None => Err(DeliveryError::permanent(
                    "email is not configured (delivery.smtp.host is empty)",
                )),
            },
            Target::Sms { phone } => match &self.sms {
                Some(client) => client.send(&self.http, phone, message).await,
                None => Err(DeliveryError::permanent(
                    "SMS is not configured (delivery.sms.endpoint is empty)",
                )),
            },
            Target::DingTalk {
                webhook_url,
                secret,
            } => dingtalk::send(&self.http, webhook_url, secret, message).await,
            Target::Webhook { url, secret } => {
                webhook::send(&self.http, url, secret, message).await
            }
        }
    }
}

fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() {
        "<unset>"
    } else {
        "<redacted>"
    }
}

/// A URL fit for logs: query strings carry tokens and signatures.
fn without_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?<redacted>"),
        None => url.to_owned(),
    }
}

/// Parses a receiver URL given by a user; only http and https are reachable.
fn parse_http_url(url: &str, what: &str) -> Result<reqwest::Url, DeliveryError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| DeliveryError::permanent(format!("{what} is not a valid URL: {e}")))?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(DeliveryError::permanent(format!(
            "{what} must be an http or https URL, not {other}"
        ))),
    }
}

/// A request that got no answer. reqwest reports kinds through predicates, not an enum,
/// so they are tested one by one; the URL is dropped from the text because it may hold
/// an access token or a signature.
fn request_error(channel: &str, e: reqwest::Error) -> DeliveryError {
    let permanent = e.is_builder() || e.is_redirect();
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_builder() {
        "could not build the request"
    } else if e.is_redirect() {
        "was redirected"
    } else if e.is_body() || e.is_decode() {
        "failed while reading the answer"
    } else {
        "failed"
    };
    let e = e.without_url();
    let text = format!("{channel} request {what}: {}", error_chain(&e));
    if permanent {
        DeliveryError::permanent(text)
    } else {
        DeliveryError::transient(text)
    }
}

/// How an HTTP status alone classifies, for channels whose receivers answer errors with
/// a status: `None` for 2xx.
fn status_error(channel: &str, status: reqwest::StatusCode, body: &str) -> Option<DeliveryError> {
    if status.is_success() {
        return None;
    }
    let text = format!("{channel} answered HTTP {status}: {}", excerpt(body));
    // 408 and 429 say "later"; 5xx is the receiver's own trouble.
    let transient = status == reqwest::StatusCode::REQUEST_TIMEOUT
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error();
    Some(if transient {
        DeliveryError::transient(text)
    } else {
        DeliveryError::permanent(text)
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// The start of a receiver's answer, enough to diagnose and small enough to store.
fn excerpt(body: &str) -> String {
    const MAX_CHARS: usize = 300;
    let body = body.trim();
    if body.chars().count() <= MAX_CHARS {
        body.to_owned()
    } else {
        let mut cut: String = body.chars().take(MAX_CHARS).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debug_output_hides_secrets_and_tokens() {
        let target = Target::DingTalk {
            webhook_url: "https://oapi.dingtalk.com/robot/send?access_token=tok123".to_owned(),
            secret: "SECabc".to_owned(),
        };
        let shown = format!("{target:?}");
        assert!(
            !shown.contains("tok123") && !shown.contains("SECabc"),
            "{shown}"
        );
        assert!(shown.contains("oapi.dingtalk.com/robot/send"), "{shown}");
        let hook = Target::Webhook {
            url: "https://example.com/hook".to_owned(),
            secret: "whsec".to_owned(),
        };
        assert!(!format!("{hook:?}").contains("whsec"));

        let mut cfg = DeliveryConfig::default();
        cfg.smtp.password = "smtp-pass".to_owned();
        cfg.sms.access_key_secret = "ak-secret".to_owned();
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("smtp-pass") && !shown.contains("ak-secret"),
            "{shown}"
        );
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn status_classes() {
        use reqwest::StatusCode;
        assert!(status_error("x", StatusCode::OK, "").is_none());
        assert!(status_error("x", StatusCode::NO_CONTENT, "").is_none());
        for transient in [
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
        ] {
            assert!(
                !status_error("x", transient, "").unwrap().permanent,
                "{transient}"
            );
        }
        for permanent in [
            StatusCode::BAD_REQUEST,
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
            StatusCode::NOT_FOUND,
            StatusCode::GONE,
            StatusCode::FOUND,
        ] {
            assert!(
                status_error("x", permanent, "").unwrap().permanent,
                "{permanent}"
            );
        }
    }

    #[test]
    fn configuration_is_checked_up_front() {
        let mut cfg = DeliveryConfig::default();
        let channels = Channels::from_config(&cfg).unwrap();
        assert!(!channels.email_enabled() && !channels.sms_enabled());

        cfg.smtp.host = "127.0.0.1".to_owned();
        cfg.smtp.tls = "ssl".to_owned();
        assert!(Channels::from_config(&cfg).is_err());
        cfg.smtp.tls = "none".to_owned();
        cfg.smtp.from = "not an address".to_owned();
        assert!(Channels::from_config(&cfg).is_err());
        cfg.smtp.from = "Sluice <alerts@example.com>".to_owned();
        assert!(Channels::from_config(&cfg).unwrap().email_enabled());

        cfg.sms.endpoint = "ftp://example.com/".to_owned();
        assert!(Channels::from_config(&cfg).is_err());
        cfg.sms.endpoint = "https://dysmsapi.aliyuncs.com/".to_owned();
        assert!(Channels::from_config(&cfg).is_err(), "no access key yet");
        cfg.sms.access_key_id = "id".to_owned();
        cfg.sms.access_key_secret = "secret".to_owned();
        cfg.sms.sign_name = "Sluice".to_owned();
        cfg.sms.template_code = "SMS_1".to_owned();
        assert!(Channels::from_config(&cfg).unwrap().sms_enabled());

        cfg.http_timeout_secs = 0;
        assert!(Channels::from_config(&cfg).is_err());
    }

    #[tokio::test]
    async fn unconfigured_channels_fail_permanently() {
        let channels = Channels::from_config(&DeliveryConfig::default()).unwrap();
        let message = Message {
            idempotency_key: "k".to_owned(),
            subject: "s".to_owned(),
            text: "t".to_owned(),
            markdown: "m".to_owned(),
        };
        let email = Target::Email {
            address: "a@example.com".to_owned(),
        };
        assert!(channels.send(&email, &message).await.unwrap_err().permanent);
        let sms = Target::Sms {
            phone: "13800000000".to_owned(),
        };
        assert!(channels.send(&sms, &message).await.unwrap_err().permanent);
    }

    #[test]
    fn config_round_trips_and_rejects_unknown_keys() {
        let parsed: DeliveryConfig =
            serde_json::from_str(r#"{"smtp":{"host":"mail","tls":"tls"}}"#).unwrap();
        assert_eq!(parsed.smtp.host, "mail");
        assert_eq!(parsed.smtp.port, 587);
        assert_eq!(parsed.http_timeout_secs, 10);
        assert!(serde_json::from_str::<DeliveryConfig>(r#"{"smpt":{}}"#).is_err());
    }
}
