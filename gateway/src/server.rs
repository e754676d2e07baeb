//! The HTTP server: router, middleware, health endpoints and graceful shutdown.

use std::future::Future;
use std::time::Duration;
use store::Error;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;
use utoipa_axum::router::OpenApiRouter;

use crate::access::audit::{record_mutations, AuditLayer, Operations};
use crate::error::ApiError;
use crate::{api, web_security, AppState};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The OpenAPI document of `/api/v1`, pretty-printed, as `/api/v1/openapi.json` serves
/// it (compact there).
pub fn openapi_document() -> String {
    let (_, openapi) = documented_api();
    serde_json::to_string_pretty(&contract_of(&openapi)).unwrap_or_else(|_| "{}".to_owned())
}

/// The document as served: the routes' own, completed with the answers every operation
/// shares (see `api::contract`).
fn contract_of(openapi: &utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut doc = serde_json::to_value(openapi).unwrap_or_default();
    api::contract::complete(&mut doc);
    doc
}

/// `/api/v1`'s routes and the document made from them, in one pass.
fn documented_api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(api::openapi_base())
        .nest("/api/v1", api::router())
        .split_for_parts()
}

/// The whole application: `/api/v1` (documented), its OpenAPI document, Swagger UI and
/// health checks. Every request gets an `x-request-id` (kept if the client sent one),
/// echoed in the response and recorded on the request's log span.
pub fn app(state: AppState) -> Router {
    let (api_routes, openapi) = documented_api();
    let openapi_json =
        serde_json::to_string(&contract_of(&openapi)).unwrap_or_else(|_| "{}".to_owned());

    let docs = swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: "/api/docs",
        api_definition: swagger_ui_dist::OpenApiSource::Uri("/api/v1/openapi.json"),
        title: Some("Sluice API"),
    });

    let max_json = state.config.max_json_body_bytes;
    let audit = AuditLayer {
        state: state.clone(),
        operations: Operations::from_openapi(&openapi),
    };
    // Applied per route, so the audit middleware sees the matched route template.
    let api_routes = api_routes.layer(axum::middleware::from_fn_with_state(
        audit,
        record_mutations,
    ));
    let mut stateful = api_routes
        .route("/readyz", get(readyz))
        // The engine's capture of a debug run (the SQL runner's sink), with the run's token.
        .route(
            "/internal/debug-capture/{run_id}",
            axum::routing::post(api::debug::capture),
        );
    if state.config.metrics.listen.is_empty() {
        stateful = stateful.route("/metrics", get(crate::metrics::scrape));
    }
    let track = axum::middleware::from_fn_with_state(state.clone(), crate::metrics::track);
    let console = crate::console::Console::new(&state.config.console.dir);
    let origin_policy =
        web_security::OriginPolicy::new(&state.config.auth.public_url, &state.config.cors);
    let cors = web_security::cors(&state.config.cors);
    let stateful: Router = stateful.with_state(state);
    Router::new()
        .merge(stateful)
        .route(
            "/api/v1/openapi.json",
            get(move || async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], openapi_json) }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .merge(docs)
        .fallback(move |request: Request| crate::console::fallback(console.clone(), request))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_json))
        .layer(axum::middleware::from_fn_with_state(
            origin_policy,
            web_security::check_cookie_origin,
        ))
        .layer(axum::middleware::from_fn(web_security::refuse_nul))
        .layer(cors)
        .layer(axum::middleware::from_fn(web_security::security_headers))
        .layer(track)
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("-");
                let request_id = req
                    .extensions()
                    .get::<RequestId>()
                    .and_then(|id| id.header_value().to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), route, request_id, account = tracing::field::Empty)
            })
            .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Micros)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed: database unreachable");
            crate::error::respond(Error::new(
                store::Kind::Unavailable,
                "unavailable",
                "the database is unreachable",
            ))
        }
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method",
    )
}

/// Serves until `shutdown` resolves, then stops accepting and drains in-flight requests.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = ?state.db.backend, "sluice listening");
    let db = state.db.clone();
    // Background workers stop through one token when shutdown is asked for.
    let workers = tokio_util::sync::CancellationToken::new();
    // The identity provider is checked at start: a mismatched issuer stops the server
    // with both values named; a provider that is down is asked again until it answers.
    if let Some(oidc) = state.oidc.as_ref() {
        match oidc.check_discovery().await {
            Ok(()) => {}
            Err(crate::access::oidc::DiscoveryProblem::Misconfigured(message)) => {
                return Err(std::io::Error::other(message));
            }
            Err(crate::access::oidc::DiscoveryProblem::Unreachable(message)) => {
                tracing::warn!(%message, "the identity provider does not answer at start; sign-in waits for it");
                let state = state.clone();
                let stop = workers.clone();
                tokio::spawn(async move {
                    if let Some(oidc) = state.oidc.as_ref() {
                        oidc.watch_discovery(stop).await;
                    }
                });
            }
        }
    }
    let background = workers::spawn_all(&state.platform, &workers);
    // Metrics on a listener of their own, when configured, stop with the workers.
    if !state.config.metrics.listen.is_empty() {
        let metrics_listener = TcpListener::bind(&state.config.metrics.listen).await?;
        let metrics_app = Router::new()
            .route("/metrics", get(crate::metrics::scrape))
            .with_state(state.clone());
        let stop = workers.clone();
        tokio::spawn(async move {
            axum::serve(metrics_listener, metrics_app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
        });
    }
    let stop_workers = workers.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop_workers.cancel();
        })
        .await?;
    workers.cancel();
    for worker in background {
        if tokio::time::timeout(Duration::from_secs(10), worker)
            .await
            .is_err()
        {
            tracing::warn!("a background worker did not stop within 10 s");
        }
    }
    // Requests are drained; close the pool so SQLite checkpoints its WAL cleanly.
    tokio::time::timeout(Duration::from_secs(10), db.close())
        .await
        .ok();
    tracing::info!("sluice stopped");
    Ok(())
}
