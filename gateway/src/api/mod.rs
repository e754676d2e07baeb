//! `/api/v1`: one module per resource. Every handler is registered through
//! `utoipa_axum::routes!`, which adds it to the router and the OpenAPI document at
//! once, so a routed handler cannot be missing from the document.

pub mod accounts;
pub mod alerts;
pub mod artifacts;
pub mod audit;
pub mod auth;
pub mod balance;
pub mod billing;
pub mod channels;
pub mod clusters;
pub mod connections;
pub mod contract;
pub mod debug;
pub mod deployments;
pub mod folders;
pub mod functions;
pub mod job_metrics;
pub mod jobs;
pub mod lifecycles;
pub mod members;
pub mod notices;
pub mod orders;
pub mod platform;
pub mod projects;
pub mod subscriptions;
pub mod tokens;
pub mod validate;
pub mod versions;

use axum::extract::DefaultBodyLimit;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Sluice API", description = "Control plane of a managed Apache Flink service: projects, folders, job drafts and versions, connections, artifacts."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(crate::error::ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "API token `slc_...`, or the access token from signing in",
                    ))
                    .build(),
            ),
        );
    }
}

pub fn openapi_base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Every route of the API in one table, in the order of the document's tags; one long
/// list reads better here than the same list cut into pieces.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::callback))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::switch_account))
        .routes(routes!(auth::me))
        .routes(routes!(accounts::get_account))
        .routes(routes!(members::list_members))
        .routes(routes!(members::change_member_role, members::remove_member))
        .routes(routes!(
            members::invitations::list_invitations,
            members::invitations::create_invitation
        ))
        .routes(routes!(members::invitations::revoke_invitation))
        .routes(routes!(audit::list_audit))
        .routes(routes!(billing::get_billing, billing::update_billing))
        .routes(routes!(billing::list_hours))
        .routes(routes!(billing::usage))
        .routes(routes!(billing::list_bills))
        .routes(routes!(billing::get_bill))
        .routes(routes!(billing::download_bill))
        .routes(routes!(orders::preview_order))
        .routes(routes!(orders::list_orders, orders::place_order))
        .routes(routes!(orders::list_subscriptions))
        .routes(routes!(
            subscriptions::get_auto_renew,
            subscriptions::set_auto_renew
        ))
        .routes(routes!(balance::get_balance))
        .routes(routes!(balance::list_transactions))
        .routes(routes!(balance::top_up))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(clusters::list_clusters, clusters::register_cluster))
        .routes(routes!(
            clusters::get_cluster,
            clusters::update_cluster,
            clusters::delete_cluster
        ))
        .routes(routes!(clusters::check_cluster))
        .routes(routes!(lifecycles::list_engine_versions))
        .routes(routes!(lifecycles::engine_version_connectors))
        .routes(routes!(lifecycles::lifecycle_impact))
        .routes(routes!(notices::list_notices))
        .routes(routes!(platform::set_product_form))
        .routes(routes!(platform::set_engine_version))
        .routes(routes!(platform::engine_impact))
        .routes(routes!(platform::product_form_impact))
        .routes(routes!(platform::product_form_history))
        .routes(routes!(platform::engine_version_history))
        .routes(routes!(notices::mark_read))
        .routes(routes!(channels::list_channels, channels::create_channel))
        .routes(routes!(channels::delete_channel))
        .routes(routes!(channels::test_channel))
        .routes(routes!(channels::list_deliveries))
        .routes(routes!(channels::retry_delivery))
        .routes(routes!(projects::list_projects, projects::create_project))
        .routes(routes!(
            projects::get_project,
            projects::update_project,
            projects::delete_project
        ))
        .routes(routes!(
            members::project::list_project_members,
            members::project::add_project_member
        ))
        .routes(routes!(
            members::project::change_project_member_role,
            members::project::remove_project_member
        ))
        .routes(routes!(folders::list_folders, folders::create_folder))
        .routes(routes!(
            folders::get_folder,
            folders::update_folder,
            folders::delete_folder
        ))
        .routes(routes!(jobs::list_jobs, jobs::create_job))
        .routes(routes!(jobs::get_job, jobs::update_job, jobs::delete_job))
        .routes(routes!(validate::validate_job))
        .routes(routes!(debug::start_debug_run))
        .routes(routes!(debug::get_debug_run))
        .routes(routes!(debug::cancel_debug_run))
        .routes(routes!(
            debug::list_debug_samples,
            debug::create_debug_sample
        ))
        .routes(routes!(debug::delete_debug_sample))
        .routes(routes!(
            deployments::list_deployments,
            deployments::create_deployment
        ))
        .routes(routes!(
            deployments::get_deployment,
            deployments::delete_deployment
        ))
        .routes(routes!(deployments::operations::start_deployment))
        .routes(routes!(deployments::cost::preview_cost))
        .routes(routes!(deployments::operations::stop_deployment))
        .routes(routes!(deployments::operations::upgrade_deployment))
        .routes(routes!(deployments::events::list_events))
        .routes(routes!(
            deployments::savepoints::list_savepoints,
            deployments::savepoints::trigger_savepoint
        ))
        .routes(routes!(deployments::savepoints::delete_savepoint))
        .routes(routes!(deployments::events::list_exceptions))
        .routes(routes!(job_metrics::deployment_metrics))
        .routes(routes!(
            alerts::groups::list_contact_groups,
            alerts::groups::create_contact_group
        ))
        .routes(routes!(
            alerts::groups::replace_contact_group,
            alerts::groups::delete_contact_group
        ))
        .routes(routes!(alerts::groups::list_channel_choices))
        .routes(routes!(alerts::groups::test_contact_group))
        .routes(routes!(
            alerts::rules::list_alert_rules,
            alerts::rules::create_alert_rule
        ))
        .routes(routes!(
            alerts::rules::update_alert_rule,
            alerts::rules::delete_alert_rule
        ))
        .routes(routes!(
            alerts::silences::list_silences,
            alerts::silences::create_silence
        ))
        .routes(routes!(alerts::silences::delete_silence))
        .routes(routes!(alerts::history::list_alerts))
        .routes(routes!(versions::list_versions, versions::save_version))
        .routes(routes!(versions::get_version))
        .routes(routes!(versions::diff_versions))
        .routes(routes!(versions::rollback))
        .routes(routes!(
            connections::list_connections,
            connections::create_connection
        ))
        .routes(routes!(
            connections::get_connection,
            connections::update_connection,
            connections::delete_connection
        ))
        // Uploads enforce their own per-plan size limit while streaming.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(
                    artifacts::list_artifacts,
                    artifacts::upload_artifact
                ))
                .routes(routes!(
                    artifacts::download_artifact,
                    artifacts::replace_artifact_content
                ))
                .layer(DefaultBodyLimit::disable()),
        )
        .routes(routes!(artifacts::get_artifact, artifacts::delete_artifact))
        .routes(routes!(
            functions::register_functions,
            functions::get_artifact_functions,
            functions::unregister_functions
        ))
        .routes(routes!(functions::list_functions))
}

/// Instants leave the API as RFC 3339 UTC.
pub fn rfc3339(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
