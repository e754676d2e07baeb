//! Real pipelines: a tenant's UDF JARs, built with `javac` against the engine's API,
//! registered and called by name or through `USING JAR 'artifact://...'`, reach the
//! engine; a job reads its data store's credentials from a connection; nothing of the
//! secret comes back.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use sluice_tests::engine::local_engine;
use sluice_tests::java::compiled_jar;
use sluice_tests::kafka::local_kafka;
use sluice_tests::{json, TestApp};
use sqlx::{Column, Row};

use super::engine::{cancel, on_the_engine, wait_until};

/// The Kafka options of a table on the broker's SASL listener, every credential a
/// reference to the connection `payments kafka`. The catalogue's Kafka connector for
/// Flink 2.3 is the fat SQL jar, whose Kafka client is shaded: its login module is
/// named under `org.apache.flink.kafka.shaded`.
const SASL_OPTIONS: &str = "'properties.bootstrap.servers' = '${connections.payments kafka.bootstrap.servers}',
  'properties.security.protocol' = 'SASL_PLAINTEXT', 'properties.sasl.mechanism' = 'PLAIN',
  'properties.sasl.jaas.config' = 'org.apache.flink.kafka.shaded.org.apache.kafka.common.security.plain.PlainLoginModule required username=\"${connections.payments kafka.username}\" password=\"${connections.payments kafka.password}\";'";

fn payments(ids: std::ops::RangeInclusive<u32>) -> Vec<String> {
    ids.map(|i| {
        format!(
            r#"{{"id": {i}, "email": "user{i}@example.com", "amount_cents": {}}}"#,
            i * 100
        )
    })
    .collect()
}

/// Every text column of every table, for a search of the whole database.
async fn every_text_in_the_database(app: &TestApp) -> Vec<String> {
    let db = &app.state.db;
    let tables: Vec<String> = match db.backend {
        store::db::Backend::Sqlite => sqlx::query_scalar(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'",
        ),
        store::db::Backend::Postgres => sqlx::query_scalar(
            "select tablename::text from pg_tables where schemaname = current_schema()",
        ),
    }
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut texts = Vec::new();
    // The migrations' own bookkeeping holds no data of Sluice's (and types the Any
    // driver cannot read).
    for table in tables.into_iter().filter(|t| !t.starts_with("_sqlx")) {
        let rows = sqlx::query(&format!("select * from {table}"))
            .fetch_all(&db.pool)
            .await
            .unwrap();
        for row in rows {
            for column in row.columns() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(column.ordinal()) {
                    texts.push(format!("{table}.{}: {text}", column.name()));
                }
            }
        }
    }
    texts
}

/// What the servers of this test binary log, from the first call on: one buffer for
/// the whole process (a per-thread subscriber misses what other threads log).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn captured_logs() -> &'static Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_env_filter("info,gateway=debug,domain=debug,workers=debug,store=debug")
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other test of this binary installs a subscriber");
        logs
    })
}

