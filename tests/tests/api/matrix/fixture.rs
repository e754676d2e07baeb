//! The objects of account A that path parameters point at, and calls that fill a
//! documented path and body with them.

use reqwest::Method;
use serde_json::{json, Value};
use sluice_tests::{tiny_jar, Client, Res, TestApp};

use super::CALLERS;

/// Objects of account A that path parameters point at.
pub(super) struct Fixture {
    pub(super) project: String,
    folder: String,
    job: String,
    connection: String,
    artifact: String,
    token: String,
    invitation: String,
    cluster: String,
    deployment: String,
    savepoint: String,
    bill: String,
    notice: String,
    channel: String,
    delivery: String,
    group: String,
    rule: String,
    silence: String,
    debug_sample: String,
    debug_run: String,
    /// A plain account member, also a viewer of the project: the target of member routes.
    target_user: String,
}

// Long: one object of every kind a documented path names, created in the order they depend on one another.
pub(super) async fn fixture(
    app: &TestApp,
    owner: &Client,
    clients: &[(usize, Client)],
    n: usize,
) -> Fixture {
    let project = owner.project(&format!("p{n}")).await;
    for (i, client) in clients {
        if let Some(role) = CALLERS[*i].project_role {
            owner
                .post(
                    &format!("/projects/{project}/members"),
                    json!({ "user_id": client.user_id, "role": role }),
                )
                .await
                .expect(201);
        }
    }
    let folder = owner.folder(&project, "f", None).await;
    let job = owner
        .sql_job(&project, "j", Some(&folder), "select 1")
        .await
        .expect(201)
        .id();
    owner
        .post(
            &format!("/projects/{project}/jobs/{job}/versions"),
            json!({ "message": "v1" }),
        )
        .await
        .expect(201);
    let connection = owner
        .post(
            &format!("/projects/{project}/connections"),
            json!({ "name": "c", "kind": "kafka", "properties": { "bootstrap.servers": "k:9092" } }),
        )
        .await
        .expect(201)
        .id();
    let artifact = owner
        .upload(&project, "a.jar", tiny_jar())
        .await
        .expect(201)
        .id();
    let token = owner
        .post("/tokens", json!({ "name": format!("t{n}") }))
        .await
        .expect(201);
    let token = token.body["token"]["id"].as_str().unwrap().to_owned();
    let invitation = owner
        .post(
            "/account/invitations",
            json!({ "email": format!("invitee{n}@example.com") }),
        )
        .await
        .expect(201)
        .id();
    let target = app
        .member(owner, "member", Some((&project, "viewer")), false)
        .await;
    let cluster = owner
        .post(
            "/clusters",
            json!({ "name": format!("k{n}"), "rest_url": "http://127.0.0.1:9", "flink_version": "2.3.0", "engine_version": "1.0.0" }),
        )
        .await
        .expect(201)
        .id();
    let deployment = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "d", "job_id": job, "cluster_id": cluster }),
        )
        .await
        .expect(201)
        .id();
    // A failed savepoint record (no files to dispose of) for the savepoint routes.
    let savepoint = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "insert into savepoints (id, deployment_id, engine_job_id, trigger_id, origin, state, failure, created_at)
         values ($1, $2, 'job', 'trigger', 'USER_REQUEST', 'FAILED', 'test', 0)",
    )
    .bind(&savepoint)
    .bind(&deployment)
    .execute(&app.state.db.pool)
    .await
    .expect("savepoint row");
    let bill = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "insert into bills (id, account_id, period_start, period_end, billing_time_zone, currency, total_minor, issued_at)
         values ($1, $2, $3, $3, 'Asia/Shanghai', 'CNY', 0, 0)",
    )
    .bind(&bill)
    .bind(&owner.account_id)
    .bind(n as i64)
    .execute(&app.state.db.pool)
    .await
    .expect("bill row");
    let notice = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "insert into notices (id, account_id, user_id, kind, subject, body, created_at) values ($1, $2, $3, 'test', 's', 'b', 0)",
    )
    .bind(&notice)
    .bind(&owner.account_id)
    .bind(&owner.user_id)
    .execute(&app.state.db.pool)
    .await
    .expect("notice row");
    let channel = owner
        .post(
            "/account/notification-channels",
            json!({ "kind": "webhook", "name": format!("w{n}"), "address": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef" }),
        )
        .await
        .expect(201)
        .id();
    // A delivery that failed for good, for the retry route.
    let delivery = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "insert into outbox (id, account_id, source_kind, source_id, channel, recipient, idempotency_key, subject,
                             body_text, body_markdown, status, attempts, next_attempt_at, last_error, created_at)
         values ($1, $2, 'notice', 'n', 'webhook', $3, $4, 's', 't', 'm', 'failed', 1, 0, 'refused', 0)",
    )
    .bind(&delivery)
    .bind(&owner.account_id)
    .bind(&channel)
    .bind(format!("sluice-{delivery}"))
    .execute(&app.state.db.pool)
    .await
    .expect("outbox row");
    let group = owner
        .post(
            &format!("/projects/{project}/contact-groups"),
            json!({ "name": "g", "emails": ["ops@example.com"] }),
        )
        .await
        .expect(201)
        .id();
    let rule = owner
        .post(
            &format!("/projects/{project}/alert-rules"),
            json!({ "name": "r", "condition": "job_failed", "contact_group_id": group }),
        )
        .await
        .expect(201)
        .id();
    let silence = owner
        .post(
            &format!("/projects/{project}/silences"),
            json!({ "rule_id": rule, "ends_at": chrono::Utc::now() + chrono::Duration::hours(1), "reason": "maintenance" }),
        )
        .await
        .expect(201)
        .id();
    let debug_sample = owner
        .post(
            &format!("/projects/{project}/debug-samples"),
            json!({ "name": "s", "format": "csv", "content": "x\n1\n" }),
        )
        .await
        .expect(201)
        .id();
    // A debug run that ended (starting one needs an engine).
    let debug_run = uuid::Uuid::now_v7().to_string();
    sqlx::query("insert into debug_runs (id, project_id, job_id, cluster_id, engine_job_id, status, stop_reason, token_hash, record_limit, time_limit_ms, targets, supervisor, supervised_until, seen_at, started_at, deadline_at, ended_at) values ($1, $2, $3, $4, 'x', 'ended', 'cancelled', 'x', 1, 1, '[]', 'x', 0, 0, 0, 0, 0)")
        .bind(&debug_run)
        .bind(&project)
        .bind(&job)
        .bind(&cluster)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    Fixture {
        debug_sample,
        debug_run,
        group,
        rule,
        silence,
        channel,
        delivery,
        notice,
        bill,
        savepoint,
        cluster,
        deployment,
        project,
        folder,
        job,
        connection,
        artifact,
        token,
        invitation,
        target_user: target.user_id,
    }
}

