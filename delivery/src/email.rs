//! Email over SMTP (lettre, rustls). Each message is multipart/alternative: the plain
//! text and the Markdown rendered to HTML. The idempotency key is in the Message-ID and
//! in `X-Sluice-Idempotency-Key`, so a mailbox or a filter can spot a repeat.

use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::response::Severity;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{markdown, DeliveryError, Message, SmtpConfig};

pub const IDEMPOTENCY_HEADER: &str = "X-Sluice-Idempotency-Key";

#[derive(Clone)]
pub(crate) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub(crate) fn from_config(cfg: &SmtpConfig, timeout: Duration) -> anyhow::Result<Self> {
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("delivery.smtp.from {:?}: {e}", cfg.from))?;
        let tls = match cfg.tls.as_str() {
            "none" => Tls::None,
            "starttls" => Tls::Required(TlsParameters::new(cfg.host.clone())?),
            "tls" => Tls::Wrapper(TlsParameters::new(cfg.host.clone())?),
            other => {
                anyhow::bail!("delivery.smtp.tls must be none, starttls or tls, not {other:?}")
            }
        };
        // `builder_dangerous` only means "TLS as set below": with `none` the relay is
        // trusted to be local; the other modes verify its certificate.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
            .port(cfg.port)
            .tls(tls)
            .timeout(Some(timeout));
        if !cfg.username.is_empty() {
            builder =
                builder.credentials(Credentials::new(cfg.username.clone(), cfg.password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    pub(crate) async fn send(&self, address: &str, message: &Message) -> Result<(), DeliveryError> {
        let email = build(&self.from, address, message)?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| classify(&e))
    }
}

/// The message as it goes on the wire.
pub fn build(
    from: &Mailbox,
    address: &str,
    message: &Message,
) -> Result<lettre::Message, DeliveryError> {
    let to: Mailbox = address.parse().map_err(|e| {
        DeliveryError::permanent(format!("{address:?} is not an email address: {e}"))
    })?;
    let html = markdown::to_html_document(&message.subject, &message.markdown);
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(message_id(&message.idempotency_key)))
        .header(IdempotencyKey(message.idempotency_key.clone()))
        .multipart(MultiPart::alternative_plain_html(
            message.text.clone(),
            html,
        ))
        .map_err(|e| build_error(&e))
}

/// `<key@sluice>`, with any byte a msg-id may not hold written as `=XX` (and `=` itself,
/// so two keys never share an id).
pub fn message_id(key: &str) -> String {
    let mut id = String::from("<");
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            id.push(char::from(b));
        } else {
            id.push_str(&format!("={b:02X}"));
        }
    }
    id.push_str("@sluice>");
    id
}

#[derive(Clone)]
struct IdempotencyKey(String);