#[tokio::test]
async fn a_kafka_job_with_registered_and_per_job_udfs_reads_credentials_from_a_connection_and_resumes_without_loss(
) {
    let (Some(engine), Some(kafka)) = (local_engine(), local_kafka().await) else {
        return;
    };
    let Some(sasl) = &kafka.sasl else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI runs the broker with its SASL listener: SLUICE_TEST_KAFKA_SASL must be set (scripts/test.sh does)"
        );
        eprintln!("the broker of this run has no SASL listener (restart it with scripts/kafka.sh); skipping");
        return;
    };
    let logs = captured_logs();
    let input = kafka.topic("payments").await;
    let output = kafka.topic("masked-payments").await;
    let first: Vec<String> = payments(1..=5);
    kafka
        .produce(
            &input,
            &first.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await;

    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner.own_cluster("own", &engine.rest_url).await;
    let mut answers: Vec<String> = Vec::new();

    // The UDF artifacts: one registered (its functions callable by name), one used
    // through USING JAR only.
    let udfs = owner
        .upload(&project, "acme-udfs.jar", compiled_jar("acme-udfs"))
        .await
        .expect(201)
        .id();
    owner
        .upload(&project, "acme-tax.jar", compiled_jar("acme-tax"))
        .await
        .expect(201);
    let registered = owner
        .put(
            &format!("/projects/{project}/artifacts/{udfs}/functions"),
            json!({}),
        )
        .await
        .expect(200)
        .body;
    let found: Vec<(String, String, String)> = registered["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["class_name"].as_str().unwrap().to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("long_sum", "com.acme.udf.LongSum", "aggregate"),
        ("mask_email", "com.acme.udf.MaskEmail", "scalar"),
        ("shout", "com.acme.udf.Shout", "scalar"),
        ("split_words", "com.acme.udf.SplitWords", "table"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(
        found, expected,
        "the abstract Shouting and the helper Texts are no functions"
    );

    // The data store: its address and user as properties, the password sealed.
    owner
        .post(
            &format!("/projects/{project}/connections"),
            json!({
                "name": "payments kafka", "kind": "kafka",
                "properties": { "bootstrap.servers": sasl.bootstrap, "username": sasl.user },
                "secret_properties": { "password": sasl.password },
            }),
        )
        .await
        .expect(201);

    let sql = format!(
        "CREATE TABLE payments (id BIGINT, email STRING, amount_cents BIGINT) WITH (
  'connector' = 'kafka', 'topic' = '{input}', 'properties.group.id' = 'masker',
  'scan.startup.mode' = 'earliest-offset', 'format' = 'json',
  {SASL_OPTIONS});
CREATE TABLE masked (id BIGINT, email STRING, loud STRING, with_tax BIGINT) WITH (
  'connector' = 'kafka', 'topic' = '{output}', 'format' = 'json',
  {SASL_OPTIONS});
CREATE TEMPORARY FUNCTION add_tax AS 'com.acme.tax.AddTax' USING JAR 'artifact://acme-tax.jar';
INSERT INTO masked
SELECT id, mask_email(email), shout(email), add_tax(amount_cents) FROM payments;"
    );
    let job = owner.saved_sql_job(&project, "mask payments", &sql).await;
    let report = owner
        .post(
            &format!("/projects/{project}/jobs/{job}/validate"),
            json!({ "cluster_id": cluster }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["engine"]["status"], "planned", "{report}");
    answers.push(report.to_string());

    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "mask payments", "job_id": job, "cluster_id": cluster, "parallelism": 1 }),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect(202);
    wait_until(&owner, &path, 120, "RUNNING", |b| b["status"] == "RUNNING").await;

    let expect = |i: u32| {
        json!({
            "id": i,
            "email": format!("u***@example.com"),
            "loud": format!("USER{i}@EXAMPLE.COM!"),
            "with_tax": i * 100 + i * 20,
        })
    };
    let read = kafka.read(&output, 5, Duration::from_secs(90)).await;
    let rows: Vec<Value> = read
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
    assert_eq!(rows, (1..=5).map(expect).collect::<Vec<_>>());

    // Stopped with a savepoint, more input meanwhile, resumed: every record once.
    owner
        .post(&format!("{path}/stop"), json!({ "mode": "SUSPEND" }))
        .await
        .expect(202);
    wait_until(&owner, &path, 90, "SUSPENDED", |b| {
        b["status"] == "SUSPENDED"
    })
    .await;
    let second = payments(6..=10);
    kafka
        .produce(
            &input,
            &second.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await;
    owner
        .post(
            &format!("{path}/start"),
            json!({ "restore_mode": "LATEST_SAVEPOINT" }),
        )
        .await
        .expect(202);
    wait_until(&owner, &path, 120, "RUNNING again", |b| {
        b["status"] == "RUNNING"
    })
    .await;
    let read = kafka.read(&output, 10, Duration::from_secs(90)).await;
    // A little longer: a doubled record would come now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let read = if read.len() >= 10 {
        kafka.read(&output, 11, Duration::from_secs(2)).await
    } else {
        read
    };
    let mut per_key: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for r in &read {
        let row: Value = serde_json::from_str(r).unwrap();
        per_key
            .entry(row["id"].as_u64().unwrap())
            .or_default()
            .push(row);
    }
    assert_eq!(per_key.len(), 10, "every key once: {read:?}");
    for (id, rows) in &per_key {
        assert_eq!(rows, &vec![expect(*id as u32)], "key {id}");
    }

    // Nothing shown, recorded or logged holds the password.
    for sub in ["", "/events", "/savepoints", "/exceptions"] {
        answers.push(owner.get(&format!("{path}{sub}")).await.body.to_string());
    }
    answers.push(
        owner
            .get(&format!("/projects/{project}/connections"))
            .await
            .body
            .to_string(),
    );
    answers.push(
        owner
            .get(&format!("/projects/{project}/jobs/{job}"))
            .await
            .body
            .to_string(),
    );
    answers.push(
        owner
            .get(&format!("/projects/{project}/jobs/{job}/versions"))
            .await
            .body
            .to_string(),
    );
    cancel(&owner, &path).await;
    // The deployment still runs the artifacts: they cannot go.
    let tax = owner
        .list_all(&format!("/projects/{project}/artifacts"), 10)
        .await;
    let tax = tax.iter().find(|a| a["name"] == "acme-tax.jar").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let in_use = owner
        .delete(&format!("/projects/{project}/artifacts/{tax}"))
        .await
        .expect_error(409, "in_use", None);
    assert!(
        in_use.message().contains("mask payments"),
        "{}",
        in_use.body
    );
    owner
        .delete(&format!("/projects/{project}/artifacts/{udfs}/functions"))
        .await
        .expect_error(409, "in_use", None);
    answers.push(owner.get("/audit").await.body.to_string());
    let secret = sasl.password.as_str();
    for answer in &answers {
        assert!(
            !answer.contains(secret),
            "an API answer holds the secret: {answer}"
        );
    }
    let rows = every_text_in_the_database(&app).await;
    assert!(
        rows.iter().any(|r| r.starts_with("connections.")),
        "the search reads the tables"
    );
    for row in &rows {
        assert!(
            !row.contains(secret),
            "a database row holds the secret: {row}"
        );
    }
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logged.contains("SQL runner"),
        "the servers' log was captured"
    );
    assert!(!logged.contains(secret), "the log holds the secret");
}

