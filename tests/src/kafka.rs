//! The real Kafka broker of the test run. `scripts/test.sh` starts it with
//! `scripts/kafka.sh` and passes its address on in `SLUICE_TEST_KAFKA_BOOTSTRAP`.
//! Kafka tests skip (saying so) only where there is no Java; under `CI=true` a missing
//! broker fails them instead. The client is rskafka, a Kafka client in Rust that
//! speaks the wire protocol itself (no librdkafka to build).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rskafka::client::partition::{Compression, OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::Record;

pub struct LocalKafka {
    pub bootstrap: String,
    /// The listener that needs SASL/PLAIN credentials (`scripts/kafka.sh sasl`).
    pub sasl: Option<SaslListener>,
    client: Client,
}

/// A listener of the broker that takes only this user and password.
pub struct SaslListener {
    pub bootstrap: String,
    pub user: String,
    pub password: String,
}

/// `user:password@host:port`, as `scripts/kafka.sh sasl` prints it.
fn sasl_listener() -> Option<SaslListener> {
    let value = std::env::var("SLUICE_TEST_KAFKA_SASL").ok()?;
    let (credentials, bootstrap) = value.rsplit_once('@')?;
    let (user, password) = credentials.split_once(':')?;
    Some(SaslListener {
        bootstrap: bootstrap.to_owned(),
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

/// The test run's broker, or None (with a note) where the run has none.
pub async fn local_kafka() -> Option<LocalKafka> {
    let Some(bootstrap) = std::env::var("SLUICE_TEST_KAFKA_BOOTSTRAP")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs the Kafka tests: SLUICE_TEST_KAFKA_BOOTSTRAP must be set (scripts/test.sh does)"
        );
        eprintln!(
            "no local Kafka broker for this run (see scripts/test.sh); skipping a Kafka test"
        );
        return None;
    };
    let client = ClientBuilder::new(vec![bootstrap.clone()])
        .build()
        .await
        .unwrap_or_else(|e| panic!("connecting to the broker at {bootstrap}: {e}"));
    Some(LocalKafka {
        bootstrap,
        sasl: sasl_listener(),
        client,
    })
}

impl LocalKafka {
    /// Creates a topic of one partition, named `prefix` plus a unique suffix so tests
    /// and runs never share one; its name.
    pub async fn topic(&self, prefix: &str) -> String {
        let name = format!("{prefix}-{}", uuid::Uuid::now_v7().simple());
        self.client
            .controller_client()
            .expect("controller client")
            .create_topic(&name, 1, 1, 10_000)
            .await
            .unwrap_or_else(|e| panic!("creating topic {name}: {e}"));
        name
    }

    async fn partition(&self, topic: &str) -> PartitionClient {
        self.client
            .partition_client(topic.to_owned(), 0, UnknownTopicHandling::Retry)
            .await
            .unwrap_or_else(|e| panic!("partition 0 of {topic}: {e}"))
    }

    /// Appends one record per value (no key) to the topic.
    pub async fn produce(&self, topic: &str, values: &[&str]) {
        self.produce_at(topic, values, chrono::Utc::now()).await;
    }

    /// Appends one record per value (no key), each with the record timestamp `at` (what
    /// a source's event-time lag is measured from).
    pub async fn produce_at(
        &self,
        topic: &str,
        values: &[&str],
        at: chrono::DateTime<chrono::Utc>,
    ) {
        let records = values
            .iter()
            .map(|v| Record {
                key: None,
                value: Some(v.as_bytes().to_vec()),
                headers: BTreeMap::new(),
                timestamp: at,
            })
            .collect();
        self.partition(topic)
            .await
            .produce(records, Compression::NoCompression)
            .await
            .unwrap_or_else(|e| panic!("producing to {topic}: {e}"));
    }

    /// Reads the topic from its start until it holds at least `count` records or
    /// `within` passes; the values read, in order.
    pub async fn read(&self, topic: &str, count: usize, within: Duration) -> Vec<String> {
        let partition = self.partition(topic).await;
        let deadline = Instant::now() + within;
        let mut values = Vec::new();
        let mut offset = partition
            .get_offset(OffsetAt::Earliest)
            .await
            .unwrap_or_else(|e| panic!("earliest offset of {topic}: {e}"));
        while values.len() < count && Instant::now() < deadline {
            let (records, _high_watermark) = partition
                .fetch_records(offset, 1..1_000_000, 500)
                .await
                .unwrap_or_else(|e| panic!("fetching from {topic}: {e}"));
            for record in records {
                offset = record.offset + 1;
                let value = record.record.value.unwrap_or_default();
                values.push(String::from_utf8_lossy(&value).into_owned());
            }
        }
        values
    }
}