fn concrete(path: &str, f: &Fixture) -> String {
    path.replace("{project_id}", &f.project)
        .replace("{folder_id}", &f.folder)
        .replace("{job_id}", &f.job)
        .replace("{version}", "1")
        .replace("{connection_id}", &f.connection)
        .replace("{artifact_id}", &f.artifact)
        .replace("{token_id}", &f.token)
        .replace("{invitation_id}", &f.invitation)
        .replace("{cluster_id}", &f.cluster)
        .replace("{deployment_id}", &f.deployment)
        .replace("{savepoint_id}", &f.savepoint)
        .replace("{bill_id}", &f.bill)
        .replace("{notice_id}", &f.notice)
        .replace("{channel_id}", &f.channel)
        .replace("{delivery_id}", &f.delivery)
        .replace("{group_id}", &f.group)
        .replace("{rule_id}", &f.rule)
        .replace("{silence_id}", &f.silence)
        .replace("{sample_id}", &f.debug_sample)
        .replace("{run_id}", &f.debug_run)
        .replace("{name}", "fully_managed")
        .replace("{label}", "1.0.0")
        .replace("{user_id}", &f.target_user)
}

/// A body that passes validation, so that what decides the outcome is authorization.
fn body(operation: &str, f: &Fixture, n: usize) -> Value {
    match operation {
        "create_project" => json!({ "name": format!("new{n}") }),
        "update_project" => json!({ "description": "d" }),
        "create_folder" => json!({ "name": format!("f{n}") }),
        "update_folder" => json!({ "name": format!("f{n}") }),
        "create_job" => {
            json!({ "name": format!("j{n}"), "content": { "kind": "sql", "sql": "select 1" } })
        }
        "update_job" => json!({ "name": format!("j{n}") }),
        "save_version" => json!({ "message": "m" }),
        "rollback" => json!({ "version": 1 }),
        "create_connection" => {
            json!({ "name": format!("c{n}"), "kind": "kafka", "properties": {} })
        }
        "update_connection" => json!({ "name": format!("c{n}") }),
        "create_token" => json!({ "name": format!("t{n}") }),
        "create_invitation" => json!({ "email": format!("new{n}@example.com") }),
        "change_member_role" => json!({ "role": "member" }),
        "change_project_member_role" => json!({ "role": "viewer" }),
        "add_project_member" => json!({ "user_id": f.target_user, "role": "viewer" }),
        "switch_account" => json!({ "account_id": "x" }),
        "update_billing" => json!({ "billing_time_zone": "Asia/Shanghai" }),
        "top_up" => json!({ "amount": "1.00" }),
        "set_auto_renew" => json!({ "enabled": true }),
        "create_contact_group" | "replace_contact_group" => {
            json!({ "name": format!("g{n}"), "emails": ["a@example.com"] })
        }
        "create_alert_rule" => {
            json!({ "name": format!("r{n}"), "condition": "job_failed", "contact_group_id": f.group })
        }
        "update_alert_rule" => json!({ "enabled": true }),
        "create_silence" => {
            json!({ "rule_id": f.rule, "ends_at": chrono::Utc::now() + chrono::Duration::hours(1), "reason": "maintenance" })
        }
        "create_channel" => {
            json!({ "kind": "sms", "name": format!("s{n}"), "address": "+8613800000000" })
        }
        "set_product_form" => {
            json!({ "eom1": "2030-01-01T00:00:00Z",
                                       "eom2": "2030-02-01T00:00:00Z", "eofs": "2030-06-01T00:00:00Z", "eos": "2031-01-01T00:00:00Z" })
        }
        "preview_order" | "place_order" => {
            json!({ "kind": "new_purchase", "project_id": f.project, "cu": 4, "months": 1 })
        }
        "create_deployment" => {
            json!({ "name": format!("d{n}"), "job_id": f.job, "cluster_id": f.cluster })
        }
        "start_deployment" => json!({ "restore_mode": "NONE" }),
        "upgrade_deployment" => json!({ "version": 1 }),
        "create_debug_sample" => {
            json!({ "name": format!("s{n}"), "format": "csv", "content": "x\n1\n" })
        }
        "update_cluster" => json!({ "debug_sessions": true }),
        "register_cluster" => {
            json!({ "name": format!("r{n}"), "rest_url": "http://127.0.0.1:9", "flink_version": "2.3.0", "engine_version": "1.0.0" })
        }
        _ => json!({}),
    }
}

