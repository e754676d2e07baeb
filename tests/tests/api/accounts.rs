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
async fn members_can_be_added_listed_and_removed_but_not_the_last_one() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let added = owner
        .post(
            "/account/members",
            json!({ "email": "Bob@Example.com", "display_name": "Bob" }),
        )
        .await
        .expect(201);
    assert_eq!(added.body["email"], "bob@example.com");
    owner
        .post("/account/members", json!({ "email": "bob@example.com" }))
        .await
        .expect_error(409, "already_exists", Some("email"));
    owner
        .post("/account/members", json!({ "email": "not-an-email" }))
        .await
        .expect_error(422, "invalid_field", Some("email"));

    let members = owner.list_all("/account/members", 1).await;
    assert_eq!(members.len(), 2);
    let bob = added.body["user_id"].as_str().unwrap();
    owner
        .delete(&format!("/account/members/{bob}"))
        .await
        .expect(204);
    let members = owner.get("/account/members").await.expect(200);
    let only = members.body["items"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    owner
        .delete(&format!("/account/members/{only}"))
        .await
        .expect_error(409, "last_member", None);
}