impl Header for IdempotencyKey {
    fn name() -> HeaderName {
        // Checked when compiling, not at run time.
        const NAME: HeaderName = HeaderName::new_from_ascii_str(IDEMPOTENCY_HEADER);
        NAME
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        // Encoded by lettre (RFC 2047) should the key ever leave ASCII.
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

fn build_error(e: &lettre::error::Error) -> DeliveryError {
    use lettre::error::Error as E;
    let text = format!("could not build the email: {e}");
    match e {
        E::MissingFrom
        | E::MissingTo
        | E::TooManyFrom
        | E::EmailMissingAt
        | E::EmailMissingLocalPart
        | E::EmailMissingDomain
        | E::CannotParseFilename
        | E::NonAsciiChars => DeliveryError::permanent(text),
        E::Io(_) => DeliveryError::transient(text),
    }
}

/// lettre's error kinds are private; its predicates cover each of them.
pub(crate) fn classify(e: &lettre::transport::smtp::Error) -> DeliveryError {
    // lettre's Display already appends the source.
    let text = format!("SMTP: {e}");
    if let Some(code) = e.status() {
        return match code.severity {
            Severity::PermanentNegativeCompletion => DeliveryError::permanent(text),
            Severity::TransientNegativeCompletion => DeliveryError::transient(text),
            // lettre reports only 4yz and 5yz replies as errors; a positive reply here
            // would be a protocol mix-up worth another try.
            Severity::PositiveCompletion | Severity::PositiveIntermediate => {
                DeliveryError::transient(text)
            }
        };
    }
    if e.is_client() {
        // The relay lacks what the configuration demands (STARTTLS, an AUTH mechanism,
        // 8BITMIME or SMTPUTF8): the same relay will refuse again.
        DeliveryError::permanent(text)
    } else {
        // Timeouts, refused or dropped connections, TLS handshakes, garbled replies and
        // a transport shut down under us all may pass.
        DeliveryError::transient(text)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn message() -> Message {
        Message {
            idempotency_key: "notice-42".to_owned(),
            subject: "Job failed".to_owned(),
            text: "orders-etl failed".to_owned(),
            markdown: "**orders-etl** failed".to_owned(),
        }
    }

    #[test]
    fn message_ids_keep_safe_keys_and_escape_the_rest() {
        assert_eq!(message_id("0192-abc_D"), "<0192-abc_D@sluice>");
        assert_eq!(message_id("a b@c>=d"), "<a=20b=40c=3E=3Dd@sluice>");
        assert_ne!(message_id("a=20"), message_id("a "));
    }

    #[test]
    fn built_message_has_both_parts_and_the_key() {
        let from: Mailbox = "Sluice <alerts@example.com>".parse().unwrap();
        let raw = build(&from, "ann@example.com", &message())
            .unwrap()
            .formatted();
        let raw = String::from_utf8(raw).unwrap();
        assert!(raw.contains("Message-ID: <notice-42@sluice>"), "{raw}");
        assert!(raw.contains("X-Sluice-Idempotency-Key: notice-42"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("text/plain"), "{raw}");
        assert!(raw.contains("text/html"), "{raw}");
        assert!(raw.contains("<strong>orders-etl</strong>"), "{raw}");
    }

    #[test]
    fn a_bad_address_is_permanent() {
        let from: Mailbox = "alerts@example.com".parse().unwrap();
        for bad in ["", "nobody", "a@", "@b", "a b@c d"] {
            let err = build(&from, bad, &message()).unwrap_err();
            assert!(err.permanent, "{bad}: {err}");
        }
    }

    #[test]
    fn message_build_errors_are_classified() {
        use lettre::error::Error as E;
        assert!(build_error(&E::MissingTo).permanent);
        assert!(build_error(&E::NonAsciiChars).permanent);
        assert!(!build_error(&E::Io(std::io::Error::other("disk"))).permanent);
    }

    #[tokio::test]
    async fn a_refused_connection_is_transient() {
        // A port nobody listens on: bind one, then free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port,
            tls: "none".to_owned(),
            ..SmtpConfig::default()
        };
        let mailer = Mailer::from_config(&cfg, Duration::from_secs(2)).unwrap();
        let err = mailer
            .send("ann@example.com", &message())
            .await
            .unwrap_err();
        assert!(!err.permanent, "{err}");
    }

    #[tokio::test]
    async fn smtp_replies_are_classified_by_their_code() {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        // A relay that greets, then answers MAIL FROM with the given reply.
        async fn relay(reply: &'static str) -> u16 {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            tokio::spawn(async move {
                let (socket, _) = listener.accept().await.unwrap();
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let answer = if line.starts_with("EHLO") {
                        "250 test\r\n".to_owned()
                    } else if line.starts_with("MAIL") {
                        format!("{reply}\r\n")
                    } else {
                        "221 bye\r\n".to_owned()
                    };
                    if write.write_all(answer.as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
            port
        }
        for (reply, permanent) in [
            ("550 5.7.1 sender refused", true),
            ("451 4.3.0 try again later", false),
            ("421 4.7.0 too busy", false),
        ] {
            let cfg = SmtpConfig {
                host: "127.0.0.1".to_owned(),
                port: relay(reply).await,
                tls: "none".to_owned(),
                ..SmtpConfig::default()
            };
            let mailer = Mailer::from_config(&cfg, Duration::from_secs(5)).unwrap();
            let err = mailer
                .send("ann@example.com", &message())
                .await
                .unwrap_err();
            assert_eq!(err.permanent, permanent, "{reply}: {err}");
            assert!(err.message.contains(&reply[..3]), "{err}");
        }
    }
}