/// A reference that does not resolve is an error at its line and column, and the engine
/// is not asked.
#[tokio::test]
async fn references_that_do_not_resolve_are_errors_at_their_place() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    owner
        .post(
            &format!("/projects/{project}/connections"),
            json!({ "name": "store", "kind": "kafka", "properties": { "bootstrap.servers": "x:9092" }, "secret_properties": { "password": "pw-4f1e" } }),
        )
        .await
        .expect(201);
    let sql = "CREATE TABLE t (a STRING) WITH ('connector' = 'kafka',
  'properties.bootstrap.servers' = '${connections.nowhere.bootstrap.servers}',
  'properties.sasl.jaas.config' = '${connections.store.passwd}');
CREATE TEMPORARY FUNCTION f AS 'com.acme.F' USING JAR 'artifact://missing.jar';
INSERT INTO t SELECT f(a) FROM t;";
    let job = owner.saved_sql_job(&project, "broken", sql).await;
    let report = owner
        .post(
            &format!("/projects/{project}/jobs/{job}/validate"),
            json!({}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["valid"], false);
    assert_eq!(report["engine"]["status"], "skipped");
    let errors: Vec<(u64, u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["column"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 3, "{report}");
    assert_eq!((errors[0].0, errors[0].1), (2, 37));
    assert!(
        errors[0].2.contains("no connection by that name") && errors[0].2.contains("store"),
        "{}",
        errors[0].2
    );
    assert_eq!((errors[1].0, errors[1].1), (3, 36));
    assert!(
        errors[1].2.contains("has no property `passwd`") && errors[1].2.contains("password"),
        "{}",
        errors[1].2
    );
    assert_eq!((errors[2].0, errors[2].1), (4, 55));
    assert!(
        errors[2].2.contains("no artifact named `missing.jar`"),
        "{}",
        errors[2].2
    );
    assert!(!report.to_string().contains("pw-4f1e"));
}

/// Registering reads the JAR; what it cannot take is refused and changes nothing.
#[tokio::test]
async fn udf_artifacts_register_their_functions_and_refuse_what_they_cannot_take() {
    if std::process::Command::new("javac")
        .arg("-version")
        .output()
        .is_err()
    {
        return;
    }
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let other = owner.project("q").await;
    let jar = compiled_jar("acme-udfs");
    let udfs = owner
        .upload(&project, "acme-udfs.jar", jar.clone())
        .await
        .expect(201)
        .id();
    let functions = format!("/projects/{project}/artifacts/{udfs}/functions");
    assert_eq!(
        owner.get(&functions).await.expect(200).body["functions"],
        json!([])
    );
    let first = owner.put(&functions, json!({})).await.expect(200).body;
    assert_eq!(first["functions"].as_array().unwrap().len(), 4);
    // Registering again reads the JAR again: the same functions.
    let again = owner.put(&functions, json!({})).await.expect(200).body;
    assert_eq!(again["functions"].as_array().unwrap().len(), 4);
    let listed = owner
        .get(&format!("/projects/{project}/functions"))
        .await
        .expect(200)
        .body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 4);

    // The same classes under another name clash with the first.
    let copy = owner
        .upload(&project, "copy.jar", jar)
        .await
        .expect(201)
        .id();
    let clash = owner
        .put(
            &format!("/projects/{project}/artifacts/{copy}/functions"),
            json!({}),
        )
        .await
        .expect_error(409, "already_exists", Some("artifact_id"));
    let message = clash.message();
    assert!(
        message.contains("mask_email") && message.contains("acme-udfs.jar"),
        "{}",
        clash.body
    );
    assert_eq!(
        owner
            .get(&format!("/projects/{project}/artifacts/{copy}/functions"))
            .await
            .body["functions"],
        json!([])
    );

    // No function class; not a JAR; another project's artifact.
    let plain = owner
        .upload(&project, "tax.jar", compiled_jar("acme-tax"))
        .await
        .expect(201)
        .id();
    owner
        .put(
            &format!("/projects/{project}/artifacts/{plain}/functions"),
            json!({}),
        )
        .await
        .expect(200);
    let script = owner
        .upload(&project, "job.py", b"print(1)\n".to_vec())
        .await
        .expect(201)
        .id();
    owner
        .put(
            &format!("/projects/{project}/artifacts/{script}/functions"),
            json!({}),
        )
        .await
        .expect_error(422, "invalid_field", Some("artifact_id"));
    let empty = owner
        .upload(&project, "empty.jar", sluice_tests::tiny_jar())
        .await
        .expect(201)
        .id();
    let refused = owner
        .put(
            &format!("/projects/{project}/artifacts/{empty}/functions"),
            json!({}),
        )
        .await
        .expect_error(422, "invalid_field", Some("artifact_id"));
    assert!(
        refused.body.to_string().contains("holds no function class"),
        "{}",
        refused.body
    );
    owner
        .put(
            &format!("/projects/{other}/artifacts/{udfs}/functions"),
            json!({}),
        )
        .await
        .expect_error(404, "not_found", None);

    // Unregistered: the names are free again.
    owner.delete(&functions).await.expect(204);
    owner
        .put(
            &format!("/projects/{project}/artifacts/{copy}/functions"),
            json!({}),
        )
        .await
        .expect(200);
}

