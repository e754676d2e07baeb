//! The README's examples are what a new user types first: every Flink SQL script in it
//! (the ```sql blocks and the scripts inside the API walkthrough's JSON) validates and
//! runs on the real engine as written. Only the Kafka address and topic names are the
//! test run's own.

use std::time::Duration;

use sluice_tests::engine::local_engine;
use sluice_tests::json;
use sluice_tests::kafka::local_kafka;

use super::engine::{cancel, on_the_engine, run_stateless};

/// Every SQL script in the README: fenced ```sql blocks, and each `"sql": "..."` JSON
/// string inside the shell examples.
fn readme_scripts() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let mut scripts = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let fence = line.trim_start();
        if fence.starts_with("```") {
            let language = fence.trim_start_matches('`').trim().to_owned();
            let block: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.trim_start().starts_with("```"))
                .collect();
            let block = block.join("\n");
            match language.as_str() {
                "sql" => scripts.push(block),
                "sh" => scripts.extend(json_sql_strings(&block)),
                _ => {}
            }
        }
    }
    scripts
}

/// The values of `"sql": "..."` in a text, decoded as JSON strings.
fn json_sql_strings(text: &str) -> Vec<String> {
    text.match_indices("\"sql\": \"")
        .map(|(at, key)| {
            let rest = &text[at + key.len() - 1..];
            // Up to the closing quote that is not escaped.
            let mut end = 1;
            let bytes = rest.as_bytes();
            while bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            serde_json::from_str::<String>(&rest[..=end]).expect("a JSON string")
        })
        .collect()
}

#[tokio::test]
async fn every_sql_script_in_the_readme_validates_and_runs_as_written() {
    let (Some(engine), Some(kafka)) = (local_engine(), local_kafka().await) else {
        return;
    };
    let scripts = readme_scripts();
    assert!(scripts.len() >= 3, "the README's scripts: {scripts:?}");
    let app = on_the_engine(&engine).await;
    let owner = app.account("Acme").await;
    let project = owner.project("readme").await;
    for (n, script) in scripts.iter().enumerate() {
        let mut sql = script.replace("127.0.0.1:9092", &kafka.bootstrap);
        for topic in ["orders", "large-orders"] {
            let quoted = format!("'topic' = '{topic}'");
            if sql.contains(&quoted) {
                let own = kafka.topic(topic).await;
                sql = sql.replace(&quoted, &format!("'topic' = '{own}'"));
            }
        }
        let job = owner
            .saved_sql_job(&project, &format!("example {n}"), &sql)
            .await;
        let report = owner
            .post(
                &format!("/projects/{project}/jobs/{job}/validate"),
                json!({}),
            )
            .await
            .expect(200)
            .body;
        assert_eq!(
            report["valid"], true,
            "README example {n}:\n{script}\n{report}"
        );
        assert_eq!(report["engine"]["status"], "planned", "{report}");

        let d = owner
            .post(
                &format!("/projects/{project}/deployments"),
                json!({ "name": format!("example {n}"), "job_id": job, "parallelism": 1 }),
            )
            .await
            .expect(201)
            .id();
        let path = format!("/projects/{project}/deployments/{d}");
        run_stateless(&owner, &path).await;
        // Still running a little later: the example does not fail once it meets data.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let status = owner.get(&path).await.expect(200).body;
        assert_eq!(status["status"], "RUNNING", "README example {n}: {status}");
        cancel(&owner, &path).await;
    }
}

#[test]
fn the_readmes_scripts_are_found_in_blocks_and_in_json() {
    let found = json_sql_strings(r#"x -d '{"sql": "A \"b\" \\ c;\nD"}' "sql": "E""#);
    assert_eq!(found, ["A \"b\" \\ c;\nD", "E"]);
    assert!(readme_scripts()
        .iter()
        .any(|s| s.contains("'connector' = 'kafka'")));
}
