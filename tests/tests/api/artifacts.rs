use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sluice_tests::{tiny_jar, TestApp};

/// The digest the server must record, computed by the test itself.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn a_jar_is_uploaded_with_its_sha256_downloaded_intact_and_deleted() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let jar = tiny_jar();
    let uploaded = owner
        .upload(&project, "connector.jar", jar.clone())
        .await
        .expect(201);
    assert_eq!(uploaded.body["kind"], "jar");
    assert_eq!(uploaded.body["size_bytes"], jar.len() as u64);
    assert_eq!(uploaded.body["sha256"], sha256_hex(&jar));
    let id = uploaded.id();

    let download = owner
        .request(
            reqwest::Method::GET,
            &format!("/projects/{project}/artifacts/{id}/content"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("connector.jar"));
    assert_eq!(download.bytes().await.unwrap().to_vec(), jar);

    owner
        .upload(&project, "connector.jar", jar.clone())
        .await
        .expect_error(409, "already_exists", Some("file.filename"));
    let listed = owner
        .list_all(&format!("/projects/{project}/artifacts"), 50)
        .await;
    assert_eq!(listed.len(), 1);
    owner
        .delete(&format!("/projects/{project}/artifacts/{id}"))
        .await
        .expect(204);
    owner
        .get(&format!("/projects/{project}/artifacts/{id}"))
        .await
        .expect_error(404, "not_found", None);
    assert!(!app
        .data_dir
        .join("artifacts")
        .join(&project)
        .join(&id)
        .exists());
    assert_eq!(app.staged_uploads(), 0);
}

#[tokio::test]
async fn a_jar_that_is_not_a_zip_and_unknown_file_types_are_refused_and_not_kept() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    owner
        .upload(
            &project,
            "fake.jar",
            b"this is not a zip archive at all".to_vec(),
        )
        .await
        .expect_error(422, "invalid_field", Some("file"));
    let mut truncated = tiny_jar();
    truncated.truncate(40);
    owner
        .upload(&project, "cut.jar", truncated)
        .await
        .expect_error(422, "invalid_field", Some("file"));
    owner
        .upload(&project, "notes.txt", b"hello".to_vec())
        .await
        .expect_error(422, "invalid_field", Some("file.filename"));
    assert!(owner
        .list_all(&format!("/projects/{project}/artifacts"), 50)
        .await
        .is_empty());
    assert_eq!(app.staged_uploads(), 0);
}

#[tokio::test]
async fn an_artifact_in_use_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    let id = owner
        .upload(&project, "app.jar", tiny_jar())
        .await
        .expect(201)
        .id();
    owner
        .post(&format!("/projects/{project}/jobs"), sluice_tests::json!({ "name": "uses-it", "content": { "kind": "jar", "artifact_id": id, "entry_class": "a.Main" } }))
        .await
        .expect(201);
    let res = owner
        .delete(&format!("/projects/{project}/artifacts/{id}"))
        .await
        .expect_error(409, "in_use", None);
    assert!(res.message().contains("uses-it"));
    owner
        .get(&format!("/projects/{project}/artifacts/{id}/content"))
        .await
        .expect(200);
}

#[tokio::test]
async fn an_upload_over_the_declared_limit_is_refused_before_it_is_read() {
    let app = TestApp::spawn_with(|c| {
        let small = domain::limits::Limits {
            artifact_bytes: 1024,
            ..Default::default()
        };
        c.plans.insert("small".into(), small);
    })
    .await;
    let owner = app.account_on_plan("Acme", "small").await;
    let project = owner.project("p").await;
    let mut big = tiny_jar();
    big.resize(1025, 0);
    let res =
        owner
            .upload(&project, "big.jar", big)
            .await
            .expect_error(413, "payload_too_large", None);
    assert_eq!(res.body["error"]["limit"], 1024);
    assert_eq!(app.staged_uploads(), 0);
}

/// 200 MB is the product's limit. A client streams more than that without declaring a
/// length; the server must stop reading soon after the limit and keep nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_upload_past_200_mb_is_cut_off_and_nothing_partial_is_kept() {
    let app = TestApp::spawn().await;
    let owner = app.account("Acme").await;
    let project = owner.project("p").await;
    const CHUNK: usize = 1024 * 1024;
    const OFFERED_CHUNKS: u64 = 400; // twice the limit
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let stream = futures_util::stream::iter(0..OFFERED_CHUNKS).map(move |_| {
        counter.fetch_add(CHUNK as u64, Ordering::Relaxed);
        Ok::<_, std::io::Error>(bytes_chunk(CHUNK))
    });
    let part =
        reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(stream)).file_name("huge.jar");
    let form = reqwest::multipart::Form::new().part("file", part);
    let result = owner
        .request(
            reqwest::Method::POST,
            &format!("/projects/{project}/artifacts"),
        )
        .multipart(form)
        .send()
        .await;
    match result {
        Ok(response) => {
            assert_eq!(response.status(), 413);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "payload_too_large");
            assert_eq!(body["error"]["limit"], 200 * 1024 * 1024);
        }
        // The server may close the connection while the client is still sending.
        Err(e) => assert!(e.is_request() || e.is_body(), "unexpected error: {e}"),
    }
    let offered = OFFERED_CHUNKS * CHUNK as u64;
    let consumed = sent.load(Ordering::Relaxed);
    assert!(
        consumed < offered * 3 / 4,
        "the server read {consumed} of {offered} bytes: it did not stop at the limit"
    );
    assert_eq!(
        app.staged_uploads(),
        0,
        "the partial upload must be removed"
    );
    assert!(owner
        .list_all(&format!("/projects/{project}/artifacts"), 50)
        .await
        .is_empty());
}

fn bytes_chunk(len: usize) -> Vec<u8> {
    vec![b'x'; len]
}

use futures_util::StreamExt;
