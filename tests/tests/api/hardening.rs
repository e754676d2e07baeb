//! What an attacker and a fuzzer try: a NUL character in every id, query and body
//! (PostgreSQL cannot store the byte, so it must be refused before it reaches a query,
//! alike on both databases), bodies of the wrong JSON shape, empty bodies on actions,
//! a token narrowed to one project reaching for the account, and the headers every
//! answer must carry.

use reqwest::Method;
use sluice_tests::{json, Client, TestApp};

/// `/api/v1/projects/{project_id}` with every parameter replaced by `value`.
fn with_every_id(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path.strip_prefix("/api/v1").unwrap_or(path);
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        out.push_str(value);
        rest = &rest[open + rest[open..].find('}').unwrap_or(0) + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn a_nul_character_in_any_id_is_not_found_on_every_operation() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let mut checked = 0;
    let mut failures = Vec::new();
    for (method, path, id) in app.documented_operations().await {
        if !path.contains('{') {
            continue;
        }
        let url = with_every_id(&path, "a%00b");
        let mut request = owner.request(method.clone(), &url);
        if method != Method::GET && method != Method::DELETE {
            request = request.json(&json!({}));
        }
        let res = Client::send(request).await;
        checked += 1;
        if res.status != 404 || res.code() != "not_found" {
            failures.push(format!(
                "{method} {url} ({id}): {} {}",
                res.status, res.body
            ));
        }
    }
    assert!(checked >= 70, "only {checked} operations with ids");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_nul_character_in_a_query_or_body_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    owner
        .get("/account/audit?action=sign%00in")
        .await
        .expect_error(422, "invalid_field", Some("action"));
    owner
        .get(&format!("/projects/{project}/deployments?job_id=x%00"))
        .await
        .expect_error(422, "invalid_field", Some("job_id"));
    owner
        .post("/projects", json!({ "name": "a\u{0}b" }))
        .await
        .expect_error(422, "invalid_field", Some("name"));
    owner
        .post(
            &format!("/projects/{project}/connections"),
            json!({ "name": "c", "kind": "kafka", "properties": { "bootstrap.servers": "k:9092\u{0}" } }),
        )
        .await
        .expect_error(422, "invalid_field", Some("properties.bootstrap.servers"));
    owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "d", "job_id": "j\u{0}" }),
        )
        .await
        .expect_error(422, "invalid_field", Some("job_id"));
    // Nothing half-written: the project is the only one, and it has no connection.
    assert_eq!(owner.list_all("/projects", 50).await.len(), 1);
    assert!(owner
        .list_all(&format!("/projects/{project}/connections"), 50)
        .await
        .is_empty());
}

#[tokio::test]
async fn a_request_body_must_be_an_object() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    owner
        .post("/projects", json!(["name", "description"]))
        .await
        .expect_error(422, "invalid_field", Some("body"));
    owner
        .patch(&format!("/projects/{project}"), json!([null, null]))
        .await
        .expect_error(422, "invalid_field", Some("body"));
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner.saved_sql_job(&project, "j", "select 1").await;
    let d = owner.deployment(&project, "d", &job, &cluster, 1).await;
    owner
        .post(
            &format!("/projects/{project}/deployments/{d}/start"),
            json!([null, null]),
        )
        .await
        .expect_error(422, "invalid_field", Some("body"));
    for body in [json!("x"), json!(1), json!(null)] {
        owner
            .post("/projects", body)
            .await
            .expect_error(422, "invalid_field", Some("body"));
    }
    assert_eq!(owner.list_all("/projects", 50).await.len(), 1);
}

#[tokio::test]
async fn an_action_that_needs_no_body_accepts_an_empty_one() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let job = owner
        .sql_job(
            &project,
            "j",
            None,
            "CREATE TEMPORARY TABLE t (n INT) WITH ('connector' = 'datagen');",
        )
        .await
        .expect(201)
        .id();
    // No body and no content type at all, as curl -X POST sends it.
    let res = Client::send(owner.request(
        Method::POST,
        &format!("/projects/{project}/jobs/{job}/validate"),
    ))
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body["valid"].is_boolean(), "{}", res.body);
    // A body that needs fields says which one is missing.
    let res = Client::send(owner.request(Method::POST, "/projects")).await;
    res.expect_error(422, "invalid_field", Some("body"));
}

