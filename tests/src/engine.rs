//! The real Flink cluster of the test run. `scripts/test.sh` starts it with
//! `scripts/flink.sh`, builds the SQL runner, and passes both on in
//! `SLUICE_TEST_FLINK_URL` and `SLUICE_TEST_SQL_RUNNER`. Engine tests skip (saying so)
//! only where there is no Java; under `CI=true` a missing engine fails them instead.

use gateway::Config;

pub struct LocalEngine {
    pub rest_url: String,
    pub runner_jar: String,
}

pub fn local_engine() -> Option<LocalEngine> {
    let rest_url = std::env::var("SLUICE_TEST_FLINK_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let runner_jar = std::env::var("SLUICE_TEST_SQL_RUNNER")
        .ok()
        .filter(|v| !v.is_empty());
    match (rest_url, runner_jar) {
        (Some(rest_url), Some(runner_jar)) => Some(LocalEngine {
            rest_url,
            runner_jar,
        }),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI runs the engine tests: SLUICE_TEST_FLINK_URL and SLUICE_TEST_SQL_RUNNER must be set (scripts/test.sh does)"
            );
            eprintln!("no local Flink cluster for this run (see scripts/test.sh); skipping an engine test");
            None
        }
    }
}

/// The test run's Flink 1.20 cluster (`SLUICE_TEST_FLINK_1_20_URL`, which the test
/// command sets), or None with a note: tests on both engine versions skip their 1.20 half.
pub fn flink_1_20_url() -> Option<String> {
    let url = std::env::var("SLUICE_TEST_FLINK_1_20_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!("no Flink 1.20 cluster for this run (SLUICE_TEST_FLINK_1_20_URL); skipping");
    }
    url
}

impl LocalEngine {
    /// Points a test server's platform cluster and SQL runner at this engine, and its
    /// Python jobs at the PyFlink of the engine venvs.
    pub fn configure(&self, config: &mut Config) {
        config.engine.default_cluster_url = self.rest_url.clone();
        config.engine.sql_runner_jar = self.runner_jar.clone().into();
        for (version, driver, python) in pyflink_venvs() {
            config.engine.flink_python_jars.push(driver);
            config
                .engine
                .python_client_executables
                .insert(version, python.display().to_string());
        }
    }
}

/// Each engine venv `scripts/flink.sh` installed (`.engine/flink-<version>/venv`): its
/// Flink version, PyFlink's driver jar and the venv's interpreter. The test server sends
/// the interpreter with each Python job, so a cluster started before its configuration
/// named one runs them too.
pub fn pyflink_venvs() -> Vec<(String, std::path::PathBuf, std::path::PathBuf)> {
    let engines = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.engine");
    let mut found = Vec::new();
    let Ok(dirs) = std::fs::read_dir(&engines) else {
        return found;
    };
    for dir in dirs.filter_map(Result::ok) {
        let name = dir.file_name().to_string_lossy().into_owned();
        let Some(version) = name.strip_prefix("flink-") else {
            continue;
        };
        let venv = dir.path().join("venv");
        let Ok(libs) = std::fs::read_dir(venv.join("lib")) else {
            continue;
        };
        for lib in libs.filter_map(Result::ok) {
            let driver = lib.path().join(format!(
                "site-packages/pyflink/opt/flink-python-{version}.jar"
            ));
            if driver.is_file() {
                found.push((version.to_owned(), driver, venv.join("bin/python")));
            }
        }
    }
    found.sort();
    found
}

/// The real engine behind a proxy whose sources report lag. None of the connectors
/// that run here (datagen, blackhole, print) report `currentEmitEventTimeLag` or
/// `pendingRecords` (Kafka's do), so the proxy adds them to the answers about a
/// vertex's subtask metrics, as a Kafka source's would read; everything else is the
/// engine's own answer.
pub struct LagReportingEngine {
    pub url: String,
    /// Requests for each lag metric's value, and listings of a vertex's metrics.
    pub reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub listings: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: tokio_util::sync::CancellationToken,
}

impl Drop for LagReportingEngine {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    /// Whether the sources report lag at all (the engine's own answers when not).
    reporting: bool,
    lag_ms: f64,
    pending: f64,
    reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    listings: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl LagReportingEngine {
    pub async fn start(upstream: &str, lag_ms: f64, pending: f64) -> Self {
        Self::serve(upstream, true, lag_ms, pending).await
    }

    /// The engine's own answers, counting the listings of a vertex's metrics: sources
    /// that report no lag, as the ones here.
    pub async fn silent(upstream: &str) -> Self {
        Self::serve(upstream, false, 0.0, 0.0).await
    }

    async fn serve(upstream: &str, reporting: bool, lag_ms: f64, pending: f64) -> Self {
        use std::sync::atomic::AtomicUsize;
        use std::sync::Arc;
        let reads = Arc::new(AtomicUsize::new(0));
        let listings = Arc::new(AtomicUsize::new(0));
        let proxy = Proxy {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            reporting,
            lag_ms,
            pending,
            reads: reads.clone(),
            listings: listings.clone(),
        };
        let app = axum::Router::new().fallback(forward).with_state(proxy);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the proxy");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let stop = tokio_util::sync::CancellationToken::new();
        let until = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { until.cancelled().await })
                .await
        });
        Self {
            url,
            reads,
            listings,
            stop,
        }
    }
}