/// The platform's shared cluster runs no custom code: a SQL job calling a registered
/// function (or with a dependency) deploys only to the account's own cluster.
#[tokio::test]
async fn the_platform_cluster_refuses_sql_jobs_that_bring_custom_code() {
    if std::process::Command::new("javac")
        .arg("-version")
        .output()
        .is_err()
    {
        return;
    }
    // A platform cluster nothing answers at: the rule is checked before any engine call.
    let app =
        TestApp::spawn_with(|c| c.engine.default_cluster_url = "http://127.0.0.1:9".into()).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let udfs = owner
        .upload(&project, "acme-udfs.jar", compiled_jar("acme-udfs"))
        .await
        .expect(201)
        .id();
    owner
        .put(
            &format!("/projects/{project}/artifacts/{udfs}/functions"),
            json!({}),
        )
        .await
        .expect(200);
    let clusters = owner.get("/clusters").await.expect(200).body;
    let platform = clusters
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["platform"] == true);
    let platform = platform.expect("the platform's cluster")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let calls = owner
        .saved_sql_job(
            &project,
            "calls",
            "CREATE TABLE s (a STRING) WITH ('connector' = 'datagen');
CREATE TABLE k (a STRING) WITH ('connector' = 'blackhole');
INSERT INTO k SELECT MASK_EMAIL(a) FROM s;",
        )
        .await;
    let refused = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "calls", "job_id": calls, "cluster_id": platform }),
        )
        .await
        .expect_error(422, "invalid_field", Some("cluster_id"));
    assert!(
        refused.message().contains("custom code"),
        "{}",
        refused.body
    );
    let plain = owner
        .saved_sql_job(
            &project,
            "plain",
            "CREATE TABLE s (a STRING) WITH ('connector' = 'datagen');
CREATE TABLE k (a STRING) WITH ('connector' = 'blackhole');
INSERT INTO k SELECT UPPER(a) FROM s;",
        )
        .await;
    owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "plain", "job_id": plain, "cluster_id": platform }),
        )
        .await
        .expect(201);
    owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "with a library", "job_id": plain, "cluster_id": platform, "dependencies": [udfs] }),
        )
        .await
        .expect_error(422, "invalid_field", Some("cluster_id"));
    owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "with nothing", "job_id": plain, "cluster_id": platform, "dependencies": ["nope"] }),
        )
        .await
        .expect_error(422, "invalid_field", Some("dependencies[0]"));
}