#[tokio::test]
async fn every_answer_carries_the_headers_a_browser_and_a_proxy_rely_on() {
    let app = TestApp::spawn_with(|c| {
        c.cors.allowed_origins = vec!["https://app.example.com".to_owned()];
    })
    .await;
    let owner = app.account("Acme").await;
    let res = owner.get("/projects").await.expect(200);
    assert_eq!(res.headers["x-content-type-options"], "nosniff");
    assert_eq!(res.headers["cache-control"], "no-store");
    assert_eq!(res.headers["x-frame-options"], "DENY");
    let res = owner.get("/nope").await;
    assert_eq!(res.headers["cache-control"], "no-store");

    // The API browser: its inline start script allowed by hash, nothing else inline.
    let docs = app
        .http
        .get(format!("{}/api/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    let policy = docs.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = docs.text().await.unwrap();
    assert!(html.contains("SwaggerUIBundle"), "{html}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("'sha256-"), "{policy}");
    let script_src = policy
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap_or_default();
    assert!(!script_src.contains("unsafe-inline"), "{policy}");

    // Preflights: an allowed origin gets its answer; any other gets none to act on.
    let preflight = |origin: &'static str| {
        app.http
            .request(Method::OPTIONS, format!("{}/api/v1/projects", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert_ne!(other.status(), 405);
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn cors_is_off_unless_origins_are_listed() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let res = Client::send(
        owner
            .request(Method::GET, "/projects")
            .header("origin", "https://app.example.com"),
    )
    .await;
    assert_eq!(res.status, 200);
    assert!(res.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_token_narrowed_to_a_project_acts_only_within_it() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let unscoped = owner
        .post("/tokens", json!({ "name": "ci" }))
        .await
        .expect(201)
        .body["token"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = owner
        .post(
            "/tokens",
            json!({ "name": "viewer", "project_id": project, "role": "viewer" }),
        )
        .await
        .expect(201)
        .body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let narrowed = Client {
        token: secret,
        ..owner.clone()
    };
    narrowed
        .delete(&format!("/tokens/{unscoped}"))
        .await
        .expect_error(403, "forbidden", None);
    narrowed
        .get("/tokens")
        .await
        .expect_error(403, "forbidden", None);
    narrowed
        .get("/account/members")
        .await
        .expect_error(403, "forbidden", None);
    narrowed
        .post("/tokens", json!({ "name": "more" }))
        .await
        .expect_error(403, "forbidden", None);
    // What its project's work needs still answers.
    narrowed
        .get(&format!("/projects/{project}"))
        .await
        .expect(200);
    narrowed.get("/clusters").await.expect(200);
    // The unscoped token was not revoked.
    let listed = owner.list_all("/tokens", 50).await;
    assert!(listed.iter().any(|t| t["id"] == unscoped.as_str()));
}

/// What the document allows, the server takes: JSON Schema's integers include `2.0`,
/// and a cursor is any base64url text.
#[tokio::test]
async fn numbers_and_cursors_the_document_allows_are_taken() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner.unreachable_cluster("k").await;
    let job = owner.saved_sql_job(&project, "j", "select 1").await;
    let created = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "d", "job_id": job, "cluster_id": cluster, "parallelism": 2.0 }),
        )
        .await
        .expect(201);
    assert_eq!(created.body["parallelism"], 2);
    owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "e", "job_id": job, "cluster_id": cluster, "parallelism": 2.5 }),
        )
        .await
        .expect_error(422, "invalid_field", Some("parallelism"));
    // "AB" has trailing bits a strict decoder refuses; "AA" decodes to a NUL.
    for cursor in ["AB", "AA", "zzzz"] {
        owner
            .get(&format!("/projects?cursor={cursor}"))
            .await
            .expect(200);
    }
    owner
        .get("/projects?cursor=A")
        .await
        .expect_error(422, "invalid_field", Some("cursor"));
}

/// Uniqueness is checked before each insert; should a check ever be missed, the
/// database's unique index still refuses the row and the conflict names the field the
/// index guards, on both databases (PostgreSQL names the index; SQLite names an index
/// on expressions, or else its table's columns).
#[tokio::test]
async fn a_unique_index_the_checks_missed_still_names_its_field() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("etl").await;
    owner.folder(&project, "reports", None).await;
    let pool = &app.state.db.pool;

    let (account_id,): (String,) = sqlx::query_as("select account_id from projects where id = $1")
        .bind(&project)
        .fetch_one(pool)
        .await
        .unwrap();
    let duplicates = [
        // A plain column index.
        sqlx::query("insert into projects (id, account_id, name, description, created_at, updated_at) values ($1, $2, 'etl', '', 0, 0)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&account_id),
        // An index on an expression.
        sqlx::query("insert into folders (id, project_id, parent_id, name, created_at, updated_at) values ($1, $2, null, 'reports', 0, 0)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&project),
    ];
    for insert in duplicates {
        let err = store::Error::from(insert.execute(pool).await.unwrap_err());
        assert_eq!(err.kind, store::Kind::Conflict, "{err:?}");
        assert_eq!(err.code, "already_exists");
        assert_eq!(err.field.as_deref(), Some("name"), "{err:?}");
    }
}
