//! Debug runs of SQL drafts on the real engine and broker: live and sampled sources,
//! results per statement with their changelog, nothing written to the real sinks, and
//! every way a run stops leaving no job of it in the engine.

use std::time::{Duration, Instant};

use serde_json::Value;
use sluice_tests::engine::local_engine;
use sluice_tests::kafka::local_kafka;
use sluice_tests::{json, Client, TestApp};

use super::on_the_engine;

/// Orders from a Kafka topic into another, and a count per customer on the side.
fn draft(bootstrap: &str, orders: &str, big_orders: &str) -> String {
    format!(
        "CREATE TABLE orders (id BIGINT, customer STRING, amount DOUBLE) WITH (
  'connector' = 'kafka', 'topic' = '{orders}', 'properties.bootstrap.servers' = '{bootstrap}',
  'properties.group.id' = 'debug', 'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
CREATE TABLE big_orders (id BIGINT, customer STRING, amount DOUBLE) WITH (
  'connector' = 'kafka', 'topic' = '{big_orders}', 'properties.bootstrap.servers' = '{bootstrap}', 'format' = 'json');
INSERT INTO big_orders SELECT id, customer, amount FROM orders WHERE amount > 10;
SELECT customer, COUNT(*) AS n FROM orders GROUP BY customer;"
    )
}

const ORDERS_CSV: &str = "id,customer,amount\n1,ann,5\n2,bob,20\n3,ann,30\n4,ann,1\n";

/// Reads a run until `done` holds for it and its rows so far (or it ends); the run and
/// every row read, in capture order.
async fn follow(
    owner: &Client,
    path: &str,
    secs: u64,
    done: impl Fn(&Value, &[Value]) -> bool,
) -> (Value, Vec<Value>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut rows: Vec<Value> = Vec::new();
    loop {
        let after = rows.last().map_or(0, |r| r["seq"].as_i64().unwrap());
        let run = owner
            .get(&format!("{path}?after={after}"))
            .await
            .expect(200)
            .body;
        rows.extend(run["rows"].as_array().unwrap().iter().cloned());
        if done(&run, &rows) || run["status"] == "ended" {
            return (run, rows);
        }
        assert!(
            Instant::now() < deadline,
            "the run did not get there in {secs} s: {run}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The rows of one target as (kind, values).
fn of(rows: &[Value], target: &str) -> Vec<(String, Vec<Value>)> {
    rows.iter()
        .filter(|r| r["target"] == target)
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["values"].as_array().unwrap().clone(),
            )
        })
        .collect()
}

