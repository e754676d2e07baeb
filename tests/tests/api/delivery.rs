//! Delivery channels against real receivers, without the outbox: one
//! `Channels::send` per attempt. Email goes to the development SMTP server (aiosmtpd);
//! DingTalk, SMS and webhooks go to the local receivers, which verify signatures with
//! code of their own.

use std::time::Duration;

use delivery::{Channels, DeliveryConfig, DeliveryError, Message, Target};
use sluice_tests::receivers::{self, Channel, Receivers};
use sluice_tests::smtp::{self, DevSmtp};

const WAIT: Duration = Duration::from_secs(10);

fn message(key: &str) -> Message {
    Message {
        idempotency_key: key.to_owned(),
        subject: "作业失败: orders-etl".to_owned(),
        text: "Job orders-etl failed after 3 restarts.\nSee the console.".to_owned(),
        markdown: "### orders-etl failed\n\n**3 restarts** in 10 minutes.\n\n- project: shop\n- [open the console](https://console.example.com/jobs/1?tab=events&x=<y>)".to_owned(),
    }
}

fn channels(smtp: Option<&DevSmtp>, rx: &Receivers, http_timeout_secs: u64) -> Channels {
    let config = DeliveryConfig {
        smtp: smtp.map(DevSmtp::smtp_config).unwrap_or_default(),
        sms: rx.sms_config(),
        http_timeout_secs,
    };
    Channels::from_config(&config).expect("delivery channels")
}

fn sms_target() -> Target {
    Target::Sms {
        phone: "13800138000".to_owned(),
    }
}

async fn send_err(channels: &Channels, target: &Target, message: &Message) -> DeliveryError {
    channels
        .send(target, message)
        .await
        .expect_err("the send should fail")
}

#[tokio::test]
async fn email_arrives_with_both_parts_the_key_and_auth() {
    let smtp = DevSmtp::start(true).await;
    let rx = Receivers::start().await;
    let channels = channels(Some(&smtp), &rx, 10);
    let msg = message("notice-email-1");
    let target = Target::Email {
        address: "ann@example.com".to_owned(),
    };
    channels.send(&target, &msg).await.expect("email sent");

    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "alerts@sluice.test");
    assert_eq!(mail.rcpt_tos, vec!["ann@example.com".to_owned()]);
    assert_eq!(mail.auth_login.as_deref(), Some(smtp::USERNAME));
    assert!(
        matches!(mail.auth_mechanism.as_deref(), Some("PLAIN" | "LOGIN")),
        "{:?}",
        mail.auth_mechanism
    );
    assert_eq!(mail.header("Subject"), Some(msg.subject.as_str()));
    assert_eq!(mail.header("Message-ID"), Some("<notice-email-1@sluice>"));
    assert_eq!(
        mail.header("X-Sluice-Idempotency-Key"),
        Some("notice-email-1")
    );
    assert!(mail
        .header("Content-Type")
        .is_some_and(|t| t.starts_with("multipart/alternative")));

    let text = mail.part("text/plain").expect("a text part");
    assert_eq!(text.replace("\r\n", "\n").trim_end(), msg.text);
    let html = mail.part("text/html").expect("an HTML part");
    assert!(html.contains("<h3>orders-etl failed</h3>"), "{html}");
    assert!(html.contains("<strong>3 restarts</strong>"), "{html}");
    assert!(html.contains("<li>project: shop</li>"), "{html}");
    assert!(
        html.contains(
            "<a href=\"https://console.example.com/jobs/1?tab=events&amp;x=&lt;y&gt;\">open the console</a>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<title>作业失败: orders-etl</title>"),
        "{html}"
    );
}

#[tokio::test]
async fn smtp_refusals_and_outages_are_classified() {
    let mut smtp = DevSmtp::start(true).await;
    let rx = Receivers::start().await;
    let channels = channels(Some(&smtp), &rx, 5);
    let msg = message("notice-email-2");

    let refused = Target::Email {
        address: "reject-me@example.com".to_owned(),
    };
    let err = send_err(&channels, &refused, &msg).await;
    assert!(err.permanent, "{err}");
    assert!(err.message.contains("550"), "{err}");

    let malformed = Target::Email {
        address: "not an address".to_owned(),
    };
    assert!(send_err(&channels, &malformed, &msg).await.permanent);

    // Credentials are configured but this server offers no AUTH: the relay will never
    // accept them, so that is permanent too.
    let no_auth = DevSmtp::start(false).await;
    let mut config = DeliveryConfig {
        smtp: no_auth.smtp_config(),
        ..DeliveryConfig::default()
    };
    config.smtp.username = smtp::USERNAME.to_owned();
    config.smtp.password = smtp::PASSWORD.to_owned();
    let mismatched = Channels::from_config(&config).expect("channels");
    let ann = Target::Email {
        address: "ann@example.com".to_owned(),
    };
    let err = send_err(&mismatched, &ann, &msg).await;
    assert!(err.permanent, "{err}");

    smtp.stop().await;
    let err = send_err(&channels, &ann, &msg).await;
    assert!(!err.permanent, "a relay that is down may come back: {err}");
    assert!(smtp.messages().is_empty() && no_auth.messages().is_empty());
}