pub(super) async fn call(
    client: &Client,
    method: &Method,
    operation: &str,
    path: &str,
    f: &Fixture,
    n: usize,
) -> Res {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let path = concrete(path, f);
    let path = if operation == "diff_versions" {
        format!("{path}?from=1")
    } else {
        path
    };
    if operation == "upload_artifact" {
        return client
            .upload(&f.project, &format!("u{n}.jar"), tiny_jar())
            .await;
    }
    if operation == "replace_artifact_content" {
        return client
            .replace_content(&f.project, &f.artifact, &format!("r{n}.jar"), tiny_jar())
            .await;
    }
    let builder = client.request(method.clone(), &path);
    let builder = if *method == Method::GET || *method == Method::DELETE {
        builder
    } else {
        builder.json(&body(operation, f, n))
    };
    Client::send(builder).await
}

/// A client whose token is `owner`'s, narrowed to `project` with `role`.
pub(super) async fn narrowed(owner: &Client, project: &str, role: &str, n: usize) -> Client {
    let created = owner
        .post(
            "/tokens",
            json!({ "name": format!("narrow{n}"), "project_id": project, "role": role }),
        )
        .await
        .expect(201);
    Client {
        token: created.body["secret"].as_str().unwrap().to_owned(),
        ..owner.clone()
    }
}
