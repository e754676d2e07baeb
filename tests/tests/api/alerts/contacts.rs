//! Contact groups and the account's channels they send through.

use std::time::Duration;

use sluice_tests::receivers::Receivers;
use sluice_tests::smtp::DevSmtp;
use sluice_tests::{json, TestApp};

#[tokio::test]
async fn a_contact_group_test_send_reports_each_destination() {
    let smtp = DevSmtp::start(false).await;
    let receivers = Receivers::start().await;
    let smtp_config = smtp.smtp_config();
    let app = TestApp::spawn_with(move |c| c.delivery.smtp = smtp_config).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let channel = owner
        .post(
            "/account/notification-channels",
            json!({ "kind": "dingtalk", "name": "robot", "address": receivers.dingtalk_url(), "secret": "SECwrong" }),
        )
        .await
        .expect(201)
        .id();
    let group = owner
        .post(
            &format!("/projects/{project}/contact-groups"),
            json!({ "name": "on-call", "emails": ["Ops@Example.com"], "channel_ids": [channel] }),
        )
        .await
        .expect(201);
    assert_eq!(group.body["emails"][0], "ops@example.com");
    let results = owner
        .post(
            &format!("/projects/{project}/contact-groups/{}/test", group.id()),
            json!({}),
        )
        .await
        .expect(200);
    let results = results.body.as_array().unwrap();
    let email = results.iter().find(|r| r["channel"] == "email").unwrap();
    assert_eq!(email["delivered"], true, "{email}");
    let robot = results.iter().find(|r| r["channel"] == "dingtalk").unwrap();
    assert_eq!(robot["delivered"], false);
    assert!(
        robot["error"].as_str().unwrap().contains("310000"),
        "{robot}"
    );
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails[0].rcpt_tos, ["ops@example.com"]);
    // Another account's channel cannot be borrowed.
    let other = app.account("Other").await;
    let theirs = other
        .post(
            "/account/notification-channels",
            json!({ "kind": "sms", "name": "theirs", "address": "+8613800000001" }),
        )
        .await
        .expect(201)
        .id();
    owner
        .post(
            &format!("/projects/{project}/contact-groups"),
            json!({ "name": "borrowed", "channel_ids": [theirs] }),
        )
        .await
        .expect_error(422, "invalid_field", Some("channel_ids"));
}

#[tokio::test]
async fn the_projects_people_see_the_accounts_channels_by_name_without_their_addresses() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let channel = owner
        .post(
            "/account/notification-channels",
            json!({ "kind": "webhook", "name": "pager", "address": "https://hooks.example.com/secret-path", "secret": "a-signing-secret-of-some-length" }),
        )
        .await
        .expect(201)
        .id();
    let admin = app
        .member(&owner, "member", Some((&project, "admin")), false)
        .await;
    // The account's own list is for account admins.
    admin
        .get("/account/notification-channels")
        .await
        .expect_error(403, "forbidden", None);
    let choices = admin
        .get(&format!("/projects/{project}/channel-choices"))
        .await
        .expect(200);
    assert_eq!(
        choices.body,
        json!([{ "id": channel, "kind": "webhook", "name": "pager" }])
    );
    assert!(!choices.body.to_string().contains("hooks.example.com"));
    // With it, a project admin makes a group that sends through the channel.
    admin
        .post(
            &format!("/projects/{project}/contact-groups"),
            json!({ "name": "on-call", "channel_ids": [channel] }),
        )
        .await
        .expect(201);
    // A viewer sees where the project's groups send, by name.
    let viewer = app
        .member(&owner, "member", Some((&project, "viewer")), false)
        .await;
    let seen = viewer
        .get(&format!("/projects/{project}/channel-choices"))
        .await
        .expect(200);
    assert_eq!(seen.body, choices.body);
}

#[tokio::test]
async fn a_contact_group_is_replaced_as_checked_as_a_new_one() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let groups = format!("/projects/{project}/contact-groups");
    let create = |name: &str| json!({ "name": name, "emails": ["ops@example.com"] });
    let group = owner
        .post(&groups, create("on-call"))
        .await
        .expect(201)
        .id();
    owner.post(&groups, create("leads")).await.expect(201);
    let path = format!("{groups}/{group}");

    owner
        .put(
            &path,
            json!({ "name": "on-call", "emails": ["not an address"] }),
        )
        .await
        .expect_error(422, "invalid_field", Some("emails"));
    owner
        .put(
            &path,
            json!({ "name": "leads", "emails": ["x@example.com"] }),
        )
        .await
        .expect_error(409, "already_exists", Some("name"));
    let other = owner.project("other").await;
    owner
        .put(
            &format!("/projects/{other}/contact-groups/{group}"),
            json!({ "name": "on-call", "emails": ["x@example.com"] }),
        )
        .await
        .expect(404);

    let replaced = owner
        .put(
            &path,
            json!({ "name": "night shift", "emails": ["b@example.com", "a@example.com", "a@example.com"] }),
        )
        .await
        .expect(200);
    assert_eq!(replaced.body["name"], "night shift");
    assert_eq!(
        replaced.body["emails"],
        json!(["a@example.com", "b@example.com"])
    );
    let listed = owner.get(&groups).await.expect(200).body;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["leads", "night shift"]);
}