#[tokio::test]
async fn dingtalk_gets_a_signed_markdown_message() {
    let rx = Receivers::start().await;
    let channels = channels(None, &rx, 10);
    let msg = message("notice-ding-1");
    channels
        .send(&rx.dingtalk_target(), &msg)
        .await
        .expect("DingTalk accepted the message");

    let received = rx.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.channel, Channel::DingTalk);
    assert_eq!(r.subject, msg.subject);
    assert_eq!(r.body, msg.markdown);
    assert_eq!(r.payload["msgtype"], "markdown");
    assert!(rx.rejected().is_empty(), "{:?}", rx.rejected());

    // A robot whose secret differs refuses the signature: retrying cannot help.
    let wrong = Target::DingTalk {
        webhook_url: rx.dingtalk_url(),
        secret: "SECnot-the-robots-secret".to_owned(),
    };
    let err = send_err(&channels, &wrong, &msg).await;
    assert!(err.permanent, "{err}");
    assert!(err.message.contains("310000"), "{err}");
    assert!(
        !err.message.contains(receivers::DINGTALK_ACCESS_TOKEN),
        "{err}"
    );
    assert_eq!(rx.rejected().len(), 1);

    // Throttled (130101): transient, and the next minute's try goes through.
    rx.throttle_next(1);
    let err = send_err(&channels, &rx.dingtalk_target(), &msg).await;
    assert!(!err.permanent, "{err}");
    assert!(err.message.contains("130101"), "{err}");
    channels
        .send(&rx.dingtalk_target(), &msg)
        .await
        .expect("accepted after the throttle");
    // DingTalk has no idempotency field: the receiver counts the repeat by content.
    assert_eq!(rx.received().len(), 2);
    assert_eq!(rx.distinct(), 1);
    assert_eq!(rx.duplicates(), 1);

    // A robot that cannot be reached is transient, and the error (which the outbox
    // stores) does not carry the URL with its access token.
    rx.stop().await;
    let err = send_err(&channels, &rx.dingtalk_target(), &msg).await;
    assert!(!err.permanent, "{err}");
    assert!(
        !err.message.contains(receivers::DINGTALK_ACCESS_TOKEN),
        "{err}"
    );
}

#[tokio::test]
async fn sms_is_signed_and_fills_the_template() {
    let rx = Receivers::start().await;
    let channels = channels(None, &rx, 10);
    let msg = message("notice-sms-1");
    channels.send(&sms_target(), &msg).await.expect("SMS sent");

    let received = rx.wait_for(1, WAIT).await;
    let r = &received[0];
    assert_eq!(r.channel, Channel::Sms);
    assert_eq!(r.idempotency_key.as_deref(), Some("notice-sms-1"));
    assert_eq!(r.subject, msg.subject);
    // Template values are cut to 35 characters, line breaks folded.
    assert_eq!(r.body, "Job orders-etl failed after 3 rest…");
    assert_eq!(r.body.chars().count(), 35);
    let p = &r.payload;
    assert_eq!(p["PhoneNumbers"], "13800138000");
    assert_eq!(p["SignName"], receivers::SMS_SIGN_NAME);
    assert_eq!(p["TemplateCode"], receivers::SMS_TEMPLATE_CODE);
    assert_eq!(p["AccessKeyId"], receivers::SMS_ACCESS_KEY_ID);
    assert_eq!(p["OutId"], "notice-sms-1");
    assert_eq!(p["TemplateParam"]["subject"], msg.subject);
    assert!(rx.rejected().is_empty(), "{:?}", rx.rejected());

    // Each attempt signs with a fresh nonce, so a retry is not refused as a replay.
    channels.send(&sms_target(), &msg).await.expect("resent");
    assert_eq!(rx.duplicates(), 1);

    let bad_phone = Target::Sms {
        phone: "call-me".to_owned(),
    };
    let err = send_err(&channels, &bad_phone, &msg).await;
    assert!(err.permanent, "{err}");
    assert!(err.message.contains("isv.MOBILE_NUMBER_ILLEGAL"), "{err}");

    rx.throttle_next(1);
    let err = send_err(&channels, &sms_target(), &msg).await;
    assert!(!err.permanent, "{err}");
    assert!(err.message.contains("isv.BUSINESS_LIMIT_CONTROL"), "{err}");

    let mut config = DeliveryConfig {
        sms: rx.sms_config(),
        ..DeliveryConfig::default()
    };
    config.sms.access_key_secret = "not-the-secret".to_owned();
    let wrong_secret = Channels::from_config(&config).expect("channels");
    let err = send_err(&wrong_secret, &sms_target(), &msg).await;
    assert!(err.permanent, "{err}");
    assert!(err.message.contains("SignatureDoesNotMatch"), "{err}");
}

