//! Sluice's access tokens refuse every classic JWT attack, and keys rotate.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use domain::config::SigningKeyConfig;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{json, Value};
use sluice_tests::{Client, TestApp};

struct Key {
    config: SigningKeyConfig,
    encoding: EncodingKey,
}

fn es256_key(kid: &str) -> Key {
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let private = secret.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    Key {
        encoding: EncodingKey::from_ec_pem(private.as_bytes()).unwrap(),
        config: SigningKeyConfig {
            kid: kid.to_owned(),
            algorithm: "ES256".to_owned(),
            private_key_pem: private,
            public_key_pem: public,
            verify_until: None,
        },
    }
}

struct Fixture {
    app: TestApp,
    client: Client,
    claims: Value,
}

/// A server whose signing keys are `keys`, and claims of a live session of an owner.
async fn fixture(keys: Vec<SigningKeyConfig>) -> Fixture {
    let app = TestApp::spawn_with(|c| c.auth.signing_keys = keys).await;
    let client = app.account("Acme").await;
    let session = gateway::access::sessions::create_session(
        &app.state.db,
        &client.user_id,
        &client.account_id,
        3600,
    )
    .await
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "iss": app.state.config.auth.public_url, "aud": "sluice", "sub": client.user_id,
        "acc": client.account_id, "sid": session.id, "iat": now, "nbf": now, "exp": now + 600,
    });
    Fixture {
        app,
        client,
        claims,
    }
}

fn sign(key: &Key, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

async fn status_with(f: &Fixture, token: &str) -> (u16, String) {
    let mut c = f.client.clone();
    c.token = token.to_owned();
    let res = c.get("/account").await;
    (res.status.as_u16(), res.message().to_owned())
}

#[tokio::test]
async fn forged_and_broken_access_tokens_are_refused() {
    let key = es256_key("k1");
    let f = fixture(vec![key.config.clone()]).await;
    let good = sign(&key, "k1", &f.claims);
    assert_eq!(
        status_with(&f, &good).await.0,
        200,
        "a well-formed token is accepted"
    );

    let with = |k: &str, v: Value| {
        let mut c = f.claims.clone();
        c[k] = v;
        c
    };
    let now = chrono::Utc::now().timestamp();
    let header_none = B64.encode(br#"{"alg":"none","kid":"k1","typ":"JWT"}"#);
    let payload = B64.encode(f.claims.to_string());
    let hmac_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".to_owned());
        jsonwebtoken::encode(
            &header,
            &f.claims,
            &EncodingKey::from_secret(key.config.public_key_pem.as_bytes()),
        )
        .unwrap()
    };
    let tampered = {
        let parts: Vec<&str> = good.split('.').collect();
        let other = B64.encode(with("acc", json!("someone-elses-account")).to_string());
        format!("{}.{}.{}", parts[0], other, parts[2])
    };
    let stranger = es256_key("k9");
    let cases = [
        ("alg none", format!("{header_none}.{payload}.")),
        ("HMAC signed with the public key", hmac_with_public_key),
        (
            "wrong audience",
            sign(&key, "k1", &with("aud", json!("another-service"))),
        ),
        (
            "wrong issuer",
            sign(&key, "k1", &with("iss", json!("https://evil.example"))),
        ),
        ("expired", sign(&key, "k1", &with("exp", json!(now - 3600)))),
        (
            "not yet valid",
            sign(&key, "k1", &with("nbf", json!(now + 3600))),
        ),
        ("unknown kid", sign(&stranger, "k9", &f.claims)),
        (
            "signed by another key under our kid",
            sign(&stranger, "k1", &f.claims),
        ),
        ("tampered payload", tampered),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (name, token) in cases {
        let (status, message) = status_with(&f, &token).await;
        assert_eq!(
            status, 401,
            "{name} must be refused, got {status}: {message}"
        );
        assert!(!message.is_empty());
    }
}

#[tokio::test]
async fn a_rotated_out_key_verifies_until_its_end_and_not_after() {
    let old = es256_key("old");
    let new = es256_key("new");
    let mut retiring = old.config.clone();
    retiring.private_key_pem = String::new();
    retiring.verify_until = Some((chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339());
    let f = fixture(vec![new.config.clone(), retiring]).await;
    assert_eq!(status_with(&f, &sign(&old, "old", &f.claims)).await.0, 200);
    assert_eq!(status_with(&f, &sign(&new, "new", &f.claims)).await.0, 200);

    let mut retired = old.config.clone();
    retired.private_key_pem = String::new();
    retired.verify_until = Some((chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339());
    let f = fixture(vec![new.config.clone(), retired]).await;
    assert_eq!(status_with(&f, &sign(&old, "old", &f.claims)).await.0, 401);
    f.app.stop();
}

#[tokio::test]
async fn a_revoked_session_stops_its_access_tokens_at_once() {
    let key = es256_key("k1");
    let f = fixture(vec![key.config.clone()]).await;
    let token = sign(&key, "k1", &f.claims);
    assert_eq!(status_with(&f, &token).await.0, 200);
    let mut c = f.client.clone();
    c.token = token.clone();
    c.post("/auth/logout", json!({})).await.expect(200);
    let (status, message) = status_with(&f, &token).await;
    assert_eq!(status, 401);
    assert!(message.contains("session"), "{message}");
}
