//! The isolation matrix: EVERY operation in the OpenAPI document, called by every kind
//! of caller, gives the documented outcome. The operations are read from the served
//! document, so a new route without a row in `expectation` fails this test.
//!
//! Outcomes: `allowed` means the call passed authentication and authorization (any
//! status but 401, 403 and 404: a 422 or 428 from validation after the check counts);
//! `forbidden` is 403 (the caller sees the object, their role is too weak); `hidden`
//! is 404 (another account's object, or a project the caller has no role in); and
//! anonymous callers always get 401.

use reqwest::Method;
use serde_json::{json, Value};
use sluice_tests::{tiny_jar, Client, Res, TestApp};

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Sign-in endpoints, reachable without a credential.
    Public,
    /// Any member of the account.
    AnyMember,
    /// Account roles allowed; other members get 403.
    Account(&'static [&'static str]),
    /// Account roles allowed; other members get 404 (they may act only on their own tokens).
    AccountElseHidden(&'static [&'static str]),
    /// The weakest project role allowed; weaker roles get 403, no role 404.
    Project(&'static str),
    /// Platform operators only: every account role gets 403.
    Operator,
}

/// The documented outcome of each operation, by operation id.
fn expectation(operation: &str) -> Option<Expect> {
    const ADMINS: &[&str] = &["owner", "admin"];
    use Expect::*;
    Some(match operation {
        "login" | "callback" | "refresh" => Public,
        "logout" | "switch_account" | "me" | "get_account" | "list_members" | "list_tokens"
        | "create_token" | "list_projects" => AnyMember,
        "revoke_token" => AccountElseHidden(ADMINS),
        "get_billing" | "list_hours" | "update_billing" | "list_bills" | "get_bill"
        | "download_bill" | "list_subscriptions" | "preview_order" | "place_order"
        | "get_balance" | "list_transactions" | "top_up" | "usage" | "list_orders" => {
            Account(&["owner", "billing_manager"])
        }
        "list_clusters"
        | "get_cluster"
        | "check_cluster"
        | "list_engine_versions"
        | "engine_version_connectors"
        | "list_notices"
        | "lifecycle_impact" => AnyMember,
        // Notices are personal: the fixture's notice is the owner's, others find nothing.
        "mark_read" => AccountElseHidden(&["owner"]),
        "set_product_form" | "set_engine_version" | "engine_impact" | "product_form_impact" => {
            Operator
        }
        "register_cluster" | "delete_cluster" => Account(ADMINS),
        "list_channels" | "create_channel" | "delete_channel" | "test_channel"
        | "list_deliveries" | "retry_delivery" => Account(ADMINS),
        "validate_job" => Project("editor"),
        "list_deployments" | "get_deployment" | "list_events" | "list_savepoints"
        | "list_exceptions" | "deployment_metrics" => Project("viewer"),
        "delete_savepoint" => Project("editor"),
        "preview_cost" => Project("viewer"),
        "create_deployment" | "delete_deployment" | "start_deployment" | "stop_deployment"
        | "upgrade_deployment" | "trigger_savepoint" => Project("editor"),
        "change_member_role" | "remove_member" | "list_invitations" | "create_invitation"
        | "revoke_invitation" | "list_audit" | "create_project" => Account(ADMINS),
        "get_project"
        | "list_project_members"
        | "list_folders"
        | "get_folder"
        | "list_jobs"
        | "get_job"
        | "list_versions"
        | "get_version"
        | "diff_versions"
        | "list_connections"
        | "get_connection"
        | "list_artifacts"
        | "get_artifact"
        | "download_artifact" => Project("viewer"),
        "create_folder" | "update_folder" | "delete_folder" | "create_job" | "update_job"
        | "delete_job" | "save_version" | "rollback" | "upload_artifact" | "delete_artifact" => {
            Project("editor")
        }
        "create_connection"
        | "update_connection"
        | "delete_connection"
        | "add_project_member"
        | "change_project_member_role"
        | "remove_project_member"
        | "update_project" => Project("admin"),
        "delete_project" => Project("owner"),
        "list_contact_groups"
        | "list_alert_rules"
        | "list_silences"
        | "list_alerts"
        | "list_channel_choices" => Project("viewer"),
        "create_alert_rule" | "update_alert_rule" | "delete_alert_rule" | "create_silence"
        | "delete_silence" => Project("editor"),
        "create_contact_group"
        | "replace_contact_group"
        | "delete_contact_group"
        | "test_contact_group" => Project("admin"),
        _ => return None,
    })
}

