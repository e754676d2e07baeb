//! Notices delivered through the outbox to real receivers: a real SMTP server (aiosmtpd)
//! and local DingTalk, SMS and webhook services that verify signatures. Every notice
//! arrives once per destination, failures are retried with backoff, permanent ones are
//! visible with the receiver's words, DingTalk's rate limit is kept, and reminders go
//! out once at their lead times.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sluice_tests::receivers::{self, Receivers};
use sluice_tests::smtp::DevSmtp;
use sluice_tests::{json, Client, TestApp};

async fn app_with(
    smtp: Option<&DevSmtp>,
    receivers: &Receivers,
    tune: impl FnOnce(&mut gateway::Config),
) -> TestApp {
    let smtp = smtp.map(DevSmtp::smtp_config);
    let sms = receivers.sms_config();
    TestApp::spawn_with(move |c| {
        if let Some(smtp) = smtp {
            c.delivery.smtp = smtp;
        }
        c.delivery.sms = sms;
        c.outbox.interval_ms = 50;
        c.outbox.retry_base_ms = 100;
        tune(c);
    })
    .await
}

async fn channel(
    owner: &Client,
    kind: &str,
    name: &str,
    address: &str,
    secret: Option<&str>,
) -> String {
    owner
        .post(
            "/account/notification-channels",
            json!({ "kind": kind, "name": name, "address": address, "secret": secret }),
        )
        .await
        .expect(201)
        .id()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A product-form schedule that reaches every account with a project (the notice's cause).
async fn announce_retirement(app: &TestApp, eom1: DateTime<Utc>) {
    let schedule = lifecycle::ProductSchedule {
        announced_at: utc("2026-01-01T00:00:00Z"),
        eom1,
        eom2: eom1 + chrono::Duration::days(60),
        eofs: eom1 + chrono::Duration::days(150),
        eos: eom1 + chrono::Duration::days(300),
    };
    domain::product_forms::set_schedule(&app.state.db, "fully_managed", &schedule)
        .await
        .unwrap();
}

async fn deliveries(owner: &Client, status: &str) -> Vec<serde_json::Value> {
    owner
        .list_all(&format!("/account/deliveries?status={status}"), 200)
        .await
}

#[tokio::test]
async fn a_lifecycle_notice_reaches_owners_and_admins_once_by_inbox_email_dingtalk_sms_and_webhook()
{
    let smtp = DevSmtp::start(true).await;
    let receivers = Receivers::start().await;
    let app = app_with(Some(&smtp), &receivers, |_| {}).await;
    let owner = app.account("Acme").await;
    let admin = app.member(&owner, "admin", None, false).await;
    let member = app.member(&owner, "member", None, false).await;
    owner.project("analytics").await;
    channel(
        &owner,
        "dingtalk",
        "ops robot",
        &receivers.dingtalk_url(),
        Some(receivers::DINGTALK_SECRET),
    )
    .await;
    channel(&owner, "sms", "on-call", "+8613800000000", None).await;
    channel(
        &owner,
        "webhook",
        "pager",
        &receivers.webhook_url(),
        Some(receivers::WEBHOOK_SECRET),
    )
    .await;
    // The first two requests to the HTTP receivers fail: those messages are retried.
    receivers.fail_next(2);

    announce_retirement(&app, utc("2027-06-01T00:00:00Z")).await;

    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    let mut recipients: Vec<String> = mails.iter().flat_map(|m| m.rcpt_tos.clone()).collect();
    recipients.sort();
    let mut people = vec![
        owner.get("/me").await.body["email"]
            .as_str()
            .unwrap()
            .to_owned(),
        admin.get("/me").await.body["email"]
            .as_str()
            .unwrap()
            .to_owned(),
    ];
    people.sort();
    assert_eq!(
        recipients, people,
        "the owner and the admin, not the member"
    );
    for mail in &mails {
        assert_eq!(
            mail.header("Subject"),
            Some("`fully_managed` retirement schedule")
        );
        assert!(mail.part("text/plain").unwrap().contains("2027-06-01"));
        assert!(mail.part("text/html").unwrap().contains("2027-06-01"));
        assert!(mail.auth_mechanism.is_some(), "the relay's AUTH was used");
        assert!(mail.header("Message-ID").unwrap().contains("sluice-"));
    }
    let arrived = receivers
        .wait_for_distinct(3, Duration::from_secs(20))
        .await;
    for channel in [
        receivers::Channel::DingTalk,
        receivers::Channel::Sms,
        receivers::Channel::Webhook,
    ] {
        assert_eq!(
            arrived.iter().filter(|r| r.channel == channel).count(),
            1,
            "{channel:?} got the notice once: {arrived:?}"
        );
    }
    assert!(
        receivers.rejected().is_empty(),
        "every signature verified: {:?}",
        receivers.rejected()
    );

    // Everything is sent, some after a retry; the inbox has it for the owner and admin.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !deliveries(&owner, "pending").await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "deliveries settle");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = deliveries(&owner, "sent").await;
    assert_eq!(sent.len(), 5, "2 emails + 3 channels: {sent:?}");
    assert!(
        sent.iter().any(|d| d["attempts"].as_i64().unwrap() >= 2),
        "a retried one: {sent:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receivers.duplicates(), 0, "nothing sent twice");
    assert_eq!(smtp.messages().len(), 2, "no email twice");
    for (who, expected) in [(&owner, 1), (&admin, 1), (&member, 0)] {
        let inbox = who.get("/notices").await.expect(200);
        assert_eq!(inbox.body["unread"], expected, "{}", inbox.body);
    }
}

// One story of deliveries through retries with backoff and permanent failures, read top to bottom.
#[tokio::test]
async fn failures_are_retried_with_backoff_and_permanent_ones_are_shown_with_the_receivers_words() {
    let receivers = Receivers::start().await;
    // Retries after 100, 200, 400 and 800 ms, then given up.
    let app = app_with(None, &receivers, |c| c.outbox.max_attempts = 5).await;
    let owner = app.account("Acme").await;
    owner.project("p").await;
    let pager = channel(
        &owner,
        "webhook",
        "pager",
        &receivers.webhook_url(),
        Some(receivers::WEBHOOK_SECRET),
    )
    .await;
    channel(
        &owner,
        "dingtalk",
        "wrong secret",
        &receivers.dingtalk_url(),
        Some("SECnot-the-robots-secret"),
    )
    .await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = channel(
        &owner,
        "webhook",
        "nowhere",
        &format!("http://127.0.0.1:{closed}/hook"),
        Some("0123456789abcdef"),
    )
    .await;

    // The receivers are down when the notice is written: the pager's message is retried.
    receivers.stop().await;
    announce_retirement(&app, utc("2027-06-01T00:00:00Z")).await;
    let find = |list: Vec<serde_json::Value>, recipient: &str| {
        list.into_iter().find(|d| d["recipient"] == recipient)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let pending = find(deliveries(&owner, "pending").await, &pager);
        if pending
            .as_ref()
            .is_some_and(|d| d["attempts"].as_i64().unwrap() >= 2)
        {
            assert!(!pending.unwrap()["last_error"].as_str().unwrap().is_empty());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the pager's message is retried"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Back up before its attempts run out: the retried message arrives, once.
    receivers.restart().await;
    let arrived = receivers.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(arrived[0].channel, receivers::Channel::Webhook);

    // An address that never answers is given up after max_attempts.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let given_up = loop {
        if let Some(d) = find(deliveries(&owner, "failed").await, &nowhere) {
            break d;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the unreachable address is given up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(given_up["attempts"], 5);
    assert!(!given_up["last_error"].as_str().unwrap().is_empty());
    let failed = deliveries(&owner, "failed").await;
    // DingTalk (down at first, like the pager) then refused the signature: failed at
    // that answer, before its attempts ran out, in the robot's words.
    let dingtalk = failed
        .iter()
        .find(|d| d["channel"] == "dingtalk")
        .expect("the robot refused");
    assert!(dingtalk["attempts"].as_i64().unwrap() < 5, "{dingtalk}");
    assert!(
        dingtalk["last_error"].as_str().unwrap().contains("310000"),
        "{dingtalk}"
    );
    // No SMTP server is configured on this server: the email says so.
    let email = failed
        .iter()
        .find(|d| d["channel"] == "email")
        .expect("the email failed");
    assert!(
        email["last_error"]
            .as_str()
            .unwrap()
            .contains("delivery.smtp.host"),
        "{email}"
    );

    // A failed delivery can be queued again by hand; a sent one cannot.
    let id = given_up["id"].as_str().unwrap();
    owner
        .post(&format!("/account/deliveries/{id}/retry"), json!({}))
        .await
        .expect(204);
    let pending = deliveries(&owner, "pending").await;
    assert!(
        pending.iter().any(|d| d["id"] == id),
        "queued again: {pending:?}"
    );
    let sent =
        find(deliveries(&owner, "sent").await, &pager).expect("the pager's message was sent");
    owner
        .post(
            &format!("/account/deliveries/{}/retry", sent["id"].as_str().unwrap()),
            json!({}),
        )
        .await
        .expect_error(409, "not_failed", None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receivers.duplicates(), 0);
}

#[tokio::test]
async fn a_dingtalk_robot_gets_at_most_twenty_messages_a_minute_and_the_rest_wait() {
    let receivers = Receivers::start().await;
    let app = app_with(None, &receivers, |_| {}).await;
    let owner = app.account("Acme").await;
    channel(
        &owner,
        "dingtalk",
        "ops robot",
        &receivers.dingtalk_url(),
        Some(receivers::DINGTALK_SECRET),
    )
    .await;
    for i in 0..25 {
        gateway::admin::announce(
            &app.state.db,
            Some(&owner.account_id),
            &format!("maintenance {i}"),
            "the platform restarts at noon",
        )
        .await
        .unwrap();
    }
    receivers.wait_for(20, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receivers.received().len(), 20, "20 a minute, no more");
    let waiting: Vec<_> = deliveries(&owner, "pending")
        .await
        .into_iter()
        .filter(|d| d["channel"] == "dingtalk")
        .collect();
    assert_eq!(waiting.len(), 5);
    assert!(
        waiting.iter().all(|d| d["attempts"] == 0),
        "held back, not failed: {waiting:?}"
    );
}

#[tokio::test]
async fn milestone_reminders_go_out_once_at_each_lead_time_and_only_the_nearest_when_several_are_due(
) {
    let receivers = Receivers::start().await;
    let app = app_with(None, &receivers, |c| {
        c.notices.reminder_days = vec![120, 30, 7]
    })
    .await;
    let owner = app.account("Acme").await;
    owner.project("p").await;
    let now = Utc::now();
    let eom1 = now + chrono::Duration::days(100);
    announce_retirement(&app, eom1).await; // eom2 = eom1 + 60 days
    let send = |at: DateTime<Utc>| {
        let state = app.state.clone();
        async move {
            workers::lifecycle_reminders::send_due(&state, at)
                .await
                .unwrap()
        }
    };
    let reminders = || async {
        let inbox = owner.get("/notices").await.expect(200);
        inbox.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "lifecycle_reminder")
            .map(|n| n["subject"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // 100 days before EOM1, its 120-day reminder is due; nothing else is.
    assert_eq!(send(now).await, 1);
    assert_eq!(send(now).await, 0, "once");
    assert!(
        reminders().await[0].contains("EOM1"),
        "{:?}",
        reminders().await
    );
    // A worker down for weeks, then 3 days before EOM1: the 30- and 7-day reminders
    // are both due and only the 7-day one goes; EOM2, 63 days away, gets its 120-day one.
    assert_eq!(send(eom1 - chrono::Duration::days(3)).await, 2);
    assert_eq!(send(eom1 - chrono::Duration::days(2)).await, 0);
    let inbox = owner.get("/notices").await.expect(200);
    let texts: Vec<String> = inbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "lifecycle_reminder")
        .map(|n| format!("{} / {}", n["subject"], n["body"]))
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(
        texts.iter().filter(|t| t.contains("EOM1")).count(),
        2,
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("EOM1") && t.contains("In 3 days")),
        "{texts:?}"
    );
    // A milestone that moves gets reminders for its new date.
    announce_retirement(&app, eom1 + chrono::Duration::days(10)).await;
    assert!(send(eom1 - chrono::Duration::days(3)).await >= 1);
}
