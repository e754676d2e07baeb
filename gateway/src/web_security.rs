//! What every answer and every request goes through before a handler: the rules a
//! browser and a proxy rely on, and the inputs no handler should ever see.
//!
//! - A NUL character (`%00`) in a path or query string is refused here, the same on
//!   both databases (PostgreSQL cannot store the byte; SQLite can): 404 for the path,
//!   since no object has such an id, and 422 naming the parameter for a query.
//! - Unsafe methods authenticated by the console's cookie must come from the console's
//!   own origin (or one allowed for CORS): a page elsewhere that makes the browser send
//!   the cookie is refused with 403. Bearer-token calls are not affected.
//! - Every answer says `X-Content-Type-Options: nosniff` and may not be framed; API
//!   answers are `Cache-Control: no-store` unless a handler chose otherwise; the API
//!   browser at `/api/docs` gets a content security policy.
//! - CORS is off unless `cors.allowed_origins` lists origins; preflights are answered
//!   either way (without an allowed origin the browser then refuses the call).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use store::Error;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::access::jwt::{ACCESS_COOKIE, REFRESH_COOKIE};
use crate::access::principal::cookie;
use domain::config::CorsConfig;

/// Refuses a NUL character in the path (404) or in a query parameter (422).
pub async fn refuse_nul(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if contains_encoded_nul(uri.path()) {
        return crate::error::respond(Error::not_found("object"));
    }
    if let Some(query) = uri.query() {
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if contains_encoded_nul(name) || contains_encoded_nul(value) {
                let name = percent_encoding::percent_decode_str(name)
                    .decode_utf8_lossy()
                    .replace('\0', "");
                return crate::error::respond(Error::invalid(
                    name.clone(),
                    format!("{name}: must not contain the NUL character"),
                ));
            }
        }
    }
    next.run(request).await
}

fn contains_encoded_nul(raw: &str) -> bool {
    raw.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// The origins allowed to make cookie-authenticated writes: the console's own (the
/// request's host, or `auth.public_url`) and those allowed for CORS.
#[derive(Clone)]
pub struct OriginPolicy {
    public_origin: String,
    cors: Vec<String>,
}

impl OriginPolicy {
    pub fn new(public_url: &str, cors: &CorsConfig) -> Self {
        Self {
            public_origin: origin_of(public_url),
            cors: cors.allowed_origins.iter().map(|o| origin_of(o)).collect(),
        }
    }

    fn allows(&self, origin: &str, headers: &HeaderMap) -> bool {
        let origin = origin_of(origin);
        let own_host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|host| origin.split_once("://").is_some_and(|(_, h)| h == host));
        own_host || origin == self.public_origin || self.cors.contains(&origin)
    }
}

/// `scheme://host[:port]` of a URL, lowercased, without a path or trailing slash.
fn origin_of(url: &str) -> String {
    let url = url.trim().to_ascii_lowercase();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let host = match (scheme, host.rsplit_once(':')) {
                ("http", Some((h, "80"))) | ("https", Some((h, "443"))) => h,
                _ => host,
            };
            format!("{scheme}://{host}")
        }
        None => url,
    }
}

/// Refuses an unsafe method carried by the session cookie from another origin.
pub async fn check_cookie_origin(
    State(policy): State<OriginPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let headers = request.headers();
    let by_cookie = !headers.contains_key(header::AUTHORIZATION)
        && (cookie(headers, ACCESS_COOKIE).is_some() || cookie(headers, REFRESH_COOKIE).is_some());
    if safe || !by_cookie {
        return next.run(request).await;
    }
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|s| s.to_str().ok());
    let allowed = match (origin, fetch_site) {
        (Some(origin), _) => policy.allows(origin, headers),
        // No Origin: a browser marks where the request came from here instead.
        (None, Some(site)) => matches!(site, "same-origin" | "none"),
        // Neither: not a browser's cross-site request (browsers send Origin on them).
        (None, None) => true,
    };
    if allowed {
        return next.run(request).await;
    }
    crate::error::respond(Error::new(
        store::Kind::Forbidden,
        "cross_origin_refused",
        "a change authenticated by the console's cookie must come from the console's own origin; \
         other clients use a bearer token",
    ))
}

/// Headers every answer carries, and a content security policy for the API browser.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let (mut parts, body) = response.into_parts();
    let headers = &mut parts.headers;
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers
        .entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    if path.starts_with("/api/v1/") || path == "/api/v1" {
        // Authenticated data must not be kept by a proxy or the browser's cache.
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if path.starts_with("/api/docs") && is_html {
        return with_docs_policy(parts, body).await;
    }
    Response::from_parts(parts, body)
}

/// The API browser's page runs one inline script (the viewer's start); the policy
/// allows exactly that script by its hash, and scripts and styles from this origin.
async fn with_docs_policy(mut parts: axum::http::response::Parts, body: Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let html = String::from_utf8_lossy(&bytes);
    let hashes: Vec<String> = inline_scripts(&html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                "'sha256-{}'",
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest)
            )
        })
        .collect();
    let policy = format!(
        "default-src 'self'; script-src 'self' {}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        hashes.join(" ")
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        parts.headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

/// The bodies of `<script>` elements without a `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, after) = rest.split_once('>')?;
        if attributes.contains("src=") {
            return None;
        }
        after.split_once("</script>").map(|(body, _)| body)
    })
}

/// CORS for the configured origins only; none by default.
pub fn cors(config: &CorsConfig) -> CorsLayer {
    let origins: Vec<HeaderValue> = config
        .allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(&origin_of(o)).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_without_default_ports_paths_or_case() {
        assert_eq!(origin_of("HTTP://Example.com:80/x"), "http://example.com");
        assert_eq!(origin_of("https://a.b:443"), "https://a.b");
        assert_eq!(origin_of("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
    }

    #[test]
    fn encoded_nul_is_found_anywhere() {
        assert!(contains_encoded_nul("/api/v1/projects/a%00b"));
        assert!(!contains_encoded_nul("/api/v1/projects/a%100"));
        assert!(!contains_encoded_nul("%0"));
    }

    #[test]
    fn only_inline_scripts_are_hashed() {
        let html = "<script src=\"/a.js\" crossorigin></script><script>\n run();\n</script>";
        assert_eq!(inline_scripts(html).collect::<Vec<_>>(), ["\n run();\n"]);
    }
}