/// Waits until the run has ended, then checks the engine has no job of it running.
async fn ended_leaving_no_job(app: &TestApp, owner: &Client, path: &str) -> Value {
    let (run, _) = follow(owner, path, 60, |_, _| false).await;
    assert_eq!(run["status"], "ended", "{run}");
    let id = run["id"].as_str().unwrap();
    let (job,): (String,) = sqlx::query_as("select engine_job_id from debug_runs where id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let client =
        engine_client::EngineClient::new(&app.state.config.engine.default_cluster_url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client.job(&job).await {
            Ok(detail) if detail.state.is_terminal() => break,
            Err(engine_client::EngineError::JobNotFound { .. }) => break,
            other => {
                assert!(
                    Instant::now() < deadline,
                    "the run's engine job still runs: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    run
}

fn start_path(project: &str, job: &str) -> String {
    format!("/projects/{project}/jobs/{job}/debug")
}

fn run_path(project: &str, run: &Value) -> String {
    format!(
        "/projects/{project}/debug-runs/{}",
        run["id"].as_str().unwrap()
    )
}

#[tokio::test]
async fn a_kafka_draft_debugged_live_shows_its_rows_and_writes_nothing_to_its_sink() {
    let Some(engine) = local_engine() else { return };
    let Some(kafka) = local_kafka().await else {
        return;
    };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let (orders, big_orders) = (kafka.topic("orders").await, kafka.topic("big-orders").await);
    kafka
        .produce(
            &orders,
            &[
                r#"{"id":1,"customer":"ann","amount":5}"#,
                r#"{"id":2,"customer":"bob","amount":20}"#,
                r#"{"id":3,"customer":"ann","amount":30}"#,
            ],
        )
        .await;
    let job = owner
        .sql_job(
            &project,
            "orders",
            None,
            &draft(&kafka.bootstrap, &orders, &big_orders),
        )
        .await
        .expect(201)
        .id();
    let run = owner
        .post(
            &start_path(&project, &job),
            json!({ "time_limit_seconds": 60 }),
        )
        .await
        .expect(202)
        .body;
    let path = run_path(&project, &run);
    let (run, rows) = follow(&owner, &path, 60, |_, rows| {
        of(rows, "big_orders").len() >= 2 && of(rows, "statement:4").len() >= 4
    })
    .await;
    let targets: Vec<_> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["target"].clone(), r["statement"].clone()))
        .collect();
    assert_eq!(
        targets,
        [
            (json!("big_orders"), json!(3)),
            (json!("statement:4"), json!(4))
        ],
        "{run}"
    );
    assert_eq!(
        run["results"][1]["columns"],
        json!(["customer", "n"]),
        "a SELECT's columns come from the engine"
    );
    let big: Vec<_> = of(&rows, "big_orders")
        .into_iter()
        .map(|(k, v)| (k, v[0].clone()))
        .collect();
    assert_eq!(
        big,
        [("+I".to_owned(), json!("2")), ("+I".to_owned(), json!("3"))]
    );
    owner
        .post(&format!("{path}/cancel"), json!({}))
        .await
        .expect(202);
    let run = ended_leaving_no_job(&app, &owner, &path).await;
    assert_eq!(run["stop_reason"], "cancelled");
    // The real sink never saw a record.
    assert!(kafka
        .read(&big_orders, 1, Duration::from_secs(3))
        .await
        .is_empty());
}

#[tokio::test]
async fn a_sample_feeds_the_draft_and_updates_come_back_as_pairs() {
    let Some(engine) = local_engine() else { return };
    let Some(kafka) = local_kafka().await else {
        return;
    };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let (orders, big_orders) = (kafka.topic("orders").await, kafka.topic("big-orders").await);
    let sample = owner
        .post(
            &format!("/projects/{project}/debug-samples"),
            json!({ "name": "four orders", "format": "csv", "content": ORDERS_CSV }),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(
        (sample["row_count"].as_i64(), &sample["columns"]),
        (Some(4), &json!(["id", "customer", "amount"]))
    );
    let listed = owner
        .get(&format!("/projects/{project}/debug-samples"))
        .await
        .expect(200)
        .body;
    assert_eq!(listed[0]["name"], "four orders");

    let job = owner
        .sql_job(
            &project,
            "orders",
            None,
            &draft(&kafka.bootstrap, &orders, &big_orders),
        )
        .await
        .expect(201)
        .id();
    // Read as a debug run reads it, the draft's SELECT is no mistake, and its sources
    // are listed (what the console offers samples for).
    let read = owner
        .post(
            &format!("/projects/{project}/jobs/{job}/validate"),
            json!({ "debug": true }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        (read["valid"].as_bool(), &read["sources"][0]["name"]),
        (Some(true), &json!("orders")),
        "{read}"
    );
    let run = owner
        .post(
            &start_path(&project, &job),
            json!({ "sources": { "orders": { "sample_id": sample["id"] } } }),
        )
        .await
        .expect(202)
        .body;
    let path = run_path(&project, &run);
    let (run, rows) = follow(&owner, &path, 60, |_, _| false).await;
    assert_eq!(run["stop_reason"], "input_exhausted", "{run}");

    // What the CSV gives: orders over 10, and the count per customer as it changes.
    let big: Vec<_> = of(&rows, "big_orders")
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        big,
        [
            json!(["2", "bob", "20.0"]).as_array().unwrap().clone(),
            json!(["3", "ann", "30.0"]).as_array().unwrap().clone()
        ]
    );
    let mut counts = of(&rows, "statement:4");
    // The two customers' changes may interleave; each customer's are in order.
    let ann: Vec<_> = counts
        .iter()
        .filter(|(_, v)| v[0] == "ann")
        .map(|(k, v)| format!("{k} {}", v[1].as_str().unwrap()))
        .collect();
    assert_eq!(ann, ["+I 1", "-U 1", "+U 2", "-U 2", "+U 3"]);
    counts.retain(|(_, v)| v[0] == "bob");
    assert_eq!(counts, [("+I".to_owned(), vec![json!("bob"), json!("1")])]);
    assert_eq!(run["records"], 8);
    ended_leaving_no_job(&app, &owner, &path).await;

    owner
        .delete(&format!(
            "/projects/{project}/debug-samples/{}",
            sample["id"].as_str().unwrap()
        ))
        .await
        .expect(204);
}

#[tokio::test]
async fn a_run_stops_at_its_record_limit_its_time_limit_or_a_cancel_and_leaves_no_job() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let endless =
        "CREATE TABLE ticks (n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '200');
CREATE TABLE out_ticks (n BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out_ticks SELECT n FROM ticks;";
    let job = owner
        .sql_job(&project, "endless", None, endless)
        .await
        .expect(201)
        .id();

    let run = owner
        .post(&start_path(&project, &job), json!({ "record_limit": 50 }))
        .await
        .expect(202)
        .body;
    let run = ended_leaving_no_job(&app, &owner, &run_path(&project, &run)).await;
    assert_eq!(
        (run["stop_reason"].as_str(), run["records"].as_i64()),
        (Some("record_limit"), Some(50)),
        "{run}"
    );

    let slow = owner
        .sql_job(&project, "slow", None, &endless.replace("'200'", "'1'"))
        .await
        .expect(201)
        .id();
    let run = owner
        .post(
            &start_path(&project, &slow),
            json!({ "time_limit_seconds": 4 }),
        )
        .await
        .expect(202)
        .body;
    let run = ended_leaving_no_job(&app, &owner, &run_path(&project, &run)).await;
    assert_eq!(run["stop_reason"], "time_limit", "{run}");

    let run = owner
        .post(&start_path(&project, &job), json!({}))
        .await
        .expect(202)
        .body;
    let path = run_path(&project, &run);
    let cancelled = owner
        .post(&format!("{path}/cancel"), json!({}))
        .await
        .expect(202)
        .body;
    assert_eq!(
        (
            cancelled["status"].as_str(),
            cancelled["stop_reason"].as_str()
        ),
        (Some("ended"), Some("cancelled")),
        "{cancelled}"
    );
    ended_leaving_no_job(&app, &owner, &path).await;
}

#[tokio::test]
async fn what_cannot_be_debugged_is_refused_saying_why() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let start = |job: String, body: Value| {
        let owner = &owner;
        let path = start_path(&project, &job);
        async move { owner.post(&path, body).await }
    };

    let ctas = owner
        .sql_job(
            &project,
            "ctas",
            None,
            "CREATE TABLE copy WITH ('connector' = 'blackhole') AS SELECT 1 AS x;",
        )
        .await
        .expect(201)
        .id();
    let refused = start(ctas, json!({})).await.expect(422).body;
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("CTAS"),
        "{refused}"
    );

    let typo = owner
        .sql_job(&project, "typo", None, "CREATE TABLE t (x BIGINT) WITH ('connector' = 'datagen');\nSELECT x FROM t WHERE (x > 1;")
        .await
        .expect(201)
        .id();
    let refused = start(typo.clone(), json!({})).await.expect(422).body;
    assert_eq!(
        (
            refused["errors"][0]["line"].as_u64(),
            refused["errors"][0]["column"].as_u64()
        ),
        (Some(2), Some(23)),
        "{refused}"
    );

    let (jar, _) = owner
        .saved_jar_job(&project, "jar", "com.example.Main")
        .await;
    let refused = start(jar, json!({})).await.expect(422).body;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only SQL drafts"),
        "{refused}"
    );

    // A sample whose columns do not fit the table, named at the first mismatch.
    let sample = owner
        .post(
            &format!("/projects/{project}/debug-samples"),
            json!({ "name": "bad", "format": "jsonl", "content": "{\"x\": 1}\n{\"x\": \"many\"}\n" }),
        )
        .await
        .expect(201)
        .body;
    let good = owner
        .sql_job(
            &project,
            "good",
            None,
            "CREATE TABLE t (x BIGINT) WITH ('connector' = 'datagen');\nSELECT x FROM t;",
        )
        .await
        .expect(201)
        .id();
    let refused = start(
        good.clone(),
        json!({ "sources": { "t": { "sample_id": sample["id"] } } }),
    )
    .await
    .expect(422)
    .body;
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("row 2, column `x`") && message.contains("BIGINT"),
        "{refused}"
    );
    owner
        .post(
            &format!("/projects/{project}/debug-samples"),
            json!({ "name": "wide", "format": "csv", "content": "a,b\n1\n" }),
        )
        .await
        .expect(422);
    let big = format!("x\n{}", "1\n".repeat(600_000));
    owner
        .post(
            &format!("/projects/{project}/debug-samples"),
            json!({ "name": "big", "format": "csv", "content": big }),
        )
        .await
        .expect(413);

    // Only a session cluster takes debug runs.
    let own = owner.own_cluster("own", &engine.rest_url).await;
    let refused = start(good.clone(), json!({ "cluster_id": own }))
        .await
        .expect(422)
        .body;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a session cluster"),
        "{refused}"
    );
    owner
        .patch(
            &format!("/clusters/{own}"),
            json!({ "debug_sessions": true }),
        )
        .await
        .expect(200);

    // One run at a time per project (the plan's concurrent_debug_runs).
    let first = start(good.clone(), json!({ "cluster_id": own }))
        .await
        .expect(202)
        .body;
    let second = start(good.clone(), json!({})).await.expect(409).body;
    assert_eq!(
        second["error"]["field"], "concurrent_debug_runs",
        "{second}"
    );
    let path = run_path(&project, &first);
    owner
        .post(&format!("{path}/cancel"), json!({}))
        .await
        .expect(202);
    ended_leaving_no_job(&app, &owner, &path).await;
}
