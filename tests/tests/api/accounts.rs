use sluice_tests::{json, Client, TestApp};

#[tokio::test]
async fn account_shows_its_plan_limits_and_usage() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    owner.project("one").await;
    let account = owner.get("/account").await.expect(200);
    assert_eq!(account.body["name"], "Acme");
    assert_eq!(account.body["plan"], "standard");
    assert_eq!(account.body["limits"]["projects_per_account"], 20);
    assert_eq!(account.body["limits"]["jobs_per_project"], 100);
    assert_eq!(account.body["usage"]["projects"], 1);
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let app = TestApp::spawn().await;
    let anonymous = app.anonymous();
    let res = anonymous
        .get("/projects")
        .await
        .expect_error(401, "unauthorized", None);
    assert_eq!(
        res.headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    let forged = Client {
        token: format!("slc_{}", "0".repeat(64)),
        ..anonymous.clone()
    };
    forged
        .get("/projects")
        .await
        .expect_error(401, "unauthorized", None);
    let wrong_scheme = Client::send(
        anonymous
            .http
            .get(anonymous.url("/projects"))
            .header("authorization", "Basic abc"),
    )
    .await;
    assert_eq!(wrong_scheme.status, 401);
}

#[tokio::test]
async fn a_new_token_is_shown_once_works_and_stops_working_when_revoked() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let created = owner
        .post("/tokens", json!({ "name": "ci", "expires_in_days": 30 }))
        .await
        .expect(201);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("slc_"));
    assert!(secret.starts_with(created.body["token"]["prefix"].as_str().unwrap()));
    assert!(created.body["token"]["expires_at"].is_string());

    let listed = owner.get("/tokens").await.expect(200);
    let text = listed.body.to_string();
    assert!(
        !text.contains(&secret),
        "a token list must never carry a secret"
    );
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);

    let ci = Client {
        token: secret,
        ..owner.clone()
    };
    ci.get("/account").await.expect(200);
    let token_id = created.body["token"]["id"].as_str().unwrap();
    owner
        .delete(&format!("/tokens/{token_id}"))
        .await
        .expect(204);
    ci.get("/account")
        .await
        .expect_error(401, "unauthorized", None);
    owner
        .delete(&format!("/tokens/{token_id}"))
        .await
        .expect_error(404, "not_found", None);
    owner
        .post("/tokens", json!({ "name": "x", "expires_in_days": 0 }))
        .await
        .expect_error(422, "invalid_field", Some("expires_in_days"));
}

#[tokio::test]
async fn invitations_are_validated_listed_and_revoked() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let invited = owner
        .post(
            "/account/invitations",
            json!({ "email": "Bob@Example.com", "role": "admin" }),
        )
        .await
        .expect(201);
    assert_eq!(invited.body["email"], "bob@example.com");
    assert_eq!(invited.body["status"], "pending");
    owner
        .post(
            "/account/invitations",
            json!({ "email": "bob@example.com" }),
        )
        .await
        .expect_error(409, "already_exists", Some("email"));
    owner
        .post("/account/invitations", json!({ "email": "not-an-email" }))
        .await
        .expect_error(422, "invalid_field", Some("email"));
    owner
        .post(
            "/account/invitations",
            json!({ "email": "c@example.com", "role": "root" }),
        )
        .await
        .expect_error(422, "invalid_field", Some("role"));
    owner
        .post(
            "/account/invitations",
            json!({ "email": "c@example.com", "project_id": "nope", "project_role": "viewer" }),
        )
        .await
        .expect_error(422, "invalid_field", Some("project_id"));
    let admin = app.member(&owner, "admin", None, false).await;
    admin
        .post(
            "/account/invitations",
            json!({ "email": "d@example.com", "role": "owner" }),
        )
        .await
        .expect_error(403, "forbidden", None);
    let listed = owner.list_all("/account/invitations", 1).await;
    assert_eq!(listed.len(), 1);
    let id = invited.id();
    owner
        .delete(&format!("/account/invitations/{id}"))
        .await
        .expect(204);
    owner
        .delete(&format!("/account/invitations/{id}"))
        .await
        .expect_error(404, "not_found", None);
    let listed = owner.get("/account/invitations").await.expect(200);
    assert_eq!(listed.body["items"][0]["status"], "revoked");
}

#[tokio::test]
async fn member_roles_change_and_the_last_owner_stays() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let bob = app.member(&owner, "member", None, false).await;
    let admin = app.member(&owner, "admin", None, false).await;
    let members = owner.list_all("/account/members", 1).await;
    assert_eq!(members.len(), 3);

    // An admin manages members but cannot make owners, nor touch one.
    admin
        .patch(
            &format!("/account/members/{}", bob.user_id),
            json!({ "role": "billing_manager" }),
        )
        .await
        .expect(200);
    admin
        .patch(
            &format!("/account/members/{}", bob.user_id),
            json!({ "role": "owner" }),
        )
        .await
        .expect_error(403, "forbidden", None);
    admin
        .delete(&format!("/account/members/{}", owner.user_id))
        .await
        .expect_error(403, "forbidden", None);
    // The only owner can neither be demoted nor removed.
    owner
        .patch(
            &format!("/account/members/{}", owner.user_id),
            json!({ "role": "admin" }),
        )
        .await
        .expect_error(409, "last_owner", None);
    owner
        .delete(&format!("/account/members/{}", owner.user_id))
        .await
        .expect_error(409, "last_owner", None);
    // With a second owner, the first may step down.
    owner
        .patch(
            &format!("/account/members/{}", admin.user_id),
            json!({ "role": "owner" }),
        )
        .await
        .expect(200);
    owner
        .patch(
            &format!("/account/members/{}", owner.user_id),
            json!({ "role": "admin" }),
        )
        .await
        .expect(200);
    // A removed member's token stops working at once.
    bob.get("/account").await.expect(200);
    admin
        .delete(&format!("/account/members/{}", bob.user_id))
        .await
        .expect(204);
    bob.get("/account")
        .await
        .expect_error(401, "unauthorized", None);
    admin
        .delete(&format!("/account/members/{}", bob.user_id))
        .await
        .expect_error(404, "not_found", None);
}
