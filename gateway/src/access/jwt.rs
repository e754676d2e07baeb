//! Sluice's own access tokens: short-lived JWTs signed with an asymmetric key, `kid` in
//! the header. Verification takes the algorithm from our key, never from the token, so
//! `alg: none` and an HMAC token "signed" with our public key are refused; issuer,
//! audience, expiry and not-before are required and checked.

use std::collections::HashMap;
use std::path::Path;
use store::Error;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use domain::config::{AuthConfig, SigningKeyConfig};
use store::crypto::sha256_hex;

pub const ACCESS_COOKIE: &str = "sluice_access";
pub const REFRESH_COOKIE: &str = "sluice_refresh";
pub const AUDIENCE: &str = "sluice";
/// Tolerated clock skew between replicas, in seconds.
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The account the session works in.
    pub acc: String,
    /// The session id; its row says whether the session is still alive.
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

struct Signer {
    kid: String,
    algorithm: Algorithm,
    key: EncodingKey,
}

struct Verifier {
    algorithm: Algorithm,
    key: DecodingKey,
    /// Unix seconds after which the key no longer verifies.
    verify_until: Option<i64>,
}

pub struct SessionKeys {
    signer: Signer,
    verifiers: HashMap<String, Verifier>,
    issuer: String,
    ttl_secs: i64,
}

impl SessionKeys {
    /// Loads the configured keys, or the key generated under `data_dir` when none is set.
    pub fn load(config: &AuthConfig, data_dir: &Path) -> anyhow::Result<Self> {
        let keys = if config.signing_keys.is_empty() {
            vec![local_key(data_dir)?]
        } else {
            config.signing_keys.clone()
        };
        let mut signer = None;
        let mut verifiers = HashMap::new();
        for key in &keys {
            let algorithm = match key.algorithm.as_str() {
                "" | "ES256" => Algorithm::ES256,
                "RS256" => Algorithm::RS256,
                "EdDSA" => Algorithm::EdDSA,
                other => anyhow::bail!(
                    "auth.signing_keys `{}`: algorithm `{other}` is not one of ES256, RS256, EdDSA",
                    key.kid
                ),
            };
            if key.kid.is_empty() {
                anyhow::bail!("auth.signing_keys: every key needs a kid");
            }
            let public = key.public_key_pem.as_bytes();
            let decoding = match algorithm {
                Algorithm::RS256 => DecodingKey::from_rsa_pem(public),
                Algorithm::EdDSA => DecodingKey::from_ed_pem(public),
                _ => DecodingKey::from_ec_pem(public),
            }
            .map_err(|e| anyhow::anyhow!("auth.signing_keys `{}`: public_key_pem: {e}", key.kid))?;
            let verify_until = key
                .verify_until
                .as_deref()
                .map(|t| {
                    chrono::DateTime::parse_from_rfc3339(t)
                        .map(|t| t.timestamp())
                        .map_err(|e| {
                            anyhow::anyhow!("auth.signing_keys `{}`: verify_until: {e}", key.kid)
                        })
                })
                .transpose()?;
            verifiers.insert(
                key.kid.clone(),
                Verifier {
                    algorithm,
                    key: decoding,
                    verify_until,
                },
            );
            if signer.is_none() && !key.private_key_pem.is_empty() {
                let private = key.private_key_pem.as_bytes();
                let encoding = match algorithm {
                    Algorithm::RS256 => EncodingKey::from_rsa_pem(private),
                    Algorithm::EdDSA => EncodingKey::from_ed_pem(private),
                    _ => EncodingKey::from_ec_pem(private),
                }
                .map_err(|e| {
                    anyhow::anyhow!("auth.signing_keys `{}`: private_key_pem: {e}", key.kid)
                })?;
                signer = Some(Signer {
                    kid: key.kid.clone(),
                    algorithm,
                    key: encoding,
                });
            }
        }
        let signer = signer.ok_or_else(|| {
            anyhow::anyhow!("auth.signing_keys: no key has a private_key_pem to sign with")
        })?;
        Ok(Self {
            signer,
            verifiers,
            issuer: config.public_url.trim_end_matches('/').to_owned(),
            ttl_secs: config.access_token_ttl_secs,
        })
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Signs an access token for `user` working in `account` within session `sid`.
    pub fn issue(&self, user: &str, account: &str, sid: &str) -> Result<String, Error> {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_owned(),
            sub: user.to_owned(),
            acc: account.to_owned(),
            sid: sid.to_owned(),
            iat: now,
            nbf: now,
            exp: now + self.ttl_secs,
        };
        let mut header = Header::new(self.signer.algorithm);
        header.kid = Some(self.signer.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.signer.key).map_err(Error::internal)
    }

    /// Verifies signature, algorithm, issuer, audience, expiry and not-before.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, Error> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| reject(e.kind()))?;
        let kid = header
            .kid
            .ok_or_else(|| Error::unauthorized("the access token names no key (kid)"))?;
        let verifier = self
            .verifiers
            .get(&kid)
            .ok_or_else(|| Error::unauthorized("the access token is signed by an unknown key"))?;
        if verifier
            .verify_until
            .is_some_and(|until| chrono::Utc::now().timestamp() > until)
        {
            return Err(Error::unauthorized(
                "the access token is signed by a retired key",
            ));
        }
        // The algorithm comes from our key; a token claiming another one is refused.
        let mut validation = Validation::new(verifier.algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<AccessClaims>(token, &verifier.key, &validation)
            .map(|data| data.claims)
            .map_err(|e| reject(e.kind()))
    }
}

fn reject(kind: &ErrorKind) -> Error {
    let why = match kind {
        ErrorKind::ExpiredSignature => "the access token has expired; refresh it or sign in again",
        ErrorKind::ImmatureSignature => "the access token is not valid yet",
        ErrorKind::InvalidAudience => "the access token is meant for another audience",
        ErrorKind::InvalidIssuer => "the access token comes from another issuer",
        ErrorKind::InvalidSignature => "the access token's signature does not match",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "the access token's algorithm is not the one of its key"
        }
        ErrorKind::MissingRequiredClaim(_) => "the access token lacks a required claim",
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => "the access token is malformed",
        // ErrorKind is non-exhaustive: anything new is a refusal too.
        _ => "the access token was refused",
    };
    Error::unauthorized(why)
}

/// The ES256 key kept in `<data_dir>/session-signing-key.pem`, generated on first use.
fn local_key(data_dir: &Path) -> anyhow::Result<SigningKeyConfig> {
    use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
    let path = data_dir.join("session-signing-key.pem");
    let secret = match std::fs::read_to_string(&path) {
        Ok(pem) => p256::SecretKey::from_pkcs8_pem(&pem)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
            let pem = secret.to_pkcs8_pem(LineEnding::LF)?;
            std::fs::create_dir_all(data_dir)?;
            match store::crypto::write_private_file(&path, pem.as_bytes()) {
                Ok(()) => secret,
                // Another process sharing the data directory wrote it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return local_key(data_dir)
                }
                Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
            }
        }
        Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
    };
    let public = secret.public_key().to_public_key_pem(LineEnding::LF)?;
    Ok(SigningKeyConfig {
        kid: format!("local-{}", &sha256_hex(public.as_bytes())[..12]),
        algorithm: "ES256".to_owned(),
        private_key_pem: secret.to_pkcs8_pem(LineEnding::LF)?.to_string(),
        public_key_pem: public,
        verify_until: None,
    })
}
