//! Outbox delivery benchmark, side by side in one run, on SQLite and (when reachable)
//! PostgreSQL:
//!  1. writing N messages into the outbox in one transaction (the cost a notice adds
//!     to the change that causes it), per message;
//!  2. N messages delivered by a running server's outbox worker to a local webhook
//!     receiver that verifies each signature, in messages per second;
//!  3. the same N messages sent straight through the same channel with the same
//!     concurrency, no database: the ratio of 2 to 3 is what the outbox costs.
//!
//!   cargo run --release -p sluice-gateway --example outbox_bench -- [messages] [postgres-url]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use delivery::{Message, Target};
use futures_util::StreamExt;
use gateway::{AppState, Config};
use sqlx::{Connection, Executor};

const SECRET: &str = "bench-webhook-secret";

async fn receiver() -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
                let ts: i64 = header("x-sluice-timestamp").parse().unwrap_or(0);
                let expected = format!("v1={}", delivery::webhook::signature(SECRET, ts, &body));
                if header("x-sluice-signature") != expected {
                    return StatusCode::UNAUTHORIZED;
                }
                seen.fetch_add(1, Ordering::Relaxed);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, count)
}

async fn wait_for(count: &AtomicUsize, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while count.load(Ordering::Relaxed) < n {
        assert!(Instant::now() < deadline, "deliveries did not finish");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn run(label: &str, database_url: Option<String>, n: usize) {
    let dir = std::env::temp_dir().join(format!(
        "sluice-outbox-bench-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut config = Config {
        data_dir: dir.clone(),
        ..Config::default()
    };
    if let Some(url) = database_url {
        config.database.url = url;
    }
    config.outbox.interval_ms = 20;
    let state = AppState::build(config.clone()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    let shutdown = stop.clone();
    tokio::spawn(gateway::serve(state.clone(), listener, async move {
        shutdown.cancelled().await
    }));
    let (url, received) = receiver().await;
    let account =
        gateway::admin::create_account(&state.db, "standard", "Bench", "bench@example.com")
            .await
            .unwrap();
    let channel: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/account/notification-channels"))
        .bearer_auth(&account.token)
        .json(&serde_json::json!({ "kind": "webhook", "name": "bench", "address": url, "secret": SECRET }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let channel_id = channel["id"].as_str().unwrap().to_owned();

    // 1. Enqueue, in one transaction.
    let started = Instant::now();
    let mut tx = state.all_tenants().write().await.unwrap();
    for i in 0..n {
        let subject = format!("bench {i}");
        workers::outbox::enqueue(
            &mut tx,
            &workers::outbox::NewMessage {
                account_id: &account.account_id,
                source_kind: "notice",
                source_id: "bench",
                channel: domain::channels::Channel::Webhook,
                recipient: &channel_id,
                subject: &subject,
                text: "the platform restarts at noon",
                markdown: "the platform restarts at noon",
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let enqueue = started.elapsed();
    // 2. Delivered by the worker (it picks them up within its interval).
    let started = Instant::now();
    wait_for(&received, n).await;
    let through_outbox = started.elapsed();
    stop.cancel();

    // 3. Sent straight through the channel, as many at once as the worker sends.
    let target = Target::Webhook {
        url,
        secret: SECRET.to_owned(),
    };
    let before = received.load(Ordering::Relaxed);
    let started = Instant::now();
    futures_util::stream::iter(0..n)
        .map(|i| {
            let message = Message {
                idempotency_key: format!("direct-{i}"),
                subject: format!("bench {i}"),
                text: "the platform restarts at noon".to_owned(),
                markdown: "the platform restarts at noon".to_owned(),
            };
            let (channels, target) = (&state.channels, &target);
            async move { channels.send(target, &message).await.unwrap() }
        })
        .buffer_unordered(config.outbox.concurrency)
        .collect::<Vec<()>>()
        .await;
    let direct = started.elapsed();
    assert_eq!(received.load(Ordering::Relaxed) - before, n);

    let per_sec = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "{label}: {n} messages, batch {} x {} at once",
        config.outbox.batch_size, config.outbox.concurrency
    );
    println!(
        "  enqueue in one transaction: {:.1} us per message",
        enqueue.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "  through the outbox: {:.0} messages/s; sent directly: {:.0} messages/s; ratio {:.2}",
        per_sec(through_outbox),
        per_sec(direct),
        per_sec(through_outbox) / per_sec(direct)
    );
    println!(
        "  outbox cost per message (lease, load, record): {:.0} us",
        (through_outbox.as_secs_f64() - direct.as_secs_f64()).max(0.0) * 1e6 / n as f64
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let postgres = args
        .next()
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_owned());
    run("SQLite", None, n).await;
    // A database of its own on the PostgreSQL server, if one answers.
    sqlx::any::install_default_drivers();
    let name = format!("sluice_bench_{}", uuid::Uuid::new_v4().simple());
    match sqlx::AnyConnection::connect(&format!("{postgres}/postgres")).await {
        Ok(mut admin) => {
            admin
                .execute(format!("create database {name}").as_str())
                .await
                .unwrap();
            run("PostgreSQL", Some(format!("{postgres}/{name}")), n).await;
            admin
                .execute(format!("drop database {name} with (force)").as_str())
                .await
                .ok();
            admin.close().await.ok();
        }
        Err(e) => println!("PostgreSQL: skipped ({e})"),
    }
}
