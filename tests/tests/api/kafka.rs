//! Kafka as a real source and sink: the local broker takes records and gives them
//! back, and a Flink SQL job deployed through Sluice reads one topic through the
//! platform catalogue's Kafka connector and writes another.

use std::time::Duration;

use sluice_tests::engine::local_engine;
use sluice_tests::kafka::local_kafka;
use sluice_tests::{json, TestApp};

use super::engine::{cancel, on_the_engine, run_stateless};

#[tokio::test]
async fn the_local_broker_takes_records_and_gives_them_back() {
    let Some(kafka) = local_kafka().await else {
        return;
    };
    let topic = kafka.topic("roundtrip").await;
    let sent = [r#"{"n":1}"#, r#"{"n":2}"#, "three"];
    kafka.produce(&topic, &sent).await;
    let read = kafka
        .read(&topic, sent.len(), Duration::from_secs(20))
        .await;
    assert_eq!(read, sent);
}

/// The catalogue served for the engine version is the one on disk, with the hashes of
/// the jars the cluster really carries.
#[tokio::test]
async fn the_engine_versions_connectors_are_the_catalogue_its_clusters_carry() {
    let Some(engine) = local_engine() else { return };
    let catalogue = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.engine/connectors");
    let app = TestApp::spawn_with(|c| {
        engine.configure(c);
        c.engine.connectors_dir = catalogue.clone();
    })
    .await;
    let owner = app.account("Acme").await;
    let served = owner
        .get("/engine-versions/1.0.0/connectors")
        .await
        .expect(200)
        .body;
    assert_eq!(served["flink_version"], "2.3.0");
    let kafka = served["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identifier"] == "kafka")
        .unwrap_or_else(|| panic!("no kafka connector in {served}"));
    assert_eq!(kafka["source"], "catalogue");
    let jar = &kafka["jars"][0];
    let bytes = std::fs::read(catalogue.join("2.3.0").join(jar["file"].as_str().unwrap())).unwrap();
    use sha2::Digest;
    assert_eq!(jar["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    assert!(jar["maven"]
        .as_str()
        .unwrap()
        .starts_with("org.apache.flink:flink-sql-connector-kafka:"));
}

#[tokio::test]
async fn a_sql_job_reads_a_topic_through_the_catalogues_kafka_connector_and_writes_another() {
    let (Some(engine), Some(kafka)) = (local_engine(), local_kafka().await) else {
        return;
    };
    let orders = kafka.topic("orders").await;
    let large = kafka.topic("large-orders").await;
    kafka
        .produce(
            &orders,
            &[
                r#"{"id": 1, "customer": "ann", "amount": 120}"#,
                r#"{"id": 2, "customer": "bob", "amount": 15}"#,
                r#"{"id": 3, "customer": "carol", "amount": 300}"#,
                r#"{"id": 4, "customer": "dave", "amount": 99}"#,
            ],
        )
        .await;

    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let bootstrap = &kafka.bootstrap;
    let sql = format!(
        "CREATE TABLE orders (id BIGINT, customer STRING, amount INT) WITH (
  'connector' = 'kafka', 'topic' = '{orders}',
  'properties.bootstrap.servers' = '{bootstrap}', 'properties.group.id' = 'large-orders',
  'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
CREATE TABLE large_orders (id BIGINT, customer STRING, amount_cents BIGINT) WITH (
  'connector' = 'kafka', 'topic' = '{large}',
  'properties.bootstrap.servers' = '{bootstrap}', 'format' = 'json');
INSERT INTO large_orders
SELECT id, UPPER(customer), CAST(amount AS BIGINT) * 100 FROM orders WHERE amount >= 100;"
    );
    let job = owner.saved_sql_job(&project, "large orders", &sql).await;
    let report = owner
        .post(
            &format!("/projects/{project}/jobs/{job}/validate"),
            json!({}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["engine"]["status"], "planned", "{report}");

    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "large orders", "job_id": job, "parallelism": 1 }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    run_stateless(&owner, &path).await;

    let read = kafka.read(&large, 2, Duration::from_secs(60)).await;
    let rows: Vec<serde_json::Value> = read
        .iter()
        .map(|v| serde_json::from_str(v).unwrap_or_else(|e| panic!("{v}: {e}")))
        .collect();
    assert_eq!(
        rows,
        [
            json!({ "id": 1, "customer": "ANN", "amount_cents": 12000 }),
            json!({ "id": 3, "customer": "CAROL", "amount_cents": 30000 }),
        ]
    );

    // A record produced while it runs flows through too.
    kafka
        .produce(
            &orders,
            &[r#"{"id": 5, "customer": "erin", "amount": 100}"#],
        )
        .await;
    let read = kafka.read(&large, 3, Duration::from_secs(60)).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&read[2]).unwrap(),
        json!({ "id": 5, "customer": "ERIN", "amount_cents": 10000 })
    );

    cancel(&owner, &path).await;
}