/// The metric names a Kafka source named `orders` would add to its vertex.
const LAG_NAMES: [&str; 2] = [
    "Source__orders[1].currentEmitEventTimeLag",
    "Source__orders[1].pendingRecords",
];

async fn forward(
    axum::extract::State(proxy): axum::extract::State<Proxy>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use std::sync::atomic::Ordering;
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let subtask_metrics = method == reqwest::Method::GET
        && path.starts_with("/jobs/")
        && path.ends_with("/subtasks/metrics");
    if subtask_metrics {
        if let Some(get) = query
            .as_deref()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("get=")))
        {
            let asked = percent_encoding::percent_decode_str(get)
                .decode_utf8_lossy()
                .to_string();
            let values: Vec<serde_json::Value> = asked
                .split(',')
                .filter_map(|name| match name {
                    n if n == LAG_NAMES[0] => Some(serde_json::json!({ "id": n, "min": 0.0, "max": proxy.lag_ms, "avg": proxy.lag_ms / 2.0, "sum": proxy.lag_ms })),
                    n if n == LAG_NAMES[1] => Some(serde_json::json!({ "id": n, "min": 0.0, "max": proxy.pending, "avg": proxy.pending, "sum": proxy.pending })),
                    _ => None,
                })
                .collect();
            proxy.reads.fetch_add(1, Ordering::SeqCst);
            return axum::Json(values).into_response();
        }
        proxy.listings.fetch_add(1, Ordering::SeqCst);
    }
    let Some((status, bytes)) = pass_on(
        &proxy.http,
        &proxy.upstream,
        method,
        &path,
        query.as_deref(),
        &headers,
        body,
    )
    .await
    else {
        return axum::http::StatusCode::BAD_GATEWAY.into_response();
    };
    if subtask_metrics && status.is_success() && proxy.reporting {
        let mut listed: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap_or_default();
        listed.extend(LAG_NAMES.iter().map(|n| serde_json::json!({ "id": n })));
        return axum::Json(listed).into_response();
    }
    json_answer(status, bytes)
}

/// Sends a request on to the engine; its status and body, or `None` if it did not answer.
async fn pass_on(
    http: &reqwest::Client,
    upstream: &str,
    method: axum::http::Method,
    path: &str,
    query: Option<&str>,
    headers: &axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Option<(axum::http::StatusCode, axum::body::Bytes)> {
    let url = match query {
        Some(q) => format!("{upstream}{path}?{q}"),
        None => format!("{upstream}{path}"),
    };
    let mut request = http.request(method, url).body(body);
    if let Some(content_type) = headers.get(reqwest::header::CONTENT_TYPE) {
        request = request.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    let answer = request.send().await.ok()?;
    let status = answer.status();
    Some((status, answer.bytes().await.unwrap_or_default()))
}

fn json_answer(
    status: axum::http::StatusCode,
    bytes: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        bytes,
    )
        .into_response()
}

/// The real engine behind a proxy that answers as a loaded JobManager does: every
/// submission (`/jars/{id}/run`) waits 1-2 s, and in a fixed pattern some answer 500
/// without reaching the engine, some reach it and answer 500 anyway (the job runs,
/// the caller is told it failed); some stops with savepoint reach the engine and
/// answer 500 too. Everything else is the engine's own answer.
pub struct SlowFaultyEngine {
    pub url: String,
    /// Submissions and stops answered 500 (before and after reaching the engine).
    pub faults: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: tokio_util::sync::CancellationToken,
}

impl Drop for SlowFaultyEngine {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[derive(Clone)]
struct Faulty {
    upstream: String,
    http: reqwest::Client,
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    faults: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SlowFaultyEngine {
    pub async fn start(upstream: &str) -> Self {
        let faults = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let proxy = Faulty {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            calls: Default::default(),
            faults: faults.clone(),
        };
        let app = axum::Router::new().fallback(faulty).with_state(proxy);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the proxy");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let stop = tokio_util::sync::CancellationToken::new();
        let until = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { until.cancelled().await })
                .await
        });
        Self { url, faults, stop }
    }
}

async fn faulty(
    axum::extract::State(proxy): axum::extract::State<Faulty>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use std::sync::atomic::Ordering;
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let post = method == axum::http::Method::POST;
    let submission = post && path.starts_with("/jars/") && path.ends_with("/run");
    let stop = post && path.starts_with("/jobs/") && path.ends_with("/stop");
    let n = if submission || stop {
        proxy.calls.fetch_add(1, Ordering::SeqCst)
    } else {
        0
    };
    if submission {
        tokio::time::sleep(std::time::Duration::from_millis(
            1000 + (n as u64 * 397) % 1000,
        ))
        .await;
        if n % 4 == 3 {
            proxy.faults.fetch_add(1, Ordering::SeqCst);
            return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "overloaded").into_response();
        }
    }
    let Some((status, bytes)) = pass_on(
        &proxy.http,
        &proxy.upstream,
        method,
        &path,
        query.as_deref(),
        &headers,
        body,
    )
    .await
    else {
        return axum::http::StatusCode::BAD_GATEWAY.into_response();
    };
    if (submission && n % 4 == 1) || (stop && n % 3 == 1) {
        proxy.faults.fetch_add(1, Ordering::SeqCst);
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "lost the answer",
        )
            .into_response();
    }
    json_answer(status, bytes)
}
