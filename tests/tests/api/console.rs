//! The web console served at `/`: files from `console.dir`, the single-page app's own
//! routes answered with `index.html`, hashed assets cached for good, and the API's
//! paths never shadowed. The console's API types are generated from the OpenAPI
//! document committed beside them, which must be the one the server serves.

use sluice_tests::TestApp;

fn console_dir() -> tempfile_dir::Dir {
    let dir = tempfile_dir::Dir::new();
    std::fs::create_dir_all(dir.path().join("assets")).unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><div id=root></div><script type=module src=/assets/index-abc123.js></script>",
    )
    .unwrap();
    std::fs::write(dir.path().join("assets/index-abc123.js"), "console.log(1)").unwrap();
    // What the build's precompression step writes beside it.
    std::fs::write(
        dir.path().join("assets/index-abc123.js.gz"),
        b"\x1f\x8b gzip bytes",
    )
    .unwrap();
    dir
}

/// A directory removed when the test ends.
mod tempfile_dir {
    pub struct Dir(std::path::PathBuf);
    impl Dir {
        pub fn new() -> Self {
            let path =
                std::env::temp_dir().join(format!("sluice-console-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", app.base)).await.unwrap()
}

#[tokio::test]
async fn the_console_is_served_with_its_routes_falling_back_to_index_html() {
    let dir = console_dir();
    let served = dir.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.console.dir = served).await;

    for path in ["/", "/projects/p1/jobs/j1", "/billing"] {
        let page = get(&app, path).await;
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(page.headers()["cache-control"], "no-cache", "{path}");
        assert!(page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert!(page.text().await.unwrap().contains("id=root"), "{path}");
    }
    let script = get(&app, "/assets/index-abc123.js").await;
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));

    // A missing asset, or an API path, is a 404 in the API's words, not the page.
    for path in [
        "/assets/gone-000.js",
        "/api/v1/no-such-thing",
        "/api/v2/projects",
    ] {
        let missing = get(&app, path).await;
        assert_eq!(missing.status(), 404, "{path}");
        let body: serde_json::Value = missing.json().await.unwrap();
        assert_eq!(body["error"]["code"], "route_not_found", "{path}: {body}");
    }
    // The API still answers under its own paths.
    assert_eq!(get(&app, "/healthz").await.status(), 200);
    assert_eq!(get(&app, "/api/v1/me").await.status(), 401);
}

#[tokio::test]
async fn without_a_console_build_the_root_is_a_404() {
    let dir = tempfile_dir::Dir::new();
    let empty = dir.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.console.dir = empty).await;
    let root = get(&app, "/").await;
    assert_eq!(root.status(), 404);
    let body: serde_json::Value = root.json().await.unwrap();
    assert_eq!(body["error"]["code"], "route_not_found");
}

/// `frontend/openapi.json` is what the console's types are generated from
/// (`npm run gen:api`); it must be the document the server serves.
#[tokio::test]
async fn the_consoles_committed_openapi_document_is_the_served_one() {
    let app = TestApp::spawn().await;
    let served: serde_json::Value = get(&app, "/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/openapi.json");
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap();
    assert!(
        committed == served,
        "frontend/openapi.json differs from the served document: run `npm run gen:api` in frontend/ and commit the result"
    );
}