#[tokio::test]
async fn webhook_is_signed_and_failures_are_classified() {
    let rx = Receivers::start().await;
    let channels = channels(None, &rx, 10);
    let msg = message("notice-hook-1");
    channels
        .send(&rx.webhook_target(), &msg)
        .await
        .expect("webhook accepted");
    let received = rx.wait_for(1, WAIT).await;
    let r = &received[0];
    assert_eq!(r.channel, Channel::Webhook);
    assert_eq!(r.idempotency_key.as_deref(), Some("notice-hook-1"));
    assert_eq!(r.subject, msg.subject);
    assert_eq!(r.body, msg.text);
    assert_eq!(r.payload["markdown"], msg.markdown.as_str());

    let wrong = Target::Webhook {
        url: rx.webhook_url(),
        secret: "not-the-secret".to_owned(),
    };
    let err = send_err(&channels, &wrong, &msg).await;
    assert!(err.permanent, "{err}");
    assert!(err.message.contains("401"), "{err}");

    // A 500 is transient; the retry of the same notice lands once.
    let msg2 = message("notice-hook-2");
    rx.fail_next(1);
    let err = send_err(&channels, &rx.webhook_target(), &msg2).await;
    assert!(!err.permanent, "{err}");
    assert!(err.message.contains("500"), "{err}");
    channels
        .send(&rx.webhook_target(), &msg2)
        .await
        .expect("retry accepted");

    rx.throttle_next(1);
    assert!(
        !send_err(&channels, &rx.webhook_target(), &msg2)
            .await
            .permanent
    );

    // A receiver that is down is transient, and it is the same URL when it is back.
    rx.stop().await;
    let err = send_err(&channels, &rx.webhook_target(), &message("notice-hook-3")).await;
    assert!(!err.permanent, "{err}");
    rx.restart().await;
    channels
        .send(&rx.webhook_target(), &message("notice-hook-3"))
        .await
        .expect("accepted after the restart");

    // Every notice that got a 2xx arrived exactly once; refusals and faults left nothing.
    let counts = rx.counts();
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert_eq!(rx.duplicates(), 0);
    assert_eq!(rx.rejected().len(), 1, "{:?}", rx.rejected());

    // Too slow to answer: a timeout, transient. (The receiver may still accept it after
    // Sluice gave up, which is why receivers de-duplicate by key.)
    let impatient = self::channels(None, &rx, 1);
    rx.delay(Duration::from_millis(2500));
    let err = send_err(&impatient, &rx.webhook_target(), &message("notice-hook-4")).await;
    assert!(!err.permanent, "{err}");
    assert!(err.message.contains("timed out"), "{err}");
    rx.delay(Duration::ZERO);
}

#[tokio::test]
async fn every_channel_in_one_pass_arrives_once() {
    let smtp = DevSmtp::start(false).await;
    let rx = Receivers::start().await;
    let channels = channels(Some(&smtp), &rx, 10);
    let targets = [
        Target::Email {
            address: "ops@example.com".to_owned(),
        },
        rx.dingtalk_target(),
        sms_target(),
        rx.webhook_target(),
    ];
    for (i, target) in targets.iter().enumerate() {
        let msg = message(&format!("notice-all-{i}"));
        channels
            .send(target, &msg)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", target.channel()));
    }
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].auth_login, None, "no AUTH when no username is set");
    let received = rx.wait_for_distinct(3, WAIT).await;
    assert_eq!(received.len(), 3);
    assert_eq!(rx.duplicates(), 0);
    let mut channels_seen: Vec<Channel> = received.iter().map(|r| r.channel).collect();
    channels_seen.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(
        channels_seen,
        vec![Channel::DingTalk, Channel::Sms, Channel::Webhook]
    );
}
