//! Harness of the end-to-end tests: every test starts the real Sluice server on a
//! random port, over a database of its own, and talks to it over HTTP.
//!
//! The backend comes from `SLUICE_TEST_DATABASE`: `sqlite` (default) gives each test a
//! fresh SQLite file; `postgres` gives each test a fresh database on the server at
//! `SLUICE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432`), named
//! `sluice_test_<uuid>`. The test script drops those databases before each run.

use std::num::NonZeroU64;
use std::path::PathBuf;

use gateway::{AppState, Config};
use reqwest::Method;
use serde_json::Value;
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

pub use jar::tiny_jar;
pub use responses::{etag, some, sql, ApiResult, Expect, Res};
pub use serde_json::json;
/// The API's typed client (generated from its OpenAPI document) and its types.
pub use sluice_client::{types as api, ResponseValue};

pub mod engine;
pub mod idp;
mod jar;
pub mod java;
pub mod kafka;
pub mod receivers;
mod responses;
pub mod smtp;

pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("SLUICE_TEST_DATABASE").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub data_dir: PathBuf,
    pub http: reqwest::Client,
    stop: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server whose configuration `tune` may adjust (plans, limits, ...).
    pub async fn spawn_with(tune: impl FnOnce(&mut Config)) -> TestApp {
        let data_dir =
            std::env::temp_dir().join(format!("sluice-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&data_dir).expect("temp dir");
        let mut config = Config {
            data_dir: data_dir.clone(),
            ..Config::default()
        };
        config.secrets.encryption_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned();
        // Tests top up balances through the API; production servers leave it to operators.
        config.billing.allow_api_top_ups = true;
        if let Backend::Postgres = backend() {
            config.database.url = fresh_postgres_database().await;
        }
        // Bound first, so the configuration knows the server's own URL.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        config.auth.public_url = base.clone();
        tune(&mut config);
        config.validate().expect("valid test configuration");
        let state = AppState::build(config).await.expect("state");
        let stop = CancellationToken::new();
        let shutdown = stop.clone();
        tokio::spawn(gateway::serve(state.clone(), listener, async move {
            shutdown.cancelled().await
        }));
        TestApp {
            base,
            state,
            data_dir,
            http: reqwest::Client::new(),
            stop,
        }
    }

    /// A second server over the same database, as another replica would be.
    pub async fn replica(&self) -> TestApp {
        let database = self.state.config.database_url();
        let config = self.state.config.clone();
        Self::spawn_with(move |c| {
            *c = Config {
                data_dir: c.data_dir.clone(),
                ..config
            };
            c.database.url = database;
        })
        .await
    }

    /// Creates an account on the default plan and returns a client holding its owner's token.
    pub async fn account(&self, name: &str) -> Client {
        self.account_on_plan(name, &self.state.config.default_plan.clone())
            .await
    }

    pub async fn account_on_plan(&self, name: &str, plan: &str) -> Client {
        let email = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
        let created = gateway::admin::create_account(&self.state.db, plan, name, &email)
            .await
            .expect("create account");
        Client {
            base: self.base.clone(),
            token: created.token,
            http: self.http.clone(),
            account_id: created.account_id,
            user_id: created.user_id,
        }
    }

    /// Adds a member to `owner`'s account with an account role (and optionally a project
    /// role) and returns a client with a token of theirs, narrowed to that project when
    /// `narrow` is set.
    pub async fn member(
        &self,
        owner: &Client,
        account_role: &str,
        project: Option<(&str, &str)>,
        narrow: bool,
    ) -> Client {
        let email = format!(
            "{account_role}-{}@example.com",
            uuid::Uuid::new_v4().simple()
        );
        let project = project.map(|(p, r)| (p, r.parse().expect("project role")));
        let (user_id, token) = gateway::admin::add_member_with_token(
            &self.state.db,
            &owner.account_id,
            &email,
            account_role.parse().expect("account role"),
            project,
            narrow,
        )
        .await
        .expect("add member");
        Client {
            base: self.base.clone(),
            token,
            http: self.http.clone(),
            account_id: owner.account_id.clone(),
            user_id,
        }
    }

    pub fn anonymous(&self) -> Client {
        Client {
            base: self.base.clone(),
            token: String::new(),
            http: self.http.clone(),
            account_id: String::new(),
            user_id: String::new(),
        }
    }

    /// Files left in the upload staging directory (should be none between requests).
    /// Every operation of the served API document: (method, path template, operation id).
    pub async fn documented_operations(&self) -> Vec<(Method, String, String)> {
        let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", self.base))
            .await
            .expect("the document is served")
            .json()
            .await
            .expect("the document is JSON");
        let mut all = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                if let Ok(method) = method.to_uppercase().parse::<Method>() {
                    let id = op["operationId"].as_str().unwrap_or_default().to_owned();
                    all.push((method, path.clone(), id));
                }
            }
        }
        all
    }

    pub fn staged_uploads(&self) -> usize {
        std::fs::read_dir(self.data_dir.join("artifacts").join("tmp"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Stops the server: it finishes in-flight requests and closes its pool.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

async fn fresh_postgres_database() -> String {
    let server = std::env::var("SLUICE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let name = format!("sluice_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("connect to PostgreSQL (is it running?)");
    sqlx::Executor::execute(&mut admin, format!("create database {name}").as_str())
        .await
        .expect("create test database");
    admin.close().await.ok();
    format!("{server}/{name}")
}

/// An HTTP client authenticated as one user of one account.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub token: String,
    pub account_id: String,
    pub user_id: String,
    pub http: reqwest::Client,
}

impl Client {
    /// The typed client of the API, sending this user's token (if any) with every request.
    pub fn api(&self) -> sluice_client::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        if !self.token.is_empty() {
            let mut bearer =
                reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.token))
                    .expect("a token is a header value");
            bearer.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, bearer);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("HTTP client");
        sluice_client::Client::new_with_client(&self.base, http)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        if self.token.is_empty() {
            builder
        } else {
            builder.bearer_auth(&self.token)
        }
    }

    pub async fn send(builder: reqwest::RequestBuilder) -> Res {
        let response = builder.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Res {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Res {
        Self::send(self.request(Method::GET, path)).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Res {
        Self::send(self.request(Method::POST, path).json(&body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Res {
        Self::send(self.request(Method::PUT, path).json(&body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Res {
        Self::send(self.request(Method::PATCH, path).json(&body)).await
    }
    pub async fn patch_if(&self, path: &str, etag: &str, body: Value) -> Res {
        Self::send(
            self.request(Method::PATCH, path)
                .header("if-match", etag)
                .json(&body),
        )
        .await
    }
    pub async fn post_if(&self, path: &str, etag: &str, body: Value) -> Res {
        Self::send(
            self.request(Method::POST, path)
                .header("if-match", etag)
                .json(&body),
        )
        .await
    }
    pub async fn delete(&self, path: &str) -> Res {
        Self::send(self.request(Method::DELETE, path)).await
    }

    pub async fn project(&self, name: &str) -> String {
        self.api()
            .create_project()
            .body_map(|b| b.name(name))
            .send()
            .await
            .expect_status(201)
            .into_inner()
            .id
    }
    pub async fn folder(&self, project: &str, name: &str, parent: Option<&str>) -> String {
        self.api()
            .create_folder()
            .project_id(project)
            .body_map(|b| b.name(name).parent_id(parent.map(str::to_owned)))
            .send()
            .await
            .expect_status(201)
            .into_inner()
            .id
    }
    pub async fn sql_job(&self, project: &str, name: &str, folder: Option<&str>, sql: &str) -> Res {
        self.post(
            &format!("/projects/{project}/jobs"),
            json!({ "name": name, "folder_id": folder, "content": { "kind": "sql", "sql": sql } }),
        )
        .await
    }

    /// A SQL job with its first saved version (deployments run saved versions).
    pub async fn saved_sql_job(&self, project: &str, name: &str, sql_text: &str) -> String {
        let api = self.api();
        let job = api
            .create_job()
            .project_id(project)
            .body_map(|b| b.name(name).content(sql(sql_text)))
            .send()
            .await
            .expect_status(201)
            .into_inner()
            .id;
        api.save_version()
            .project_id(project)
            .job_id(&job)
            .body_map(|b| b.message(some("v1")))
            .send()
            .await
            .expect_status(201);
        job
    }

    /// Registers a cluster that never answers (a closed port): deployments on it are
    /// meant to run but never reach the engine.
    pub async fn unreachable_cluster(&self, name: &str) -> String {
        self.api()
            .register_cluster()
            .body_map(|b| {
                b.name(name)
                    .rest_url("http://127.0.0.1:9")
                    .flink_version(Some("2.3.0".to_owned()))
                    .engine_version("1.0.0")
            })
            .send()
            .await
            .expect_status(201)
            .into_inner()
            .id
    }

    /// Registers the Flink 1.20 cluster at `rest_url` as the account's own (engine
    /// version 0.9.0).
    pub async fn flink_1_20_cluster(&self, rest_url: &str) -> String {
        self.post(
            "/clusters",
            json!({ "name": "old", "rest_url": rest_url, "flink_version": "1.20.5", "engine_version": "0.9.0" }),
        )
        .await
        .expect(201)
        .id()
    }

    /// A JAR job over a tiny JAR artifact (`entry_class` need not exist in it), with its
    /// first saved version; returns the job's id and the artifact's.
    pub async fn saved_jar_job(
        &self,
        project: &str,
        name: &str,
        entry_class: &str,
    ) -> (String, String) {
        let artifact = self
            .upload(project, &format!("{name}.jar"), tiny_jar())
            .await
            .expect(201)
            .id();
        let job = self
            .post(
                &format!("/projects/{project}/jobs"),
                json!({ "name": name, "content": { "kind": "jar", "artifact_id": artifact, "entry_class": entry_class, "args": [] } }),
            )
            .await
            .expect(201)
            .id();
        self.post(
            &format!("/projects/{project}/jobs/{job}/versions"),
            json!({ "message": "v1" }),
        )
        .await
        .expect(201);
        (job, artifact)
    }

    /// Registers the cluster at `rest_url` as the account's own (engine version 1.0.0,
    /// as the platform's): the cluster custom code (JAR jobs, UDFs) may run on.
    pub async fn own_cluster(&self, name: &str, rest_url: &str) -> String {
        self.api()
            .register_cluster()
            .body_map(|b| {
                b.name(name)
                    .rest_url(rest_url)
                    .flink_version(Some("2.3.0".to_owned()))
                    .engine_version("1.0.0")
            })
            .send()
            .await
            .expect_status(201)
            .into_inner()
            .id
    }

    /// A deployment of `job`'s saved version on `cluster`.
    pub async fn deployment(
        &self,
        project: &str,
        name: &str,
        job: &str,
        cluster: &str,
        parallelism: i64,
    ) -> String {
        self.api()
            .create_deployment()
            .project_id(project)
            .body_map(|b| {
                b.name(name)
                    .job_id(job)
                    .cluster_id(Some(cluster.to_owned()))
                    .parallelism(Some(
                        u64::try_from(parallelism)
                            .ok()
                            .and_then(NonZeroU64::new)
                            .expect("a parallelism from 1"),
                    ))
            })
            .send()
            .await
            .expect_status(201)
            .into_inner()
            .id
    }

    /// Uploads `bytes` as a multipart file named `file_name`.
    pub async fn upload(&self, project: &str, file_name: &str, bytes: Vec<u8>) -> Res {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned());
        let form = reqwest::multipart::Form::new().part("file", part);
        Self::send(
            self.request(Method::POST, &format!("/projects/{project}/artifacts"))
                .multipart(form),
        )
        .await
    }

    /// Replaces an artifact's content with `bytes` (a multipart file named `file_name`).
    pub async fn replace_content(
        &self,
        project: &str,
        artifact: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Res {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned());
        let form = reqwest::multipart::Form::new().part("file", part);
        Self::send(
            self.request(
                Method::PUT,
                &format!("/projects/{project}/artifacts/{artifact}/content"),
            )
            .multipart(form),
        )
        .await
    }

    /// Follows `next_cursor` through every page of a list.
    pub async fn list_all(&self, path: &str, page_size: usize) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let mut url = format!("{path}{sep}limit={page_size}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let res = self.get(&url).await.expect(200);
            items.extend(res.body["items"].as_array().cloned().unwrap_or_default());
            match res.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return items,
            }
        }
    }
}