const PROJECT_ROLES: [&str; 4] = ["viewer", "editor", "admin", "owner"];

/// A caller of account A: account role, and project role in the fixture's project.
struct Caller {
    name: &'static str,
    account_role: &'static str,
    project_role: Option<&'static str>,
}

const CALLERS: [Caller; 8] = [
    Caller {
        name: "account owner",
        account_role: "owner",
        project_role: None,
    },
    Caller {
        name: "account admin",
        account_role: "admin",
        project_role: None,
    },
    Caller {
        name: "billing manager",
        account_role: "billing_manager",
        project_role: None,
    },
    Caller {
        name: "member without project role",
        account_role: "member",
        project_role: None,
    },
    Caller {
        name: "project viewer",
        account_role: "member",
        project_role: Some("viewer"),
    },
    Caller {
        name: "project editor",
        account_role: "member",
        project_role: Some("editor"),
    },
    Caller {
        name: "project admin",
        account_role: "member",
        project_role: Some("admin"),
    },
    Caller {
        name: "project owner",
        account_role: "member",
        project_role: Some("owner"),
    },
];

/// Objects of account A that path parameters point at.
struct Fixture {
    project: String,
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
    /// A plain account member, also a viewer of the project: the target of member routes.
    target_user: String,
}

async fn fixture(app: &TestApp, owner: &Client, clients: &[(usize, Client)], n: usize) -> Fixture {
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
    Fixture {
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
            json!({ "announced_at": "2026-01-01T00:00:00Z", "eom1": "2030-01-01T00:00:00Z",
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
        "register_cluster" => {
            json!({ "name": format!("r{n}"), "rest_url": "http://127.0.0.1:9", "flink_version": "2.3.0", "engine_version": "1.0.0" })
        }
        _ => json!({}),
    }
}

async fn call(
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
    let builder = client.request(method.clone(), &path);
    let builder = if *method == Method::GET || *method == Method::DELETE {
        builder
    } else {
        builder.json(&body(operation, f, n))
    };
    Client::send(builder).await
}

fn project_rank(role: &str) -> usize {
    PROJECT_ROLES
        .iter()
        .position(|r| *r == role)
        .unwrap_or(usize::MAX)
}

/// What `caller` should get for `expect`.
fn outcome_for(caller: &Caller, expect: Expect) -> &'static str {
    let account_admin = matches!(caller.account_role, "owner" | "admin");
    match expect {
        // Sign-in endpoints answer by their own rules (e.g. 404 when sign-in is off).
        Expect::Public => "any",
        Expect::AnyMember => "allowed",
        Expect::Operator => "forbidden",
        Expect::Account(roles) | Expect::AccountElseHidden(roles) => {
            if roles.contains(&caller.account_role) {
                "allowed"
            } else if matches!(expect, Expect::AccountElseHidden(_)) {
                "hidden"
            } else {
                "forbidden"
            }
        }
        Expect::Project(min) => {
            let role = if account_admin {
                Some("owner")
            } else {
                caller.project_role
            };
            match role {
                None => "hidden",
                Some(r) if project_rank(r) >= project_rank(min) => "allowed",
                Some(_) => "forbidden",
            }
        }
    }
}

/// Account-level operations a token narrowed to one project may still call: what the
/// project's work needs. Everything else at account level is 403 for it.
const NARROWED_ACCOUNT_OPERATIONS: &[&str] = &[
    "logout",
    "switch_account",
    "me",
    "get_account",
    "list_projects",
    "list_clusters",
    "get_cluster",
    "check_cluster",
    "list_engine_versions",
    "engine_version_connectors",
];

/// What the account owner's token narrowed to the fixture's project with `role` should
/// get: its project role in that project, and at account level only what the project's
/// work needs.
fn outcome_for_narrowed(role: &str, operation: &str, expect: Expect) -> &'static str {
    match expect {
        Expect::Public => "any",
        Expect::AnyMember if NARROWED_ACCOUNT_OPERATIONS.contains(&operation) => "allowed",
        Expect::AnyMember
        | Expect::Account(_)
        | Expect::AccountElseHidden(_)
        | Expect::Operator => "forbidden",
        Expect::Project(min) if project_rank(role) >= project_rank(min) => "allowed",
        Expect::Project(_) => "forbidden",
    }
}