/// What a running job reports back (the cause of its restarts, its exception history)
/// shows a secret it was given as the reference it came from.
#[tokio::test]
async fn a_secret_quoted_by_a_failing_job_comes_back_as_its_reference() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner.own_cluster("own", &engine.rest_url).await;
    owner
        .upload(&project, "acme-tax.jar", compiled_jar("acme-tax"))
        .await
        .expect(201);
    let secret = format!("pw-{}", uuid::Uuid::new_v4().simple());
    owner
        .post(
            &format!("/projects/{project}/connections"),
            json!({ "name": "store", "kind": "jdbc", "properties": {}, "secret_properties": { "password": secret } }),
        )
        .await
        .expect(201);
    // The function throws with its argument: the secret, joined to each generated value
    // so the planner cannot fold the call away before the job runs.
    let job = owner
        .saved_sql_job(
            &project,
            "leaky",
            "CREATE TABLE s (a STRING) WITH ('connector' = 'datagen', 'rows-per-second' = '1');
CREATE TABLE k (a STRING) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION refuse AS 'com.acme.tax.Refuse' USING JAR 'artifact://acme-tax.jar';
INSERT INTO k SELECT refuse(CONCAT(a, ' ${connections.store.password}')) FROM s;",
        )
        .await;
    let d = owner.deployment(&project, "leaky", &job, &cluster, 1).await;
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect(202);
    let seen = wait_until(&owner, &path, 90, "an engine restart", |b| {
        b["engine_restarts"].as_i64().unwrap_or(0) >= 1
    })
    .await;
    let failure = seen["last_engine_failure"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        failure.contains("cannot take") && failure.contains("${connections.store.password}"),
        "the cause, with the reference in place of the value: {failure}"
    );
    let exceptions = owner
        .get(&format!("{path}/exceptions"))
        .await
        .expect(200)
        .body;
    assert!(
        exceptions
            .to_string()
            .contains("${connections.store.password}"),
        "{exceptions}"
    );
    // The engine's own words first, not the wrapper it threw them in.
    let root = exceptions[0]["root_cause"].as_str().unwrap_or_default();
    assert!(
        root.contains("cannot take") && !root.starts_with("java."),
        "{exceptions}"
    );
    let events = owner.get(&format!("{path}/events")).await.expect(200).body;
    cancel(&owner, &path).await;
    for shown in [seen.to_string(), exceptions.to_string(), events.to_string()] {
        assert!(!shown.contains(&secret), "the secret came back: {shown}");
    }
}

