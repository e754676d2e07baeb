//! The documented outcome of every operation, and what each kind of caller gets for it.

#[derive(Clone, Copy, Debug)]
pub(super) enum Expect {
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
pub(super) fn expectation(operation: &str) -> Option<Expect> {
    const ADMINS: &[&str] = &["owner", "admin"];
    use Expect::*;
    Some(match operation {
        "login" | "callback" | "refresh" => Public,
        "logout" | "switch_account" | "me" | "get_account" | "list_members" | "list_tokens"
        | "create_token" | "list_projects" => AnyMember,
        "revoke_token" => AccountElseHidden(ADMINS),
        "get_billing" | "list_hours" | "update_billing" | "list_bills" | "get_bill"
        | "download_bill" | "list_subscriptions" | "preview_order" | "place_order"
        | "get_balance" | "list_transactions" | "top_up" | "usage" | "list_orders"
        | "get_auto_renew" | "set_auto_renew" => Account(&["owner", "billing_manager"]),
        "list_clusters"
        | "get_cluster"
        | "check_cluster"
        | "list_engine_versions"
        | "engine_version_connectors"
        | "list_notices"
        | "lifecycle_impact" => AnyMember,
        // Notices are personal: the fixture's notice is the owner's, others find nothing.
        "mark_read" => AccountElseHidden(&["owner"]),
        "set_product_form"
        | "set_engine_version"
        | "engine_impact"
        | "product_form_impact"
        | "product_form_history"
        | "engine_version_history" => Operator,
        "register_cluster" | "update_cluster" | "delete_cluster" => Account(ADMINS),
        "list_channels" | "create_channel" | "delete_channel" | "test_channel"
        | "list_deliveries" | "retry_delivery" => Account(ADMINS),
        "validate_job"
        | "start_debug_run"
        | "get_debug_run"
        | "cancel_debug_run"
        | "create_debug_sample"
        | "delete_debug_sample" => Project("editor"),
        "list_debug_samples" => Project("viewer"),
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
        | "download_artifact"
        | "get_artifact_functions"
        | "list_functions" => Project("viewer"),
        "create_folder"
        | "update_folder"
        | "delete_folder"
        | "create_job"
        | "update_job"
        | "delete_job"
        | "save_version"
        | "rollback"
        | "upload_artifact"
        | "delete_artifact"
        | "replace_artifact_content"
        | "register_functions"
        | "unregister_functions" => Project("editor"),
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

pub(super) const PROJECT_ROLES: [&str; 4] = ["viewer", "editor", "admin", "owner"];

/// A caller of account A: account role, and project role in the fixture's project.
pub(super) struct Caller {
    pub(super) name: &'static str,
    pub(super) account_role: &'static str,
    pub(super) project_role: Option<&'static str>,
}

pub(super) const CALLERS: [Caller; 8] = [
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

fn project_rank(role: &str) -> usize {
    PROJECT_ROLES
        .iter()
        .position(|r| *r == role)
        .unwrap_or(usize::MAX)
}

/// What `caller` should get for `expect`.
pub(super) fn outcome_for(caller: &Caller, expect: Expect) -> &'static str {
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
pub(super) fn outcome_for_narrowed(role: &str, operation: &str, expect: Expect) -> &'static str {
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
