//! The web console: the production build of `frontend/` (a single-page application)
//! served from `console.dir` at `/`. A path that is no file is one of the console's
//! own routes and gets `index.html`; under `/api/` and `/assets/` a missing path stays
//! a 404. Hashed assets are cached for good, `index.html` never, so a new release is
//! picked up on the next load. Precompressed copies are sent where the browser accepts
//! them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::Error;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::ApiError;

/// Styles inline: the code editor sets element styles at run time.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

#[derive(Clone)]
pub struct Console {
    dir: Arc<PathBuf>,
}

impl Console {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: Arc::new(dir.to_path_buf()),
        }
    }

    fn index(&self) -> PathBuf {
        self.dir.join("index.html")
    }

    pub fn is_built(&self) -> bool {
        self.index().is_file()
    }
}

/// Everything no API route matched.
pub async fn fallback(console: Console, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/api" || path.starts_with("/api/") || !console.is_built() {
        return not_found().into_response();
    }
    let immutable = path.starts_with("/assets/");
    // The build step writes .br and .gz copies beside each asset (frontend/scripts/
    // precompress.mjs): sent when the browser accepts them.
    let files = ServeDir::new(&*console.dir)
        .precompressed_br()
        .precompressed_gzip();
    let served = if immutable {
        files.oneshot(request).await
    } else {
        let index = ServeFile::new(console.index())
            .precompressed_br()
            .precompressed_gzip();
        files.fallback(index).oneshot(request).await
    };
    let Ok(mut response) = served;
    if response.status() == StatusCode::NOT_FOUND {
        return not_found().into_response();
    }
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response.into_response()
}

pub fn not_found() -> ApiError {
    Error::new(
        store::Kind::NotFound,
        "route_not_found",
        "no such endpoint; see /api/v1/openapi.json",
    )
    .into()
}