/// The same UDFs, registered and per job, validate and run on Flink 1.20.
#[tokio::test]
async fn udfs_validate_and_run_on_flink_1_20() {
    let Some(engine) = local_engine() else { return };
    let Some(url_1_20) = sluice_tests::engine::flink_1_20_url() else {
        return;
    };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner.flink_1_20_cluster(&url_1_20).await;
    let udfs = owner
        .upload(&project, "acme-udfs.jar", compiled_jar("acme-udfs"))
        .await
        .expect(201)
        .id();
    owner
        .upload(&project, "acme-tax.jar", compiled_jar("acme-tax"))
        .await
        .expect(201);
    owner
        .put(
            &format!("/projects/{project}/artifacts/{udfs}/functions"),
            json!({}),
        )
        .await
        .expect(200);
    let job = owner
        .saved_sql_job(
            &project,
            "udfs",
            "CREATE TABLE s (email STRING, cents BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '2');
CREATE TABLE k (email STRING, loud STRING, with_tax BIGINT) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION add_tax AS 'com.acme.tax.AddTax' USING JAR 'artifact://acme-tax.jar';
INSERT INTO k SELECT mask_email(email), shout(email), add_tax(cents) FROM s;",
        )
        .await;
    let report = owner
        .post(
            &format!("/projects/{project}/jobs/{job}/validate"),
            json!({ "cluster_id": cluster }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["valid"], true, "{report}");
    let d = owner.deployment(&project, "udfs", &job, &cluster, 1).await;
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect(202);
    let running = wait_until(&owner, &path, 90, "RUNNING on 1.20", |b| {
        b["status"] == "RUNNING" || b["engine_restarts"].as_i64().unwrap_or(0) > 0
    })
    .await;
    // Running, and not restarting because a TaskManager could not load a class.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = owner.get(&path).await.expect(200).body;
    cancel(&owner, &path).await;
    assert_eq!(running["status"], "RUNNING", "{running}");
    assert_eq!(after["engine_restarts"], 0, "{after}");
}

/// A tenant's own connector: its JAR added by the script (`ADD JAR 'artifact://...'`)
/// or as a deployment's dependency makes `'connector' = 'acme-discard'` plan and run;
/// without it the engine's refusal is marked at the option, with what it offers.
#[tokio::test]
async fn a_custom_connector_from_an_artifact_plans_and_runs() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner.own_cluster("own", &engine.rest_url).await;
    let connector = owner
        .upload(
            &project,
            "acme-connector.jar",
            compiled_jar("acme-connector"),
        )
        .await
        .expect(201)
        .id();
    let tables =
        "CREATE TABLE s (a STRING) WITH ('connector' = 'datagen', 'rows-per-second' = '2');
CREATE TABLE k (a STRING) WITH ('connector' = 'acme-discard');
INSERT INTO k SELECT a FROM s;";
    let validate = |job: String| {
        let owner = &owner;
        let project = &project;
        let cluster = &cluster;
        async move {
            owner
                .post(
                    &format!("/projects/{project}/jobs/{job}/validate"),
                    json!({ "cluster_id": cluster }),
                )
                .await
                .expect(200)
                .body
        }
    };

    // Without its JAR, the engine does not know it.
    let bare = owner.saved_sql_job(&project, "bare", tables).await;
    let report = validate(bare.clone()).await;
    assert_eq!(report["valid"], false, "{report}");
    assert_eq!(report["errors"][0]["line"], 2, "{report}");
    assert_eq!(report["errors"][0]["column"], 47, "{report}");
    let message = report["errors"][0]["message"].as_str().unwrap();
    let hint = report["errors"][0]["hint"].as_str().unwrap();
    assert!(message.contains("acme-discard"), "{message}");
    assert!(
        hint.contains("blackhole") && hint.contains("its JAR"),
        "{hint}"
    );

    // Added by the script: plans, runs.
    let added = owner
        .saved_sql_job(
            &project,
            "added",
            &format!("ADD JAR 'artifact://acme-connector.jar';\n{tables}"),
        )
        .await;
    let report = validate(added.clone()).await;
    assert_eq!(report["valid"], true, "{report}");
    let d = owner
        .deployment(&project, "added", &added, &cluster, 1)
        .await;
    let path = format!("/projects/{project}/deployments/{d}");
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect(202);
    wait_until(&owner, &path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    cancel(&owner, &path).await;

    // As the deployment's dependency: the same job that did not plan alone runs.
    let d = owner
        .post(
            &format!("/projects/{project}/deployments"),
            json!({ "name": "with dependency", "job_id": bare, "cluster_id": cluster, "dependencies": [connector] }),
        )
        .await
        .expect(201);
    assert_eq!(d.body["dependencies"], json!([connector]));
    let path = format!("/projects/{project}/deployments/{}", d.id());
    owner
        .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
        .await
        .expect(202);
    wait_until(&owner, &path, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    cancel(&owner, &path).await;
}

/// New content for an artifact keeps its name and references; a UDF artifact's
/// functions are read again from it, and content that cannot be one changes nothing.
#[tokio::test]
async fn new_content_for_a_udf_artifact_reads_its_functions_again() {
    if std::process::Command::new("javac")
        .arg("-version")
        .output()
        .is_err()
    {
        return;
    }
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let tax = compiled_jar("acme-tax");
    let artifact = owner
        .upload(&project, "udfs.jar", tax.clone())
        .await
        .expect(201)
        .id();
    let functions = format!("/projects/{project}/artifacts/{artifact}/functions");
    let names = |body: &Value| -> Vec<String> {
        body["functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = owner.put(&functions, json!({})).await.expect(200).body;
    assert_eq!(names(&first), ["add_tax", "refuse"]);

    let udfs = compiled_jar("acme-udfs");
    let replaced = owner
        .replace_content(&project, &artifact, "acme-udfs-2.jar", udfs.clone())
        .await
        .expect(200)
        .body;
    assert_eq!(
        replaced["name"], "udfs.jar",
        "the name (what scripts reference) stays"
    );
    assert_eq!(replaced["size_bytes"], udfs.len());
    let now = owner.get(&functions).await.expect(200).body;
    assert_eq!(
        names(&now),
        ["long_sum", "mask_email", "shout", "split_words"]
    );

    // Content with no function, or of another kind: refused, nothing changes.
    owner
        .replace_content(&project, &artifact, "empty.jar", sluice_tests::tiny_jar())
        .await
        .expect_error(422, "invalid_field", Some("artifact_id"));
    owner
        .replace_content(&project, &artifact, "job.py", b"print(1)\n".to_vec())
        .await
        .expect_error(422, "invalid_field", Some("file.filename"));
    assert_eq!(
        names(&owner.get(&functions).await.expect(200).body),
        names(&now)
    );
    let stored = owner
        .request(
            reqwest::Method::GET,
            &format!("/projects/{project}/artifacts/{artifact}/content"),
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(stored.as_ref(), udfs.as_slice());
}

/// A JAR job's dependencies reach its TaskManagers: a job whose tasks call a library
/// class runs with the library as a dependency, and without it the engine keeps
/// restarting it for the missing class.
#[tokio::test]
async fn a_jar_jobs_dependencies_reach_its_tasks() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner.own_cluster("own", &engine.rest_url).await;
    let job_jar = owner
        .upload(&project, "needs-library.jar", compiled_jar("needs-library"))
        .await
        .expect(201)
        .id();
    let library = owner
        .upload(&project, "greeting-lib.jar", compiled_jar("greeting-lib"))
        .await
        .expect(201)
        .id();
    let job = owner
        .post(
            &format!("/projects/{project}/jobs"),
            json!({ "name": "greeter", "content": { "kind": "jar", "artifact_id": job_jar, "entry_class": "com.acme.jobs.NeedsLibrary", "args": [] } }),
        )
        .await
        .expect(201)
        .id();
    owner
        .post(
            &format!("/projects/{project}/jobs/{job}/versions"),
            json!({ "message": "v1" }),
        )
        .await
        .expect(201);

    let run = |name: &'static str, dependencies: Vec<String>| {
        let (owner, project, job, cluster) = (&owner, &project, &job, &cluster);
        async move {
            let d = owner
                .post(
                    &format!("/projects/{project}/deployments"),
                    json!({ "name": name, "job_id": job, "cluster_id": cluster, "dependencies": dependencies }),
                )
                .await
                .expect(201)
                .id();
            let path = format!("/projects/{project}/deployments/{d}");
            owner
                .post(&format!("{path}/start"), json!({ "restore_mode": "NONE" }))
                .await
                .expect(202);
            path
        }
    };
    let with = run("with the library", vec![library.clone()]).await;
    wait_until(&owner, &with, 90, "RUNNING", |b| b["status"] == "RUNNING").await;
    let without = run("without it", Vec::new()).await;
    let failing = wait_until(
        &owner,
        &without,
        90,
        "a restart for the missing class",
        |b| b["engine_restarts"].as_i64().unwrap_or(0) > 0,
    )
    .await;
    // By now the job with the library has run as long: no restart.
    let running = owner.get(&with).await.expect(200).body;
    cancel(&owner, &with).await;
    cancel(&owner, &without).await;
    assert!(
        failing["last_engine_failure"]
            .as_str()
            .unwrap_or_default()
            .contains("com.acme.lib.Greeting"),
        "{failing}"
    );
    assert_eq!(running["status"], "RUNNING", "{running}");
    assert_eq!(running["engine_restarts"], 0, "{running}");
}

/// A function class that is not in the JAR named for it is refused at validation, at
/// the statement that creates it.
#[tokio::test]
async fn a_function_class_missing_from_its_jar_is_refused_at_its_statement() {
    let Some(engine) = local_engine() else { return };
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let cluster = owner.own_cluster("own", &engine.rest_url).await;
    owner
        .upload(&project, "acme-tax.jar", compiled_jar("acme-tax"))
        .await
        .expect(201);
    let job = owner
        .saved_sql_job(
            &project,
            "missing class",
            "CREATE TABLE s (x BIGINT) WITH ('connector' = 'datagen');
CREATE TABLE k (x BIGINT) WITH ('connector' = 'blackhole');
CREATE TEMPORARY FUNCTION add_vat AS 'com.acme.tax.AddVat' USING JAR 'artifact://acme-tax.jar';
INSERT INTO k SELECT add_vat(x) FROM s;",
        )
        .await;
    let report = owner
        .post(
            &format!("/projects/{project}/jobs/{job}/validate"),
            json!({ "cluster_id": cluster }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(report["valid"], false, "{report}");
    let error = &report["errors"][0];
    assert_eq!(error["statement"], 3, "{report}");
    assert_eq!(error["line"], 3, "{report}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("com.acme.tax.AddVat"), "{message}");
    assert!(
        !message.contains("flink-web-upload"),
        "no JobManager path: {message}"
    );
}
