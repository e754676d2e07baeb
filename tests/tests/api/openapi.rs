//! The OpenAPI document is generated from the handlers. These tests fail when a routed
//! handler is missing from it, or a documented operation is not routed.

use sluice_tests::TestApp;

#[tokio::test]
async fn the_document_is_openapi_3_1_and_swagger_ui_is_served() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let ui = reqwest::get(format!("{}/api/docs/", app.base))
        .await
        .unwrap();
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().to_lowercase().contains("swagger"));
}

/// Every documented operation reaches a handler: with placeholder ids it may answer
/// 401/404/422..., but never the router's own "no such route" or "method not allowed".
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let doc: serde_json::Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for (method, _) in item.as_object().unwrap() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let res = sluice_tests::Client::send(
                owner
                    .http
                    .request(method.clone(), format!("{}{concrete}", app.base))
                    .bearer_auth(&owner.token),
            )
            .await;
            assert_ne!(
                res.code(),
                "route_not_found",
                "{method} {path} is documented but not routed"
            );
            assert_ne!(
                res.code(),
                "method_not_allowed",
                "{method} {path} is documented but not routed"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} operations documented");
}

/// Handlers can only be documented if they are registered with `routes!`; a route
/// added with a plain `.route(...)` would be served but undocumented. Only the
/// server module may do that, for the few endpoints outside the API.
#[test]
fn api_handlers_are_registered_only_through_the_documenting_router() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../gateway/src");
    let mut offenders = Vec::new();
    visit(&src, &mut |file, text| {
        let allowed = file.ends_with("server.rs");
        if !allowed && (text.contains(".route(") || text.contains("routing::")) {
            offenders.push(file.display().to_string());
        }
    });
    assert!(
        offenders.is_empty(),
        "API routes must go through utoipa_axum::routes!: {offenders:?}"
    );
    let server = std::fs::read_to_string(src.join("server.rs")).unwrap();
    // The path each plain `.route(` serves: the string literal that follows it.
    let plain_routes: Vec<&str> = server
        .split(".route(")
        .skip(1)
        .filter_map(|rest| rest.split('"').nth(1))
        .collect();
    // Outside the API: the document, health, /metrics (on the API listener or on a
    // listener of its own), and where the engine sends a debug run's rows.
    let outside = [
        "/api/v1/openapi.json",
        "/healthz",
        "/readyz",
        "/metrics",
        "/internal/debug-capture/{run_id}",
    ];
    assert!(
        !plain_routes.is_empty() && plain_routes.iter().all(|p| outside.contains(p)),
        "server.rs routes only {outside:?}: {plain_routes:?}"
    );
}

fn visit(dir: &std::path::Path, f: &mut dyn FnMut(&std::path::Path, &str)) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, f);
        } else if path.extension().is_some_and(|e| e == "rs") {
            f(&path, &std::fs::read_to_string(&path).unwrap());
        }
    }
}
