//! API conventions: one error body for every kind of bad request, request ids, health.

use sluice_tests::{json, Client, TestApp};

#[tokio::test]
async fn every_kind_of_bad_body_gets_the_same_error_shape_and_changes_nothing() {
    let app = TestApp::spawn_with(|c| c.max_json_body_bytes = 4096).await;
    let owner = app.account("Acme").await;
    let raw = |body: &'static str, content_type: &'static str| {
        let owner = owner.clone();
        async move {
            Client::send(
                owner
                    .request(reqwest::Method::POST, "/projects")
                    .header("content-type", content_type)
                    .body(body),
            )
            .await
        }
    };
    raw("{\"name\": ", "application/json")
        .await
        .expect_error(400, "malformed_request", None);
    raw("{\"name\": \"a\"} trailing", "application/json")
        .await
        .expect_error(400, "malformed_request", None);
    raw("{\"name\": \"a\", \"colour\": \"red\"}", "application/json")
        .await
        .expect_error(422, "invalid_field", None);
    raw("{\"name\": 42}", "application/json")
        .await
        .expect_error(422, "invalid_field", Some("name"));
    raw("{}", "application/json")
        .await
        .expect_error(422, "invalid_field", None);
    raw("name=a", "application/x-www-form-urlencoded")
        .await
        .expect_error(415, "unsupported_media_type", None);
    let huge = format!(
        "{{\"name\": \"a\", \"description\": \"{}\"}}",
        "d".repeat(10_000)
    );
    Client::send(
        owner
            .request(reqwest::Method::POST, "/projects")
            .header("content-type", "application/json")
            .body(huge),
    )
    .await
    .expect_error(413, "payload_too_large", None);
    let unknown = raw("{\"name\": \"a\", \"colour\": \"red\"}", "application/json").await;
    assert!(
        unknown.message().contains("colour"),
        "{}",
        unknown.message()
    );
    assert_eq!(owner.get("/account").await.body["usage"]["projects"], 0);

    owner
        .get("/no-such-thing")
        .await
        .expect_error(404, "route_not_found", None);
    Client::send(owner.request(reqwest::Method::PUT, "/projects"))
        .await
        .expect_error(405, "method_not_allowed", None);
    owner
        .get("/projects?limit=0")
        .await
        .expect_error(422, "invalid_field", Some("limit"));
    owner
        .get("/projects?cursor=%%%")
        .await
        .expect_error(422, "invalid_field", Some("cursor"));
    owner
        .get("/projects?colour=red")
        .await
        .expect_error(422, "invalid_field", Some("query"));
    let project = owner.project("p").await;
    owner
        .get(&format!("/projects/{project}/jobs/j/versions/not-a-number"))
        .await
        .expect_error(404, "not_found", None);
    owner
        .post(
            &format!("/projects/{project}/folders"),
            json!({ "name": "a\u{0}b" }),
        )
        .await
        .expect_error(422, "invalid_field", Some("name"));
}

#[tokio::test]
async fn responses_carry_a_request_id_and_keep_the_callers() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let res = owner.get("/account").await.expect(200);
    let id = res
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
    let echoed = Client::send(
        owner
            .request(reqwest::Method::GET, "/account")
            .header("x-request-id", "trace-me-42"),
    )
    .await;
    assert_eq!(
        echoed
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-me-42")
    );
    let failed = owner.get("/projects/nope").await.expect(404);
    assert!(
        failed.headers.contains_key("x-request-id"),
        "errors carry the id too"
    );
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let health = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    // Once the database is gone, the server is not ready.
    app.state.db.pool.close().await;
    let ready = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
}
