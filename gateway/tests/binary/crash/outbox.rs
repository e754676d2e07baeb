//! The outbox killed mid-batch.

use std::time::Duration;

use super::Receiver;
use crate::harness::{free_port, setup, sigkill, wait_until};

#[tokio::test]
async fn the_outbox_killed_mid_batch_delivers_every_message_and_none_twice_after_deduplication() {
    let s = setup("outbox").await;
    let (account, token) = s.create_account();
    let secret = "a-webhook-secret-of-some-length";
    let (receiver, hook_port) = Receiver::start(secret, Duration::from_millis(40)).await;

    // The account's webhook channel, registered through the API.
    let port = free_port();
    let mut server = s.serve(port, &[]).await;
    let created = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{port}/api/v1/account/notification-channels"
        ))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "kind": "webhook", "name": "ops", "address": format!("http://127.0.0.1:{hook_port}/hook"), "secret": secret
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    sigkill(&mut server);

    // 40 notices queued while no server runs: each a webhook message (and an email,
    // which fails for want of an SMTP server and is not counted here).
    const NOTICES: usize = 40;
    for i in 0..NOTICES {
        let out = s
            .sluice()
            .args([
                "admin",
                "announce",
                "--account-id",
                &account,
                "--subject",
                &format!("maintenance {i}"),
                "--body",
                "the platform restarts at noon",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let env = [
        ("SLUICE__OUTBOX__INTERVAL_MS", "100"),
        ("SLUICE__OUTBOX__BATCH_SIZE", "10"),
        ("SLUICE__OUTBOX__CONCURRENCY", "2"),
        // A dead worker's lease runs out quickly, so the test need not wait a minute.
        ("SLUICE__OUTBOX__LEASE_MS", "3000"),
    ];
    let mut server = s.serve(free_port(), &env).await;
    wait_until("some deliveries", Duration::from_secs(30), || async {
        receiver.distinct() >= 8
    })
    .await;
    sigkill(&mut server);
    assert!(
        receiver.distinct() < NOTICES,
        "the kill came mid-run ({} of {NOTICES} delivered)",
        receiver.distinct()
    );

    let mut a = s.serve(free_port(), &env).await;
    let mut b = s.serve(free_port(), &env).await;
    wait_until("every message", Duration::from_secs(60), || async {
        receiver.distinct() >= NOTICES
    })
    .await;
    let pool = s.pool().await;
    wait_until("the outbox to settle", Duration::from_secs(30), || async {
        let (pending,): (i64,) = sqlx::query_as(
            "select count(*) from outbox where channel = 'webhook' and status <> 'sent'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        pending == 0
    })
    .await;
    sigkill(&mut a);
    sigkill(&mut b);

    let keys: Vec<(String,)> =
        sqlx::query_as("select idempotency_key from outbox where channel = 'webhook'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(keys.len(), NOTICES);
    let received = receiver.keys.lock().unwrap().clone();
    for (key,) in &keys {
        assert!(received.contains_key(key), "{key} arrived");
    }
    assert_eq!(
        received.len(),
        NOTICES,
        "nothing arrived that was not queued"
    );
    // Only messages in flight when the worker died may come twice: at most one batch.
    let repeats = receiver.total() - NOTICES;
    assert!(
        repeats <= 10,
        "{repeats} repeats; at most the batch in flight"
    );
    std::fs::remove_dir_all(&s.dir).ok();
}
