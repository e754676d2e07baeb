use sluice_tests::{json, TestApp};

#[tokio::test]
async fn secret_properties_are_write_only_and_encrypted_at_rest() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let created = owner
        .post(
            &format!("/projects/{project}/connections"),
            json!({ "name": "orders-db", "kind": "mysql",
                    "properties": { "hostname": "db.internal", "port": "3306" },
                    "secret_properties": { "password": "hunter2-very-secret" } }),
        )
        .await
        .expect(201);
    assert!(!created.body.to_string().contains("hunter2"));
    assert_eq!(created.body["secret_keys"], json!(["password"]));
    let id = created.id();
    let got = owner
        .get(&format!("/projects/{project}/connections/{id}"))
        .await
        .expect(200);
    assert!(!got.body.to_string().contains("hunter2"));
    assert_eq!(got.body["properties"]["hostname"], "db.internal");

    let (stored,): (String,) =
        sqlx::query_as("select secret_properties from connections where id = $1")
            .bind(&id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert!(
        stored.starts_with("v1.") && !stored.contains("hunter2"),
        "stored: {stored}"
    );

    // Add one secret, remove another, keep the properties.
    let updated = owner
        .patch(
            &format!("/projects/{project}/connections/{id}"),
            json!({ "secret_properties": { "password": null, "token": "t0k3n" } }),
        )
        .await
        .expect(200);
    assert_eq!(updated.body["secret_keys"], json!(["token"]));
    assert_eq!(updated.body["properties"]["port"], "3306");
    let state = app.state.clone();
    let (sealed,): (String,) =
        sqlx::query_as("select secret_properties from connections where id = $1")
            .bind(&id)
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
    let binding = domain::pipeline::connection_binding(&owner.account_id, &id);
    let opened: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&state.secrets.open(&sealed, &binding).unwrap()).unwrap();
    assert_eq!(opened.get("token").map(String::as_str), Some("t0k3n"));
    assert!(!opened.contains_key("password"));
}

#[tokio::test]
async fn bad_connections_are_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let path = format!("/projects/{project}/connections");
    owner
        .post(&path, json!({ "name": "x", "kind": "oracle-9i" }))
        .await
        .expect_error(422, "invalid_field", Some("kind"));
    owner
        .post(
            &path,
            json!({ "name": "x", "kind": "kafka", "properties": { "bad key": "v" } }),
        )
        .await
        .expect_error(422, "invalid_field", Some("properties.bad key"));
    owner
        .post(&path, json!({ "name": "x", "kind": "kafka", "properties": { "password": "a" }, "secret_properties": { "password": "b" } }))
        .await
        .expect_error(422, "invalid_field", Some("secret_properties.password"));
    // A `}` would end a job's ${connections.<name>.<property>} reference early.
    owner
        .post(&path, json!({ "name": "a}b", "kind": "kafka" }))
        .await
        .expect_error(422, "invalid_field", Some("name"));
    owner
        .post(&path, json!({ "name": "x", "kind": "kafka" }))
        .await
        .expect(201);
    owner
        .post(&path, json!({ "name": "x", "kind": "kafka" }))
        .await
        .expect_error(409, "already_exists", Some("name"));
    assert_eq!(owner.list_all(&path, 50).await.len(), 1);
}