/// A client whose token is `owner`'s, narrowed to `project` with `role`.
async fn narrowed(owner: &Client, project: &str, role: &str, n: usize) -> Client {
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

fn classify(status: u16) -> &'static str {
    match status {
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "hidden",
        _ => "allowed",
    }
}

#[tokio::test]
async fn every_operation_gives_every_caller_the_documented_outcome() {
    // Mutations get fresh projects, more than the product's 20.
    let app = TestApp::spawn_with(|c| {
        for limits in c.plans.values_mut() {
            limits.projects_per_account = 100_000;
        }
    })
    .await;
    let owner = app.account("A").await;
    let mallory = app.account("B").await;
    let anonymous = app.anonymous();
    let mut clients = Vec::new();
    for (i, caller) in CALLERS.iter().enumerate() {
        let client = if i == 0 {
            owner.clone()
        } else {
            app.member(&owner, caller.account_role, None, false).await
        };
        clients.push((i, client));
    }
    let mut operations = Vec::new();
    for (method, path, id) in app.documented_operations().await {
        let expect = expectation(&id)
            .unwrap_or_else(|| panic!("{method} {path} ({id}) is missing from the matrix"));
        operations.push((method, path, id, expect));
    }
    assert!(
        operations.len() >= 50,
        "only {} operations found",
        operations.len()
    );

    let mut n = 0;
    let mut failures = Vec::new();
    let shared = fixture(&app, &owner, &clients, n).await;
    let mut narrowed_on_shared = Vec::new();
    for role in PROJECT_ROLES {
        n += 1;
        narrowed_on_shared.push((role, narrowed(&owner, &shared.project, role, n).await));
    }
    for (method, path, id, expect) in &operations {
        let mutating = *method != Method::GET;
        // Anonymous and another account's owner first: they must change nothing.
        n += 1;
        let res = call(&anonymous, method, id, path, &shared, n).await;
        let want = if matches!(expect, Expect::Public) {
            "any"
        } else {
            "unauthenticated"
        };
        if want != "any" && classify(res.status.as_u16()) != want {
            failures.push(format!(
                "{method} {path}: anonymous got {} ({}), expected {want}",
                res.status, res.body
            ));
        }
        n += 1;
        let res = call(&mallory, method, id, path, &shared, n).await;
        // Another account's owner acts in their own account; with A's ids in the path, nothing is found.
        // Path ids, or a body naming one of A's objects, make it A's business.
        // An engine version's label is the platform's, not an object of A's.
        let has_ids = (path.contains('{') && !path.contains("{label}"))
            || matches!(id.as_str(), "preview_order" | "place_order");
        let want = match expect {
            Expect::Public => "any",
            Expect::Operator => "forbidden",
            _ if has_ids => "hidden",
            _ => "allowed",
        };
        if want != "any" && classify(res.status.as_u16()) != want {
            failures.push(format!(
                "{method} {path}: another account's owner got {} ({}), expected {want}",
                res.status, res.body
            ));
        }
        for (i, client) in &clients {
            let caller = &CALLERS[*i];
            n += 1;
            // A mutation that succeeds may consume its objects: give it fresh ones.
            let fresh;
            let f = if mutating && outcome_for(caller, *expect) == "allowed" {
                fresh = fixture(&app, &owner, &clients, n).await;
                &fresh
            } else {
                &shared
            };
            let res = call(client, method, id, path, f, n).await;
            let want = outcome_for(caller, *expect);
            if want != "any" && classify(res.status.as_u16()) != want {
                failures.push(format!(
                    "{method} {path}: {} got {} ({}), expected {want}",
                    caller.name, res.status, res.body
                ));
            }
        }
        // The owner's own tokens narrowed to the project: every role, every operation.
        for (role, on_shared) in &narrowed_on_shared {
            n += 1;
            let want = outcome_for_narrowed(role, id, *expect);
            let (f, client);
            let (f, client) = if mutating && want == "allowed" {
                f = fixture(&app, &owner, &clients, n).await;
                client = narrowed(&owner, &f.project, role, n).await;
                (&f, &client)
            } else {
                (&shared, on_shared)
            };
            let res = call(client, method, id, path, f, n).await;
            if want != "any" && classify(res.status.as_u16()) != want {
                failures.push(format!(
                    "{method} {path}: the owner's token narrowed to the project as {role} got {} ({}), expected {want}",
                    res.status, res.body
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} outcomes differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
